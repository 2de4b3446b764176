"""The Xero API client: headers, typed errors, token refresh, paging, retries and rate limits."""

import datetime as dt
import importlib.util
import json
import logging
import time
import zoneinfo

import pytest
import requests
import responses

from tests.xero_sync.test_limits import ORG_A, ORG_B, FakeClock
from xero_sync.client import XeroClient
from xero_sync.errors import (
    XeroForbidden,
    XeroNotFound,
    XeroRateLimited,
    XeroServerError,
    XeroTimeout,
    XeroUnauthorized,
    XeroValidationError,
    redact,
)
from xero_sync.limits import Limiter
from xero_sync.models import XeroRateState

API = "https://api.test/api.xro/2.0"
LIMITS = {"X-MinLimit-Remaining": "55", "X-DayLimit-Remaining": "4900", "X-AppMinLimit-Remaining": "9000"}


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def wire():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


class Tokens:
    def __init__(self):
        self.current = "access-1"
        self.refreshes = 0

    def access(self) -> str:
        return self.current

    def refresh(self) -> str:
        self.refreshes += 1
        self.current = f"access-{self.refreshes + 1}"
        return self.current


@pytest.fixture
def tokens():
    return Tokens()


def make_client(clock, tokens, tenant_id=ORG_A, **kwargs) -> XeroClient:
    limiter = Limiter(tenant_id, sleep=clock.sleep, clock=clock, max_wait=kwargs.pop("max_wait", 30))
    return XeroClient(
        tenant_id=tenant_id,
        access_token=tokens.access,
        refresh_access_token=tokens.refresh,
        limiter=limiter,
        api_url=API,
        timeout=12.5,
        sleep=clock.sleep,
        clock=clock,
        **kwargs,
    )


@pytest.fixture
def client(db, clock, tokens):
    return make_client(clock, tokens)


def ok(body: dict, **headers) -> dict:
    return {"json": body, "status": 200, "headers": {**LIMITS, **headers}}


def problem(status: int, detail: str) -> dict:
    title = {401: "Unauthorized", 403: "Forbidden"}[status]
    body = {"Type": None, "Title": title, "Status": status, "Detail": detail, "Instance": "x", "Extensions": {}}
    return {"json": body, "status": status, "headers": LIMITS}


# -- every call ----------------------------------------------------------------------------------------------


def test_every_call_names_the_organisation_asks_for_json_and_has_a_timeout(client, wire):
    wire.get(f"{API}/Organisation", **ok({"Organisations": [{"Name": "Acme"}]}))

    data = client.get("Organisation")

    request = wire.calls[0].request
    assert data["Organisations"][0]["Name"] == "Acme"
    assert request.headers["xero-tenant-id"] == ORG_A
    assert request.headers["Accept"] == "application/json"
    assert request.headers["Authorization"] == "Bearer access-1"
    assert request.req_kwargs["timeout"] == 12.5
    assert client.calls == 1


def test_if_modified_since_is_sent_as_xero_wants_it_in_utc(client, wire):
    wire.get(f"{API}/Contacts", **ok({"Contacts": []}))
    sydney = dt.datetime(2026, 11, 20, 21, 0, 5, 123, tzinfo=zoneinfo.ZoneInfo("Australia/Sydney"))

    client.get("Contacts", if_modified_since=sydney)

    assert wire.calls[0].request.headers["If-Modified-Since"] == "2026-11-20T10:00:05"


def test_a_naive_if_modified_since_is_refused(client):
    with pytest.raises(ValueError):
        client.get("Contacts", if_modified_since=dt.datetime(2026, 11, 20, 10, 0))


