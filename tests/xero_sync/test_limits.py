"""The rate limiter: call slots, pacing from Xero's headers, Retry-After blocks and day parking, per organisation."""

import datetime as dt
import http.server
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import connection

from xero_sync.errors import XeroRateLimited
from xero_sync.limits import Limiter, _observe
from xero_sync.models import XeroCallSlot, XeroRateState

ORG_A = "11111111-1111-1111-1111-111111111111"
ORG_B = "22222222-2222-2222-2222-222222222222"


class FakeClock:
    """Wall-clock seconds that move only when something sleeps; every sleep is recorded."""

    def __init__(self, start: float = 1_800_000_000.0):
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    @property
    def moment(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.now, tz=dt.UTC)


def headers(minute: int = 50, day: int = 4000, app: int = 9000) -> dict:
    return {"X-MinLimit-Remaining": str(minute), "X-DayLimit-Remaining": str(day), "X-AppMinLimit-Remaining": str(app)}


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def limiter(db, clock):
    return Limiter(ORG_A, sleep=clock.sleep, clock=clock)


def test_at_most_five_calls_in_flight_then_a_short_wait_gives_up(limiter, clock):
    leases = [limiter.acquire() for _ in range(5)]

    with pytest.raises(XeroRateLimited) as caught:
        limiter.acquire()

    assert caught.value.problem == "concurrent"
    assert sum(clock.sleeps) <= limiter.max_wait
    limiter.release(leases[0])
    assert limiter.acquire()


def test_a_killed_workers_slot_frees_itself_when_its_lease_expires(limiter, clock):
    for _ in range(5):
        limiter.acquire()  # never released, as if the worker died mid-call

    clock.now += limiter.lease_seconds + 1

    assert limiter.acquire()


def test_release_with_a_stale_lease_does_not_free_someone_elses_slot(limiter, clock):
    leases = [limiter.acquire() for _ in range(5)]
    clock.now += limiter.lease_seconds + 1
    newcomer = limiter.acquire()  # took over an expired slot
    stale = next(lease for lease in leases if lease.slot_id == newcomer.slot_id)

    limiter.release(stale)

    assert XeroCallSlot.objects.get(pk=newcomer.slot_id).lease == newcomer.token


def test_minute_budget_used_up_waits_for_the_window_to_roll(limiter, clock, settings):
    settings.XERO_RATE_MINUTE_SECONDS = 20
    start = clock.now
    limiter.release(limiter.acquire(), headers(minute=0))

    limiter.acquire()

    assert clock.now >= start + 20
    assert clock.sleeps == [pytest.approx(20)]


def test_calls_are_counted_before_xero_reports_them(limiter, clock, settings):
    settings.XERO_RATE_MINUTE_SECONDS = 20
    settings.XERO_RATE_MINUTE_LIMIT = 3
    start = clock.now
    for _ in range(3):
        limiter.release(limiter.acquire())  # answers without limit headers

    limiter.acquire()

    assert clock.now >= start + 20


def test_a_wait_longer_than_max_wait_raises_instead_of_sleeping(db, clock, settings):
    settings.XERO_RATE_MINUTE_SECONDS = 60
    limiter = Limiter(ORG_A, sleep=clock.sleep, clock=clock, max_wait=5)
    limiter.release(limiter.acquire(), headers(minute=0))

    with pytest.raises(XeroRateLimited) as caught:
        limiter.acquire()

    assert caught.value.problem == "minute"
    assert caught.value.resume_at == pytest.approx(clock.moment + dt.timedelta(seconds=60), abs=dt.timedelta(seconds=1))
    assert clock.sleeps == []


def test_day_budget_gone_parks_until_the_reset_without_waiting(limiter, clock):
    first = clock.moment
    limiter.release(limiter.acquire(), headers(day=0))
    clock.now += 3600

    with pytest.raises(XeroRateLimited) as caught:
        limiter.acquire()

    assert caught.value.problem == "day"
    assert caught.value.resume_at <= first + dt.timedelta(days=1, seconds=1)
    assert caught.value.resume_at > clock.moment
    assert clock.sleeps == []


def test_retry_after_blocks_every_worker_of_that_organisation_exactly(db, clock):
    worker_1 = Limiter(ORG_A, sleep=clock.sleep, clock=clock)
    worker_2 = Limiter(ORG_A, sleep=clock.sleep, clock=clock)
    lease = worker_1.acquire()
    until = worker_1.block(problem="minute", retry_after=7)
    worker_1.release(lease)

    worker_2.acquire()

    assert clock.moment == until
    assert clock.sleeps == [pytest.approx(7)]


