"""Sync errors, queues and history in a real browser: the Xero add-on page with open errors and their hints, a Retry
click, the Payment and Outbound Sync Queues with a Dequeue, an invoice's sync history, what a member sees, and the
Django admin's sync error list and detail for staff. A screenshot of each under tests/artifacts/."""

import datetime as dt
import itertools
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from integrations.audit import audit_record
from integrations.errors import sync_error_record
from integrations.services import installation_create
from portal.models import Role
from tests.factories import (
    AccountFactory,
    CustomerFactory,
    InvoiceFactory,
    MembershipFactory,
    MerchantFactory,
    PaymentFactory,
    UserFactory,
)
from xero_sync.models import ConnectionStatus, WriteKind, WriteState, XeroConnection, XeroWrite

pytestmark = pytest.mark.browser
_keys = itertools.count(1)
LEAKY_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZGEifQ.c2lnbmF0dXJl"  # shaped like Xero's access tokens
WIDE = {"width": 1600, "height": 900}


@pytest.fixture(autouse=True)
def xero_registrations():
    """Some tests unregister the add-on's retry handlers and links when done; put the app's own back."""
    from django.apps import apps

    apps.get_app_config("xero_sync").ready()


@pytest.fixture
def shop(transactional_db):
    """A merchant connected to Xero with open sync errors and items in both queues."""
    merchant = MerchantFactory(name="Harbour Plumbing")
    admin = UserFactory(email="ada@harbour.example")
    MembershipFactory(user=admin, merchant=merchant, role=Role.ADMIN)
    member = UserFactory(email="max@harbour.example")
    MembershipFactory(user=member, merchant=merchant, role=Role.MEMBER)
    installation_create(merchant=merchant, addon_key="xero", user=admin)
    AccountFactory(merchant=merchant)  # the add-on page then has nothing to fetch from Xero
    XeroConnection.objects.create(
        merchant=merchant,
        status=ConnectionStatus.CONNECTED,
        tenant_id="5f0c1c8e-0000-4000-8000-00000000a001",
        tenant_name="Harbour Plumbing Ltd",
        short_code="!Hb7Qx",
        connected_at=timezone.now() - dt.timedelta(days=12),
        xero_user_name="Ada Lovelace",
        xero_user_email="ada@harbour.example",
    )
    now = timezone.now()
    customer = CustomerFactory(merchant=merchant, name="Seaview Cafe")
    numbered = InvoiceFactory(merchant=merchant, customer=customer, number="INV-0042", total=Decimal("480.00"))
    paid = InvoiceFactory(merchant=merchant, customer=customer, number="INV-0057", total=Decimal("125.00"))
    errors = {
        "number": sync_error_record(
            merchant=merchant,
            addon_key="xero",
            operation="push",
            record_kind="invoice",
            record_id=numbered.pk,
            record_label="INV-0042",
            status_code=400,
            message="Invoice # must be unique.",
            retry_payload={"write_id": 1},
        ),
        "allocated": sync_error_record(
            merchant=merchant,
            addon_key="xero",
            operation="fee",
            record_kind="invoice",
            record_id=paid.pk,
            record_label="INV-0057",
            external_id="0c1d2e3f-0000-4000-8000-000000000057",
            status_code=400,
            request_excerpt={
                "headers": {"Authorization": f"Bearer {LEAKY_TOKEN}"},
                "Invoices": [{"InvoiceID": "0c1d2e3f-0000-4000-8000-000000000057", "LineItems": ["…"]}],
            },
            response_excerpt={
                "ErrorNumber": 10,
                "Type": "ValidationException",
                "Message": "A validation exception occurred",
            },
            message="This document cannot be edited as it has a payment or credit note allocated to it.",
        ),
        "rate": sync_error_record(
            merchant=merchant,
            addon_key="xero",
            operation="pull",
            record_kind="connection",
            record_label="Harbour Plumbing Ltd",
            status_code=429,
            message="Xero's minute limit was hit",
            hint_params={"resume_at": now + dt.timedelta(minutes=4)},
        ),
    }
    # Seen three times: one row, counted.
    for _ in range(2):
        sync_error_record(
            merchant=merchant,
            addon_key="xero",
            operation="push",
            record_kind="invoice",
            record_id=numbered.pk,
            record_label="INV-0042",
            status_code=400,
            message="Invoice # must be unique.",
        )

    def write(kind, state, label, amount, **fields):
        if kind == WriteKind.PAYMENT:
            fields.setdefault("payment", PaymentFactory(invoice=paid, amount=amount))
        elif kind == WriteKind.CONTACT:
            fields.setdefault("customer", customer)
        else:
            fields.setdefault("invoice", numbered)
        return XeroWrite.objects.create(
            merchant=merchant,
            kind=kind,
            state=state,
            label=label,
            amount=amount,
            idempotency_key=f"browser-{next(_keys)}",
            **fields,
        )

    write(
        WriteKind.PAYMENT,
        WriteState.FAILED,
        "INV-0057",
        Decimal("125.00"),
        error_message="Payment amount exceeds the amount outstanding on this document",
        hint_key="payment_exceeds_outstanding",
        attempts=2,
        created_at=now - dt.timedelta(days=2, hours=3),
    )
    write(
        WriteKind.PAYMENT,
        WriteState.SYNCED,
        "INV-0031",
        Decimal("89.90"),
        synced_at=now - dt.timedelta(days=1),
        external_id="b1f2c3d4-0000-4000-8000-000000000031",
    )
    write(
        WriteKind.FEE_LINE,
        WriteState.FAILED,
        "INV-0057",
        Decimal("15.00"),
        fee_kind="late",
        fee_period="1",
        error_message="This document cannot be edited as it has a payment or credit note allocated to it.",
        hint_key="document_has_allocation",
        created_at=now - dt.timedelta(days=1),
    )
    write(
        WriteKind.CONTACT,
        WriteState.HELD,
        "Seaview Cafe",
        Decimal("0.00"),
        reason="Two Xero contacts match this customer: Seaview Cafe, Seaview Café Ltd. Link one of them.",
        created_at=now - dt.timedelta(hours=5),
    )
    write(
        WriteKind.INVOICE, WriteState.PENDING, "INV-0061", Decimal("240.00"), created_at=now - dt.timedelta(minutes=3)
    )
    audit_record(
        merchant=merchant,
        addon_key="xero",
        operation="push",
        record_kind="invoice",
        record_id=numbered.pk,
        record_label="INV-0042",
        outcome="error",
        endpoint="PUT /Invoices",
        status_code=400,
        duration_ms=212,
        message="Invoice # must be unique.",
        idempotency_key="push-invoice-1",
    )
    audit_record(
        merchant=merchant,
        addon_key="xero",
        operation="push",
        record_kind="invoice",
        record_id=numbered.pk,
        record_label="INV-0042",
        outcome="ok",
        endpoint="POST /Invoices",
        status_code=200,
        duration_ms=187,
        external_ids={"InvoiceID": "0c1d2e3f-0000-4000-8000-000000000042", "LineItemIDs": ["a1", "a2"]},
    )
    return {"merchant": merchant, "admin": admin, "member": member, "errors": errors, "invoice": numbered}


