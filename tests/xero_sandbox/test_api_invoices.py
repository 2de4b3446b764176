"""Sandbox Accounting API, invoices: totals, line replacement, status machine, batches, idempotency, texts."""

import pytest
import requests

from xero_sandbox.api.testing import api_session, org_with_defaults
from xero_sandbox.models import AccountingSettings, Contact, Invoice
from xero_sandbox.testing import fault_set

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    return org_with_defaults("Acme Plumbing")


@pytest.fixture
def api(org):
    return api_session(org)


@pytest.fixture
def contact_id(api):
    response = api.put(api.api + "Contacts", json={"Contacts": [{"Name": "Harbor Bakery"}]})
    return response.json()["Contacts"][0]["ContactID"]


@pytest.fixture
def emitted(monkeypatch):
    calls = []
    monkeypatch.setattr(
        "xero_sandbox.webhooks.event_emit",
        lambda **kw: calls.append((kw["category"], kw["event_type"], str(kw["resource_id"]))),
    )
    return calls


def invoice_body(contact_id, **fields):
    body = {
        "Type": "ACCREC",
        "Contact": {"ContactID": contact_id},
        "Date": "2026-11-02",
        "DueDate": "2026-12-02",
        "LineItems": [
            {"Description": "Call-out", "Quantity": 1, "UnitAmount": 65, "AccountCode": "200", "TaxType": "OUTPUT"}
        ],
    }
    body.update(fields)
    return body


def create(api, contact_id, **fields):
    response = api.put(api.api + "Invoices", json={"Invoices": [invoice_body(contact_id, **fields)]})
    assert response.status_code == 200, response.text
    return response.json()["Invoices"][0]


def update(api, invoice_id, body, **params):
    return api.post(api.api + f"Invoices/{invoice_id}", json={"Invoices": [body]}, params=params)


def messages(response):
    body = response.json()
    if "Elements" in body:
        return [m["Message"] for e in body["Elements"] for m in e.get("ValidationErrors", [])]
    return [m["Message"] for e in body["Invoices"] for m in e.get("ValidationErrors", [])]


# ---- totals -----------------------------------------------------------------------------------------------


def test_exclusive_totals_add_tax_rounded_per_line(api, contact_id):
    lines = [
        {"Description": "A", "Quantity": 3, "UnitAmount": 19.99, "AccountCode": "200", "TaxType": "OUTPUT"},
        {"Description": "B", "Quantity": 1, "UnitAmount": 0.05, "AccountCode": "200", "TaxType": "OUTPUT"},
    ]
    invoice = create(api, contact_id, LineItems=lines)
    # 59.97 * 8.875% = 5.3223 -> 5.32; 0.05 * 8.875% = 0.0044 -> 0.00
    assert [line["TaxAmount"] for line in invoice["LineItems"]] == [5.32, 0.0]
    assert (invoice["SubTotal"], invoice["TotalTax"], invoice["Total"]) == (60.02, 5.32, 65.34)
    assert invoice["AmountDue"] == 65.34
    assert invoice["Date"] == "/Date(1793577600000+0000)/"


def test_inclusive_totals_carve_tax_out_of_the_line(api, contact_id):
    invoice = create(
        api,
        contact_id,
        LineAmountTypes="Inclusive",
        LineItems=[
            {"Description": "A", "Quantity": 1, "UnitAmount": 108.88, "AccountCode": "200", "TaxType": "OUTPUT"}
        ],
    )
    assert invoice["LineItems"][0]["LineAmount"] == 108.88
    assert (invoice["SubTotal"], invoice["TotalTax"], invoice["Total"]) == (100.0, 8.88, 108.88)


def test_notax_invoices_carry_no_tax(api, contact_id):
    invoice = create(
        api,
        contact_id,
        LineAmountTypes="NoTax",
        LineItems=[{"Description": "A", "Quantity": 2, "UnitAmount": 50, "AccountCode": "200"}],
    )
    assert (invoice["SubTotal"], invoice["TotalTax"], invoice["Total"]) == (100.0, 0.0, 100.0)
    assert invoice["LineItems"][0]["TaxType"] == "NONE"


