"""Connect to Xero: state and PKCE, the callback's failure cases, organisation choice, one organisation per merchant,
locked refresh, needs-reconnect, disconnect. Xero's identity endpoints are stubbed with `responses` here; the
same flow runs against the sandbox in test_connect_sandbox.py and in the browser."""

import base64
import datetime as dt
import hashlib
import json
import time
from urllib.parse import parse_qs, urlparse

import jwt
import pytest
import responses
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from integrations.models import Installation, InstallationState
from integrations.services import installation_create
from tests.factories import MembershipFactory, MerchantFactory, UserFactory
from xero_sync.models import ConnectionStatus, XeroConnection, XeroPendingAuthorisation, XeroPendingRevocation
from xero_sync.services import connection as svc

pytestmark = pytest.mark.django_db

IDENTITY = "https://identity.test"
CONNECTIONS = "https://api.test/connections"
XERO_SETTINGS = {
    "XERO_CLIENT_ID": "client-abc",
    "XERO_CLIENT_SECRET": "secret-xyz",
    "XERO_REDIRECT_URI": "http://testserver/addons/xero/callback/",
    "XERO_LOGIN_URL": "https://login.test/identity",
    "XERO_IDENTITY_URL": IDENTITY,
    "XERO_CONNECTIONS_URL": CONNECTIONS,
    "XERO_API_URL": "https://api.test/api.xro/2.0",
}
BROAD = "openid profile email offline_access accounting.settings accounting.contacts accounting.transactions"


@pytest.fixture(autouse=True)
def xero_settings(settings):
    for key, value in XERO_SETTINGS.items():
        setattr(settings, key, value)


def access_token(auth_event="evt-1", scope=BROAD, user_id="xu-1"):
    claims = {"authentication_event_id": auth_event, "xero_userid": user_id, "scope": scope.split(), "exp": 0}
    return jwt.encode(claims, "not-checked-test-signing-key-0123456789", algorithm="HS256")


def token_body(auth_event="evt-1", scope=BROAD, refresh="rt-1"):
    id_token = jwt.encode(
        {"given_name": "Olive", "family_name": "Owner", "email": "olive@org.example"},
        "not-checked-test-signing-key-0123456789",
    )
    return {
        "access_token": access_token(auth_event, scope),
        "refresh_token": refresh,
        "expires_in": 1800,
        "token_type": "Bearer",
        "scope": scope,
        "id_token": id_token,
    }


def tenants(*names, auth_event="evt-1"):
    return [
        {
            "id": f"conn-{n}",
            "authEventId": auth_event,
            "tenantId": f"tenant-{n}",
            "tenantType": "ORGANISATION",
            "tenantName": name,
            "createdDateUtc": "2026-11-23T10:00:00.0000000",
            "updatedDateUtc": "2026-11-23T10:00:00.0000000",
        }
        for n, name in enumerate(names, start=1)
    ]


API = XERO_SETTINGS["XERO_API_URL"]
ORGANISATION = {"Organisations": [{"Name": "Olive Plumbing", "ShortCode": "!abc12", "BaseCurrency": "USD"}]}
ACCOUNTS = {
    "Accounts": [
        {"AccountID": "acc-1", "Code": "090", "Name": "Business Bank", "Type": "BANK", "Status": "ACTIVE"},
        {"AccountID": "acc-2", "Code": "200", "Name": "Sales", "Type": "REVENUE", "Status": "ACTIVE"},
    ]
}


def xero_api_stubs():
    """What the add-on page reads when it first opens on a new connection."""
    responses.get(f"{API}/Organisation", json=ORGANISATION)
    responses.get(f"{API}/Accounts", json=ACCOUNTS)


@pytest.fixture
def installed(merchant):
    installation_create(merchant=merchant, addon_key="xero", user=None)
    return merchant


