"""The door every Accounting API call goes through: token, tenant, scopes, limits, faults, request log."""

import contextlib
import functools
import json
import logging
import socket
import time
import uuid
from collections.abc import Callable
from datetime import UTC

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from xero_sandbox import limits
from xero_sandbox.faults import FaultPlan, fault_plan_take
from xero_sandbox.identity.services import AccessGrant, TokenExpired, TokenInvalid, access_token_check
from xero_sandbox.models import Connection, Organisation, RequestLog, UserOrgRole

logger = logging.getLogger(__name__)

WRITE_METHODS = frozenset({"PUT", "POST", "DELETE", "PATCH"})

# Keys the in-process wire (xero_sandbox.testing.SandboxWire) and the gate use to talk through the environ.
ENV_WIRE_TIMEOUT = "xero_sandbox.wire_timeout"
ENV_TIMED_OUT = "xero_sandbox.timed_out"
ENV_DROPPED = "xero_sandbox.dropped"


def problem_response(status: int, detail: str) -> HttpResponse:
    """Xero's problem-details JSON for 401/403."""
    title = {401: "Unauthorized", 403: "Forbidden"}.get(status, "Error")
    body = {"Type": None, "Title": title, "Status": status, "Detail": detail, "Instance": str(uuid.uuid4())}
    body["Extensions"] = {}
    response = HttpResponse(json.dumps(body), status=status, content_type="application/json; charset=utf-8")
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return response


def _fail_response(status: int) -> HttpResponse:
    if status == 503:
        # Xero's 503s are plain text, not JSON.
        return HttpResponse("Service Unavailable", status=503, content_type="text/plain; charset=utf-8")
    body = {
        "Title": "An error occurred",
        "Detail": "An error occurred in Xero. Check the API Status page http://status.developer.xero.com "
        "for current service status.",
        "Status": 500,
    }
    return HttpResponse(json.dumps(body), status=500, content_type="application/json; charset=utf-8")


def _rate_limited_response(problem: str, retry_after: int) -> HttpResponse:
    response = HttpResponse(
        json.dumps({"Title": "Too Many Requests", "Status": 429, "Detail": f"Rate limit exceeded: {problem}"}),
        status=429,
        content_type="application/json; charset=utf-8",
    )
    response["X-Rate-Limit-Problem"] = problem
    response["Retry-After"] = str(retry_after)
    return response


def _headers_set(response: HttpResponse, headers: dict[str, str]) -> None:
    for name, value in headers.items():
        response[name] = value


def _bearer(request: HttpRequest) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def _tenant(request: HttpRequest) -> uuid.UUID | None:
    try:
        return uuid.UUID(request.headers.get("xero-tenant-id", "").strip())
    except ValueError:
        return None


def _authorised_org(grant: AccessGrant, tenant_id: uuid.UUID | None) -> Organisation | None:
    """The organisation, if this token's user still has a connection to it for this app and is still in it."""
    if tenant_id is None:
        return None
    connection = (
        Connection.objects.select_related("organisation")
        .filter(app=grant.app, user=grant.user, organisation__tenant_id=tenant_id)
        .first()
    )
    if connection is None:
        return None
    if not UserOrgRole.objects.filter(user=grant.user, organisation=connection.organisation).exists():
        return None
    return connection.organisation


def _socket_abort(request: HttpRequest) -> bool:
    """Drop the client's TCP connection for real when served over HTTP (gunicorn or the dev server)."""
    sock = request.environ.get("gunicorn.socket")
    if sock is None:
        # runserver / live_server: wsgi.input is a LimitedStream reading from the handler's socket file.
        stream = request.environ.get("wsgi.input")
        inner = getattr(getattr(stream, "_read", None), "__self__", stream)
        raw = getattr(getattr(inner, "raw", None), "_sock", None)
        sock = raw if isinstance(raw, socket.socket) else None
    if sock is None:
        return False
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    return True


def _apply_delay(request: HttpRequest, delay_ms: int) -> None:
    wire_timeout = request.environ.get(ENV_WIRE_TIMEOUT)
    delay_s = delay_ms / 1000
    if wire_timeout is not None and delay_s >= wire_timeout:
        # In-process: the client would give up first; say so instead of sleeping through it.
        request.environ[ENV_TIMED_OUT] = True
        return
    time.sleep(delay_s)


