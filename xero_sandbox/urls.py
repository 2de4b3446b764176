"""URL map of the local Xero sandbox, mounted at /sandbox/xero/ (paths mirror Xero's hosts)."""

app_name = "xero_sandbox"

urlpatterns: list = []
