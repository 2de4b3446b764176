"""Every hint in the catalogue, end to end: the bad request goes to the sandbox through the add-on's own client,
the answer is recorded as the product records it, and the merchant reads the hint on the Xero add-on page."""

import datetime as dt
import uuid
from decimal import Decimal
from html import unescape
from urllib.parse import parse_qs, urlparse

import pytest
from django.urls import reverse

from integrations import hints
from integrations.errors import sync_error_record
from integrations.models import SyncError
from integrations.services import installation_create
from tests.xero_sync.conftest import consent
from xero_sandbox import testing as sandbox
from xero_sandbox.identity.services import user_remove_from_org
from xero_sandbox.models import AccountingSettings
from xero_sync import oauth
from xero_sync.errors import XeroError, XeroRateLimited, XeroValidationError
from xero_sync.services.api import client_for
from xero_sync.services.connection import ConnectError, authorisation_complete
from xero_sync.views import OAUTH_SESSION_KEY

pytestmark = pytest.mark.django_db

TODAY = dt.date.today()


# --- helpers ---------------------------------------------------------------------------------------------------


def api(connection):
    """The add-on's client for this connection, with back-off sleeps skipped."""
    return client_for(connection, sleep=lambda seconds: None)


def refused(call) -> XeroError:
    with pytest.raises(XeroError) as caught:
        call()
    return caught.value


def record(connection, exc, *, operation: str, record_kind: str, record_label: str = "") -> SyncError:
    """As the product records a failed call: Xero's words (each element's messages for a 400), the status,
    the response excerpt, and when calls resume after a rate limit."""
    if isinstance(exc, XeroValidationError) and exc.messages:
        message = "; ".join(exc.messages)
    else:
        message = exc.detail or exc.message
    return sync_error_record(
        merchant=connection.merchant,
        addon_key="xero",
        operation=operation,
        record_kind=record_kind,
        record_label=record_label,
        # A limit the client saw coming never reached Xero, so it has no status of its own (as in services/sync.py).
        status_code=exc.status_code or (429 if isinstance(exc, XeroRateLimited) else None),
        message=message,
        response_excerpt=exc.response_excerpt,
        hint_params={"resume_at": exc.resume_at} if isinstance(exc, XeroRateLimited) else None,
    )


def assert_page_shows(client, error: SyncError, hint_key: str) -> None:
    """The add-on page lists the error with Xero's words and the hint's title and fix."""
    assert error.hint_key == hint_key, f"{error.message!r} got hint {error.hint_key!r}"
    page = unescape(client.get(reverse("integrations:addon", args=["xero"])).content.decode())
    assert f'data-hint="{hint_key}"' in page
    hint = hints.get(hint_key)
    assert hint.title in page
    assert error.fix in page
    assert error.message in page


def line(**fields) -> dict:
    return {"Description": "Labour", "Quantity": 1, "UnitAmount": 100, "AccountCode": "200", **fields}


def new_invoice(client, *, number: str | None = None, status: str = "AUTHORISED", **fields) -> dict:
    contact_id = client.get("Contacts", params={"page": 1})["Contacts"][0]["ContactID"]
    body = {
        "Type": "ACCREC",
        "Contact": {"ContactID": contact_id},
        "Date": TODAY.isoformat(),
        "DueDate": (TODAY + dt.timedelta(days=30)).isoformat(),
        "Status": status,
        "LineItems": [line()],
        **({"InvoiceNumber": number} if number else {}),
        **fields,
    }
    return client.put("Invoices", body={"Invoices": [body]}, summarize_errors=True)["Invoices"][0]


def pay(client, invoice: dict, amount) -> dict:
    body = {
        "Invoice": {"InvoiceID": invoice["InvoiceID"]},
        "Account": {"Code": "090"},
        "Date": TODAY.isoformat(),
        "Amount": str(amount),
    }
    return client.put("Payments", body={"Payments": [body]}, summarize_errors=True)


# --- invoices --------------------------------------------------------------------------------------------------


def test_duplicate_invoice_number(admin_client, connection):
    client = api(connection)
    new_invoice(client, number="INV-E2E-1")
    exc = refused(lambda: new_invoice(client, number="INV-E2E-1"))
    assert "Invoice # must be unique." in exc.messages
    error = record(connection, exc, operation="push", record_kind="invoice", record_label="INV-E2E-1")
    assert_page_shows(admin_client, error, "invoice_number_not_unique")


