"""App config for the Xero add-on; registers the add-on with the marketplace."""

from django.apps import AppConfig


class XeroSyncConfig(AppConfig):
    name = "xero_sync"
    verbose_name = "Xero add-on"

    def ready(self) -> None:
        from integrations import links, registry, retry
        from xero_sync.addon import XERO

        registry.register(XERO)
        retry.register(addon_key=XERO.key, operation="pull", handler="xero_sync.tasks.retry_pull")
        links.register(addon_key=XERO.key, org_code=_short_code)


def _short_code(merchant) -> str:
    from xero_sync.models import XeroConnection

    return XeroConnection.objects.filter(merchant=merchant).values_list("short_code", flat=True).first() or ""
