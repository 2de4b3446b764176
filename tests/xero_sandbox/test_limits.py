"""Rate limits of the sandbox: per-org minute/day/concurrency, per-app minute, headers, 429s, request log."""

import threading
from datetime import datetime, timedelta
from unittest import mock

import pytest
from django.db import connection
from django.http import JsonResponse
from django.urls import include, path
from django.utils import timezone

from xero_sandbox import limits
from xero_sandbox.gate import sandbox_api
from xero_sandbox.models import RateCounter, RequestLog
from xero_sandbox.testing import sandbox_app, sandbox_org, sandbox_token

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.xero_sandbox.test_limits")]

HEADERS = ("X-DayLimit-Remaining", "X-MinLimit-Remaining", "X-AppMinLimit-Remaining")


@sandbox_api(read=("accounting.transactions",), write=("accounting.transactions",))
def probe(request):
    return JsonResponse({"ok": True})


urlpatterns = [path("sandbox/xero/probe", probe), path("sandbox/xero/", include("xero_sandbox.urls"))]


class Clock:
    """A frozen clock the test moves by hand (tokens, limits and logs all read timezone.now)."""

    def __init__(self, start: datetime):
        self.now = start

    def __call__(self):
        return self.now

    def advance(self, seconds: float):
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock():
    c = Clock(timezone.now())
    with mock.patch("django.utils.timezone.now", c):
        yield c


@pytest.fixture
def org():
    return sandbox_org("Limited Co")


@pytest.fixture
def call(client, org):
    tokens = sandbox_token(org)

    def _call(target=None):
        target = target or org
        return client.get(
            "/sandbox/xero/probe",
            headers={"Authorization": f"Bearer {tokens['access_token']}", "xero-tenant-id": str(target.tenant_id)},
        )

    return _call


def test_every_response_carries_the_three_limit_headers_counting_down(call, clock):
    first, second = call(), call()
    for response in (first, second):
        assert all(h in response for h in HEADERS)
    assert (first["X-MinLimit-Remaining"], second["X-MinLimit-Remaining"]) == ("59", "58")
    assert (first["X-DayLimit-Remaining"], second["X-DayLimit-Remaining"]) == ("4999", "4998")
    assert (first["X-AppMinLimit-Remaining"], second["X-AppMinLimit-Remaining"]) == ("9999", "9998")


def test_the_61st_call_in_a_minute_gets_429_with_retry_after_then_the_next_window_opens(call, clock):
    answers = [call() for _ in range(60)]
    assert all(r.status_code == 200 for r in answers)
    assert answers[-1]["X-MinLimit-Remaining"] == "0"
    over = call()
    assert over.status_code == 429
    assert over["X-Rate-Limit-Problem"] == "minute"
    retry_after = int(over["Retry-After"])
    assert 1 <= retry_after <= 60
    assert all(h in over for h in HEADERS)
    assert over["X-DayLimit-Remaining"] == "4940"  # a refused call is not counted

    clock.advance(retry_after - 1.5)
    assert call().status_code == 429  # fixed window: still the same minute
    clock.advance(1.6)
    again = call()
    assert again.status_code == 200
    assert again["X-MinLimit-Remaining"] == "59"


def test_a_shortened_minute_shortens_retry_after(call, clock, settings):
    settings.XERO_SANDBOX_MINUTE_SECONDS = 3
    for _ in range(60):
        call()
    over = call()
    assert over.status_code == 429
    assert 1 <= int(over["Retry-After"]) <= 3
    clock.advance(int(over["Retry-After"]))
    assert call().status_code == 200


def test_windows_are_per_organisation(client, call, clock):
    other = sandbox_org("Other Co")
    tokens = sandbox_token(other)
    for _ in range(60):
        call()
    assert call().status_code == 429
    response = client.get(
        "/sandbox/xero/probe",
        headers={"Authorization": f"Bearer {tokens['access_token']}", "xero-tenant-id": str(other.tenant_id)},
    )
    assert response.status_code == 200