def test_invalid_discount_rate_on_a_line(admin_client, connection):
    client = api(connection)
    exc = refused(lambda: new_invoice(client, LineItems=[line(DiscountRate=150)]))
    assert any("discount rate" in m for m in exc.messages)
    error = record(connection, exc, operation="push", record_kind="invoice", record_label="INV-E2E-2")
    assert_page_shows(admin_client, error, "negative_line")


def test_negative_line_making_the_total_negative(admin_client, connection):
    client = api(connection)
    exc = refused(lambda: new_invoice(client, LineItems=[line(UnitAmount=-40)]))
    assert exc.messages == ["The document total cannot be negative."]
    error = record(connection, exc, operation="push", record_kind="invoice", record_label="INV-E2E-3")
    assert_page_shows(admin_client, error, "negative_line")


def test_editing_an_invoice_with_a_payment(admin_client, connection):
    client = api(connection)
    invoice = new_invoice(client)
    pay(client, invoice, "10.00")
    edit = {"InvoiceID": invoice["InvoiceID"], "LineItems": [line(), line(Description="Late fee", UnitAmount=15)]}
    exc = refused(
        lambda: client.post(f"Invoices/{invoice['InvoiceID']}", body={"Invoices": [edit]}, summarize_errors=True)
    )
    error = record(connection, exc, operation="fee", record_kind="invoice", record_label=invoice["InvoiceNumber"])
    assert_page_shows(admin_client, error, "document_has_allocation")


def test_a_status_change_xero_refuses(admin_client, connection):
    client = api(connection)
    invoice = new_invoice(client)
    pay(client, invoice, "10.00")
    # Voiding is only allowed for authorised invoices without payments.
    body = {"Invoices": [{"InvoiceID": invoice["InvoiceID"], "Status": "VOIDED"}]}
    exc = refused(lambda: client.post(f"Invoices/{invoice['InvoiceID']}", body=body, summarize_errors=True))
    error = record(connection, exc, operation="push", record_kind="invoice", record_label=invoice["InvoiceNumber"])
    assert_page_shows(admin_client, error, "invalid_status")


def test_a_date_in_a_locked_period(admin_client, connection, xero_org):
    AccountingSettings.objects.update_or_create(
        org=xero_org, defaults={"period_lock_date": TODAY - dt.timedelta(days=10)}
    )
    client = api(connection)
    exc = refused(lambda: new_invoice(client, Date=(TODAY - dt.timedelta(days=20)).isoformat()))
    error = record(connection, exc, operation="push", record_kind="invoice", record_label="INV-E2E-4")
    assert_page_shows(admin_client, error, "period_locked")


def test_an_unknown_account_code(admin_client, connection):
    client = api(connection)
    exc = refused(lambda: new_invoice(client, LineItems=[line(AccountCode="476")]))
    assert "Account code '476' has been removed as it does not match a recognised account." in exc.messages
    error = record(connection, exc, operation="push", record_kind="invoice", record_label="INV-E2E-5")
    assert_page_shows(admin_client, error, "account_invalid")


def test_a_line_without_an_account_on_an_approved_invoice(admin_client, connection):
    client = api(connection)
    exc = refused(lambda: new_invoice(client, LineItems=[{"Description": "Labour", "Quantity": 1, "UnitAmount": 9}]))
    assert exc.messages == ["Account must be valid."]
    error = record(connection, exc, operation="push", record_kind="invoice", record_label="INV-E2E-6")
    assert_page_shows(admin_client, error, "account_invalid")


def test_an_unknown_tax_type(admin_client, connection):
    client = api(connection)
    exc = refused(lambda: new_invoice(client, LineItems=[line(TaxType="NOSUCHTAX")]))
    assert exc.messages == ["Tax rate must be valid."]
    error = record(connection, exc, operation="push", record_kind="invoice", record_label="INV-E2E-7")
    assert_page_shows(admin_client, error, "tax_rate_invalid")


def test_an_item_code_xero_already_has(admin_client, connection):
    client = api(connection)
    body = {"Items": [{"Code": "LABOUR-HR", "Name": "Labour again"}]}
    exc = refused(lambda: client.put("Items", body=body, summarize_errors=True))
    error = record(connection, exc, operation="push", record_kind="item", record_label="LABOUR-HR")
    assert_page_shows(admin_client, error, "item_code_exists")


