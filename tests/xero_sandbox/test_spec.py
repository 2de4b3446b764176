"""Every Accounting API endpoint of the sandbox answers in the official spec's shapes (xero_accounting.yaml)."""

import json

import pytest
import requests

from xero_sandbox.api.testing import API_BASE, SpecViolation, api_session, spec_check
from xero_sandbox.seed import seed_organisation

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    return seed_organisation("Spec Org", contacts=25, invoices=120, seed=3)


@pytest.fixture
def api(org):
    return api_session(org)


def fake_response(method, path, status, body):
    request = requests.Request(
        method, API_BASE + path, headers={"xero-tenant-id": "6f8a0d47-7b54-4fb0-9d0e-8d1e0b2bd6a3"}
    ).prepare()
    response = requests.Response()
    response.status_code = status
    response._content = json.dumps(body).encode()
    response.headers["Content-Type"] = "application/json"
    response.request = request
    response.url = request.url
    return response


@pytest.mark.parametrize(
    "invoice",
    [{"Status": "NOT-A-STATUS"}, {"Type": "ACCREC", "Total": "12.00"}, {"LineItems": {"not": "a list"}}],
)
def test_the_check_rejects_shapes_the_spec_does_not_allow(invoice):
    with pytest.raises(SpecViolation):
        spec_check(fake_response("GET", "Invoices", 200, {"Invoices": [invoice]}))


def test_the_check_accepts_a_spec_shape():
    body = {"Invoices": [{"Type": "ACCREC", "Status": "PAID", "Total": 12.5, "LineItems": []}]}
    spec_check(fake_response("GET", "Invoices", 200, body))


def test_every_read_of_seeded_data_is_in_spec(api, org):
    for name in ("Organisation", "Accounts", "TaxRates", "Items", "ContactGroups"):
        assert api.get(api.api + name).status_code == 200
    invoices = api.get(api.api + "Invoices", params={"page": 1, "pageSize": 1000}).json()["Invoices"]
    assert {i["Status"] for i in invoices} >= {"DRAFT", "AUTHORISED", "PAID", "VOIDED"}
    api.get(api.api + "Invoices", params={"page": 1, "summaryOnly": "true"})
    api.get(api.api + f"Invoices/{invoices[0]['InvoiceID']}")
    contacts = api.get(api.api + "Contacts", params={"page": 1, "includeArchived": "true"}).json()["Contacts"]
    api.get(api.api + f"Contacts/{contacts[0]['ContactID']}")
    payments = api.get(api.api + "Payments", params={"page": 1}).json()["Payments"]
    api.get(api.api + f"Payments/{payments[0]['PaymentID']}")
    account = api.get(api.api + "Accounts").json()["Accounts"][0]
    api.get(api.api + f"Accounts/{account['AccountID']}")
    item = api.get(api.api + "Items").json()["Items"][0]
    api.get(api.api + f"Items/{item['ItemID']}")
    group = api.get(api.api + "ContactGroups").json()["ContactGroups"][0]
    api.get(api.api + f"ContactGroups/{group['ContactGroupID']}")
    api.get(api.api + "Reports/ProfitAndLoss", params={"fromDate": "2025-01-01", "toDate": "2026-12-31"})
    api.get(api.api + "Reports/AgedReceivablesByContact", params={"contactId": invoices[0]["Contact"]["ContactID"]})


def test_every_write_and_its_errors_are_in_spec(api):
    contact = api.put(api.api + "Contacts", json={"Contacts": [{"Name": "Spec Contact"}]}).json()["Contacts"][0]
    api.post(api.api + "Contacts", json={"Contacts": [{"ContactID": contact["ContactID"], "FirstName": "Ann"}]})
    api.post(api.api + f"Contacts/{contact['ContactID']}", json={"Contacts": [{"LastName": "Lee"}]})
    assert api.put(api.api + "Contacts", json={"Contacts": [{"Name": "Spec Contact"}]}).status_code == 400
    api.put(api.api + "Contacts", params={"summarizeErrors": "false"}, json={"Contacts": [{"Name": "Spec Contact"}]})

    group = api.put(api.api + "ContactGroups", json={"ContactGroups": [{"Name": "Spec Group"}]}).json()
    group_id = group["ContactGroups"][0]["ContactGroupID"]
    api.post(api.api + f"ContactGroups/{group_id}", json={"ContactGroups": [{"Name": "Spec Group 2"}]})
    api.put(api.api + f"ContactGroups/{group_id}/Contacts", json={"Contacts": [{"ContactID": contact["ContactID"]}]})
    api.delete(api.api + f"ContactGroups/{group_id}/Contacts/{contact['ContactID']}")
    api.delete(api.api + f"ContactGroups/{group_id}/Contacts")

    item = api.put(api.api + "Items", json={"Items": [{"Code": "SPEC-1", "Name": "Spec item"}]}).json()["Items"][0]
    api.post(api.api + f"Items/{item['ItemID']}", json={"Items": [{"Code": "SPEC-1", "Name": "Renamed"}]})
    assert api.put(api.api + "Items", json={"Items": [{"Code": "SPEC-1"}]}).status_code == 400

    line = {"Description": "Spec", "Quantity": 2, "UnitAmount": 12.5, "AccountCode": "200", "DiscountRate": 10}
    invoice = {
        "Type": "ACCREC",
        "Contact": {"ContactID": contact["ContactID"]},
        "Date": "2026-11-02",
        "DueDate": "2026-11-30",
        "Status": "AUTHORISED",
        "LineItems": [line],
    }
    created = api.put(api.api + "Invoices", json={"Invoices": [invoice]}).json()["Invoices"][0]
    api.post(api.api + "Invoices", json={"Invoices": [{"InvoiceID": created["InvoiceID"], "Reference": "r"}]})
    api.post(api.api + f"Invoices/{created['InvoiceID']}", json={"Invoices": [{"Reference": "r2"}]})
    bad = dict(invoice, InvoiceNumber=created["InvoiceNumber"])
    assert api.put(api.api + "Invoices", json={"Invoices": [bad]}).status_code == 400
    api.put(api.api + "Invoices", params={"summarizeErrors": "false"}, json={"Invoices": [bad, invoice]})

    payment = {
        "Invoice": {"InvoiceID": created["InvoiceID"]},
        "Account": {"Code": "090"},
        "Amount": 5,
        "Date": "2026-11-03",
    }
    paid = api.put(api.api + "Payments", json={"Payments": [payment]}).json()["Payments"][0]
    assert api.put(api.api + "Payments", json={"Payments": [dict(payment, Amount=-1)]}).status_code == 400
    api.post(api.api + f"Payments/{paid['PaymentID']}", json={"Status": "DELETED"})


def test_malformed_json_answer_is_the_spec_error_shape(org):
    from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

    from xero_sandbox.api.testing import accounting_openapi

    raw = api_session(org, check_spec=False)
    response = raw.put(raw.api + "Invoices", data=b"{oops", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    shaped = requests.Request(
        "PUT", raw.api + "Invoices", json={"Invoices": []}, headers={"xero-tenant-id": str(org.tenant_id)}
    ).prepare()
    accounting_openapi().validate_response(RequestsOpenAPIRequest(shaped), RequestsOpenAPIResponse(response))
