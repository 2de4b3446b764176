"""Accounting API endpoints (api.xro/2.0): thin views over selectors, services and serialisers."""

import functools
import hashlib
import json
import uuid
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from xero_sandbox.api import reports, selectors, serialise, services
from xero_sandbox.api.errors import (
    ElementInvalid,
    QueryInvalid,
    bad_request,
    not_found,
    post_data_invalid,
    query_parse_error,
    validation_exception,
)
from xero_sandbox.gate import sandbox_api
from xero_sandbox.models import (
    Account,
    Contact,
    ContactGroup,
    ContactGroupStatus,
    IdempotencyRecord,
    Invoice,
    Item,
    Payment,
    TaxRate,
)

# Scopes per endpoint, broad and granular names (xero-facts.md "Scopes").
SETTINGS_READ = ("accounting.settings", "accounting.settings.read")
SETTINGS_WRITE = ("accounting.settings",)
ITEMS_READ = (*SETTINGS_READ, "accounting.invoices", "accounting.invoices.read")
ITEMS_WRITE = ("accounting.settings", "accounting.invoices")
CONTACTS_READ = ("accounting.contacts", "accounting.contacts.read")
CONTACTS_WRITE = ("accounting.contacts",)
INVOICES_READ = (
    "accounting.transactions",
    "accounting.transactions.read",
    "accounting.invoices",
    "accounting.invoices.read",
)
INVOICES_WRITE = ("accounting.transactions", "accounting.invoices")
PAYMENTS_READ = (
    "accounting.transactions",
    "accounting.transactions.read",
    "accounting.payments",
    "accounting.payments.read",
)
PAYMENTS_WRITE = ("accounting.transactions", "accounting.payments")
PNL_READ = ("accounting.reports.read", "accounting.reports.profitandloss.read")
AGED_READ = ("accounting.reports.read", "accounting.reports.aged.read")

IDEMPOTENCY_KEY_MAX = 128


class _BadBody(Exception):
    pass


def _method_not_allowed() -> HttpResponse:
    return HttpResponse(
        "The requested resource does not support http method", status=405, content_type="text/plain; charset=utf-8"
    )


def _json_body(request: HttpRequest):
    try:
        return json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError) as exc:
        raise _BadBody(str(exc)) from exc


def _elements(body, key: str) -> list:
    """The elements of a write: {"Invoices":[...]}, a bare list, or a single element object."""
    if isinstance(body, dict) and key in body:
        items = body[key]
        if not isinstance(items, list):
            raise _BadBody(f"'{key}' must be an array")
        return items
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        return [body]
    raise _BadBody("Expected an object")


def _idempotency_seconds() -> int:
    return int(getattr(settings, "XERO_SANDBOX_IDEMPOTENCY_SECONDS", 6 * 60))


