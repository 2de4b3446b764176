"""Late and technology fees written to Xero exactly once: plan each due fee as a row (unique per invoice, fee and
period), claim the rows, read back any whose answer was lost, then append fee lines to the open invoices in
batches (every existing line sent with its LineItemID) — or, for invoices with a payment or credit note
allocated, raise a separate small invoice or hold the fee for the merchant, as the fee settings say."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from integrations.models import SyncRunKind, SyncRunState
from integrations.runs import sync_run_finish, sync_run_start
from portal.fees import LateFeeRule, late_fee_period_start, late_fees_due
from portal.models import (
    Account,
    AccountStatus,
    FeeSettings,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    InvoiceType,
    PaidInvoicePolicy,
)
from xero_sync import errors, mapping
from xero_sync.addon import XERO
from xero_sync.client import XeroClient
from xero_sync.models import FeeKind, WriteKind, WriteState, XeroConnection, XeroWrite
from xero_sync.services import pull
from xero_sync.services.api import client_for
from xero_sync.services.writes import (
    AUTO_RETRIES,
    Element,
    batch_send,
    chunks,
    new_owner,
    write_back_to_pending,
    write_failed,
    write_synced,
    writes_claim,
    writes_release,
    writes_synced,
)

logger = logging.getLogger(__name__)

LATE_ITEM = "LATE-FEE"
TECH_ITEM = "TECH-FEE"
FINANCE_CHARGES = "Finance Charges"
FINANCE_CHARGES_CODE = "4400"
MSG_HAS_PAYMENTS = "has a payment or credit note allocated"
FEE_KINDS = (WriteKind.FEE_LINE, WriteKind.FEE_INVOICE)


def fee_settings_for(merchant) -> FeeSettings:
    found, _ = FeeSettings.objects.get_or_create(merchant=merchant)
    return found


def late_rule(settings: FeeSettings) -> LateFeeRule:
    return LateFeeRule(
        fee_type=settings.late_type,
        value=settings.late_value,
        after_days=settings.late_after_days,
        repeat_days=settings.late_repeat_days,
        max_times=settings.late_max_times,
        cap=settings.late_cap,
        min_balance=settings.late_min_balance,
    )


# --- markers: how a read-back recognises a fee that landed ----------------------------------------------------


def fee_marker(write: XeroWrite) -> str:
    if write.fee_kind == FeeKind.LATE:
        return f"[LF{write.fee_period}]"
    return f"[TF{write.fee_period.removeprefix('payment-')}]"


def fee_item(write: XeroWrite) -> str:
    return LATE_ITEM if write.fee_kind == FeeKind.LATE else TECH_ITEM


def fee_description(write: XeroWrite) -> str:
    return f"{write.detail.get('description') or write.get_fee_kind_display()} {fee_marker(write)}"


def fee_invoice_number(write: XeroWrite) -> str:
    suffix = f"LF{write.fee_period}" if write.fee_kind == FeeKind.LATE else f"TF{write.fee_period[8:]}"
    return f"{write.invoice.number or write.invoice.external_id[:8]}-{suffix}"[:255]


def fee_landed(write: XeroWrite, xero_invoice: dict) -> dict | None:
    """The fee's line on the invoice Xero returned, if it is there."""
    marker, item = fee_marker(write), fee_item(write)
    for line in xero_invoice.get("LineItems") or []:
        if (line.get("ItemCode") or "").upper() == item and marker in (line.get("Description") or ""):
            return line
    return None


# --- planning -------------------------------------------------------------------------------------------------


def _late_fee_key(invoice_id: int, period: int) -> str:
    return f"fee-late-inv{invoice_id}-p{period}"


def tech_fee_key(payment_id: int) -> str:
    return f"fee-tech-pay{payment_id}"


