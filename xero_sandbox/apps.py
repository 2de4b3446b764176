"""App config for the local Xero sandbox (the other side of the wire; shares nothing with xero_sync)."""

from django.apps import AppConfig


class XeroSandboxConfig(AppConfig):
    name = "xero_sandbox"
    verbose_name = "Xero sandbox"