def _log(
    *,
    request: HttpRequest,
    started: float,
    org: Organisation | None,
    grant: AccessGrant | None,
    response: HttpResponse,
    problem: str = "",
    plan: FaultPlan | None = None,
) -> None:
    headers = {
        name: response[name]
        for name in (limits.HEADER_DAY, limits.HEADER_MINUTE, limits.HEADER_APP_MINUTE, "Retry-After")
        if response.has_header(name)
    }
    RequestLog.objects.create(
        at=timezone.now(),
        organisation=org,
        app=grant.app if grant else None,
        method=request.method or "",
        path=request.path[:500],
        query=request.META.get("QUERY_STRING", ""),
        status=response.status_code,
        limit_headers=headers,
        rate_limit_problem=problem,
        fault=plan.label if plan else "",
        duration_ms=int((time.monotonic() - started) * 1000),
    )


def _gate(request: HttpRequest, view: Callable, read: tuple, write: tuple, args, kwargs) -> HttpResponse:
    started = time.monotonic()
    grant: AccessGrant | None = None
    org: Organisation | None = None

    def finish(response: HttpResponse, *, problem: str = "", plan: FaultPlan | None = None) -> HttpResponse:
        _log(request=request, started=started, org=org, grant=grant, response=response, problem=problem, plan=plan)
        return response

    token = _bearer(request)
    if not token:
        return finish(problem_response(401, "AuthenticationUnsuccessful"))
    try:
        grant = access_token_check(token=token)
    except TokenExpired as exc:
        stamp = exc.expired_at.astimezone(UTC)
        return finish(problem_response(401, f"TokenExpired: token expired at {stamp:%m/%d/%Y %H:%M:%S}"))
    except TokenInvalid:
        return finish(problem_response(401, "AuthenticationUnsuccessful"))

    org = _authorised_org(grant, _tenant(request))
    if org is None:
        return finish(problem_response(403, "AuthenticationUnsuccessful"))
    needed = write if (request.method or "GET").upper() in WRITE_METHODS else read
    if not grant.scopes.intersection(needed):
        response = problem_response(403, "AuthenticationUnsuccessful")
        _headers_set(response, limits.limits_remaining(org=org, app=grant.app))
        return finish(response)

    result = limits.limits_admit(org=org, app=grant.app)
    if not result.admitted:
        response = _rate_limited_response(result.problem, result.retry_after)
        _headers_set(response, result.headers)
        logger.info("xero_sandbox.gate.rate_limited", extra={"problem": result.problem})
        return finish(response, problem=result.problem)
    try:
        plan = fault_plan_take(org=org)
        if plan.rate_limit:
            response = _rate_limited_response("minute", limits.minute_retry_after(org=org))
            _headers_set(response, result.headers)
            return finish(response, problem="minute", plan=plan)
        if plan.fail_status:
            response = _fail_response(plan.fail_status)
            _headers_set(response, result.headers)
            return finish(response, plan=plan)
        request.sandbox_org = org
        request.sandbox_app = grant.app
        request.sandbox_grant = grant
        response = view(request, *args, **kwargs)
        _headers_set(response, result.headers)
        if plan.delay_ms:
            _apply_delay(request, plan.delay_ms)
        if plan.drop:
            # The write above is kept; only the answer is lost.
            request.environ[ENV_DROPPED] = True
            _socket_abort(request)
            logger.info("xero_sandbox.gate.dropped", extra={"org": str(org.tenant_id)})
        return finish(response, plan=plan)
    finally:
        limits.limits_release(result)


def sandbox_api(*, read: tuple[str, ...], write: tuple[str, ...]) -> Callable:
    """Decorate an Accounting API view: GET needs any scope in `read`, PUT/POST/DELETE any in `write`.

    The view gets `request.sandbox_org` (Organisation) and `request.sandbox_app` (SandboxApp). Pass every
    name that grants the access, broad and granular, e.g. read=("accounting.transactions",
    "accounting.transactions.read", "accounting.invoices", "accounting.invoices.read").
    """

    def decorator(view: Callable) -> Callable:
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            return _gate(request, view, tuple(read), tuple(write), args, kwargs)

        return wrapper

    return decorator
