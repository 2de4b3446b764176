"""Marketplace reads: open sync errors, recent sync runs, unknown error messages, a record's audit trail."""

from __future__ import annotations

from django.db.models import Count, Max, Q, QuerySet, Sum

from integrations import hints
from integrations.models import UNRESOLVED_STATES, AuditEntry, SyncError, SyncRun, SyncRunState
from portal.models import Merchant


def sync_errors_open_count(merchant: Merchant | None) -> int:
    """Errors that still need attention (open or being retried); 0 without a merchant. One query."""
    if merchant is None:
        return 0
    return SyncError.objects.filter(merchant=merchant, state__in=UNRESOLVED_STATES).count()


def sync_errors_open(*, merchant: Merchant, addon_key: str | None = None) -> QuerySet[SyncError]:
    """Unresolved errors, most recently seen first."""
    return sync_errors_for_merchant(merchant=merchant, addon_key=addon_key).filter(state__in=UNRESOLVED_STATES)


def sync_errors_for_merchant(*, merchant: Merchant, addon_key: str | None = None) -> QuerySet[SyncError]:
    """All of a merchant's errors (use it to scope a view's lookups: another merchant's error is a 404)."""
    rows = SyncError.objects.filter(merchant=merchant)
    if addon_key:
        rows = rows.filter(addon_key=addon_key)
    return rows


def sync_runs_recent(*, merchant: Merchant, addon_key: str, limit: int = 10) -> list[SyncRun]:
    return list(SyncRun.objects.filter(merchant=merchant, addon_key=addon_key)[:limit])


def sync_run_active(*, merchant: Merchant, addon_key: str) -> SyncRun | None:
    return (
        SyncRun.objects.filter(
            merchant=merchant, addon_key=addon_key, state__in=[SyncRunState.QUEUED, SyncRunState.RUNNING]
        )
        .order_by("-created_at", "-id")
        .first()
    )


def sync_run_last_succeeded(*, merchant: Merchant, addon_key: str) -> SyncRun | None:
    return (
        SyncRun.objects.filter(merchant=merchant, addon_key=addon_key, state=SyncRunState.SUCCEEDED)
        .order_by("-finished_at", "-id")
        .first()
    )


def unknown_error_messages(*, limit: int = 100) -> list[dict]:
    """Messages no hint matches yet, most frequent first: the list to grow the hint catalogue from."""
    return list(
        SyncError.objects.filter(hint_key=hints.UNKNOWN.key)
        .values("addon_key", "operation", "status_code", "message")
        .annotate(
            records=Count("id"),
            merchants=Count("merchant", distinct=True),
            occurrences=Sum("count"),
            last_seen=Max("last_seen"),
        )
        .order_by("-occurrences", "-last_seen")[:limit]
    )


def audit_entries_for_record(*, merchant: Merchant, record_kind: str, record_id: int) -> QuerySet[AuditEntry]:
    """A record's write history, newest first (e.g. on an invoice's page)."""
    return AuditEntry.objects.filter(merchant=merchant, record_kind=record_kind, record_id=record_id)


def _records_q(records: dict[str, list[int]]) -> Q:
    """Rows about any of the records, given as {record_kind: [portal ids]}; matches nothing when empty."""
    condition = Q(pk__in=[])
    for kind, ids in records.items():
        if ids:
            condition |= Q(record_kind=kind, record_id__in=ids)
    return condition


def record_audit_entries(*, merchant: Merchant, records: dict[str, list[int]]) -> QuerySet[AuditEntry]:
    """The write history of several related records (an invoice, its fee lines, its payments), newest first."""
    return AuditEntry.objects.filter(_records_q(records), merchant=merchant)


def record_sync_errors_open(*, merchant: Merchant, records: dict[str, list[int]]) -> QuerySet[SyncError]:
    """Unresolved errors about any of the records, most recently seen first."""
    return SyncError.objects.filter(_records_q(records), merchant=merchant, state__in=UNRESOLVED_STATES)
