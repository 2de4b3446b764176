"""Template tags that put a record's sync history (writes to add-ons and open sync errors) on its portal page."""

from __future__ import annotations

from django import template

from integrations import links
from integrations.selectors import record_audit_entries, record_sync_errors_open

register = template.Library()

# Ids in an audit entry that name the record itself in the add-on's system (the first one found links to it).
_RECORD_ID_KEYS = ("InvoiceID", "ContactID", "PaymentID", "CreditNoteID")


def _external_ids(entry) -> list[tuple[str, str]]:
    pairs = []
    for name, value in (entry.external_ids or {}).items():
        if isinstance(value, list | tuple):
            value = ", ".join(str(v) for v in value)
        pairs.append((name, str(value)))
    return pairs


@register.inclusion_tag("integrations/_record_history.html", takes_context=True)
def invoice_sync_history(context, invoice, limit: int = 50):
    """The invoice's writes to add-ons (its fee lines and payments included) and its open sync errors."""
    request = context.get("request")
    merchant = getattr(request, "merchant", None)
    if merchant is None or invoice is None:
        return {"entries": [], "errors": []}
    payment_ids = list(invoice.payments.values_list("pk", flat=True))
    records = {"invoice": [invoice.pk], "fee": [invoice.pk], "payment": payment_ids}
    entries = []
    for entry in record_audit_entries(merchant=merchant, records=records)[:limit]:
        ids = _external_ids(entry)
        external_key, record_id = next(((k, v) for k, v in ids if k in _RECORD_ID_KEYS), ("", ""))
        entries.append(
            {
                "entry": entry,
                "ids": ids,
                "external_key": external_key,
                "external_url": links.external_record_url(
                    merchant=merchant,
                    addon_key=entry.addon_key,
                    record_kind="invoice" if entry.record_kind in ("invoice", "fee") else entry.record_kind,
                    external_id=record_id,
                )
                if record_id
                else "",
            }
        )
    errors = list(record_sync_errors_open(merchant=merchant, records=records))
    return {"entries": entries, "errors": errors, "is_merchant_admin": context.get("is_merchant_admin")}