def start(client):
    """Click Connect to Xero; return the authorize URL's query."""
    response = client.post(reverse("xero_sync:connect"))
    assert response.status_code == 302
    url = urlparse(response["Location"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == "https://login.test/identity/connect/authorize"
    return {k: v[0] for k, v in parse_qs(url.query).items()}


def finish(client, query, code="code-1"):
    return client.get(reverse("xero_sync:callback"), {"code": code, "state": query["state"]}, follow=True)


def page_text(response):
    return response.content.decode()


@responses.activate
def test_authorize_request_has_state_pkce_and_scopes(admin_client, installed):
    query = start(admin_client)
    assert query["response_type"] == "code"
    assert query["client_id"] == "client-abc"
    assert query["redirect_uri"] == XERO_SETTINGS["XERO_REDIRECT_URI"]
    assert "offline_access" in query["scope"].split()
    assert query["code_challenge_method"] == "S256"
    assert len(query["state"]) >= 32
    verifier = admin_client.session["xero_oauth"]["verifier"]
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert query["code_challenge"] == expected


@responses.activate
def test_happy_path_connects_single_organisation(admin_client, admin_user, installed):
    token_call = responses.post(f"{IDENTITY}/connect/token", json=token_body())
    responses.get(CONNECTIONS, json=tenants("Olive Plumbing"))
    xero_api_stubs()
    query = start(admin_client)
    verifier = admin_client.session["xero_oauth"]["verifier"]
    response = finish(admin_client, query)
    assert "Connected to Xero organisation “Olive Plumbing”" in page_text(response)

    sent = parse_qs(token_call.calls[0].request.body)
    assert sent["grant_type"] == ["authorization_code"]
    assert sent["code"] == ["code-1"]
    assert sent["code_verifier"] == [verifier]
    auth = token_call.calls[0].request.headers["Authorization"]
    assert auth == "Basic " + base64.b64encode(b"client-abc:secret-xyz").decode()
    assert responses.calls[1].request.params == {"authEventId": "evt-1"}

    connection = XeroConnection.objects.get(merchant=installed)
    assert connection.status == ConnectionStatus.CONNECTED
    assert connection.tenant_id == "tenant-1"
    assert connection.connection_id == "conn-1"
    assert connection.xero_user_name == "Olive Owner"
    assert connection.connected_by == admin_user
    assert connection.refresh_token == "rt-1"
    assert Installation.objects.get(merchant=installed).state == InstallationState.CONNECTED
    response = admin_client.get(reverse("integrations:addon", args=["xero"]))
    page = page_text(response)
    assert "Connected" in page and "Olive Owner" in page
    # Payment account choices were read from Xero's chart of accounts; a revenue account does not take payments.
    choices = dict(response.context["settings_form"].fields["default_payment_account_code"].choices)
    assert "090" in choices and "200" not in choices
    assert not XeroPendingAuthorisation.objects.exists()
    api_calls = [c.request for c in responses.calls if c.request.url.startswith(API)]
    assert all(r.headers["xero-tenant-id"] == "tenant-1" for r in api_calls)


@responses.activate
def test_state_is_single_use(admin_client, installed):
    token = responses.post(f"{IDENTITY}/connect/token", json=token_body())
    responses.get(CONNECTIONS, json=tenants("Org"))
    xero_api_stubs()
    query = start(admin_client)
    finish(admin_client, query)
    XeroConnection.objects.all().delete()
    replay = finish(admin_client, query)
    assert "could not be matched to this browser session" in page_text(replay)
    assert not XeroConnection.objects.exists()
    assert token.call_count == 1  # the replay never reached Xero


@responses.activate
def test_bad_state_is_refused_without_calling_xero(admin_client, installed):
    start(admin_client)
    response = admin_client.get(reverse("xero_sync:callback"), {"code": "c", "state": "forged"}, follow=True)
    assert "could not be matched" in page_text(response)
    assert len(responses.calls) == 0
    assert not XeroConnection.objects.exists()


def test_state_from_another_browser_is_refused(client, admin_user, installed):
    other = type(client)()
    other.force_login(admin_user)
    query = start(other)
    client.force_login(admin_user)
    response = client.get(reverse("xero_sync:callback"), {"code": "c", "state": query["state"]}, follow=True)
    assert "could not be matched" in page_text(response)


def test_expired_state_is_refused(admin_client, installed):
    query = start(admin_client)
    session = admin_client.session
    session["xero_oauth"]["created"] = time.time() - 3600
    session.save()
    response = finish(admin_client, query)
    assert "expired" in page_text(response)
    assert not XeroConnection.objects.exists()


def test_cancel_on_consent_screen(admin_client, installed):
    query = start(admin_client)
    response = admin_client.get(
        reverse("xero_sync:callback"), {"error": "access_denied", "state": query["state"]}, follow=True
    )
    assert "You cancelled on Xero" in page_text(response)
    assert not XeroConnection.objects.exists()


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ("invalid_grant", "expired or was already used"),
        ("invalid_client", "XERO_CLIENT_ID and XERO_CLIENT_SECRET"),
        ("unauthorized_client", "does not allow this app"),
    ],
)
@responses.activate
def test_token_exchange_errors_end_on_addon_page(admin_client, installed, error, expected):
    responses.post(f"{IDENTITY}/connect/token", json={"error": error}, status=400)
    response = finish(admin_client, start(admin_client))
    assert response.redirect_chain[-1][0] == reverse("integrations:addon", args=["xero"])
    assert expected in page_text(response)
    assert not XeroConnection.objects.exists()
    assert not XeroPendingAuthorisation.objects.exists()