def idempotent(view: Callable) -> Callable:
    """Replay the first answer to a write retried with the same Idempotency-Key and body (per organisation)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        key = request.headers.get("Idempotency-Key", "")
        if request.method not in ("PUT", "POST", "PATCH") or not key:
            return view(request, *args, **kwargs)
        if len(key) > IDEMPOTENCY_KEY_MAX:
            return bad_request(f"Idempotency-Key must be at most {IDEMPOTENCY_KEY_MAX} characters")
        org = request.sandbox_org
        digest = hashlib.sha256(
            b"\n".join([request.method.encode(), request.get_full_path().encode(), request.body])
        ).hexdigest()
        oldest = timezone.now() - timedelta(seconds=_idempotency_seconds())
        IdempotencyRecord.objects.filter(org=org, key=key, created_at__lt=oldest).delete()
        record = IdempotencyRecord.objects.filter(org=org, key=key).first()
        if record is not None:
            if record.body_hash != digest:
                return bad_request("The Idempotency-Key has already been used for a different request")
            replay = HttpResponse(bytes(record.body), status=record.status_code, content_type=record.content_type)
            return replay
        response = view(request, *args, **kwargs)
        if response.status_code < 500:
            try:
                with transaction.atomic():
                    IdempotencyRecord.objects.create(
                        org=org,
                        key=key,
                        body_hash=digest,
                        status_code=response.status_code,
                        content_type=response.get("Content-Type", "application/json"),
                        body=response.content,
                        created_at=timezone.now(),
                    )
            except IntegrityError:
                pass  # a concurrent twin stored it first; both answers describe the same write
        return response

    return wrapper


def _summarize(request: HttpRequest) -> bool:
    return request.GET.get("summarizeErrors", "true").lower() != "false"


def _batch(
    request: HttpRequest,
    *,
    key: str,
    elements: list,
    save: Callable[[dict], object],
    render: Callable[[list], list[dict]],
    error_flag: str,
) -> HttpResponse:
    """Save each element on its own; Xero keeps the valid ones even when it answers 400 for the others."""
    results = []
    for element in elements:
        try:
            with transaction.atomic():
                results.append((True, save(element), element))
        except ElementInvalid as exc:
            results.append((False, exc.messages, element))
    failed = [r for r in results if not r[0]]
    summarize = _summarize(request)

    def echo(element, messages):
        body = dict(element) if isinstance(element, dict) else {}
        body[error_flag] = True
        body["StatusAttributeString"] = "ERROR"
        body["ValidationErrors"] = [{"Message": m} for m in messages]
        return body

    if summarize and failed:
        return validation_exception([echo(e, msgs) for _, msgs, e in failed])
    rendered = iter(render([obj for ok, obj, _ in results if ok]))
    items = []
    for ok, value, element in results:
        if ok:
            item = next(rendered)
            if not summarize:
                item["StatusAttributeString"] = "OK"
            items.append(item)
        else:
            items.append(echo(element, value))
    return serialise.json_response(serialise.envelope(key, items))


def _reads(view: Callable) -> Callable:
    """Turn query errors into Xero's 400 QueryParseException and too many IDs into the too-long-URL 404."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method == "GET":
            for name in ("IDs", "ContactIDs"):
                if len(selectors.csv_param(request, name)) > selectors.IDS_MAX:
                    return not_found()
        try:
            return view(request, *args, **kwargs)
        except QueryInvalid as exc:
            return query_parse_error(str(exc))
        except _BadBody as exc:
            return post_data_invalid(str(exc))

    return wrapper


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


# ---- renderers ----------------------------------------------------------------------------------------------


def _render_invoices(invoices: list, *, summary: bool = False) -> list[dict]:
    """Invoices (model rows or ids) as JSON, reading everything in three queries."""
    ids = [getattr(i, "id", i) for i in invoices]
    rows = selectors.invoice_rows(ids, summary=summary)
    return [
        serialise.invoice_json(
            row,
            lines=rows.lines.get(row.id, []),
            payments=rows.payments.get(row.id, []),
            summary=summary,
        )
        for row in rows.invoices
    ]


def _render_contacts(contacts: list, *, summary: bool = False) -> list[dict]:
    groups = {} if summary else selectors.contact_groups_by_contact([c.id for c in contacts])
    return [serialise.contact_json(c, groups=groups.get(c.id), summary=summary) for c in contacts]


def _render_payments(payments: list) -> list[dict]:
    ids = [p.id for p in payments]
    fresh = {p.id: p for p in Payment.objects.filter(id__in=ids).select_related("invoice__contact", "account")}
    return [serialise.payment_json(fresh[p.id]) for p in payments]


# ---- Organisation, Accounts, TaxRates -----------------------------------------------------------------------


@sandbox_api(read=SETTINGS_READ, write=SETTINGS_WRITE)
@_reads
def organisation(request: HttpRequest) -> HttpResponse:
    if request.method != "GET":
        return _method_not_allowed()
    org = request.sandbox_org
    body = serialise.organisation_json(org, services.accounting_settings(org))
    return serialise.json_response(serialise.envelope("Organisations", [body]))


@sandbox_api(read=SETTINGS_READ, write=SETTINGS_WRITE)
@idempotent
@_reads
def accounts(request: HttpRequest, account_id: str | None = None) -> HttpResponse:
    org = request.sandbox_org
    if request.method == "PUT" and account_id is None:
        # Xero takes one account per PUT, the element itself as the body.
        body = _json_body(request)
        return _batch(
            request,
            key="Accounts",
            elements=[body.get("Accounts", [body])[0] if isinstance(body, dict) and "Accounts" in body else body],
            save=lambda element: services.account_create(org=org, data=element),
            render=lambda rows: [serialise.account_json(a) for a in rows],
            error_flag="HasValidationErrors",
        )
    if request.method != "GET":
        return _method_not_allowed()
    if account_id is not None:
        found = Account.objects.filter(org=org, id=_uuid(account_id)).first() if _uuid(account_id) else None
        if found is None:
            return not_found()
        return serialise.json_response(serialise.envelope("Accounts", [serialise.account_json(found)]))
    qs = selectors.simple_query(model=Account, resource="Accounts", org=org, request=request, default_order=("code",))
    return serialise.json_response(serialise.envelope("Accounts", [serialise.account_json(a) for a in qs]))


