"""Reads of the sandbox's Accounting API: Xero's `where`/`order` forms, list filters and paging."""

import datetime as dt
import math
import re
import uuid
from collections import namedtuple
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db.models import Prefetch, Q, QuerySet

from xero_sandbox.api.errors import QueryInvalid
from xero_sandbox.api.serialise import parse_datetime_header
from xero_sandbox.models import (
    Account,
    Contact,
    ContactGroup,
    ContactGroupStatus,
    ContactStatus,
    Invoice,
    Item,
    LineItem,
    Payment,
    PaymentStatus,
    TaxRate,
)

PAGE_SIZE_DEFAULT = 100
PAGE_SIZE_MAX = 1000
# Xero answers a too-long URL (about 50 GUIDs in IDs) with a 404.
IDS_MAX = 50

# Xero element names → ORM lookups, per resource, for `where` and `order`.
FIELDS = {
    "Invoices": {
        "Type": "type",
        "Status": "status",
        "InvoiceNumber": "number",
        "Reference": "reference",
        "InvoiceID": "id",
        "Contact.ContactID": "contact_id",
        "Contact.Name": "contact__name",
        "Date": "date",
        "DueDate": "due_date",
        "AmountDue": "amount_due",
        "AmountPaid": "amount_paid",
        "AmountCredited": "amount_credited",
        "SubTotal": "sub_total",
        "TotalTax": "total_tax",
        "Total": "total",
        "CurrencyCode": "currency_code",
        "FullyPaidOnDate": "fully_paid_on",
        "UpdatedDateUTC": "updated_at",
        "LineAmountTypes": "line_amount_types",
        "SentToContact": "sent_to_contact",
    },
    "Contacts": {
        "Name": "name",
        "ContactID": "id",
        "ContactNumber": "contact_number",
        "AccountNumber": "account_number",
        "ContactStatus": "status",
        "FirstName": "first_name",
        "LastName": "last_name",
        "EmailAddress": "email_address",
        "TaxNumber": "tax_number",
        "IsCustomer": "is_customer",
        "IsSupplier": "is_supplier",
        "UpdatedDateUTC": "updated_at",
    },
    "Payments": {
        "PaymentID": "id",
        "Status": "status",
        "Date": "date",
        "Amount": "amount",
        "Reference": "reference",
        "PaymentType": "payment_type",
        "IsReconciled": "is_reconciled",
        "Invoice.InvoiceID": "invoice_id",
        "Invoice.InvoiceNumber": "invoice__number",
        "Invoice.Contact.ContactID": "invoice__contact_id",
        "Account.AccountID": "account_id",
        "Account.Code": "account__code",
        "UpdatedDateUTC": "updated_at",
    },
    "Accounts": {
        "AccountID": "id",
        "Code": "code",
        "Name": "name",
        "Type": "type",
        "Status": "status",
        "Class": "account_class",
        "TaxType": "tax_type",
        "BankAccountNumber": "bank_account_number",
        "BankAccountType": "bank_account_type",
        "EnablePaymentsToAccount": "enable_payments_to_account",
        "SystemAccount": "system_account",
        "UpdatedDateUTC": "updated_at",
    },
    "Items": {
        "ItemID": "id",
        "Code": "code",
        "Name": "name",
        "IsSold": "is_sold",
        "IsPurchased": "is_purchased",
        "UpdatedDateUTC": "updated_at",
    },
    "TaxRates": {"TaxType": "tax_type", "Name": "name", "Status": "status", "ReportTaxType": "report_tax_type"},
    "ContactGroups": {"ContactGroupID": "id", "Name": "name", "Status": "status"},
}

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>"(?:[^"\\]|\\.)*")
      | (?P<num>-?\d+(?:\.\d+)?)
      | (?P<op>==|!=|>=|<=|&&|\|\||[<>(),.!])
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)
_NULL = object()


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise QueryInvalid(f"Unexpected character at position {pos} in where clause")
        kind = match.lastgroup
        out.append((kind, match.group(kind)))
        pos = match.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


