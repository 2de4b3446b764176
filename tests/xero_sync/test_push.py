"""Customers and invoices created in the portal, pushed to the sandbox: status, account and tax mappings,
contact matching (email, name, ambiguous, none), draft edits, refused edits, lost answers, Xero's texts."""

import datetime as dt
from decimal import Decimal
from unittest import mock

import pytest

from integrations.models import SyncError
from portal import billing
from portal.models import Customer, Invoice, InvoiceStatus, Item
from tests.factories import CustomerFactory
from xero_sandbox import testing as sandbox
from xero_sandbox.models import Contact as XContact
from xero_sandbox.models import Invoice as XInvoice
from xero_sandbox.models import RequestLog
from xero_sync.models import WriteKind, WriteState, XeroWrite
from xero_sync.services.push import push_run, write_settings_for
from xero_sync.services.sync import sync_execute, sync_request

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 23)


@pytest.fixture
def synced(connection, xero_org):
    run = sync_request(connection=connection, enqueue=False)
    sync_execute(run_id=run.pk)
    return connection


def line(description="Labour", quantity="2", unit="95.00", item=None):
    return billing.LineInput(description=description, quantity=Decimal(quantity), unit_amount=Decimal(unit), item=item)


def new_invoice(merchant, customer, *lines_):
    return billing.invoice_create(
        merchant=merchant,
        customer=customer,
        date=TODAY,
        due_date=TODAY + dt.timedelta(days=30),
        lines=list(lines_) or [line()],
    )


def test_new_customer_and_invoice_reach_xero_with_the_page_settings(synced, xero_org):
    settings = write_settings_for(synced)
    settings.invoice_status = "SUBMITTED"
    settings.default_revenue_account_code = "260"
    settings.item_account_codes = {"LABOUR-HR": "200"}
    settings.save()
    merchant = synced.merchant
    customer = billing.customer_create(merchant=merchant, name="Brand  New Customer", email="new@customer.example")
    labour = Item.objects.get(merchant=merchant, code="LABOUR-HR")
    invoice = new_invoice(merchant, customer, line(item=labour), line("Materials", "1", "40.00"))
    assert invoice.number == str(merchant.starting_invoice_number)

    outcome = push_run(connection=synced)
    assert outcome.failed == 0 and outcome.synced == 2
    contact = XContact.objects.get(org=xero_org, name="Brand New Customer")
    assert contact.email_address == "new@customer.example"
    xinv = XInvoice.objects.get(org=xero_org, number=invoice.number)
    assert xinv.status == "SUBMITTED" and xinv.contact_id == contact.id
    assert sorted(xinv.lines.values_list("account_code", flat=True)) == ["200", "260"]
    invoice.refresh_from_db()
    assert invoice.external_id == str(xinv.id) and invoice.status == InvoiceStatus.SUBMITTED
    assert all(line.external_id for line in invoice.lines.all())
    assert Invoice.objects.filter(merchant=merchant, number=invoice.number).count() == 1  # no duplicate row


def test_numbers_increase_and_are_never_reused(merchant):
    customer = CustomerFactory(merchant=merchant)
    first = new_invoice(merchant, customer)
    first.delete()
    second = new_invoice(merchant, customer)
    assert int(second.number) == int(first.number) + 1
    merchant.starting_invoice_number = 5000
    merchant.save()
    assert new_invoice(merchant, customer).number == "5000"


def test_contact_matching(synced, xero_org):
    write_settings_for(synced).__class__.objects.filter(connection=synced).update(default_revenue_account_code="200")
    merchant = synced.merchant
    existing = Customer.objects.filter(merchant=merchant).exclude(external_id=None).exclude(email="")
    by_email_target = existing.first()
    by_name_target = existing.exclude(pk=by_email_target.pk).first()
    twins = XContact.objects.filter(org=xero_org).exclude(
        id__in=[by_email_target.external_id, by_name_target.external_id]
    )[:2]
    Customer.objects.filter(external_id__in=[str(t.id) for t in twins]).update(email="shared@twins.example")

    by_email = billing.customer_create(merchant=merchant, name="Someone Else", email=by_email_target.email.upper())
    by_name = billing.customer_create(merchant=merchant, name=f"  {by_name_target.name.upper()}  ")
    ambiguous = billing.customer_create(merchant=merchant, name="Twin", email="shared@twins.example")
    fresh = billing.customer_create(merchant=merchant, name="Nobody Known")
    invoice = new_invoice(merchant, by_email)
    contacts_before = XContact.objects.filter(org=xero_org).count()

    push_run(connection=synced)
    assert XContact.objects.filter(org=xero_org).count() == contacts_before + 1  # only "Nobody Known"
    assert not Customer.objects.filter(pk__in=[by_email.pk, by_name.pk]).exists()  # linked, merged
    invoice.refresh_from_db()
    assert invoice.customer_id == by_email_target.pk
    assert str(XInvoice.objects.get(org=xero_org, number=invoice.number).contact_id) == by_email_target.external_id
    held = XeroWrite.objects.get(customer=ambiguous)
    assert held.state == WriteState.HELD and len(held.detail["candidates"]) == 2
    fresh.refresh_from_db()
    assert fresh.external_id