@sandbox_api(read=SETTINGS_READ, write=SETTINGS_WRITE)
@_reads
def tax_rates(request: HttpRequest, tax_type: str | None = None) -> HttpResponse:
    if request.method != "GET":
        return _method_not_allowed()
    org = request.sandbox_org
    qs = selectors.simple_query(model=TaxRate, resource="TaxRates", org=org, request=request, default_order=("name",))
    if tax_type is not None:
        qs = qs.filter(tax_type=tax_type)
        if not qs.exists():
            return not_found()
    return serialise.json_response(serialise.envelope("TaxRates", [serialise.tax_rate_json(r) for r in qs]))


# ---- Items ----------------------------------------------------------------------------------------------------


@sandbox_api(read=ITEMS_READ, write=ITEMS_WRITE)
@idempotent
@_reads
def items(request: HttpRequest, item_id: str | None = None) -> HttpResponse:
    org = request.sandbox_org
    target = None
    if item_id is not None:
        target = services.item_find(org=org, data={"ItemID": item_id} if _uuid(item_id) else {"Code": item_id})
        if target is None:
            return not_found()
    if request.method == "GET":
        if target is not None:
            return serialise.json_response(serialise.envelope("Items", [serialise.item_json(target)]))
        qs = selectors.simple_query(model=Item, resource="Items", org=org, request=request, default_order=("code",))
        return serialise.json_response(serialise.envelope("Items", [serialise.item_json(i) for i in qs]))
    if request.method not in ("PUT", "POST"):
        return _method_not_allowed()
    elements = _elements(_json_body(request), "Items")
    ledger = services.Ledger(org=org)

    def save(element):
        existing = target
        if existing is None and request.method == "POST" and isinstance(element, dict):
            existing = services.item_find(org=org, data=element)
        return services.item_save(org=org, data=element, item=existing, ledger=ledger)

    return _batch(
        request,
        key="Items",
        elements=elements,
        save=save,
        render=lambda rows: [serialise.item_json(i) for i in rows],
        error_flag="HasValidationErrors",
    )


# ---- Contacts -------------------------------------------------------------------------------------------------


@sandbox_api(read=CONTACTS_READ, write=CONTACTS_WRITE)
@idempotent
@_reads
def contacts(request: HttpRequest, contact_id: str | None = None) -> HttpResponse:
    org = request.sandbox_org
    target = None
    if contact_id is not None:
        found_id = _uuid(contact_id)
        target = (
            Contact.objects.filter(org=org, id=found_id).first()
            if found_id
            else Contact.objects.filter(org=org, contact_number=contact_id).first()
        )
        if target is None:
            return not_found()
    summary = selectors.flag(request, "summaryOnly")
    if request.method == "GET":
        if target is not None:
            return serialise.json_response(serialise.envelope("Contacts", _render_contacts([target])))
        page = selectors.paginate(request, selectors.contacts_query(org=org, request=request))
        return serialise.json_response(
            serialise.envelope("Contacts", _render_contacts(page.rows, summary=summary), pagination=page.pagination())
        )
    if request.method not in ("PUT", "POST"):
        return _method_not_allowed()
    elements = _elements(_json_body(request), "Contacts")

    def save(element):
        existing = target
        if existing is None and isinstance(element, dict):
            existing = services.contact_find(org=org, data=element)
            if existing is None and element.get("ContactID"):
                raise ElementInvalid(services.MSG_CONTACT_NOT_FOUND)
            if existing is not None and request.method == "PUT" and element.get("ContactID"):
                pass  # Xero treats a PUT naming an existing contact as an update too
        return services.contact_save(org=org, data=element, contact=existing)

    return _batch(
        request,
        key="Contacts",
        elements=elements,
        save=save,
        render=_render_contacts,
        error_flag="HasValidationErrors",
    )


