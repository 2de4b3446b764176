"""Xero JSON shapes for sandbox records: /Date()/ stamps, the response envelope, and one function per resource."""

import datetime as dt
import json
import re
import uuid
from decimal import Decimal

from django.http import HttpResponse
from django.utils import timezone

from xero_sandbox import conf

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MSDATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")

# Organisation.timezone is an IANA name; Xero reports Windows-style zone ids.
_WINDOWS_ZONES = {
    "America/New_York": "EASTERNSTANDARDTIME",
    "America/Chicago": "CENTRALSTANDARDTIME",
    "America/Denver": "MOUNTAINSTANDARDTIME",
    "America/Los_Angeles": "PACIFICSTANDARDTIME",
    "Europe/London": "GMTSTANDARDTIME",
    "Australia/Sydney": "AUSEASTERNSTANDARDTIME",
    "Pacific/Auckland": "NEWZEALANDSTANDARDTIME",
    "UTC": "UTC",
}


def msdate(value: dt.date | dt.datetime | None) -> str | None:
    """A date or an aware datetime as Xero writes it: /Date(<ms since epoch>+0000)/ (dates at UTC midnight)."""
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    ms = (value - _EPOCH) // dt.timedelta(milliseconds=1)
    return f"/Date({ms}+0000)/"


def date_string(value: dt.date | None) -> str | None:
    return None if value is None else f"{value.isoformat()}T00:00:00"


def parse_date(value) -> dt.date | None:
    """Parse a request date: YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS or /Date(ms)/. Raises ValueError when unreadable."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValueError(value)
    match = _MSDATE.match(value.strip())
    if match:
        return (_EPOCH + dt.timedelta(milliseconds=int(match.group(1)))).date()
    return dt.date.fromisoformat(value.strip()[:10])


def parse_datetime_header(value: str) -> dt.datetime | None:
    """Parse If-Modified-Since: ISO (UTC when no offset) or an HTTP date. None when unreadable."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


