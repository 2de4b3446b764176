"""URL map of the local Xero sandbox, mounted at /sandbox/xero/ (paths mirror Xero's hosts)."""

import importlib.util

from django.urls import include, path

from xero_sandbox.identity import views as identity

app_name = "xero_sandbox"

urlpatterns: list = [
    path("identity/connect/authorize", identity.authorize, name="authorize"),
    path("identity/connect/signout", identity.sign_out, name="sign_out"),
    path("identity/connect/token", identity.token, name="token"),
    path("identity/connect/revocation", identity.revocation, name="revocation"),
    path("identity/.well-known/openid-configuration", identity.openid_configuration, name="openid_configuration"),
    path("connections", identity.connections, name="connections"),
    path("connections/<str:connection_id>", identity.connection_delete, name="connection"),
    path("Connections", identity.connections),
    path("Connections/<str:connection_id>", identity.connection_delete),
]

# The Accounting API lives in its own module; only mounted once it exists.
if importlib.util.find_spec("xero_sandbox.api") and importlib.util.find_spec("xero_sandbox.api.urls"):
    urlpatterns.append(path("api.xro/2.0/", include("xero_sandbox.api.urls")))
