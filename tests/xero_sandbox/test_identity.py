"""The sandbox's identity service: sign-in and consent, codes, tokens, rotation, revocation, connections."""

import base64
import hashlib
import json
import re
from datetime import timedelta
from pathlib import Path
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import jsonschema
import jwt
import pytest
import yaml
from django.http import JsonResponse
from django.urls import include, path
from django.utils import timezone

from xero_sandbox import conf
from xero_sandbox.gate import sandbox_api
from xero_sandbox.identity import services
from xero_sandbox.identity.views import COOKIE_NAME
from xero_sandbox.models import AuthCode, Connection, SandboxRefreshToken, SandboxUser, TokenFamily
from xero_sandbox.testing import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_REDIRECT_URI,
    sandbox_app,
    sandbox_org,
    sandbox_token,
    sandbox_user,
)

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.xero_sandbox.test_identity")]

SPEC = yaml.safe_load((Path("/work/shared/xero-openapi/xero-identity.yaml")).read_text())
SCHEMAS = SPEC["components"]["schemas"]
FORMATS = jsonschema.FormatChecker(formats=["uuid"])

AUTHORIZE = "/sandbox/xero/identity/connect/authorize"
TOKEN = "/sandbox/xero/identity/connect/token"
REVOKE = "/sandbox/xero/identity/connect/revocation"
CONNECTIONS = "/sandbox/xero/connections"
SCOPES = "openid profile email offline_access accounting.transactions accounting.contacts"


@sandbox_api(read=("accounting.transactions", "accounting.transactions.read"), write=("accounting.transactions",))
def probe(request):
    return JsonResponse({"Organisation": request.sandbox_org.name})


urlpatterns = [
    path("sandbox/xero/probe", probe),
    path("sandbox/xero/", include("xero_sandbox.urls")),
    path("", include("portal.urls")),
]


def _validate_connections(body):
    schema = {"type": "array", "items": SCHEMAS["Connection"]}
    jsonschema.validate(body, schema, format_checker=FORMATS)
    for item in body:
        assert set(item) == {
            "id",
            "authEventId",
            "tenantId",
            "tenantType",
            "tenantName",
            "createdDateUtc",
            "updatedDateUtc",
        }


def _validate_token_set(body):
    jsonschema.validate(body, SCHEMAS["AccessToken"])
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 1800


def _basic(client_id=DEFAULT_CLIENT_ID, secret=DEFAULT_CLIENT_SECRET):
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def _at(minutes):
    """A clock `minutes` from now, for time travel."""
    return mock.patch("django.utils.timezone.now", return_value=timezone.now() + timedelta(minutes=minutes))


@pytest.fixture
def org():
    return sandbox_org("Demo Plumbing Co")


@pytest.fixture
def app():
    return sandbox_app()


@pytest.fixture
def owner(org):
    return sandbox_user("owner@sandbox.example", "sandbox-pass", orgs={org: "standard"})