def money(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _default(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return msdate(value)
    raise TypeError(type(value))


def dumps(payload) -> bytes:
    return json.dumps(payload, default=_default, separators=(",", ":")).encode()


def envelope(key: str | None = None, items=None, **extra) -> dict:
    """The wrapper every Accounting API answer carries."""
    body = {
        "Id": str(uuid.uuid4()),
        "Status": "OK",
        "ProviderName": conf.provider_name(),
        "DateTimeUTC": msdate(timezone.now()),
    }
    body.update(extra)
    if key is not None:
        body[key] = items if items is not None else []
    return body


def json_response(payload: dict, status: int = 200) -> HttpResponse:
    return HttpResponse(dumps(payload), status=status, content_type="application/json; charset=utf-8")


# ---- resources ----------------------------------------------------------------------------------------------


def organisation_json(org, settings) -> dict:
    return {
        "OrganisationID": str(org.tenant_id),
        "APIKey": "",
        "Name": org.name,
        "LegalName": org.name,
        "PaysTax": True,
        "Version": org.country_code if org.country_code in ("AU", "NZ", "UK", "US") else "GLOBAL",
        "OrganisationType": "COMPANY",
        "BaseCurrency": org.base_currency,
        "CountryCode": org.country_code,
        "IsDemoCompany": False,
        "OrganisationStatus": "ACTIVE",
        "FinancialYearEndDay": settings.financial_year_end_day,
        "FinancialYearEndMonth": settings.financial_year_end_month,
        "SalesTaxBasis": "ACCRUAL" if org.country_code == "US" else "INVOICE",
        "SalesTaxPeriod": "QUARTERLY",
        "DefaultSalesTax": settings.default_sales_tax,
        "DefaultPurchasesTax": settings.default_purchases_tax,
        **({"PeriodLockDate": msdate(settings.period_lock_date)} if settings.period_lock_date else {}),
        **({"EndOfYearLockDate": msdate(settings.end_of_year_lock_date)} if settings.end_of_year_lock_date else {}),
        "CreatedDateUTC": msdate(org.created_at),
        "Timezone": _WINDOWS_ZONES.get(org.timezone, "EASTERNSTANDARDTIME"),
        "OrganisationEntityType": "COMPANY",
        "ShortCode": org.short_code,
        "Class": "STANDARD",
        "Edition": "BUSINESS",
        "LineOfBusiness": "Services",
        "Addresses": [],
        "Phones": [],
        "ExternalLinks": [],
        "PaymentTerms": {},
    }


def account_json(account) -> dict:
    body = {
        "AccountID": str(account.id),
        "Code": account.code,
        "Name": account.name,
        "Status": account.status,
        "Type": account.type,
        "TaxType": account.tax_type or "NONE",
        "Description": account.description,
        "Class": account.account_class,
        "EnablePaymentsToAccount": account.enable_payments_to_account,
        "ShowInExpenseClaims": account.show_in_expense_claims,
        "BankAccountType": account.bank_account_type,
        "ReportingCode": account.reporting_code,
        "ReportingCodeName": account.reporting_code_name,
        "HasAttachments": False,
        "UpdatedDateUTC": msdate(account.updated_at),
        "AddToWatchlist": False,
    }
    if account.system_account:
        body["SystemAccount"] = account.system_account
    if account.type == "BANK":
        body["BankAccountNumber"] = account.bank_account_number
        body["CurrencyCode"] = account.currency_code or None
        if body["CurrencyCode"] is None:
            del body["CurrencyCode"]
    return body


def tax_rate_json(rate) -> dict:
    return {
        "Name": rate.name,
        "TaxType": rate.tax_type,
        "ReportTaxType": rate.report_tax_type or None,
        "CanApplyToAssets": rate.can_apply_to_assets,
        "CanApplyToEquity": rate.can_apply_to_equity,
        "CanApplyToExpenses": rate.can_apply_to_expenses,
        "CanApplyToLiabilities": rate.can_apply_to_liabilities,
        "CanApplyToRevenue": rate.can_apply_to_revenue,
        "DisplayTaxRate": money(rate.rate),
        "EffectiveRate": money(rate.rate),
        "Status": rate.status,
        "TaxComponents": [
            {"Name": rate.name, "Rate": money(rate.rate), "IsCompound": False, "IsNonRecoverable": False}
        ],
    }


def _without_none(body: dict) -> dict:
    return {k: v for k, v in body.items() if v is not None}


def item_json(item) -> dict:
    return {
        "ItemID": str(item.id),
        "Code": item.code,
        "Name": item.name,
        "Description": item.description,
        "PurchaseDescription": item.purchase_description,
        "IsSold": item.is_sold,
        "IsPurchased": item.is_purchased,
        "IsTrackedAsInventory": False,
        "UpdatedDateUTC": msdate(item.updated_at),
        "PurchaseDetails": _without_none(
            {
                "UnitPrice": money(item.purchase_unit_price),
                "AccountCode": item.purchase_account_code or None,
                "TaxType": item.purchase_tax_type or None,
            }
        ),
        "SalesDetails": _without_none(
            {
                "UnitPrice": money(item.sales_unit_price),
                "AccountCode": item.sales_account_code or None,
                "TaxType": item.sales_tax_type or None,
            }
        ),
    }


def contact_group_ref(group) -> dict:
    return {
        "ContactGroupID": str(group.id),
        "Name": group.name,
        "Status": group.status,
        "Contacts": [],
        "HasValidationErrors": False,
    }


def contact_json(contact, *, groups=None, summary: bool = False) -> dict:
    """A contact as GET /Contacts gives it; `groups` are pre-fetched ContactGroup rows (None → none listed)."""
    body = {
        "ContactID": str(contact.id),
        "ContactStatus": contact.status,
        "Name": contact.name,
        "FirstName": contact.first_name,
        "LastName": contact.last_name,
        "EmailAddress": contact.email_address,
        "BankAccountDetails": contact.bank_account_details,
        "Addresses": contact.addresses or [],
        "Phones": contact.phones or [],
        "UpdatedDateUTC": msdate(contact.updated_at),
        "ContactGroups": [] if summary else [contact_group_ref(g) for g in (groups or [])],
        "IsSupplier": contact.is_supplier,
        "IsCustomer": contact.is_customer,
        "SalesTrackingCategories": [],
        "PurchasesTrackingCategories": [],
        "ContactPersons": [],
        "HasAttachments": False,
        "HasValidationErrors": False,
    }
    if contact.contact_number:
        body["ContactNumber"] = contact.contact_number
    if contact.account_number:
        body["AccountNumber"] = contact.account_number
    if contact.tax_number:
        body["TaxNumber"] = contact.tax_number
    if contact.default_currency:
        body["DefaultCurrency"] = contact.default_currency
    return body


def contact_ref(contact) -> dict:
    """The contact as embedded in an invoice (Xero sends a shortened contact there)."""
    return {
        "ContactID": str(contact.id),
        "ContactStatus": contact.status,
        "Name": contact.name,
        "EmailAddress": contact.email_address,
        "Addresses": contact.addresses or [],
        "Phones": contact.phones or [],
        "UpdatedDateUTC": msdate(contact.updated_at),
        "ContactGroups": [],
        "IsSupplier": contact.is_supplier,
        "IsCustomer": contact.is_customer,
        "HasValidationErrors": False,
    }


def line_json(line) -> dict:
    body = {
        "LineItemID": str(line.id),
        "Description": line.description,
        "Quantity": float(line.quantity),
        "UnitAmount": float(line.unit_amount),
        "TaxType": line.tax_type,
        "TaxAmount": float(line.tax_amount),
        "LineAmount": float(line.line_amount),
        "Tracking": [],
    }
    if line.account_code:
        body["AccountCode"] = line.account_code
    if line.item_code:
        body["ItemCode"] = line.item_code
    if line.discount_rate is not None:
        body["DiscountRate"] = float(line.discount_rate)
    return body


def payment_ref(payment) -> dict:
    """A payment as listed inside its invoice."""
    return {
        "PaymentID": str(payment.id),
        "Date": msdate(payment.date),
        "Amount": float(payment.amount),
        "Reference": payment.reference,
        "CurrencyRate": float(payment.currency_rate),
        "HasAccount": False,
        "HasValidationErrors": False,
    }


def invoice_json(invoice, *, lines=None, payments=None, summary: bool = False) -> dict:
    """An invoice as GET /Invoices gives it; `lines`/`payments` are pre-fetched (skipped when summary)."""
    body = {
        "Type": invoice.type,
        "InvoiceID": str(invoice.id),
        "InvoiceNumber": invoice.number,
        "Reference": invoice.reference,
        "Payments": [],
        "CreditNotes": [],
        "Prepayments": [],
        "Overpayments": [],
        "AmountDue": float(invoice.amount_due),
        "AmountPaid": float(invoice.amount_paid),
        "AmountCredited": float(invoice.amount_credited),
        "SentToContact": invoice.sent_to_contact,
        "CurrencyRate": float(invoice.currency_rate),
        "IsDiscounted": bool(invoice.total_discount),
        "HasAttachments": False,
        "HasErrors": False,
        "Contact": contact_ref(invoice.contact),
        "DateString": date_string(invoice.date),
        "Date": msdate(invoice.date),
        "Status": invoice.status,
        "LineAmountTypes": invoice.line_amount_types,
        "SubTotal": float(invoice.sub_total),
        "TotalTax": float(invoice.total_tax),
        "Total": float(invoice.total),
        "UpdatedDateUTC": msdate(invoice.updated_at),
        "CurrencyCode": invoice.currency_code,
    }
    if invoice.due_date:
        body["DueDateString"] = date_string(invoice.due_date)
        body["DueDate"] = msdate(invoice.due_date)
    if invoice.fully_paid_on:
        body["FullyPaidOnDate"] = msdate(invoice.fully_paid_on)
    if invoice.total_discount:
        body["TotalDiscount"] = float(invoice.total_discount)
    if invoice.expected_payment_date:
        body["ExpectedPaymentDate"] = msdate(invoice.expected_payment_date)
    if not summary:
        body["LineItems"] = [line_json(line) for line in (lines or [])]
        body["Payments"] = [payment_ref(p) for p in (payments or [])]
    return body


def payment_json(payment) -> dict:
    invoice = payment.invoice
    return {
        "PaymentID": str(payment.id),
        "Date": msdate(payment.date),
        "BankAmount": float(payment.amount),
        "Amount": float(payment.amount),
        "Reference": payment.reference,
        "CurrencyRate": float(payment.currency_rate),
        "PaymentType": payment.payment_type,
        "Status": payment.status,
        "UpdatedDateUTC": msdate(payment.updated_at),
        "HasAccount": True,
        "IsReconciled": payment.is_reconciled,
        "Account": {"AccountID": str(payment.account.id), "Code": payment.account.code},
        "Invoice": {
            "Type": invoice.type,
            "InvoiceID": str(invoice.id),
            "InvoiceNumber": invoice.number,
            "Payments": [],
            "CreditNotes": [],
            "Prepayments": [],
            "Overpayments": [],
            "IsDiscounted": False,
            "HasErrors": False,
            "Contact": {
                "ContactID": str(invoice.contact.id),
                "Name": invoice.contact.name,
                "Addresses": [],
                "Phones": [],
                "ContactGroups": [],
                "ContactPersons": [],
                "HasValidationErrors": False,
            },
            "LineItems": [],
            "CurrencyCode": invoice.currency_code,
        },
        "HasValidationErrors": False,
    }