def test_one_organisation_blocked_does_not_slow_another(db, clock):
    org_a = Limiter(ORG_A, sleep=clock.sleep, clock=clock)
    org_b = Limiter(ORG_B, sleep=clock.sleep, clock=clock)
    busy = [org_a.acquire() for _ in range(5)]  # every slot of A in use...
    org_a.release(busy.pop(), headers(minute=0))  # ...its minute used up...
    org_a.block(problem="minute", retry_after=600)  # ...and Xero said no for ten minutes

    with pytest.raises(XeroRateLimited):
        org_a.acquire()
    for _ in range(5):
        org_b.acquire()

    assert clock.sleeps == []


def test_app_minute_budget_is_shared_by_every_organisation(db, clock, settings):
    settings.XERO_RATE_MINUTE_SECONDS = 20
    org_a = Limiter(ORG_A, sleep=clock.sleep, clock=clock)
    org_b = Limiter(ORG_B, sleep=clock.sleep, clock=clock)
    org_a.release(org_a.acquire(), headers(app=0))

    org_b.acquire()

    assert clock.sleeps == [pytest.approx(20)]


def test_appminute_429_blocks_the_whole_app(db, clock):
    org_a = Limiter(ORG_A, sleep=clock.sleep, clock=clock)
    org_b = Limiter(ORG_B, sleep=clock.sleep, clock=clock)
    org_a.block(problem="appminute", retry_after=3)

    org_b.acquire()

    assert clock.sleeps == [pytest.approx(3)]


def test_xero_window_rolling_early_restores_the_budget():
    start = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)
    later = start + dt.timedelta(seconds=20)

    # Our count said 10 left; Xero says 58: its window rolled, so this answer starts the new one.
    assert _observe(start, 10, 58, later, 60, slack=4) == (later, 54)
    # Out-of-order answers within the window never raise our count.
    assert _observe(start, 10, 12, later, 60, slack=4) == (start, 10)
    assert _observe(start, 10, 7, later, 60, slack=4) == (start, 7)


def test_state_is_one_row_per_organisation_plus_the_app(limiter):
    limiter.release(limiter.acquire(), headers())
    Limiter(ORG_A).acquire()

    assert sorted(XeroRateState.objects.values_list("tenant_id", flat=True)) == sorted(["app", ORG_A])


# -- across processes (PostgreSQL) ---------------------------------------------------------------------------


class _SlowServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _SlowHandler)
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self.served = 0


class _SlowHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        server = self.server
        with server.lock:
            server.in_flight += 1
            server.max_in_flight = max(server.max_in_flight, server.in_flight)
        time.sleep(0.15)
        with server.lock:
            server.in_flight -= 1
            server.served += 1
        body = b'{"Contacts": []}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


# Each worker process: Django on the test database, three threads each with its own connection, all starting
# at the same moment so that the processes really compete.
_WORKER_PROCESS = """
import sys, threading, time
import django
django.setup()
from django.db import connection
from xero_sync.client import XeroClient
from xero_sync.limits import Limiter

port, tenant, start_at = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
failures = []

def work():
    try:
        client = XeroClient(
            tenant_id=tenant, access_token=lambda: "token", refresh_access_token=lambda: "token",
            limiter=Limiter(tenant, max_wait=60), api_url=f"http://127.0.0.1:{port}", timeout=10,
        )
        for _ in range(3):
            client.get("Contacts")
    except Exception as exc:
        failures.append(repr(exc))
    finally:
        connections.close_all()

time.sleep(max(0.0, start_at - time.time()))
threads = [threading.Thread(target=work) for _ in range(3)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join(60)
print(failures)
sys.exit(1 if failures else 0)
"""


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_five_in_flight_cap_holds_across_worker_processes():
    server = _SlowServer()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    database = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
    }
    start_at = time.time() + 6  # time for every process to start Django
    args = [str(server.server_address[1]), ORG_A, str(start_at)]
    try:
        workers = [
            subprocess.Popen(
                [sys.executable, "-c", _WORKER_PROCESS, *args],
                cwd=Path(__file__).resolve().parents[2],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for _ in range(4)
        ]
        outputs = [worker.communicate(timeout=90)[0] for worker in workers]
    finally:
        server.shutdown()
        server.server_close()

    assert [worker.returncode for worker in workers] == [0] * 4, outputs
    assert server.served == 4 * 3 * 3
    assert server.max_in_flight == 5  # the cap was reached (so it was tested) and never passed