class _WhereParser:
    """Recursive descent over Xero's C#-flavoured filter: comparisons, .Contains/.StartsWith, AND/OR, ()."""

    def __init__(self, text: str, fields: dict[str, str], model):
        self.tokens = _tokens(text)
        self.pos = 0
        self.fields = fields
        self.model = model

    def peek(self):
        return self.tokens[self.pos] if self.pos < len(self.tokens) else (None, None)

    def take(self, value: str | None = None):
        token = self.peek()
        if token[0] is None or (value is not None and token[1].upper() != value.upper()):
            raise QueryInvalid(f"Expected {value or 'a term'} in where clause")
        self.pos += 1
        return token

    def parse(self) -> Q:
        q = self.expr()
        if self.pos != len(self.tokens):
            raise QueryInvalid("Unexpected text at the end of the where clause")
        return q

    def expr(self) -> Q:
        q = self.term()
        while self.peek()[1] and self.peek()[1].upper() in ("OR", "||"):
            self.pos += 1
            q = q | self.term()
        return q

    def term(self) -> Q:
        q = self.factor()
        while self.peek()[1] and self.peek()[1].upper() in ("AND", "&&"):
            self.pos += 1
            q = q & self.factor()
        return q

    def factor(self) -> Q:
        kind, value = self.peek()
        if value == "(":
            self.pos += 1
            q = self.expr()
            self.take(")")
            return q
        if value == "!" or (kind == "name" and value.upper() == "NOT"):
            self.pos += 1
            return ~self.factor()
        return self.comparison()

    def path(self) -> list[str]:
        parts = [self.take()[1]]
        while self.peek()[1] == ".":
            self.pos += 1
            parts.append(self.take()[1])
        return parts

    def comparison(self) -> Q:
        parts = self.path()
        method = None
        if parts[-1] in ("Contains", "StartsWith", "EndsWith") and self.peek()[1] == "(":
            method = parts.pop()
        name = ".".join(parts)
        if name not in self.fields:
            raise QueryInvalid(f"No property or field '{name}' exists")
        lookup = self.fields[name]
        if method:
            self.take("(")
            value = self.value(lookup)
            self.take(")")
            suffix = {"Contains": "icontains", "StartsWith": "istartswith", "EndsWith": "iendswith"}[method]
            return Q(**{f"{lookup}__{suffix}": value})
        kind, op = self.take()
        if kind != "op" or op not in ("==", "!=", ">", ">=", "<", "<="):
            raise QueryInvalid(f"Expected a comparison after '{name}'")
        value = self.value(lookup)
        if value is _NULL:
            empty = Q(**{f"{lookup}__isnull": True})
            if self._is_text(lookup):
                empty |= Q(**{lookup: ""})
            return empty if op == "==" else ~empty
        if op in ("==", "!="):
            key = f"{lookup}__iexact" if self._is_text(lookup) else lookup
            q = Q(**{key: value})
            return q if op == "==" else ~q
        suffix = {">": "gt", ">=": "gte", "<": "lt", "<=": "lte"}[op]
        return Q(**{f"{lookup}__{suffix}": value})

    def _field(self, lookup: str):
        model = self.model
        parts = lookup.split("__")
        for part in parts[:-1]:
            model = model._meta.get_field(part).related_model
        name = parts[-1]
        if name.endswith("_id") and name != "id":
            return model._meta.get_field(name[:-3]).target_field
        return model._meta.get_field(name)

    def _is_text(self, lookup: str) -> bool:
        return self._field(lookup).get_internal_type() in ("CharField", "TextField")

    def value(self, lookup: str):
        kind, raw = self.take()
        internal = self._field(lookup).get_internal_type()
        if kind == "str":
            text = raw[1:-1].replace('\\"', '"')
            return self._coerce(text, internal)
        if kind == "num":
            try:
                return Decimal(raw) if internal != "IntegerField" else int(raw)
            except InvalidOperation as exc:
                raise QueryInvalid(f"Bad number {raw}") from exc
        if kind == "name":
            word = raw.lower()
            if word == "null":
                return _NULL
            if word in ("true", "false"):
                return word == "true"
            if word == "guid":
                self.take("(")
                inner = self.take()[1].strip('"')
                self.take(")")
                return self._coerce(inner, "UUIDField")
            if word == "datetime":
                return self._datetime(internal)
        raise QueryInvalid(f"Unexpected value '{raw}' in where clause")

    def _datetime(self, internal: str):
        # DateTime(2026, 11, 20[, h, m, s]) or DateTime.Parse("2026-11-20")
        if self.peek()[1] == ".":
            self.pos += 1
            self.take("Parse")
            self.take("(")
            text = self.take()[1].strip('"')
            self.take(")")
            return self._coerce(text, internal)
        self.take("(")
        numbers = []
        while True:
            kind, raw = self.take()
            if kind != "num":
                raise QueryInvalid("DateTime() takes numbers")
            numbers.append(int(raw))
            if self.peek()[1] == ",":
                self.pos += 1
                continue
            break
        self.take(")")
        try:
            stamp = dt.datetime(*numbers, tzinfo=dt.UTC)
        except (TypeError, ValueError) as exc:
            raise QueryInvalid("Bad DateTime()") from exc
        return stamp.date() if internal == "DateField" else stamp

    def _coerce(self, text: str, internal: str):
        try:
            if internal == "UUIDField":
                return uuid.UUID(text)
            if internal == "DateField":
                return dt.date.fromisoformat(text[:10])
            if internal == "DateTimeField":
                return parse_datetime_header(text) or dt.datetime.fromisoformat(text)
            if internal == "DecimalField":
                return Decimal(text)
            if internal == "BooleanField":
                return text.lower() == "true"
        except (ValueError, InvalidOperation) as exc:
            raise QueryInvalid(f"Cannot read '{text}'") from exc
        return text


