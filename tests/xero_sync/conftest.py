"""Fixtures that put the add-on in front of the sandbox: every HTTP call the add-on makes to http://sandbox.test
is served in-process by xero_sandbox (inside the test's transaction), so the real client, OAuth code and sync
engine run end to end without a server or the internet."""

import datetime as dt
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from django.urls import reverse
from django.utils import timezone

from integrations.services import installation_create
from xero_sandbox import testing as sandbox
from xero_sandbox.seed import seed_organisation
from xero_sync.models import ConnectionStatus, XeroConnection

WIRE = "http://sandbox.test"
CLIENT_ID = "portal-test-client"
CLIENT_SECRET = "portal-test-secret-0123456789"
WEBHOOK_KEY = "portal-test-webhook-key-0123456789"
REDIRECT_URI = "http://testserver/addons/xero/callback/"


@pytest.fixture
def xero_wire(settings, monkeypatch):
    """Point the add-on at the sandbox and serve http://sandbox.test in-process."""
    settings.XERO_CLIENT_ID = CLIENT_ID
    settings.XERO_CLIENT_SECRET = CLIENT_SECRET
    settings.XERO_REDIRECT_URI = REDIRECT_URI
    settings.XERO_WEBHOOK_KEY = WEBHOOK_KEY
    settings.XERO_LOGIN_URL = "http://testserver/sandbox/xero/identity"  # the browser (test client) goes here
    settings.XERO_IDENTITY_URL = f"{WIRE}/identity"
    settings.XERO_API_URL = f"{WIRE}/api.xro/2.0"
    settings.XERO_CONNECTIONS_URL = f"{WIRE}/connections"
    # The in-process wire answers inside this test's transaction, which another thread cannot see.
    settings.XERO_PULL_PREFETCH = False
    wire = sandbox.SandboxWire(prefix="/sandbox/xero")
    original = requests.Session.get_adapter

    def get_adapter(self, url):
        if url.startswith(WIRE + "/"):
            return wire
        return original(self, url)

    monkeypatch.setattr(requests.Session, "get_adapter", get_adapter)
    return sandbox.sandbox_app(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        redirect_uris=[REDIRECT_URI],
        webhook_url="http://testserver/addons/xero/webhooks/",
        webhook_key=WEBHOOK_KEY,
    )


@pytest.fixture
def xero_org(xero_wire):
    """A small seeded organisation: default chart, tax rates, items, groups, 30 contacts, 60 invoices."""
    return seed_organisation("Harbour Plumbing Ltd", contacts=30, invoices=60, seed=7)


@pytest.fixture
def sandbox_owner(xero_org):
    return sandbox.sandbox_user(email="owner@harbour.example", password="sandbox-pass", orgs={xero_org: "standard"})


def consent(client, authorize_url: str, *, email="owner@harbour.example", password="sandbox-pass", tenants=()):
    """Walk the sandbox's sign-in and consent pages like a person: sign in, tick organisations, Allow access.
    Returns the callback URL the sandbox redirects to."""
    url = urlparse(authorize_url)
    params = {k: v[0] for k, v in parse_qs(url.query).items()}
    path = url.path
    response = client.post(path, {**params, "action": "signin", "email": email, "password": password})
    assert response.status_code == 302, response.content[:500]
    page = client.get(response["Location"])
    assert page.status_code == 200
    chosen = list(tenants) or [c["tenant_id"] for c in page.context["choices"] if c["allowed"]][:1]
    response = client.post(path, {**params, "action": "allow", "tenant": chosen})
    assert response.status_code == 302, response.content[:500]
    return response["Location"]


def connect_through_sandbox(client, **consent_kwargs):
    """Connect to Xero → sandbox sign-in → Allow access → back to the portal. Returns the final response."""
    start = client.post(reverse("xero_sync:connect"))
    assert start.status_code == 302
    callback = consent(client, start["Location"], **consent_kwargs)
    assert callback.startswith(REDIRECT_URI)
    return client.get(callback.replace("http://testserver", ""), follow=True)


@pytest.fixture
def connection(merchant, xero_wire, xero_org, sandbox_owner):
    """A merchant connected to the seeded organisation (tokens issued by the sandbox, no browser)."""
    installation_create(merchant=merchant, addon_key="xero", user=None)
    tokens = sandbox.sandbox_token(xero_org, app=xero_wire, user=sandbox_owner)
    return XeroConnection.objects.create(
        merchant=merchant,
        status=ConnectionStatus.CONNECTED,
        tenant_id=str(xero_org.tenant_id),
        tenant_name=xero_org.name,
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
        access_expires_at=timezone.now() + dt.timedelta(seconds=tokens["expires_in"]),
        scopes=tokens.get("scope", ""),
        connected_at=timezone.now(),
    )