def late_fees_plan(*, connection: XeroConnection, today: dt.date) -> int:
    """Record a row for every late fee now due (before anything is sent). The unique constraint on (invoice, fee,
    period) makes a second planner, or a second run, a no-op."""
    merchant = connection.merchant
    settings = fee_settings_for(merchant)
    if not settings.late_enabled or settings.late_value <= 0:
        return 0
    rule = late_rule(settings)
    latest_due = today - dt.timedelta(days=rule.after_days)
    invoices = (
        Invoice.objects.filter(
            merchant=merchant,
            type=InvoiceType.RECEIVABLE,
            status=InvoiceStatus.AUTHORISED,
            amount_due__gt=0,
            due_date__lte=latest_due,
        )
        .exclude(external_id=None)
        .exclude(number__regex=r"-(LF|TF)\d+$")  # fee invoices do not earn fees
    )
    excluded = list(settings.late_excluded_types.values_list("pk", flat=True))
    if excluded:
        invoices = invoices.exclude(customer__types__in=excluded)
    invoices = list(invoices.only("pk", "number", "due_date", "amount_due", "amount_paid", "merchant_id"))
    charged: dict[int, dict[int, Decimal]] = defaultdict(dict)
    for invoice_id, period, amount in XeroWrite.objects.filter(
        invoice_id__in=[i.pk for i in invoices], fee_kind=FeeKind.LATE
    ).values_list("invoice_id", "fee_period", "amount"):
        charged[invoice_id][int(period)] = amount
    rows = []
    for invoice in invoices:
        for period, amount in late_fees_due(
            rule=rule,
            due_date=invoice.due_date,
            today=today,
            amount_due=invoice.amount_due,
            charged=charged[invoice.pk],
        ):
            start = late_fee_period_start(rule=rule, due_date=invoice.due_date, period=period)
            row = XeroWrite(
                merchant=merchant,
                kind=WriteKind.FEE_LINE,
                invoice=invoice,
                fee_kind=FeeKind.LATE,
                fee_period=str(period),
                amount=amount,
                label=invoice.number,
                detail={"description": f"Late fee {period} (overdue since {start:%Y-%m-%d})"},
                idempotency_key=_late_fee_key(invoice.pk, period),
            )
            if invoice.amount_paid > 0:
                _route_allocated(row, settings)
            rows.append(row)
    created = XeroWrite.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)
    return len(created)


def _route_allocated(row: XeroWrite, settings: FeeSettings) -> None:
    """An invoice with a payment or credit note cannot take a new line in Xero."""
    if settings.paid_invoice_policy == PaidInvoicePolicy.SEPARATE_INVOICE:
        row.kind = WriteKind.FEE_INVOICE
    else:
        row.state = WriteState.HELD
        row.reason = (
            "This invoice has a payment or credit note allocated in Xero, so the fee cannot be added to it. "
            "Raise it yourself (or choose “separate invoice” in the fee settings), then dequeue it here."
        )


# --- accounts -------------------------------------------------------------------------------------------------

_NO_ACCOUNT_CREATE: set[str] = set()  # organisations whose API refused PUT Accounts, asked once per process


def late_fee_account(*, connection: XeroConnection, client: XeroClient, settings: FeeSettings) -> str:
    """The chosen revenue account, else "Finance Charges", created in Xero when missing."""
    if settings.late_account_code:
        return settings.late_account_code
    accounts = Account.objects.filter(merchant=connection.merchant, status=AccountStatus.ACTIVE)
    found = accounts.filter(name__iexact=FINANCE_CHARGES).exclude(code="").first()
    if found:
        return found.code
    if connection.tenant_id not in _NO_ACCOUNT_CREATE:
        code = FINANCE_CHARGES_CODE
        taken = set(accounts.values_list("code", flat=True))
        while code in taken:
            code = str(int(code) + 1)
        try:
            body = client.put(
                "Accounts",
                {"Code": code, "Name": FINANCE_CHARGES, "Type": "REVENUE", "TaxType": "NONE"},
                idempotency_key=f"finance-charges-{connection.tenant_id}",
            )
        except errors.XeroRateLimited:
            raise
        except errors.XeroError as exc:
            _NO_ACCOUNT_CREATE.add(connection.tenant_id)
            logger.warning("xero.fees.finance_account_not_created", extra={"error": type(exc).__name__})
        else:
            for account in body.get("Accounts") or []:
                if account.get("AccountID"):
                    pull._upsert(Account, connection.merchant, [mapping.account_fields(account)])
                    return account.get("Code") or code
    # Fallback: the organisation's other-revenue account, so the fee still books to revenue.
    fallback = (
        accounts.filter(type__in=["REVENUE", "OTHERINCOME"], name__icontains="other revenue").exclude(code="").first()
        or accounts.filter(type__in=["REVENUE", "OTHERINCOME", "SALES"]).exclude(code="").first()
    )
    return fallback.code if fallback else ""


