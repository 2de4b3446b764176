"""The write-back engine every write to Xero goes through: claim rows, send them in batches of ≤ 50 with
summarizeErrors=false and a request Idempotency-Key derived from the batch's element keys, record each element's
outcome on its own row (audit trail, error log), and leave rows whose answer was lost for a read-back.

Rows are claimed with a conditional UPDATE (no Xero call ever runs inside a database transaction), so two
workers never send the same row; a killed worker's claim simply runs out.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from django.db.models import F, Q
from django.utils import timezone

from integrations.audit import audit_record
from integrations.errors import sync_error_record, sync_error_resolve_for_record
from integrations.hints import hint_for
from xero_sync import errors
from xero_sync.addon import XERO
from xero_sync.client import XeroClient
from xero_sync.errors import _validation_messages
from xero_sync.models import WriteKind, WriteState, XeroConnection, XeroWrite

logger = logging.getLogger(__name__)

BATCH_SIZE = 50  # Xero's advice for batched writes
CLAIM = dt.timedelta(minutes=10)
AUTO_RETRIES = 3  # definite rejections after which a row waits for a person (Retry, or a fixed setting)

OPERATION = {
    WriteKind.FEE_LINE: "fee",
    WriteKind.FEE_INVOICE: "fee",
    WriteKind.INVOICE: "push",
    WriteKind.CONTACT: "push",
    WriteKind.ITEM: "push",
    WriteKind.PAYMENT: "payment",
}
RECORD_KIND = {
    WriteKind.FEE_LINE: "invoice",
    WriteKind.FEE_INVOICE: "invoice",
    WriteKind.INVOICE: "invoice",
    WriteKind.CONTACT: "contact",
    WriteKind.ITEM: "item",
    WriteKind.PAYMENT: "payment",
}


def new_owner() -> str:
    return uuid.uuid4().hex


# --- claiming -----------------------------------------------------------------------------------------------


def writes_claim(*, rows: Iterable[int], owner: str, states: Iterable[str]) -> list[XeroWrite]:
    """Take the rows no live worker holds (one UPDATE); returns the ones this owner now holds."""
    ids = list(rows)
    if not ids:
        return []
    now = timezone.now()
    XeroWrite.objects.filter(pk__in=ids, state__in=list(states)).filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now) | Q(claimed_by=owner)
    ).update(claimed_by=owner, claimed_until=now + CLAIM)
    return list(
        XeroWrite.objects.filter(pk__in=ids, claimed_by=owner).select_related("invoice", "customer", "payment", "item")
    )


def writes_release(*, owner: str) -> None:
    XeroWrite.objects.filter(claimed_by=owner).update(claimed_by="", claimed_until=None)


# --- outcomes -----------------------------------------------------------------------------------------------


def write_synced(*, write: XeroWrite, external_id: str = "", external_ids: dict | None = None) -> None:
    now = timezone.now()
    write.state, write.synced_at, write.error_message, write.hint_key = WriteState.SYNCED, now, "", ""
    write.external_id = external_id or write.external_id
    write.external_ids = {**write.external_ids, **(external_ids or {})}
    XeroWrite.objects.filter(pk=write.pk).update(
        state=WriteState.SYNCED,
        synced_at=now,
        error_message="",
        hint_key="",
        external_id=write.external_id,
        external_ids=write.external_ids,
    )
    sync_error_resolve_for_record(
        merchant=write.merchant,
        addon_key=XERO.key,
        operation=OPERATION[write.kind],
        record_kind=RECORD_KIND[write.kind],
        record_id=_record_id(write),
    )


def writes_synced(*, pairs: list[tuple[XeroWrite, str, dict]]) -> None:
    """Many rows synced at once (a whole batch): one UPDATE per 500 rows, and only the records that had an open
    error get a resolve."""
    if not pairs:
        return
    now = timezone.now()
    for write, external_id, external_ids in pairs:
        write.state, write.synced_at, write.error_message, write.hint_key = WriteState.SYNCED, now, "", ""
        write.external_id = external_id or write.external_id
        write.external_ids = {**write.external_ids, **(external_ids or {})}
    rows = [w for w, _e, _i in pairs]
    XeroWrite.objects.bulk_update(
        rows, ["state", "synced_at", "error_message", "hint_key", "external_id", "external_ids"], batch_size=500
    )
    from integrations.models import UNRESOLVED_STATES, SyncError

    first = rows[0]
    by_record = {_record_id(w): w for w in rows}
    with_errors = SyncError.objects.filter(
        merchant=first.merchant,
        addon_key=XERO.key,
        operation__in={OPERATION[w.kind] for w in rows},
        record_id__in=[r for r in by_record if r is not None],
        state__in=UNRESOLVED_STATES,
    ).values_list("record_id", flat=True)
    for record_id in set(with_errors):
        write = by_record[record_id]
        sync_error_resolve_for_record(
            merchant=write.merchant,
            addon_key=XERO.key,
            operation=OPERATION[write.kind],
            record_kind=RECORD_KIND[write.kind],
            record_id=record_id,
        )


def write_failed(
    *,
    write: XeroWrite,
    messages: list[str],
    status_code: int | None = 400,
    element: dict | None = None,
    response: dict | str = "",
    definite: bool = True,
) -> None:
    """Xero rejected the element: the row says why (Xero's words) and the error log gets it with its hint."""
    message = " ".join(dict.fromkeys(m for m in messages if m)) or "Xero rejected this element."
    hint = hint_for(status_code, message)
    write.state, write.error_message, write.hint_key = WriteState.FAILED, message, hint.key
    XeroWrite.objects.filter(pk=write.pk).update(
        state=WriteState.FAILED,
        error_message=message,
        hint_key=hint.key,
        failures=F("failures") + (1 if definite else 0),
    )
    sync_error_record(
        merchant=write.merchant,
        addon_key=XERO.key,
        operation=OPERATION[write.kind],
        record_kind=RECORD_KIND[write.kind],
        record_id=_record_id(write),
        external_id=_record_external_id(write),
        record_label=write.label,
        status_code=status_code,
        message=message,
        request_excerpt=element or "",
        response_excerpt=response or "",
        retry_payload={"write_id": write.pk},
    )


def write_back_to_pending(*, writes: Iterable[XeroWrite]) -> None:
    XeroWrite.objects.filter(pk__in=[w.pk for w in writes]).update(state=WriteState.PENDING)


def write_dequeue(*, write: XeroWrite, reason: str, user=None) -> XeroWrite:
    """Take an item off the queue (the merchant fixed it another way, e.g. by hand in Xero), with the reason."""
    if not write.is_open:
        raise ValueError("Only items still waiting can be dequeued.")
    now = timezone.now()
    XeroWrite.objects.filter(pk=write.pk).update(
        state=WriteState.DEQUEUED, reason=reason[:1000], dequeued_at=now, dequeued_by=user, claimed_by=""
    )
    from integrations.errors import sync_errors_close
    from integrations.models import SyncError, SyncErrorState

    sync_errors_close(
        errors=SyncError.objects.filter(
            merchant=write.merchant,
            addon_key=XERO.key,
            operation=OPERATION[write.kind],
            record_kind=RECORD_KIND[write.kind],
            record_id=_record_id(write),
        ),
        state=SyncErrorState.DISMISSED,
        user=user,
        note=f"Dequeued: {reason}"[:255],
    )
    logger.info("xero.write.dequeued", extra={"write_id": write.pk, "kind": write.kind})
    write.refresh_from_db()
    return write


def write_retry(*, write: XeroWrite) -> XeroWrite:
    """Put a failed or held row back in line (Retry on the queue or in the error log)."""
    XeroWrite.objects.filter(pk=write.pk, state__in=[WriteState.FAILED, WriteState.HELD]).update(
        state=WriteState.PENDING, reason="", failures=0
    )
    write.refresh_from_db()
    return write


def _record_id(write: XeroWrite) -> int | None:
    if write.kind == WriteKind.CONTACT:
        return write.customer_id
    if write.kind == WriteKind.PAYMENT:
        return write.payment_id
    if write.kind == WriteKind.ITEM:
        return write.item_id
    return write.invoice_id


def _record_external_id(write: XeroWrite) -> str:
    record = {WriteKind.CONTACT: write.customer, WriteKind.PAYMENT: write.payment, WriteKind.ITEM: write.item}.get(
        write.kind, write.invoice
    )
    return (getattr(record, "external_id", "") or "") if record is not None else ""


# --- sending ------------------------------------------------------------------------------------------------


@dataclass
class Element:
    """One element of a batch: the Xero JSON and the rows it carries (a fee line row, or two fee rows on one
    invoice, or one push row)."""

    body: dict
    writes: list[XeroWrite]

    @property
    def key(self) -> str:
        return "+".join(sorted(f"{w.idempotency_key}#{w.failures}" for w in self.writes))


def request_key(elements: list[Element]) -> str:
    """The request's Idempotency-Key: the same batch (same elements, same body) always gets the same key, so a
    retry after a timeout is replayed by Xero rather than applied again; a new rejection of an element makes a
    new attempt, and so a new key."""
    keys = "\n".join(sorted(e.key for e in elements))
    body = json.dumps([e.body for e in elements], sort_keys=True, default=str)
    digest = hashlib.sha256(f"{keys}\n{body}".encode()).hexdigest()
    return f"portal-wb-{digest[:48]}"


@dataclass
class BatchOutcome:
    ok: list[tuple[Element, dict]] = field(default_factory=list)
    rejected: list[tuple[Element, dict, list[str]]] = field(default_factory=list)
    lost: list[Element] = field(default_factory=list)  # no answer: read back before sending again
    calls: int = 0


def chunks(values: list, size: int = BATCH_SIZE) -> Iterator[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def batch_send(
    *,
    connection: XeroConnection,
    client: XeroClient,
    method: str,
    endpoint: str,
    collection: str,
    elements: list[Element],
    id_field: str,
) -> BatchOutcome:
    """Send elements in batches of ≤ 50; each element's answer is matched and audited on its own.

    Raises XeroRateLimited (the batch was not run: its rows are back to pending) and auth errors; a 5xx or a
    timeout after the client's own retries counts the batch as lost.
    """
    outcome = BatchOutcome()
    for batch in chunks(elements):
        key = request_key(batch)
        rows = [w for e in batch for w in e.writes]
        now = timezone.now()
        XeroWrite.objects.filter(pk__in=[w.pk for w in rows]).update(
            state=WriteState.SENT, sent_at=now, attempts=F("attempts") + 1
        )
        started = time.monotonic()
        send = client.put if method == "PUT" else client.post
        calls_before = client.calls
        try:
            body = send(endpoint, {collection: [e.body for e in batch]}, idempotency_key=key)
        except errors.XeroRateLimited:
            write_back_to_pending(writes=rows)
            raise
        except (errors.XeroTimeout, errors.XeroServerError) as exc:
            _audit(connection, batch, key, "lost", started, endpoint, exc.status_code, str(exc))
            outcome.lost.extend(batch)
            outcome.calls += client.calls - calls_before
            continue
        except errors.XeroValidationError as exc:
            # The whole request was refused (e.g. malformed): every element carries Xero's messages.
            for element in batch:
                outcome.rejected.append((element, {}, exc.messages or [exc.message]))
            _audit(connection, batch, key, "error", started, endpoint, exc.status_code, "; ".join(exc.messages))
            outcome.calls += client.calls - calls_before
            continue
        except errors.XeroError:
            write_back_to_pending(writes=rows)
            raise
        outcome.calls += client.calls - calls_before
        answers = body.get(collection) or []
        duration = round((time.monotonic() - started) * 1000)
        for index, element in enumerate(batch):
            answer = answers[index] if index < len(answers) else {}
            status = answer.get("StatusAttributeString") or ("OK" if answer.get(id_field) else "ERROR")
            messages = _validation_messages(answer)
            if status in ("OK", "WARNING") and answer.get(id_field) and not answer.get("HasErrors"):
                outcome.ok.append((element, answer))
                _audit_one(connection, element, key, "ok", duration, endpoint, 200, "", {id_field: answer[id_field]})
            else:
                outcome.rejected.append((element, answer, messages or ["Xero rejected this element."]))
                _audit_one(connection, element, key, "error", duration, endpoint, 200, "; ".join(messages), {})
    return outcome


def _audit(connection, batch, key, outcome, started, endpoint, status_code, message) -> None:
    duration = round((time.monotonic() - started) * 1000)
    for element in batch:
        _audit_one(connection, element, key, outcome, duration, endpoint, status_code, message, {})


def _audit_one(connection, element, key, outcome, duration, endpoint, status_code, message, ids) -> None:
    first = element.writes[0]
    audit_record(
        merchant=connection.merchant,
        addon_key=XERO.key,
        operation=OPERATION[first.kind],
        record_kind=RECORD_KIND[first.kind],
        record_id=_record_id(first),
        record_label=first.label,
        idempotency_key=key,
        outcome=outcome,
        external_ids=ids,
        status_code=status_code,
        duration_ms=duration,
        message=message or f"element {element.key}",
        endpoint=endpoint,
    )


def messages_of(answer: dict) -> list[str]:
    return _validation_messages(answer)


def rows_for_record(*, merchant, kind: str, **filters) -> Callable:
    return XeroWrite.objects.filter(merchant=merchant, kind=kind, **filters)


def singles_record(*, sent: BatchOutcome, model, record_attr: str, id_field: str) -> tuple[int, int]:
    """For batches whose elements each carry one row: link each accepted portal record to its new Xero id and
    mark its row synced; mark each rejected row failed with Xero's words. Returns (synced, failed)."""
    for element, answer in sent.ok:
        row = element.writes[0]
        model.objects.filter(pk=getattr(row, record_attr)).update(external_id=answer[id_field])
        write_synced(write=row, external_id=answer[id_field])
    for element, answer, messages in sent.rejected:
        write_failed(write=element.writes[0], messages=messages, element=element.body, response=answer)
    return len(sent.ok), len(sent.rejected)