@responses.activate
def test_missing_offline_access_is_refused_and_token_revoked(admin_client, installed):
    scope = "openid accounting.settings accounting.contacts accounting.transactions"
    responses.post(f"{IDENTITY}/connect/token", json=token_body(scope=scope))
    revoke = responses.post(f"{IDENTITY}/connect/revocation", status=200)
    response = finish(admin_client, start(admin_client))
    assert "missing: offline_access" in page_text(response)
    assert revoke.call_count == 1
    assert not XeroConnection.objects.exists()


@responses.activate
def test_network_failure_on_exchange(admin_client, installed):
    import requests

    responses.post(f"{IDENTITY}/connect/token", body=requests.ConnectionError("down"))
    response = finish(admin_client, start(admin_client))
    assert "could not be reached" in page_text(response)
    assert not XeroConnection.objects.exists()


def test_member_cannot_start_connect(member_client, installed):
    assert member_client.post(reverse("xero_sync:connect")).status_code == 403


def test_connect_requires_install(admin_client, merchant):
    response = admin_client.post(reverse("xero_sync:connect"), follow=True)
    assert "Install the Xero add-on first" in page_text(response)


@responses.activate
def test_several_organisations_asks_which_and_releases_the_others(admin_client, installed):
    xero_api_stubs()
    responses.post(f"{IDENTITY}/connect/token", json=token_body())
    responses.get(CONNECTIONS, json=tenants("First Org", "Second Org"))
    delete = responses.delete(f"{CONNECTIONS}/conn-1", status=204)
    response = finish(admin_client, start(admin_client))
    assert response.redirect_chain[-1][0] == reverse("xero_sync:choose")
    assert "First Org" in page_text(response) and "Second Org" in page_text(response)
    assert not XeroConnection.objects.filter(status=ConnectionStatus.CONNECTED).exists()

    response = admin_client.post(reverse("xero_sync:choose"), {"tenant_id": "tenant-2"}, follow=True)
    assert "Connected to Xero organisation “Second Org”" in page_text(response)
    assert XeroConnection.objects.get(merchant=installed).tenant_id == "tenant-2"
    assert delete.call_count == 1