def test_draft_edits_are_pushed_and_locked_invoices_refused(synced, xero_org):
    settings = write_settings_for(synced)
    settings.invoice_status = "DRAFT"
    settings.default_revenue_account_code = "200"
    settings.save()
    merchant = synced.merchant
    customer = Customer.objects.filter(merchant=merchant).exclude(external_id=None).filter(status="active").first()
    invoice = new_invoice(merchant, customer)
    push_run(connection=synced)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.DRAFT
    billing.invoice_update(
        invoice=invoice, customer=customer, date=TODAY, due_date=TODAY, lines=[line("Labour", "3", "100.00")]
    )
    push_run(connection=synced)
    xinv = XInvoice.objects.get(org=xero_org, number=invoice.number)
    assert xinv.sub_total == Decimal("300.00") and xinv.lines.count() == 1
    assert XeroWrite.objects.filter(invoice=invoice, kind=WriteKind.INVOICE).count() == 2  # v1, v2

    authorised = Invoice.objects.filter(merchant=merchant, status=InvoiceStatus.AUTHORISED).first()
    with pytest.raises(billing.InvoiceLocked, match="only drafts"):
        billing.invoice_update(invoice=authorised, customer=customer, date=TODAY, due_date=TODAY, lines=[line()])


def test_lost_answer_creates_once(synced, xero_org):
    write_settings_for(synced).__class__.objects.filter(connection=synced).update(default_revenue_account_code="200")
    customer = (
        Customer.objects.filter(merchant=synced.merchant).exclude(external_id=None).filter(status="active").first()
    )
    invoice = new_invoice(synced.merchant, customer)
    sandbox.fault_set(xero_org, "drop", count=10)
    push_run(connection=synced)
    sandbox.fault_clear(xero_org)
    push_run(connection=synced)
    assert XInvoice.objects.filter(org=xero_org, number=invoice.number).count() == 1
    assert XeroWrite.objects.get(invoice=invoice).state == WriteState.SYNCED


@pytest.mark.parametrize(
    "setup, text, hint",
    [
        ("number", "Invoice # must be unique.", "invoice_number_not_unique"),
        (
            "account",
            "Account code '999' has been removed as it does not match a recognised account.",
            "account_invalid",
        ),
        ("tax", "Tax rate must be valid.", "tax_rate_invalid"),
        ("no_account", "Account must be valid.", "account_invalid"),
        (
            "archived",
            "The contact has been archived and cannot be used on new or edited transactions.",
            "contact_archived",
        ),
    ],
)
def test_xero_texts_recorded_against_the_invoice(synced, xero_org, setup, text, hint):
    settings = write_settings_for(synced)
    settings.default_revenue_account_code = {"account": "999", "no_account": ""}.get(setup, "200")
    settings.tax_types = {"": "BOGUS"} if setup == "tax" else {}
    settings.save()
    merchant = synced.merchant
    customers = Customer.objects.filter(merchant=merchant).exclude(external_id=None)
    customer = customers.filter(status="archived" if setup == "archived" else "active").first()
    invoice = new_invoice(merchant, customer)
    if setup == "number":
        Invoice.objects.filter(pk=invoice.pk).update(
            number=XInvoice.objects.filter(org=xero_org, type="ACCREC").first().number
        )
    push_run(connection=synced)
    row = XeroWrite.objects.get(invoice=invoice)
    assert row.state == WriteState.FAILED and text in row.error_message
    error = SyncError.objects.get(merchant=merchant, operation="push", record_kind="invoice", record_id=invoice.pk)
    assert text in error.message and error.hint_key == hint
    # Fixed, then retried: the error closes by itself.
    settings.default_revenue_account_code, settings.tax_types = "200", {}
    settings.save()
    if setup == "number":
        Invoice.objects.filter(pk=invoice.pk).update(number="PORTAL-UNIQUE-1")
    if setup == "archived":
        XContact.objects.filter(id=customer.external_id).update(status="ACTIVE")
    push_run(connection=synced)
    error.refresh_from_db()
    assert error.state == "resolved"


