"""Create the marketplace's django-q2 schedules (idempotent)."""

from django.core.management.base import BaseCommand

from integrations.schedules import schedules_ensure


class Command(BaseCommand):
    help = "Create or update the daily unsynced data reminders (07:00 UTC) and interrupted-runs sweep (03:15 UTC)."

    def handle(self, *args, **options):
        for name, created in schedules_ensure():
            self.stdout.write(f"{'created' if created else 'up to date'}: {name}")
