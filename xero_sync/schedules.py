"""The add-on's recurring work as django-q2 schedules (cron, UTC): polls at 00:00, 05:00, 11:00 and 18:00 as a
fallback for webhooks, a nightly full reconcile for what If-Modified-Since misses, the daily fee run just after
each organisation's midnight (checked hourly) and a sweep for portal writes still waiting."""

from __future__ import annotations

from django_q.models import Schedule

SCHEDULES = (
    {
        "name": "xero-poll",
        "func": "xero_sync.tasks.sync_poll_all",
        "args": "'poll'",
        "cron": "0 0,5,11,18 * * *",
    },
    {
        "name": "xero-reconcile",
        "func": "xero_sync.tasks.sync_poll_all",
        "args": "'reconcile'",
        "cron": "30 2 * * *",
    },
    {
        # Hourly; each organisation's fee run starts in the hour after its own local midnight.
        "name": "xero-fees-midnight",
        "func": "xero_sync.tasks.fees_run_midnight",
        "args": "",
        "cron": "5 * * * *",
    },
    {
        # Catches portal writes whose push task was lost (e.g. a worker died before it ran).
        "name": "xero-push-pending",
        "func": "xero_sync.tasks.push_pending_all",
        "args": "",
        "cron": "*/10 * * * *",
    },
)


def schedules_ensure() -> list[tuple[str, bool]]:
    """Create or correct the schedules; running it again changes nothing. Returns (name, created) pairs."""
    results = []
    for spec in SCHEDULES:
        _, created = Schedule.objects.update_or_create(
            name=spec["name"],
            defaults={
                "func": spec["func"],
                "args": spec["args"],
                "schedule_type": Schedule.CRON,
                "cron": spec["cron"],
                "repeats": -1,
            },
        )
        results.append((spec["name"], created))
    return results