def tech_fee_account(*, connection: XeroConnection) -> str:
    """The technology fee books to the TECH-FEE item's mapped account, else the default revenue account."""
    from xero_sync.services.push import write_settings_for

    settings = write_settings_for(connection)
    code = settings.item_account_codes.get(TECH_ITEM) or settings.default_revenue_account_code
    if code:
        return code
    first = (
        Account.objects.filter(merchant=connection.merchant, type="REVENUE", status=AccountStatus.ACTIVE)
        .exclude(code="")
        .order_by("code")
        .first()
    )
    return first.code if first else ""


# --- sending --------------------------------------------------------------------------------------------------


@dataclass
class FeeOutcome:
    planned: int = 0
    synced: int = 0
    failed: int = 0
    held: int = 0
    lost: int = 0
    calls: int = 0
    writes: int = 0  # write requests sent
    details: dict = field(default_factory=dict)


def _ctx(connection: XeroConnection, client: XeroClient) -> pull.PullContext:
    return pull.PullContext(connection=connection, client=client)


def fees_send(
    *, connection: XeroConnection, client: XeroClient, rows: list[XeroWrite], outcome: FeeOutcome, today: dt.date
) -> None:
    """Send claimed fee rows: read back the ones whose answer was lost, then lines, then separate invoices."""
    ctx = _ctx(connection, client)
    settings = fee_settings_for(connection.merchant)
    unknown = [r for r in rows if r.state == WriteState.SENT]
    if unknown:
        fees_read_back(ctx=ctx, rows=unknown, outcome=outcome)
    rows = [r for r in rows if r.state in (WriteState.PENDING, WriteState.FAILED)]
    account = {}

    def account_for(row: XeroWrite) -> str:
        if row.fee_kind not in account:
            account[row.fee_kind] = (
                late_fee_account(connection=connection, client=client, settings=settings)
                if row.fee_kind == FeeKind.LATE
                else tech_fee_account(connection=connection)
            )
        return account[row.fee_kind]

    line_rows = [r for r in rows if r.kind == WriteKind.FEE_LINE]
    moved = _send_lines(ctx, line_rows, account_for, settings, outcome)
    invoice_rows = [r for r in rows if r.kind == WriteKind.FEE_INVOICE] + moved
    _send_fee_invoices(ctx, invoice_rows, account_for, outcome, today)