@responses.activate
def test_one_organisation_per_merchant(client, installed):
    other_merchant = MerchantFactory()
    XeroConnection.objects.create(
        merchant=other_merchant, tenant_id="tenant-1", tenant_name="Org", status=ConnectionStatus.CONNECTED
    )
    user = UserFactory()
    MembershipFactory(user=user, merchant=installed)
    client.force_login(user)
    responses.post(f"{IDENTITY}/connect/token", json=token_body())
    responses.get(CONNECTIONS, json=tenants("Org"))
    responses.post(f"{IDENTITY}/connect/revocation", status=200)
    response = finish(client, start(client))
    assert "already connected to another merchant" in page_text(response)
    assert not XeroConnection.objects.filter(merchant=installed).exists()
    assert not XeroPendingAuthorisation.objects.exists()


@responses.activate
def test_reconnecting_a_different_organisation_asks_for_confirmation(admin_client, installed):
    XeroConnection.objects.create(
        merchant=installed, tenant_id="tenant-old", tenant_name="Old Org", status=ConnectionStatus.DISCONNECTED
    )
    xero_api_stubs()
    responses.post(f"{IDENTITY}/connect/token", json=token_body())
    responses.get(CONNECTIONS, json=tenants("New Org"))
    response = finish(admin_client, start(admin_client))
    assert response.redirect_chain[-1][0] == reverse("xero_sync:confirm")
    assert "Old Org" in page_text(response) and "New Org" in page_text(response)
    assert XeroConnection.objects.get(merchant=installed).tenant_id == "tenant-old"
    admin_client.post(reverse("xero_sync:confirm"), {"confirm": "1"})
    connection = XeroConnection.objects.get(merchant=installed)
    assert (connection.tenant_id, connection.status) == ("tenant-1", ConnectionStatus.CONNECTED)


@responses.activate
def test_reconnecting_same_organisation_keeps_settings(admin_client, installed):
    XeroConnection.objects.create(
        merchant=installed,
        tenant_id="tenant-1",
        tenant_name="Org",
        status=ConnectionStatus.NEEDS_RECONNECT,
        default_commodity_code="72151300",
    )
    xero_api_stubs()
    responses.post(f"{IDENTITY}/connect/token", json=token_body())
    responses.get(CONNECTIONS, json=tenants("Org"))
    finish(admin_client, start(admin_client))
    connection = XeroConnection.objects.get(merchant=installed)
    assert connection.status == ConnectionStatus.CONNECTED
    assert connection.default_commodity_code == "72151300"


def connected(merchant, **fields):
    defaults = {
        "tenant_id": "tenant-1",
        "tenant_name": "Org",
        "status": ConnectionStatus.CONNECTED,
        "access_token": "at-old",
        "refresh_token": "rt-old",
        "access_expires_at": timezone.now() - dt.timedelta(minutes=1),
        "connection_id": "conn-1",
    }
    defaults.update(fields)
    return XeroConnection.objects.create(merchant=merchant, **defaults)


@responses.activate
def test_refresh_rotates_and_saves_the_pair(merchant):
    connection = connected(merchant)
    call = responses.post(f"{IDENTITY}/connect/token", json=token_body(refresh="rt-new"))
    token = svc.connection_access_token(connection_id=connection.pk)
    connection.refresh_from_db()
    assert token == connection.access_token != "at-old"
    assert connection.refresh_token == "rt-new"
    assert connection.previous_refresh_token == "rt-old"
    assert connection.access_expires_at > timezone.now() + dt.timedelta(minutes=25)
    assert parse_qs(call.calls[0].request.body) == {"grant_type": ["refresh_token"], "refresh_token": ["rt-old"]}
    # Fresh now: no second call.
    svc.connection_access_token(connection_id=connection.pk)
    assert call.call_count == 1


