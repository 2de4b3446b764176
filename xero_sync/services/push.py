"""Customers and invoices created in the portal, pushed to Xero: a row per (record, version) recorded first, then
contacts matched to existing Xero contacts (email, then name) or created, then invoices created or updated in
batches of ≤ 50, with the status, accounts and tax types set on the add-on page."""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from integrations.models import SyncRunKind, SyncRunState
from integrations.runs import sync_run_finish, sync_run_start
from portal.models import Customer, Invoice, InvoiceLine, InvoiceStatus, Item
from xero_sync import errors, mapping
from xero_sync.addon import XERO
from xero_sync.client import XeroClient
from xero_sync.models import WriteKind, WriteState, XeroConnection, XeroWrite, XeroWriteSettings
from xero_sync.services import pull
from xero_sync.services.api import client_for
from xero_sync.services.writes import (
    AUTO_RETRIES,
    Element,
    batch_send,
    chunks,
    new_owner,
    singles_record,
    write_back_to_pending,
    write_failed,
    write_synced,
    writes_claim,
    writes_release,
    writes_synced,
)

logger = logging.getLogger(__name__)

EDITABLE_IN_XERO = (InvoiceStatus.DRAFT, InvoiceStatus.SUBMITTED)


def write_settings_for(connection: XeroConnection) -> XeroWriteSettings:
    found, _ = XeroWriteSettings.objects.get_or_create(connection=connection)
    return found


def write_settings_update(
    *,
    connection: XeroConnection,
    invoice_status: str,
    default_revenue_account_code: str,
    item_account_codes: dict,
    tax_types: dict,
) -> XeroWriteSettings:
    settings = write_settings_for(connection)
    settings.invoice_status = invoice_status
    settings.default_revenue_account_code = default_revenue_account_code
    settings.item_account_codes = item_account_codes
    settings.tax_types = tax_types
    settings.save()
    return settings


def _connected(merchant) -> XeroConnection | None:
    connection = XeroConnection.objects.filter(merchant=merchant).first()
    return connection if connection is not None and connection.is_connected else None


# --- recording the intent -------------------------------------------------------------------------------------


def customer_push_request(*, customer: Customer) -> XeroWrite | None:
    """Queue a portal customer for Xero (when connected and not there yet)."""
    if customer.external_id or _connected(customer.merchant) is None:
        return None
    row, _ = XeroWrite.objects.get_or_create(
        merchant=customer.merchant,
        idempotency_key=f"contact-{customer.pk}-v1",
        defaults={"kind": WriteKind.CONTACT, "customer": customer, "label": customer.name},
    )
    return row


def invoice_push_request(*, invoice: Invoice) -> XeroWrite | None:
    """Queue a portal invoice (new, or an edited draft) for Xero. A row still waiting is reused: it sends the
    invoice as it is when it goes."""
    if _connected(invoice.merchant) is None:
        return None
    customer_push_request(customer=invoice.customer)
    rows = XeroWrite.objects.filter(merchant=invoice.merchant, kind=WriteKind.INVOICE, invoice=invoice)
    waiting = rows.filter(state__in=[WriteState.PENDING, WriteState.FAILED, WriteState.HELD]).first()
    if waiting is not None:
        XeroWrite.objects.filter(pk=waiting.pk).update(
            state=WriteState.PENDING, failures=0, label=invoice.number, amount=invoice.total
        )
        return waiting
    version = (rows.order_by("-version").values_list("version", flat=True).first() or 0) + 1
    return XeroWrite.objects.create(
        merchant=invoice.merchant,
        kind=WriteKind.INVOICE,
        invoice=invoice,
        version=version,
        amount=invoice.total,
        label=invoice.number,
        idempotency_key=f"invoice-{invoice.pk}-v{version}",
    )


def item_push_request(*, item: Item) -> XeroWrite | None:
    """Queue an item created in the portal for Xero, so invoice lines can use its code there."""
    if item.external_id or _connected(item.merchant) is None:
        return None
    row, _ = XeroWrite.objects.get_or_create(
        merchant=item.merchant,
        idempotency_key=f"item-{item.pk}-v1",
        defaults={"kind": WriteKind.ITEM, "item": item, "label": item.code, "amount": item.sale_price or 0},
    )
    return row


def default_commodity_code(*, merchant) -> str:
    """The add-on page's Default Commodity Code, for items created in the portal ("" when not connected)."""
    connection = _connected(merchant)
    return connection.default_commodity_code if connection else ""


class EditRefused(Exception):
    """Xero no longer allows this invoice to change; the message says why."""


