"""Xero JSON ↔ ledger fields, in one place: pure functions, no database, no HTTP."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from portal.models import AccountStatus, CustomerStatus, InvoiceStatus, LineAmountType, PaymentStatus

_MS_DATE = re.compile(r"/Date\((-?\d+)([+-]\d{4})?\)/")


def parse_datetime(value) -> dt.datetime | None:
    """Xero's `/Date(1539993600000+0000)/` or an ISO string → aware UTC datetime."""
    if not value:
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    match = _MS_DATE.fullmatch(str(value).strip())
    if match:
        return dt.datetime.fromtimestamp(int(match.group(1)) / 1000, tz=dt.UTC)
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def parse_date(value) -> dt.date | None:
    parsed = parse_datetime(value)
    return parsed.date() if parsed else None


def xero_date(value: dt.date | None) -> str | None:
    """Dates in requests: YYYY-MM-DD."""
    return value.isoformat() if value else None


def money(value, places: str = "0.01") -> Decimal:
    if value is None or value == "":
        return Decimal("0").quantize(Decimal(places))
    try:
        return Decimal(str(value)).quantize(Decimal(places))
    except InvalidOperation:
        return Decimal("0").quantize(Decimal(places))


def decimal_or_none(value, places: str = "0.0001") -> Decimal | None:
    if value is None or value == "":
        return None
    return money(value, places)


# --- pull: Xero → ledger fields ------------------------------------------------------------------------------


def account_fields(a: dict) -> dict:
    return {
        "external_id": a["AccountID"],
        "external_updated_at": parse_datetime(a.get("UpdatedDateUTC")),
        "code": a.get("Code") or "",
        "name": (a.get("Name") or "")[:150],
        "type": a.get("Type") or "",
        "tax_type": a.get("TaxType") or "",
        "status": AccountStatus.ARCHIVED if a.get("Status") == "ARCHIVED" else AccountStatus.ACTIVE,
        "enable_payments": bool(a.get("EnablePaymentsToAccount")),
        "description": a.get("Description") or "",
    }


def tax_rate_fields(t: dict) -> dict:
    # Tax rates have no GUID in Xero: TaxType is their identity.
    return {
        "external_id": t["TaxType"],
        "name": t.get("Name") or t["TaxType"],
        "tax_type": t["TaxType"],
        "rate": money(t.get("EffectiveRate", t.get("DisplayTaxRate")), "0.0001"),
        "status": t.get("Status") or "ACTIVE",
    }


def item_fields(i: dict) -> dict:
    sales = i.get("SalesDetails") or {}
    purchase = i.get("PurchaseDetails") or {}
    return {
        "external_id": i["ItemID"],
        "external_updated_at": parse_datetime(i.get("UpdatedDateUTC")),
        "code": i.get("Code") or "",
        "name": (i.get("Name") or "")[:100],
        "description": i.get("Description") or "",
        "sale_price": decimal_or_none(sales.get("UnitPrice")),
        "sale_account_code": sales.get("AccountCode") or "",
        "sale_tax_type": sales.get("TaxType") or "",
        "purchase_price": decimal_or_none(purchase.get("UnitPrice")),
        "purchase_account_code": purchase.get("AccountCode") or "",
    }


def customer_type_fields(g: dict) -> dict:
    return {
        "external_id": g["ContactGroupID"],
        "name": g.get("Name") or "",
        "status": g.get("Status") or "ACTIVE",
    }


def _address(addresses: list[dict], kind: str) -> dict:
    found = next((a for a in addresses or [] if a.get("AddressType") == kind), {})
    lines = [found.get(f"AddressLine{n}") or "" for n in range(1, 5)]
    return {
        "line1": lines[0][:255],
        "line2": ", ".join(p for p in lines[1:] if p)[:255],
        "city": (found.get("City") or "")[:255],
        "region": (found.get("Region") or "")[:255],
        "postal_code": (found.get("PostalCode") or "")[:50],
        "country": (found.get("Country") or "")[:50],
    }


def _phone(phones: list[dict], kind: str) -> str:
    found = next((p for p in phones or [] if p.get("PhoneType") == kind), {})
    parts = [found.get("PhoneCountryCode"), found.get("PhoneAreaCode"), found.get("PhoneNumber")]
    return " ".join(p for p in parts if p)[:60]


def customer_fields(c: dict) -> dict:
    bill = _address(c.get("Addresses"), "POBOX")  # Xero's postal address is the bill-to
    ship = _address(c.get("Addresses"), "STREET")
    return {
        "external_id": c["ContactID"],
        "external_updated_at": parse_datetime(c.get("UpdatedDateUTC")),
        "name": (c.get("Name") or "")[:255],
        "first_name": (c.get("FirstName") or "")[:255],
        "last_name": (c.get("LastName") or "")[:255],
        "email": (c.get("EmailAddress") or "")[:255],
        "phone": _phone(c.get("Phones"), "DEFAULT"),
        "mobile": _phone(c.get("Phones"), "MOBILE"),
        "status": CustomerStatus.ARCHIVED if c.get("ContactStatus") == "ARCHIVED" else CustomerStatus.ACTIVE,
        **{f"bill_{k}": v for k, v in bill.items()},
        **{f"ship_{k}": v for k, v in ship.items()},
    }


