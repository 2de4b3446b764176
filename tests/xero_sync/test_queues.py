"""The Payment and Outbound Sync Queues: what is stuck (with Xero's words and the hint), the history, and Dequeue
with a reason (admins only) recorded as who, when and why."""

import datetime as dt
import itertools
from decimal import Decimal
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from integrations.errors import sync_error_record
from integrations.models import SyncError, SyncErrorState
from tests.factories import CustomerFactory, InvoiceFactory, MerchantFactory, PaymentFactory
from xero_sync.models import ConnectionStatus, WriteKind, WriteState, XeroConnection, XeroWrite

pytestmark = pytest.mark.django_db
_keys = itertools.count(1)


def write(merchant, kind, state=WriteState.FAILED, **fields) -> XeroWrite:
    if kind == WriteKind.PAYMENT:
        fields.setdefault("payment", PaymentFactory(invoice=InvoiceFactory(merchant=merchant)))
    elif kind == WriteKind.CONTACT:
        fields.setdefault("customer", CustomerFactory(merchant=merchant))
    else:
        fields.setdefault("invoice", InvoiceFactory(merchant=merchant))
    return XeroWrite.objects.create(
        merchant=merchant, kind=kind, state=state, idempotency_key=f"key-{next(_keys)}", **fields
    )


@pytest.fixture
def connected(merchant):
    return XeroConnection.objects.create(
        merchant=merchant, status=ConnectionStatus.CONNECTED, tenant_id="t-1", tenant_name="Harbour Plumbing Ltd"
    )


def page(client, queue: str) -> str:
    response = client.get(reverse("xero_sync:queue", args=[queue]))
    assert response.status_code == 200
    return response.content.decode()


def test_payment_queue_lists_stuck_payments_with_xeros_words_hint_amount_and_since(admin_client, merchant, connected):
    stuck = write(
        merchant,
        WriteKind.PAYMENT,
        amount=Decimal("125.50"),
        label="INV-0101",
        error_message="Payment amount exceeds the amount outstanding on this document",
        hint_key="payment_exceeds_outstanding",
        created_at=timezone.now() - dt.timedelta(days=3),
    )
    write(merchant, WriteKind.FEE_LINE, label="INV-0200", error_message="Tax rate must be valid.")
    html = page(admin_client, "payments")
    assert html.count('data-testid="queue-item"') == 1
    assert "INV-0101" in html and "125.50" in html
    assert "Payment amount exceeds the amount outstanding on this document" in html
    assert 'data-hint="payment_exceeds_outstanding"' in html and "Payment is more than the amount due" in html
    assert "3\xa0days ago" in html
    assert reverse("portal:invoice", args=[stuck.payment.invoice_id]) in html
    assert "INV-0200" not in html  # a fee line belongs to the Outbound queue


def test_outbound_queue_lists_fee_lines_pushed_invoices_and_customers(admin_client, merchant, connected):
    write(merchant, WriteKind.FEE_LINE, label="INV-0300", amount=Decimal("15.00"), fee_kind="late", fee_period="1")
    write(
        merchant,
        WriteKind.INVOICE,
        label="INV-0301",
        error_message="Invoice # must be unique.",
        hint_key="invoice_number_not_unique",
    )
    write(merchant, WriteKind.CONTACT, state=WriteState.HELD, label="Bob's Pipes", reason="Two Xero contacts match.")
    write(merchant, WriteKind.PAYMENT, label="INV-0302")
    html = page(admin_client, "outbound")
    assert html.count('data-testid="queue-item"') == 3
    assert "Late fee" in html and "Invoice # must be unique." in html and "Two Xero contacts match." in html
    assert "INV-0302" not in html


def test_history_shows_synced_and_dequeued_items_not_waiting_ones(admin_client, merchant, admin_user, connected):
    now = timezone.now()
    write(
        merchant, WriteKind.PAYMENT, state=WriteState.SYNCED, label="INV-0400", synced_at=now, external_id="pay-xero-1"
    )
    write(
        merchant,
        WriteKind.PAYMENT,
        state=WriteState.DEQUEUED,
        label="INV-0401",
        dequeued_at=now,
        dequeued_by=admin_user,
        reason="Entered by hand in Xero",
    )
    write(merchant, WriteKind.PAYMENT, state=WriteState.PENDING, label="INV-0402")
    html = page(admin_client, "payments")
    history = html[html.index('data-testid="queue-history"') :]
    assert history.count('data-testid="history-item"') == 2
    assert "pay-xero-1" in history
    assert "admin@acme.example" in history and "Entered by hand in Xero" in history
    assert "INV-0402" not in history


