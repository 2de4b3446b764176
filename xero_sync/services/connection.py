"""The life of a merchant's Xero connection: authorise, pick the organisation, refresh tokens under a row lock,
need a reconnect, disconnect."""

from __future__ import annotations

import datetime as dt
import enum
import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from integrations.models import Installation, InstallationState
from portal.models import Merchant, User
from xero_sync import oauth
from xero_sync.addon import XERO
from xero_sync.models import ConnectionStatus, XeroConnection
from xero_sync.models.pending import XeroPendingAuthorisation, XeroPendingRevocation

logger = logging.getLogger(__name__)

RECONNECT_OTHER_USER = (
    "Xero no longer accepts this connection: the Xero user who connected it was removed from the organisation "
    "or the app was disconnected inside Xero. A different Xero user with the Standard or Advisor role must "
    "click Connect to Xero."
)
RECONNECT_EXPIRED = (
    "Xero no longer accepts this connection's sign-in (it expired or was revoked). Click Connect to Xero to "
    "sign in again; your synced data and settings are kept."
)


class ConnectError(Exception):
    """Why connecting failed, in words a merchant can act on. Nothing is left half-connected."""


class ConnectionNotActive(Exception):
    """Background work asked for a token of a connection that is not connected (needs reconnect or gone)."""


class AuthorisationStep(enum.Enum):
    CONNECTED = "connected"
    CHOOSE_ORGANISATION = "choose"
    CONFIRM_ORGANISATION = "confirm"


_EXCHANGE_MESSAGES = {
    "invalid_grant": "Xero said the sign-in code had expired or was already used. Nothing was connected: "
    "click Connect to Xero to try again.",
    "invalid_client": "Xero did not accept the portal's app credentials (client id or secret). Nothing was "
    "connected. Platform staff must correct XERO_CLIENT_ID and XERO_CLIENT_SECRET.",
    "unauthorized_client": "Xero does not allow this app to connect this way. Nothing was connected. Platform "
    "staff must check the app's settings in Xero's developer portal.",
    "invalid_scope": "Xero refused the permissions the add-on asks for. Nothing was connected. Platform staff "
    "must check XERO_SCOPES.",
}


def connection_for(merchant: Merchant) -> XeroConnection | None:
    return XeroConnection.objects.filter(merchant=merchant).first()


def _installation_state(merchant: Merchant, state: str) -> None:
    Installation.objects.filter(merchant=merchant, addon_key=XERO.key).update(state=state, updated_at=timezone.now())


def _taken_by_other_merchant(tenant_id: str, merchant: Merchant) -> bool:
    return (
        XeroConnection.objects.filter(
            tenant_id=tenant_id, status__in=[ConnectionStatus.CONNECTED, ConnectionStatus.NEEDS_RECONNECT]
        )
        .exclude(merchant=merchant)
        .exists()
    )


def _revoke_quietly(refresh_token: str) -> None:
    try:
        oauth.revoke(refresh_token=refresh_token)
    except oauth.OAuthError:
        logger.warning("xero.oauth.revoke_failed")


def authorisation_complete(*, merchant: Merchant, user: User, code: str, code_verifier: str) -> AuthorisationStep:
    """Exchange the code from Xero's consent screen and connect, or ask which organisation to connect."""
    try:
        tokens = oauth.exchange_code(code=code, code_verifier=code_verifier)
    except oauth.OAuthError as exc:
        logger.info("xero.oauth.exchange_failed", extra={"error": exc.error})
        if exc.is_network:
            raise ConnectError("Xero could not be reached. Nothing was connected; try again in a few minutes.") from exc
        raise ConnectError(
            _EXCHANGE_MESSAGES.get(exc.error, f"Xero refused the connection ({exc.error}). Nothing was connected.")
        ) from exc

    missing = tokens.missing_scopes()
    if missing:
        _revoke_quietly(tokens.refresh_token)
        raise ConnectError(
            "Xero did not grant all the access the add-on needs (missing: "
            f"{', '.join(missing)}). Nothing was connected. Click Connect to Xero again and allow all the "
            "requested access."
        )

    try:
        tenants = oauth.connections(access_token=tokens.access_token, auth_event_id=tokens.auth_event_id)
    except oauth.OAuthError as exc:
        _revoke_quietly(tokens.refresh_token)
        raise ConnectError(
            "Xero did not tell us which organisation you authorised. Nothing was connected; try again."
        ) from exc
    if not tenants:
        raise ConnectError(
            "No Xero organisation was authorised. Click Connect to Xero and pick your organisation before "
            "clicking Allow access."
        )

    with transaction.atomic():
        XeroPendingAuthorisation.objects.filter(merchant=merchant).delete()
        XeroPendingAuthorisation.objects.create(
            merchant=merchant,
            user=user,
            access_token=tokens.access_token,
            refresh_token=tokens.refresh_token,
            expires_in=tokens.expires_in,
            scope=" ".join(sorted(tokens.scopes)),
            auth_event_id=tokens.auth_event_id,
            xero_user_id=tokens.xero_user_id,
            xero_user_name=_display_name(tokens.identity),
            xero_user_email=str(tokens.identity.get("email", "")),
            tenants=[
                {"connection_id": t.connection_id, "tenant_id": t.tenant_id, "tenant_name": t.tenant_name}
                for t in tenants
            ],
        )
    if len(tenants) > 1:
        return AuthorisationStep.CHOOSE_ORGANISATION
    return authorisation_choose(merchant=merchant, tenant_id=tenants[0].tenant_id)


