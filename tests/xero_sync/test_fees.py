"""Late fees written to Xero against the sandbox: lines appended with every existing line intact, paid and
part-paid invoices on a separate invoice or held, exactly once across re-runs, lost answers and partial failures."""

import datetime as dt
from decimal import Decimal

import pytest

from integrations.models import AuditEntry, SyncError
from portal.models import FeeSettings, Invoice, PaidInvoicePolicy
from xero_sandbox import testing as sandbox
from xero_sandbox.models import Account as XAccount
from xero_sandbox.models import Invoice as XInvoice
from xero_sandbox.models import RequestLog
from xero_sync.models import WriteKind, WriteState, XeroWrite
from xero_sync.services import writes as write_services
from xero_sync.services.fees import fees_apply
from xero_sync.services.sync import sync_execute, sync_request

pytestmark = pytest.mark.django_db


def first_sync(connection):
    run = sync_request(connection=connection, enqueue=False)
    sync_execute(run_id=run.pk)


def enable_late_fee(merchant, **changes):
    settings, _ = FeeSettings.objects.get_or_create(merchant=merchant)
    settings.late_enabled = True
    settings.late_type = "flat"
    settings.late_value = Decimal("25.00")
    for key, value in changes.items():
        setattr(settings, key, value)
    settings.save()
    return settings


def far_future(org):
    latest = max(XInvoice.objects.filter(org=org).exclude(due_date=None).values_list("due_date", flat=True))
    return latest + dt.timedelta(days=31)


def writes(org):
    return RequestLog.objects.filter(organisation=org, method__in=["PUT", "POST"]).count()


def fee_lines(xinvoice):
    return [line for line in xinvoice.lines.all() if line.item_code == "LATE-FEE"]


@pytest.fixture
def synced(connection, xero_org):
    first_sync(connection)
    return connection


def test_fee_line_keeps_every_existing_line(synced, xero_org):
    enable_late_fee(synced.merchant)
    unpaid = XInvoice.objects.filter(org=xero_org, type="ACCREC", status="AUTHORISED", amount_paid=0)
    before = {
        inv.id: sorted((str(line.id), line.description, line.line_amount) for line in inv.lines.all()) for inv in unpaid
    }
    assert before
    outcome = fees_apply(connection=synced, today=far_future(xero_org))
    assert outcome.failed == 0
    for inv in XInvoice.objects.filter(id__in=list(before)):
        kept = sorted(
            (str(line.id), line.description, line.line_amount)
            for line in inv.lines.all()
            if line.item_code != "LATE-FEE"
        )
        assert kept == before[inv.id]  # same ids, same texts, same amounts
        assert len(fee_lines(inv)) == 1 and fee_lines(inv)[0].line_amount == Decimal("25.00")
    # The portal holds Xero's new version: the fee line and the new totals.
    local = Invoice.objects.get(merchant=synced.merchant, external_id=str(next(iter(before))))
    assert local.lines.filter(item_code="LATE-FEE").count() == 1
    audited = AuditEntry.objects.filter(merchant=synced.merchant, operation="fee", outcome="ok", endpoint="Invoices")
    local_ids = set(Invoice.objects.filter(external_id__in=[str(i) for i in before]).values_list("pk", flat=True))
    assert {a.record_id for a in audited if a.record_id in local_ids} == local_ids
    assert all(a.idempotency_key.startswith("portal-wb-") for a in audited)


def test_second_run_writes_nothing(synced, xero_org):
    enable_late_fee(synced.merchant)
    today = far_future(xero_org)
    fees_apply(connection=synced, today=today)
    count = writes(xero_org)
    again = fees_apply(connection=synced, today=today)
    assert writes(xero_org) == count
    assert again.planned == 0 and again.synced == 0


