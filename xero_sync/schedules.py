"""The add-on's recurring work as django-q2 schedules (cron, UTC): polls at 00:00, 05:00, 11:00 and 18:00 as a
fallback for webhooks, and a nightly full reconcile for what If-Modified-Since misses."""

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