def test_discount_rate_reduces_the_line_amount(api, contact_id):
    invoice = create(
        api,
        contact_id,
        LineItems=[
            {
                "Description": "A",
                "Quantity": 4,
                "UnitAmount": 25,
                "DiscountRate": 15,
                "AccountCode": "200",
                "TaxType": "OUTPUT",
            }
        ],
    )
    line = invoice["LineItems"][0]
    assert (line["LineAmount"], line["DiscountRate"]) == (85.0, 15.0)
    assert invoice["Total"] == 92.54  # 85.00 + 7.54
    assert invoice["IsDiscounted"] is True


def test_tax_type_defaults_to_the_accounts_tax_type(api, contact_id):
    invoice = create(
        api, contact_id, LineItems=[{"Description": "A", "Quantity": 1, "UnitAmount": 100, "AccountCode": "200"}]
    )
    assert invoice["LineItems"][0]["TaxType"] == "OUTPUT"
    assert invoice["TotalTax"] == 8.88


def test_accrec_gets_the_next_invoice_number(api, contact_id):
    first = create(api, contact_id)
    second = create(api, contact_id)
    assert (first["InvoiceNumber"], second["InvoiceNumber"]) == ("INV-0001", "INV-0002")


# ---- line items --------------------------------------------------------------------------------------------


def test_line_items_are_replaced_by_the_rules(api, contact_id):
    invoice = create(
        api,
        contact_id,
        LineItems=[
            {"Description": "Keep", "Quantity": 1, "UnitAmount": 10, "AccountCode": "200"},
            {"Description": "Drop", "Quantity": 1, "UnitAmount": 20, "AccountCode": "200"},
        ],
    )
    keep, _drop = invoice["LineItems"]
    response = update(
        api,
        invoice["InvoiceID"],
        {
            "LineItems": [
                {
                    "LineItemID": keep["LineItemID"],
                    "Description": "Keep",
                    "Quantity": 2,
                    "UnitAmount": 10,
                    "AccountCode": "200",
                },
                {"Description": "Fee", "Quantity": 1, "UnitAmount": 3, "AccountCode": "260"},
            ]
        },
    )
    assert response.status_code == 200, response.text
    lines = response.json()["Invoices"][0]["LineItems"]
    assert [line["Description"] for line in lines] == ["Keep", "Fee"]
    assert lines[0]["LineItemID"] == keep["LineItemID"]
    assert lines[0]["LineAmount"] == 20.0
    assert response.json()["Invoices"][0]["SubTotal"] == 23.0


def test_lines_without_their_ids_are_recreated(api, contact_id):
    invoice = create(api, contact_id)
    old_id = invoice["LineItems"][0]["LineItemID"]
    response = update(
        api,
        invoice["InvoiceID"],
        {"LineItems": [{"Description": "Call-out", "Quantity": 1, "UnitAmount": 65, "AccountCode": "200"}]},
    )
    assert response.json()["Invoices"][0]["LineItems"][0]["LineItemID"] != old_id


def test_update_without_line_items_keeps_them(api, contact_id):
    invoice = create(api, contact_id)
    response = update(api, invoice["InvoiceID"], {"Reference": "PO-77"})
    body = response.json()["Invoices"][0]
    assert body["Reference"] == "PO-77"
    assert body["LineItems"][0]["LineItemID"] == invoice["LineItems"][0]["LineItemID"]


def test_updated_date_moves_on_every_change(api, contact_id):
    invoice = create(api, contact_id)
    first = Invoice.objects.get(id=invoice["InvoiceID"]).updated_at
    update(api, invoice["InvoiceID"], {"Reference": "again"})
    assert Invoice.objects.get(id=invoice["InvoiceID"]).updated_at > first


# ---- status machine ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "target", "ok"),
    [
        ("DRAFT", "SUBMITTED", True),
        ("DRAFT", "AUTHORISED", True),
        ("DRAFT", "DELETED", True),
        ("SUBMITTED", "AUTHORISED", True),
        ("SUBMITTED", "DELETED", True),
        ("AUTHORISED", "VOIDED", True),
        ("AUTHORISED", "DELETED", False),
        ("AUTHORISED", "DRAFT", False),
        ("DRAFT", "PAID", False),
        ("AUTHORISED", "PAID", False),
        ("DRAFT", "VOIDED", False),
    ],
)
def test_status_machine(api, contact_id, start, target, ok):
    invoice = create(api, contact_id, Status=start)
    response = update(api, invoice["InvoiceID"], {"Status": target})
    if ok:
        assert response.status_code == 200, response.text
        assert response.json()["Invoices"][0]["Status"] == target
    else:
        assert response.status_code == 400
        assert messages(response) == ["Invoice not of valid status for modification"]
        assert Invoice.objects.get(id=invoice["InvoiceID"]).status == start