def _display_name(identity: dict) -> str:
    name = " ".join(p for p in (identity.get("given_name"), identity.get("family_name")) if p)
    return name or str(identity.get("name") or identity.get("email") or "")


def pending_authorisation(merchant: Merchant) -> XeroPendingAuthorisation | None:
    pending = XeroPendingAuthorisation.objects.filter(merchant=merchant).first()
    if pending is not None and pending.expired:
        pending.delete()
        return None
    return pending


def authorisation_cancel(*, merchant: Merchant) -> None:
    pending = XeroPendingAuthorisation.objects.filter(merchant=merchant).first()
    if pending is not None:
        _revoke_quietly(pending.refresh_token)
        pending.delete()


def authorisation_choose(*, merchant: Merchant, tenant_id: str, confirmed: bool = False) -> AuthorisationStep:
    """Connect the organisation the merchant picked; a different organisation than before needs confirming."""
    pending = pending_authorisation(merchant)
    if pending is None:
        raise ConnectError("That Xero sign-in has expired. Click Connect to Xero to start again.")
    tenant = pending.tenant(tenant_id)
    if tenant is None:
        raise ConnectError("That organisation was not part of this Xero sign-in. Pick one from the list.")
    if _taken_by_other_merchant(tenant_id, merchant):
        if len(pending.tenants) == 1:
            authorisation_cancel(merchant=merchant)
        raise ConnectError(
            f"The Xero organisation “{tenant['tenant_name']}” is already connected to another merchant in the "
            "portal. An organisation can be connected to only one merchant at a time: disconnect it there first, "
            "or pick a different organisation."
        )
    previous = connection_for(merchant)
    if previous and previous.tenant_id and previous.tenant_id != tenant_id and not confirmed:
        pending.chosen_tenant_id = tenant_id
        pending.save(update_fields=["chosen_tenant_id"])
        return AuthorisationStep.CONFIRM_ORGANISATION
    _connection_activate(merchant=merchant, pending=pending, tenant=tenant)
    return AuthorisationStep.CONNECTED