# -- typed errors --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (problem(403, "AuthenticationUnsuccessful"), XeroForbidden),
        ({"body": "The resource you're looking for cannot be found", "status": 404}, XeroNotFound),
        ({"body": "Service Unavailable", "status": 503, "content_type": "text/plain"}, XeroServerError),
        ({"json": {"Title": "An error occurred", "Status": 500}, "status": 500}, XeroServerError),
    ],
)
def test_failures_become_typed_errors(client, wire, answer, error):
    wire.put(f"{API}/Contacts", **answer)

    with pytest.raises(error) as caught:
        client.put("Contacts", {"Contacts": [{"Name": "Bob"}]})

    assert caught.value.status_code == answer["status"]
    assert caught.value.method == "PUT"
    assert caught.value.endpoint == "Contacts"


def test_forbidden_authentication_unsuccessful_means_reconnect(client, wire):
    wire.get(f"{API}/Invoices", **problem(403, "AuthenticationUnsuccessful"))

    with pytest.raises(XeroForbidden) as caught:
        client.get("Invoices")

    assert caught.value.needs_reconnect
    assert caught.value.detail == "AuthenticationUnsuccessful"


def test_plain_text_404_keeps_xeros_words(client, wire):
    wire.get(f"{API}/Invoices/abc", body="The resource you're looking for cannot be found", status=404)

    with pytest.raises(XeroNotFound) as caught:
        client.get("Invoices/abc")

    assert caught.value.detail == "The resource you're looking for cannot be found"


def test_validation_error_pairs_each_element_with_its_messages(client, wire):
    body = {
        "ErrorNumber": 10,
        "Type": "ValidationException",
        "Message": "A validation exception occurred",
        "Elements": [
            {
                "InvoiceNumber": "INV-1",
                "ValidationErrors": [{"Message": "Invoice # must be unique."}],
                "LineItems": [{"AccountCode": "476", "ValidationErrors": [{"Message": "Account must be valid."}]}],
            },
            {"InvoiceNumber": "INV-2", "ValidationErrors": [{"Message": "Invoice # must be unique."}]},
        ],
    }
    wire.post(f"{API}/Invoices", json=body, status=400)

    with pytest.raises(XeroValidationError) as caught:
        client.post("Invoices", {"Invoices": [{"InvoiceNumber": "INV-1"}, {"InvoiceNumber": "INV-2"}]})

    error = caught.value
    assert [element["InvoiceNumber"] for element, _ in error.elements] == ["INV-1", "INV-2"]
    assert error.elements[0][1] == ["Invoice # must be unique.", "Account must be valid."]
    assert error.messages == ["Invoice # must be unique.", "Account must be valid."]
    assert "ValidationErrors" not in error.elements[0][0]


def test_error_text_never_carries_a_token(client, wire, caplog):
    leaked = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    wire.get(f"{API}/Invoices", json={"Message": f"bad token Bearer {leaked}", "Detail": leaked}, status=409)
    caplog.set_level(logging.DEBUG)

    with pytest.raises(Exception) as caught:
        client.get("Invoices")

    assert leaked not in str(caught.value)
    assert leaked not in caught.value.response_excerpt
    assert leaked not in caught.value.detail
    assert "access-1" not in caplog.text


@pytest.mark.parametrize(
    "text",
    [
        '{"access_token":"s3cr3t-value","token_type":"Bearer"}',
        "grant_type=refresh_token&refresh_token=s3cr3t-value&client_id=abc",
        "Authorization: Bearer s3cr3t-value",
    ],
)
def test_excerpts_drop_token_values(text):
    assert "s3cr3t-value" not in redact(text)


# -- tokens --------------------------------------------------------------------------------------------------


def test_401_refreshes_the_token_once_and_repeats_the_call(client, wire, tokens):
    wire.get(f"{API}/Contacts", **problem(401, "TokenExpired: token expired at 11/20/2026 10:00:00"))
    wire.get(f"{API}/Contacts", **ok({"Contacts": [{"Name": "Bob"}]}))

    data = client.get("Contacts")

    assert data["Contacts"] == [{"Name": "Bob"}]
    assert tokens.refreshes == 1
    assert [c.request.headers["Authorization"] for c in wire.calls] == ["Bearer access-1", "Bearer access-2"]


