"""The Sync Queues card on the Xero add-on page: links to both queues with their counts, and what has not reached
Xero yet (the unsynced data reminder shown on the page)."""

from __future__ import annotations

from django import template

from integrations.models import UnsyncedReminder
from integrations.reminders import unsynced_items
from xero_sync.queues import QUEUES, queue_counts

register = template.Library()

LISTED = 10


@register.inclusion_tag("xero_sync/queues_summary.html", takes_context=True)
def xero_queues_summary(context):
    merchant = getattr(context.get("request"), "merchant", None)
    if merchant is None:
        return {"tabs": []}
    counts = queue_counts(merchant=merchant)
    items = unsynced_items(merchant=merchant, addon_key="xero")
    return {
        "tabs": [{"queue": q, **counts[key]} for key, q in QUEUES.items()],
        "unsynced": items[:LISTED],
        "unsynced_count": len(items),
        "unsynced_more": max(0, len(items) - LISTED),
        "last_reminder": UnsyncedReminder.objects.filter(merchant=merchant, addon_key="xero").first(),
        "connection": context.get("connection"),
    }