def invoice_edit_check(*, invoice: Invoice) -> None:
    """Raise EditRefused with the reason when the invoice cannot be edited any more."""
    if invoice.amount_paid > 0:
        raise EditRefused(
            "This invoice has a payment allocated, and Xero does not allow changing it. "
            "Remove the payment in Xero first, or raise a credit note."
        )
    if invoice.status not in EDITABLE_IN_XERO:
        raise EditRefused(
            f"This invoice is {invoice.get_status_display().lower()}, and Xero only allows changes to draft or "
            "awaiting-approval invoices. Void it in Xero and create a new one instead."
        )


# --- matching -------------------------------------------------------------------------------------------------


def _name_key(name: str) -> str:
    return re.sub(r"\s+", " ", (name or "").strip()).casefold()


@dataclass
class Match:
    contact: Customer | None = None
    candidates: list[Customer] | None = None  # several: a person decides (the Unmatched queue)


def contact_match(*, customer: Customer) -> Match:
    """An existing Xero contact (synced to the portal) for this portal customer: by email, then by name (case
    and spacing insensitive). One match links; several go to the Unmatched queue; none creates."""
    known = Customer.objects.filter(merchant=customer.merchant).exclude(external_id=None).exclude(pk=customer.pk)
    if customer.email:
        by_email = list(known.filter(email__iexact=customer.email.strip()))
        if len(by_email) == 1:
            return Match(contact=by_email[0])
        if len(by_email) > 1:
            return Match(candidates=by_email)
    key = _name_key(customer.name)
    first_word = key.split(" ")[0] if key else ""
    by_name = [c for c in known.filter(name__icontains=first_word) if _name_key(c.name) == key] if key else []
    if len(by_name) == 1:
        return Match(contact=by_name[0])
    if len(by_name) > 1:
        return Match(candidates=by_name)
    return Match()


@transaction.atomic
def customer_link(*, write: XeroWrite, contact: Customer) -> XeroWrite:
    """Link a portal customer to an existing Xero contact: its invoices move to the contact's customer row and
    the duplicate portal row goes; the queue row stays as history, synced."""
    customer = write.customer
    if customer is not None and customer.pk != contact.pk:
        Invoice.objects.filter(customer=customer).update(customer=contact)
        for field in ("email", "phone", "mobile", "first_name", "last_name"):
            if not getattr(contact, field) and getattr(customer, field):
                setattr(contact, field, getattr(customer, field))
        contact.save()
        XeroWrite.objects.filter(customer=customer).exclude(pk=write.pk).update(customer=contact)
        XeroWrite.objects.filter(pk=write.pk).update(customer=contact)
        write.customer = contact
        customer.delete()
    write_synced(write=write, external_id=contact.external_id or "", external_ids={"linked": True})
    XeroWrite.objects.filter(pk=write.pk).update(reason="Linked to an existing Xero contact.")
    return write


def customer_create_anyway(*, write: XeroWrite) -> XeroWrite:
    """The admin chose "create new" for an unmatched customer."""
    XeroWrite.objects.filter(pk=write.pk).update(
        state=WriteState.PENDING, reason="", detail={**write.detail, "create": True}, failures=0
    )
    write.refresh_from_db()
    return write


# --- sending --------------------------------------------------------------------------------------------------


@dataclass
class PushOutcome:
    synced: int = 0
    failed: int = 0
    held: int = 0
    waiting: int = 0
    calls: int = 0


def _contacts_send(ctx: pull.PullContext, rows: list[XeroWrite], outcome: PushOutcome) -> None:
    to_create = []
    for row in rows:
        customer = row.customer
        if customer is None:
            continue
        if customer.external_id:
            write_synced(write=row, external_id=customer.external_id)
            outcome.synced += 1
            continue
        if not row.detail.get("create"):
            match = contact_match(customer=customer)
            if match.contact is not None:
                customer_link(write=row, contact=match.contact)
                outcome.synced += 1
                continue
            if match.candidates:
                XeroWrite.objects.filter(pk=row.pk).update(
                    state=WriteState.HELD,
                    reason=f"Matches {len(match.candidates)} Xero contacts: link one, or create a new contact.",
                    detail={**row.detail, "candidates": [c.pk for c in match.candidates]},
                )
                outcome.held += 1
                continue
        to_create.append(Element(body=mapping.contact_element(customer), writes=[row]))
    if not to_create:
        return
    sent = batch_send(
        connection=ctx.connection,
        client=ctx.client,
        method="PUT",
        endpoint="Contacts",
        collection="Contacts",
        elements=to_create,
        id_field="ContactID",
    )
    outcome.calls += sent.calls
    for element, answer in sent.ok:
        row = element.writes[0]
        Customer.objects.filter(pk=row.customer_id).update(
            external_id=answer["ContactID"], external_updated_at=mapping.parse_datetime(answer.get("UpdatedDateUTC"))
        )
        row.customer.external_id = answer["ContactID"]
        write_synced(write=row, external_id=answer["ContactID"])
        outcome.synced += 1
    for element, answer, messages in sent.rejected:
        row = element.writes[0]
        if any("already assigned to another contact" in m for m in messages):
            # A contact of that name exists in Xero but not in the portal yet: recorded, then a person decides.
            write_failed(write=row, messages=messages, element=element.body, response=answer)
            XeroWrite.objects.filter(pk=row.pk).update(
                state=WriteState.HELD,
                reason="A Xero contact already has this name. Link it (after Sync Now) or rename the customer.",
            )
            outcome.held += 1
            continue
        write_failed(write=row, messages=messages, element=element.body, response=answer)
        outcome.failed += 1
    for element in sent.lost:
        # Contacts have no unique marker but their name: look it up before creating again.
        row = element.writes[0]
        body = ctx.client.get("Contacts", params={"searchTerm": row.customer.name})
        outcome.calls += 1
        same = [c for c in body.get("Contacts") or [] if _name_key(c.get("Name")) == _name_key(row.customer.name)]
        if len(same) == 1:
            Customer.objects.filter(pk=row.customer_id).update(external_id=same[0]["ContactID"])
            row.customer.external_id = same[0]["ContactID"]
            write_synced(write=row, external_id=same[0]["ContactID"])
            outcome.synced += 1
        else:
            write_back_to_pending(writes=[row])