def test_a_record_deleted_in_xero(admin_client, connection):
    client = api(connection)
    missing = uuid.uuid4()
    exc = refused(lambda: client.get(f"Invoices/{missing}"))
    assert exc.status_code == 404
    error = record(connection, exc, operation="pull", record_kind="invoice", record_label=str(missing))
    assert_page_shows(admin_client, error, "not_found")


# --- contacts --------------------------------------------------------------------------------------------------


def test_a_duplicate_contact_name(admin_client, connection):
    client = api(connection)
    name = client.get("Contacts", params={"page": 1})["Contacts"][0]["Name"]
    exc = refused(lambda: client.put("Contacts", body={"Contacts": [{"Name": name.upper()}]}, summarize_errors=True))
    error = record(connection, exc, operation="push", record_kind="customer", record_label=name)
    assert_page_shows(admin_client, error, "duplicate_contact_name")


def test_an_invoice_for_an_archived_contact(admin_client, connection):
    client = api(connection)
    contact = client.get("Contacts", params={"page": 1})["Contacts"][0]
    archive = {"Contacts": [{"ContactID": contact["ContactID"], "ContactStatus": "ARCHIVED"}]}
    client.post(f"Contacts/{contact['ContactID']}", body=archive)
    exc = refused(lambda: new_invoice(client, Contact={"ContactID": contact["ContactID"]}))
    error = record(connection, exc, operation="push", record_kind="invoice", record_label="INV-E2E-8")
    assert_page_shows(admin_client, error, "contact_archived")


# --- payments --------------------------------------------------------------------------------------------------


def test_a_payment_over_the_amount_due(admin_client, connection):
    client = api(connection)
    invoice = new_invoice(client)
    exc = refused(lambda: pay(client, invoice, Decimal(invoice["AmountDue"]) + 1))
    error = record(connection, exc, operation="payment", record_kind="payment", record_label=invoice["InvoiceNumber"])
    assert_page_shows(admin_client, error, "payment_exceeds_outstanding")


def test_a_payment_against_a_draft(admin_client, connection):
    client = api(connection)
    invoice = new_invoice(client, status="DRAFT")
    exc = refused(lambda: pay(client, invoice, "5.00"))
    error = record(connection, exc, operation="payment", record_kind="payment", record_label=invoice["InvoiceNumber"])
    assert_page_shows(admin_client, error, "payment_not_authorised")


def test_a_payment_that_is_not_positive(admin_client, connection):
    client = api(connection)
    invoice = new_invoice(client)
    exc = refused(lambda: pay(client, invoice, "-5.00"))
    error = record(connection, exc, operation="payment", record_kind="payment", record_label=invoice["InvoiceNumber"])
    assert_page_shows(admin_client, error, "payment_not_positive")


@pytest.mark.skip(
    reason="not producible: the sandbox has no batch payments (no /BatchPayments endpoint), so Xero's "
    "'Payments within a batch cannot be deleted.' cannot be provoked; the hint is covered by the unit test only"
)
def test_deleting_a_payment_within_a_batch():
    """Placeholder so the gap stays visible in every test run."""


# --- the connection --------------------------------------------------------------------------------------------


def test_the_connecting_user_removed_from_the_organisation(admin_client, connection, xero_org, sandbox_owner):
    user_remove_from_org(user=sandbox_owner, org=xero_org)
    exc = refused(lambda: api(connection).get("Organisation"))
    assert exc.status_code == 403
    error = record(connection, exc, operation="token", record_kind="connection", record_label=connection.tenant_name)
    assert_page_shows(admin_client, error, "authentication_unsuccessful")


def test_a_tenant_the_token_does_not_cover_is_refused_like_a_removed_user(admin_client, connection):
    """Xero (and the sandbox) answer a wrong tenant with 403 AuthenticationUnsuccessful, not a message of its own."""
    connection.tenant_id = str(uuid.uuid4())
    exc = refused(lambda: api(connection).get("Organisation"))
    assert (exc.status_code, exc.detail) == (403, "AuthenticationUnsuccessful")
    error = record(connection, exc, operation="pull", record_kind="connection", record_label=connection.tenant_name)
    assert_page_shows(admin_client, error, "authentication_unsuccessful")


@pytest.mark.skip(
    reason="not producible: Xero and the sandbox answer a wrong organisation with 403 AuthenticationUnsuccessful "
    "(see the test above); the wrong_organisation hint only fits a message the portal writes itself"
)
def test_wrong_organisation():
    """Placeholder so the gap stays visible in every test run."""


