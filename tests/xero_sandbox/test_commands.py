"""`manage.py xero_sandbox …`: seed, token, stats, fault, remove-user, disconnect, intent-to-receive, demo."""

import io
import json
from unittest import mock

import pytest
import requests
from django.core.management import CommandError, call_command
from django.http import HttpResponse, JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

from xero_sandbox import webhooks
from xero_sandbox.gate import sandbox_api
from xero_sandbox.identity import services
from xero_sandbox.models import Connection, FaultRule, Organisation, SandboxApp, SandboxUser, UserOrgRole
from xero_sandbox.testing import SandboxWire, sandbox_app, sandbox_org, sandbox_token, sandbox_user

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.xero_sandbox.test_commands")]


@sandbox_api(read=("accounting.transactions",), write=("accounting.transactions",))
def probe(request):
    return JsonResponse({"Organisation": request.sandbox_org.name})


@csrf_exempt
def lenient_receiver(request):
    return HttpResponse(status=200)  # answers 200 even to bad signatures: must fail intent to receive


urlpatterns = [
    path("sandbox/xero/probe", probe),
    path("hooks/lenient", lenient_receiver),
    path("sandbox/xero/", include("xero_sandbox.urls")),
]


def run(*args) -> str:
    out = io.StringIO()
    call_command("xero_sandbox", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def _probe(client, token, org):
    return client.get(
        "/sandbox/xero/probe", headers={"Authorization": f"Bearer {token}", "xero-tenant-id": str(org.tenant_id)}
    )


def test_seed_passes_its_arguments_and_prints_the_tenant_id(tmp_path):
    made = Organisation(name="Seeded Co", short_code="!seed")
    with mock.patch("xero_sandbox.seed.seed_organisation", return_value=made) as seed:
        out = run(
            "seed",
            "--org",
            "Seeded Co",
            "--contacts",
            "3",
            "--invoices",
            "5",
            "--seed",
            "7",
            "--from",
            str(tmp_path / "data.json"),
        )
    seed.assert_called_once_with(
        name="Seeded Co", contacts=3, invoices=5, seed=7, from_file=str(tmp_path / "data.json")
    )
    assert json.loads(out)["tenantId"] == str(made.tenant_id)


def test_seed_for_real_creates_the_organisation():
    body = json.loads(run("seed", "--org", "Tiny Co", "--contacts", "2", "--invoices", "3"))
    assert Organisation.objects.get(tenant_id=body["tenantId"]).name == "Tiny Co"


def test_token_prints_a_working_token_set(client):
    org = sandbox_org("Scripted Co")
    sandbox_app()
    body = json.loads(run("token", "--org", str(org.tenant_id)))
    assert body["token_type"] == "Bearer" and body["expires_in"] == 1800 and body["refresh_token"]
    assert _probe(client, body["access_token"], org).json() == {"Organisation": "Scripted Co"}


def test_token_with_narrow_scopes_and_errors(client):
    org = sandbox_org("Narrow Co")
    sandbox_app()
    body = json.loads(run("token", "--org", str(org.tenant_id), "--scopes", "accounting.contacts"))
    assert body["scope"] == "accounting.contacts" and "refresh_token" not in body
    assert _probe(client, body["access_token"], org).status_code == 403
    with pytest.raises(CommandError):
        run("token", "--org", str(org.tenant_id), "--scopes", "accounting.nonsense")
    with pytest.raises(CommandError):
        run("token", "--org", "not-a-uuid")


def test_token_needs_an_app_when_there_are_several():
    org = sandbox_org("Many Apps Co")
    sandbox_app(client_id="a1")
    sandbox_app(client_id="a2")
    with pytest.raises(CommandError):
        run("token", "--org", str(org.tenant_id))
    assert json.loads(run("token", "--org", str(org.tenant_id), "--app", "a2"))["access_token"]


def test_stats_counts_requests_as_json(client, settings):
    settings.XERO_SANDBOX_MINUTE_LIMIT = 2
    org = sandbox_org("Busy Co")
    token = sandbox_token(org)["access_token"]
    for _ in range(3):
        _probe(client, token, org)
    stats = json.loads(run("stats", "--org", str(org.tenant_id)))
    assert stats["total"] == 3
    assert stats["byStatus"] == {"200": 2, "429": 1}
    assert stats["byMethod"] == {"GET": 3}
    assert stats["rateLimited"] == 1 and stats["rateLimitProblems"] == {"minute": 1}


def test_fault_set_and_clear(client):
    org = sandbox_org("Fragile Co")
    token = sandbox_token(org)["access_token"]
    out = json.loads(run("fault", "--org", str(org.tenant_id), "--kind", "fail", "--count", "1", "--status", "500"))
    assert out == {"tenantId": str(org.tenant_id), "kind": "fail", "count": 1, "status": 500, "delayMs": 0}
    assert _probe(client, token, org).status_code == 500
    assert _probe(client, token, org).status_code == 200
    run("fault", "--org", str(org.tenant_id), "--kind", "rate_limit")
    assert _probe(client, token, org).status_code == 429
    assert json.loads(run("fault", "--clear", "--org", str(org.tenant_id))) == {"cleared": 1}
    assert _probe(client, token, org).status_code == 200
    run("fault", "--org", str(org.tenant_id), "--kind", "delay", "--delay-ms", "5")
    assert json.loads(run("fault", "--clear")) == {"cleared": 1}
    assert not FaultRule.objects.exists()
    with pytest.raises(CommandError):
        run("fault", "--org", str(org.tenant_id), "--kind", "delay")  # a delay needs --delay-ms


def test_remove_user_then_api_calls_are_forbidden(client):
    org = sandbox_org("Staffed Co")
    user = sandbox_user("leaver@sandbox.example", "pw", orgs={org: "standard"})
    token = sandbox_token(org, user=user)["access_token"]
    out = json.loads(run("remove-user", "--org", str(org.tenant_id), "--email", "leaver@sandbox.example"))
    assert out["connectionsRemoved"] == 1
    response = _probe(client, token, org)
    assert response.status_code == 403
    assert response.json()["Detail"] == "AuthenticationUnsuccessful"
    assert not UserOrgRole.objects.filter(user=user, organisation=org).exists()


def test_disconnect_one_app_or_all(client):
    org = sandbox_org("Connected Co")
    first = sandbox_app(client_id="first-app")
    second = sandbox_app(client_id="second-app")
    t1 = sandbox_token(org, app=first)["access_token"]
    t2 = sandbox_token(org, app=second)["access_token"]
    assert json.loads(run("disconnect", "--org", str(org.tenant_id), "--app", "first-app"))["connectionsRemoved"] == 1
    assert _probe(client, t1, org).status_code == 403
    assert _probe(client, t2, org).status_code == 200
    run("disconnect", "--org", str(org.tenant_id))
    assert _probe(client, t2, org).status_code == 403
    assert not Connection.objects.exists()


def test_intent_to_receive_command_reports_failure():
    sandbox_app(webhook_url="http://hooks.test/hooks/lenient", webhook_key="k" * 32)

    def session():
        s = requests.Session()
        s.mount("http://hooks.test/", SandboxWire(prefix=""))
        return s

    out = io.StringIO()
    with mock.patch.object(webhooks, "webhook_http_session", session), pytest.raises(CommandError):
        call_command("xero_sandbox", "intent-to-receive", stdout=out)
    result = json.loads(out.getvalue())
    assert result["passed"] is False
    assert any(r["signature"] == "bad" and r["status"] == 200 for r in result["results"])


def test_demo_is_idempotent_and_prints_the_login(settings):
    settings.XERO_CLIENT_ID = "demo-client"
    settings.XERO_CLIENT_SECRET = "demo-secret"
    settings.XERO_REDIRECT_URI = "http://127.0.0.1:8000/addons/xero/callback/"
    settings.XERO_WEBHOOK_KEY = "demo-webhook-key"
    first = run("demo")
    second = run("demo")
    assert "owner@sandbox.example / sandbox-pass" in first
    assert "owner@sandbox.example / sandbox-pass" in second
    app = SandboxApp.objects.get()
    assert app.client_id == "demo-client"
    assert app.redirect_uris == ["http://127.0.0.1:8000/addons/xero/callback/"]
    assert app.webhook_url == "http://127.0.0.1:8000/addons/xero/webhooks/"
    assert app.webhook_key == "demo-webhook-key"
    assert services.app_authenticate(client_id="demo-client", client_secret="demo-secret") == app
    org = Organisation.objects.get(name="Demo Plumbing Co (Xero)")
    user = SandboxUser.objects.get()
    assert services.user_authenticate(email="owner@sandbox.example", password="sandbox-pass") == user
    assert UserOrgRole.objects.get(user=user).organisation == org
    assert UserOrgRole.objects.get(user=user).role == "standard"
    from xero_sandbox.models import Contact, Invoice

    assert Contact.objects.filter(org=org).count() >= 40
    assert Invoice.objects.filter(org=org).count() == 80
