"""Pull from Xero into the ledger: each entity read page by page and written in bulk, first sync in the order
merchants are told, incremental syncs with If-Modified-Since, and fetches of just-changed records by id."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.conf import settings
from django.db import close_old_connections, connection, transaction

from portal.models import (
    Account,
    Customer,
    CustomerType,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Item,
    Merchant,
    Payment,
    TaxRate,
)
from xero_sync import mapping
from xero_sync.client import XeroClient
from xero_sync.models import XeroConnection
from xero_sync.services import bulk

logger = logging.getLogger(__name__)

PAGE_SIZE = 1000
IDS_PER_CALL = 50  # more GUIDs than this make Xero's URL too long (404)
SYSTEM_ITEMS = (
    {"Code": "LATE-FEE", "Name": "Late Fee", "Description": "Late fee"},
    {"Code": "TECH-FEE", "Name": "Technology Fee", "Description": "Technology fee (card surcharge)"},
    {"Code": "REFUND", "Name": "Refund", "Description": "Refund"},
)


@dataclass
class PullContext:
    """What a pull step needs: who, which client, since when, and where to report progress."""

    connection: XeroConnection
    client: XeroClient
    since: dict[str, dt.datetime | None] = field(default_factory=dict)
    progress: Callable[..., None] = lambda **kw: None
    start_page: int = 1
    on_page_done: Callable[[str, int], None] = lambda step, page: None
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    # Xero's clock at the start of each entity's read: the next If-Modified-Since.
    server_time: dict[str, dt.datetime] = field(default_factory=dict)
    # Contact-group memberships seen on contacts: {group_id: {contact_id, ...}}.
    group_members: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    # Item code → portal id, read once per run when the first invoices are stored (items are read before them).
    item_ids: dict[str, int] | None = None
    # Invoices stored in this run (external ids), so a reconcile can tell which open ones Xero no longer lists.
    seen_invoices: set[str] = field(default_factory=set)

    @property
    def merchant(self) -> Merchant:
        return self.connection.merchant


def _note_server_time(ctx: PullContext, entity: str, body: dict) -> None:
    """Remember Xero's clock at the first read of an entity: the next If-Modified-Since."""
    if entity not in ctx.server_time:
        moment = mapping.parse_datetime(body.get("DateTimeUTC"))
        if moment:
            ctx.server_time[entity] = moment


def _upsert(model, merchant: Merchant, rows: list[dict]) -> dict[str, int]:
    """Insert or update rows by (merchant, external_id) in one statement; returns external_id → pk."""
    return bulk.upsert(model, merchant_id=merchant.pk, rows=rows)


def _read_all(ctx: PullContext, endpoint: str, key: str, entity: str, params: dict | None = None) -> list[dict]:
    """Endpoints Xero does not page (Accounts, Items, TaxRates, ContactGroups): one call."""
    body = ctx.client.get(endpoint, params=params, if_modified_since=ctx.since.get(entity))
    _note_server_time(ctx, entity, body)
    return body.get(key) or []


def _read_pages(
    ctx: PullContext, endpoint: str, key: str, entity: str, params: dict | None = None, start_page: int = 1
) -> Iterator[tuple[int, list[dict], int | None]]:
    """Pages as they arrive (never all held): (page number, records, total item count if Xero said).

    While the caller stores one page, the next is already being fetched on one background thread (at most one
    page ahead, so memory stays at two pages), unless settings.XERO_PULL_PREFETCH is off."""

    def fetch(page: int) -> dict:
        return ctx.client.get(
            endpoint,
            params={**(params or {}), "page": page, "pageSize": PAGE_SIZE},
            if_modified_since=ctx.since.get(entity),
        )

    prefetch = getattr(settings, "XERO_PULL_PREFETCH", True)
    with ThreadPoolExecutor(max_workers=1) as pool:
        page, body = start_page, fetch(start_page)
        while True:  # ends on a short page or at Xero's pageCount
            _note_server_time(ctx, entity, body)
            records = body.get(key) or []
            pagination = body.get("pagination") or {}
            last = len(records) < PAGE_SIZE or page >= (pagination.get("pageCount") or page)
            ahead = pool.submit(_in_thread, fetch, page + 1) if prefetch and not last else None
            try:
                yield page, records, pagination.get("itemCount")
            except BaseException:
                if ahead is not None:
                    ahead.cancel()
                raise
            if last:
                return
            page += 1
            body = ahead.result() if ahead is not None else fetch(page)


def _in_thread(fn, *args):
    """Run fn on a pool thread and close that thread's database connection afterwards."""
    try:
        return fn(*args)
    finally:
        close_old_connections()
        connection.close()


# --- chart of accounts, tax rates, items ----------------------------------------------------------------------


def accounts_pull(*, connection: XeroConnection, client: XeroClient, ctx: PullContext | None = None) -> int:
    ctx = ctx or PullContext(connection=connection, client=client)
    accounts = _read_all(ctx, "Accounts", "Accounts", "accounts")
    with transaction.atomic():
        _upsert(Account, connection.merchant, [mapping.account_fields(a) for a in accounts if a.get("AccountID")])
    ctx.counts["accounts"] += len(accounts)
    return len(accounts)


