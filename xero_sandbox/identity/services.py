"""Identity writes: apps, users and roles, consent, codes, token issue/rotation/revocation, connections."""

import base64
import hashlib
import hmac
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.utils import timezone

from xero_sandbox import conf
from xero_sandbox.identity.scopes import scopes_parse
from xero_sandbox.models import (
    AuthCode,
    Connection,
    Organisation,
    OrgRole,
    SandboxAccessToken,
    SandboxApp,
    SandboxRefreshToken,
    SandboxUser,
    TokenFamily,
    UserOrgRole,
)

logger = logging.getLogger(__name__)


class OAuthError(Exception):
    """An OAuth error answered as `{"error": code}` with a 400 (401 for invalid_client)."""

    def __init__(self, error: str, description: str = ""):
        super().__init__(error)
        self.error = error
        self.description = description

    @property
    def status(self) -> int:
        return 400


def token_hash(token: str) -> str:
    """How tokens and codes are stored: a SHA-256 hex digest, never the value."""
    return hashlib.sha256(token.encode()).hexdigest()


# ---- apps, users, organisations ---------------------------------------------------------------


def app_create(
    *,
    client_id: str,
    client_secret: str,
    redirect_uris: list[str],
    name: str = "Sandbox app",
    webhook_url: str = "",
    webhook_key: str = "",
    allow_broad_scopes: bool = True,
) -> SandboxApp:
    return SandboxApp.objects.create(
        name=name,
        client_id=client_id,
        client_secret_hash=make_password(client_secret),
        redirect_uris=list(redirect_uris),
        webhook_url=webhook_url,
        webhook_key=webhook_key,
        allow_broad_scopes=allow_broad_scopes,
    )


def app_secret_set(*, app: SandboxApp, client_secret: str) -> None:
    app.client_secret_hash = make_password(client_secret)
    app.save(update_fields=["client_secret_hash"])


def app_authenticate(*, client_id: str, client_secret: str) -> SandboxApp | None:
    app = SandboxApp.objects.filter(client_id=client_id).first()
    if app is None or not client_secret or not check_password(client_secret, app.client_secret_hash):
        return None
    return app


def user_create(
    *,
    email: str,
    password: str,
    orgs: dict[Organisation, str] | None = None,
    first_name: str = "",
    last_name: str = "",
) -> SandboxUser:
    user = SandboxUser.objects.create(
        email=email.strip().lower(),
        password_hash=make_password(password),
        first_name=first_name,
        last_name=last_name,
    )
    for org, role in (orgs or {}).items():
        user_role_set(user=user, org=org, role=role)
    return user


def user_password_set(*, user: SandboxUser, password: str) -> None:
    user.password_hash = make_password(password)
    user.save(update_fields=["password_hash"])


def user_authenticate(*, email: str, password: str) -> SandboxUser | None:
    user = SandboxUser.objects.filter(email=(email or "").strip().lower()).first()
    if user is None:
        make_password(password)  # same work either way, so timing does not reveal which emails exist
        return None
    return user if check_password(password, user.password_hash) else None


def user_role_set(*, user: SandboxUser, org: Organisation, role: str) -> UserOrgRole:
    role = OrgRole(role)
    membership, _ = UserOrgRole.objects.update_or_create(user=user, organisation=org, defaults={"role": role})
    return membership


def user_remove_from_org(*, user: SandboxUser, org: Organisation) -> int:
    """Take a user out of an organisation; the connections they made to it stop working at once."""
    with transaction.atomic():
        UserOrgRole.objects.filter(user=user, organisation=org).delete()
        removed, _ = Connection.objects.filter(user=user, organisation=org).delete()
    logger.info("xero_sandbox.user.removed_from_org", extra={"org": str(org.tenant_id)})
    return removed


def app_disconnect(*, org: Organisation, app: SandboxApp | None = None) -> int:
    """Disconnect an app (or every app) from an organisation, as a user would from inside Xero."""
    qs = Connection.objects.filter(organisation=org)
    if app is not None:
        qs = qs.filter(app=app)
    removed, _ = qs.delete()
    logger.info("xero_sandbox.app.disconnected", extra={"org": str(org.tenant_id), "count": removed})
    return removed


# ---- consent and codes ------------------------------------------------------------------------


