"""Builds the Xero API client for a connection: its tenant and its tokens, refreshed under the connection's lock."""

from __future__ import annotations

from xero_sync import oauth
from xero_sync.client import XeroClient
from xero_sync.errors import XeroServerError, XeroTimeout, XeroUnauthorized
from xero_sync.models import XeroConnection
from xero_sync.services.connection import connection_access_token, connection_refresh_tokens


def _token_or_api_error(fetch):
    """Identity failures while getting a token surface as the client's typed errors."""
    try:
        return fetch()
    except oauth.OAuthError as exc:
        if exc.error in {"timeout", "connection_error"}:
            raise XeroTimeout("Xero's identity server could not be reached.") from exc
        if exc.error == "server_error":
            raise XeroServerError("Xero's identity server had a problem.", status_code=exc.status_code) from exc
        raise XeroUnauthorized(f"Xero refused to renew the sign-in ({exc.error}).", status_code=401) from exc


def client_for(connection: XeroConnection, **kwargs) -> XeroClient:
    current = {"token": ""}

    def access_token() -> str:
        current["token"] = _token_or_api_error(lambda: connection_access_token(connection_id=connection.pk))
        return current["token"]

    def refresh_access_token() -> str:
        current["token"] = _token_or_api_error(
            lambda: connection_refresh_tokens(connection_id=connection.pk, rejected_access_token=current["token"])
        )
        return current["token"]

    return XeroClient(
        tenant_id=connection.tenant_id,
        access_token=access_token,
        refresh_access_token=refresh_access_token,
        **kwargs,
    )
