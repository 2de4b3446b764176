"""Reads for the Xero Sync Queues (Payment and Outbound): the write-back rows still waiting or stuck, their
history, and what has not reached Xero for the unsynced data reminders."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from integrations import hints
from integrations.reminders import UnsyncedItem
from portal.models import Merchant
from xero_sync.models import ConnectionStatus, WriteKind, WriteState, XeroConnection, XeroWrite
from xero_sync.models.writes import HISTORY_STATES, OPEN_STATES, OUTBOUND_KINDS, PAYMENT_KINDS

# A row waiting (pending, or sent without an answer) this long is stuck, not just in line.
STUCK_AFTER = dt.timedelta(hours=1)
# States a person must act on (Retry or Dequeue), whatever their age.
ACTION_STATES = (WriteState.FAILED, WriteState.HELD)


@dataclass(frozen=True)
class Queue:
    key: str
    title: str
    kinds: tuple[str, ...]
    summary: str


QUEUES: dict[str, Queue] = {
    "payments": Queue(
        key="payments",
        title="Payment Sync Queue",
        kinds=tuple(PAYMENT_KINDS),
        summary="Payments recorded in the portal on their way to Xero.",
    ),
    "outbound": Queue(
        key="outbound",
        title="Outbound Sync Queue",
        kinds=tuple(OUTBOUND_KINDS),
        summary="Fee lines, fee invoices, and the invoices and customers created in the portal, on their way to Xero.",
    ),
}


def queue_for_kind(kind: str) -> Queue:
    return QUEUES["payments"] if kind in PAYMENT_KINDS else QUEUES["outbound"]


def queue_waiting(*, merchant: Merchant, queue: Queue) -> QuerySet[XeroWrite]:
    """The Sync Queue panel: rows not yet in Xero, oldest first (the daily action list)."""
    return (
        XeroWrite.objects.filter(merchant=merchant, kind__in=queue.kinds, state__in=OPEN_STATES)
        .select_related("invoice", "customer", "payment", "payment__invoice")
        .order_by("created_at", "id")
    )


def queue_history(*, merchant: Merchant, queue: Queue, limit: int = 100) -> list[XeroWrite]:
    """The History panel: rows that reached Xero or were dequeued, most recent first."""
    return list(
        XeroWrite.objects.filter(merchant=merchant, kind__in=queue.kinds, state__in=HISTORY_STATES)
        .select_related("invoice", "customer", "payment", "payment__invoice", "dequeued_by")
        .annotate(done_at=Coalesce("synced_at", "dequeued_at", "updated_at"))
        .order_by("-done_at", "-id")[:limit]
    )


def queue_counts(*, merchant: Merchant) -> dict[str, dict[str, int]]:
    """Per queue: rows waiting and rows needing a person (failed or held). Two small queries."""
    counts = {key: {"waiting": 0, "action": 0} for key in QUEUES}
    rows = XeroWrite.objects.filter(merchant=merchant, state__in=OPEN_STATES).values_list("kind", "state")
    for kind, state in rows:
        entry = counts[queue_for_kind(kind).key]
        entry["waiting"] += 1
        entry["action"] += state in ACTION_STATES
    return counts


def write_portal_url(write: XeroWrite) -> str:
    """The portal page of the record a row writes (a payment's is its invoice's)."""
    if write.kind == WriteKind.CONTACT and write.customer_id:
        return reverse("portal:customer", args=[write.customer_id])
    invoice_id = write.invoice_id or (write.payment.invoice_id if write.payment_id and write.payment else None)
    return reverse("portal:invoice", args=[invoice_id]) if invoice_id else ""


def write_problem(write: XeroWrite) -> str:
    """Why the row is not in Xero, in Xero's words or the add-on's."""
    if write.error_message:
        return write.error_message
    if write.state == WriteState.HELD:
        return write.reason or "Waiting for you to decide."
    if write.state == WriteState.SENT:
        return "Sent; Xero's answer has not arrived yet. The add-on reads Xero back to find out."
    return "Waiting for the next write-back run."


def write_hint(write: XeroWrite) -> hints.Hint | None:
    return hints.get(write.hint_key) if write.hint_key else None


def unsynced(merchant: Merchant) -> list[UnsyncedItem]:
    """Records that have not reached Xero: failed or held writes, and writes stuck in line for over an hour."""
    now = timezone.now()
    rows = XeroWrite.objects.filter(merchant=merchant, state__in=OPEN_STATES).select_related("payment")
    items = []
    for write in rows:
        if write.state not in ACTION_STATES and now - write.created_at < STUCK_AFTER:
            continue
        queue = queue_for_kind(write.kind)
        items.append(
            UnsyncedItem(
                kind=write.get_kind_display(),
                label=write.label or f"#{write.pk}",
                reason=write_problem(write),
                since=write.created_at,
                amount=None if write.kind == WriteKind.CONTACT else write.amount,
                url=reverse("xero_sync:queue", args=[queue.key]),
            )
        )
    return items


def retention_interval_days(merchant: Merchant) -> int | None:
    """The merchant's Integration Retention Interval; None when Xero is not connected (no reminders then)."""
    return (
        XeroConnection.objects.filter(merchant=merchant, status=ConnectionStatus.CONNECTED)
        .values_list("retention_interval_days", flat=True)
        .first()
    )


def sync_lease_until(merchant: Merchant) -> dt.datetime | None:
    """When the merchant's sync lease runs out (None: no sync holds it), for the interrupted-runs sweep."""
    from xero_sync.models import XeroSyncState

    return XeroSyncState.objects.filter(connection__merchant=merchant).values_list("lease_until", flat=True).first()


def register() -> None:
    """Hook the Xero add-on into the marketplace's reminders and interrupted-runs sweep (from AppConfig.ready)."""
    from integrations import reminders, runs

    reminders.register(addon_key="xero", unsynced=unsynced, interval_days=retention_interval_days)
    runs.register_lease(addon_key="xero", lease_until=sync_lease_until)