def test_voided_and_deleted_invoices_cannot_change(api, contact_id):
    invoice = create(api, contact_id, Status="AUTHORISED")
    update(api, invoice["InvoiceID"], {"Status": "VOIDED"})
    response = update(api, invoice["InvoiceID"], {"Reference": "late edit"})
    assert messages(response) == ["Invoice not of valid status for modification"]


def test_cannot_void_an_invoice_with_payments(api, contact_id):
    invoice = create(api, contact_id, Status="AUTHORISED")
    api.put(
        api.api + "Payments",
        json={
            "Payments": [
                {
                    "Invoice": {"InvoiceID": invoice["InvoiceID"]},
                    "Account": {"Code": "090"},
                    "Amount": 10,
                    "Date": "2026-11-03",
                }
            ]
        },
    )
    response = update(api, invoice["InvoiceID"], {"Status": "VOIDED"})
    assert "Invoice not of valid status for modification" in messages(response)


def test_lines_of_an_invoice_with_payments_cannot_be_edited(api, contact_id):
    invoice = create(api, contact_id, Status="AUTHORISED")
    api.put(
        api.api + "Payments",
        json={
            "Payments": [
                {
                    "Invoice": {"InvoiceID": invoice["InvoiceID"]},
                    "Account": {"Code": "090"},
                    "Amount": 10,
                    "Date": "2026-11-03",
                }
            ]
        },
    )
    response = update(
        api,
        invoice["InvoiceID"],
        {"LineItems": [{"Description": "x", "Quantity": 1, "UnitAmount": 1, "AccountCode": "200"}]},
    )
    assert messages(response) == ["This document cannot be edited as it has a payment or credit note allocated to it."]
    # A reference can still change.
    assert update(api, invoice["InvoiceID"], {"Reference": "paid in part"}).status_code == 200


# ---- validation texts ----------------------------------------------------------------------------------------


def test_duplicate_sales_invoice_number(api, contact_id):
    create(api, contact_id, InvoiceNumber="INV-9000")
    response = api.put(api.api + "Invoices", json={"Invoices": [invoice_body(contact_id, InvoiceNumber="INV-9000")]})
    assert response.status_code == 400
    body = response.json()
    assert (body["ErrorNumber"], body["Type"], body["Message"]) == (
        10,
        "ValidationException",
        "A validation exception occurred",
    )
    assert messages(response) == ["Invoice # must be unique."]


def test_bills_may_share_a_number(api, contact_id):
    create(api, contact_id, Type="ACCPAY", InvoiceNumber="B-1")
    assert create(api, contact_id, Type="ACCPAY", InvoiceNumber="B-1")["InvoiceNumber"] == "B-1"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            {"Description": "x", "Quantity": 1, "UnitAmount": 10, "AccountCode": "476"},
            "Account code '476' has been removed as it does not match a recognised account.",
        ),
        (
            {"Description": "x", "Quantity": 1, "UnitAmount": 10, "AccountCode": "200", "TaxType": "BOGUS"},
            "Tax rate must be valid.",
        ),
        (
            {"Description": "x", "Quantity": 1, "UnitAmount": 10, "AccountCode": "200", "DiscountRate": 120},
            "The discount rate '120.00' is invalid. Discount must not be greater than the line total.",
        ),
        (
            {"Description": "x", "Quantity": -1, "UnitAmount": 10, "AccountCode": "200"},
            "The document total cannot be negative.",
        ),
    ],
)
def test_line_validation_texts(api, contact_id, line, message):
    response = api.put(api.api + "Invoices", json={"Invoices": [invoice_body(contact_id, LineItems=[line])]})
    assert response.status_code == 400
    assert messages(response) == [message]
    assert not Invoice.objects.exists()


def test_authorising_needs_an_account_on_every_line(api, contact_id):
    response = api.put(
        api.api + "Invoices",
        json={
            "Invoices": [
                invoice_body(
                    contact_id, Status="AUTHORISED", LineItems=[{"Description": "x", "Quantity": 1, "UnitAmount": 5}]
                )
            ]
        },
    )
    assert messages(response) == ["Account must be valid."]


