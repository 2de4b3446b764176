"""Payments both ways against the sandbox: portal payments pushed into the Default Payment Account (card ones
with their technology fee first), refusals before any call, lost answers, and Xero payments pulled in."""

import datetime as dt
from decimal import Decimal

import pytest

from integrations.models import SyncError
from portal.models import FeeSettings, Invoice, InvoiceStatus, Payment
from xero_sandbox import testing as sandbox
from xero_sandbox.api.services import payment_create
from xero_sandbox.models import Account as XAccount
from xero_sandbox.models import Invoice as XInvoice
from xero_sandbox.models import Payment as XPayment
from xero_sandbox.models import RequestLog
from xero_sync.models import WriteState, XeroWrite
from xero_sync.services.payments import PaymentRefused, payment_record, payments_push
from xero_sync.services.sync import sync_execute, sync_request

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 23)


def run_sync(connection, kind=None):
    run = sync_request(connection=connection, kind=kind, enqueue=False)
    return sync_execute(run_id=run.pk)


@pytest.fixture
def synced(connection, xero_org):
    run_sync(connection)
    bank = XAccount.objects.filter(org=xero_org, type="BANK").order_by("code").first()
    connection.default_payment_account_code = bank.code
    connection.save()
    return connection


def open_invoice(merchant, paid=False):
    qs = Invoice.objects.filter(merchant=merchant, status=InvoiceStatus.AUTHORISED, type="ACCREC", amount_due__gt=0)
    return qs.filter(amount_paid__gt=0).first() if paid else qs.filter(amount_paid=0).first()


def test_payment_pushed_into_the_default_account(synced, xero_org):
    invoice = open_invoice(synced.merchant)
    payment = payment_record(invoice=invoice, amount=invoice.amount_due, date=TODAY, method="check", reference="CHK 12")
    payments_push(connection=synced)
    xpayment = XPayment.objects.get(invoice_id=invoice.external_id)
    assert xpayment.amount == invoice.amount_due and xpayment.account.code == synced.default_payment_account_code
    assert xpayment.reference == "CHK 12"
    payment.refresh_from_db()
    assert payment.external_id == str(xpayment.id) and payment.method == "check"
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID and invoice.amount_due == 0
    assert Payment.objects.filter(invoice=invoice).count() == 1  # Xero's copy is the same row
    assert XeroWrite.objects.get(payment=payment).state == WriteState.SYNCED


def test_refused_before_calling_xero(synced, xero_org):
    invoice = open_invoice(synced.merchant)
    RequestLog.objects.all().delete()
    with pytest.raises(PaymentRefused, match="overpayments"):
        payment_record(invoice=invoice, amount=invoice.amount_due + Decimal("0.01"), date=TODAY, method="cash")
    synced.default_payment_account_code = ""
    synced.save()
    with pytest.raises(PaymentRefused, match="Default Payment Account"):
        payment_record(invoice=invoice, amount=Decimal("1.00"), date=TODAY, method="cash")
    assert not Payment.objects.filter(invoice=invoice).exists()
    assert not RequestLog.objects.exists()


def test_card_payment_adds_the_technology_fee_first(synced, xero_org):
    FeeSettings.objects.create(
        merchant=synced.merchant, tech_enabled=True, tech_type="percent", tech_value=Decimal("3")
    )
    invoice = open_invoice(synced.merchant)
    due = invoice.amount_due
    fee = (due * Decimal("0.03")).quantize(Decimal("0.01"))
    payment = payment_record(invoice=invoice, amount=due, date=TODAY, method="card")
    assert payment.amount == due + fee
    payments_push(connection=synced)
    xinv = XInvoice.objects.get(id=invoice.external_id)
    assert xinv.status == "PAID" and xinv.amount_paid == due + fee
    assert xinv.lines.filter(item_code="TECH-FEE", line_amount=fee).count() == 1
    assert {w.state for w in XeroWrite.objects.filter(invoice=invoice)} == {WriteState.SYNCED}


def test_card_payment_on_a_part_paid_invoice_puts_the_fee_on_its_own_invoice(synced, xero_org):
    FeeSettings.objects.create(merchant=synced.merchant, tech_enabled=True, tech_type="flat", tech_value=Decimal("2"))
    invoice = open_invoice(synced.merchant, paid=True)
    payment_record(invoice=invoice, amount=invoice.amount_due, date=TODAY, method="card")
    payments_push(connection=synced)
    xinv = XInvoice.objects.get(id=invoice.external_id)
    assert xinv.status == "PAID" and not xinv.lines.filter(item_code="TECH-FEE").exists()
    fee_invoice = XInvoice.objects.get(org=xero_org, number__startswith=f"{invoice.number}-TF")
    assert fee_invoice.total == Decimal("2.00") and fee_invoice.contact_id == xinv.contact_id


def test_payment_answer_lost_is_read_back(synced, xero_org):
    invoice = open_invoice(synced.merchant)
    payment_record(invoice=invoice, amount=Decimal("10.00"), date=TODAY, method="cash")
    sandbox.fault_set(xero_org, "drop", count=10)
    payments_push(connection=synced)
    sandbox.fault_clear(xero_org)
    payments_push(connection=synced)
    assert XPayment.objects.filter(invoice_id=invoice.external_id, amount=Decimal("10.00")).count() == 1
    assert XeroWrite.objects.get(invoice=invoice).state == WriteState.SYNCED


def test_payment_rejected_by_xero_is_recorded_with_its_hint(synced, xero_org):
    invoice = open_invoice(synced.merchant)
    payment_record(invoice=invoice, amount=invoice.amount_due, date=TODAY, method="bank_transfer")
    # Paid in Xero meanwhile: Xero now refuses the portal's payment.
    bank = XAccount.objects.filter(org=xero_org, type="BANK").first()
    payment_create(
        org=xero_org,
        data={"Invoice": {"InvoiceID": invoice.external_id}, "Account": {"Code": bank.code}, "Amount": "5.00"},
        notify=False,
    )
    payments_push(connection=synced)
    row = XeroWrite.objects.get(invoice=invoice)
    assert row.state == WriteState.FAILED
    assert row.error_message == "Payment amount exceeds the amount outstanding on this document"
    error = SyncError.objects.get(operation="payment", record_kind="payment", record_id=row.payment_id)
    assert error.hint_key == "payment_exceeds_outstanding"


def test_payments_made_in_xero_mark_the_invoice_paid(synced, xero_org):
    invoice = open_invoice(synced.merchant)
    bank = XAccount.objects.filter(org=xero_org, type="BANK").first()
    payment_create(
        org=xero_org,
        data={
            "Invoice": {"InvoiceID": invoice.external_id},
            "Account": {"Code": bank.code},
            "Amount": str(invoice.amount_due),
            "Date": "2026-11-20",
        },
    )
    run_sync(synced, kind="manual")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID and invoice.amount_due == 0
    assert invoice.payments.get().amount == invoice.amount_paid


def test_payment_against_a_voided_invoice_is_recorded_with_xeros_text(synced, xero_org):
    invoice = open_invoice(synced.merchant)
    payment_record(invoice=invoice, amount=Decimal("1.00"), date=TODAY, method="cash")
    XInvoice.objects.filter(id=invoice.external_id).update(status="VOIDED")
    payments_push(connection=synced)
    row = XeroWrite.objects.get(invoice=invoice)
    assert row.error_message == "Payments can only be made against authorized documents."
    error = SyncError.objects.get(operation="payment", record_id=row.payment_id)
    assert error.hint_key == "payment_not_authorised"