def customer_group_ids(c: dict) -> list[str]:
    return [g["ContactGroupID"] for g in c.get("ContactGroups") or [] if g.get("ContactGroupID")]


_LINE_AMOUNT_TYPES = {t.value: t.value for t in LineAmountType}


def invoice_fields(inv: dict) -> dict:
    status = inv.get("Status") or "DRAFT"
    return {
        "external_id": inv["InvoiceID"],
        "external_updated_at": parse_datetime(inv.get("UpdatedDateUTC")),
        "number": (inv.get("InvoiceNumber") or "")[:255],
        "type": inv.get("Type") or "ACCREC",
        "reference": (inv.get("Reference") or "")[:255],
        "date": parse_date(inv.get("Date")) or parse_date(inv.get("DateString")),
        "due_date": parse_date(inv.get("DueDate")) or parse_date(inv.get("DueDateString")),
        "status": status if status in InvoiceStatus.values else InvoiceStatus.DRAFT,
        "currency": inv.get("CurrencyCode") or "USD",
        "line_amount_type": _LINE_AMOUNT_TYPES.get(inv.get("LineAmountTypes"), LineAmountType.EXCLUSIVE),
        "subtotal": money(inv.get("SubTotal")),
        "total_tax": money(inv.get("TotalTax")),
        "total": money(inv.get("Total")),
        "amount_due": money(inv.get("AmountDue")),
        "amount_paid": money(inv.get("AmountPaid")),
    }


def invoice_contact_id(inv: dict) -> str:
    return (inv.get("Contact") or {}).get("ContactID") or ""


def line_fields(line: dict, position: int) -> dict:
    return {
        "external_id": line.get("LineItemID") or None,
        "position": position,
        "description": line.get("Description") or "",
        "quantity": money(line.get("Quantity", 1), "0.0001"),
        "unit_amount": money(line.get("UnitAmount"), "0.0001"),
        "item_code": (line.get("ItemCode") or "")[:30],
        "account_code": (line.get("AccountCode") or "")[:10],
        "tax_type": (line.get("TaxType") or "")[:50],
        "tax_amount": money(line.get("TaxAmount")),
        "discount_rate": decimal_or_none(line.get("DiscountRate")),
        "amount": money(line.get("LineAmount")),
    }


def payment_fields(p: dict) -> dict:
    return {
        "external_id": p["PaymentID"],
        "external_updated_at": parse_datetime(p.get("UpdatedDateUTC")),
        "date": parse_date(p.get("Date")),
        "amount": money(p.get("Amount")),
        "reference": (p.get("Reference") or "")[:255],
        "status": PaymentStatus.DELETED if p.get("Status") == "DELETED" else PaymentStatus.AUTHORISED,
    }


def payment_invoice_id(p: dict) -> str:
    return (p.get("Invoice") or {}).get("InvoiceID") or ""


def payment_account_id(p: dict) -> str:
    return (p.get("Account") or {}).get("AccountID") or ""


# --- push: ledger → Xero JSON ---------------------------------------------------------------------------------

# Xero's Organisation.Timezone values (Windows zone names, upper-cased) → IANA zones, for "midnight there".
XERO_TIMEZONES = {
    "EASTERNSTANDARDTIME": "America/New_York",
    "CENTRALSTANDARDTIME": "America/Chicago",
    "MOUNTAINSTANDARDTIME": "America/Denver",
    "USMOUNTAINSTANDARDTIME": "America/Phoenix",
    "PACIFICSTANDARDTIME": "America/Los_Angeles",
    "ALASKANSTANDARDTIME": "America/Anchorage",
    "HAWAIIANSTANDARDTIME": "Pacific/Honolulu",
    "ATLANTICSTANDARDTIME": "America/Halifax",
    "GMTSTANDARDTIME": "Europe/London",
    "WEUROPESTANDARDTIME": "Europe/Berlin",
    "ROMANCESTANDARDTIME": "Europe/Paris",
    "CENTRALEUROPESTANDARDTIME": "Europe/Warsaw",
    "SOUTHAFRICASTANDARDTIME": "Africa/Johannesburg",
    "SINGAPORESTANDARDTIME": "Asia/Singapore",
    "AUSEASTERNSTANDARDTIME": "Australia/Sydney",
    "EAUSTRALIASTANDARDTIME": "Australia/Brisbane",
    "CENAUSTRALIASTANDARDTIME": "Australia/Adelaide",
    "WAUSTRALIASTANDARDTIME": "Australia/Perth",
    "NEWZEALANDSTANDARDTIME": "Pacific/Auckland",
    "UTC": "UTC",
}


