"""Customers and invoices made in the portal: creating them, numbering invoices from the merchant's starting
invoice number (increasing, never reused), editing drafts, and telling the connected add-on what changed."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction

from portal.models import Customer, Invoice, InvoiceLine, InvoiceNumberSequence, InvoiceStatus, Item, Merchant, TaxRate

CENT = Decimal("0.01")


def invoice_number_next(*, merchant: Merchant) -> str:
    """The next invoice number: above the last one given and at least the starting number, skipping numbers
    already used by invoices synced from the accounting system. Never hands out a number twice."""
    InvoiceNumberSequence.objects.get_or_create(merchant=merchant)
    with transaction.atomic():
        sequence = InvoiceNumberSequence.objects.select_for_update().get(merchant=merchant)
        merchant.refresh_from_db(fields=["starting_invoice_number"])
        number = max(sequence.last_number + 1, merchant.starting_invoice_number)
        taken = set(Invoice.objects.filter(merchant=merchant, number__regex=r"^\d+$").values_list("number", flat=True))
        while str(number) in taken:  # bounded by the number of invoices
            number += 1
        sequence.last_number = number
        sequence.save(update_fields=["last_number"])
    return str(number)


def customer_create(*, merchant: Merchant, name: str, **fields) -> Customer:
    customer = Customer.objects.create(merchant=merchant, name=re.sub(r"\s+", " ", name).strip(), **fields)
    _notify(merchant=merchant, customer=customer)
    return customer


def item_create(
    *,
    merchant: Merchant,
    code: str,
    name: str = "",
    description: str = "",
    sale_price: Decimal | None = None,
    sale_account_code: str = "",
    commodity_code: str = "",
) -> Item:
    """A product or service made in the portal; it carries the add-on's Default Commodity Code unless given one."""
    from xero_sync.services import push

    item = Item.objects.create(
        merchant=merchant,
        code=code.strip().upper(),
        name=name or code,
        description=description,
        sale_price=sale_price,
        sale_account_code=sale_account_code,
        commodity_code=commodity_code or push.default_commodity_code(merchant=merchant),
    )
    if push.item_push_request(item=item) is not None:
        push.push_enqueue(merchant=merchant)
    return item


@dataclass
class LineInput:
    description: str
    quantity: Decimal
    unit_amount: Decimal
    item: Item | None = None
    tax_rate: TaxRate | None = None


def _lines_write(invoice: Invoice, lines: list[LineInput]) -> None:
    InvoiceLine.objects.filter(invoice=invoice).delete()
    subtotal = tax_total = Decimal("0")
    rows = []
    for position, line in enumerate(lines):
        amount = (line.quantity * line.unit_amount).quantize(CENT, rounding=ROUND_HALF_UP)
        rate = line.tax_rate.rate if line.tax_rate else Decimal("0")
        tax = (amount * rate / 100).quantize(CENT, rounding=ROUND_HALF_UP)
        subtotal += amount
        tax_total += tax
        rows.append(
            InvoiceLine(
                merchant=invoice.merchant,
                invoice=invoice,
                position=position,
                description=line.description,
                quantity=line.quantity,
                unit_amount=line.unit_amount,
                item=line.item,
                item_code=line.item.code if line.item else "",
                account_code=line.item.sale_account_code if line.item else "",
                tax_type=line.tax_rate.tax_type if line.tax_rate else "",
                tax_amount=tax,
                amount=amount,
            )
        )
    InvoiceLine.objects.bulk_create(rows)
    invoice.subtotal, invoice.total_tax = subtotal, tax_total
    invoice.total = subtotal + tax_total
    invoice.amount_due = invoice.total - invoice.amount_paid
    invoice.save(update_fields=["subtotal", "total_tax", "total", "amount_due", "updated_at"])


@transaction.atomic
def invoice_create(
    *,
    merchant: Merchant,
    customer: Customer,
    date: dt.date,
    due_date: dt.date | None,
    lines: list[LineInput],
    reference: str = "",
    status: str = InvoiceStatus.AUTHORISED,
) -> Invoice:
    invoice = Invoice.objects.create(
        merchant=merchant,
        customer=customer,
        number=invoice_number_next(merchant=merchant),
        date=date,
        due_date=due_date,
        reference=reference,
        status=status,
    )
    _lines_write(invoice, lines)
    _notify(merchant=merchant, invoice=invoice)
    return invoice


class InvoiceLocked(Exception):
    """The invoice can no longer change; the message says why."""


@transaction.atomic
def invoice_update(
    *,
    invoice: Invoice,
    customer: Customer,
    date: dt.date,
    due_date: dt.date | None,
    lines: list[LineInput],
    reference: str = "",
) -> Invoice:
    """Edit an invoice that may still change (a draft, or one awaiting approval, with nothing paid)."""
    from_addon = _edit_check(invoice)
    if from_addon:
        raise InvoiceLocked(from_addon)
    invoice.customer, invoice.date, invoice.due_date, invoice.reference = customer, date, due_date, reference
    invoice.save(update_fields=["customer", "date", "due_date", "reference", "updated_at"])
    _lines_write(invoice, lines)
    _notify(merchant=invoice.merchant, invoice=invoice)
    return invoice


def _edit_check(invoice: Invoice) -> str:
    if invoice.amount_paid > 0:
        return (
            "This invoice has a payment allocated, and Xero does not allow changing it. Remove the payment in "
            "Xero first, or raise a credit note."
        )
    if invoice.status not in (InvoiceStatus.DRAFT, InvoiceStatus.SUBMITTED):
        return (
            f"This invoice is {invoice.get_status_display().lower()}: only drafts and invoices awaiting approval "
            "can be edited. Void it in Xero and create a new one instead."
        )
    return ""


def invoice_editable(invoice: Invoice) -> tuple[bool, str]:
    reason = _edit_check(invoice)
    return not reason, reason


def _notify(*, merchant: Merchant, invoice: Invoice | None = None, customer: Customer | None = None) -> None:
    """Tell the Xero add-on (when connected) so the change is pushed: the row is recorded now, the push runs
    after the transaction commits."""
    from xero_sync.services import push

    if invoice is not None:
        if push.invoice_push_request(invoice=invoice) is not None:
            push.push_enqueue(merchant=merchant)
    elif customer is not None and push.customer_push_request(customer=customer) is not None:
        push.push_enqueue(merchant=merchant)
