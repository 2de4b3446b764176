"""Run a Xero sync for one merchant from the command line, with a progress bar."""

from django.core.management.base import BaseCommand, CommandError

from integrations.models import SyncRunKind
from portal.models import Merchant
from xero_sync.models import XeroConnection
from xero_sync.services.status import run_payload
from xero_sync.services.sync import SyncBusy, sync_execute, sync_request


class Command(BaseCommand):
    help = "Sync one merchant with Xero now: `xero_sync <merchant-slug> [--full]`."

    def add_arguments(self, parser):
        parser.add_argument("merchant", help="the merchant's slug")
        parser.add_argument("--full", action="store_true", help="a full reconcile instead of an incremental sync")

    def handle(self, *args, merchant, full, **options):
        found = Merchant.objects.filter(slug=merchant).first()
        if found is None:
            raise CommandError(f"No merchant with slug {merchant!r}.")
        connection = XeroConnection.objects.filter(merchant=found).first()
        if connection is None or not connection.is_connected:
            raise CommandError(f"{found.name} is not connected to Xero.")
        run = sync_request(connection=connection, kind=SyncRunKind.RECONCILE if full else None, enqueue=False)
        try:
            run = sync_execute(run_id=run.pk, on_progress=lambda r: self._draw(run_payload(r)))
        except SyncBusy as exc:
            raise CommandError("Another sync of this merchant is running; try again when it finishes.") from exc
        run.refresh_from_db()
        self._draw(run_payload(run))
        self.stdout.write("")
        counts = ", ".join(f"{v} {k}" for k, v in run.counts.items()) or "nothing changed"
        self.stdout.write(f"{run.get_state_display()}: {counts}; {run.api_calls} API calls.")
        if run.state != "succeeded":
            raise CommandError(run.error_summary or "The sync did not finish.")

    def _draw(self, payload: dict | None) -> None:
        if not payload:
            return
        parts = []
        for step in payload["steps"]:
            filled = step["percent"] // 10
            parts.append(f"{step['name'][:10]:<10} [{'#' * filled}{'.' * (10 - filled)}]")
        self.stdout.write("\r" + "  ".join(parts), ending="")
        self.stdout.flush()
