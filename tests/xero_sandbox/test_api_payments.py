"""Sandbox Accounting API, payments: AmountDue/AmountPaid, PAID at zero, deletion, and Xero's refusal texts."""

import pytest

from xero_sandbox.api.testing import api_session, org_with_defaults
from xero_sandbox.models import Invoice, Payment

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    return org_with_defaults("Pay Org")


@pytest.fixture
def api(org):
    return api_session(org)


@pytest.fixture
def invoice(api):
    contact = api.put(api.api + "Contacts", json={"Contacts": [{"Name": "Payer"}]}).json()["Contacts"][0]
    body = {
        "Type": "ACCREC",
        "Contact": {"ContactID": contact["ContactID"]},
        "Date": "2026-11-01",
        "DueDate": "2026-11-30",
        "Status": "AUTHORISED",
        "LineAmountTypes": "NoTax",
        "LineItems": [{"Description": "Work", "Quantity": 1, "UnitAmount": 100, "AccountCode": "200"}],
    }
    return api.put(api.api + "Invoices", json={"Invoices": [body]}).json()["Invoices"][0]


def pay(api, invoice_id, amount, code="090", **params):
    body = {"Invoice": {"InvoiceID": invoice_id}, "Account": {"Code": code}, "Amount": amount, "Date": "2026-11-05"}
    return api.put(api.api + "Payments", json={"Payments": [body]}, params=params)


def errors(response):
    return [m["Message"] for e in response.json()["Elements"] for m in e["ValidationErrors"]]


def test_part_payment_moves_amounts(api, invoice):
    response = pay(api, invoice["InvoiceID"], 40)
    assert response.status_code == 200, response.text
    payment = response.json()["Payments"][0]
    assert (payment["Amount"], payment["PaymentType"], payment["Status"]) == (40.0, "ACCRECPAYMENT", "AUTHORISED")
    body = api.get(api.api + f"Invoices/{invoice['InvoiceID']}").json()["Invoices"][0]
    assert (body["AmountPaid"], body["AmountDue"], body["Status"]) == (40.0, 60.0, "AUTHORISED")
    assert [p["Amount"] for p in body["Payments"]] == [40.0]


def test_paying_the_rest_marks_paid(api, invoice):
    pay(api, invoice["InvoiceID"], 40)
    pay(api, invoice["InvoiceID"], 60)
    body = api.get(api.api + f"Invoices/{invoice['InvoiceID']}").json()["Invoices"][0]
    assert (body["AmountDue"], body["Status"]) == (0.0, "PAID")
    assert body["FullyPaidOnDate"] == "/Date(1793836800000+0000)/"


def test_deleting_a_payment_reopens_the_invoice(api, invoice):
    payment = pay(api, invoice["InvoiceID"], 100).json()["Payments"][0]
    response = api.post(api.api + f"Payments/{payment['PaymentID']}", json={"Status": "DELETED"})
    assert response.status_code == 200, response.text
    assert response.json()["Payments"][0]["Status"] == "DELETED"
    refreshed = Invoice.objects.get(id=invoice["InvoiceID"])
    assert (refreshed.status, refreshed.amount_due, refreshed.amount_paid) == ("AUTHORISED", 100, 0)


def test_payment_moves_the_invoices_updated_date(api, invoice):
    before = Invoice.objects.get(id=invoice["InvoiceID"]).updated_at
    pay(api, invoice["InvoiceID"], 10)
    assert Invoice.objects.get(id=invoice["InvoiceID"]).updated_at > before


def test_overpayment_is_refused(api, invoice):
    response = pay(api, invoice["InvoiceID"], 100.01)
    assert response.status_code == 400
    assert errors(response) == ["Payment amount exceeds the amount outstanding on this document"]
    assert not Payment.objects.exists()


@pytest.mark.parametrize("amount", [0, -5])
def test_amount_must_be_positive(api, invoice, amount):
    assert errors(pay(api, invoice["InvoiceID"], amount)) == ["Payment amounts must be positive amounts"]


def test_only_authorised_documents_take_payments(api, invoice):
    api.post(api.api + f"Invoices/{invoice['InvoiceID']}", json={"Invoices": [{"Status": "VOIDED"}]})
    assert errors(pay(api, invoice["InvoiceID"], 10)) == ["Payments can only be made against authorized documents."]


def test_account_must_take_payments(api, invoice):
    assert errors(pay(api, invoice["InvoiceID"], 10, code="200")) == [
        "Payments can only be made to bank accounts or accounts with payments enabled."
    ]
    assert errors(pay(api, invoice["InvoiceID"], 10, code="999")) == ["Account must be valid."]


def test_payments_are_listed_and_paged(api, invoice):
    pay(api, invoice["InvoiceID"], 10)
    pay(api, invoice["InvoiceID"], 20)
    body = api.get(api.api + "Payments", params={"page": 1, "pageSize": 1}).json()
    assert body["pagination"] == {"page": 1, "pageSize": 1, "pageCount": 2, "itemCount": 2}
    assert body["Payments"][0]["Invoice"]["InvoiceID"] == invoice["InvoiceID"]


def test_single_payment_object_is_accepted(api, invoice):
    body = {
        "Invoice": {"InvoiceID": invoice["InvoiceID"]},
        "Account": {"Code": "090"},
        "Amount": 5,
        "Date": "2026-11-05",
    }
    response = api.put(api.api + "Payments", json=body)
    assert response.status_code == 200
    assert Payment.objects.count() == 1