def test_5000_calls_a_day_then_429_day(org):
    app = sandbox_app()
    # Start at the beginning of this organisation's day window (windows reset at a per-org offset).
    day_start = limits._window("", seed=org.tenant_id.int, length=86400, limit=0, now=1_800_000_000).ends_at
    admitted = 0
    for i in range(5000):
        # 50 calls a minute: never the minute limit, only the day's.
        result = limits.limits_admit(org=org, app=app, now=day_start + (i // 50) * 60)
        limits.limits_release(result)
        admitted += result.admitted
    assert admitted == 5000
    refused = limits.limits_admit(org=org, app=app, now=day_start + 100 * 60)
    assert refused.problem == "day"
    assert refused.headers["X-DayLimit-Remaining"] == "0"
    assert refused.retry_after == 86400 - 100 * 60
    assert limits.limits_admit(org=org, app=app, now=day_start + 86400).admitted


def test_a_shortened_day_limits_and_retries_by_its_own_length(call, clock, settings):
    settings.XERO_SANDBOX_DAY_SECONDS = 120
    settings.XERO_SANDBOX_DAY_LIMIT = 3
    assert [call().status_code for _ in range(3)] == [200, 200, 200]
    over = call()
    assert (over.status_code, over["X-Rate-Limit-Problem"]) == (429, "day")
    assert 1 <= int(over["Retry-After"]) <= 120
    clock.advance(int(over["Retry-After"]))
    assert call().status_code == 200


def test_app_minute_limit_spans_organisations(client, clock, settings):
    settings.XERO_SANDBOX_APP_MINUTE_LIMIT = 3
    orgs = [sandbox_org(f"Org {i}") for i in range(4)]
    tokens = sandbox_token(orgs)
    statuses, problems = [], []
    for one in orgs:
        r = client.get(
            "/sandbox/xero/probe",
            headers={"Authorization": f"Bearer {tokens['access_token']}", "xero-tenant-id": str(one.tenant_id)},
        )
        statuses.append(r.status_code)
        problems.append(r.get("X-Rate-Limit-Problem"))
    assert statuses == [200, 200, 200, 429]
    assert problems[-1] == "appminute"


def test_five_concurrent_calls_per_org(org):
    app = sandbox_app()
    held = [limits.limits_admit(org=org, app=app) for _ in range(5)]
    assert all(r.admitted for r in held)
    sixth = limits.limits_admit(org=org, app=app)
    assert sixth.problem == "concurrent"
    assert sixth.retry_after == 1
    limits.limits_release(held.pop())
    seventh = limits.limits_admit(org=org, app=app)
    assert seventh.admitted
    for r in [*held, seventh]:
        limits.limits_release(r)
    assert RateCounter.objects.get(key=f"org:{org.pk}:concurrent").count == 0


def test_the_concurrency_slot_is_given_back_when_the_view_fails(org, rf):
    app = sandbox_app()
    tokens = sandbox_token(org, app=app)

    @sandbox_api(read=("accounting.transactions",), write=())
    def broken(request):
        raise RuntimeError("boom")

    request = rf.get(
        "/x", headers={"Authorization": f"Bearer {tokens['access_token']}", "xero-tenant-id": str(org.tenant_id)}
    )
    for _ in range(6):
        with pytest.raises(RuntimeError):
            broken(request)
    assert RateCounter.objects.get(key=f"org:{org.pk}:concurrent").count == 0


def test_the_request_log_records_every_call(call, clock, org):
    call()
    for _ in range(59):
        call()
    call()
    logs = list(RequestLog.objects.filter(organisation=org).order_by("id"))
    assert len(logs) == 61
    assert logs[0].method == "GET" and logs[0].path == "/sandbox/xero/probe" and logs[0].status == 200
    assert logs[0].limit_headers["X-MinLimit-Remaining"] == "59"
    assert logs[-1].status == 429 and logs[-1].rate_limit_problem == "minute"
    assert "Retry-After" in logs[-1].limit_headers


def test_unauthorised_calls_are_logged_too(client):
    client.get("/sandbox/xero/probe?page=2")
    log = RequestLog.objects.get()
    assert (log.status, log.query, log.organisation) == (401, "page=2", None)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_limits_hold_across_threads_on_postgresql(org, settings):
    settings.XERO_SANDBOX_CONCURRENT_LIMIT = 1000
    app = sandbox_app()
    now = timezone.now().timestamp()
    results = []
    lock = threading.Lock()

    def worker():
        try:
            for _ in range(10):
                r = limits.limits_admit(org=org, app=app, now=now)
                limits.limits_release(r)
                with lock:
                    results.append(r)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    admitted = [r for r in results if r.admitted]
    # 100 tries at one instant from 10 threads: exactly 60 get through the minute, never more.
    assert len(results) == 100
    assert len(admitted) == 60
    assert {r.problem for r in results if not r.admitted} == {"minute"}
    assert RateCounter.objects.get(key=f"org:{org.pk}:min").count == 60
    assert RateCounter.objects.get(key=f"org:{org.pk}:concurrent").count == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrency_cap_holds_across_threads_on_postgresql(org):
    app = sandbox_app()
    barrier = threading.Barrier(8, timeout=30)
    held, refused = [], []
    lock = threading.Lock()
    release = threading.Event()

    def worker():
        try:
            barrier.wait()
            r = limits.limits_admit(org=org, app=app)
            with lock:
                (held if r.admitted else refused).append(r)
            barrier.wait()
            release.wait(timeout=30)
            limits.limits_release(r)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for _ in range(600):  # the workers pass the second barrier once all eight have been answered
        with lock:
            if len(held) + len(refused) == 8:
                break
        threading.Event().wait(0.05)
    release.set()
    for t in threads:
        t.join(timeout=60)
    assert len(held) == 5
    assert {r.problem for r in refused} == {"concurrent"}