def test_archived_contact_cannot_be_invoiced(api, contact_id):
    api.post(api.api + f"Contacts/{contact_id}", json={"Contacts": [{"ContactStatus": "ARCHIVED"}]})
    response = api.put(api.api + "Invoices", json={"Invoices": [invoice_body(contact_id)]})
    assert messages(response) == ["The contact has been archived and cannot be used on new or edited transactions."]


def test_invoice_needs_a_contact(api):
    body = invoice_body("x")
    del body["Contact"]
    response = api.put(api.api + "Invoices", json={"Invoices": [body]})
    assert messages(response) == ["Contact cannot be empty."]


def test_a_contact_sent_by_name_is_created(api):
    body = invoice_body("x")
    body["Contact"] = {"Name": "New Walk-in"}
    response = api.put(api.api + "Invoices", json={"Invoices": [body]})
    assert response.status_code == 200
    assert Contact.objects.get(name="New Walk-in").is_customer


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("period_lock_date", "The document date cannot be before the period lock date"),
        ("end_of_year_lock_date", "The document date cannot be before the end of year lock date"),
    ],
)
def test_lock_dates(api, org, contact_id, field, message):
    AccountingSettings.objects.filter(org=org).update(**{field: "2026-10-31"})
    response = api.put(api.api + "Invoices", json={"Invoices": [invoice_body(contact_id, Date="2026-10-15")]})
    assert messages(response) == [message]


