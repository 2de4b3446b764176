"""django-q2 tasks of the sandbox: thin wrappers over the webhook services."""

from xero_sandbox import webhooks


def webhook_deliver(app_id: int) -> int:
    """Deliver an app's pending webhook events; returns how many deliveries were attempted."""
    return len(webhooks.webhooks_deliver(app_id=app_id))


def webhook_retry(delivery_id: int | str) -> bool:
    return webhooks.webhook_retry(delivery_id=int(delivery_id))
