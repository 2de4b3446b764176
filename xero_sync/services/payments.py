"""Payments recorded in the portal (Mark paid / Record payment), checked before anything is sent (overpayment,
Default Payment Account), with the technology fee added to the invoice first for card payments, then pushed
to Xero with PUT /Payments in batches. Payments made in Xero arrive through the sync (pull.payments_pull)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Q

from portal.fees import ZERO, fee_amount
from portal.models import Account, Invoice, InvoiceStatus, Payment, PaymentMethod
from xero_sync import errors, mapping
from xero_sync.client import XeroClient
from xero_sync.models import FeeKind, WriteKind, WriteState, XeroConnection, XeroWrite
from xero_sync.services import pull
from xero_sync.services.api import client_for
from xero_sync.services.fees import fee_settings_for, fees_apply, tech_fee_key
from xero_sync.services.writes import (
    AUTO_RETRIES,
    Element,
    batch_send,
    chunks,
    new_owner,
    singles_record,
    write_back_to_pending,
    write_synced,
    writes_claim,
    writes_release,
)

logger = logging.getLogger(__name__)


class PaymentRefused(Exception):
    """The payment cannot be recorded; the message says why, in words for the page."""


@dataclass
class PaymentQuote:
    """What a payment would be: the fee a card adds, and the most that can be paid."""

    technology_fee: Decimal
    payable: Decimal


def payment_quote(*, invoice: Invoice, method: str) -> PaymentQuote:
    settings = fee_settings_for(invoice.merchant)
    fee = ZERO
    if method == PaymentMethod.CARD and settings.tech_enabled:
        fee = fee_amount(fee_type=settings.tech_type, value=settings.tech_value, base=invoice.amount_due)
    return PaymentQuote(technology_fee=fee, payable=invoice.amount_due + fee)


def payment_record(
    *,
    invoice: Invoice,
    amount: Decimal,
    date: dt.date,
    method: str,
    reference: str = "",
) -> Payment:
    """Record a payment in the portal and queue it (and a card's technology fee) for Xero when connected.

    `amount` is what the customer pays towards the invoice; a card's technology fee is added on top, so the
    payment covers invoice plus fee. Refuses (PaymentRefused) before anything is stored or sent when it would
    overpay, when the invoice is not awaiting payment, or when Xero has no Default Payment Account set."""
    connection = XeroConnection.objects.filter(merchant=invoice.merchant).first()
    connected = connection is not None and connection.is_connected
    if amount is None or amount <= 0:
        raise PaymentRefused("Enter an amount greater than zero.")
    if invoice.status != InvoiceStatus.AUTHORISED or invoice.amount_due <= 0:
        raise PaymentRefused("Only invoices awaiting payment can be paid.")
    if amount > invoice.amount_due:
        raise PaymentRefused(
            f"That is more than the {invoice.amount_due} still due on this invoice: overpayments are not accepted."
        )
    account = None
    if connected:
        if not connection.default_payment_account_code:
            raise PaymentRefused(
                "Choose a Default Payment Account on the Xero add-on page first: payments go into that account in Xero."
            )
        account = Account.objects.filter(
            merchant=invoice.merchant, code=connection.default_payment_account_code
        ).first()
    settings = fee_settings_for(invoice.merchant)
    fee = ZERO
    if method == PaymentMethod.CARD and settings.tech_enabled:
        fee = fee_amount(fee_type=settings.tech_type, value=settings.tech_value, base=amount)
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if amount > locked.amount_due:
            raise PaymentRefused("Another payment was just recorded: the amount now exceeds what is due.")
        payment = Payment.objects.create(
            merchant=invoice.merchant,
            invoice=locked,
            date=date,
            amount=amount + fee,
            method=method,
            reference=reference[:255],
            account=account,
        )
        # The portal shows the payment at once; Xero's answer (read back) is the final word.
        Invoice.objects.filter(pk=locked.pk).update(
            total=F("total") + fee,
            amount_paid=F("amount_paid") + amount + fee,
            amount_due=F("amount_due") - amount,
        )
        if locked.amount_due - amount <= 0:
            Invoice.objects.filter(pk=locked.pk).update(status=InvoiceStatus.PAID)
        if connected:
            fee_row = None
            if fee > 0:
                fee_row = XeroWrite.objects.create(
                    merchant=invoice.merchant,
                    kind=WriteKind.FEE_LINE if locked.amount_paid == 0 else WriteKind.FEE_INVOICE,
                    invoice=locked,
                    fee_kind=FeeKind.TECHNOLOGY,
                    fee_period=f"payment-{payment.pk}",
                    amount=fee,
                    label=locked.number,
                    detail={"description": "Technology fee (card payment)"},
                    idempotency_key=tech_fee_key(payment.pk),
                )
            XeroWrite.objects.create(
                merchant=invoice.merchant,
                kind=WriteKind.PAYMENT,
                invoice=locked,
                payment=payment,
                depends_on=fee_row,
                amount=amount + fee,
                label=f"{locked.number} · {payment.get_method_display()}",
                detail={"fee": str(fee), "account_code": connection.default_payment_account_code},
                idempotency_key=f"payment-{payment.pk}",
            )
            from xero_sync.services.push import push_enqueue

            push_enqueue(merchant=invoice.merchant)
    payment.refresh_from_db()
    return payment


@dataclass
class PaymentOutcome:
    synced: int = 0
    failed: int = 0
    waiting: int = 0
    calls: int = 0


def payments_push(*, connection: XeroConnection, client: XeroClient | None = None) -> PaymentOutcome:
    """Technology fees first (so the invoice can take the whole payment), then every waiting payment."""
    client = client or client_for(connection)
    outcome = PaymentOutcome()
    calls_before = client.calls
    waiting = Q(state__in=[WriteState.PENDING, WriteState.SENT]) | Q(state=WriteState.FAILED, failures__lt=AUTO_RETRIES)
    rows = XeroWrite.objects.filter(waiting, merchant=connection.merchant, kind=WriteKind.PAYMENT)
    fee_ids = [i for i in rows.values_list("depends_on_id", flat=True) if i]
    if fee_ids:
        fees_apply(connection=connection, client=client, kinds=(FeeKind.TECHNOLOGY,), row_ids=fee_ids)
    owner = new_owner()
    try:
        claimed = writes_claim(
            rows=rows.values_list("pk", flat=True),
            owner=owner,
            states=[WriteState.PENDING, WriteState.SENT, WriteState.FAILED],
        )
        _send(connection, client, claimed, outcome)
    except errors.XeroRateLimited as exc:
        from xero_sync.tasks import enqueue_push_at

        enqueue_push_at(connection.merchant_id, exc.resume_at)
    except errors.XeroError as exc:
        logger.warning("xero.payments.push_stopped", extra={"error": type(exc).__name__})
    finally:
        writes_release(owner=owner)
    outcome.calls = client.calls - calls_before
    return outcome


def _send(connection: XeroConnection, client: XeroClient, rows: list[XeroWrite], outcome: PaymentOutcome) -> None:
    ctx = pull.PullContext(connection=connection, client=client)
    unknown = [r for r in rows if r.state == WriteState.SENT]
    if unknown:
        _read_back(ctx, unknown, outcome)
    elements = []
    for row in rows:
        if row.state not in (WriteState.PENDING, WriteState.FAILED):
            continue
        fee = XeroWrite.objects.filter(pk=row.depends_on_id).first() if row.depends_on_id else None
        if fee is not None and fee.state not in (WriteState.SYNCED, WriteState.DEQUEUED):
            outcome.waiting += 1
            write_back_to_pending(writes=[row])
            continue
        invoice = row.invoice
        invoice.refresh_from_db()
        account_code = connection.default_payment_account_code or row.detail.get("account_code", "")
        amount = row.amount
        if fee is not None and fee.kind == WriteKind.FEE_INVOICE and fee.state == WriteState.SYNCED:
            amount -= fee.amount  # the fee became its own invoice: this payment covers the original only
        if not invoice.external_id:
            outcome.waiting += 1
            write_back_to_pending(writes=[row])
            continue
        body = mapping.payment_element(
            invoice_id=invoice.external_id,
            account_code=account_code,
            date=row.payment.date,
            amount=amount,
            reference=row.payment.reference,
        )
        elements.append(Element(body=body, writes=[row]))
    if not elements:
        return
    sent = batch_send(
        connection=connection,
        client=client,
        method="PUT",
        endpoint="Payments",
        collection="Payments",
        elements=elements,
        id_field="PaymentID",
    )
    outcome.calls += sent.calls
    synced, failed = singles_record(sent=sent, model=Payment, record_attr="payment_id", id_field="PaymentID")
    outcome.synced += synced
    outcome.failed += failed
    if sent.lost:
        _read_back(ctx, [e.writes[0] for e in sent.lost], outcome)
    # Xero's amounts and status for the paid invoices (and the payments' ids on their rows).
    ids = {e.writes[0].invoice.external_id for e, _a in sent.ok}
    pull.invoices_fetch_by_id(ctx, ids)


def _read_back(ctx: pull.PullContext, rows: list[XeroWrite], outcome: PaymentOutcome) -> None:
    """A payment whose answer was lost landed if the invoice now lists a payment of that amount and date that
    the portal does not know yet."""
    invoice_ids = sorted({r.invoice.external_id for r in rows if r.invoice.external_id})
    listed: dict[str, list[dict]] = {}
    known = set(
        Payment.objects.filter(merchant=ctx.merchant).exclude(external_id=None).values_list("external_id", flat=True)
    )
    for batch in chunks(invoice_ids, 50):
        body = ctx.client.get("Invoices", params={"IDs": ",".join(batch)})
        outcome.calls += 1
        for invoice in body.get("Invoices") or []:
            listed[invoice["InvoiceID"]] = invoice.get("Payments") or []
    for row in rows:
        match = next(
            (
                p
                for p in listed.get(row.invoice.external_id, [])
                if p.get("PaymentID") not in known
                and mapping.money(p.get("Amount")) in (row.amount, row.amount - _fee_part(row))
                and mapping.parse_date(p.get("Date")) == row.payment.date
            ),
            None,
        )
        if match:
            Payment.objects.filter(pk=row.payment_id).update(external_id=match["PaymentID"])
            known.add(match["PaymentID"])
            write_synced(write=row, external_id=match["PaymentID"])
            outcome.synced += 1
        else:
            write_back_to_pending(writes=[row])
            row.state = WriteState.PENDING


def _fee_part(row: XeroWrite) -> Decimal:
    return Decimal(row.detail.get("fee") or "0")