def _authorize_query(**overrides):
    params = {
        "response_type": "code",
        "client_id": DEFAULT_CLIENT_ID,
        "redirect_uri": DEFAULT_REDIRECT_URI,
        "scope": SCOPES,
        "state": "st-123",
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def _sign_in(client, query, email="owner@sandbox.example", password="sandbox-pass"):
    return client.post(AUTHORIZE, {**query, "action": "signin", "email": email, "password": password})


def _consent(client, org_list, **overrides):
    """Sign in and Allow access for the organisations; returns the redirect's query."""
    query = _authorize_query(**overrides)
    response = _sign_in(client, query)
    assert response.status_code == 302
    response = client.post(AUTHORIZE, {**query, "action": "allow", "tenant": [str(o.tenant_id) for o in org_list]})
    assert response.status_code == 302, response.content
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == DEFAULT_REDIRECT_URI
    return {k: v[0] for k, v in parse_qs(location.query).items()}


def _exchange(client, code, headers=None, **extra):
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": DEFAULT_REDIRECT_URI, **extra}
    return client.post(TOKEN, data, headers=_basic() if headers is None else headers)


def _refresh(client, refresh_token, **extra):
    return client.post(
        TOKEN, {"grant_type": "refresh_token", "refresh_token": refresh_token, **extra}, headers=_basic()
    )


def _api(client, token, org):
    return client.get(
        "/sandbox/xero/probe", headers={"Authorization": f"Bearer {token}", "xero-tenant-id": str(org.tenant_id)}
    )


# ---- the pages ------------------------------------------------------------------------------------


def test_full_flow_signs_in_consents_and_finds_the_org_by_auth_event(client, app, org, owner):
    other = sandbox_org("Second Org")
    sandbox_user("owner@sandbox.example", orgs={other: "advisor"})
    query = _authorize_query()

    page = client.get(AUTHORIZE, query)
    assert page.status_code == 200
    assert b"Log in to Xero sandbox" in page.content
    assert b"sandbox.css" in page.content

    signed_in = _sign_in(client, query)
    assert signed_in.status_code == 302
    cookie = signed_in.cookies[COOKIE_NAME]
    assert cookie["path"] == "/sandbox/xero/"
    assert cookie["httponly"]

    consent = client.get(AUTHORIZE, query)
    html = consent.content.decode()
    assert "Allow access" in html and "Cancel" in html
    assert "Demo Plumbing Co" in html and "Second Org" in html
    assert "View and edit your business transactions" in html  # scopes in plain words
    assert "owner@sandbox.example" in html

    redirect = _consent(client, [org, other])
    assert redirect["state"] == "st-123"
    body = _exchange(client, redirect["code"]).json()
    _validate_token_set(body)
    assert body["scope"] == SCOPES
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["exp"] - claims["nbf"] == 1800
    assert claims["xero_userid"] == str(owner.xero_userid)
    assert set(SCOPES.split()) == set(claims["scope"])

    listed = client.get(
        CONNECTIONS,
        {"authEventId": claims["authentication_event_id"]},
        headers={"Authorization": f"Bearer {body['access_token']}"},
    )
    assert listed.status_code == 200
    _validate_connections(listed.json())
    assert {c["tenantId"] for c in listed.json()} == {str(org.tenant_id), str(other.tenant_id)}
    assert all(c["authEventId"] == claims["authEventId"] for c in listed.json())
    assert _api(client, body["access_token"], org).json() == {"Organisation": "Demo Plumbing Co"}


def test_wrong_password_stays_on_the_sign_in_page(client, app, owner):
    response = _sign_in(client, _authorize_query(), password="nope")
    assert response.status_code == 200
    assert b"Your email or password is incorrect." in response.content
    assert COOKIE_NAME not in response.cookies


def test_connections_filter_by_auth_event_only_lists_that_consent(client, app, org, owner):
    first = _exchange(client, _consent(client, [org])["code"]).json()
    second_org = sandbox_org("Later Org")
    sandbox_user("owner@sandbox.example", orgs={second_org: "standard"})
    second = _exchange(client, _consent(client, [second_org])["code"]).json()
    token = second["access_token"]
    event = jwt.decode(token, options={"verify_signature": False})["authEventId"]
    all_conns = client.get(CONNECTIONS, headers={"Authorization": f"Bearer {token}"}).json()
    filtered = client.get(CONNECTIONS, {"authEventId": event}, headers={"Authorization": f"Bearer {token}"}).json()
    assert {c["tenantName"] for c in all_conns} == {"Demo Plumbing Co", "Later Org"}
    assert [c["tenantName"] for c in filtered] == ["Later Org"]
    assert first["access_token"] != token


def test_unknown_client_and_redirect_mismatch_show_an_error_page_and_never_redirect(client, app, owner):
    unknown = client.get(AUTHORIZE, _authorize_query(client_id="who"))
    assert unknown.status_code == 400
    assert b"unauthorized_client" in unknown.content

    for bad in ("http://evil.example/cb", DEFAULT_REDIRECT_URI + "extra", DEFAULT_REDIRECT_URI.rstrip("/")):
        mismatch = client.get(AUTHORIZE, _authorize_query(redirect_uri=bad))
        assert mismatch.status_code == 400
        assert b"Invalid redirect_uri" in mismatch.content
        assert "Location" not in mismatch


def test_unknown_or_disallowed_scopes_redirect_with_invalid_scope(client, org, owner):
    sandbox_app(allow_broad_scopes=False)
    for scope in ("openid accounting.everything", "openid accounting.transactions"):
        response = client.get(AUTHORIZE, _authorize_query(scope=scope))
        assert response.status_code == 302
        assert parse_qs(urlsplit(response["Location"]).query) == {"error": ["invalid_scope"], "state": ["st-123"]}
    # The granular names are fine for that app.
    assert client.get(AUTHORIZE, _authorize_query(scope="openid accounting.invoices")).status_code == 200


def test_cancel_redirects_with_access_denied_and_the_state(client, app, owner):
    query = _authorize_query(state="keep-me")
    _sign_in(client, query)
    response = client.post(AUTHORIZE, {**query, "action": "cancel"})
    assert response.status_code == 302
    assert parse_qs(urlsplit(response["Location"]).query) == {"error": ["access_denied"], "state": ["keep-me"]}
    assert not AuthCode.objects.exists()
    assert not Connection.objects.exists()


@pytest.mark.parametrize(("role", "words"), [("invoice_only", "Invoice only"), ("read_only", "Read only")])
def test_invoice_only_and_read_only_users_cannot_authorise(client, app, org, role, words):
    sandbox_user("clerk@sandbox.example", "pw-clerk", orgs={org: role})
    query = _authorize_query()
    _sign_in(client, query, email="clerk@sandbox.example", password="pw-clerk")
    page = client.get(AUTHORIZE, query).content.decode()
    assert f"Your role in this organisation is {words}" in page
    assert re.search(r'value="allow"[^>]*disabled', page)

    forced = client.post(AUTHORIZE, {**query, "action": "allow", "tenant": [str(org.tenant_id)]})
    assert forced.status_code == 403
    assert not AuthCode.objects.exists()
    assert not Connection.objects.exists()


def test_signing_in_to_the_sandbox_never_touches_the_portal_session(admin_client, app, owner):
    portal_session_before = admin_client.session.session_key
    assert admin_client.get("/").status_code == 200

    query = _authorize_query()
    _sign_in(admin_client, query)
    assert admin_client.session.session_key == portal_session_before
    assert admin_client.get("/").status_code == 200  # still signed in to the portal

    admin_client.post("/sandbox/xero/identity/connect/signout", query)
    assert admin_client.get("/").status_code == 200
    assert b"Log in to Xero sandbox" in admin_client.get(AUTHORIZE, query).content


def test_a_portal_login_does_not_sign_anyone_in_to_the_sandbox(admin_client, app, owner):
    page = admin_client.get(AUTHORIZE, _authorize_query())
    assert b"Log in to Xero sandbox" in page.content


# ---- codes and PKCE -------------------------------------------------------------------------------


def test_a_code_works_once(client, app, org, owner):
    code = _consent(client, [org])["code"]
    assert _exchange(client, code).status_code == 200
    again = _exchange(client, code)
    assert again.status_code == 400
    assert again.json() == {"error": "invalid_grant"}


def test_a_code_expires_after_five_minutes(client, app, org, owner):
    code = _consent(client, [org])["code"]
    with _at(5.1):
        late = _exchange(client, code)
    assert late.json() == {"error": "invalid_grant"}


def test_a_code_is_good_just_before_five_minutes(client, app, org, owner):
    code = _consent(client, [org])["code"]
    with _at(4.9):
        assert _exchange(client, code).status_code == 200


def test_a_code_needs_the_same_redirect_uri_and_client(client, app, org, owner):
    sandbox_app(client_id="other-app", client_secret="other-secret")
    code = _consent(client, [org])["code"]
    stolen = client.post(
        TOKEN,
        {"grant_type": "authorization_code", "code": code, "redirect_uri": DEFAULT_REDIRECT_URI},
        headers=_basic("other-app", "other-secret"),
    )
    assert stolen.json() == {"error": "invalid_grant"}
    code = _consent(client, [org])["code"]
    wrong_uri = client.post(
        TOKEN,
        {"grant_type": "authorization_code", "code": code, "redirect_uri": "http://testserver/else"},
        headers=_basic(),
    )
    assert wrong_uri.json() == {"error": "invalid_grant"}


def _challenge(verifier):
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def test_pkce_s256_needs_the_right_verifier(client, app, org, owner):
    verifier = "v" * 50
    code = _consent(client, [org], code_challenge=_challenge(verifier), code_challenge_method="S256")["code"]
    assert _exchange(client, code, code_verifier="w" * 50).json() == {"error": "invalid_grant"}

    code = _consent(client, [org], code_challenge=_challenge(verifier), code_challenge_method="S256")["code"]
    assert _exchange(client, code).json() == {"error": "invalid_grant"}  # verifier missing

    code = _consent(client, [org], code_challenge=_challenge(verifier), code_challenge_method="S256")["code"]
    # A PKCE app may leave its secret out and send the client id in the form.
    ok = client.post(
        TOKEN,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": DEFAULT_REDIRECT_URI,
            "client_id": DEFAULT_CLIENT_ID,
            "code_verifier": verifier,
        },
    )
    assert ok.status_code == 200
    _validate_token_set(ok.json())