def test_401_after_the_refresh_is_unauthorized(client, wire, tokens):
    wire.get(f"{API}/Contacts", **problem(401, "TokenExpired"))

    with pytest.raises(XeroUnauthorized):
        client.get("Contacts")

    assert tokens.refreshes == 1
    assert len(wire.calls) == 2


# -- paging --------------------------------------------------------------------------------------------------


def _paged(records: list[dict], key: str, *, with_page_count: bool = True):
    def answer(request):
        page = int(request.params["page"])
        size = int(request.params["pageSize"])
        chunk = records[(page - 1) * size : page * size]
        body = {key: chunk}
        if with_page_count:
            body["pagination"] = {
                "page": page,
                "pageSize": size,
                "pageCount": -(-len(records) // size),
                "itemCount": len(records),
            }
        return 200, LIMITS, json.dumps(body)

    return answer


def test_paging_2500_records_at_1000_a_page_takes_three_calls(client, wire):
    records = [{"InvoiceID": str(n)} for n in range(2500)]
    wire.add_callback(responses.GET, f"{API}/Invoices", callback=_paged(records, "Invoices"))

    pages = list(client.paginate("Invoices", key="Invoices", params={"Statuses": "AUTHORISED"}))

    assert [len(page) for page in pages] == [1000, 1000, 500]
    assert [r["InvoiceID"] for page in pages for r in page] == [str(n) for n in range(2500)]
    assert client.calls == 3
    assert all(c.request.params["Statuses"] == "AUTHORISED" for c in wire.calls)
    assert [c.request.params["page"] for c in wire.calls] == ["1", "2", "3"]


def test_paging_stops_at_page_count_without_asking_for_an_empty_page(client, wire):
    records = [{"ContactID": str(n)} for n in range(2000)]
    wire.add_callback(responses.GET, f"{API}/Contacts", callback=_paged(records, "Contacts"))

    pages = list(client.paginate("Contacts", key="Contacts"))

    assert [len(page) for page in pages] == [1000, 1000]
    assert client.calls == 2


def test_paging_without_page_count_stops_on_an_empty_page(client, wire):
    records = [{"ContactID": str(n)} for n in range(200)]
    wire.add_callback(responses.GET, f"{API}/Contacts", callback=_paged(records, "Contacts", with_page_count=False))

    pages = list(client.paginate("Contacts", key="Contacts", page_size=100))

    assert [len(page) for page in pages] == [100, 100]
    assert client.calls == 3


def test_pages_are_fetched_as_they_are_consumed(client, wire):
    records = [{"InvoiceID": str(n)} for n in range(2500)]
    wire.add_callback(responses.GET, f"{API}/Invoices", callback=_paged(records, "Invoices"))

    first = next(client.paginate("Invoices", key="Invoices"))

    assert len(first) == 1000
    assert client.calls == 1


# -- retries -------------------------------------------------------------------------------------------------


def test_reads_retry_server_errors_with_back_off(client, wire, clock):
    wire.get(f"{API}/Items", body="Service Unavailable", status=503)
    wire.get(f"{API}/Items", json={"Title": "An error occurred"}, status=500)
    wire.get(f"{API}/Items", **ok({"Items": [{"Code": "LATE"}]}))

    data = client.get("Items")

    assert data["Items"] == [{"Code": "LATE"}]
    assert client.calls == 3
    assert len(clock.sleeps) == 2
    assert all(0 <= s <= 8 for s in clock.sleeps)


def test_reads_give_up_after_four_attempts(client, wire):
    wire.get(f"{API}/Items", body="Service Unavailable", status=503)

    with pytest.raises(XeroServerError):
        client.get("Items")

    assert client.calls == 4


def test_reads_retry_timeouts_and_dropped_connections(client, wire):
    wire.get(f"{API}/Items", body=requests.ReadTimeout("read timed out"))
    wire.get(f"{API}/Items", body=requests.ConnectionError("connection reset"))
    wire.get(f"{API}/Items", **ok({"Items": []}))

    assert client.get("Items") == {"Items": []}
    assert client.calls == 3


def test_a_read_that_keeps_timing_out_is_a_timeout_error(client, wire):
    wire.get(f"{API}/Items", body=requests.ReadTimeout("read timed out"))

    with pytest.raises(XeroTimeout):
        client.get("Items")

    assert client.calls == 4


@pytest.mark.parametrize(
    "failure",
    [{"body": "Service Unavailable", "status": 503}, {"body": requests.ReadTimeout("read timed out")}],
)
def test_writes_without_an_idempotency_key_are_not_retried(client, wire, failure):
    wire.put(f"{API}/Invoices", **failure)
    wire.put(f"{API}/Invoices", **ok({"Invoices": []}))

    with pytest.raises((XeroServerError, XeroTimeout)):
        client.put("Invoices", {"Invoices": [{"Type": "ACCREC"}]})

    assert client.calls == 1


def test_writes_with_an_idempotency_key_are_retried_with_the_same_key(client, wire):
    wire.put(f"{API}/Invoices", body=requests.ReadTimeout("read timed out"))
    wire.put(f"{API}/Invoices", **ok({"Invoices": [{"InvoiceID": "i-1"}]}))

    data = client.put("Invoices", {"Invoices": [{"Type": "ACCREC"}]}, idempotency_key="fee-42")

    assert data["Invoices"][0]["InvoiceID"] == "i-1"
    assert [c.request.headers["Idempotency-Key"] for c in wire.calls] == ["fee-42", "fee-42"]


# -- writes --------------------------------------------------------------------------------------------------


def test_batches_ask_xero_not_to_summarize_errors(client, wire):
    wire.post(f"{API}/Invoices", **ok({"Invoices": []}))
    wire.post(f"{API}/Invoices/i-1", **ok({"Invoices": []}))

    client.post("Invoices", {"Invoices": [{"InvoiceID": "i-1"}]})
    client.post("Invoices/i-1", {"InvoiceID": "i-1", "LineItems": [{"Description": "Fee"}]})
    client.post("Invoices/i-1", {"Invoices": [{"InvoiceID": "i-1", "LineItems": []}]})

    sent = [json.loads(c.request.body) for c in wire.calls]
    assert [c.request.params for c in wire.calls] == [{"summarizeErrors": "false"}, {}, {}]
    assert sent[0] == {"Invoices": [{"InvoiceID": "i-1"}]}


def test_summarize_errors_can_be_left_on_when_asked(client, wire):
    wire.put(f"{API}/Contacts", **ok({"Contacts": []}))

    client.put("Contacts", {"Contacts": [{"Name": "Bob"}]}, summarize_errors=True)

    assert "summarizeErrors" not in wire.calls[0].request.params


def test_delete_with_an_empty_answer(client, wire):
    wire.delete(f"{API}/Items/abc", status=204, headers=LIMITS)

    assert client.delete("Items/abc") == {}


# -- rate limits ---------------------------------------------------------------------------------------------


def _timed(clock, answers: list[tuple[int, dict, str]], sent_at: list[float]):
    def answer(request):
        sent_at.append(clock.now)
        return answers.pop(0) if len(answers) > 1 else answers[0]

    return answer


def test_429_waits_out_retry_after_exactly_before_calling_again(client, wire, clock):
    sent_at: list[float] = []
    limited = (429, {"Retry-After": "7", "X-Rate-Limit-Problem": "minute", **LIMITS}, "")
    answers = [limited, (200, LIMITS, json.dumps({"Contacts": []}))]
    wire.add_callback(responses.GET, f"{API}/Contacts", callback=_timed(clock, answers, sent_at))

    client.get("Contacts")

    assert len(sent_at) == 2
    assert sent_at[1] - sent_at[0] == pytest.approx(7, abs=1e-3)
    assert sent_at[1] - sent_at[0] >= 7 - 1e-6


def test_a_long_retry_after_parks_the_work_and_other_workers_respect_it(client, wire, clock, tokens):
    sent_at: list[float] = []
    limited = (429, {"Retry-After": "300", "X-Rate-Limit-Problem": "minute", **LIMITS}, "")
    wire.add_callback(responses.GET, f"{API}/Contacts", callback=_timed(clock, [limited], sent_at))
    start = clock.moment

    with pytest.raises(XeroRateLimited) as caught:
        client.get("Contacts")
    other_worker = make_client(clock, tokens)
    clock.now += 200
    with pytest.raises(XeroRateLimited) as again:
        other_worker.get("Contacts")

    assert caught.value.problem == "minute"
    assert caught.value.resume_at == start + dt.timedelta(seconds=300)
    assert again.value.resume_at == start + dt.timedelta(seconds=300)
    assert len(sent_at) == 1  # nobody called before Retry-After passed
    assert clock.sleeps == []


def test_pacing_waits_for_the_minute_window_when_xero_says_none_left(db, wire, clock, tokens, settings):
    settings.XERO_RATE_MINUTE_SECONDS = 20
    client = make_client(clock, tokens)
    sent_at: list[float] = []
    answers = [
        (200, {**LIMITS, "X-MinLimit-Remaining": "0"}, json.dumps({"Items": []})),
        (200, {**LIMITS, "X-MinLimit-Remaining": "59"}, json.dumps({"Items": []})),
    ]
    wire.add_callback(responses.GET, f"{API}/Items", callback=_timed(clock, answers, sent_at))

    client.get("Items")
    client.get("Items")

    assert sent_at[1] - sent_at[0] >= 20
    assert client.calls == 2


def test_day_limit_gone_parks_without_calling(client, wire, clock):
    wire.get(f"{API}/Items", **ok({"Items": []}, **{"X-DayLimit-Remaining": "0"}))
    client.get("Items")

    with pytest.raises(XeroRateLimited) as caught:
        client.get("Items")

    assert caught.value.problem == "day"
    assert caught.value.resume_at > clock.moment
    assert len(wire.calls) == 1


def test_a_day_429_parks_at_once_until_retry_after(client, wire, clock):
    limited = {"X-Rate-Limit-Problem": "day", "Retry-After": "5000", **LIMITS}
    wire.get(f"{API}/Items", status=429, headers=limited, body="")
    start = clock.moment

    with pytest.raises(XeroRateLimited) as caught:
        client.get("Items")
    with pytest.raises(XeroRateLimited):
        client.get("Items")

    assert caught.value.problem == "day"
    assert caught.value.resume_at == start + dt.timedelta(seconds=5000)
    assert len(wire.calls) == 1


def test_one_organisation_rate_limited_does_not_delay_another(db, wire, clock, tokens):
    org_a = make_client(clock, tokens, ORG_A)
    org_b = make_client(clock, tokens, ORG_B)
    limited = {"X-Rate-Limit-Problem": "minute", "Retry-After": "600", **LIMITS}
    wire.get(
        f"{API}/Items",
        status=429,
        headers=limited,
        body="",
        match=[responses.matchers.header_matcher({"xero-tenant-id": ORG_A})],
    )
    wire.get(f"{API}/Items", match=[responses.matchers.header_matcher({"xero-tenant-id": ORG_B})], **ok({}))

    with pytest.raises(XeroRateLimited):
        org_a.get("Items")
    for _ in range(10):
        org_b.get("Items")

    assert org_b.calls == 10
    assert clock.sleeps == []


# -- against the sandbox, over its in-process wire ------------------------------------------------------------

SANDBOX_READY = all(importlib.util.find_spec(m) for m in ("xero_sandbox.testing", "xero_sandbox.seed"))
needs_sandbox = pytest.mark.skipif(not SANDBOX_READY, reason="xero_sandbox.testing is not there yet")
SANDBOX_API = "http://sandbox.test/api.xro/2.0"


class Wire:
    """The sandbox's in-process session, noting the status and time of every request that reaches it."""

    def __init__(self, clock=time.time):
        from xero_sandbox.testing import wire_session

        self.session = wire_session()
        self.sent: list[tuple[float, str, int | None]] = []
        send = self.session.send

        def recording_send(request, **kwargs):
            at = clock()
            try:
                response = send(request, **kwargs)
            except requests.RequestException:
                self.sent.append((at, request.method, None))
                raise
            self.sent.append((at, request.method, response.status_code))
            return response

        self.session.send = recording_send

    @property
    def statuses(self) -> list[int | None]:
        return [status for _, _, status in self.sent]


@pytest.fixture
def sandbox(db):
    from xero_sandbox.seed import seed_organisation
    from xero_sandbox.testing import fault_clear, sandbox_token

    org = seed_organisation("Sandbox Plumbing", contacts=0, invoices=0)
    token = sandbox_token(org)["access_token"]
    yield org, token
    fault_clear(org)


def sandbox_client(org, token, wire: Wire, **kwargs) -> XeroClient:
    tenant_id = str(org.tenant_id)
    kwargs.setdefault("limiter", Limiter(tenant_id, sleep=kwargs.get("sleep", time.sleep)))
    return XeroClient(
        tenant_id=tenant_id,
        access_token=lambda: token,
        refresh_access_token=lambda: token,
        session=wire.session,
        api_url=SANDBOX_API,
        timeout=5,
        **kwargs,
    )


@needs_sandbox
def test_sandbox_paging_across_page_boundaries(db):
    from xero_sandbox.seed import seed_organisation
    from xero_sandbox.testing import sandbox_token

    org = seed_organisation("Big Plumbing", contacts=2500, invoices=0)
    wire = Wire()
    client = sandbox_client(org, sandbox_token(org)["access_token"], wire, sleep=lambda s: None)

    pages = list(client.paginate("Contacts", key="Contacts", params={"includeArchived": "true"}))

    ids = [c["ContactID"] for page in pages for c in page]
    assert len(ids) == len(set(ids)) >= 2500
    assert [len(page) for page in pages[:2]] == [1000, 1000]
    assert client.calls == len(pages) == -(-len(ids) // 1000)


@needs_sandbox
def test_sandbox_typed_errors(sandbox):
    org, token = sandbox
    wire = Wire()
    client = sandbox_client(org, token, wire)
    wrong_tenant = XeroClient(
        tenant_id=ORG_B,
        access_token=lambda: token,
        refresh_access_token=lambda: token,
        session=wire.session,
        api_url=SANDBOX_API,
    )

    with pytest.raises(XeroNotFound):
        client.get("Invoices/6f0b3cbb-1d4b-4a4c-9d35-6e1c2b0c1a11")
    with pytest.raises(XeroForbidden) as forbidden:
        wrong_tenant.get("Organisation")
    client.put("Contacts", {"Contacts": [{"Name": "Bob Builder"}]})
    with pytest.raises(XeroValidationError) as invalid:
        client.put("Contacts", {"Contacts": [{"Name": "Bob Builder"}]}, summarize_errors=True)

    assert forbidden.value.needs_reconnect
    assert invalid.value.elements and invalid.value.elements[0][0]["Name"] == "Bob Builder"
    assert any("already assigned to another contact" in m for m in invalid.value.messages)


@needs_sandbox
def test_sandbox_401_refreshes_once_and_retries(sandbox):
    org, token = sandbox
    wire = Wire()
    refreshed = []
    client = sandbox_client(org, "not-a-token", wire)
    client._refresh_access_token = lambda: refreshed.append(1) or token

    assert client.get("Organisation")["Organisations"][0]["Name"] == "Sandbox Plumbing"
    assert wire.statuses == [401, 200]
    assert refreshed == [1]


@needs_sandbox
def test_sandbox_server_errors_and_timeouts_are_retried_for_reads(sandbox):
    from xero_sandbox.testing import fault_set

    org, token = sandbox
    wire = Wire()
    client = sandbox_client(org, token, wire, sleep=lambda s: None)
    fault_set(org, "fail", count=2, status=503)
    client.get("Items")
    fault_set(org, "delay", count=1, delay_s=60)  # longer than the client's timeout
    client.get("Items")

    assert wire.statuses == [503, 503, 200, None, 200]


@needs_sandbox
def test_sandbox_write_without_a_key_is_not_retried(sandbox):
    from xero_sandbox.testing import fault_set

    org, token = sandbox
    wire = Wire()
    client = sandbox_client(org, token, wire, sleep=lambda s: None)
    fault_set(org, "fail", count=1, status=503)

    with pytest.raises(XeroServerError):
        client.put("Contacts", {"Contacts": [{"Name": "Only Once"}]})

    assert client.calls == 1


@needs_sandbox
def test_sandbox_dropped_write_with_a_key_is_retried_and_saved_once(sandbox):
    from xero_sandbox.testing import fault_set

    org, token = sandbox
    wire = Wire()
    client = sandbox_client(org, token, wire, sleep=lambda s: None)
    fault_set(org, "drop", count=1)  # Xero saves the contact, the answer is lost

    data = client.put("Contacts", {"Contacts": [{"Name": "Saved Once"}]}, idempotency_key="contact-saved-once")

    found = client.get("Contacts", params={"where": 'Name=="Saved Once"'})
    assert data["Contacts"][0]["Name"] == "Saved Once"
    assert len(found["Contacts"]) == 1
    assert wire.statuses[:2] == [None, 200]


@needs_sandbox
def test_sandbox_429_retry_after_is_waited_out_before_the_next_call(sandbox, settings):
    from xero_sandbox.testing import fault_set

    settings.XERO_SANDBOX_MINUTE_SECONDS = 3  # keeps the sandbox's Retry-After short
    org, token = sandbox
    wire = Wire()
    client = sandbox_client(org, token, wire)
    fault_set(org, "rate_limit", count=1)

    client.get("Organisation")

    (_, _, first), (second_at, _, second) = wire.sent
    assert (first, second) == (429, 200)
    state = XeroRateState.objects.get(tenant_id=str(org.tenant_id))
    assert state.blocked_problem == "minute"
    assert second_at >= state.blocked_until.timestamp()


@needs_sandbox
def test_sandbox_pacing_keeps_under_the_minute_limit_without_a_429(sandbox, settings):
    # A one-second "minute" of 4 calls on both sides: 10 calls must be spread over three windows.
    settings.XERO_SANDBOX_MINUTE_SECONDS = settings.XERO_RATE_MINUTE_SECONDS = 1
    settings.XERO_SANDBOX_MINUTE_LIMIT = settings.XERO_RATE_MINUTE_LIMIT = 4
    org, token = sandbox
    wire = Wire()
    client = sandbox_client(org, token, wire)

    for _ in range(10):
        client.get("Organisation")

    assert wire.statuses == [200] * 10
    assert wire.sent[-1][0] - wire.sent[0][0] >= 1


@needs_sandbox
def test_sandbox_day_limit_parks_the_work_without_calling(sandbox, settings):
    settings.XERO_SANDBOX_DAY_LIMIT = 3
    org, token = sandbox
    wire = Wire()
    client = sandbox_client(org, token, wire)
    for _ in range(3):
        client.get("Organisation")

    with pytest.raises(XeroRateLimited) as caught:
        client.get("Organisation")

    assert caught.value.problem == "day"
    assert caught.value.resume_at > dt.datetime.now(dt.UTC)
    assert wire.statuses == [200, 200, 200]