@pytest.mark.parametrize("policy", [PaidInvoicePolicy.SEPARATE_INVOICE, PaidInvoicePolicy.QUEUE])
def test_part_paid_invoices_take_the_chosen_path(synced, xero_org, policy):
    enable_late_fee(synced.merchant, paid_invoice_policy=policy)
    part_paid = list(
        XInvoice.objects.filter(org=xero_org, type="ACCREC", status="AUTHORISED", amount_paid__gt=0, amount_due__gt=0)
    )
    assert part_paid
    fees_apply(connection=synced, today=far_future(xero_org))
    for inv in part_paid:
        inv.refresh_from_db()
        assert fee_lines(inv) == []
        separate = XInvoice.objects.filter(org=xero_org, number=f"{inv.number}-LF1")
        row = XeroWrite.objects.get(invoice__external_id=str(inv.id), fee_kind="late", fee_period="1")
        if policy == PaidInvoicePolicy.SEPARATE_INVOICE:
            assert separate.count() == 1
            assert separate[0].contact_id == inv.contact_id and separate[0].total == Decimal("25.00")
            assert row.kind == WriteKind.FEE_INVOICE and row.state == WriteState.SYNCED
        else:
            assert not separate.exists()
            assert row.state == WriteState.HELD and "payment or credit note" in row.reason


def test_xero_refusing_lines_after_a_payment_switches_to_a_separate_invoice(synced, xero_org):
    enable_late_fee(synced.merchant)
    target = XInvoice.objects.filter(org=xero_org, type="ACCREC", status="AUTHORISED", amount_paid=0).first()
    # Paid in Xero after the portal's last sync: the portal still thinks it has no payment.
    bank = XAccount.objects.filter(org=xero_org, type="BANK").first()
    from xero_sandbox.api.services import payment_create

    payment_create(
        org=xero_org,
        data={"Invoice": {"InvoiceID": str(target.id)}, "Account": {"Code": bank.code}, "Amount": "1.00"},
        notify=False,
    )
    from xero_sync.models import XeroSyncState

    XeroSyncState.objects.filter(connection=synced).update(watermarks={})  # no refresh read: stale on purpose
    fees_apply(connection=synced, today=far_future(xero_org))
    assert XInvoice.objects.filter(org=xero_org, number=f"{target.number}-LF1").count() == 1
    target.refresh_from_db()
    assert fee_lines(target) == []


def test_lost_answer_is_read_back_not_resent(synced, xero_org):
    enable_late_fee(synced.merchant)
    sandbox.fault_set(xero_org, "drop", count=10)  # every write is applied, every answer lost
    fees_apply(connection=synced, today=far_future(xero_org))
    sandbox.fault_clear(xero_org)
    fees_apply(connection=synced, today=far_future(xero_org))
    for inv in XInvoice.objects.filter(org=xero_org, type="ACCREC", status="AUTHORISED", amount_paid=0):
        assert len(fee_lines(inv)) == 1
    assert not XeroWrite.objects.exclude(state__in=[WriteState.SYNCED, WriteState.HELD]).exists()


def test_partial_batch_failure_retries_only_the_failed_elements(synced, xero_org):
    enable_late_fee(synced.merchant, late_account_code="999")  # not an account in Xero
    unpaid = XInvoice.objects.filter(org=xero_org, type="ACCREC", status="AUTHORISED", amount_paid=0)
    victim = unpaid.first()
    fees_apply(connection=synced, today=far_future(xero_org))
    rows = XeroWrite.objects.filter(kind=WriteKind.FEE_LINE)
    assert rows.filter(state=WriteState.FAILED).count() == rows.count() > 0
    error = SyncError.objects.get(record_id=rows.get(invoice__external_id=str(victim.id)).invoice_id, operation="fee")
    assert "Account code '999'" in error.message and error.hint_key == "account_invalid"
    # Fix the setting; one element still fails (its invoice was voided in Xero meanwhile).
    FeeSettings.objects.filter(merchant=synced.merchant).update(late_account_code="")
    XInvoice.objects.filter(pk=victim.pk).update(status="VOIDED")
    RequestLog.objects.all().delete()
    fees_apply(connection=synced, today=far_future(xero_org))
    rows = XeroWrite.objects.filter(kind=WriteKind.FEE_LINE)
    failed = rows.filter(state=WriteState.FAILED)
    assert list(failed.values_list("invoice__external_id", flat=True)) == [str(victim.id)]
    assert failed[0].error_message == "Invoice not of valid status for modification"
    error.refresh_from_db()
    # Errors of the elements that went through are resolved on their own.
    all_fees = XeroWrite.objects.filter(fee_kind="late").count()  # lines and separate invoices
    assert SyncError.objects.filter(operation="fee", state="resolved").count() == all_fees - 1
    RequestLog.objects.all().delete()
    fees_apply(connection=synced, today=far_future(xero_org))
    posts = RequestLog.objects.filter(organisation=xero_org, method="POST")
    assert posts.count() == 1  # only the failed element went again
    assert XeroWrite.objects.get(pk=failed[0].pk).attempts == 3


