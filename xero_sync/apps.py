"""App config for the Xero add-on; registers the add-on with the marketplace."""

from django.apps import AppConfig


class XeroSyncConfig(AppConfig):
    name = "xero_sync"
    verbose_name = "Xero add-on"

    def ready(self) -> None:
        from integrations import links, registry, retry
        from xero_sync import queues
        from xero_sync.addon import XERO

        registry.register(XERO)
        retry.register(addon_key=XERO.key, operation="pull", handler="xero_sync.tasks.retry_pull")
        for operation in ("push", "fee", "payment"):  # write-back: the failed row goes back in line
            retry.register(addon_key=XERO.key, operation=operation, handler="xero_sync.tasks.retry_write")
        links.register(addon_key=XERO.key, org_code=_short_code)
        queues.register()  # unsynced data reminders and the interrupted-runs sweep


def _short_code(merchant) -> str:
    from xero_sync.models import XeroConnection

    return XeroConnection.objects.filter(merchant=merchant).values_list("short_code", flat=True).first() or ""
