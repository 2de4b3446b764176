"""Helpers for tests and scripts: make sandbox orgs, apps, users and tokens; talk to it in-process; faults."""

import io
import itertools
import secrets
import string
from datetime import timedelta
from urllib.parse import urlsplit

import requests
from django.test import Client
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

from xero_sandbox import faults
from xero_sandbox.gate import ENV_DROPPED, ENV_TIMED_OUT, ENV_WIRE_TIMEOUT
from xero_sandbox.identity import services
from xero_sandbox.identity.scopes import DEFAULT_SCOPES
from xero_sandbox.models import FaultRule, Organisation, SandboxApp, SandboxUser, UserOrgRole

DEFAULT_CLIENT_ID = "sandbox-client-id"
DEFAULT_CLIENT_SECRET = "sandbox-client-secret"
DEFAULT_REDIRECT_URI = "http://testserver/addons/xero/callback/"
DEFAULT_WEBHOOK_KEY = "sandbox-webhook-key"

_user_numbers = itertools.count(1)


def _short_code() -> str:
    return "!" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(5))


def sandbox_org(name: str = "Test Org", **fields) -> Organisation:
    """A sandbox organisation (tenant) with no accounting data."""
    fields.setdefault("short_code", _short_code())
    return Organisation.objects.create(name=name, **fields)


def sandbox_app(
    client_id: str = DEFAULT_CLIENT_ID,
    client_secret: str = DEFAULT_CLIENT_SECRET,
    redirect_uris: list[str] | tuple[str, ...] = (DEFAULT_REDIRECT_URI,),
    webhook_url: str = "",
    webhook_key: str = DEFAULT_WEBHOOK_KEY,
    *,
    name: str = "Sandbox app",
    allow_broad_scopes: bool = True,
) -> SandboxApp:
    """A sandbox app; calling it again with the same client id updates and returns the same app."""
    app = SandboxApp.objects.filter(client_id=client_id).first()
    if app is None:
        return services.app_create(
            client_id=client_id,
            client_secret=client_secret,
            redirect_uris=list(redirect_uris),
            name=name,
            webhook_url=webhook_url,
            webhook_key=webhook_key,
            allow_broad_scopes=allow_broad_scopes,
        )
    app.redirect_uris = list(redirect_uris)
    app.webhook_url = webhook_url
    app.webhook_key = webhook_key
    app.name = name
    app.allow_broad_scopes = allow_broad_scopes
    app.save()
    services.app_secret_set(app=app, client_secret=client_secret)
    return app


def sandbox_user(
    email: str = "owner@sandbox.example",
    password: str = "sandbox-pass",  # noqa: S107 - a sandbox-only login
    orgs: dict[Organisation, str] | None = None,
) -> SandboxUser:
    """A sandbox user with a role per organisation (standard, advisor, invoice_only, read_only)."""
    user = SandboxUser.objects.filter(email=email.lower()).first()
    if user is None:
        return services.user_create(email=email, password=password, orgs=orgs or {})
    services.user_password_set(user=user, password=password)
    for org, role in (orgs or {}).items():
        services.user_role_set(user=user, org=org, role=role)
    return user


def sandbox_token(
    org: Organisation | list[Organisation],
    scopes: str = DEFAULT_SCOPES,
    app: SandboxApp | None = None,
    user: SandboxUser | None = None,
) -> dict:
    """A token set (as the token endpoint returns it) with active connections for app + user + org(s)."""
    orgs = org if isinstance(org, list | tuple) else [org]
    app = app or SandboxApp.objects.filter(client_id=DEFAULT_CLIENT_ID).first() or sandbox_app()
    if user is None:
        user = sandbox_user(email=f"user{next(_user_numbers)}-{secrets.token_hex(3)}@sandbox.example")
    for one in orgs:
        if not UserOrgRole.objects.filter(user=user, organisation=one).exists():
            services.user_role_set(user=user, org=one, role="standard")
    return services.token_set_issue(app=app, user=user, orgs=list(orgs), scope=scopes)


