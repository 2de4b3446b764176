"""App config for the Xero add-on; registers the add-on with the marketplace."""

from django.apps import AppConfig


class XeroSyncConfig(AppConfig):
    name = "xero_sync"
    verbose_name = "Xero add-on"

    def ready(self) -> None:
        from integrations import registry
        from xero_sync.addon import XERO

        registry.register(XERO)
