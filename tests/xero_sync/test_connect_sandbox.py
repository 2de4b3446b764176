"""Connect to Xero end to end against the sandbox: its sign-in and consent pages, its token endpoint and its
connections API, then Test Connection, a 403 after the owner is removed, and Disconnect from Xero."""

import pytest
from django.urls import reverse

from integrations.models import Installation, InstallationState
from integrations.services import installation_create
from tests.xero_sync.conftest import connect_through_sandbox
from xero_sandbox import testing as sandbox
from xero_sandbox.identity import services as sandbox_identity
from xero_sandbox.models import Connection
from xero_sync.models import ConnectionStatus, XeroConnection

pytestmark = pytest.mark.django_db


@pytest.fixture
def installed(merchant):
    installation_create(merchant=merchant, addon_key="xero", user=None)
    return merchant


def test_full_flow_connect_test_disconnect(admin_client, installed, xero_org, sandbox_owner):
    response = connect_through_sandbox(admin_client)
    page = response.content.decode()
    assert "Connected to Xero organisation “Harbour Plumbing Ltd”" in page
    connection = XeroConnection.objects.get(merchant=installed)
    assert connection.status == ConnectionStatus.CONNECTED
    assert connection.tenant_id == str(xero_org.tenant_id)
    assert connection.xero_user_email == "owner@harbour.example"
    assert connection.short_code == xero_org.short_code  # read when the add-on page opened
    assert "090 · Business Bank Account" in page  # payment account choices from the synced chart
    assert Installation.objects.get(merchant=installed).state == InstallationState.CONNECTED

    tested = admin_client.post(reverse("xero_sync:test"), follow=True).content.decode()
    assert "Credentials: Xero accepted the portal&#x27;s sign-in." in tested
    assert "Organisation access: Read “Harbour Plumbing Ltd” successfully." in tested

    gone = admin_client.post(reverse("xero_sync:disconnect"), follow=True).content.decode()
    assert "Disconnected from Xero" in gone
    assert not Connection.objects.filter(organisation=xero_org).exists()  # deleted and revoked at Xero
    assert XeroConnection.objects.get(merchant=installed).status == ConnectionStatus.DISCONNECTED
    assert (
        reverse("integrations:install", args=["xero"])
        in admin_client.get(reverse("integrations:marketplace")).content.decode()
    )


def test_cancel_on_sandbox_consent_connects_nothing(admin_client, installed, xero_org, sandbox_owner):
    from urllib.parse import parse_qs, urlparse

    start = admin_client.post(reverse("xero_sync:connect"))
    url = urlparse(start["Location"])
    params = {k: v[0] for k, v in parse_qs(url.query).items()}
    admin_client.post(
        url.path, {**params, "action": "signin", "email": "owner@harbour.example", "password": "sandbox-pass"}
    )
    cancelled = admin_client.post(url.path, {**params, "action": "cancel"})
    back = admin_client.get(cancelled["Location"].replace("http://testserver", ""), follow=True)
    assert "You cancelled on Xero" in back.content.decode()
    assert not XeroConnection.objects.exists()


def test_read_only_user_cannot_authorise(admin_client, installed, xero_org):
    sandbox.sandbox_user(email="viewer@harbour.example", password="sandbox-pass", orgs={xero_org: "read_only"})
    from urllib.parse import parse_qs, urlparse

    start = admin_client.post(reverse("xero_sync:connect"))
    url = urlparse(start["Location"])
    params = {k: v[0] for k, v in parse_qs(url.query).items()}
    admin_client.post(
        url.path, {**params, "action": "signin", "email": "viewer@harbour.example", "password": "sandbox-pass"}
    )
    consent = admin_client.post(url.path, {**params, "action": "allow", "tenant": [str(xero_org.tenant_id)]})
    assert consent.status_code == 403
    assert not XeroConnection.objects.exists()


def test_several_organisations_then_choose(admin_client, installed, xero_org, sandbox_owner):
    second = sandbox.sandbox_org("Harbour Holdings")
    sandbox.sandbox_user(email="owner@harbour.example", password="sandbox-pass", orgs={second: "advisor"})
    response = connect_through_sandbox(admin_client, tenants=[str(xero_org.tenant_id), str(second.tenant_id)])
    assert response.redirect_chain[-1][0] == reverse("xero_sync:choose")
    admin_client.post(reverse("xero_sync:choose"), {"tenant_id": str(second.tenant_id)})
    assert XeroConnection.objects.get(merchant=installed).tenant_id == str(second.tenant_id)
    # The organisation not chosen was let go at Xero.
    assert list(Connection.objects.values_list("organisation__name", flat=True)) == ["Harbour Holdings"]


def test_owner_removed_in_xero_means_needs_reconnect(admin_client, installed, xero_org, sandbox_owner):
    connect_through_sandbox(admin_client)
    sandbox_identity.user_remove_from_org(user=sandbox_owner, org=xero_org)
    tested = admin_client.post(reverse("xero_sync:test"), follow=True).content.decode()
    assert "A different Xero user with the Standard or Advisor role must click Connect to Xero" in tested
    connection = XeroConnection.objects.get(merchant=installed)
    assert connection.status == ConnectionStatus.NEEDS_RECONNECT
    page = admin_client.get(reverse("integrations:addon", args=["xero"])).content.decode()
    assert "Needs reconnect" in page and "Connect to Xero</button>" in page

    # Another standard user reconnects the same organisation: same connection row, settings kept.
    sandbox.sandbox_user(email="second@harbour.example", password="sandbox-pass", orgs={xero_org: "standard"})
    connect_through_sandbox(admin_client, email="second@harbour.example")
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.CONNECTED
    assert connection.xero_user_email == "second@harbour.example"


def test_refresh_against_sandbox_rotates(installed, connection):
    from xero_sync.services.connection import connection_refresh_tokens

    old_refresh = connection.refresh_token
    connection_refresh_tokens(connection_id=connection.pk, rejected_access_token=connection.access_token)
    connection.refresh_from_db()
    assert connection.refresh_token != old_refresh
    assert connection.previous_refresh_token == old_refresh
