"""Xero identity over HTTP: the authorize URL (state + PKCE), token exchange and refresh, revocation, connections.

Speaks HTTP only and knows no models; services decide what to store.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
from dataclasses import dataclass, field
from urllib.parse import urlencode

import jwt
import requests
from django.conf import settings

logger = logging.getLogger(__name__)

# Every scope the add-on needs, in either naming scheme; `offline_access` is what gives a refresh token.
REQUIRED_SCOPE_GROUPS: tuple[tuple[str, ...], ...] = (
    ("offline_access",),
    ("accounting.settings", "accounting.settings.read"),
    ("accounting.contacts",),
    ("accounting.transactions", "accounting.invoices"),
)


class OAuthError(Exception):
    """Xero's identity server said no (`error` is the OAuth error code) or could not be reached."""

    def __init__(self, error: str, description: str = "", status_code: int | None = None):
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error
        self.description = description
        self.status_code = status_code

    @property
    def is_network(self) -> bool:
        return self.error in {"timeout", "connection_error", "server_error"}


@dataclass
class TokenSet:
    access_token: str
    refresh_token: str
    expires_in: int
    scope: str = ""
    id_token: str = ""
    claims: dict = field(default_factory=dict)  # unverified claims of the access token
    identity: dict = field(default_factory=dict)  # unverified claims of the id token (name, email)

    @property
    def auth_event_id(self) -> str:
        return str(self.claims.get("authentication_event_id") or self.claims.get("authEventId") or "")

    @property
    def xero_user_id(self) -> str:
        return str(self.claims.get("xero_userid") or self.identity.get("xero_userid") or "")

    @property
    def scopes(self) -> set[str]:
        raw = self.scope or self.claims.get("scope") or ""
        return set(raw.split()) if isinstance(raw, str) else set(raw)

    def missing_scopes(self) -> list[str]:
        granted = self.scopes
        return [group[0] for group in REQUIRED_SCOPE_GROUPS if not granted.intersection(group)]


@dataclass
class Tenant:
    connection_id: str
    tenant_id: str
    tenant_name: str
    tenant_type: str
    auth_event_id: str


def pkce_pair() -> tuple[str, str]:
    """A PKCE code verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize_url(*, state: str, code_challenge: str, scopes: str | None = None) -> str:
    query = {
        "response_type": "code",
        "client_id": settings.XERO_CLIENT_ID,
        "redirect_uri": settings.XERO_REDIRECT_URI,
        "scope": scopes or settings.XERO_SCOPES,
        "state": state,
        "code_challenge": code_challenge,
        "code_challenge_method": "S256",
    }
    return f"{settings.XERO_LOGIN_URL.rstrip('/')}/connect/authorize?{urlencode(query)}"


def _unverified_claims(token: str) -> dict:
    # The token came straight from Xero's token endpoint over TLS; we read claims, we do not trust it as proof.
    try:
        return jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return {}


def _send(method: str, url: str, *, unreachable: str, session: requests.Session | None, **kwargs) -> requests.Response:
    """One HTTP call to Xero's identity or connections hosts; a timeout or refused connection is an OAuthError."""
    try:
        return (session or requests).request(method, url, timeout=settings.XERO_HTTP_TIMEOUT, **kwargs)
    except requests.Timeout as exc:
        raise OAuthError("timeout", f"{unreachable} did not answer in time.") from exc
    except requests.ConnectionError as exc:
        raise OAuthError("connection_error", f"{unreachable} could not be reached.") from exc


def _identity_post(path: str, data: dict, *, session: requests.Session | None = None) -> requests.Response:
    return _send(
        "POST",
        f"{settings.XERO_IDENTITY_URL.rstrip('/')}/connect/{path}",
        unreachable="Xero's identity server",
        session=session,
        data=data,
        auth=(settings.XERO_CLIENT_ID, settings.XERO_CLIENT_SECRET),
        headers={"Accept": "application/json"},
    )


def _token_set(response: requests.Response) -> TokenSet:
    if response.status_code >= 500:
        raise OAuthError("server_error", "Xero's identity server had a problem.", response.status_code)
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200 or "access_token" not in body:
        error = str(body.get("error") or f"http_{response.status_code}")
        raise OAuthError(error, str(body.get("error_description") or ""), response.status_code)
    tokens = TokenSet(
        access_token=body["access_token"],
        refresh_token=body.get("refresh_token", ""),
        expires_in=int(body.get("expires_in") or 1800),
        scope=body.get("scope", ""),
        id_token=body.get("id_token", ""),
    )
    tokens.claims = _unverified_claims(tokens.access_token)
    tokens.identity = _unverified_claims(tokens.id_token) if tokens.id_token else {}
    return tokens


def exchange_code(*, code: str, code_verifier: str, session: requests.Session | None = None) -> TokenSet:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": settings.XERO_REDIRECT_URI,
        "code_verifier": code_verifier,
    }
    return _token_set(_identity_post("token", data, session=session))


def refresh(*, refresh_token: str, session: requests.Session | None = None) -> TokenSet:
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return _token_set(_identity_post("token", data, session=session))


def revoke(*, refresh_token: str, session: requests.Session | None = None) -> None:
    response = _identity_post("revocation", {"token": refresh_token}, session=session)
    if response.status_code >= 500:
        raise OAuthError("server_error", "Xero's identity server had a problem.", response.status_code)
    if response.status_code not in (200, 204):
        try:
            error = response.json().get("error", f"http_{response.status_code}")
        except ValueError:
            error = f"http_{response.status_code}"
        raise OAuthError(error, status_code=response.status_code)


def _connections_call(method: str, url: str, access_token: str, session, **kw) -> requests.Response:
    return _send(
        method,
        url,
        unreachable="Xero",
        session=session,
        headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
        **kw,
    )


def connections(*, access_token: str, auth_event_id: str = "", session: requests.Session | None = None) -> list[Tenant]:
    params = {"authEventId": auth_event_id} if auth_event_id else None
    response = _connections_call("GET", settings.XERO_CONNECTIONS_URL, access_token, session, params=params)
    if response.status_code != 200:
        raise OAuthError(f"http_{response.status_code}", "Could not list Xero connections.", response.status_code)
    return [
        Tenant(
            connection_id=str(c.get("id", "")),
            tenant_id=str(c.get("tenantId", "")),
            tenant_name=c.get("tenantName") or "",
            tenant_type=c.get("tenantType") or "",
            auth_event_id=str(c.get("authEventId") or ""),
        )
        for c in response.json()
        if (c.get("tenantType") or "ORGANISATION") == "ORGANISATION"
    ]


def connection_delete(*, access_token: str, connection_id: str, session: requests.Session | None = None) -> None:
    url = f"{settings.XERO_CONNECTIONS_URL.rstrip('/')}/{connection_id}"
    response = _connections_call("DELETE", url, access_token, session)
    # 404: already gone, which is what we wanted.
    if response.status_code not in (200, 204, 404):
        raise OAuthError(f"http_{response.status_code}", "Could not delete the Xero connection.", response.status_code)
