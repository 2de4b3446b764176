"""The Xero add-on in a real browser against the sandbox on the live server: Install → Connect to Xero → sandbox
sign-in → pick the organisation → Allow access → Connected → Sync (watching the progress bar reach done) → Test
Connection → Disconnect from Xero → the tile is back to Install. A screenshot of each step."""

import re
import threading
import time

import pytest
from django.db import connections
from playwright.sync_api import expect

from portal.models import Invoice, Role
from tests.factories import MembershipFactory, MerchantFactory, UserFactory
from xero_sandbox import testing as sandbox
from xero_sandbox.seed import seed_organisation
from xero_sync.models import ConnectionStatus, XeroConnection

pytestmark = pytest.mark.browser

CLIENT_ID = "browser-client"
CLIENT_SECRET = "browser-secret-0123456789"


@pytest.fixture
def xero_live(settings, live_server):
    base = live_server.url
    settings.XERO_CLIENT_ID = CLIENT_ID
    settings.XERO_CLIENT_SECRET = CLIENT_SECRET
    settings.XERO_REDIRECT_URI = f"{base}/addons/xero/callback/"
    settings.XERO_WEBHOOK_KEY = "browser-webhook-key-0123456789"
    settings.XERO_LOGIN_URL = f"{base}/sandbox/xero/identity"
    settings.XERO_IDENTITY_URL = f"{base}/sandbox/xero/identity"
    settings.XERO_API_URL = f"{base}/sandbox/xero/api.xro/2.0"
    settings.XERO_CONNECTIONS_URL = f"{base}/sandbox/xero/connections"
    sandbox.sandbox_app(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uris=[settings.XERO_REDIRECT_URI])
    org = seed_organisation("Seaside Plumbing Ltd", contacts=40, invoices=90, seed=3)
    sandbox.sandbox_user(email="olive@seaside.example", password="sandbox-pass", orgs={org: "standard"})
    return org


@pytest.fixture
def syncs_in_background(monkeypatch):
    """Stand in for the django-q2 worker: a queued sync runs in a thread a moment after the click."""
    threads = []

    def enqueue(run_id):
        def work():
            time.sleep(0.8)
            try:
                from xero_sync.services.sync import sync_execute

                sync_execute(run_id=run_id)
            finally:
                connections.close_all()

        thread = threading.Thread(target=work, daemon=True)
        threads.append(thread)
        thread.start()

    monkeypatch.setattr("xero_sync.tasks.enqueue_sync", enqueue)
    yield
    for thread in threads:
        thread.join(timeout=60)


def test_connect_sync_test_disconnect(xero_live, syncs_in_background, signed_in_page, screenshot):
    merchant = MerchantFactory(name="Seaside Plumbing")
    admin = UserFactory(email="dana@seaside.example", full_name="Dana Admin")
    MembershipFactory(user=admin, merchant=merchant, role=Role.ADMIN)
    page = signed_in_page(admin)

    page.goto("/addons/?category=accounting")
    page.locator('[data-addon="xero"]').get_by_role("button", name="Install").click()
    expect(page.get_by_test_id("connection-state")).to_have_text("Not connected")
    screenshot(page, "xero_1_installed")

    page.get_by_role("button", name="Connect to Xero").click()
    expect(page).to_have_url(re.compile(r"/sandbox/xero/identity/connect/authorize"))
    screenshot(page, "xero_2_sandbox_sign_in")
    page.get_by_label("Email").fill("olive@seaside.example")
    page.get_by_label("Password").fill("sandbox-pass")
    page.get_by_role("button", name=re.compile("Log in|Sign in", re.I)).click()
    expect(page.get_by_text("Seaside Plumbing Ltd")).to_be_visible()
    screenshot(page, "xero_3_sandbox_consent")
    checkbox = page.get_by_label(re.compile("Seaside Plumbing Ltd"))
    if checkbox.count() and not checkbox.first.is_checked():
        checkbox.first.check()
    page.get_by_role("button", name="Allow access").click()

    expect(page).to_have_url(re.compile(r"/addons/xero/$"))
    expect(page.get_by_test_id("connection-state")).to_have_text("Connected")
    expect(page.get_by_test_id("tenant-name")).to_contain_text("Seaside Plumbing Ltd")
    expect(page.get_by_test_id("connected-by")).to_contain_text("olive@seaside.example")
    screenshot(page, "xero_4_connected")

    page.get_by_role("button", name="Sync", exact=True).click()
    expect(page.locator("#sync-steps li")).to_have_count(5)
    screenshot(page, "xero_5_sync_running", full_page=False)
    expect(page.get_by_test_id("sync-done")).to_be_visible(timeout=30_000)
    for row in page.locator("#sync-steps li").all():
        expect(row).to_have_class(re.compile(r"\bdone\b"))
    screenshot(page, "xero_6_sync_done")
    page.wait_for_load_state("load")
    expect(page.get_by_role("button", name="Sync Now")).to_be_visible(timeout=10_000)
    assert Invoice.objects.filter(merchant=merchant).count() > 0

    page.get_by_role("button", name="Test Connection").click()
    expect(page.get_by_text("Organisation access: Read “Seaside Plumbing Ltd” successfully.")).to_be_visible()
    screenshot(page, "xero_7_test_connection")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Disconnect from Xero").click()
    expect(page).to_have_url(re.compile(r"/addons/$"))
    expect(page.get_by_text("Disconnected from Xero")).to_be_visible()
    expect(page.locator('[data-addon="xero"]').get_by_role("button", name="Install")).to_be_visible()
    screenshot(page, "xero_8_disconnected")
    assert XeroConnection.objects.get(merchant=merchant).status == ConnectionStatus.DISCONNECTED