def test_without_pkce_the_secret_is_required(client, app, org, owner):
    code = _consent(client, [org])["code"]
    response = client.post(
        TOKEN,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": DEFAULT_REDIRECT_URI,
            "client_id": DEFAULT_CLIENT_ID,
        },
    )
    assert response.json() == {"error": "invalid_client"}


# ---- token endpoint errors ------------------------------------------------------------------------


def test_token_endpoint_error_bodies(client, app, org, owner):
    code = _consent(client, [org])["code"]
    wrong_secret = _exchange(client, code, headers=_basic(secret="wrong"))
    assert (wrong_secret.status_code, wrong_secret.json()) == (400, {"error": "invalid_client"})
    unknown = _exchange(client, code, headers=_basic(client_id="nobody"))
    assert unknown.json() == {"error": "invalid_client"}
    form_auth = client.post(
        TOKEN,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": DEFAULT_REDIRECT_URI,
            "client_id": DEFAULT_CLIENT_ID,
            "client_secret": DEFAULT_CLIENT_SECRET,
        },
    )
    assert form_auth.status_code == 200  # form credentials work as well as Basic
    assert client.post(TOKEN, {"grant_type": "password"}, headers=_basic()).json() == {
        "error": "unsupported_grant_type"
    }
    assert client.post(TOKEN, {"grant_type": "client_credentials"}, headers=_basic()).json() == {
        "error": "unauthorized_client"
    }
    assert _refresh(client, "made-up").json() == {"error": "invalid_grant"}
    refresh = form_auth.json()["refresh_token"]
    assert _refresh(client, refresh, scope="accounting.settings").json() == {"error": "invalid_scope"}
    assert _refresh(client, refresh, scope="accounting.contacts").status_code == 200


