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


# --- write-back (fees, portal invoices and customers, payments) -----------------------------------------------


def enqueue_fees_at(connection_id: int, when: dt.datetime) -> None:
    delay = max(1, int((when - timezone.now()).total_seconds()) + 1)
    _schedule_once("xero_sync.tasks.fees_run", args=(connection_id,), delay_s=delay, name=f"xero-fees-{connection_id}")


def enqueue_fees(connection_id: int) -> None:
    from django_q.tasks import async_task

    async_task("xero_sync.tasks.fees_run", connection_id, task_name=f"xero-fees-{connection_id}", group="xero-fees")


def fees_run(connection_id: int) -> None:
    """Apply due fees for one connection (after the first sync, daily, on demand)."""
    from xero_sync.models import XeroConnection
    from xero_sync.services.fees import fees_apply

    connection = XeroConnection.objects.filter(pk=connection_id).select_related("merchant").first()
    if connection is None or not connection.is_connected:
        return
    fees_apply(connection=connection)


def fees_run_midnight(now: dt.datetime | None = None) -> int:
    """Hourly: start the daily fee run of each connection whose organisation's local time is 00:xx."""
    from xero_sync.mapping import organisation_zone
    from xero_sync.models import ConnectionStatus, XeroConnection

    now = now or timezone.now()
    started = 0
    for connection in XeroConnection.objects.filter(status=ConnectionStatus.CONNECTED):
        if now.astimezone(organisation_zone(connection.timezone)).hour == 0:
            enqueue_fees(connection.pk)
            started += 1
    return started


def enqueue_push(merchant_id: int) -> None:
    from django_q.tasks import async_task

    async_task("xero_sync.tasks.push_merchant", merchant_id, task_name=f"xero-push-{merchant_id}", group="xero-push")


def enqueue_push_at(merchant_id: int, when: dt.datetime) -> None:
    delay = max(1, int((when - timezone.now()).total_seconds()) + 1)
    _schedule_once("xero_sync.tasks.push_merchant", args=(merchant_id,), delay_s=delay, name=f"xero-push-{merchant_id}")


def push_merchant(merchant_id: int) -> None:
    """Push the merchant's waiting customers, invoices and payments (with their technology fees)."""
    from xero_sync.models import XeroConnection
    from xero_sync.services.payments import payments_push
    from xero_sync.services.push import push_run

    connection = XeroConnection.objects.filter(merchant_id=merchant_id).select_related("merchant").first()
    if connection is None or not connection.is_connected:
        return
    push_run(connection=connection)
    payments_push(connection=connection)


def push_pending_all() -> int:
    """Every few minutes: merchants with waiting writes get a push (catches anything a worker dropped)."""
    from xero_sync.models import ConnectionStatus, WriteKind, WriteState, XeroConnection, XeroWrite

    merchants = set(
        XeroWrite.objects.filter(
            state__in=[WriteState.PENDING, WriteState.SENT],
            kind__in=[WriteKind.INVOICE, WriteKind.CONTACT, WriteKind.PAYMENT],
        ).values_list("merchant_id", flat=True)
    )
    connected = XeroConnection.objects.filter(merchant_id__in=merchants, status=ConnectionStatus.CONNECTED)
    for connection in connected:
        enqueue_push(connection.merchant_id)
    return connected.count()


def retry_write(error_id: int) -> None:
    """Retry from the error log (push, fee or payment): the row goes back in line and its run starts now."""
    from integrations.models import SyncError
    from xero_sync.models import WriteKind, XeroWrite
    from xero_sync.services.writes import write_retry

    error = SyncError.objects.filter(pk=error_id).first()
    if error is None:
        return
    write = XeroWrite.objects.filter(pk=(error.retry_payload or {}).get("write_id"), merchant=error.merchant).first()
    if write is None:
        return
    write_retry(write=write)
    from xero_sync.models import XeroConnection

    connection = XeroConnection.objects.filter(merchant_id=error.merchant_id).first()
    if connection is None or not connection.is_connected:
        return
    if write.kind in (WriteKind.FEE_LINE, WriteKind.FEE_INVOICE):
        fees_run(connection.pk)
    else:
        push_merchant(error.merchant_id)