def test_duplicate_contact_name_goes_to_unmatched(synced, xero_org):
    XContact.objects.create(org=xero_org, name="Late Arrival Ltd", status="ACTIVE", updated_at=xero_org.created_at)
    customer = billing.customer_create(merchant=synced.merchant, name="Late Arrival Ltd")
    push_run(connection=synced)
    row = XeroWrite.objects.get(customer=customer)
    assert row.state == WriteState.HELD and "already assigned to another contact" in row.error_message
    error = SyncError.objects.get(operation="push", record_kind="contact", record_id=customer.pk)
    assert error.hint_key == "duplicate_contact_name" and error.record_label == "Late Arrival Ltd"
    assert RequestLog.objects.filter(organisation=xero_org, method="PUT", path__endswith="/Contacts").count() == 1


def test_addon_page_sets_status_accounts_and_tax_mappings(client, admin_user, synced):
    from django.urls import reverse

    client.force_login(admin_user)
    page = client.get(reverse("integrations:addon", args=["xero"]))
    assert b"Invoices sent to Xero" in page.content
    response = client.post(
        reverse("xero_sync:write_settings"),
        {
            "invoice_status": "DRAFT",
            "default_revenue_account_code": "200",
            "item_account_codes": "LABOUR-HR = 260\n",
            "tax_types": "OUTPUT = NONE",
        },
    )
    assert response.status_code == 302
    settings = write_settings_for(synced)
    assert settings.invoice_status == "DRAFT" and settings.item_account_codes == {"LABOUR-HR": "260"}
    assert settings.tax_types == {"OUTPUT": "NONE"}
    response = client.post(
        reverse("xero_sync:write_settings"),
        {"invoice_status": "DRAFT", "item_account_codes": "LABOUR-HR = 999"},
        follow=True,
    )
    assert "Not an account in Xero&#x27;s chart of accounts: 999" in response.content.decode()
    assert write_settings_for(synced).item_account_codes == {"LABOUR-HR": "260"}


def test_item_created_in_the_portal_carries_the_commodity_code_and_reaches_xero(synced, xero_org):
    from xero_sandbox.models import Item as XItem

    synced.default_commodity_code = "72151300"
    synced.save()
    write_settings_for(synced).__class__.objects.filter(connection=synced).update(default_revenue_account_code="200")
    merchant = synced.merchant
    item = billing.item_create(
        merchant=merchant, code="drain-cam", name="Drain camera survey", sale_price=Decimal("150")
    )
    assert item.commodity_code == "72151300" and item.code == "DRAIN-CAM"
    customer = Customer.objects.filter(merchant=merchant, status="active").exclude(external_id=None).first()
    invoice = new_invoice(merchant, customer, line("Survey", "1", "150.00", item=item))
    outcome = push_run(connection=synced)
    assert outcome.failed == 0
    xitem = XItem.objects.get(org=xero_org, code="DRAIN-CAM")
    assert xitem.sales_account_code == "200" and xitem.sales_unit_price == Decimal("150")
    item.refresh_from_db()
    assert item.external_id == str(xitem.id)
    xinv = XInvoice.objects.get(org=xero_org, number=invoice.number)
    assert xinv.lines.get().item_code == "DRAIN-CAM"


def test_retry_from_the_error_log_resends_the_row_and_resolves(synced, xero_org):
    from integrations import retry
    from xero_sync import tasks

    settings = write_settings_for(synced)
    settings.default_revenue_account_code = "999"
    settings.save()
    customer = Customer.objects.filter(merchant=synced.merchant, status="active").exclude(external_id=None).first()
    invoice = new_invoice(synced.merchant, customer)
    for _ in range(3):  # three rejections: the row now waits for a person
        push_run(connection=synced)
    row = XeroWrite.objects.get(invoice=invoice)
    assert row.state == WriteState.FAILED and row.failures == 3
    error = SyncError.objects.get(operation="push", record_id=invoice.pk)
    assert error.count == 3 and retry.handler_for(addon_key="xero", operation="push") == "xero_sync.tasks.retry_write"
    settings.default_revenue_account_code = "200"
    settings.save()
    with mock.patch("xero_sync.services.payments.payments_push"):
        tasks.retry_write(error.pk)
    row.refresh_from_db()
    error.refresh_from_db()
    assert row.state == WriteState.SYNCED and error.state == "resolved"