def test_malformed_json_is_error_14(org):
    # Deliberately not JSON, so not checked against the spec.
    api = api_session(org, check_spec=False)
    response = api.put(api.api + "Invoices", data=b'{"Invoices": [', headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert (response.json()["ErrorNumber"], response.json()["Type"]) == (14, "PostDataInvalidException")


def test_unknown_invoice_is_a_plain_text_404(api):
    response = api.get(api.api + "Invoices/00000000-0000-0000-0000-000000000001")
    assert response.status_code == 404
    assert response.text == "The resource you're looking for cannot be found"
    assert not response.headers["Content-Type"].startswith("application/json")


def test_an_invoice_can_be_read_by_its_number(org, api, contact_id):
    invoice = create(api, contact_id, InvoiceNumber="INV-4242")
    # Xero accepts a number in place of the id; the spec only documents the id, so no spec check here.
    response = api_session(org, check_spec=False).get(api.api + "Invoices/INV-4242")
    assert response.json()["Invoices"][0]["InvoiceID"] == invoice["InvoiceID"]


# ---- batches ---------------------------------------------------------------------------------------------------


def test_summarized_errors_still_save_the_valid_elements(api, contact_id):
    good = invoice_body(contact_id, Reference="good one")
    bad = invoice_body(
        contact_id,
        Reference="bad one",
        LineItems=[{"Description": "x", "Quantity": 1, "UnitAmount": 1, "AccountCode": "999"}],
    )
    response = api.put(api.api + "Invoices", json={"Invoices": [good, bad]})
    assert response.status_code == 400
    elements = response.json()["Elements"]
    assert [e["Reference"] for e in elements] == ["bad one"]
    assert list(Invoice.objects.values_list("reference", flat=True)) == ["good one"]


def test_unsummarized_errors_answer_200_per_element(api, contact_id):
    good = invoice_body(contact_id, Reference="good one")
    bad = invoice_body(contact_id, Reference="bad one", Status="PAID")
    response = api.put(api.api + "Invoices", params={"summarizeErrors": "false"}, json={"Invoices": [good, bad]})
    assert response.status_code == 200
    first, second = response.json()["Invoices"]
    assert first["StatusAttributeString"] == "OK"
    assert first["InvoiceID"]
    assert second["StatusAttributeString"] == "ERROR"
    assert second["HasErrors"] is True
    assert second["ValidationErrors"] == [{"Message": "Invoice not of valid status for modification"}]
    assert Invoice.objects.count() == 1


def test_post_creates_or_updates(api, contact_id):
    created = api.post(api.api + "Invoices", json={"Invoices": [invoice_body(contact_id)]}).json()["Invoices"][0]
    response = api.post(
        api.api + "Invoices", json={"Invoices": [{"InvoiceID": created["InvoiceID"], "Reference": "updated"}]}
    )
    assert response.json()["Invoices"][0]["Reference"] == "updated"
    assert Invoice.objects.count() == 1


# ---- idempotency -----------------------------------------------------------------------------------------------


def test_idempotency_key_replays_the_first_answer(api, contact_id):
    body = {"Invoices": [invoice_body(contact_id)]}
    first = api.put(api.api + "Invoices", json=body, headers={"Idempotency-Key": "create-1"})
    second = api.put(api.api + "Invoices", json=body, headers={"Idempotency-Key": "create-1"})
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
    assert Invoice.objects.count() == 1


def test_idempotency_key_with_another_body_is_refused(api, contact_id):
    api.put(api.api + "Invoices", json={"Invoices": [invoice_body(contact_id)]}, headers={"Idempotency-Key": "k"})
    response = api.put(
        api.api + "Invoices",
        json={"Invoices": [invoice_body(contact_id, Reference="other")]},
        headers={"Idempotency-Key": "k"},
    )
    assert response.status_code == 400
    assert Invoice.objects.count() == 1


def test_idempotency_keys_are_per_organisation(api, contact_id):
    other_org = org_with_defaults("Other Org")
    other = api_session(other_org)
    other_contact = other.put(other.api + "Contacts", json={"Contacts": [{"Name": "Z"}]}).json()["Contacts"][0]
    api.put(api.api + "Invoices", json={"Invoices": [invoice_body(contact_id)]}, headers={"Idempotency-Key": "same"})
    response = other.put(
        other.api + "Invoices",
        json={"Invoices": [invoice_body(other_contact["ContactID"])]},
        headers={"Idempotency-Key": "same"},
    )
    assert response.status_code == 200
    assert Invoice.objects.filter(org=other_org).count() == 1


def test_idempotency_key_longer_than_128_is_refused(api, contact_id):
    response = api.put(
        api.api + "Invoices", json={"Invoices": [invoice_body(contact_id)]}, headers={"Idempotency-Key": "k" * 129}
    )
    assert response.status_code == 400
    assert not Invoice.objects.exists()


# ---- webhooks ----------------------------------------------------------------------------------------------------


def test_creates_and_updates_emit_events(api, contact_id, emitted):
    invoice = create(api, contact_id)
    update(api, invoice["InvoiceID"], {"Reference": "x"})
    assert ("INVOICE", "CREATE", invoice["InvoiceID"]) in emitted
    assert ("INVOICE", "UPDATE", invoice["InvoiceID"]) in emitted


def test_contact_writes_emit_events(api, emitted):
    contact = api.put(api.api + "Contacts", json={"Contacts": [{"Name": "Evt"}]}).json()["Contacts"][0]
    api.post(api.api + f"Contacts/{contact['ContactID']}", json={"Contacts": [{"EmailAddress": "a@b.example"}]})
    assert emitted == [("CONTACT", "CREATE", contact["ContactID"]), ("CONTACT", "UPDATE", contact["ContactID"])]


def test_failed_writes_emit_nothing(api, contact_id, emitted):
    api.put(api.api + "Invoices", json={"Invoices": [invoice_body(contact_id, Status="PAID")]})
    assert emitted == []


def test_a_retry_after_a_lost_response_is_replayed_not_duplicated(org, api, contact_id):
    body = {"Invoices": [invoice_body(contact_id)]}
    fault_set(org, "drop", count=1)
    with pytest.raises(requests.ConnectionError):
        api.put(api.api + "Invoices", json=body, headers={"Idempotency-Key": "lost-answer"})
    assert Invoice.objects.count() == 1  # the write happened; only the answer was lost
    retry = api.put(api.api + "Invoices", json=body, headers={"Idempotency-Key": "lost-answer"})
    assert retry.status_code == 200
    assert retry.json()["Invoices"][0]["InvoiceID"] == str(Invoice.objects.get().id)
    assert Invoice.objects.count() == 1


def test_envelope(api):
    body = api.get(api.api + "Invoices").json()
    assert set(body) >= {"Id", "Status", "ProviderName", "DateTimeUTC", "Invoices", "pagination"}
    assert body["Status"] == "OK"
    assert body["DateTimeUTC"].startswith("/Date(") and body["DateTimeUTC"].endswith("+0000)/")