def test_no_refresh_token_without_offline_access(client, app, org, owner):
    code = _consent(client, [org], scope="openid accounting.transactions")["code"]
    body = _exchange(client, code).json()
    assert "refresh_token" not in body
    assert body["access_token"]


def test_tokens_are_stored_hashed(client, app, org, owner):
    body = _exchange(client, _consent(client, [org])["code"]).json()
    row = SandboxRefreshToken.objects.get()
    assert row.token_hash == hashlib.sha256(body["refresh_token"].encode()).hexdigest()
    assert body["refresh_token"] not in json.dumps(list(SandboxRefreshToken.objects.values()), default=str)


# ---- refresh rotation -----------------------------------------------------------------------------


def test_refresh_rotates_and_the_old_token_replays_the_same_pair_for_30_minutes(client, app, org, owner):
    first = _exchange(client, _consent(client, [org])["code"]).json()
    second = _refresh(client, first["refresh_token"]).json()
    _validate_token_set(second)
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]

    with _at(29):
        replay = _refresh(client, first["refresh_token"]).json()
    assert (replay["access_token"], replay["refresh_token"]) == (second["access_token"], second["refresh_token"])

    with _at(31):
        too_late = _refresh(client, first["refresh_token"])
    assert (too_late.status_code, too_late.json()) == (400, {"error": "invalid_grant"})

    # The rotated token is the live one and rotates again.
    third = _refresh(client, second["refresh_token"]).json()
    assert third["refresh_token"] not in (first["refresh_token"], second["refresh_token"])
    assert _api(client, third["access_token"], org).status_code == 200