def test_request_key_stable_for_the_same_batch():
    row = XeroWrite(idempotency_key="fee-late-inv1-p1", failures=0)
    element = write_services.Element(body={"InvoiceID": "x", "LineItems": []}, writes=[row])
    assert write_services.request_key([element]) == write_services.request_key([element])
    row.failures = 1
    assert write_services.request_key([element]) != write_services.request_key(
        [
            write_services.Element(
                body={"InvoiceID": "x", "LineItems": []}, writes=[XeroWrite(idempotency_key="fee-late-inv1-p1")]
            )
        ]
    )


def test_period_lock_text_recorded_against_the_invoice(synced, xero_org):
    from xero_sandbox.api.services import accounting_settings

    enable_late_fee(synced.merchant)
    target = XInvoice.objects.filter(org=xero_org, type="ACCREC", status="AUTHORISED", amount_paid=0).first()
    locked = accounting_settings(xero_org)
    locked.period_lock_date = target.date
    locked.save()
    fees_apply(connection=synced, today=far_future(xero_org))
    local = Invoice.objects.get(merchant=synced.merchant, external_id=str(target.id))
    row = XeroWrite.objects.get(invoice=local, fee_kind="late")
    assert row.state == WriteState.FAILED
    assert row.error_message == "The document date cannot be before the period lock date"
    error = SyncError.objects.get(operation="fee", record_kind="invoice", record_id=local.pk)
    assert error.hint_key == "period_locked" and error.record_label == local.number


def test_dequeue_takes_a_held_fee_off_the_queue_with_its_reason(synced, xero_org, admin_user):
    enable_late_fee(synced.merchant, paid_invoice_policy=PaidInvoicePolicy.QUEUE)
    fees_apply(connection=synced, today=far_future(xero_org))
    held = XeroWrite.objects.filter(state=WriteState.HELD).first()
    write_services.write_dequeue(write=held, reason="Added by hand in Xero", user=admin_user)
    held.refresh_from_db()
    assert held.state == WriteState.DEQUEUED and held.reason == "Added by hand in Xero"
    assert held.dequeued_by == admin_user and held.since == held.dequeued_at
    count = writes(xero_org)
    fees_apply(connection=synced, today=far_future(xero_org))
    assert writes(xero_org) == count  # never planned again for that period


def test_late_fees_book_to_a_finance_charges_account_created_in_xero(synced, xero_org):
    from xero_sync.services import fees as fee_services

    fee_services._NO_ACCOUNT_CREATE.discard(synced.tenant_id)
    enable_late_fee(synced.merchant)  # no revenue account chosen: "Finance Charges", created when missing
    assert not XAccount.objects.filter(org=xero_org, name="Finance Charges").exists()
    outcome = fees_apply(connection=synced, today=far_future(xero_org))
    assert outcome.failed == 0
    created = XAccount.objects.get(org=xero_org, name="Finance Charges")
    assert created.type == "REVENUE"
    lines = [line for inv in XInvoice.objects.filter(org=xero_org) for line in fee_lines(inv)]
    assert lines and {line.account_code for line in lines} == {created.code}
    # A second run finds it (in the portal's chart) rather than creating another.
    fees_apply(connection=synced, today=far_future(xero_org))
    assert XAccount.objects.filter(org=xero_org, name="Finance Charges").count() == 1
