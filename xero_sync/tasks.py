"""django-q2 tasks of the Xero add-on: thin wrappers that take ids, re-fetch, and call services."""

from __future__ import annotations

import datetime as dt
import logging

from django.utils import timezone
from django_q.models import Schedule

logger = logging.getLogger(__name__)

REVOCATION_BACKOFF = (60, 300, 1800, 3600, 6 * 3600)


def _schedule_once(func: str, *, args: tuple, delay_s: int, name: str) -> None:
    Schedule.objects.update_or_create(
        name=name,
        defaults={
            "func": func,
            "args": repr(args),
            "schedule_type": Schedule.ONCE,
            "repeats": 1,
            "next_run": timezone.now() + dt.timedelta(seconds=delay_s),
        },
    )


def enqueue_revocation_retry(revocation_id: int, attempt: int = 0) -> None:
    delay = REVOCATION_BACKOFF[min(attempt, len(REVOCATION_BACKOFF) - 1)]
    _schedule_once(
        "xero_sync.tasks.revocation_retry",
        args=(revocation_id,),
        delay_s=delay,
        name=f"xero-revoke-{revocation_id}",
    )


def revocation_retry(revocation_id: int) -> None:
    from xero_sync.models.pending import XeroPendingRevocation
    from xero_sync.services.connection import revocation_attempt

    if revocation_attempt(revocation_id=revocation_id):
        return
    revocation = XeroPendingRevocation.objects.filter(pk=revocation_id).first()
    if revocation is None:
        return
    if revocation.attempts >= 12:
        logger.error("xero.oauth.revoke_gave_up", extra={"revocation": revocation_id})
        return
    enqueue_revocation_retry(revocation_id, attempt=revocation.attempts)


# --- syncs --------------------------------------------------------------------------------------------------

SYNC_BUSY_RETRY_S = 30


def enqueue_sync(run_id: int) -> None:
    from django_q.tasks import async_task

    async_task("xero_sync.tasks.sync_run", run_id, task_name=f"xero-sync-{run_id}", group="xero-sync")


def enqueue_sync_at(run_id: int, when: dt.datetime) -> None:
    delay = max(1, int((when - timezone.now()).total_seconds()) + 1)
    _schedule_once("xero_sync.tasks.sync_run", args=(run_id,), delay_s=delay, name=f"xero-sync-{run_id}")


def sync_run(run_id: int) -> None:
    """Run a queued sync; if another sync of the merchant holds the lease, try again shortly."""
    from xero_sync.services.sync import SyncBusy, sync_execute

    try:
        sync_execute(run_id=run_id)
    except SyncBusy:
        logger.info("xero.sync.busy", extra={"run": run_id})
        _schedule_once(
            "xero_sync.tasks.sync_run", args=(run_id,), delay_s=SYNC_BUSY_RETRY_S, name=f"xero-sync-{run_id}"
        )


def sync_poll_all(kind: str = "poll") -> int:
    """The scheduled poll (and nightly reconcile): one queued sync per connected merchant with Auto-sync on."""
    from xero_sync.models import ConnectionStatus, XeroConnection
    from xero_sync.services.sync import sync_request, sync_state_for

    queued = 0
    for connection in XeroConnection.objects.filter(status=ConnectionStatus.CONNECTED, auto_sync=True).select_related(
        "merchant"
    ):
        if sync_state_for(connection).first_sync_done_at is None:
            continue  # the merchant has not run the first sync yet
        sync_request(connection=connection, kind=kind)
        queued += 1
    return queued


def webhook_events_dispatch(tenant_id: str) -> None:
    """After webhook events arrive: one webhook sync for the organisation's merchant, if Auto-sync is on."""
    from xero_sync.models import ConnectionStatus, XeroConnection
    from xero_sync.services.sync import sync_request, sync_state_for

    connection = XeroConnection.objects.filter(
        tenant_id=tenant_id, status=ConnectionStatus.CONNECTED, auto_sync=True
    ).first()
    if connection is None or sync_state_for(connection).first_sync_done_at is None:
        return  # paused (Auto-sync off) or not started: the events wait; the next sync reads the changes anyway
    sync_request(connection=connection, kind="webhook")


def retry_pull(error_id: int) -> None:
    """Retry of a failed pull from the error log: an immediate sync (which resolves the error on success)."""
    from integrations.models import SyncError
    from xero_sync.models import XeroConnection
    from xero_sync.services.sync import sync_request

    error = SyncError.objects.filter(pk=error_id).first()
    if error is None:
        return
    connection = XeroConnection.objects.filter(merchant_id=error.merchant_id).first()
    if connection is not None and connection.is_connected:
        sync_request(connection=connection)
