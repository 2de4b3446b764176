"""Test helpers for the Accounting API: an organisation with defaults and a signed-in in-process session."""

import functools
import os
import warnings
from pathlib import Path
from urllib.parse import urlencode

import requests
from django.conf import settings

from xero_sandbox.identity.scopes import DEFAULT_SCOPES
from xero_sandbox.models import Organisation
from xero_sandbox.seed import org_defaults_create
from xero_sandbox.testing import sandbox_org, sandbox_token, wire_session

API_BASE = "http://sandbox.test/api.xro/2.0/"


def org_with_defaults(name: str = "Test Org", **fields) -> Organisation:
    """A sandbox organisation with the default chart of accounts, tax rates, items and contact groups."""
    org = sandbox_org(name, **fields)
    org_defaults_create(org)
    return org


def api_session(org: Organisation, *, scopes: str = DEFAULT_SCOPES, check_spec: bool = True) -> requests.Session:
    """A requests session served in-process, carrying a sandbox token and the org's xero-tenant-id.

    Use relative names through `session.api + "Invoices"`. Every request and response is checked against
    the official spec unless check_spec is False.
    """
    token = sandbox_token(org, scopes=scopes)
    session = wire_session("http://sandbox.test")
    session.headers.update(
        {
            "Authorization": f"Bearer {token['access_token']}",
            "xero-tenant-id": str(org.tenant_id),
            "Accept": "application/json",
        }
    )
    session.api = API_BASE
    if check_spec:
        session.hooks["response"].append(spec_check)
    session.token = token
    return session


# ---- the official spec as a test oracle -----------------------------------------------------------------------


def spec_path() -> Path:
    explicit = os.environ.get("XERO_OPENAPI_DIR")
    base = Path(explicit) if explicit else Path(settings.BASE_DIR).parent / "shared" / "xero-openapi"
    return base / "xero_accounting.yaml"


@functools.cache
def accounting_openapi():
    """openapi-core over xero_accounting.yaml, served from the sandbox's base URL (loaded once per process)."""
    import yaml
    from openapi_core import Config, OpenAPI

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with spec_path().open() as handle:
        spec = yaml.load(handle, Loader=loader)  # noqa: S506 - a safe loader
    spec["servers"] = [{"url": API_BASE.rstrip("/")}]
    # The published spec has a few literal slips ("default: 'false'" on booleans); we check traffic, not it.
    return OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None))


class SpecViolation(AssertionError):
    """A request the tests sent, or a response the sandbox gave, that the official spec rejects."""


def spec_check(response: requests.Response, *args, **kwargs) -> requests.Response:
    """requests hook: validate every Accounting API request and its response against the official spec.

    Responses with a status the operation does not document (404/503 plain text, 401/403 problem JSON, 429)
    are left alone; everything documented (200, 400) must match its schema exactly.
    """
    from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
    from openapi_core.templating.responses.exceptions import ResponseNotFound

    if not response.request.url.startswith(API_BASE):
        return response
    api = accounting_openapi()
    request = RequestsOpenAPIRequest(response.request)
    try:
        with warnings.catch_warnings():
            # openapi-core does not model the OAuth2 scheme; the gate's own tests cover it.
            warnings.filterwarnings("ignore", "Unsupported scheme type")
            api.validate_request(request)
    except Exception as exc:
        raise SpecViolation(f"request {response.request.method} {response.request.url}: {_explain(exc)}") from exc
    if response.status_code >= 401 and response.status_code != 400:
        return response
    try:
        api.validate_response(request, RequestsOpenAPIResponse(response))
    except ResponseNotFound:
        if response.status_code not in (204,):
            raise
    except Exception as exc:
        raise SpecViolation(
            f"response {response.status_code} to {response.request.method} {response.request.url}: {_explain(exc)}"
        ) from exc
    return response


def _explain(exc: Exception) -> str:
    parts = [str(exc)]
    cause = exc.__cause__ or exc.__context__
    for _ in range(3):
        if cause is None:
            break
        errors = getattr(cause, "schema_errors", None)
        if errors:
            parts.extend(f"{list(e.path)}: {e.message}" for e in errors[:5])
            break
        parts.append(str(cause))
        cause = cause.__cause__ or cause.__context__
    return " | ".join(parts)


# ---- the official Python SDK over the in-process wire ---------------------------------------------------------


class _Urllib3Response:
    """Enough of urllib3.HTTPResponse for xero-python's RESTResponse."""

    def __init__(self, response: requests.Response):
        self.status = response.status_code
        self.reason = response.reason
        self.data = response.content
        self._headers = dict(response.headers)

    def getheaders(self):
        return self._headers

    def getheader(self, name, default=None):
        for key, value in self._headers.items():
            if key.lower() == name.lower():
                return value
        return default


class WirePoolManager:
    """Stands in for urllib3.PoolManager inside xero-python, sending through a requests session."""

    def __init__(self, session: requests.Session):
        self.session = session

    def request(self, method, url, body=None, fields=None, preload_content=True, timeout=None, headers=None, **_):
        if fields:
            url = f"{url}?{urlencode(fields)}"
        response = self.session.request(method, url, data=body, headers=dict(headers or {}))
        return _Urllib3Response(response)


def sdk_accounting_api(token: dict, *, check_spec: bool = True):
    """xero-python's AccountingApi pointed at the sandbox, its HTTP served in-process (spec-checked)."""
    from xero_python.accounting import AccountingApi
    from xero_python.api_client import ApiClient, Configuration
    from xero_python.api_client.oauth2 import OAuth2Token

    store: dict = {}
    configuration = Configuration(oauth2_token=OAuth2Token(client_id="sandbox", client_secret="sandbox"))
    client = ApiClient(
        configuration,
        pool_threads=1,
        oauth2_token_getter=lambda: store.get("token"),
        oauth2_token_saver=lambda token: store.update(token=token),
    )
    client.set_oauth2_token(token)
    session = wire_session("http://sandbox.test")
    if check_spec:
        session.hooks["response"].append(spec_check)
    client.rest_client.pool_manager = WirePoolManager(session)
    return AccountingApi(client, base_url=API_BASE.rstrip("/"))
