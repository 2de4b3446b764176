"""Test helpers for the Accounting API: an organisation with defaults and a signed-in in-process session."""

import requests

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


def api_session(org: Organisation, *, scopes: str = DEFAULT_SCOPES) -> requests.Session:
    """A requests session served in-process, carrying a sandbox token and the org's xero-tenant-id.

    Use relative names through `session.api + "Invoices"`.
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
    session.token = token
    return session