def _items_send(ctx: pull.PullContext, rows: list[XeroWrite], outcome: PushOutcome) -> None:
    settings = write_settings_for(ctx.connection)
    elements = []
    for row in rows:
        item = row.item
        if item is None:
            continue
        if item.external_id:
            write_synced(write=row, external_id=item.external_id)
            continue
        account = settings.item_account_codes.get(item.code) or item.sale_account_code
        account = account or settings.default_revenue_account_code
        elements.append(Element(body=mapping.item_element(item, account_code=account), writes=[row]))
    if not elements:
        return
    sent = batch_send(
        connection=ctx.connection,
        client=ctx.client,
        method="POST",  # creates, or updates the item of that code if an earlier answer was lost
        endpoint="Items",
        collection="Items",
        elements=elements,
        id_field="ItemID",
    )
    outcome.calls += sent.calls
    synced, failed = singles_record(sent=sent, model=Item, record_attr="item_id", id_field="ItemID")
    outcome.synced += synced
    outcome.failed += failed
    write_back_to_pending(writes=[r for e in sent.lost for r in e.writes])  # POST by code: safe to send again


def _account_and_tax(connection: XeroConnection):
    settings = write_settings_for(connection)

    def account_for(line: InvoiceLine) -> str:
        return (
            settings.item_account_codes.get(line.item_code or "")
            or line.account_code
            or settings.default_revenue_account_code
        )

    def tax_for(line: InvoiceLine) -> str:
        return settings.tax_types.get(line.tax_type or "", line.tax_type or "")

    return settings, account_for, tax_for


def _invoices_send(ctx: pull.PullContext, rows: list[XeroWrite], outcome: PushOutcome) -> None:
    settings, account_for, tax_for = _account_and_tax(ctx.connection)
    lines = defaultdict(list)
    for line in InvoiceLine.objects.filter(invoice_id__in=[r.invoice_id for r in rows]).order_by("position", "id"):
        lines[line.invoice_id].append(line)
    creates, updates = [], []
    invoices = Invoice.objects.select_related("customer").in_bulk([r.invoice_id for r in rows])
    for row in rows:
        invoice = invoices[row.invoice_id]
        row.invoice = invoice
        if not invoice.customer.external_id:
            write_back_to_pending(writes=[row])
            XeroWrite.objects.filter(pk=row.pk).update(reason="Waiting for the customer to reach Xero.")
            outcome.waiting += 1
            continue
        status = invoice.status if invoice.external_id else settings.invoice_status
        if invoice.external_id and invoice.status not in EDITABLE_IN_XERO:
            status = invoice.status
        element = mapping.invoice_element(
            invoice,
            lines[invoice.pk],
            contact_id=invoice.customer.external_id,
            status=status,
            account_for=account_for,
            tax_for=tax_for,
        )
        (updates if invoice.external_id else creates).append(Element(body=element, writes=[row]))
    for method, elements in (("PUT", creates), ("POST", updates)):
        if not elements:
            continue
        sent = batch_send(
            connection=ctx.connection,
            client=ctx.client,
            method=method,
            endpoint="Invoices",
            collection="Invoices",
            elements=elements,
            id_field="InvoiceID",
        )
        outcome.calls += sent.calls
        _invoices_landed(ctx, [(e.writes[0], answer) for e, answer in sent.ok], outcome)
        for element, answer, messages in sent.rejected:
            row = element.writes[0]
            if method == "PUT" and any("must be unique" in m for m in messages) and row.attempts > 1:
                # Perhaps our own earlier attempt, whose answer was lost: the read-back decides.
                _invoices_read_back(ctx, [row], outcome, failing=messages)
                continue
            write_failed(write=row, messages=messages, element=element.body, response=answer)
            outcome.failed += 1
        if sent.lost:
            _invoices_read_back(ctx, [e.writes[0] for e in sent.lost], outcome)