def test_admin_sees_errors_with_hints_retries_and_works_the_queues(shop, signed_in_page, screenshot):
    page = signed_in_page(shop["admin"])
    page.goto("/addons/xero/")
    errors = page.get_by_test_id("sync-error")
    expect(errors).to_have_count(3)
    expect(page.get_by_test_id("sync-error-count")).to_have_text("3")
    number = page.locator('[data-hint="invoice_number_not_unique"]')
    expect(number).to_contain_text("Invoice # must be unique.")
    expect(number).to_contain_text("Invoice number already used in Xero")
    expect(number).to_contain_text("3 times")
    expect(page.locator('[data-hint="rate_limited"]')).to_contain_text("resumes automatically at")
    expect(page.get_by_test_id("queues-summary")).to_be_visible()
    expect(page.get_by_test_id("unsynced")).to_contain_text("Seaview Cafe")
    screenshot(page, "sync_errors_addon")

    number.get_by_role("button", name="Retry").click()
    expect(page.get_by_text("Retrying. The error closes by itself when the retry succeeds.")).to_be_visible()
    number = page.locator('[data-hint="invoice_number_not_unique"]')
    expect(number).to_contain_text("Retrying…")
    expect(number.get_by_role("button", name="Retry")).to_be_disabled()
    page.get_by_test_id("sync-errors").scroll_into_view_if_needed()
    screenshot(page, "sync_errors_after_retry", full_page=False)

    page.get_by_test_id("queue-link-payments").click()
    expect(page).to_have_url(re.compile(r"/addons/xero/queues/payments/$"))
    expect(page.get_by_role("heading", name="Payment Sync Queue")).to_be_visible()
    item = page.get_by_test_id("queue-item")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("Payment amount exceeds the amount outstanding")
    expect(item.get_by_test_id("queue-item-hint")).to_contain_text("Payment is more than the amount due")
    expect(page.get_by_test_id("history-item")).to_have_count(1)
    screenshot(page, "queue_payments")

    item.get_by_text("Dequeue…").click()
    item.get_by_label("Why are you taking it off the queue?").fill("Recorded by hand in Xero on Friday")
    screenshot(page, "queue_payments_dequeue_form", full_page=False)
    item.get_by_role("button", name="Dequeue", exact=True).click()
    expect(page.get_by_text("dequeued. It is kept in History.")).to_be_visible()
    expect(page.get_by_test_id("queue-empty")).to_be_visible()
    history = page.get_by_test_id("queue-history")
    expect(history.get_by_test_id("history-item")).to_have_count(2)
    expect(history).to_contain_text("ada@harbour.example")
    expect(history).to_contain_text("Recorded by hand in Xero on Friday")
    screenshot(page, "queue_payments_after_dequeue")

    page.get_by_test_id("queue-tab-outbound").click()
    expect(page.get_by_role("heading", name="Outbound Sync Queue")).to_be_visible()
    expect(page.get_by_test_id("queue-item")).to_have_count(3)
    expect(page.locator('[data-hint="document_has_allocation"]')).to_be_visible()
    screenshot(page, "queue_outbound")

    page.goto(reverse("portal:invoice", args=[shop["invoice"].pk]))
    history = page.get_by_test_id("sync-history")
    expect(history.get_by_test_id("audit-entry")).to_have_count(2)
    expect(history).to_contain_text("0c1d2e3f-0000-4000-8000-000000000042")
    expect(history.get_by_test_id("record-sync-error")).to_have_count(1)
    screenshot(page, "invoice_sync_history")


