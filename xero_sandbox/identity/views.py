"""Identity endpoints: the sign-in/consent pages, token, revocation, OpenID configuration and connections."""

import base64
import binascii
import json
import logging
import uuid
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.core import signing
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from xero_sandbox import conf
from xero_sandbox.gate import problem_response
from xero_sandbox.identity import services
from xero_sandbox.identity.scopes import ALL_SCOPES, scopes_describe, scopes_invalid, scopes_parse
from xero_sandbox.models import Connection, SandboxApp, SandboxUser, UserOrgRole

logger = logging.getLogger(__name__)

# The sandbox's own sign-in cookie, confined to the sandbox's path: the portal's session is never touched.
COOKIE_NAME = "xero_sandbox_session"
COOKIE_PATH = "/sandbox/xero/"
COOKIE_SALT = "xero_sandbox.signin"
COOKIE_MAX_AGE = 12 * 3600

ROLE_REFUSALS = {
    "invoice_only": "Your role in this organisation is Invoice only. Only users with the Standard or "
    "Adviser role can connect apps.",
    "read_only": "Your role in this organisation is Read only. Only users with the Standard or "
    "Adviser role can connect apps.",
}


def _signed_in_user(request: HttpRequest) -> SandboxUser | None:
    raw = request.COOKIES.get(COOKIE_NAME)
    if not raw:
        return None
    try:
        user_id = signing.loads(raw, salt=COOKIE_SALT, max_age=COOKIE_MAX_AGE)
    except signing.BadSignature:
        return None
    return SandboxUser.objects.filter(pk=user_id).first()


def _sign_in_cookie(response: HttpResponse, user: SandboxUser) -> None:
    response.set_cookie(
        COOKIE_NAME,
        signing.dumps(user.pk, salt=COOKIE_SALT),
        max_age=COOKIE_MAX_AGE,
        path=COOKIE_PATH,
        httponly=True,
        samesite="Lax",
        secure=False,  # the sandbox runs on plain http in the demo
    )


def _redirect_with(redirect_uri: str, params: dict) -> HttpResponseRedirect:
    parts = urlsplit(redirect_uri)
    query = "&".join(p for p in (parts.query, urlencode({k: v for k, v in params.items() if v is not None})) if p)
    return HttpResponseRedirect(urlunsplit(parts._replace(query=query)))


def _error_page(request: HttpRequest, error: str, description: str, status: int = 400) -> HttpResponse:
    return render(request, "xero_sandbox/error.html", {"error": error, "description": description}, status=status)


class _AuthorizeParams:
    """The query of an authorize request (or the same fields carried by the page's forms)."""

    names = (
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "code_challenge",
        "code_challenge_method",
        "nonce",
    )

    def __init__(self, source):
        self.values = {name: (source.get(name) or "").strip() for name in self.names}

    def __getattr__(self, name):
        try:
            return self.__dict__["values"][name]
        except KeyError as exc:
            raise AttributeError(name) from exc

    def query(self) -> str:
        return urlencode({k: v for k, v in self.values.items() if v})


