"""The sync error log: one row per problem and record, counted on repeats; resolve, dismiss, retry."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Case, DateTimeField, F, Q, QuerySet, Value, When
from django.utils import timezone
from django_q.tasks import async_task

from integrations import hints, retry
from integrations.models import UNRESOLVED_STATES, SyncError, SyncErrorState
from integrations.redact import is_secret_key, redact, redact_text, truncate
from portal.models import Merchant, User

logger = logging.getLogger(__name__)


def _problem_key(hint: hints.Hint, status_code: int | None, message: str) -> str:
    """What makes two errors "the same problem": the hint, or for unknown errors the message's shape."""
    if hint is not hints.UNKNOWN:
        return hint.key
    shape = re.sub(r"\s+", " ", re.sub(r"\d+", "#", message.lower())).strip()[:300]
    return f"unknown:{status_code}:{shape}"


def _fingerprint(
    *, merchant_id: int, addon_key: str, operation: str, record_kind: str, record: str, problem: str
) -> str:
    raw = "\x1f".join([str(merchant_id), addon_key, str(operation), record_kind, record, problem])
    return hashlib.sha256(raw.encode()).hexdigest()


def _check_retry_payload(payload: dict) -> None:
    """A retry payload carries ids only; a secret-looking key is a programming error, refused loudly."""

    def walk(value):
        if isinstance(value, dict):
            for key, inner in value.items():
                if is_secret_key(key):
                    raise ValueError(f"retry_payload must hold ids only, not {key!r}")
                walk(inner)
        elif isinstance(value, list | tuple):
            for inner in value:
                walk(inner)

    walk(payload)


def sync_error_record(
    *,
    merchant: Merchant,
    addon_key: str,
    operation: str,
    record_kind: str,
    message: str,
    record_id: int | None = None,
    external_id: str = "",
    record_label: str = "",
    status_code: int | None = None,
    request_excerpt: str | bytes | dict | list = "",
    response_excerpt: str | bytes | dict | list = "",
    retry_payload: dict | None = None,
    hint_params: dict | None = None,
) -> SyncError:
    """Record that an operation on a record failed: one row per problem and record, counted on repeats.

    A repeat of an open error bumps `count` and `last_seen`; a repeat of a resolved or dismissed one
    reopens it as a new episode (count 1, first seen now). Excerpts (text, bytes or JSON) are redacted.
    `hint_params` fill the hint's fix text, e.g. {"resume_at": datetime} for rate limits.
    """
    retry_payload = retry_payload or {}
    _check_retry_payload(retry_payload)
    message = truncate(redact_text(message or ""), limit=2000)
    hint = hints.hint_for(status_code, message)
    if record_id is not None:
        record = f"id:{record_id}"
    elif external_id:
        record = f"ext:{external_id}"
    else:
        record = f"label:{record_label}"
    fingerprint = _fingerprint(
        merchant_id=merchant.pk,
        addon_key=addon_key,
        operation=operation,
        record_kind=record_kind,
        record=record,
        problem=_problem_key(hint, status_code, message),
    )
    now = timezone.now()
    params = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in (hint_params or {}).items()}
    latest = {
        "message": message,
        "status_code": status_code,
        "hint_key": hint.key,
        "hint_params": params,
        "retry_payload": retry_payload,
    }
    # Keep what earlier occurrences told us when this one does not say.
    for name, value in (
        ("external_id", external_id),
        ("record_label", record_label),
        ("request_excerpt", redact(request_excerpt)),
        ("response_excerpt", redact(response_excerpt)),
    ):
        if value:
            latest[name] = value
    closed = Q(state__in=[SyncErrorState.RESOLVED, SyncErrorState.DISMISSED])
    repeat = {
        **latest,
        # SQL evaluates every SET expression against the old row, so `closed` sees the previous state.
        "count": Case(When(closed, then=Value(1)), default=F("count") + 1),
        "first_seen": Case(When(closed, then=Value(now)), default=F("first_seen"), output_field=DateTimeField()),
        "last_seen": now,
        "state": SyncErrorState.OPEN,
        "resolved_by": None,
        "resolved_at": None,
        "resolution_note": "",
    }
    rows = SyncError.objects.filter(fingerprint=fingerprint)
    with transaction.atomic():
        if not rows.update(**repeat):
            try:
                with transaction.atomic():
                    error = SyncError.objects.create(
                        fingerprint=fingerprint,
                        merchant=merchant,
                        addon_key=addon_key,
                        operation=operation,
                        record_kind=record_kind,
                        record_id=record_id,
                        first_seen=now,
                        last_seen=now,
                        **latest,
                    )
            except IntegrityError:
                # Another worker recorded the same problem between our UPDATE and INSERT: count on theirs.
                rows.update(**repeat)
            else:
                _log_recorded(error)
                return error
        error = rows.get()
    _log_recorded(error)
    return error


