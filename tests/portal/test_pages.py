"""Portal pages: scoping to the signed-in merchant, lists, filters, and no N+1 queries."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal.models import CustomerStatus, InvoiceStatus
from tests.factories import (
    CustomerFactory,
    InvoiceFactory,
    InvoiceLineFactory,
    MerchantFactory,
    PaymentFactory,
)

pytestmark = pytest.mark.django_db


def test_pages_need_sign_in(client):
    response = client.get(reverse("portal:invoices"))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_dashboard_figures(admin_client, merchant):
    today = dt.date.today()
    InvoiceFactory(merchant=merchant, amount_due=Decimal("150.00"), due_date=today - dt.timedelta(days=3))
    InvoiceFactory(merchant=merchant, amount_due=Decimal("50.00"), due_date=today + dt.timedelta(days=10))
    InvoiceFactory(merchant=merchant, status=InvoiceStatus.PAID, amount_due=Decimal("0"))
    InvoiceFactory(amount_due=Decimal("999.00"))  # another merchant's
    response = admin_client.get(reverse("portal:dashboard"))
    figures = response.context["figures"]
    assert figures["open_invoices"] == 2
    assert figures["outstanding"] == Decimal("200.00")
    assert figures["overdue"] == Decimal("150.00")
    assert figures["customers"] == 3


def test_other_merchants_objects_are_404(admin_client):
    other_invoice = InvoiceFactory(merchant=MerchantFactory())
    assert admin_client.get(reverse("portal:invoice", args=[other_invoice.pk])).status_code == 404
    assert admin_client.get(reverse("portal:customer", args=[other_invoice.customer_id])).status_code == 404
    url = reverse("portal:invoices") + f"?customer={other_invoice.customer_id}"
    assert admin_client.get(url).status_code == 404


def test_lists_show_only_own_rows(admin_client, merchant):
    mine = InvoiceFactory(merchant=merchant, number="MINE-1")
    InvoiceFactory(merchant=MerchantFactory(), number="THEIRS-1")
    body = admin_client.get(reverse("portal:invoices")).content.decode()
    assert mine.number in body
    assert "THEIRS-1" not in body


def test_invoice_list_filters_by_status_customer_and_number(admin_client, merchant):
    alice = CustomerFactory(merchant=merchant, name="Alice")
    InvoiceFactory(merchant=merchant, customer=alice, number="INV-100", status=InvoiceStatus.AUTHORISED)
    InvoiceFactory(merchant=merchant, customer=alice, number="INV-200", status=InvoiceStatus.PAID)
    InvoiceFactory(merchant=merchant, number="INV-300", status=InvoiceStatus.AUTHORISED)

    def numbers(query):
        page = admin_client.get(reverse("portal:invoices") + query).context["page"]
        return sorted(i.number for i in page.object_list)

    assert numbers("?status=PAID") == ["INV-200"]
    assert numbers(f"?customer={alice.pk}") == ["INV-100", "INV-200"]
    assert numbers(f"?customer={alice.pk}&status=AUTHORISED") == ["INV-100"]
    assert numbers("?q=300") == ["INV-300"]
    assert numbers("?status=NONSENSE") == ["INV-100", "INV-200", "INV-300"]


def test_customer_search_and_status(admin_client, merchant):
    CustomerFactory(merchant=merchant, name="Bob's Builders", email="bob@b.example")
    CustomerFactory(merchant=merchant, name="Carol", status=CustomerStatus.ARCHIVED)

    def names(query):
        page = admin_client.get(reverse("portal:customers") + query).context["page"]
        return [c.name for c in page.object_list]

    assert names("?q=bob") == ["Bob's Builders"]
    assert names("?q=B.EXAMPLE") == ["Bob's Builders"]
    assert names("?status=archived") == ["Carol"]


def test_invoice_detail_shows_lines_and_payments(admin_client, merchant):
    invoice = InvoiceFactory(merchant=merchant, number="INV-42")
    InvoiceLineFactory(invoice=invoice, description="Replace boiler valve")
    PaymentFactory(invoice=invoice, reference="CHQ-991")
    body = admin_client.get(reverse("portal:invoice", args=[invoice.pk])).content.decode()
    assert "Replace boiler valve" in body
    assert "CHQ-991" in body


def test_paging(admin_client, merchant):
    customer = CustomerFactory(merchant=merchant)
    InvoiceFactory.create_batch(30, merchant=merchant, customer=customer)
    first = admin_client.get(reverse("portal:invoices")).context["page"]
    second = admin_client.get(reverse("portal:invoices") + "?page=2").context["page"]
    assert len(first.object_list) == 25
    assert len(second.object_list) == 5
    assert not {i.pk for i in first.object_list} & {i.pk for i in second.object_list}


@pytest.mark.parametrize(
    "url_name",
    ["portal:invoices", "portal:customers", "portal:payments", "portal:dashboard"],
)
def test_list_query_count_does_not_grow_with_rows(admin_client, merchant, url_name):
    def count_queries():
        with CaptureQueriesContext(connection) as ctx:
            assert admin_client.get(reverse(url_name)).status_code == 200
        return len(ctx)

    PaymentFactory(invoice=InvoiceFactory(merchant=merchant))
    few = count_queries()
    for _ in range(20):
        PaymentFactory(invoice=InvoiceFactory(merchant=merchant))
    assert count_queries() == few


def test_customer_detail_query_count(admin_client, merchant):
    customer = CustomerFactory(merchant=merchant)
    InvoiceFactory(merchant=merchant, customer=customer)
    url = reverse("portal:customer", args=[customer.pk])
    with CaptureQueriesContext(connection) as few:
        admin_client.get(url)
    InvoiceFactory.create_batch(15, merchant=merchant, customer=customer)
    with CaptureQueriesContext(connection) as many:
        admin_client.get(url)
    assert len(many) == len(few)