def where_q(resource: str, text: str, model) -> Q:
    """A Q object for a Xero `where` clause (raises QueryInvalid for what the sandbox does not read)."""
    if not text or not text.strip():
        return Q()
    return _WhereParser(text, FIELDS[resource], model).parse()


def order_by(resource: str, text: str, default: tuple[str, ...]) -> tuple[str, ...]:
    """ORM ordering for `order=InvoiceNumber DESC, Date` (always ending with the id for stable pages)."""
    if not text or not text.strip():
        return (*default, "id")
    fields = FIELDS[resource]
    out = []
    for part in text.split(","):
        words = part.split()
        if not words:
            continue
        if words[0] not in fields or len(words) > 2:
            raise QueryInvalid(f"Cannot order by '{part.strip()}'")
        descending = len(words) == 2 and words[1].upper() == "DESC"
        out.append(("-" if descending else "") + fields[words[0]])
    return (*out, "id")


def csv_param(request, name: str) -> list[str]:
    raw = ",".join(request.GET.getlist(name))
    return [part.strip().strip('"') for part in raw.split(",") if part.strip()]


def uuid_list(values: list[str]) -> list[uuid.UUID]:
    out = []
    for value in values:
        try:
            out.append(uuid.UUID(value))
        except ValueError:
            continue
    return out


def flag(request, name: str) -> bool:
    return request.GET.get(name, "").lower() == "true"


def modified_since(request) -> dt.datetime | None:
    return parse_datetime_header(request.headers.get("If-Modified-Since", ""))


@dataclass(frozen=True)
class Page:
    rows: list
    page: int
    page_size: int
    page_count: int
    item_count: int

    def pagination(self) -> dict:
        return {
            "page": self.page,
            "pageSize": self.page_size,
            "pageCount": self.page_count,
            "itemCount": self.item_count,
        }


def paginate(request, queryset: QuerySet) -> Page:
    """Slice by `page` (1-based) and `pageSize` (default 100, at most 1000), counting the whole set."""
    try:
        page = max(1, int(request.GET.get("page", 1)))
    except ValueError:
        page = 1
    try:
        size = int(request.GET.get("pageSize", PAGE_SIZE_DEFAULT))
    except ValueError:
        size = PAGE_SIZE_DEFAULT
    size = min(max(1, size), PAGE_SIZE_MAX)
    count = queryset.count()
    start = (page - 1) * size
    rows = list(queryset[start : start + size]) if start < count else []
    return Page(rows=rows, page=page, page_size=size, page_count=math.ceil(count / size), item_count=count)


# ---- per resource -------------------------------------------------------------------------------------------


def invoices_query(*, org, request) -> QuerySet:
    qs = Invoice.objects.filter(org=org)
    since = modified_since(request)
    if since:
        qs = qs.filter(updated_at__gt=since)
    ids = csv_param(request, "IDs")
    if ids:
        qs = qs.filter(id__in=uuid_list(ids))
    numbers = csv_param(request, "InvoiceNumbers")
    if numbers:
        qs = qs.filter(number__in=numbers)
    contact_ids = csv_param(request, "ContactIDs")
    if contact_ids:
        qs = qs.filter(contact_id__in=uuid_list(contact_ids))
    statuses = [s.upper() for s in csv_param(request, "Statuses")]
    if statuses:
        qs = qs.filter(status__in=statuses)
    qs = qs.filter(where_q("Invoices", request.GET.get("where", ""), Invoice))
    return qs.order_by(*order_by("Invoices", request.GET.get("order", ""), ("updated_at",)))


def invoices_with_detail(qs: QuerySet) -> QuerySet:
    """Invoices with contact, lines and live payments prefetched (for a handful of rows, e.g. after a write)."""
    return qs.select_related("contact").prefetch_related(
        "lines", Prefetch("payments", queryset=Payment.objects.filter(status=PaymentStatus.AUTHORISED))
    )