def tax_rates_pull(ctx: PullContext) -> int:
    rates = _read_all(ctx, "TaxRates", "TaxRates", "tax_rates")
    _upsert(TaxRate, ctx.merchant, [mapping.tax_rate_fields(t) for t in rates if t.get("TaxType")])
    ctx.counts["tax_rates"] += len(rates)
    return len(rates)


def items_pull(ctx: PullContext, *, ensure_system_items: bool = False) -> int:
    items = _read_all(ctx, "Items", "Items", "items")
    if ensure_system_items:
        have = {(i.get("Code") or "").upper() for i in items}
        missing = [dict(item) for item in SYSTEM_ITEMS if item["Code"] not in have]
        if missing:
            body = ctx.client.put(
                "Items",
                {"Items": missing},
                idempotency_key=f"system-items-{ctx.connection.tenant_id}-{'-'.join(i['Code'] for i in missing)}",
            )
            items += [i for i in body.get("Items") or [] if i.get("ItemID")]
    _upsert(Item, ctx.merchant, [mapping.item_fields(i) for i in items if i.get("ItemID")])
    ctx.counts["items"] += len(items)
    return len(items)


# --- contacts and contact groups ----------------------------------------------------------------------------


def _contacts_store(ctx: PullContext, contacts: list[dict]) -> dict[str, int]:
    ids = _upsert(Customer, ctx.merchant, [mapping.customer_fields(c) for c in contacts if c.get("ContactID")])
    for contact in contacts:
        if "ContactGroups" in contact:
            for group_id in mapping.customer_group_ids(contact):
                ctx.group_members[group_id].add(contact["ContactID"])
    ctx.counts["contacts"] += len(contacts)
    return ids


def contacts_pull(ctx: PullContext) -> int:
    done = 0
    for page, contacts, total in _read_pages(
        ctx, "Contacts", "Contacts", "contacts", params={"includeArchived": "true"}, start_page=ctx.start_page
    ):
        with transaction.atomic():
            _contacts_store(ctx, contacts)
        done += len(contacts)
        ctx.progress(step="contacts", done=(page - 1) * PAGE_SIZE + len(contacts), total=total)
        ctx.on_page_done("contacts", page)
    return done


def customer_types_pull(ctx: PullContext) -> int:
    """Contact groups become customer types, and each customer's types follow its groups."""
    groups = _read_all(ctx, "ContactGroups", "ContactGroups", "contact_groups")
    type_ids = _upsert(CustomerType, ctx.merchant, [mapping.customer_type_fields(g) for g in groups])
    if not ctx.group_members and groups:
        # The contacts were not read in this run (or carried no groups): ask each group for its members.
        for group in groups:
            if group.get("Status", "ACTIVE") != "ACTIVE":
                continue
            body = ctx.client.get(f"ContactGroups/{group['ContactGroupID']}")
            members = (body.get("ContactGroups") or [{}])[0].get("Contacts") or []
            ctx.group_members[group["ContactGroupID"]] = {m["ContactID"] for m in members if m.get("ContactID")}
    _customer_types_link(ctx, type_ids)
    ctx.counts["customer_types"] += len(groups)
    return len(groups)


def _customer_types_link(ctx: PullContext, type_ids: dict[str, int]) -> None:
    contact_ids = set().union(*ctx.group_members.values()) if ctx.group_members else set()
    if not contact_ids:
        return
    customers = dict(
        Customer.objects.filter(merchant=ctx.merchant, external_id__in=list(contact_ids)).values_list(
            "external_id", "pk"
        )
    )
    through = Customer.types.through
    links = {
        (customers[c], type_ids[g])
        for g, members in ctx.group_members.items()
        if g in type_ids
        for c in members
        if c in customers
    }
    with transaction.atomic():
        through.objects.filter(customer_id__in=list(customers.values())).delete()
        through.objects.bulk_create(
            [through(customer_id=c, customertype_id=t) for c, t in links], batch_size=1000, ignore_conflicts=True
        )


# --- invoices, their lines and payments ------------------------------------------------------------------------


