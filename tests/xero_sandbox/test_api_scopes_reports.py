"""Sandbox Accounting API: scopes per endpoint (broad and granular names) and the two reports."""

import pytest

from xero_sandbox.api.testing import api_session, org_with_defaults

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    return org_with_defaults("Scope Org")


@pytest.fixture
def api(org):
    return api_session(org)


def contact_and_invoices(api):
    contact = api.put(api.api + "Contacts", json={"Contacts": [{"Name": "Aged Co"}]}).json()["Contacts"][0]
    invoices = [
        {
            "Type": "ACCREC",
            "Contact": {"ContactID": contact["ContactID"]},
            "Date": "2026-11-03",
            "DueDate": "2026-11-10",
            "Status": "AUTHORISED",
            "LineAmountTypes": "Exclusive",
            "LineItems": [{"Description": "Work", "Quantity": 1, "UnitAmount": 200, "AccountCode": "200"}],
        },
        {
            "Type": "ACCREC",
            "Contact": {"ContactID": contact["ContactID"]},
            "Date": "2026-11-04",
            "DueDate": "2026-11-20",
            "Status": "AUTHORISED",
            "LineAmountTypes": "Inclusive",
            "LineItems": [{"Description": "Extra", "Quantity": 1, "UnitAmount": 108.88, "AccountCode": "260"}],
        },
        {
            "Type": "ACCPAY",
            "Contact": {"ContactID": contact["ContactID"]},
            "Date": "2026-11-05",
            "DueDate": "2026-11-20",
            "Status": "AUTHORISED",
            "LineAmountTypes": "NoTax",
            "LineItems": [{"Description": "Rent", "Quantity": 1, "UnitAmount": 50, "AccountCode": "469"}],
        },
        {
            "Type": "ACCREC",
            "Contact": {"ContactID": contact["ContactID"]},
            "Date": "2026-11-06",
            "Status": "DRAFT",
            "LineItems": [{"Description": "Not posted", "Quantity": 1, "UnitAmount": 999, "AccountCode": "200"}],
        },
    ]
    created = api.put(api.api + "Invoices", json={"Invoices": invoices}).json()["Invoices"]
    return contact, created


def cells(row):
    return [c["Value"] for c in row["Cells"]]


# ---- reports -------------------------------------------------------------------------------------------------


def test_profit_and_loss(api):
    contact_and_invoices(api)
    body = api.get(api.api + "Reports/ProfitAndLoss", params={"fromDate": "2026-11-01", "toDate": "2026-11-30"}).json()
    report = body["Reports"][0]
    assert report["ReportID"] == "ProfitAndLoss"
    sections = {row.get("Title"): row for row in report["Rows"] if row["RowType"] == "Section" and row.get("Title")}
    income = [cells(r) for r in sections["Income"]["Rows"]]
    assert income == [["Sales", "200.00"], ["Other Revenue", "100.00"], ["Total Income", "300.00"]]
    expenses = [cells(r) for r in sections["Less Operating Expenses"]["Rows"]]
    assert expenses == [["Rent", "50.00"], ["Total Operating Expenses", "50.00"]]
    net = [cells(r) for row in report["Rows"] for r in row.get("Rows", []) if r["Cells"][0]["Value"] == "Net Profit"]
    assert net == [["Net Profit", "250.00"]]


def test_aged_receivables_by_contact(api):
    contact, created = contact_and_invoices(api)
    api.put(
        api.api + "Payments",
        json={
            "Payments": [
                {
                    "Invoice": {"InvoiceID": created[0]["InvoiceID"]},
                    "Account": {"Code": "090"},
                    "Amount": 17.75,
                    "Date": "2026-11-07",
                }
            ]
        },
    )
    body = api.get(
        api.api + "Reports/AgedReceivablesByContact", params={"contactId": contact["ContactID"], "date": "2026-11-30"}
    ).json()
    report = body["Reports"][0]
    section = next(row for row in report["Rows"] if row["RowType"] == "Section")
    rows = [cells(r) for r in section["Rows"]]
    assert rows[0][1] == created[0]["InvoiceNumber"]
    assert rows[0][4:] == ["217.75", "17.75", "0.00", "200.00"]
    assert rows[1][4:] == ["108.88", "0.00", "0.00", "108.88"]
    assert rows[-1] == ["Total", "", "", "", "326.63", "17.75", "0.00", "308.88"]


# ---- scopes ------------------------------------------------------------------------------------------------------

BASE = "openid offline_access "


@pytest.mark.parametrize(
    ("scopes", "method", "path", "allowed"),
    [
        ("accounting.transactions.read", "GET", "Invoices", True),
        ("accounting.invoices.read", "GET", "Invoices", True),
        ("accounting.invoices.read", "PUT", "Invoices", False),
        ("accounting.payments", "GET", "Invoices", False),
        ("accounting.payments.read", "GET", "Payments", True),
        ("accounting.invoices", "GET", "Payments", False),
        ("accounting.contacts.read", "GET", "Contacts", True),
        ("accounting.contacts.read", "PUT", "Contacts", False),
        ("accounting.transactions", "GET", "Contacts", False),
        ("accounting.settings.read", "GET", "Accounts", True),
        ("accounting.settings.read", "GET", "TaxRates", True),
        ("accounting.settings.read", "GET", "Organisation", True),
        ("accounting.contacts", "GET", "Accounts", False),
        ("accounting.invoices.read", "GET", "Items", True),
        ("accounting.settings.read", "GET", "Items", True),
        ("accounting.reports.read", "GET", "Reports/ProfitAndLoss", True),
        ("accounting.reports.profitandloss.read", "GET", "Reports/ProfitAndLoss", True),
        ("accounting.reports.aged.read", "GET", "Reports/ProfitAndLoss", False),
        ("accounting.transactions", "GET", "Reports/ProfitAndLoss", False),
    ],
)
def test_scopes_per_endpoint(org, scopes, method, path, allowed):
    api = api_session(org, scopes=BASE + scopes, check_spec=False)
    body = {"Invoices": []} if path == "Invoices" else {"Contacts": []}
    response = api.request(method, api.api + path, json=body if method == "PUT" else None)
    if allowed:
        assert response.status_code == 200, response.text
    else:
        assert response.status_code == 403
        assert response.json()["Detail"] == "AuthenticationUnsuccessful"


def test_aged_report_scope(org):
    api = api_session(org, scopes=BASE + "accounting.reports.aged.read accounting.contacts", check_spec=False)
    contact = api.put(api.api + "Contacts", json={"Contacts": [{"Name": "Scoped"}]}).json()["Contacts"][0]
    response = api.get(api.api + "Reports/AgedReceivablesByContact", params={"contactId": contact["ContactID"]})
    assert response.status_code == 200
    assert api.get(api.api + "Reports/ProfitAndLoss").status_code == 403
