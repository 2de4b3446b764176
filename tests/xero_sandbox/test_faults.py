"""Injected faults: failing calls (500/503), delays, dropped connections after the write, forced 429s."""

import time

import pytest
import requests
from django.http import JsonResponse
from django.urls import include, path

from xero_sandbox.gate import sandbox_api
from xero_sandbox.models import FaultRule, Organisation, RequestLog
from xero_sandbox.testing import SandboxWire, fault_clear, fault_set, sandbox_org, sandbox_token, wire_session

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.xero_sandbox.test_faults")]

BASE = "http://sandbox.test"


@sandbox_api(read=("accounting.contacts",), write=("accounting.contacts",))
def probe(request):
    if request.method == "POST":
        # A write the client can check for afterwards.
        Organisation.objects.create(name=f"written-{request.GET.get('n', '1')}", short_code=request.GET.get("n", "1"))
    return JsonResponse({"ok": True})


urlpatterns = [path("sandbox/xero/probe", probe), path("sandbox/xero/", include("xero_sandbox.urls"))]


@pytest.fixture
def org():
    return sandbox_org("Faulty Co")


@pytest.fixture
def session(org):
    tokens = sandbox_token(org)
    s = wire_session(BASE)
    s.headers.update({"Authorization": f"Bearer {tokens['access_token']}", "xero-tenant-id": str(org.tenant_id)})
    return s


def test_fail_the_next_two_calls_with_503_plain_text(session, org):
    fault_set(org, "fail", count=2, status=503)
    first, second, third = (session.get(f"{BASE}/probe") for _ in range(3))
    assert (first.status_code, second.status_code, third.status_code) == (503, 503, 200)
    assert first.headers["Content-Type"].startswith("text/plain")
    assert first.text == "Service Unavailable"
    assert "X-MinLimit-Remaining" in first.headers
    assert not FaultRule.objects.exists()  # used up


def test_fail_with_500_is_json_and_the_write_is_not_applied(session, org):
    fault_set(org, "fail", count=1, status=500)
    response = session.post(f"{BASE}/probe?n=500", json={})
    assert response.status_code == 500
    assert response.json()["Status"] == 500
    assert not Organisation.objects.filter(short_code="500").exists()


def test_fail_until_cleared(session, org):
    fault_set(org, "fail", status=503)
    assert [session.get(f"{BASE}/probe").status_code for _ in range(3)] == [503, 503, 503]
    fault_clear(org)
    assert session.get(f"{BASE}/probe").status_code == 200


def test_faults_belong_to_one_organisation(session, org, client):
    other = sandbox_org("Healthy Co")
    fault_set(other, "fail", count=5)
    assert session.get(f"{BASE}/probe").status_code == 200


def test_drop_applies_the_write_then_loses_the_answer(session, org):
    fault_set(org, "drop", count=1)
    with pytest.raises(requests.ConnectionError):
        session.post(f"{BASE}/probe?n=dropped", json={})
    assert Organisation.objects.filter(short_code="dropped").exists()
    assert RequestLog.objects.filter(fault="drop", status=200).exists()
    assert session.post(f"{BASE}/probe?n=next", json={}).status_code == 200


def test_delay_longer_than_the_timeout_is_a_read_timeout_without_waiting(session, org):
    fault_set(org, "delay", count=1, delay_s=30)
    started = time.monotonic()
    with pytest.raises(requests.ReadTimeout):
        session.post(f"{BASE}/probe?n=slow", json={}, timeout=2)
    assert time.monotonic() - started < 5
    assert Organisation.objects.filter(short_code="slow").exists()  # the server still did the work


def test_delay_shorter_than_the_timeout_is_waited_out(session, org):
    fault_set(org, "delay", count=1, delay_s=0.3)
    started = time.monotonic()
    response = session.get(f"{BASE}/probe", timeout=5)
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3


def test_forced_429(session, org):
    fault_set(org, "rate_limit", count=1)
    response = session.get(f"{BASE}/probe")
    assert response.status_code == 429
    assert response.headers["X-Rate-Limit-Problem"] == "minute"
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert session.get(f"{BASE}/probe").status_code == 200


def test_a_bad_fault_is_refused(org):
    with pytest.raises(ValueError):
        fault_set(org, "fail", status=404)
    with pytest.raises(ValueError):
        fault_set(org, "delay")
    with pytest.raises(ValueError):
        fault_set(org, "meteor")


def test_wire_reaches_any_page_of_the_site_with_an_empty_prefix(session):
    portal = requests.Session()
    portal.mount("http://portal.test/", SandboxWire(prefix=""))
    response = portal.get("http://portal.test/sandbox/xero/identity/.well-known/openid-configuration")
    assert response.json()["token_endpoint"].endswith("/identity/connect/token")


@pytest.mark.django_db(transaction=True)
def test_drop_over_real_http_aborts_the_socket(live_server, settings):
    org = sandbox_org("Live Faulty Co")
    tokens = sandbox_token(org)
    fault_set(org, "drop", count=1)
    headers = {"Authorization": f"Bearer {tokens['access_token']}", "xero-tenant-id": str(org.tenant_id)}
    with pytest.raises(requests.ConnectionError):
        requests.post(f"{live_server.url}/sandbox/xero/probe?n=live", json={}, headers=headers, timeout=10)
    assert Organisation.objects.filter(short_code="live").exists()
    ok = requests.get(f"{live_server.url}/sandbox/xero/probe", headers=headers, timeout=10)
    assert ok.status_code == 200