# ---- Contact groups -------------------------------------------------------------------------------------------


def _group_json(group: ContactGroup, *, with_contacts: bool) -> dict:
    body = serialise.contact_group_ref(group)
    if with_contacts:
        body["Contacts"] = [{"ContactID": str(c.id), "Name": c.name} for c in group.contacts.order_by("name")]
    else:
        body.pop("Contacts")
    return body


@sandbox_api(read=CONTACTS_READ, write=CONTACTS_WRITE)
@idempotent
@_reads
def contact_groups(request: HttpRequest, group_id: str | None = None) -> HttpResponse:
    org = request.sandbox_org
    target = None
    if group_id is not None:
        target = ContactGroup.objects.filter(org=org, id=_uuid(group_id)).first() if _uuid(group_id) else None
        if target is None:
            return not_found()
    if request.method == "GET":
        if target is not None:
            return serialise.json_response(
                serialise.envelope("ContactGroups", [_group_json(target, with_contacts=True)])
            )
        qs = selectors.simple_query(
            model=ContactGroup, resource="ContactGroups", org=org, request=request, default_order=("name",)
        )
        if not request.GET.get("where"):
            qs = qs.filter(status=ContactGroupStatus.ACTIVE)
        return serialise.json_response(
            serialise.envelope("ContactGroups", [_group_json(g, with_contacts=False) for g in qs])
        )
    if request.method not in ("PUT", "POST"):
        return _method_not_allowed()
    elements = _elements(_json_body(request), "ContactGroups")

    def save(element):
        existing = target
        if existing is None and isinstance(element, dict) and _uuid(str(element.get("ContactGroupID", ""))):
            existing = ContactGroup.objects.filter(org=org, id=_uuid(str(element["ContactGroupID"]))).first()
        return services.contact_group_save(org=org, data=element, group=existing)

    return _batch(
        request,
        key="ContactGroups",
        elements=elements,
        save=save,
        render=lambda rows: [_group_json(g, with_contacts=False) for g in rows],
        error_flag="HasValidationErrors",
    )


@sandbox_api(read=CONTACTS_READ, write=CONTACTS_WRITE)
@idempotent
@_reads
def contact_group_members(request: HttpRequest, group_id: str, contact_id: str | None = None) -> HttpResponse:
    org = request.sandbox_org
    group = ContactGroup.objects.filter(org=org, id=_uuid(group_id)).first() if _uuid(group_id) else None
    if group is None or group.status != ContactGroupStatus.ACTIVE:
        return not_found()
    if request.method == "DELETE":
        if contact_id is None:
            group.contacts.clear()
        else:
            member = group.contacts.filter(id=_uuid(contact_id)).first() if _uuid(contact_id) else None
            if member is None:
                return not_found()
            group.contacts.remove(member)
        group.updated_at = timezone.now()
        group.save(update_fields=["updated_at"])
        return HttpResponse(status=204)
    if request.method != "PUT" or contact_id is not None:
        return _method_not_allowed()
    elements = _elements(_json_body(request), "Contacts")
    try:
        added = services.contact_group_add(org=org, group=group, elements=elements)
    except ElementInvalid as exc:
        return validation_exception([{"ValidationErrors": [{"Message": m} for m in exc.messages]}])
    return serialise.json_response(
        serialise.envelope("Contacts", [{"ContactID": str(c.id), "Name": c.name} for c in added])
    )


# ---- Invoices -------------------------------------------------------------------------------------------------