def consent_grant(
    *,
    app: SandboxApp,
    user: SandboxUser,
    orgs: list[Organisation],
    scope: str,
    redirect_uri: str,
    code_challenge: str = "",
    code_challenge_method: str = "",
    nonce: str = "",
    now: datetime | None = None,
) -> str:
    """The user clicked Allow access: connect the organisations and return a one-time code (plain, once)."""
    now = now or timezone.now()
    auth_event_id = uuid.uuid4()
    code = secrets.token_urlsafe(32)
    with transaction.atomic():
        for org in orgs:
            conn, created = Connection.objects.get_or_create(
                app=app,
                user=user,
                organisation=org,
                defaults={"auth_event_id": auth_event_id, "created_at": now, "updated_at": now},
            )
            if not created:
                conn.auth_event_id = auth_event_id
                conn.updated_at = now
                conn.save(update_fields=["auth_event_id", "updated_at"])
        AuthCode.objects.create(
            code_hash=token_hash(code),
            app=app,
            user=user,
            redirect_uri=redirect_uri,
            scope=" ".join(scopes_parse(scope)),
            auth_event_id=auth_event_id,
            code_challenge=code_challenge,
            code_challenge_method=code_challenge_method,
            nonce=nonce,
            created_at=now,
            expires_at=now + timedelta(seconds=conf.CODE_SECONDS),
        )
    return code


def pkce_matches(*, verifier: str, challenge: str, method: str) -> bool:
    if method == "S256":
        digest = hashlib.sha256(verifier.encode()).digest()
        computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    else:  # "plain" (allowed by the spec, discouraged)
        computed = verifier
    return hmac.compare_digest(computed, challenge)


def code_exchange(
    *,
    app: SandboxApp,
    code: str,
    redirect_uri: str,
    code_verifier: str = "",
    client_authenticated: bool = True,
    now: datetime | None = None,
) -> dict:
    """authorization_code grant: a fresh token family; the code works once and for five minutes."""
    now = now or timezone.now()
    with transaction.atomic():
        row = AuthCode.objects.select_for_update().select_related("user").filter(code_hash=token_hash(code)).first()
        if row is None or row.used_at is not None or row.expires_at <= now:
            raise OAuthError("invalid_grant")
        # Spend the code first, whatever happens next: a code is never accepted twice.
        if AuthCode.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=now) != 1:
            raise OAuthError("invalid_grant")
        if row.app_id != app.pk or row.redirect_uri != redirect_uri:
            raise OAuthError("invalid_grant")
        if row.code_challenge and not (
            code_verifier
            and pkce_matches(verifier=code_verifier, challenge=row.code_challenge, method=row.code_challenge_method)
        ):
            raise OAuthError("invalid_grant")
        if not client_authenticated and not row.code_challenge:
            # Only PKCE flows may leave the client secret out.
            raise OAuthError("invalid_client")
        family = TokenFamily.objects.create(
            app=app,
            user=row.user,
            scope=row.scope,
            auth_event_id=row.auth_event_id,
            public_client=not client_authenticated,
            created_at=now,
        )
        return _token_set_issue(family=family, now=now, nonce=row.nonce)


# ---- tokens -----------------------------------------------------------------------------------


