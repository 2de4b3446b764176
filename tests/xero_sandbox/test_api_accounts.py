"""PUT /Accounts: the sandbox creates an account as Xero does (one element per request), refusing a code or name
already in the chart, an unknown type or tax rate, and replays a retried request with the same Idempotency-Key."""

import json

import pytest

from xero_sandbox import testing as sandbox
from xero_sandbox.models import Account
from xero_sandbox.seed import org_defaults_create

pytestmark = pytest.mark.django_db
API = "http://sandbox.test/api.xro/2.0"


@pytest.fixture
def api():
    org = sandbox.sandbox_org("Accounts Org")
    org_defaults_create(org)
    token = sandbox.sandbox_token(org)
    session = sandbox.wire_session()
    session.headers.update({"Authorization": f"Bearer {token['access_token']}", "xero-tenant-id": str(org.tenant_id)})
    return org, session


def test_create_account(api):
    org, session = api
    response = session.put(f"{API}/Accounts", json={"Code": "275", "Name": "Finance Charges", "Type": "REVENUE"})
    assert response.status_code == 200, response.text
    [account] = response.json()["Accounts"]
    assert (account["Code"], account["Name"], account["Type"], account["Class"]) == (
        "275",
        "Finance Charges",
        "REVENUE",
        "REVENUE",
    )
    assert Account.objects.filter(org=org, code="275").exists()
    listed = session.get(f"{API}/Accounts").json()["Accounts"]
    assert "275" in {a["Code"] for a in listed}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"Code": "200", "Name": "Another Sales", "Type": "REVENUE"}, "Please enter a unique Code."),
        ({"Code": "299", "Name": "Sales", "Type": "REVENUE"}, "Please enter a unique Name."),
        ({"Code": "298", "Name": "Odd", "Type": "NOPE"}, "Account Type 'NOPE' is not valid."),
        ({"Code": "297", "Name": "Taxed", "Type": "REVENUE", "TaxType": "MADEUP"}, "Tax rate must be valid."),
    ],
)
def test_refusals_carry_xeros_words(api, body, message):
    org, session = api
    before = Account.objects.filter(org=org).count()
    response = session.put(f"{API}/Accounts", json=body)
    assert response.status_code == 400
    messages = [m["Message"] for e in response.json()["Elements"] for m in e["ValidationErrors"]]
    assert message in messages
    assert Account.objects.filter(org=org).count() == before


def test_same_idempotency_key_replays(api):
    org, session = api
    body = {"Code": "276", "Name": "Late Charges", "Type": "OTHERINCOME"}
    first = session.put(
        f"{API}/Accounts",
        data=json.dumps(body),
        headers={"Idempotency-Key": "acct-276", "Content-Type": "application/json"},
    )
    again = session.put(
        f"{API}/Accounts",
        data=json.dumps(body),
        headers={"Idempotency-Key": "acct-276", "Content-Type": "application/json"},
    )
    assert first.status_code == again.status_code == 200
    assert first.json()["Accounts"][0]["AccountID"] == again.json()["Accounts"][0]["AccountID"]
    assert Account.objects.filter(org=org, code="276").count() == 1