def _send_lines(ctx, rows, account_for, settings, outcome) -> list[XeroWrite]:
    """Append fee lines: one element per invoice carrying all its new fees; returns rows moved to a separate
    invoice because Xero says the invoice has a payment or credit note allocated."""
    by_invoice: dict[int, list[XeroWrite]] = defaultdict(list)
    for row in rows:
        by_invoice[row.invoice_id].append(row)
    lines = defaultdict(list)
    for line in InvoiceLine.objects.filter(invoice_id__in=list(by_invoice)).order_by("position", "id"):
        lines[line.invoice_id].append(line)
    elements = []
    for invoice_id, fee_rows in by_invoice.items():
        invoice = fee_rows[0].invoice
        existing = lines[invoice_id]
        if any(not line.external_id for line in existing) or not invoice.external_id:
            # Without every LineItemID the update would drop lines: wait for the next sync to bring them.
            write_back_to_pending(writes=fee_rows)
            continue
        body = {
            "InvoiceID": invoice.external_id,
            "LineItems": [mapping.line_element(line) for line in existing]
            + [
                mapping.fee_line_element(
                    item_code=fee_item(r), description=fee_description(r), amount=r.amount, account_code=account_for(r)
                )
                for r in sorted(fee_rows, key=lambda r: (r.fee_kind, r.fee_period))
            ],
        }
        elements.append(Element(body=body, writes=fee_rows))
    if not elements:
        return []
    sent = batch_send(
        connection=ctx.connection,
        client=ctx.client,
        method="POST",
        endpoint="Invoices",
        collection="Invoices",
        elements=elements,
        id_field="InvoiceID",
    )
    outcome.calls += sent.calls
    outcome.writes += -(-len(elements) // 50)
    pull.invoices_store(ctx, [answer for _e, answer in sent.ok])
    landed = [
        (row, (fee_landed(row, answer) or {}).get("LineItemID", ""), {"InvoiceID": answer["InvoiceID"]})
        for element, answer in sent.ok
        for row in element.writes
    ]
    writes_synced(pairs=landed)
    outcome.synced += len(landed)
    moved = []
    for element, answer, messages in sent.rejected:
        if any(MSG_HAS_PAYMENTS in m for m in messages):
            for row in element.writes:
                _route_allocated(row, settings)
                XeroWrite.objects.filter(pk=row.pk).update(kind=row.kind, state=row.state, reason=row.reason)
                if row.state == WriteState.HELD:
                    outcome.held += 1
                else:
                    row.state = WriteState.PENDING
                    moved.append(row)
            continue
        for row in element.writes:
            write_failed(write=row, messages=messages, element=element.body, response=answer)
            outcome.failed += 1
    if sent.lost:
        lost_rows = [r for e in sent.lost for r in e.writes]
        fees_read_back(ctx=ctx, rows=lost_rows, outcome=outcome)
    return moved


def _send_fee_invoices(ctx, rows, account_for, outcome, today: dt.date) -> None:
    elements = []
    for row in rows:
        invoice = row.invoice
        contact_id = invoice.customer.external_id if invoice.customer_id else ""
        if not contact_id:
            write_failed(write=row, messages=["The invoice's customer is not in Xero yet."], status_code=None)
            outcome.failed += 1
            continue
        body = {
            "Type": "ACCREC",
            "InvoiceNumber": fee_invoice_number(row),
            "Reference": f"{row.get_fee_kind_display()} on invoice {invoice.number}"[:255],
            "Contact": {"ContactID": contact_id},
            "Date": mapping.xero_date(today),
            "DueDate": mapping.xero_date(today),
            "Status": "AUTHORISED",
            "LineAmountTypes": "NoTax",
            "LineItems": [
                mapping.fee_line_element(
                    item_code=fee_item(row),
                    description=f"{fee_description(row)} — invoice {invoice.number}",
                    amount=row.amount,
                    account_code=account_for(row),
                )
            ],
        }
        elements.append(Element(body=body, writes=[row]))
    if not elements:
        return
    sent = batch_send(
        connection=ctx.connection,
        client=ctx.client,
        method="PUT",
        endpoint="Invoices",
        collection="Invoices",
        elements=elements,
        id_field="InvoiceID",
    )
    outcome.calls += sent.calls
    outcome.writes += -(-len(elements) // 50)
    pull.invoices_store(ctx, [answer for _e, answer in sent.ok])
    for element, answer in sent.ok:
        write_synced(
            write=element.writes[0],
            external_id=answer["InvoiceID"],
            external_ids={"InvoiceNumber": answer.get("InvoiceNumber")},
        )
        outcome.synced += 1
    for element, answer, messages in sent.rejected:
        if any("must be unique" in m for m in messages):
            # Our own earlier attempt may have landed (its answer lost): the read-back decides.
            fees_read_back(ctx=ctx, rows=element.writes, outcome=outcome, failing_messages=messages)
            continue
        write_failed(write=element.writes[0], messages=messages, element=element.body, response=answer)
        outcome.failed += 1
    if sent.lost:
        fees_read_back(ctx=ctx, rows=[r for e in sent.lost for r in e.writes], outcome=outcome)


def fees_read_back(
    *, ctx: pull.PullContext, rows: list[XeroWrite], outcome: FeeOutcome, failing_messages: list[str] | None = None
) -> None:
    """Ask Xero whether fees whose answer was lost landed: a fee line by its marker on the invoice, a fee
    invoice by its number. Landed → synced; not there → back to pending for the next send."""
    line_rows = [r for r in rows if r.kind == WriteKind.FEE_LINE]
    invoice_rows = [r for r in rows if r.kind == WriteKind.FEE_INVOICE]
    found: dict[str, dict] = {}
    for batch in chunks(sorted({r.invoice.external_id for r in line_rows if r.invoice.external_id}), 50):
        body = ctx.client.get("Invoices", params={"IDs": ",".join(batch)})
        outcome.calls += 1
        invoices = body.get("Invoices") or []
        pull.invoices_store(ctx, invoices)
        found.update({i["InvoiceID"]: i for i in invoices})
    by_number: dict[str, dict] = {}
    for batch in chunks(sorted({fee_invoice_number(r) for r in invoice_rows}), 50):
        body = ctx.client.get("Invoices", params={"InvoiceNumbers": ",".join(batch)})
        outcome.calls += 1
        invoices = [i for i in body.get("Invoices") or [] if i.get("Status") not in ("DELETED", "VOIDED")]
        pull.invoices_store(ctx, invoices)
        by_number.update({i.get("InvoiceNumber"): i for i in invoices})
    not_there = []
    for row in line_rows:
        line = fee_landed(row, found.get(row.invoice.external_id, {}))
        if line:
            write_synced(
                write=row, external_id=line.get("LineItemID", ""), external_ids={"InvoiceID": row.invoice.external_id}
            )
            outcome.synced += 1
        else:
            not_there.append(row)
    for row in invoice_rows:
        invoice = by_number.get(fee_invoice_number(row))
        if invoice and fee_landed(row, invoice):
            write_synced(
                write=row,
                external_id=invoice["InvoiceID"],
                external_ids={"InvoiceNumber": invoice.get("InvoiceNumber")},
            )
            outcome.synced += 1
        elif failing_messages:
            write_failed(write=row, messages=failing_messages)
            outcome.failed += 1
        else:
            not_there.append(row)
    write_back_to_pending(writes=not_there)
    for row in not_there:
        row.state = WriteState.PENDING
    outcome.lost += len(not_there)


# --- runs -----------------------------------------------------------------------------------------------------


def organisation_today(connection: XeroConnection, now: dt.datetime | None = None) -> dt.date:
    return (now or timezone.now()).astimezone(mapping.organisation_zone(connection.timezone)).date()


def fees_apply(
    *,
    connection: XeroConnection,
    client: XeroClient | None = None,
    today: dt.date | None = None,
    kinds: tuple[str, ...] = (FeeKind.LATE, FeeKind.TECHNOLOGY),
    row_ids: list[int] | None = None,
) -> FeeOutcome:
    """One fee run: plan due late fees, then send every waiting fee row of the merchant. Safe to run twice at
    once (the second claims nothing) and after a crash (rows left `sent` are read back before anything else)."""
    client = client or client_for(connection)
    today = today or organisation_today(connection)
    outcome = FeeOutcome()
    calls_before = client.calls
    run = sync_run_start(merchant=connection.merchant, addon_key=XERO.key, kind=SyncRunKind.FEES, steps=("fees",))
    owner = new_owner()
    # Anything that escapes (a killed worker, a lost connection to the database) leaves the run failed.
    state, message = SyncRunState.FAILED, "The fee run stopped before it finished."
    try:
        if FeeKind.LATE in kinds and row_ids is None:
            _refresh_changed_invoices(connection, client, outcome)
            outcome.planned = late_fees_plan(connection=connection, today=today)
        waiting = XeroWrite.objects.filter(merchant=connection.merchant, kind__in=FEE_KINDS, fee_kind__in=kinds).filter(
            Q(state__in=[WriteState.PENDING, WriteState.SENT]) | Q(state=WriteState.FAILED, failures__lt=AUTO_RETRIES)
        )
        if row_ids is not None:
            waiting = waiting.filter(pk__in=row_ids)
        rows = writes_claim(
            rows=waiting.values_list("pk", flat=True),
            owner=owner,
            states=[WriteState.PENDING, WriteState.SENT, WriteState.FAILED],
        )
        if rows:
            fees_send(connection=connection, client=client, rows=rows, outcome=outcome, today=today)
        state, message = SyncRunState.SUCCEEDED, ""
    except errors.XeroRateLimited as exc:
        state, message = SyncRunState.PARTIAL, f"Paused by Xero's rate limit until {exc.resume_at:%H:%M} UTC."
        from xero_sync.tasks import enqueue_fees_at

        enqueue_fees_at(connection.pk, exc.resume_at)
    except errors.XeroError as exc:
        state, message = SyncRunState.FAILED, str(exc)
    finally:
        writes_release(owner=owner)
        outcome.calls = client.calls - calls_before
        counts = {
            "fees_planned": outcome.planned,
            "fees_synced": outcome.synced,
            "fees_failed": outcome.failed,
            "fees_held": outcome.held,
        }
        if outcome.failed and state == SyncRunState.SUCCEEDED:
            state, message = SyncRunState.PARTIAL, f"{outcome.failed} fee(s) were rejected by Xero: see the queue."
        sync_run_finish(run=run, state=state, error_summary=message, counts=counts, api_calls=outcome.calls)
    outcome.details["run_id"] = run.pk
    return outcome


def _refresh_changed_invoices(connection: XeroConnection, client: XeroClient, outcome: FeeOutcome) -> None:
    """Read the invoices changed in Xero since the last sync (usually one call), so lines and amounts are current
    before fee lines are appended to them."""
    from xero_sync.services.sync import _watermarks, sync_state_for

    since = _watermarks(sync_state_for(connection)).get("invoices")
    if since is None:
        return
    ctx = pull.PullContext(connection=connection, client=client, since={"invoices": since})
    pull.invoices_pull(ctx, statuses="AUTHORISED,PAID,VOIDED,DELETED")