def _rotated_refresh_value(previous: str) -> str:
    """The refresh token that `previous` rotates into, derived so a replay can be answered identically
    without ever storing a token in plain text."""
    mac = hmac.new(conf.signing_key(), b"refresh-rotate:" + previous.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def _jwt(claims: dict) -> str:
    # Sorted, so re-signing stored claims (whatever order the database returns them in) gives the same token.
    claims = dict(sorted(claims.items()))
    return jwt.encode(claims, conf.signing_key(), algorithm="HS256", headers={"typ": "JWT"})


def _access_token_create(*, family: TokenFamily, now: datetime) -> tuple[str, SandboxAccessToken]:
    stamp = int(now.timestamp())
    jti = uuid.uuid4().hex
    claims = {
        "nbf": stamp,
        "exp": stamp + conf.ACCESS_TOKEN_SECONDS,
        "iss": conf.issuer(),
        "aud": f"{conf.issuer()}/resources",
        "client_id": family.app.client_id,
        "sub": family.user.xero_userid.hex,
        "auth_time": int(family.created_at.timestamp()),
        "xero_userid": str(family.user.xero_userid),
        "global_session_id": uuid.UUID(int=family.pk).hex,
        "sid": uuid.UUID(int=family.pk).hex,
        "jti": jti,
        "authentication_event_id": str(family.auth_event_id),
        "authEventId": str(family.auth_event_id),
        "scope": scopes_parse(family.scope),
        "amr": ["pwd"],
    }
    token = _jwt(claims)
    row = SandboxAccessToken.objects.create(
        family=family,
        jti=jti,
        token_hash=token_hash(token),
        claims=claims,
        expires_at=now + timedelta(seconds=conf.ACCESS_TOKEN_SECONDS),
    )
    return token, row


def _id_token(*, family: TokenFamily, now: datetime, nonce: str = "") -> str:
    stamp = int(now.timestamp())
    user = family.user
    claims = {
        "nbf": stamp,
        "exp": stamp + 300,
        "iss": conf.issuer(),
        "aud": family.app.client_id,
        "iat": stamp,
        "at_hash": "",
        "sid": uuid.UUID(int=family.pk).hex,
        "sub": user.xero_userid.hex,
        "auth_time": int(family.created_at.timestamp()),
        "xero_userid": str(user.xero_userid),
        "global_session_id": uuid.UUID(int=family.pk).hex,
        "preferred_username": user.email,
        "email": user.email,
        "given_name": user.first_name,
        "family_name": user.last_name,
    }
    if nonce:
        claims["nonce"] = nonce
    return _jwt(claims)


def _token_set_body(
    *, family: TokenFamily, access_token: str, refresh_token: str | None, now: datetime, nonce: str = ""
) -> dict:
    scopes = scopes_parse(family.scope)
    body = {}
    if "openid" in scopes:
        body["id_token"] = _id_token(family=family, now=now, nonce=nonce)
    body.update(
        {
            "access_token": access_token,
            "expires_in": conf.ACCESS_TOKEN_SECONDS,
            "token_type": "Bearer",
        }
    )
    if refresh_token:
        body["refresh_token"] = refresh_token
    body["scope"] = " ".join(scopes)
    return body


def _token_set_issue(*, family: TokenFamily, now: datetime, nonce: str = "", refresh_value: str | None = None) -> dict:
    access, access_row = _access_token_create(family=family, now=now)
    refresh = None
    if "offline_access" in scopes_parse(family.scope):
        refresh = refresh_value or secrets.token_urlsafe(32)
        SandboxRefreshToken.objects.create(
            family=family,
            token_hash=token_hash(refresh),
            created_at=now,
            expires_at=now + timedelta(days=conf.REFRESH_IDLE_DAYS),
        )
    body = _token_set_body(family=family, access_token=access, refresh_token=refresh, now=now, nonce=nonce)
    body["_access_row_id"] = access_row.pk
    return body


def token_set_issue(
    *,
    app: SandboxApp,
    user: SandboxUser,
    orgs: list[Organisation],
    scope: str,
    now: datetime | None = None,
) -> dict:
    """Connect the organisations and issue a token set directly (for scripts and tests; skips the pages)."""
    now = now or timezone.now()
    auth_event_id = uuid.uuid4()
    with transaction.atomic():
        for org in orgs:
            Connection.objects.update_or_create(
                app=app,
                user=user,
                organisation=org,
                defaults={"auth_event_id": auth_event_id, "updated_at": now},
                create_defaults={"auth_event_id": auth_event_id, "created_at": now, "updated_at": now},
            )
        family = TokenFamily.objects.create(
            app=app, user=user, scope=" ".join(scopes_parse(scope)), auth_event_id=auth_event_id, created_at=now
        )
        body = _token_set_issue(family=family, now=now)
    body.pop("_access_row_id", None)
    return body


def refresh_rotate(
    *,
    app: SandboxApp,
    refresh_token: str,
    scope: str = "",
    client_authenticated: bool = True,
    now: datetime | None = None,
) -> dict:
    """refresh_token grant: rotate; the previous token keeps answering with the same pair for 30 minutes."""
    now = now or timezone.now()
    with transaction.atomic():
        row = (
            SandboxRefreshToken.objects.select_for_update()
            .select_related("family__app", "family__user")
            .filter(token_hash=token_hash(refresh_token))
            .first()
        )
        if row is None or row.family.app_id != app.pk or row.expires_at <= now:
            raise OAuthError("invalid_grant")
        family = row.family
        if not client_authenticated and not family.public_client:
            raise OAuthError("invalid_client")
        if scope and not set(scopes_parse(scope)) <= set(scopes_parse(family.scope)):
            raise OAuthError("invalid_scope")
        if row.used_at is None:
            claimed = SandboxRefreshToken.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=now)
            if claimed == 1:
                new_value = _rotated_refresh_value(refresh_token)
                body = _token_set_issue(family=family, now=now, refresh_value=new_value)
                row.next_access_id = body.pop("_access_row_id")
                row.next_refresh = SandboxRefreshToken.objects.get(token_hash=token_hash(new_value))
                row.save(update_fields=["next_access", "next_refresh"])
                return body
            row.refresh_from_db()
        # Already used: a lost response may be retried for a while and gets the very same pair back.
        if (
            row.used_at is None
            or now - row.used_at > timedelta(seconds=conf.REFRESH_GRACE_SECONDS)
            or row.next_access is None
        ):
            raise OAuthError("invalid_grant")
        new_value = _rotated_refresh_value(refresh_token)
        if row.next_refresh is None or row.next_refresh.token_hash != token_hash(new_value):
            raise OAuthError("invalid_grant")
        return _token_set_body(
            family=family, access_token=_jwt(row.next_access.claims), refresh_token=new_value, now=now
        )