@sandbox_api(read=INVOICES_READ, write=INVOICES_WRITE)
@idempotent
@_reads
def invoices(request: HttpRequest, invoice_id: str | None = None) -> HttpResponse:
    org = request.sandbox_org
    target = None
    if invoice_id is not None:
        found_id = _uuid(invoice_id)
        # Xero also addresses an invoice by its number in the URL.
        target = (
            Invoice.objects.filter(org=org, id=found_id).first()
            if found_id
            else Invoice.objects.filter(org=org, number=invoice_id).order_by("-updated_at").first()
        )
        if target is None:
            return not_found()
    summary = selectors.flag(request, "summaryOnly")
    if request.method == "GET":
        if target is not None:
            return serialise.json_response(serialise.envelope("Invoices", _render_invoices([target])))
        qs = selectors.invoices_query(org=org, request=request)
        page = selectors.paginate(request, qs.values_list("id", flat=True))
        items = _render_invoices(page.rows, summary=summary)
        return serialise.json_response(serialise.envelope("Invoices", items, pagination=page.pagination()))
    if request.method not in ("PUT", "POST"):
        return _method_not_allowed()
    elements = _elements(_json_body(request), "Invoices")
    ledger = services.Ledger(org=org)

    def save(element):
        existing = target
        if existing is None and isinstance(element, dict):
            existing = services.invoice_find(org=org, data=element, by_number=request.method == "POST")
            if existing is None and element.get("InvoiceID"):
                raise ElementInvalid(services.MSG_INVOICE_NOT_FOUND)
            if existing is not None and request.method == "PUT" and not element.get("InvoiceID"):
                existing = None  # PUT only creates; the number clash is reported by validation
        return services.invoice_save(org=org, data=element, invoice=existing, ledger=ledger)

    return _batch(
        request,
        key="Invoices",
        elements=elements,
        save=save,
        render=_render_invoices,
        error_flag="HasErrors",
    )


# ---- Payments -------------------------------------------------------------------------------------------------


@sandbox_api(read=PAYMENTS_READ, write=PAYMENTS_WRITE)
@idempotent
@_reads
def payments(request: HttpRequest, payment_id: str | None = None) -> HttpResponse:
    org = request.sandbox_org
    target = None
    if payment_id is not None:
        target = Payment.objects.filter(org=org, id=_uuid(payment_id)).first() if _uuid(payment_id) else None
        if target is None:
            return not_found()
    if request.method == "GET":
        if target is not None:
            return serialise.json_response(serialise.envelope("Payments", _render_payments([target])))
        page = selectors.paginate(request, selectors.payments_query(org=org, request=request))
        return serialise.json_response(
            serialise.envelope("Payments", [serialise.payment_json(p) for p in page.rows], pagination=page.pagination())
        )
    body = _json_body(request)
    elements = _elements(body, "Payments")
    if target is not None:
        if request.method != "POST":
            return _method_not_allowed()
        return _batch(
            request,
            key="Payments",
            elements=elements[:1],
            save=lambda element: services.payment_delete(org=org, payment=target, data=element),
            render=_render_payments,
            error_flag="HasValidationErrors",
        )
    if request.method not in ("PUT", "POST"):
        return _method_not_allowed()
    ledger = services.Ledger(org=org)
    return _batch(
        request,
        key="Payments",
        elements=elements,
        save=lambda element: services.payment_create(org=org, data=element, ledger=ledger),
        render=_render_payments,
        error_flag="HasValidationErrors",
    )


# ---- Reports --------------------------------------------------------------------------------------------------


def _query_date(request: HttpRequest, name: str):
    value = request.GET.get(name)
    if not value:
        return None
    try:
        return serialise.parse_date(value)
    except ValueError as exc:
        raise QueryInvalid(f"'{value}' is not a valid date for {name}") from exc


@sandbox_api(read=PNL_READ, write=())
@_reads
def report_profit_and_loss(request: HttpRequest) -> HttpResponse:
    if request.method != "GET":
        return _method_not_allowed()
    report = reports.profit_and_loss(
        org=request.sandbox_org,
        from_date=_query_date(request, "fromDate"),
        to_date=_query_date(request, "toDate"),
    )
    return serialise.json_response(serialise.envelope("Reports", [report]))


@sandbox_api(read=AGED_READ, write=())
@_reads
def report_aged_receivables(request: HttpRequest) -> HttpResponse:
    if request.method != "GET":
        return _method_not_allowed()
    contact_id = _uuid(request.GET.get("contactId") or request.GET.get("ContactID") or "")
    contact = Contact.objects.filter(org=request.sandbox_org, id=contact_id).first() if contact_id else None
    if contact is None:
        return bad_request("contactId is required and must name a contact of this organisation")
    report = reports.aged_receivables_by_contact(
        org=request.sandbox_org,
        contact=contact,
        date=_query_date(request, "date"),
        from_date=_query_date(request, "fromDate"),
        to_date=_query_date(request, "toDate"),
    )
    return serialise.json_response(serialise.envelope("Reports", [report]))