@responses.activate
def test_lost_refresh_response_is_retried_with_the_same_refresh_token(merchant):
    import requests

    connection = connected(merchant)
    call = responses.post(f"{IDENTITY}/connect/token", body=requests.ConnectionError("response lost"))
    responses.post(f"{IDENTITY}/connect/token", json=token_body(refresh="rt-new"))
    svc.connection_refresh_tokens(connection_id=connection.pk)
    sent = [parse_qs(c.request.body)["refresh_token"] for c in responses.calls]
    assert sent == [["rt-old"], ["rt-old"]]
    assert call.call_count == 1
    connection.refresh_from_db()
    assert connection.refresh_token == "rt-new"


@responses.activate
def test_invalid_grant_marks_needs_reconnect_without_retry_loop(merchant):
    installation_create(merchant=merchant, addon_key="xero", user=None)
    Installation.objects.update(state=InstallationState.CONNECTED)
    connection = connected(merchant)
    call = responses.post(f"{IDENTITY}/connect/token", json={"error": "invalid_grant"}, status=400)
    with pytest.raises(svc.ConnectionNotActive):
        svc.connection_access_token(connection_id=connection.pk)
    with pytest.raises(svc.ConnectionNotActive):
        svc.connection_access_token(connection_id=connection.pk)
    assert call.call_count == 1
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.NEEDS_RECONNECT
    assert Installation.objects.get().state == InstallationState.NEEDS_RECONNECT


@responses.activate
def test_refresh_skipped_when_another_worker_already_refreshed(merchant):
    connection = connected(merchant, access_expires_at=timezone.now() + dt.timedelta(minutes=20))
    assert svc.connection_refresh_tokens(connection_id=connection.pk) == "at-old"
    assert len(responses.calls) == 0


@responses.activate
def test_a_rejected_token_is_refreshed_even_before_expiry(merchant):
    connection = connected(merchant, access_expires_at=timezone.now() + dt.timedelta(minutes=20))
    responses.post(f"{IDENTITY}/connect/token", json=token_body(refresh="rt-new"))
    token = svc.connection_refresh_tokens(connection_id=connection.pk, rejected_access_token="at-old")
    assert token != "at-old"


@responses.activate
def test_disconnect_revokes_deletes_and_wipes(admin_client, installed):
    connected(installed, access_expires_at=timezone.now() + dt.timedelta(minutes=20))
    Installation.objects.update(state=InstallationState.CONNECTED)
    delete = responses.delete(f"{CONNECTIONS}/conn-1", status=204)
    revoke = responses.post(f"{IDENTITY}/connect/revocation", status=200)
    response = admin_client.post(reverse("xero_sync:disconnect"), follow=True)
    assert "Disconnected from Xero" in page_text(response)
    assert delete.call_count == revoke.call_count == 1
    assert parse_qs(revoke.calls[0].request.body) == {"token": ["rt-old"]}
    connection = XeroConnection.objects.get(merchant=installed)
    assert connection.status == ConnectionStatus.DISCONNECTED
    assert connection.access_token == connection.refresh_token == ""
    assert not Installation.objects.filter(merchant=installed).exists()
    assert not XeroPendingRevocation.objects.exists()
    body = page_text(admin_client.get(reverse("integrations:marketplace")))
    assert reverse("integrations:install", args=["xero"]) in body


@responses.activate
def test_disconnect_while_xero_is_down_still_disconnects_and_retries_later(admin_client, installed):
    import requests
    from django_q.models import Schedule

    connected(installed)
    responses.delete(f"{CONNECTIONS}/conn-1", body=requests.ConnectionError("down"))
    response = admin_client.post(reverse("xero_sync:disconnect"), follow=True)
    assert "in the background" in page_text(response)
    assert XeroConnection.objects.get(merchant=installed).status == ConnectionStatus.DISCONNECTED
    revocation = XeroPendingRevocation.objects.get()
    schedule = Schedule.objects.get(name=f"xero-revoke-{revocation.pk}")
    assert "rt-old" not in schedule.args  # only the id travels with the task

    responses.replace(responses.DELETE, f"{CONNECTIONS}/conn-1", status=204)
    responses.post(f"{IDENTITY}/connect/revocation", status=200)
    from xero_sync.tasks import revocation_retry

    revocation_retry(revocation.pk)
    assert not XeroPendingRevocation.objects.exists()


