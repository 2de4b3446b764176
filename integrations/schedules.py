"""The marketplace's recurring work as django-q2 schedules (cron, UTC): unsynced data reminders and the sweep that
marks runs a killed worker left "running" as interrupted. `manage.py integration_schedules` creates them."""

from __future__ import annotations

from django_q.models import Schedule

SCHEDULES = (
    {"name": "integrations-unsynced-reminders", "func": "integrations.tasks.unsynced_reminders", "cron": "0 7 * * *"},
    {
        "name": "integrations-interrupted-runs",
        "func": "integrations.tasks.interrupted_runs_sweep",
        "cron": "15 3 * * *",
    },
)


def schedules_ensure() -> list[tuple[str, bool]]:
    """Create or correct the schedules; running it again changes nothing. Returns (name, created) pairs."""
    results = []
    for spec in SCHEDULES:
        _, created = Schedule.objects.update_or_create(
            name=spec["name"],
            defaults={"func": spec["func"], "schedule_type": Schedule.CRON, "cron": spec["cron"], "repeats": -1},
        )
        results.append((spec["name"], created))
    return results