def test_admin_dequeues_with_a_reason_recorded_who_when_why(admin_client, merchant, admin_user, connected):
    row = write(
        merchant,
        WriteKind.PAYMENT,
        label="INV-0500",
        error_message="Payments can only be made against authorized documents.",
    )
    error = sync_error_record(
        merchant=merchant,
        addon_key="xero",
        operation="payment",
        record_kind="payment",
        record_id=row.payment_id,
        message=row.error_message,
        status_code=400,
    )
    url = reverse("xero_sync:queue_dequeue", args=["payments", row.pk])
    response = admin_client.post(url, {"reason": "Paid by hand in Xero on Monday"}, follow=True)
    assert response.status_code == 200
    row.refresh_from_db()
    assert row.state == WriteState.DEQUEUED
    assert row.dequeued_by == admin_user and row.reason == "Paid by hand in Xero on Monday"
    assert timezone.now() - row.dequeued_at < dt.timedelta(minutes=1)
    error.refresh_from_db()
    assert error.state == SyncErrorState.DISMISSED  # the error log agrees the merchant dealt with it
    html = response.content.decode()
    assert "dequeued" in html and "Paid by hand in Xero on Monday" in html
    assert 'data-testid="queue-item"' not in html


def test_dequeue_needs_a_reason(admin_client, merchant, connected):
    row = write(merchant, WriteKind.FEE_LINE, label="INV-0600")
    response = admin_client.post(
        reverse("xero_sync:queue_dequeue", args=["outbound", row.pk]), {"reason": "  "}, follow=True
    )
    assert "Say why you are dequeuing it" in response.content.decode()
    row.refresh_from_db()
    assert row.state == WriteState.FAILED


def test_retry_puts_a_failed_item_back_in_line_and_starts_the_write_back(
    admin_client, merchant, connected, django_capture_on_commit_callbacks
):
    row = write(merchant, WriteKind.INVOICE, label="INV-0700", error_message="Account must be valid.")
    fee = write(merchant, WriteKind.FEE_LINE, label="INV-0701", error_message="Account must be valid.")
    with (
        mock.patch("xero_sync.tasks.enqueue_push") as push,
        mock.patch("xero_sync.tasks.enqueue_fees") as fees,
        django_capture_on_commit_callbacks(execute=True),
    ):
        admin_client.post(reverse("xero_sync:queue_retry", args=["outbound", row.pk]))
        admin_client.post(reverse("xero_sync:queue_retry", args=["outbound", fee.pk]))
    row.refresh_from_db()
    fee.refresh_from_db()
    assert row.state == fee.state == WriteState.PENDING
    push.assert_called_once_with(merchant.pk)
    fees.assert_called_once_with(connected.pk)


def test_members_see_the_queues_but_cannot_dequeue_or_retry(member_client, merchant, connected):
    row = write(merchant, WriteKind.PAYMENT, label="INV-0800", error_message="Account must be valid.")
    html = page(member_client, "payments")
    assert "INV-0800" in html and "Account must be valid." in html
    assert "Dequeue…" not in html and ">Retry<" not in html
    assert "Only the merchant's admins can retry or dequeue items." in html
    assert reverse("xero_sync:queue_dequeue", args=["payments", row.pk]) not in html
    assert reverse("xero_sync:queue_retry", args=["payments", row.pk]) not in html
    dequeue = member_client.post(reverse("xero_sync:queue_dequeue", args=["payments", row.pk]), {"reason": "mine"})
    retry = member_client.post(reverse("xero_sync:queue_retry", args=["payments", row.pk]))
    assert dequeue.status_code == retry.status_code == 403
    row.refresh_from_db()
    assert row.state == WriteState.FAILED and row.dequeued_by is None


def test_another_merchants_item_is_not_found(admin_client, merchant, connected):
    theirs = write(MerchantFactory(), WriteKind.PAYMENT, label="THEIRS-1")
    assert "THEIRS-1" not in page(admin_client, "payments")
    response = admin_client.post(reverse("xero_sync:queue_dequeue", args=["payments", theirs.pk]), {"reason": "x"})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.state == WriteState.FAILED


def test_an_item_is_only_reachable_through_its_own_queue(admin_client, merchant, connected):
    row = write(merchant, WriteKind.FEE_LINE, label="INV-0900")
    response = admin_client.post(reverse("xero_sync:queue_dequeue", args=["payments", row.pk]), {"reason": "x"})
    assert response.status_code == 404


def test_unknown_queue_is_not_found(admin_client, connected):
    assert admin_client.get(reverse("xero_sync:queue", args=["inbound"])).status_code == 404


def test_empty_queue_says_so_and_warns_when_not_connected(admin_client, merchant):
    html = page(admin_client, "outbound")
    assert 'data-testid="queue-empty"' in html
    assert "Xero is not connected" in html


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("xero_sync:queue", args=["payments"]))
    assert response.status_code == 302 and "login" in response["Location"]


def test_open_errors_close_when_an_item_is_dequeued_only_for_that_record(admin_client, merchant, connected):
    row = write(merchant, WriteKind.PAYMENT, label="INV-1000")
    other = write(merchant, WriteKind.PAYMENT, label="INV-1001")
    kept = sync_error_record(
        merchant=merchant,
        addon_key="xero",
        operation="payment",
        record_kind="payment",
        record_id=other.payment_id,
        message="Account must be valid.",
        status_code=400,
    )
    admin_client.post(reverse("xero_sync:queue_dequeue", args=["payments", row.pk]), {"reason": "done in Xero"})
    assert SyncError.objects.get(pk=kept.pk).state == SyncErrorState.OPEN
