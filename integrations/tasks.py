"""The marketplace's daily django-q2 tasks: thin wrappers over services (see integrations/schedules.py)."""

from integrations.reminders import unsynced_reminders_send
from integrations.runs import sync_runs_interrupted_sweep


def unsynced_reminders() -> int:
    return unsynced_reminders_send()


def interrupted_runs_sweep() -> int:
    return sync_runs_interrupted_sweep()