def _connection_activate(*, merchant: Merchant, pending: XeroPendingAuthorisation, tenant: dict) -> XeroConnection:
    now = timezone.now()
    try:
        with transaction.atomic():
            connection, _ = XeroConnection.objects.select_for_update().get_or_create(merchant=merchant)
            if connection.tenant_id and connection.tenant_id != tenant["tenant_id"]:
                # A different organisation: its details come fresh; the portal's data and settings are kept.
                connection.short_code = connection.base_currency = connection.timezone = ""
            connection.status = ConnectionStatus.CONNECTED
            connection.status_message = ""
            connection.tenant_id = tenant["tenant_id"]
            connection.tenant_name = tenant["tenant_name"]
            connection.connection_id = tenant["connection_id"]
            connection.auth_event_id = pending.auth_event_id
            connection.scopes = pending.scope
            connection.access_token = pending.access_token
            connection.refresh_token = pending.refresh_token
            connection.previous_refresh_token = ""
            connection.access_expires_at = pending.created_at + dt.timedelta(seconds=pending.expires_in)
            connection.tokens_refreshed_at = pending.created_at
            connection.connected_by = pending.user
            connection.xero_user_id = pending.xero_user_id
            connection.xero_user_name = pending.xero_user_name
            connection.xero_user_email = pending.xero_user_email
            connection.connected_at = now
            connection.disconnected_at = None
            connection.save()
            Installation.objects.get_or_create(
                merchant=merchant,
                addon_key=XERO.key,
                defaults={
                    "category": XERO.category.key,
                    "exclusive": XERO.category.exclusive,
                    "installed_by": pending.user,
                },
            )
            _installation_state(merchant, InstallationState.CONNECTED)
            others = [t for t in pending.tenants if t["tenant_id"] != tenant["tenant_id"]]
            access_token = pending.access_token
            pending.delete()
    except IntegrityError as exc:
        raise ConnectError(
            f"The Xero organisation “{tenant['tenant_name']}” was just connected to another merchant. "
            "An organisation can be connected to only one merchant at a time."
        ) from exc
    # One organisation per merchant: let go of the others this consent screen authorised.
    for other in others:
        try:
            oauth.connection_delete(access_token=access_token, connection_id=other["connection_id"])
        except oauth.OAuthError:
            logger.warning("xero.oauth.extra_connection_not_deleted")
    logger.info("xero.connection.connected", extra={"merchant": merchant.pk, "tenant": tenant["tenant_id"]})
    return connection


# --- tokens -------------------------------------------------------------------------------------------------


def connection_access_token(*, connection_id: int) -> str:
    """A valid access token for background work, refreshing it first when it is about to expire."""
    connection = XeroConnection.objects.get(pk=connection_id)
    if connection.status != ConnectionStatus.CONNECTED:
        raise ConnectionNotActive(connection.status_message or connection.get_status_display())
    if connection.access_token_fresh():
        return connection.access_token
    return connection_refresh_tokens(connection_id=connection_id)


def connection_refresh_tokens(*, connection_id: int, rejected_access_token: str = "") -> str:
    """The one code path that refreshes: row lock, re-read, refresh only if still needed, save in the same
    transaction. `rejected_access_token` is the token Xero just answered 401 to, so it is refreshed even if its
    stated expiry has not passed."""
    with transaction.atomic():
        connection = XeroConnection.objects.select_for_update().get(pk=connection_id)
        if connection.status != ConnectionStatus.CONNECTED:
            raise ConnectionNotActive(connection.status_message or connection.get_status_display())
        if connection.access_token_fresh() and connection.access_token != rejected_access_token:
            return connection.access_token  # another worker refreshed while we waited for the lock
        tokens = _refresh_with_retry(connection.refresh_token)
        if tokens is not None:
            return _tokens_save(connection, tokens)
        connection.status = ConnectionStatus.NEEDS_RECONNECT
        connection.status_message = RECONNECT_EXPIRED
        connection.access_token = ""
        connection.save(update_fields=["status", "status_message", "access_token", "updated_at"])
        _installation_state(connection.merchant, InstallationState.NEEDS_RECONNECT)
    # Raised after the block so the needs-reconnect state above is committed, not rolled back.
    logger.warning("xero.connection.refresh_invalid_grant", extra={"connection": connection_id})
    raise ConnectionNotActive(RECONNECT_EXPIRED)


def _tokens_save(connection: XeroConnection, tokens: oauth.TokenSet) -> str:
    now = timezone.now()
    connection.previous_refresh_token = connection.refresh_token
    connection.access_token = tokens.access_token
    connection.refresh_token = tokens.refresh_token or connection.refresh_token
    connection.access_expires_at = now + dt.timedelta(seconds=tokens.expires_in)
    connection.tokens_refreshed_at = now
    connection.save(
        update_fields=[
            "previous_refresh_token",
            "access_token",
            "refresh_token",
            "access_expires_at",
            "tokens_refreshed_at",
            "updated_at",
        ]
    )
    logger.info("xero.connection.refreshed", extra={"connection": connection.pk})
    return connection.access_token


def _refresh_with_retry(refresh_token: str, attempts: int = 3) -> oauth.TokenSet | None:
    """Refresh; None means Xero refused for good (invalid_grant). A lost response is retried with the same
    refresh token, which Xero keeps accepting for 30 minutes after rotating it."""
    for attempt in range(1, attempts + 1):
        try:
            return oauth.refresh(refresh_token=refresh_token)
        except oauth.OAuthError as exc:
            if exc.error == "invalid_grant":
                return None
            if not exc.is_network or attempt == attempts:
                raise
            logger.info("xero.connection.refresh_retry", extra={"attempt": attempt})
    return None  # pragma: no cover - the loop always returns or raises