def token_revoke(*, app: SandboxApp, token: str) -> bool:
    """Revoke a refresh (or access) token: its whole family goes, and so do that user's connections."""
    digest = token_hash(token)
    with transaction.atomic():
        family = (
            TokenFamily.objects.filter(app=app, refresh_tokens__token_hash=digest).first()
            or TokenFamily.objects.filter(app=app, access_tokens__token_hash=digest).first()
        )
        if family is None:
            return False
        Connection.objects.filter(app=app, user=family.user).delete()
        family.delete()
    logger.info("xero_sandbox.token.revoked", extra={"client_id": app.client_id})
    return True


@dataclass(frozen=True)
class AccessGrant:
    """What a valid bearer token stands for."""

    token: SandboxAccessToken
    family: TokenFamily
    app: SandboxApp
    user: SandboxUser
    scopes: frozenset[str]
    claims: dict


class TokenExpired(Exception):
    def __init__(self, expired_at: datetime):
        super().__init__("token expired")
        self.expired_at = expired_at


class TokenInvalid(Exception):
    pass


def access_token_check(*, token: str, now: datetime | None = None) -> AccessGrant:
    """Validate a bearer token the sandbox issued (signature, expiry against timezone.now, not revoked)."""
    now = now or timezone.now()
    try:
        claims = jwt.decode(
            token, conf.signing_key(), algorithms=["HS256"], options={"verify_exp": False, "verify_aud": False}
        )
    except jwt.InvalidTokenError as exc:
        raise TokenInvalid() from exc
    row = (
        SandboxAccessToken.objects.select_related("family__app", "family__user")
        .filter(jti=claims.get("jti", ""), token_hash=token_hash(token))
        .first()
    )
    if row is None:
        raise TokenInvalid()
    if row.expires_at <= now:
        raise TokenExpired(row.expires_at)
    family = row.family
    return AccessGrant(
        token=row,
        family=family,
        app=family.app,
        user=family.user,
        scopes=frozenset(claims.get("scope") or []),
        claims=claims,
    )


# ---- connections ------------------------------------------------------------------------------


def connection_json(conn: Connection) -> dict:
    return {
        "id": str(conn.id),
        "authEventId": str(conn.auth_event_id),
        "tenantId": str(conn.organisation.tenant_id),
        "tenantType": "ORGANISATION",
        "tenantName": conn.organisation.name,
        "createdDateUtc": _iso(conn.created_at),
        "updatedDateUtc": _iso(conn.updated_at),
    }


def _iso(value: datetime) -> str:
    # Xero's shape: "2019-12-07T18:46:19.5165400" (UTC, no offset, 7 fraction digits).
    value = value.astimezone(UTC).replace(tzinfo=None)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond:06d}0"


def connection_delete(*, grant: AccessGrant, connection_id: str) -> bool:
    try:
        conn_uuid = uuid.UUID(str(connection_id))
    except ValueError:
        return False
    removed, _ = Connection.objects.filter(id=conn_uuid, app=grant.app, user=grant.user).delete()
    return removed > 0