@never_cache
@require_http_methods(["GET", "POST"])
def authorize(request: HttpRequest) -> HttpResponse:
    """Sign in (the sandbox's own users), pick organisations, Allow access or Cancel."""
    params = _AuthorizeParams(request.POST if request.method == "POST" else request.GET)
    app = SandboxApp.objects.filter(client_id=params.client_id).first() if params.client_id else None
    if app is None:
        return _error_page(request, "unauthorized_client", "Unknown client or client not enabled.")
    if not params.redirect_uri or params.redirect_uri not in (app.redirect_uris or []):
        # Never redirect to an address the app did not register.
        return _error_page(request, "unauthorized_client", "Invalid redirect_uri.")
    state = params.state
    if params.response_type != "code":
        return _redirect_with(params.redirect_uri, {"error": "unsupported_response_type", "state": state})
    scopes = scopes_parse(params.scope)
    if not scopes or scopes_invalid(scopes, allow_broad=app.allow_broad_scopes):
        return _redirect_with(params.redirect_uri, {"error": "invalid_scope", "state": state})
    if params.code_challenge_method and params.code_challenge_method not in ("S256", "plain"):
        return _redirect_with(params.redirect_uri, {"error": "invalid_request", "state": state})
    if params.code_challenge_method and not params.code_challenge:
        return _redirect_with(params.redirect_uri, {"error": "invalid_request", "state": state})

    action = request.POST.get("action", "") if request.method == "POST" else ""
    if action == "cancel":
        logger.info("xero_sandbox.authorize.cancelled", extra={"client_id": app.client_id})
        return _redirect_with(params.redirect_uri, {"error": "access_denied", "state": state})

    context = {
        "app": app,
        "params": params.values,
        "hidden": [(k, v) for k, v in params.values.items() if v],
        "authorize_url": reverse("xero_sandbox:authorize"),
        "scope_lines": scopes_describe(scopes),
    }
    if action == "signin":
        user = services.user_authenticate(
            email=request.POST.get("email", ""), password=request.POST.get("password", "")
        )
        if user is None:
            context["email"] = request.POST.get("email", "")
            context["signin_error"] = "Your email or password is incorrect."
            return render(request, "xero_sandbox/sign_in.html", context, status=200)
        response = HttpResponseRedirect(f"{reverse('xero_sandbox:authorize')}?{params.query()}")
        _sign_in_cookie(response, user)
        return response

    user = _signed_in_user(request)
    if user is None:
        return render(request, "xero_sandbox/sign_in.html", context)

    roles = list(UserOrgRole.objects.filter(user=user).select_related("organisation").order_by("organisation__name"))
    choices = [
        {
            "tenant_id": str(r.organisation.tenant_id),
            "name": r.organisation.name,
            "role": r.get_role_display(),
            "allowed": r.can_connect_apps,
            "refusal": ROLE_REFUSALS.get(r.role, ""),
        }
        for r in roles
    ]
    first_allowed = next((c for c in choices if c["allowed"]), None)
    if first_allowed:
        first_allowed["checked"] = True
    context.update({"user": user, "choices": choices, "can_allow": first_allowed is not None})

    if action == "allow":
        wanted = set(request.POST.getlist("tenant"))
        allowed = {str(r.organisation.tenant_id): r for r in roles if r.can_connect_apps}
        refused = [r for r in roles if str(r.organisation.tenant_id) in wanted and not r.can_connect_apps]
        if refused:
            context["consent_error"] = ROLE_REFUSALS.get(refused[0].role, "You can't connect this organisation.")
            return render(request, "xero_sandbox/consent.html", context, status=403)
        chosen = [allowed[t].organisation for t in wanted if t in allowed]
        if not chosen:
            context["consent_error"] = "Choose at least one organisation to connect."
            return render(request, "xero_sandbox/consent.html", context, status=400)
        code = services.consent_grant(
            app=app,
            user=user,
            orgs=chosen,
            scope=params.scope,
            redirect_uri=params.redirect_uri,
            code_challenge=params.code_challenge,
            code_challenge_method=params.code_challenge_method or ("plain" if params.code_challenge else ""),
            nonce=params.nonce,
        )
        logger.info("xero_sandbox.authorize.allowed", extra={"client_id": app.client_id, "orgs": len(chosen)})
        return _redirect_with(
            params.redirect_uri, {"code": code, "scope": " ".join(scopes), "state": state, "session_state": None}
        )
    return render(request, "xero_sandbox/consent.html", context)


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    """Sign out of the sandbox only (the portal's session is untouched)."""
    params = _AuthorizeParams(request.POST)
    target = f"{reverse('xero_sandbox:authorize')}?{params.query()}" if params.client_id else COOKIE_PATH
    response = HttpResponseRedirect(target)
    response.delete_cookie(COOKIE_NAME, path=COOKIE_PATH)
    return response


def _oauth_error(error: str, status: int = 400) -> JsonResponse:
    response = JsonResponse({"error": error}, status=status)
    response["Cache-Control"] = "no-store"
    return response