def test_refresh_token_dies_after_60_days_unused(client, app, org, owner):
    first = _exchange(client, _consent(client, [org])["code"]).json()
    with _at(60 * 24 * 60 + 1):
        assert _refresh(client, first["refresh_token"]).json() == {"error": "invalid_grant"}


def test_refresh_token_of_another_app_is_refused(client, app, org, owner):
    sandbox_app(client_id="other-app", client_secret="other-secret")
    first = _exchange(client, _consent(client, [org])["code"]).json()
    response = client.post(
        TOKEN,
        {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        headers=_basic("other-app", "other-secret"),
    )
    assert response.json() == {"error": "invalid_grant"}


def test_access_tokens_expire_after_30_minutes(client, app, org, owner):
    body = _exchange(client, _consent(client, [org])["code"]).json()
    with _at(29):
        assert _api(client, body["access_token"], org).status_code == 200
    with _at(31):
        expired = _api(client, body["access_token"], org)
        listed = client.get(CONNECTIONS, headers={"Authorization": f"Bearer {body['access_token']}"})
    assert expired.status_code == 401
    assert expired.json()["Detail"].startswith("TokenExpired: token expired at ")
    assert expired.json()["Title"] == "Unauthorized"
    assert listed.status_code == 401


def test_a_forged_token_is_unauthorised(client, app, org, owner):
    body = _exchange(client, _consent(client, [org])["code"]).json()
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    forged = jwt.encode(claims, "not-the-sandbox-signing-key-" + "x" * 20, algorithm="HS256")
    response = _api(client, forged, org)
    assert response.status_code == 401
    assert response.json()["Detail"] == "AuthenticationUnsuccessful"
    assert _api(client, "", org).status_code == 401


# ---- revocation, connections, removal -------------------------------------------------------------


def test_revocation_removes_the_token_family_and_the_users_connections(client, app, org, owner):
    body = _exchange(client, _consent(client, [org])["code"]).json()
    response = client.post(REVOKE, {"token": body["refresh_token"]}, headers=_basic())
    assert response.status_code == 200
    assert not TokenFamily.objects.exists()
    assert not Connection.objects.exists()
    assert _refresh(client, body["refresh_token"]).json() == {"error": "invalid_grant"}
    assert _api(client, body["access_token"], org).status_code in (401, 403)
    # Revoking again (or an unknown token) still answers 200, as OAuth says.
    assert client.post(REVOKE, {"token": body["refresh_token"]}, headers=_basic()).status_code == 200
    assert client.post(REVOKE, {"token": "x"}, headers=_basic(secret="bad")).json() == {"error": "invalid_client"}


def test_revocation_keeps_other_users_connections(client, app, org, owner):
    other_tokens = sandbox_token(org, app=app)
    body = _exchange(client, _consent(client, [org])["code"]).json()
    client.post(REVOKE, {"token": body["refresh_token"]}, headers=_basic())
    assert _api(client, other_tokens["access_token"], org).status_code == 200


def test_delete_connection_then_api_calls_are_forbidden(client, app, org, owner):
    body = _exchange(client, _consent(client, [org])["code"]).json()
    auth = {"Authorization": f"Bearer {body['access_token']}"}
    conn_id = client.get(CONNECTIONS, headers=auth).json()[0]["id"]
    assert client.delete(f"{CONNECTIONS}/{conn_id}", headers=auth).status_code == 204
    assert client.delete(f"{CONNECTIONS}/{conn_id}", headers=auth).status_code == 404
    assert client.delete(f"{CONNECTIONS}/not-a-uuid", headers=auth).status_code == 404
    assert client.get(CONNECTIONS, headers=auth).json() == []
    forbidden = _api(client, body["access_token"], org)
    assert forbidden.status_code == 403
    assert forbidden.json()["Detail"] == "AuthenticationUnsuccessful"


def test_removing_the_user_from_the_org_forbids_api_calls(client, app, org, owner):
    tokens = sandbox_token(org, app=app, user=owner)
    assert _api(client, tokens["access_token"], org).status_code == 200
    services.user_remove_from_org(user=owner, org=org)
    response = _api(client, tokens["access_token"], org)
    assert response.status_code == 403
    body = response.json()
    assert body["Title"] == "Forbidden" and body["Status"] == 403 and body["Type"] is None
    assert body["Detail"] == "AuthenticationUnsuccessful"
    assert set(body) == {"Type", "Title", "Status", "Detail", "Instance", "Extensions"}


def test_disconnecting_the_app_inside_xero_forbids_api_calls(client, app, org, owner):
    tokens = sandbox_token(org, app=app, user=owner)
    services.app_disconnect(org=org, app=app)
    assert _api(client, tokens["access_token"], org).status_code == 403
    assert client.get(CONNECTIONS, headers={"Authorization": f"Bearer {tokens['access_token']}"}).json() == []


def test_api_needs_a_connected_tenant_and_a_matching_scope(client, app, org, owner):
    tokens = sandbox_token(org, app=app, user=owner, scopes="offline_access accounting.contacts")
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.get("/sandbox/xero/probe", headers=auth).status_code == 403  # no tenant header
    stranger = sandbox_org("Not Connected")
    assert _api(client, tokens["access_token"], stranger).status_code == 403
    no_scope = _api(client, tokens["access_token"], org)
    assert no_scope.status_code == 403
    assert no_scope.json()["Detail"] == "AuthenticationUnsuccessful"

    read_only = sandbox_token(org, app=app, user=owner, scopes="accounting.transactions.read")
    headers = {"Authorization": f"Bearer {read_only['access_token']}", "xero-tenant-id": str(org.tenant_id)}
    assert client.get("/sandbox/xero/probe", headers=headers).status_code == 200
    assert client.post("/sandbox/xero/probe", headers=headers).status_code == 403


def test_openid_configuration_lists_the_endpoints(client):
    body = client.get("/sandbox/xero/identity/.well-known/openid-configuration").json()
    assert body["token_endpoint"].endswith("/sandbox/xero/identity/connect/token")
    assert body["authorization_endpoint"].endswith("/sandbox/xero/identity/connect/authorize")
    assert body["revocation_endpoint"].endswith("/sandbox/xero/identity/connect/revocation")
    assert "S256" in body["code_challenge_methods_supported"]
    assert "accounting.transactions" in body["scopes_supported"]
    assert "accounting.invoices" in body["scopes_supported"]


def test_sandbox_user_passwords_are_hashed(owner):
    assert "sandbox-pass" not in SandboxUser.objects.get().password_hash
    assert services.user_authenticate(email="OWNER@sandbox.example", password="sandbox-pass") == owner
    assert services.user_authenticate(email="owner@sandbox.example", password="wrong") is None
    assert conf.ACCESS_TOKEN_SECONDS == 1800


def test_the_pages_work_with_csrf_checks_on(app, org, owner):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    query = _authorize_query()
    page = browser.get(AUTHORIZE, query).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    signed_in = browser.post(
        AUTHORIZE,
        {
            **query,
            "action": "signin",
            "email": "owner@sandbox.example",
            "password": "sandbox-pass",
            "csrfmiddlewaretoken": token,
        },
    )
    assert signed_in.status_code == 302
    consent = browser.get(AUTHORIZE, query).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', consent).group(1)
    allowed = browser.post(
        AUTHORIZE, {**query, "action": "allow", "tenant": [str(org.tenant_id)], "csrfmiddlewaretoken": token}
    )
    assert allowed.status_code == 302
    assert "code=" in allowed["Location"]
    # The token endpoint is called server to server: no CSRF token there.
    code = parse_qs(urlsplit(allowed["Location"]).query)["code"][0]
    exchanged = browser.post(
        TOKEN,
        {"grant_type": "authorization_code", "code": code, "redirect_uri": DEFAULT_REDIRECT_URI},
        headers=_basic(),
    )
    assert exchanged.status_code == 200


def test_a_role_row_deleted_directly_still_locks_the_user_out(client, app, org, owner):
    # E.g. deleted from the organisation's inline in the admin, without going through the service.
    from xero_sandbox.models import UserOrgRole

    tokens = sandbox_token(org, app=app, user=owner)
    UserOrgRole.objects.filter(user=owner, organisation=org).delete()
    assert Connection.objects.filter(user=owner).exists()
    assert _api(client, tokens["access_token"], org).status_code == 403
