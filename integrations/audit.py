"""The audit trail: every write to an external system, with its outcome, ids returned and duration."""

from __future__ import annotations

from integrations.models import AuditEntry, AuditOutcome
from integrations.redact import redact_text, truncate
from portal.models import Merchant


def audit_record(
    *,
    merchant: Merchant,
    addon_key: str,
    operation: str,
    record_kind: str,
    outcome: str,
    record_id: int | None = None,
    record_label: str = "",
    idempotency_key: str = "",
    external_ids: dict | None = None,
    status_code: int | None = None,
    duration_ms: int | None = None,
    message: str = "",
    endpoint: str = "",
) -> AuditEntry:
    """Record one write to an external system (call it for every write, whatever the outcome)."""
    if outcome not in AuditOutcome.values:
        raise ValueError(f"Unknown audit outcome {outcome!r}")
    return AuditEntry.objects.create(
        merchant=merchant,
        addon_key=addon_key,
        operation=operation,
        endpoint=endpoint[:120],
        record_kind=record_kind,
        record_id=record_id,
        record_label=record_label[:255],
        idempotency_key=idempotency_key[:128],
        outcome=outcome,
        external_ids=external_ids or {},
        status_code=status_code,
        duration_ms=duration_ms,
        message=truncate(redact_text(message), limit=2000),
    )
