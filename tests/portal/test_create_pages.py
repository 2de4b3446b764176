"""Creating customers and invoices, editing drafts, recording payments: the pages, scoped to the merchant."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from portal.models import Customer, Invoice, InvoiceStatus, Payment
from tests.factories import CustomerFactory, InvoiceFactory, MerchantFactory

pytestmark = pytest.mark.django_db


def invoice_post(customer, **lines):
    data = {
        "customer": customer.pk,
        "date": "2026-11-23",
        "due_date": "2026-12-23",
        "reference": "PO 7",
        "lines-TOTAL_FORMS": "3",
        "lines-INITIAL_FORMS": "0",
        "lines-0-description": "Labour",
        "lines-0-quantity": "2",
        "lines-0-unit_amount": "95",
    }
    data.update(lines)
    return data


def test_member_creates_customer_and_numbered_invoices(member_client, merchant):
    response = member_client.post(reverse("portal:customer_new"), {"name": "  New   Shop ", "email": "a@shop.example"})
    customer = Customer.objects.get(merchant=merchant, name="New Shop")
    assert response.status_code == 302
    member_client.post(reverse("portal:invoice_new"), invoice_post(customer))
    member_client.post(reverse("portal:invoice_new"), invoice_post(customer))
    numbers = list(Invoice.objects.filter(merchant=merchant).order_by("pk").values_list("number", flat=True))
    start = merchant.starting_invoice_number
    assert numbers == [str(start), str(start + 1)]
    invoice = Invoice.objects.get(number=str(start))
    assert invoice.total == Decimal("190.00") and invoice.lines.count() == 1


def test_invoice_needs_a_line_and_an_own_customer(member_client, merchant):
    other = CustomerFactory(merchant=MerchantFactory())
    response = member_client.post(reverse("portal:invoice_new"), invoice_post(other))
    assert response.status_code == 400 and "customer" in response.context["form"].errors
    mine = CustomerFactory(merchant=merchant)
    response = member_client.post(
        reverse("portal:invoice_new"), invoice_post(mine, **{"lines-0-description": "", "lines-0-unit_amount": ""})
    )
    assert response.status_code == 400 and not Invoice.objects.exists()


def test_draft_edited_authorised_refused(admin_client, merchant):
    customer = CustomerFactory(merchant=merchant)
    draft = InvoiceFactory(merchant=merchant, customer=customer, status=InvoiceStatus.DRAFT)
    response = admin_client.post(reverse("portal:invoice_edit", args=[draft.pk]), invoice_post(customer))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.total == Decimal("190.00")
    locked = InvoiceFactory(merchant=merchant, customer=customer, status=InvoiceStatus.AUTHORISED)
    response = admin_client.get(reverse("portal:invoice_edit", args=[locked.pk]), follow=True)
    assert b"only drafts and invoices awaiting approval can be edited" in response.content


def test_record_payment_and_refuse_overpayment(admin_client, merchant):
    customer = CustomerFactory(merchant=merchant)
    invoice = InvoiceFactory(
        merchant=merchant,
        customer=customer,
        status=InvoiceStatus.AUTHORISED,
        total=Decimal("100"),
        amount_due=Decimal("100"),
        amount_paid=Decimal("0"),
    )
    url = reverse("portal:payment_new", args=[invoice.pk])
    response = admin_client.post(url, {"amount": "100.01", "date": "2026-11-23", "method": "cash"})
    assert response.status_code == 400 and b"overpayments are not accepted" in response.content
    response = admin_client.post(url, {"amount": "100", "date": "2026-11-23", "method": "check", "reference": "C1"})
    assert response.status_code == 302
    payment = Payment.objects.get(invoice=invoice)
    assert payment.method == "check" and payment.amount == Decimal("100")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID and invoice.amount_due == 0


def test_other_merchants_invoice_is_404(admin_client):
    foreign = InvoiceFactory(merchant=MerchantFactory(), status=InvoiceStatus.AUTHORISED, date=dt.date(2026, 1, 1))
    assert admin_client.get(reverse("portal:payment_new", args=[foreign.pk])).status_code == 404
    assert admin_client.get(reverse("portal:invoice_edit", args=[foreign.pk])).status_code == 404


def test_new_item_page(member_client, merchant):
    from portal.models import Item

    response = member_client.post(
        reverse("portal:item_new"), {"code": "gas-check", "name": "Gas check", "sale_price": "80"}
    )
    assert response.status_code == 302
    item = Item.objects.get(merchant=merchant, code="GAS-CHECK")
    assert item.sale_price == Decimal("80")
    again = member_client.post(reverse("portal:item_new"), {"code": "Gas-Check"})
    assert again.status_code == 400 and "already exists" in str(again.context["form"].errors["code"])