def organisation_zone(xero_timezone: str):
    """The organisation's timezone as a ZoneInfo (UTC when Xero's name is unknown or missing)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = XERO_TIMEZONES.get((xero_timezone or "").upper().replace(" ", ""), xero_timezone or "UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _number(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


def line_element(line) -> dict:
    """An existing invoice line as Xero needs it to keep the line unchanged (with its LineItemID)."""
    element = {
        "LineItemID": line.external_id,
        "Description": line.description,
        "Quantity": _number(line.quantity),
        "UnitAmount": _number(line.unit_amount),
        "AccountCode": line.account_code or None,
        "TaxType": line.tax_type or None,
    }
    if line.item_code:
        element["ItemCode"] = line.item_code
    if line.discount_rate is not None:
        element["DiscountRate"] = _number(line.discount_rate)
    return {k: v for k, v in element.items() if v not in (None, "")}


def fee_line_element(*, item_code: str, description: str, amount: Decimal, account_code: str) -> dict:
    element = {
        "ItemCode": item_code,
        "Description": description,
        "Quantity": "1",
        "UnitAmount": _number(amount),
        "TaxType": "NONE",  # fees are not taxed here; a merchant who needs tax maps it on the add-on page
    }
    if account_code:
        element["AccountCode"] = account_code
    return element


def contact_element(customer) -> dict:
    """A portal customer as a new Xero contact (POBOX is the bill-to, STREET the ship-to)."""

    def address(kind: str, prefix: str) -> dict | None:
        parts = {
            "AddressLine1": getattr(customer, f"{prefix}_line1"),
            "AddressLine2": getattr(customer, f"{prefix}_line2"),
            "City": getattr(customer, f"{prefix}_city"),
            "Region": getattr(customer, f"{prefix}_region"),
            "PostalCode": getattr(customer, f"{prefix}_postal_code"),
            "Country": getattr(customer, f"{prefix}_country"),
        }
        parts = {k: v for k, v in parts.items() if v}
        return {"AddressType": kind, **parts} if parts else None

    element = {
        "Name": customer.name,
        "FirstName": customer.first_name,
        "LastName": customer.last_name,
        "EmailAddress": customer.email,
        "Addresses": [a for a in (address("POBOX", "bill"), address("STREET", "ship")) if a],
        "Phones": [
            p
            for p in (
                {"PhoneType": "DEFAULT", "PhoneNumber": customer.phone} if customer.phone else None,
                {"PhoneType": "MOBILE", "PhoneNumber": customer.mobile} if customer.mobile else None,
            )
            if p
        ],
    }
    return {k: v for k, v in element.items() if v not in ("", [])}


def invoice_element(
    invoice,
    lines,
    *,
    contact_id: str,
    status: str,
    account_for: callable,
    tax_for: callable,
) -> dict:
    """A portal invoice as a Xero ACCREC invoice; `account_for(line)` and `tax_for(line)` apply the add-on's
    mappings. A pushed invoice is sent with its InvoiceID so the same element updates it."""
    element = {
        "Type": "ACCREC",
        "InvoiceNumber": invoice.number,
        "Reference": invoice.reference or None,
        "Contact": {"ContactID": contact_id},
        "Date": xero_date(invoice.date),
        "DueDate": xero_date(invoice.due_date),
        "Status": status,
        "LineAmountTypes": invoice.line_amount_type,
        "CurrencyCode": invoice.currency or None,
        "LineItems": [
            {
                k: v
                for k, v in {
                    "LineItemID": line.external_id,
                    "ItemCode": line.item_code or None,
                    "Description": line.description,
                    "Quantity": _number(line.quantity),
                    "UnitAmount": _number(line.unit_amount),
                    "AccountCode": account_for(line) or None,
                    "TaxType": tax_for(line) or None,
                    "DiscountRate": _number(line.discount_rate),
                }.items()
                if v not in (None, "")
            }
            for line in lines
        ],
    }
    if invoice.external_id:
        element["InvoiceID"] = invoice.external_id
    return {k: v for k, v in element.items() if v is not None}


def payment_element(*, invoice_id: str, account_code: str, date: dt.date, amount: Decimal, reference: str) -> dict:
    element = {
        "Invoice": {"InvoiceID": invoice_id},
        "Account": {"Code": account_code},
        "Date": xero_date(date),
        "Amount": _number(amount),
    }
    if reference:
        element["Reference"] = reference
    return element


def item_element(item, *, account_code: str) -> dict:
    """A portal item as a Xero price-list item (the commodity code stays in the portal: Xero has no such field)."""
    sales = {"UnitPrice": _number(item.sale_price)} if item.sale_price is not None else {}
    if account_code:
        sales["AccountCode"] = account_code
    if item.sale_tax_type:
        sales["TaxType"] = item.sale_tax_type
    element = {"Code": item.code, "Name": item.name or item.code, "Description": item.description or None}
    if sales:
        element["SalesDetails"] = sales
    return {k: v for k, v in element.items() if v is not None}