def fault_set(
    org: Organisation,
    kind: str,
    count: int | None = None,
    status: int = 503,
    delay_s: float = 0,
) -> FaultRule:
    """Inject a fault: kind "fail" (500/503), "delay", "drop" (write applied, answer lost) or "rate_limit"."""
    return faults.fault_set(org=org, kind=kind, count=count, status=status, delay_ms=int(delay_s * 1000))


def fault_clear(org: Organisation | None = None) -> int:
    return faults.fault_clear(org=org)


class SandboxWire(BaseAdapter):
    """A requests transport that answers through Django in-process (inside the test's transaction).

    Mount it on a session: `session.mount("http://sandbox.test/", SandboxWire(prefix="/sandbox/xero"))`;
    then `http://sandbox.test/api.xro/2.0/Invoices` is served by `/sandbox/xero/api.xro/2.0/Invoices`.
    Dropped connections raise requests.ConnectionError (after the write), delays longer than the request's
    timeout raise requests.ReadTimeout without waiting them out. With prefix="" it reaches any URL of the site.
    """

    def __init__(self, prefix: str = "/sandbox/xero"):
        super().__init__()
        self.prefix = prefix.rstrip("/")

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        url = urlsplit(request.url)
        path = self.prefix + (url.path or "/")
        if url.query:
            path = f"{path}?{url.query}"
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        elif not isinstance(body, bytes):
            body = b"".join(chunk if isinstance(chunk, bytes) else chunk.encode() for chunk in body)
        headers = {
            k: v for k, v in request.headers.items() if k.lower() not in ("content-type", "content-length", "host")
        }
        read_timeout = timeout[1] if isinstance(timeout, tuple) else timeout
        extra = {"SERVER_NAME": "testserver", "HTTP_HOST": "testserver"}
        if url.scheme == "https":
            extra["wsgi.url_scheme"] = "https"
            extra["SERVER_PORT"] = "443"
        if read_timeout is not None:
            extra[ENV_WIRE_TIMEOUT] = float(read_timeout)
        client = Client(raise_request_exception=True)
        django_response = client.generic(
            request.method,
            path,
            data=body,
            content_type=request.headers.get("Content-Type", "application/octet-stream"),
            headers=headers,
            **extra,
        )
        environ = django_response.wsgi_request.environ
        if environ.get(ENV_DROPPED):
            raise requests.ConnectionError("Connection aborted: the sandbox dropped the connection", request=request)
        if environ.get(ENV_TIMED_OUT):
            raise requests.ReadTimeout(f"Read timed out. (read timeout={read_timeout})", request=request)
        return self._build(request, django_response)

    @staticmethod
    def _build(request, django_response) -> requests.Response:
        content = (
            b"".join(django_response.streaming_content)
            if getattr(django_response, "streaming", False)
            else django_response.content
        )
        response = requests.Response()
        response.status_code = django_response.status_code
        response.reason = django_response.reason_phrase
        headers = CaseInsensitiveDict(dict(django_response.items()))
        cookies = [morsel.OutputString() for morsel in django_response.cookies.values()]
        if cookies:
            headers["Set-Cookie"] = ", ".join(cookies)
        response.headers = headers
        response.encoding = get_encoding_from_headers(headers)
        response._content = content
        response._content_consumed = True
        response.raw = io.BytesIO(content)
        response.url = request.url
        response.request = request
        response.elapsed = timedelta(0)
        return response

    def close(self):
        pass


def wire_session(base: str = "http://sandbox.test", prefix: str = "/sandbox/xero") -> requests.Session:
    """A requests session whose calls to `base` are served in-process by the sandbox."""
    session = requests.Session()
    session.mount(base.rstrip("/") + "/", SandboxWire(prefix=prefix))
    return session
