"""The connected add-on's settings, its first look at the organisation after connecting, and Test Connection."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from portal.models import Account, Merchant
from xero_sync import errors
from xero_sync.models import XeroConnection
from xero_sync.oauth import REQUIRED_SCOPE_GROUPS
from xero_sync.services.api import client_for
from xero_sync.services.connection import (
    RECONNECT_OTHER_USER,
    ConnectionNotActive,
    connection_for,
    connection_mark_needs_reconnect,
)

logger = logging.getLogger(__name__)


def settings_form_initial(*, connection: XeroConnection) -> dict:
    return {
        "auto_sync": connection.auto_sync,
        "default_payment_account_code": connection.default_payment_account_code,
        "default_commodity_code": connection.default_commodity_code,
        "retention_interval_days": connection.retention_interval_days,
    }


def settings_update(
    *,
    connection: XeroConnection,
    auto_sync: bool,
    default_payment_account_code: str,
    default_commodity_code: str,
    retention_interval_days: int,
) -> XeroConnection:
    connection.auto_sync = auto_sync
    connection.default_payment_account_code = default_payment_account_code
    connection.default_commodity_code = default_commodity_code
    connection.retention_interval_days = retention_interval_days
    connection.save(
        update_fields=[
            "auto_sync",
            "default_payment_account_code",
            "default_commodity_code",
            "retention_interval_days",
            "updated_at",
        ]
    )
    return connection


def organisation_refresh(*, connection: XeroConnection, client=None) -> dict:
    """Read the organisation (one call) and keep its short code, currency and timezone on the connection."""
    client = client or client_for(connection)
    body = client.get("Organisation")
    org = (body.get("Organisations") or [{}])[0]
    connection.short_code = org.get("ShortCode") or ""
    connection.base_currency = org.get("BaseCurrency") or ""
    connection.timezone = org.get("Timezone") or ""
    if org.get("Name"):
        connection.tenant_name = org["Name"]
    connection.save(update_fields=["short_code", "base_currency", "timezone", "tenant_name", "updated_at"])
    return org


def addon_page_prepare(*, connection: XeroConnection) -> None:
    """When the add-on page opens: learn the organisation's details and, if the portal has no chart of accounts
    yet, read it from Xero so the Default Payment Account can be chosen. Failures are not fatal: the page shows
    what it has and the next sync tries again."""
    has_accounts = Account.objects.filter(merchant=connection.merchant).exists()
    if connection.short_code and has_accounts:
        return
    try:
        client = client_for(connection)
        if not connection.short_code:
            organisation_refresh(connection=connection, client=client)
        if not has_accounts:
            from xero_sync.services.pull import accounts_pull

            accounts_pull(connection=connection, client=client)
    except (errors.XeroError, ConnectionNotActive) as exc:
        logger.warning("xero.addon_page.prepare_failed", extra={"error": type(exc).__name__})


@dataclass
class Check:
    name: str
    ok: bool
    message: str


def connection_test(*, merchant: Merchant) -> list[Check]:
    """One read-only call, reported as: credentials, permissions (scopes), organisation access."""
    connection = connection_for(merchant)
    if connection is None or not connection.is_connected:
        message = (connection.status_message if connection else "") or "Not connected: click Connect to Xero."
        return [Check("Connection", False, message)]

    granted = set(connection.scopes.split())
    missing = [group[0] for group in REQUIRED_SCOPE_GROUPS if not granted.intersection(group)]
    scopes = Check(
        "Permissions",
        not missing,
        "All the access the add-on needs was granted."
        if not missing
        else f"Missing {', '.join(missing)}: click Connect to Xero again and allow all the requested access.",
    )
    try:
        org = organisation_refresh(connection=connection)
    except ConnectionNotActive as exc:
        return [Check("Credentials", False, str(exc)), scopes]
    except errors.XeroForbidden:
        connection_mark_needs_reconnect(connection_id=connection.pk)
        return [
            Check("Credentials", True, "Xero accepted the portal's sign-in."),
            scopes,
            Check("Organisation access", False, RECONNECT_OTHER_USER),
        ]
    except errors.XeroUnauthorized:
        return [
            Check(
                "Credentials",
                False,
                "Xero rejected the sign-in even after renewing it: click Connect to Xero to sign in again.",
            ),
            scopes,
        ]
    except errors.XeroRateLimited as exc:
        return [
            Check(
                "Organisation access",
                False,
                f"Xero's rate limit is reached; it resets at "
                f"{exc.resume_at:%H:%M} UTC. Nothing to fix: try again then.",
            ),
            scopes,
        ]
    except errors.XeroError as exc:
        return [
            Check(
                "Organisation access",
                False,
                f"Xero could not be reached or answered with an error "
                f"({exc.status_code or 'no answer'}). Try again in a few minutes.",
            ),
            scopes,
        ]
    return [
        Check("Credentials", True, "Xero accepted the portal's sign-in."),
        scopes,
        Check("Organisation access", True, f"Read “{org.get('Name', connection.tenant_name)}” successfully."),
    ]
