"""Builds the Xero API client for a connection: its tenant, its (locked-refresh) tokens and its rate limiter."""

from __future__ import annotations

from xero_sync.client import XeroClient
from xero_sync.errors import XeroForbidden
from xero_sync.models import XeroConnection
from xero_sync.services.connection import (
    connection_access_token,
    connection_mark_needs_reconnect,
    connection_refresh_tokens,
)


def client_for(connection: XeroConnection, **kwargs) -> XeroClient:
    from xero_sync.limits import limiter_for

    current = {"token": ""}

    def access_token() -> str:
        current["token"] = connection_access_token(connection_id=connection.pk)
        return current["token"]

    def refresh_access_token() -> str:
        current["token"] = connection_refresh_tokens(
            connection_id=connection.pk, rejected_access_token=current["token"]
        )
        return current["token"]

    kwargs.setdefault("limiter", limiter_for(connection.tenant_id))
    return XeroClient(
        tenant_id=connection.tenant_id,
        access_token=access_token,
        refresh_access_token=refresh_access_token,
        **kwargs,
    )


def forbidden_means_reconnect(connection: XeroConnection, exc: XeroForbidden) -> None:
    """A 403 AuthenticationUnsuccessful: the owner was removed or the app disconnected inside Xero."""
    connection_mark_needs_reconnect(connection_id=connection.pk)