# A page of 1000 invoices is read as plain tuples: model instances and per-row prefetch querysets cost more
# than the SQL. The row types carry the attribute names the serialisers read.
_INVOICE_FIELDS = tuple(f.attname for f in Invoice._meta.concrete_fields)
_CONTACT_FIELDS = (
    "id",
    "status",
    "name",
    "email_address",
    "addresses",
    "phones",
    "updated_at",
    "is_supplier",
    "is_customer",
)
_LINE_FIELDS = (
    "id",
    "description",
    "quantity",
    "unit_amount",
    "item_code",
    "account_code",
    "tax_type",
    "tax_amount",
    "line_amount",
    "discount_rate",
)
_PAYMENT_FIELDS = ("id", "date", "amount", "reference", "currency_rate")
InvoiceRow = namedtuple("InvoiceRow", (*_INVOICE_FIELDS, "contact"))
ContactRow = namedtuple("ContactRow", _CONTACT_FIELDS)
LineRow = namedtuple("LineRow", _LINE_FIELDS)
PaymentRow = namedtuple("PaymentRow", _PAYMENT_FIELDS)


@dataclass(frozen=True)
class InvoiceRows:
    invoices: list
    lines: dict
    payments: dict


def invoice_rows(ids: list, *, summary: bool = False) -> InvoiceRows:
    """Invoices (in the order of `ids`) with contact, lines and live payments, in three queries."""
    width = len(_INVOICE_FIELDS)
    found = {}
    rows = Invoice.objects.filter(id__in=ids).values_list(*_INVOICE_FIELDS, *(f"contact__{f}" for f in _CONTACT_FIELDS))
    for row in rows:
        found[row[0]] = InvoiceRow(*row[:width], ContactRow(*row[width:]))
    lines: dict = {}
    payments: dict = {}
    if not summary and ids:
        for row in (
            LineItem.objects.filter(invoice_id__in=ids)
            .order_by("invoice_id", "position")
            .values_list("invoice_id", *_LINE_FIELDS)
        ):
            lines.setdefault(row[0], []).append(LineRow(*row[1:]))
        for row in (
            Payment.objects.filter(invoice_id__in=ids, status=PaymentStatus.AUTHORISED)
            .order_by("invoice_id", "date")
            .values_list("invoice_id", *_PAYMENT_FIELDS)
        ):
            payments.setdefault(row[0], []).append(PaymentRow(*row[1:]))
    return InvoiceRows(invoices=[found[i] for i in ids if i in found], lines=lines, payments=payments)


def contacts_query(*, org, request) -> QuerySet:
    qs = Contact.objects.filter(org=org)
    since = modified_since(request)
    if since:
        qs = qs.filter(updated_at__gt=since)
    ids = csv_param(request, "IDs")
    if ids:
        qs = qs.filter(id__in=uuid_list(ids))
    elif not flag(request, "includeArchived"):
        qs = qs.exclude(status=ContactStatus.ARCHIVED)
    term = request.GET.get("searchTerm", "").strip()
    if term:
        qs = qs.filter(
            Q(name__icontains=term)
            | Q(first_name__icontains=term)
            | Q(last_name__icontains=term)
            | Q(email_address__icontains=term)
            | Q(contact_number__icontains=term)
        )
    qs = qs.filter(where_q("Contacts", request.GET.get("where", ""), Contact))
    return qs.order_by(*order_by("Contacts", request.GET.get("order", ""), ("name",)))


def contact_groups_by_contact(contact_ids: list) -> dict:
    """Active groups per contact id, in one query."""
    through = ContactGroup.contacts.through
    rows = through.objects.filter(contact_id__in=contact_ids, contactgroup__status=ContactGroupStatus.ACTIVE)
    out: dict = {}
    for row in rows.select_related("contactgroup"):
        out.setdefault(row.contact_id, []).append(row.contactgroup)
    return out


def payments_query(*, org, request) -> QuerySet:
    qs = Payment.objects.filter(org=org).select_related("invoice__contact", "account")
    since = modified_since(request)
    if since:
        qs = qs.filter(updated_at__gt=since)
    qs = qs.filter(where_q("Payments", request.GET.get("where", ""), Payment))
    return qs.order_by(*order_by("Payments", request.GET.get("order", ""), ("updated_at",)))


def simple_query(*, model, resource: str, org, request, default_order: tuple[str, ...]) -> QuerySet:
    qs = model.objects.filter(org=org)
    since = modified_since(request)
    if since and hasattr(model, "updated_at"):
        qs = qs.filter(updated_at__gt=since)
    qs = qs.filter(where_q(resource, request.GET.get("where", ""), model))
    return qs.order_by(*order_by(resource, request.GET.get("order", ""), default_order))


MODELS = {"Accounts": Account, "Items": Item, "TaxRates": TaxRate, "ContactGroups": ContactGroup}