def connection_mark_needs_reconnect(*, connection_id: int, message: str = RECONNECT_OTHER_USER) -> None:
    """Xero refused the connection for good (403 AuthenticationUnsuccessful): stop background work for it."""
    with transaction.atomic():
        connection = XeroConnection.objects.select_for_update().get(pk=connection_id)
        if connection.status != ConnectionStatus.CONNECTED:
            return
        connection.status = ConnectionStatus.NEEDS_RECONNECT
        connection.status_message = message
        connection.save(update_fields=["status", "status_message", "updated_at"])
        _installation_state(connection.merchant, InstallationState.NEEDS_RECONNECT)
    logger.warning("xero.connection.needs_reconnect", extra={"connection": connection_id})


# --- disconnect ---------------------------------------------------------------------------------------------


def connection_disconnect(*, merchant: Merchant) -> bool:
    """Revoke with Xero, delete the connection there, wipe the tokens here and return the tile to Install.
    Synced data stays. If Xero cannot be reached, the local disconnect still happens and the revoke is retried
    in the background. Returns whether Xero confirmed."""
    with transaction.atomic():
        connection = XeroConnection.objects.select_for_update().filter(merchant=merchant).first()
        if connection is None:
            Installation.objects.filter(merchant=merchant, addon_key=XERO.key).delete()
            return True
        refresh_token, access_token = connection.refresh_token, connection.access_token
        connection_id = connection.connection_id
        connection.status = ConnectionStatus.DISCONNECTED
        connection.status_message = ""
        connection.access_token = connection.refresh_token = connection.previous_refresh_token = ""
        connection.access_expires_at = None
        connection.disconnected_at = timezone.now()
        connection.save()
        Installation.objects.filter(merchant=merchant, addon_key=XERO.key).delete()
        revocation = None
        if refresh_token:
            revocation = XeroPendingRevocation.objects.create(
                merchant=merchant,
                refresh_token=refresh_token,
                access_token=access_token,
                connection_id=connection_id,
            )
    XeroPendingAuthorisation.objects.filter(merchant=merchant).delete()
    logger.info("xero.connection.disconnected", extra={"merchant": merchant.pk})
    if revocation is None:
        return True
    if revocation_attempt(revocation_id=revocation.pk):
        return True
    from xero_sync.tasks import enqueue_revocation_retry

    enqueue_revocation_retry(revocation.pk)
    return False


def revocation_attempt(*, revocation_id: int) -> bool:
    """Try to delete the connection and revoke the token with Xero; True once Xero has confirmed."""
    revocation = XeroPendingRevocation.objects.filter(pk=revocation_id).first()
    if revocation is None:
        return True
    try:
        if revocation.connection_id and revocation.access_token:
            try:
                oauth.connection_delete(access_token=revocation.access_token, connection_id=revocation.connection_id)
            except oauth.OAuthError as exc:
                if exc.is_network:
                    raise
                # An expired access token cannot delete; revoking the refresh token removes it anyway.
        oauth.revoke(refresh_token=revocation.refresh_token)
    except oauth.OAuthError as exc:
        if exc.is_network:
            XeroPendingRevocation.objects.filter(pk=revocation_id).update(
                attempts=revocation.attempts + 1, last_error=exc.error
            )
            logger.warning("xero.oauth.revoke_deferred", extra={"attempts": revocation.attempts + 1})
            return False
        # invalid_grant and friends: the token is already dead, which is the outcome we wanted.
    revocation.delete()
    return True


def tenants_taken_elsewhere(*, merchant: Merchant, pending: XeroPendingAuthorisation) -> set[str]:
    """Tenant ids in a pending authorisation that another merchant already has connected."""
    ids = [t["tenant_id"] for t in pending.tenants]
    return set(
        XeroConnection.objects.filter(
            tenant_id__in=ids, status__in=[ConnectionStatus.CONNECTED, ConnectionStatus.NEEDS_RECONNECT]
        )
        .exclude(merchant=merchant)
        .values_list("tenant_id", flat=True)
    )
