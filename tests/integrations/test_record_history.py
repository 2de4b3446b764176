"""An invoice's page shows its sync history: every write to Xero (fee lines and payments included) and its
open sync errors, for this merchant only."""

import pytest
from django.urls import reverse

from integrations.audit import audit_record
from integrations.errors import sync_error_dismiss, sync_error_record
from tests.factories import InvoiceFactory, MerchantFactory, PaymentFactory

pytestmark = pytest.mark.django_db


def invoice_page(client, invoice) -> str:
    response = client.get(reverse("portal:invoice", args=[invoice.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_invoice_page_lists_its_writes_to_xero_with_outcome_and_ids(admin_client, merchant):
    invoice = InvoiceFactory(merchant=merchant, number="INV-0042")
    payment = PaymentFactory(invoice=invoice)
    invoice_id = "9b7e3c1a-0000-4000-8000-000000000042"
    audit_record(
        merchant=merchant,
        addon_key="xero",
        operation="push",
        record_kind="invoice",
        record_id=invoice.pk,
        record_label="INV-0042",
        outcome="ok",
        endpoint="PUT /Invoices",
        external_ids={"InvoiceID": invoice_id, "LineItemIDs": ["l-1", "l-2"]},
        duration_ms=231,
        status_code=200,
    )
    audit_record(
        merchant=merchant,
        addon_key="xero",
        operation="fee",
        record_kind="fee",
        record_id=invoice.pk,
        outcome="error",
        status_code=400,
        message="This document cannot be edited as it has a payment or credit note allocated to it.",
    )
    audit_record(
        merchant=merchant,
        addon_key="xero",
        operation="payment",
        record_kind="payment",
        record_id=payment.pk,
        outcome="lost",
        endpoint="PUT /Payments",
    )
    # Another invoice's write stays off this page.
    other = InvoiceFactory(merchant=merchant, number="INV-0043")
    audit_record(
        merchant=merchant,
        addon_key="xero",
        operation="push",
        record_kind="invoice",
        record_id=other.pk,
        outcome="ok",
        external_ids={"InvoiceID": "not-this-one"},
    )
    page = invoice_page(admin_client, invoice)
    assert page.count('data-testid="audit-entry"') == 3
    assert invoice_id in page and "l-1, l-2" in page and "231 ms" in page
    assert "PUT /Invoices" in page
    assert "cannot be edited as it has a payment" in page
    assert "Response lost" in page
    assert "not-this-one" not in page


def test_the_invoice_page_shows_its_open_sync_errors_with_hints(admin_client, merchant):
    invoice = InvoiceFactory(merchant=merchant, number="INV-0050")
    error = sync_error_record(
        merchant=merchant,
        addon_key="xero",
        operation="push",
        record_kind="invoice",
        record_id=invoice.pk,
        record_label="INV-0050",
        status_code=400,
        message="Invoice # must be unique.",
    )
    page = invoice_page(admin_client, invoice)
    assert 'data-hint="invoice_number_not_unique"' in page
    assert "change the number of the invoice in Xero" in page
    assert f"#sync-error-{error.pk}" in page

    sync_error_dismiss(error=error, user=None)
    assert 'data-testid="record-sync-error"' not in invoice_page(admin_client, invoice)


def test_an_untouched_invoice_has_no_sync_history_section(admin_client, merchant):
    invoice = InvoiceFactory(merchant=merchant)
    assert 'data-testid="sync-history"' not in invoice_page(admin_client, invoice)


def test_another_merchants_history_never_shows(admin_client, merchant):
    invoice = InvoiceFactory(merchant=merchant)
    stranger = MerchantFactory()
    # Same portal id space, different merchant: nothing of theirs appears.
    audit_record(
        merchant=stranger,
        addon_key="xero",
        operation="push",
        record_kind="invoice",
        record_id=invoice.pk,
        outcome="ok",
        external_ids={"InvoiceID": "stranger-invoice"},
    )
    sync_error_record(
        merchant=stranger,
        addon_key="xero",
        operation="push",
        record_kind="invoice",
        record_id=invoice.pk,
        message="Tax rate must be valid.",
        status_code=400,
    )
    page = invoice_page(admin_client, invoice)
    assert "stranger-invoice" not in page and "Tax rate must be valid." not in page