def _invoices_landed(ctx, pairs: list[tuple[XeroWrite, dict]], outcome: PushOutcome) -> None:
    """Tie each portal invoice to its Xero id, then store Xero's version of it (lines with their ids, totals)."""
    if pairs:
        linked = [Invoice(pk=row.invoice_id, external_id=answer["InvoiceID"]) for row, answer in pairs]
        Invoice.objects.bulk_update(linked, ["external_id"], batch_size=500)
    pull.invoices_store(ctx, [answer for _row, answer in pairs])
    writes_synced(
        pairs=[(row, answer["InvoiceID"], {"InvoiceNumber": answer.get("InvoiceNumber")}) for row, answer in pairs]
    )
    outcome.synced += len(pairs)


def _invoices_read_back(ctx, rows: list[XeroWrite], outcome: PushOutcome, failing: list[str] | None = None) -> None:
    numbers = {r.invoice.number: r for r in rows if r.invoice.number}
    found = {}
    for batch in chunks(sorted(numbers), 50):
        body = ctx.client.get("Invoices", params={"InvoiceNumbers": ",".join(batch)})
        outcome.calls += 1
        for invoice in body.get("Invoices") or []:
            if invoice.get("Status") != "DELETED":
                found[invoice.get("InvoiceNumber")] = invoice
    landed = []
    for number, row in numbers.items():
        answer = found.get(number)
        ours = answer and mapping.invoice_contact_id(answer) == row.invoice.customer.external_id
        if ours:
            landed.append((row, answer))
        elif failing:
            write_failed(write=row, messages=failing)
            outcome.failed += 1
        else:
            write_back_to_pending(writes=[row])
    _invoices_landed(ctx, landed, outcome)


def push_run(*, connection: XeroConnection, client: XeroClient | None = None) -> PushOutcome:
    """Send every waiting contact, then every waiting invoice, of the merchant."""
    client = client or client_for(connection)
    outcome = PushOutcome()
    calls_before = client.calls
    run = sync_run_start(merchant=connection.merchant, addon_key=XERO.key, kind=SyncRunKind.PUSH, steps=("push",))
    owner = new_owner()
    ctx = pull.PullContext(connection=connection, client=client)
    state, message = SyncRunState.FAILED, "The push stopped before it finished."
    waiting = Q(state__in=[WriteState.PENDING, WriteState.SENT]) | Q(state=WriteState.FAILED, failures__lt=AUTO_RETRIES)
    try:
        for kind in (WriteKind.ITEM, WriteKind.CONTACT, WriteKind.INVOICE):
            ids = XeroWrite.objects.filter(waiting, merchant=connection.merchant, kind=kind).values_list(
                "pk", flat=True
            )
            rows = writes_claim(rows=ids, owner=owner, states=[WriteState.PENDING, WriteState.SENT, WriteState.FAILED])
            if kind == WriteKind.ITEM:
                _items_send(ctx, rows, outcome)
            elif kind == WriteKind.CONTACT:
                _contacts_send(ctx, rows, outcome)
            else:
                unknown = [r for r in rows if r.state == WriteState.SENT and not r.invoice.external_id]
                if unknown:
                    _invoices_read_back(ctx, unknown, outcome)
                _invoices_send(ctx, [r for r in rows if r not in unknown], outcome)
        state, message = SyncRunState.SUCCEEDED, ""
    except errors.XeroRateLimited as exc:
        state, message = SyncRunState.PARTIAL, f"Paused by Xero's rate limit until {exc.resume_at:%H:%M} UTC."
        from xero_sync.tasks import enqueue_push_at

        enqueue_push_at(connection.merchant_id, exc.resume_at)
    except errors.XeroError as exc:
        state, message = SyncRunState.FAILED, str(exc)
    finally:
        writes_release(owner=owner)
        outcome.calls = client.calls - calls_before
        if outcome.failed and state == SyncRunState.SUCCEEDED:
            state, message = SyncRunState.PARTIAL, f"{outcome.failed} record(s) were rejected by Xero: see the queue."
        sync_run_finish(
            run=run,
            state=state,
            error_summary=message,
            counts={"pushed": outcome.synced, "push_failed": outcome.failed, "unmatched": outcome.held},
            api_calls=outcome.calls,
        )
    return outcome


def push_enqueue(*, merchant) -> None:
    """After a portal change commits: push it in the background."""
    if _connected(merchant) is None:
        return
    from xero_sync.tasks import enqueue_push

    transaction.on_commit(lambda: enqueue_push(merchant.pk))


def stamp() -> str:
    return timezone.now().isoformat()