def _log_recorded(error: SyncError) -> None:
    logger.info(
        "integrations.sync_error.recorded",
        extra={
            "sync_error_id": error.pk,
            "merchant_id": error.merchant_id,
            "addon_key": error.addon_key,
            "operation": error.operation,
            "hint_key": error.hint_key,
            "count": error.count,
        },
    )


def sync_error_resolve_for_record(
    *,
    merchant: Merchant,
    addon_key: str,
    operation: str,
    record_kind: str,
    record_id: int | None = None,
    external_id: str = "",
) -> int:
    """Close the record's unresolved errors for this operation after a successful attempt (one UPDATE).

    Without ids it closes the record-less errors of that kind (e.g. record_kind="connection" after a token
    refresh succeeds). Returns how many were closed.
    """
    rows = SyncError.objects.filter(
        merchant=merchant,
        addon_key=addon_key,
        operation=operation,
        record_kind=record_kind,
        state__in=UNRESOLVED_STATES,
    )
    if record_id is not None and external_id:
        rows = rows.filter(Q(record_id=record_id) | Q(external_id=external_id))
    elif record_id is not None:
        rows = rows.filter(record_id=record_id)
    elif external_id:
        rows = rows.filter(external_id=external_id)
    else:
        rows = rows.filter(record_id__isnull=True, external_id="")
    return rows.update(
        state=SyncErrorState.RESOLVED,
        resolved_at=timezone.now(),
        resolved_by=None,
        resolution_note="Succeeded on a later attempt.",
    )


def sync_errors_close(*, errors: QuerySet[SyncError], state: str, user: User | None, note: str = "") -> int:
    """Mark unresolved errors resolved or dismissed by a person; returns how many changed."""
    if state not in (SyncErrorState.RESOLVED, SyncErrorState.DISMISSED):
        raise ValueError(f"Cannot close an error as {state!r}")
    return errors.filter(state__in=UNRESOLVED_STATES).update(
        state=state, resolved_by=user, resolved_at=timezone.now(), resolution_note=note[:255]
    )


def sync_error_dismiss(*, error: SyncError, user: User | None, note: str = "") -> None:
    """The merchant or staff dealt with it another way (e.g. entered it by hand in Xero)."""
    sync_errors_close(
        errors=SyncError.objects.filter(pk=error.pk), state=SyncErrorState.DISMISSED, user=user, note=note
    )
    error.refresh_from_db()


def sync_error_mark_resolved(*, error: SyncError, user: User | None, note: str = "") -> None:
    sync_errors_close(errors=SyncError.objects.filter(pk=error.pk), state=SyncErrorState.RESOLVED, user=user, note=note)
    error.refresh_from_db()


@dataclass
class RetryOutcome:
    enqueued: list[SyncError] = field(default_factory=list)
    no_handler: list[SyncError] = field(default_factory=list)  # the add-on cannot retry this operation
    already_resolved: list[SyncError] = field(default_factory=list)


def sync_errors_retry(*, errors: Iterable[SyncError]) -> RetryOutcome:
    """Enqueue each error's registered retry handler (with the error's id only) and mark it retrying.

    The tasks are enqueued after the surrounding transaction commits, so they see the `retrying` state.
    """
    outcome = RetryOutcome()
    jobs: list[tuple[str, int]] = []
    for error in errors:
        handler = retry.handler_for(addon_key=error.addon_key, operation=error.operation)
        if error.state == SyncErrorState.RESOLVED:
            outcome.already_resolved.append(error)
        elif handler is None:
            outcome.no_handler.append(error)
        else:
            outcome.enqueued.append(error)
            jobs.append((handler, error.pk))
    if not jobs:
        return outcome
    SyncError.objects.filter(pk__in=[pk for _, pk in jobs]).update(
        state=SyncErrorState.RETRYING, resolved_by=None, resolved_at=None, resolution_note=""
    )
    for error in outcome.enqueued:
        error.state = SyncErrorState.RETRYING

    def enqueue():
        for handler, pk in jobs:
            async_task(handler, pk, task_name=f"retry-sync-error-{pk}")
            logger.info("integrations.sync_error.retry_enqueued", extra={"sync_error_id": pk, "handler": handler})

    transaction.on_commit(enqueue)
    return outcome
