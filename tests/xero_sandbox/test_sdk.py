"""The official xero-python SDK, pointed at the sandbox, reads and writes without a deserialisation error."""

import datetime as dt
from decimal import Decimal

import pytest
from xero_python.accounting import (
    Account,
    Contact,
    Contacts,
    Invoice,
    Invoices,
    LineAmountTypes,
    LineItem,
    Payment,
    PaymentDelete,
    Payments,
)
from xero_python.exceptions import NotFoundException

from xero_sandbox.api.testing import sdk_accounting_api
from xero_sandbox.seed import seed_organisation
from xero_sandbox.testing import sandbox_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    return seed_organisation("SDK Org", contacts=20, invoices=150, seed=11)


@pytest.fixture
def sdk(org):
    return sdk_accounting_api(sandbox_token(org))


@pytest.fixture
def tenant(org):
    return str(org.tenant_id)


def test_lists_and_pages_invoices(sdk, tenant):
    first = sdk.get_invoices(tenant, page=1, page_size=100)
    second = sdk.get_invoices(tenant, page=2, page_size=100)
    assert first.pagination.item_count == 150
    assert len(first.invoices) == 100
    assert len(second.invoices) == 50
    invoice = first.invoices[0]
    assert isinstance(invoice.date, dt.date)
    assert isinstance(invoice.updated_date_utc, dt.datetime)
    assert invoice.line_items
    assert isinstance(invoice.total, float | Decimal)
    statuses = sdk.get_invoices(tenant, statuses=["PAID"], page=1).invoices
    assert {i.status for i in statuses} == {"PAID"}


def test_creates_updates_and_pays_an_invoice(sdk, tenant):
    contacts = sdk.create_contacts(tenant, Contacts(contacts=[Contact(name="SDK Customer", email_address="c@x.test")]))
    contact = contacts.contacts[0]
    assert contact.contact_id

    updated = sdk.update_contact(tenant, contact.contact_id, Contacts(contacts=[Contact(first_name="Sam")]))
    assert updated.contacts[0].first_name == "Sam"

    # The SDK's models default a few read-only flags to False; None keeps them out of the body, as the spec wants.
    invoice = Invoice(
        type="ACCREC",
        has_attachments=None,
        contact=Contact(contact_id=contact.contact_id, has_attachments=None),
        date=dt.date(2026, 11, 2),
        due_date=dt.date(2026, 11, 30),
        line_amount_types=LineAmountTypes.EXCLUSIVE,
        status="AUTHORISED",
        line_items=[LineItem(description="Repair", quantity=2.0, unit_amount=50.0, account_code="200")],
    )
    created = sdk.create_invoices(tenant, Invoices(invoices=[invoice]), summarize_errors=False).invoices[0]
    assert created.status == "AUTHORISED"
    assert created.total == Decimal("108.88")

    changed = sdk.update_invoice(
        tenant, created.invoice_id, Invoices(invoices=[Invoice(reference="PO-1", has_attachments=None)])
    ).invoices[0]
    assert changed.reference == "PO-1"

    payment = Payment(
        invoice=Invoice(invoice_id=created.invoice_id, has_attachments=None),
        account=Account(code="090", has_attachments=None),
        amount=108.88,
        date=dt.date(2026, 11, 5),
    )
    paid = sdk.create_payments(tenant, Payments(payments=[payment])).payments[0]
    assert sdk.get_invoice(tenant, created.invoice_id).invoices[0].status == "PAID"

    sdk.delete_payment(tenant, paid.payment_id, PaymentDelete(status="DELETED"))
    assert sdk.get_invoice(tenant, created.invoice_id).invoices[0].status == "AUTHORISED"

    payments = sdk.get_payments(tenant, page=1)
    assert payments.payments
    assert isinstance(payments.payments[0].date, dt.date)


def test_lists_contacts_and_settings(sdk, tenant):
    contacts = sdk.get_contacts(tenant, page=1, include_archived=True)
    assert contacts.contacts
    assert contacts.contacts[0].addresses
    assert sdk.get_accounts(tenant).accounts
    assert sdk.get_tax_rates(tenant).tax_rates
    assert sdk.get_items(tenant).items
    assert sdk.get_contact_groups(tenant).contact_groups
    assert sdk.get_organisations(tenant).organisations[0].name == "SDK Org"


def test_reads_both_reports(sdk, tenant):
    pnl = sdk.get_report_profit_and_loss(tenant, from_date=dt.date(2025, 1, 1), to_date=dt.date(2026, 12, 31))
    assert pnl.reports[0].report_id == "ProfitAndLoss"
    assert pnl.reports[0].rows
    contact_id = sdk.get_invoices(tenant, page=1, where='Type=="ACCREC"').invoices[0].contact.contact_id
    aged = sdk.get_report_aged_receivables_by_contact(tenant, contact_id)
    assert aged.reports[0].report_id == "AgedReceivablesByContact"


def test_if_modified_since_through_the_sdk(sdk, tenant):
    future = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    assert sdk.get_invoices(tenant, if_modified_since=future, page=1).invoices == []


def test_unknown_invoice_raises_not_found(sdk, tenant):
    with pytest.raises(NotFoundException):
        sdk.get_invoice(tenant, "00000000-0000-0000-0000-000000000042")