def _chunks(values: list, size: int) -> Iterator[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _customer_ids(ctx: PullContext, contact_ids: Iterable[str]) -> dict[str, int]:
    wanted = {c for c in contact_ids if c}
    found = dict(
        Customer.objects.filter(merchant=ctx.merchant, external_id__in=list(wanted)).values_list("external_id", "pk")
    )
    missing = sorted(wanted - set(found))
    for batch in _chunks(missing, IDS_PER_CALL):
        body = ctx.client.get("Contacts", params={"IDs": ",".join(batch), "includeArchived": "true"})
        found.update(_contacts_store(ctx, body.get("Contacts") or []))
    return found


def invoices_store(ctx: PullContext, invoices: list[dict]) -> dict[str, int]:
    """Write a page of invoices with their lines (replacing the lines Xero no longer has) and their payments."""
    invoices = [i for i in invoices if i.get("InvoiceID") and mapping.invoice_contact_id(i)]
    if not invoices:
        return {}
    customers = _customer_ids(ctx, (mapping.invoice_contact_id(i) for i in invoices))
    invoices = [i for i in invoices if mapping.invoice_contact_id(i) in customers]
    if ctx.item_ids is None:
        ctx.item_ids = dict(Item.objects.filter(merchant=ctx.merchant).values_list("code", "pk"))
    items = ctx.item_ids
    rows = []
    for inv in invoices:
        fields = mapping.invoice_fields(inv)
        fields["customer_id"] = customers[mapping.invoice_contact_id(inv)]
        rows.append(fields)
    with transaction.atomic():
        invoice_ids = _upsert(Invoice, ctx.merchant, rows)
        InvoiceLine.objects.filter(invoice_id__in=list(invoice_ids.values())).delete()
        lines = []
        for inv in invoices:
            invoice_id = invoice_ids[inv["InvoiceID"]]
            for position, line in enumerate(inv.get("LineItems") or []):
                fields = mapping.line_fields(line, position)
                fields["item_id"] = items.get(fields["item_code"]) if fields["item_code"] else None
                lines.append({"merchant_id": ctx.merchant.pk, "invoice_id": invoice_id, **fields})
        bulk.insert(InvoiceLine, rows=lines)
        payments = [
            {**mapping.payment_fields(p), "invoice_id": invoice_ids[inv["InvoiceID"]]}
            for inv in invoices
            for p in inv.get("Payments") or []
            if p.get("PaymentID")
        ]
        _upsert(Payment, ctx.merchant, payments)
    ctx.counts["invoices"] += len(invoices)
    ctx.counts["invoice_lines"] += len(lines)
    ctx.seen_invoices.update(invoice_ids)
    return invoice_ids


def invoices_pull(ctx: PullContext, *, statuses: str | None = None) -> int:
    params = {"Statuses": statuses} if statuses else {}
    done = 0
    for page, invoices, total in _read_pages(ctx, "Invoices", "Invoices", "invoices", params, ctx.start_page):
        invoices_store(ctx, invoices)
        done += len(invoices)
        ctx.progress(step="invoices", done=(page - 1) * PAGE_SIZE + len(invoices), total=total)
        ctx.on_page_done("invoices", page)
    return done


def invoices_fetch_by_id(ctx: PullContext, invoice_ids: Iterable[str]) -> dict[str, int]:
    """Fetch just these invoices, ≤ 50 per call, and store Xero's current state of each; external id → pk."""
    stored: dict[str, int] = {}
    for batch in _chunks(sorted(set(invoice_ids)), IDS_PER_CALL):
        body = ctx.client.get("Invoices", params={"IDs": ",".join(batch)})
        stored.update(invoices_store(ctx, body.get("Invoices") or []))
    return stored


def open_invoices_recheck(ctx: PullContext) -> int:
    """Reconcile: invoices the portal still has open that Xero's list of open ones did not include were paid,
    voided or deleted in a way If-Modified-Since can miss; read their current state by id."""
    local_open = set(
        Invoice.objects.filter(merchant=ctx.merchant, status=InvoiceStatus.AUTHORISED)
        .exclude(external_id=None)
        .values_list("external_id", flat=True)
    )
    stale = local_open - ctx.seen_invoices
    invoices_fetch_by_id(ctx, stale)
    return len(stale)


def contacts_fetch_by_id(ctx: PullContext, contact_ids: Iterable[str]) -> int:
    wanted = sorted(set(contact_ids))
    for batch in _chunks(wanted, IDS_PER_CALL):
        body = ctx.client.get("Contacts", params={"IDs": ",".join(batch), "includeArchived": "true"})
        with transaction.atomic():
            _contacts_store(ctx, body.get("Contacts") or [])
    return len(wanted)


def payments_pull(ctx: PullContext) -> int:
    """Payments made (or deleted) in Xero since the watermark. Their invoices' new amounts and status (e.g. PAID)
    arrive through the invoices read that follows; invoices the portal has never seen are fetched by id."""
    done = 0
    accounts = dict(Account.objects.filter(merchant=ctx.merchant).values_list("external_id", "pk"))
    for _page, payments, _total in _read_pages(ctx, "Payments", "Payments", "payments"):
        invoice_xero_ids = {mapping.payment_invoice_id(p) for p in payments} - {""}
        known = dict(
            Invoice.objects.filter(merchant=ctx.merchant, external_id__in=list(invoice_xero_ids)).values_list(
                "external_id", "pk"
            )
        )
        unknown = invoice_xero_ids - set(known)
        if unknown:
            known.update(invoices_fetch_by_id(ctx, unknown))
        rows = [
            {
                **mapping.payment_fields(p),
                "invoice_id": known[mapping.payment_invoice_id(p)],
                "account_id": accounts.get(mapping.payment_account_id(p)),
            }
            for p in payments
            if p.get("PaymentID") and mapping.payment_invoice_id(p) in known
        ]
        _upsert(Payment, ctx.merchant, rows)
        done += len(payments)
    ctx.counts["payments"] += done
    return done