def test_an_expired_or_revoked_refresh_token(admin_client, connection):
    with pytest.raises(oauth.OAuthError) as caught:
        oauth.refresh(refresh_token="not-a-refresh-token-xero-issued")
    exc = caught.value
    assert exc.error == "invalid_grant"
    error = sync_error_record(
        merchant=connection.merchant,
        addon_key="xero",
        operation="token",
        record_kind="connection",
        record_label=connection.tenant_name,
        status_code=exc.status_code,
        message=str(exc),
    )
    assert_page_shows(admin_client, error, "reconnect_required")


def test_wrong_app_credentials(admin_client, connection, settings):
    settings.XERO_CLIENT_SECRET = "not-the-secret-xero-has"
    with pytest.raises(oauth.OAuthError) as caught:
        oauth.refresh(refresh_token=connection.refresh_token)
    exc = caught.value
    assert exc.error == "invalid_client"
    error = sync_error_record(
        merchant=connection.merchant,
        addon_key="xero",
        operation="token",
        record_kind="connection",
        record_label=connection.tenant_name,
        status_code=exc.status_code,
        message=str(exc),
    )
    assert_page_shows(admin_client, error, "invalid_client")


def test_consent_without_offline_access(admin_client, admin_user, merchant, xero_wire, sandbox_owner, settings):
    """Xero grants what the consent asked for; without offline_access there is no refresh token to keep."""
    settings.XERO_SCOPES = "openid profile email accounting.settings accounting.contacts accounting.transactions"
    installation_create(merchant=merchant, addon_key="xero", user=None)
    start = admin_client.post(reverse("xero_sync:connect"))
    verifier = admin_client.session[OAUTH_SESSION_KEY]["verifier"]
    callback = consent(admin_client, start["Location"])
    code = parse_qs(urlparse(callback).query)["code"][0]
    with pytest.raises(ConnectError) as caught:
        authorisation_complete(merchant=merchant, user=admin_user, code=code, code_verifier=verifier)
    assert "offline_access" in str(caught.value)
    error = sync_error_record(
        merchant=merchant, addon_key="xero", operation="token", record_kind="connection", message=str(caught.value)
    )
    # Connecting failed, so there is no connection row: the add-on page shows the error log only when one exists.
    assert error.hint_key == "missing_scope"
    assert "reconnect Xero and allow all the requested permissions" in error.fix


# --- Xero itself -----------------------------------------------------------------------------------------------


def test_xero_offline(admin_client, connection, xero_org):
    sandbox.fault_set(xero_org, "fail", status=503, count=10)
    exc = refused(lambda: api(connection).get("Organisation"))
    sandbox.fault_clear(xero_org)
    assert exc.status_code == 503
    error = record(connection, exc, operation="pull", record_kind="connection", record_label=connection.tenant_name)
    assert_page_shows(admin_client, error, "xero_unavailable")


def test_rate_limited_says_when_syncing_resumes(admin_client, connection, xero_org):
    sandbox.fault_set(xero_org, "rate_limit", count=50)
    exc = refused(lambda: api(connection).get("Organisation"))
    sandbox.fault_clear(xero_org)
    assert isinstance(exc, XeroRateLimited)
    error = record(connection, exc, operation="pull", record_kind="connection", record_label=connection.tenant_name)
    assert_page_shows(admin_client, error, "rate_limited")
    resume = exc.resume_at.astimezone(dt.UTC)
    assert f"resumes automatically at {resume:%H:%M} UTC" in error.fix


# --- the catalogue is covered ----------------------------------------------------------------------------------


NOT_PRODUCIBLE = {"payment_in_batch", "wrong_organisation"}


def test_every_catalogue_entry_has_an_end_to_end_case_or_a_named_gap():
    produced = {
        "invoice_number_not_unique",
        "negative_line",
        "document_has_allocation",
        "invalid_status",
        "period_locked",
        "account_invalid",
        "tax_rate_invalid",
        "item_code_exists",
        "duplicate_contact_name",
        "contact_archived",
        "payment_exceeds_outstanding",
        "payment_not_authorised",
        "payment_not_positive",
        "invalid_client",
        "missing_scope",
        "reconnect_required",
        "authentication_unsuccessful",
        "rate_limited",
        "not_found",
        "xero_unavailable",
    }
    assert produced | NOT_PRODUCIBLE == {hint.key for hint in hints.CATALOGUE}