def test_member_sees_errors_and_queues_without_buttons(shop, signed_in_page, screenshot):
    page = signed_in_page(shop["member"])
    page.goto("/addons/xero/")
    expect(page.get_by_test_id("sync-error")).to_have_count(3)
    expect(page.get_by_role("button", name="Retry")).to_have_count(0)
    page.goto("/addons/xero/queues/outbound/")
    expect(page.get_by_test_id("queue-item")).to_have_count(3)
    expect(page.get_by_text("Dequeue…")).to_have_count(0)
    expect(page.get_by_text("Only the merchant's admins can retry or dequeue items.")).to_be_visible()
    screenshot(page, "queue_outbound_member")


def test_staff_review_sync_errors_in_django_admin(shop, signed_in_page, screenshot):
    staff = UserFactory(email="staff@portal.example", is_staff=True, is_superuser=True)
    page = signed_in_page(staff, viewport=WIDE)  # the admin list has many columns
    page.goto("/admin/integrations/syncerror/")
    expect(page.get_by_role("heading", name=re.compile("sync error", re.I)).first).to_be_visible()
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(3)
    expect(page.locator("#result_list")).to_contain_text("Invoice number already used in Xero")
    screenshot(page, "admin_sync_errors")

    rows.filter(has_text="INV-0057").get_by_role("link").first.click()
    expect(page.get_by_text("cannot be edited as it has a payment or credit note allocated").first).to_be_visible()
    expect(page.get_by_text("Invoice has a payment or credit note allocated").first).to_be_visible()
    xero_link = page.locator('a[href*="go.xero.com/organisationlogin"]')
    expect(xero_link.first).to_have_attribute("href", re.compile(r"shortcode=(%21|!)Hb7Qx.*InvoiceID=0c1d2e3f"))
    expect(page.get_by_text("ValidationException").first).to_be_visible()
    assert LEAKY_TOKEN not in page.content()
    screenshot(page, "admin_sync_error_detail")


def test_queue_on_a_phone(shop, signed_in_page, screenshot):
    page = signed_in_page(shop["admin"], viewport={"width": 390, "height": 844})
    page.goto("/addons/xero/queues/outbound/")
    item = page.get_by_test_id("queue-item").first
    expect(item.get_by_role("button", name="Retry")).to_be_visible()
    item.get_by_text("Dequeue…").click()
    expect(item.get_by_label("Why are you taking it off the queue?")).to_be_visible()
    screenshot(page, "queue_outbound_narrow")