def _client_credentials(request: HttpRequest) -> tuple[str, str, bool]:
    """(client_id, client_secret, malformed) from HTTP Basic or the form."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return "", "", True
        client_id, sep, secret = decoded.partition(":")
        return (client_id, secret, False) if sep else ("", "", True)
    return request.POST.get("client_id", ""), request.POST.get("client_secret", ""), False


@csrf_exempt
@never_cache
@require_POST
def token(request: HttpRequest) -> HttpResponse:
    """The token endpoint: authorization_code and refresh_token grants, Xero's error bodies."""
    client_id, client_secret, malformed = _client_credentials(request)
    if malformed or not client_id:
        return _oauth_error("invalid_client")
    if client_secret:
        app = services.app_authenticate(client_id=client_id, client_secret=client_secret)
    else:
        app = SandboxApp.objects.filter(client_id=client_id).first()
    if app is None:
        return _oauth_error("invalid_client")
    authenticated = bool(client_secret)
    grant_type = request.POST.get("grant_type", "")
    try:
        if grant_type == "authorization_code":
            body = services.code_exchange(
                app=app,
                code=request.POST.get("code", ""),
                redirect_uri=request.POST.get("redirect_uri", ""),
                code_verifier=request.POST.get("code_verifier", ""),
                client_authenticated=authenticated,
            )
            body.pop("_access_row_id", None)
        elif grant_type == "refresh_token":
            body = services.refresh_rotate(
                app=app,
                refresh_token=request.POST.get("refresh_token", ""),
                scope=request.POST.get("scope", ""),
                client_authenticated=authenticated,
            )
            body.pop("_access_row_id", None)
        elif grant_type == "client_credentials":
            # Only custom connections may use client credentials; sandbox apps are standard web apps.
            return _oauth_error("unauthorized_client")
        else:
            return _oauth_error("unsupported_grant_type")
    except services.OAuthError as exc:
        logger.info("xero_sandbox.token.refused", extra={"error": exc.error, "grant_type": grant_type})
        return _oauth_error(exc.error)
    response = JsonResponse(body)
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt
@require_POST
def revocation(request: HttpRequest) -> HttpResponse:
    """Revoke a refresh token: the family and the user's connections to the app go; 200 either way."""
    client_id, client_secret, malformed = _client_credentials(request)
    app = None
    if not malformed and client_id:
        if client_secret:
            app = services.app_authenticate(client_id=client_id, client_secret=client_secret)
        else:
            app = SandboxApp.objects.filter(client_id=client_id).first()
    if app is None:
        return _oauth_error("invalid_client")
    services.token_revoke(app=app, token=request.POST.get("token", ""))
    return HttpResponse(status=200)


@require_GET
def openid_configuration(request: HttpRequest) -> JsonResponse:
    def url(name: str) -> str:
        return request.build_absolute_uri(reverse(f"xero_sandbox:{name}"))

    return JsonResponse(
        {
            "issuer": conf.issuer(),
            "authorization_endpoint": url("authorize"),
            "token_endpoint": url("token"),
            "revocation_endpoint": url("revocation"),
            "end_session_endpoint": url("sign_out"),
            "scopes_supported": sorted(ALL_SCOPES),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["HS256"],
            "code_challenge_methods_supported": ["S256", "plain"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "claims_supported": [
                "sub",
                "email",
                "given_name",
                "family_name",
                "xero_userid",
                "global_session_id",
                "authentication_event_id",
            ],
        }
    )


def _bearer_grant(request: HttpRequest) -> services.AccessGrant | HttpResponse:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return problem_response(401, "AuthenticationUnsuccessful")
    try:
        return services.access_token_check(token=value.strip())
    except services.TokenExpired as exc:
        return problem_response(401, f"TokenExpired: token expired at {exc.expired_at:%m/%d/%Y %H:%M:%S}")
    except services.TokenInvalid:
        return problem_response(401, "AuthenticationUnsuccessful")


@csrf_exempt
@require_GET
def connections(request: HttpRequest) -> HttpResponse:
    """GET /connections[?authEventId=]: the organisations this user connected to this app."""
    grant = _bearer_grant(request)
    if isinstance(grant, HttpResponse):
        return grant
    qs = Connection.objects.filter(app=grant.app, user=grant.user).select_related("organisation")
    auth_event_id = request.GET.get("authEventId", "").strip()
    if auth_event_id:
        try:
            qs = qs.filter(auth_event_id=uuid.UUID(auth_event_id))
        except ValueError:
            qs = qs.none()
    body = [services.connection_json(c) for c in qs.order_by("created_at", "organisation__name")]
    return HttpResponse(json.dumps(body), content_type="application/json; charset=utf-8")


@csrf_exempt
@require_http_methods(["DELETE"])
def connection_delete(request: HttpRequest, connection_id: str) -> HttpResponse:
    """DELETE /connections/{id}: 204, or 404 when it is not one of this user's connections."""
    grant = _bearer_grant(request)
    if isinstance(grant, HttpResponse):
        return grant
    if not services.connection_delete(grant=grant, connection_id=connection_id):
        return HttpResponse(
            "The resource you're looking for cannot be found", status=404, content_type="text/plain; charset=utf-8"
        )
    return HttpResponse(status=204)
