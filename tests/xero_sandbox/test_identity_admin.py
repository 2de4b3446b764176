"""The sandbox's Django admin: removing users, disconnecting apps, and never showing a token in plain text."""

import pytest
from django.http import JsonResponse
from django.urls import include, path

from portal.urls import urlpatterns as portal_urlpatterns
from xero_sandbox.gate import sandbox_api
from xero_sandbox.models import Connection, SandboxApp, SandboxRefreshToken, UserOrgRole
from xero_sandbox.testing import sandbox_app, sandbox_org, sandbox_token, sandbox_user

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.xero_sandbox.test_identity_admin")]


@sandbox_api(read=("accounting.transactions",), write=("accounting.transactions",))
def probe(request):
    return JsonResponse({"ok": True})


urlpatterns = [path("sandbox/xero/probe", probe), path("sandbox/xero/", include("xero_sandbox.urls"))]
urlpatterns += [p for p in portal_urlpatterns if str(p.pattern) != "sandbox/xero/"]


@pytest.fixture
def staff_client(client, django_user_model):
    admin = django_user_model.objects.create_superuser(email="root@portal.example", password="pw-root-12345")
    client.force_login(admin)
    return client


def _probe(client, token, org):
    return client.get(
        "/sandbox/xero/probe", headers={"Authorization": f"Bearer {token}", "xero-tenant-id": str(org.tenant_id)}
    )


def test_remove_user_from_organisation_action(staff_client, client):
    org = sandbox_org("Admin Co")
    user = sandbox_user("leaver@sandbox.example", "pw", orgs={org: "standard"})
    token = sandbox_token(org, user=user)["access_token"]
    membership = UserOrgRole.objects.get(user=user, organisation=org)
    response = staff_client.post(
        "/admin/xero_sandbox/userorgrole/",
        {"action": "remove_user_from_organisation", "_selected_action": [membership.pk]},
    )
    assert response.status_code == 302
    assert not UserOrgRole.objects.filter(pk=membership.pk).exists()
    assert _probe(client, token, org).status_code == 403


def test_disconnect_app_action(staff_client, client):
    org = sandbox_org("Admin Co")
    token = sandbox_token(org)["access_token"]
    conn = Connection.objects.get()
    response = staff_client.post(
        "/admin/xero_sandbox/connection/", {"action": "disconnect_app", "_selected_action": [str(conn.pk)]}
    )
    assert response.status_code == 302
    assert not Connection.objects.exists()
    assert _probe(client, token, org).status_code == 403


def test_token_pages_never_show_a_token(staff_client):
    org = sandbox_org("Admin Co")
    tokens = sandbox_token(org)
    refresh = SandboxRefreshToken.objects.get()
    pages = [
        staff_client.get("/admin/xero_sandbox/sandboxrefreshtoken/"),
        staff_client.get(f"/admin/xero_sandbox/sandboxrefreshtoken/{refresh.pk}/change/"),
        staff_client.get("/admin/xero_sandbox/sandboxaccesstoken/"),
        staff_client.get("/admin/xero_sandbox/tokenfamily/"),
        staff_client.get("/admin/xero_sandbox/sandboxapp/"),
    ]
    for page in pages:
        assert page.status_code == 200
        html = page.content.decode()
        assert tokens["refresh_token"] not in html
        assert tokens["access_token"] not in html
        assert tokens["access_token"].split(".")[1][:40] not in html


def test_app_secret_is_write_only_in_the_admin(staff_client):
    app = sandbox_app(client_secret="super-secret-value", webhook_key="hook-key-value-123")
    page = staff_client.get(f"/admin/xero_sandbox/sandboxapp/{app.pk}/change/").content.decode()
    assert "super-secret-value" not in page
    assert "hook-key-value-123" not in page
    assert app.client_secret_hash not in page
    staff_client.post(
        f"/admin/xero_sandbox/sandboxapp/{app.pk}/change/",
        {
            "name": app.name,
            "client_id": app.client_id,
            "redirect_uris": '["http://testserver/cb"]',
            "allow_broad_scopes": "on",
            "webhook_url": "",
            "new_client_secret": "",
            "new_webhook_key": "",
        },
    )
    app = SandboxApp.objects.get()
    assert app.redirect_uris == ["http://testserver/cb"]
    assert app.webhook_key == "hook-key-value-123"  # kept when left empty