@responses.activate
def test_uninstall_while_connected_disconnects(admin_client, installed):
    connected(installed, access_expires_at=timezone.now() + dt.timedelta(minutes=20))
    responses.delete(f"{CONNECTIONS}/conn-1", status=204)
    revoke = responses.post(f"{IDENTITY}/connect/revocation", status=200)
    admin_client.post(reverse("integrations:uninstall", args=["xero"]))
    assert revoke.call_count == 1
    assert XeroConnection.objects.get(merchant=installed).status == ConnectionStatus.DISCONNECTED


def test_settings_validation(admin_client, installed):
    connected(installed, access_expires_at=timezone.now() + dt.timedelta(minutes=20))
    from portal.models import Account

    Account.objects.create(merchant=installed, code="090", name="Bank", type="BANK", external_id="a1")
    Account.objects.create(merchant=installed, code="200", name="Sales", type="REVENUE", external_id="a2")
    bad = admin_client.post(
        reverse("xero_sync:settings"),
        {
            "auto_sync": "on",
            "default_payment_account_code": "200",
            "default_commodity_code": "1234",
            "retention_interval_days": "7",
        },
    )
    assert bad.status_code == 400
    form = bad.context["settings_form"]
    assert "default_commodity_code" in form.errors
    assert "default_payment_account_code" in form.errors  # a sales account does not take payments
    good = admin_client.post(
        reverse("xero_sync:settings"),
        {"default_payment_account_code": "090", "default_commodity_code": "72151300", "retention_interval_days": "14"},
    )
    assert good.status_code == 302
    connection = XeroConnection.objects.get(merchant=installed)
    assert (connection.auto_sync, connection.default_payment_account_code, connection.default_commodity_code) == (
        False,
        "090",
        "72151300",
    )
    assert connection.retention_interval_days == 14


def test_member_sees_settings_but_cannot_change_them(member_client, installed):
    connected(installed, access_expires_at=timezone.now() + dt.timedelta(minutes=20))
    page = page_text(member_client.get(reverse("integrations:addon", args=["xero"])))
    assert "Only the merchant's admins can change these." in page
    assert "Disconnect from Xero" not in page
    assert member_client.post(reverse("xero_sync:settings"), {}).status_code == 403
    assert member_client.post(reverse("xero_sync:disconnect")).status_code == 403


@override_settings(XERO_CLIENT_ID="")
def test_unconfigured_addon_says_so(admin_client, installed):
    page = page_text(admin_client.get(reverse("integrations:addon", args=["xero"])))
    assert "not configured on this portal yet" in page
    assert "Connect to Xero</button>" not in page


def test_tokens_are_encrypted_at_rest_and_never_shown(admin_client, installed, client):
    from django.db import connection as db

    conn = connected(installed, access_token="SECRET-AT-123", refresh_token="SECRET-RT-456")
    with db.cursor() as cursor:
        cursor.execute("SELECT access_token, refresh_token FROM xero_sync_xeroconnection WHERE id = %s", [conn.pk])
        raw = json.dumps(cursor.fetchone())
    assert "SECRET" not in raw
    assert XeroConnection.objects.get(pk=conn.pk).refresh_token == "SECRET-RT-456"

    page = page_text(admin_client.get(reverse("integrations:addon", args=["xero"])))
    assert "SECRET" not in page
    staff = UserFactory(email="ops@platform.example", is_staff=True, is_superuser=True)
    client.force_login(staff)
    for url in (
        reverse("admin:xero_sync_xeroconnection_changelist"),
        reverse("admin:xero_sync_xeroconnection_change", args=[conn.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200
        assert "SECRET" not in page_text(response)
