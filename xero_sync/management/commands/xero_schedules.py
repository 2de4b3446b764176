"""Create the Xero add-on's django-q2 schedules (idempotent)."""

from django.core.management.base import BaseCommand

from xero_sync.schedules import schedules_ensure


class Command(BaseCommand):
    help = "Create or update the Xero polling (00:00, 05:00, 11:00, 18:00 UTC) and nightly reconcile schedules."

    def handle(self, *args, **options):
        for name, created in schedules_ensure():
            self.stdout.write(f"{'created' if created else 'up to date'}: {name}")
