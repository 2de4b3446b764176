"""Writes of the sandbox's Accounting API: validation with Xero's texts, totals, status machine, payments."""

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from xero_sandbox.api import totals
from xero_sandbox.api.errors import ElementInvalid
from xero_sandbox.api.serialise import parse_date
from xero_sandbox.models import (
    Account,
    AccountingSettings,
    AccountStatus,
    Contact,
    ContactGroup,
    ContactGroupStatus,
    ContactStatus,
    Invoice,
    InvoiceStatus,
    InvoiceType,
    Item,
    LineAmountTypes,
    LineItem,
    Organisation,
    Payment,
    PaymentStatus,
    TaxRate,
)

# Xero's own texts (see xero-facts.md); kept together so a correction is one edit.
MSG_NUMBER_UNIQUE = "Invoice # must be unique."
MSG_DISCOUNT = "The discount rate '{rate}' is invalid. Discount must not be greater than the line total."
MSG_NEGATIVE_TOTAL = "The document total cannot be negative."
MSG_HAS_PAYMENTS = "This document cannot be edited as it has a payment or credit note allocated to it."
MSG_ACCOUNT_REMOVED = "Account code '{code}' has been removed as it does not match a recognised account."
MSG_ACCOUNT_INVALID = "Account must be valid."
MSG_TAX_INVALID = "Tax rate must be valid."
MSG_CONTACT_NAME_TAKEN = (
    "The contact name {name} is already assigned to another contact. "
    "The contact name must be unique across all active contacts."
)
MSG_CONTACT_NAME_MISSING = "The contact name must be specified."
MSG_CONTACT_EMPTY = "Contact cannot be empty."
MSG_CONTACT_NOT_FOUND = "The contact could not be found."
MSG_CONTACT_ARCHIVED = "The contact has been archived and cannot be used on new or edited transactions."
MSG_STATUS_INVALID = "Invoice not of valid status for modification"
MSG_TYPE_INVALID = "Invoice Type must be ACCREC or ACCPAY."
MSG_LINE_AMOUNT_TYPES = "Line amount type must be Exclusive, Inclusive or NoTax."
MSG_DATE_INVALID = "The date '{value}' is not a valid date."
MSG_NUMBER_INVALID = "The value '{value}' of {field} is not a valid number."
MSG_ITEM_NOT_FOUND = "Item code '{code}' is not valid."
MSG_INVOICE_NOT_FOUND = "Invoice could not be found."
MSG_PERIOD_LOCK = "The document date cannot be before the period lock date"
MSG_YEAR_LOCK = "The document date cannot be before the end of year lock date"
MSG_PAYMENT_EXCEEDS = "Payment amount exceeds the amount outstanding on this document"
MSG_PAYMENT_NOT_AUTHORISED = "Payments can only be made against authorized documents."
MSG_PAYMENT_POSITIVE = "Payment amounts must be positive amounts"
MSG_PAYMENT_NO_INVOICE = "You must specify either an Invoice, CreditNote, Prepayment or Overpayment."
MSG_PAYMENT_ACCOUNT = "Payments can only be made to bank accounts or accounts with payments enabled."
MSG_PAYMENT_DELETE_ONLY = 'Payments can only be deleted; send {"Status":"DELETED"}.'
MSG_PAYMENT_ALREADY_DELETED = "This payment has already been deleted."
MSG_ITEM_CODE_TAKEN = "Price List Item with Code '{code}' already exists"
MSG_ITEM_CODE_MISSING = "Item code must be specified."
MSG_ACCOUNT_CODE_TAKEN = "Please enter a unique Code."
MSG_ACCOUNT_NAME_TAKEN = "Please enter a unique Name."
MSG_ACCOUNT_NAME_MISSING = "Please enter a Name."
MSG_ACCOUNT_TYPE_INVALID = "Account Type '{type}' is not valid."
MSG_GROUP_NAME_MISSING = "The contact group name must be specified."
MSG_GROUP_NAME_TAKEN = "The contact group name {name} is already in use."

# Which status an invoice may move to from each status through the API (PAID only happens through payments).
STATUS_MOVES = {
    InvoiceStatus.DRAFT: {InvoiceStatus.DRAFT, InvoiceStatus.SUBMITTED, InvoiceStatus.AUTHORISED, "DELETED"},
    InvoiceStatus.SUBMITTED: {
        InvoiceStatus.SUBMITTED,
        InvoiceStatus.DRAFT,
        InvoiceStatus.AUTHORISED,
        InvoiceStatus.DELETED,
    },
    InvoiceStatus.AUTHORISED: {InvoiceStatus.AUTHORISED, InvoiceStatus.VOIDED},
    InvoiceStatus.PAID: {InvoiceStatus.PAID},
    InvoiceStatus.VOIDED: {InvoiceStatus.VOIDED},
    InvoiceStatus.DELETED: {InvoiceStatus.DELETED},
}
CREATE_STATUSES = {InvoiceStatus.DRAFT, InvoiceStatus.SUBMITTED, InvoiceStatus.AUTHORISED}


def emit(*, org: Organisation, category: str, event_type: str, resource_id) -> None:
    """Hand a change to the webhook machinery (absent while the sandbox is only partly built)."""
    try:
        from xero_sandbox.webhooks import event_emit
    except ImportError:  # pragma: no cover - only while webhooks.py is missing
        return
    event_emit(org=org, category=category, event_type=event_type, resource_id=resource_id)


def accounting_settings(org: Organisation) -> AccountingSettings:
    found, _ = AccountingSettings.objects.get_or_create(org=org)
    return found


def _uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def _decimal(value, name: str, errors: list[str]) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        errors.append(MSG_NUMBER_INVALID.format(value=value, field=name))
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        errors.append(MSG_NUMBER_INVALID.format(value=value, field=name))
        return None
    if not number.is_finite():
        errors.append(MSG_NUMBER_INVALID.format(value=value, field=name))
        return None
    return number


def _date(value, errors: list[str]) -> dt.date | None:
    try:
        return parse_date(value)
    except (ValueError, TypeError):
        errors.append(MSG_DATE_INVALID.format(value=value))
        return None


def _text(data: dict, key: str, current: str = "") -> str:
    value = data.get(key, current)
    return "" if value is None else str(value)


@dataclass
class Ledger:
    """One organisation's reference data, loaded once per request (accounts, tax rates, items, settings)."""

    org: Organisation
    _accounts: dict | None = field(default=None, repr=False)
    _rates: dict | None = field(default=None, repr=False)
    _settings: AccountingSettings | None = field(default=None, repr=False)

    @property
    def accounts(self) -> dict[str, Account]:
        if self._accounts is None:
            self._accounts = {a.code: a for a in Account.objects.filter(org=self.org, status="ACTIVE").exclude(code="")}
        return self._accounts

    @property
    def rates(self) -> dict[str, TaxRate]:
        if self._rates is None:
            self._rates = {r.tax_type: r for r in TaxRate.objects.filter(org=self.org, status="ACTIVE")}
        return self._rates

    @property
    def settings(self) -> AccountingSettings:
        if self._settings is None:
            self._settings = accounting_settings(self.org)
        return self._settings

    def item(self, code: str) -> Item | None:
        return Item.objects.filter(org=self.org, code__iexact=code).first()


# ---- contacts -----------------------------------------------------------------------------------------------

_ADDRESS_TYPES = {"POBOX", "STREET"}
_PHONE_TYPES = {"DEFAULT", "DDI", "MOBILE", "FAX", "OFFICE"}
_CONTACT_TEXT = {
    "FirstName": "first_name",
    "LastName": "last_name",
    "EmailAddress": "email_address",
    "ContactNumber": "contact_number",
    "AccountNumber": "account_number",
    "TaxNumber": "tax_number",
    "BankAccountDetails": "bank_account_details",
    "DefaultCurrency": "default_currency",
}


def contact_find(*, org: Organisation, data: dict) -> Contact | None:
    """The contact a write element points at: by ContactID, else by ContactNumber."""
    contact_id = _uuid(data.get("ContactID"))
    if contact_id:
        return Contact.objects.filter(org=org, id=contact_id).first()
    number = data.get("ContactNumber")
    if number:
        return Contact.objects.filter(org=org, contact_number=number).first()
    return None


def contact_save(
    *,
    org: Organisation,
    data: dict,
    contact: Contact | None = None,
    create_id: uuid.UUID | None = None,
    notify: bool = True,
) -> Contact:
    """Create (contact=None) or update a contact from a Xero Contact element."""
    if not isinstance(data, dict):
        raise ElementInvalid("A Contact element must be an object.")
    errors: list[str] = []
    name = _text(data, "Name", contact.name if contact else "").strip()
    status = _text(data, "ContactStatus", contact.status if contact else ContactStatus.ACTIVE).upper()
    if not name:
        errors.append(MSG_CONTACT_NAME_MISSING)
    if status not in ContactStatus.values:
        errors.append(f"Contact status '{status}' is not valid.")
    if name and status == ContactStatus.ACTIVE:
        taken = Contact.objects.filter(org=org, status=ContactStatus.ACTIVE, name__iexact=name)
        if contact is not None:
            taken = taken.exclude(id=contact.id)
        if taken.exists():
            errors.append(MSG_CONTACT_NAME_TAKEN.format(name=name))
    addresses = data.get("Addresses", contact.addresses if contact else [])
    phones = data.get("Phones", contact.phones if contact else [])
    if not isinstance(addresses, list) or any(
        not isinstance(a, dict) or a.get("AddressType", "STREET") not in _ADDRESS_TYPES for a in addresses
    ):
        errors.append("Addresses must be a list with AddressType POBOX or STREET.")
    if not isinstance(phones, list) or any(
        not isinstance(p, dict) or p.get("PhoneType", "DEFAULT") not in _PHONE_TYPES for p in phones
    ):
        errors.append("Phones must be a list with PhoneType DEFAULT, DDI, MOBILE, FAX or OFFICE.")
    if errors:
        raise ElementInvalid(*errors)

    created = contact is None
    if created:
        contact = Contact(org=org, id=create_id or uuid.uuid4())
    contact.name = name
    contact.status = status
    for key, attr in _CONTACT_TEXT.items():
        if key in data:
            setattr(contact, attr, _text(data, key))
    contact.addresses = addresses
    contact.phones = phones
    contact.updated_at = timezone.now()
    contact.save()
    if notify:
        emit(org=org, category="CONTACT", event_type="CREATE" if created else "UPDATE", resource_id=contact.id)
    return contact


# ---- invoices -----------------------------------------------------------------------------------------------


@dataclass
class _Line:
    line_id: uuid.UUID | None
    description: str
    quantity: Decimal
    unit_amount: Decimal
    item_code: str
    account_code: str
    tax_type: str
    discount_rate: Decimal | None
    line_amount: Decimal = totals.ZERO
    tax_amount: Decimal = totals.ZERO
    discount_amount: Decimal = totals.ZERO


def _line_parse(*, ledger: Ledger, data, invoice_type: str, line_amount_types: str, errors: list[str]) -> _Line | None:
    if not isinstance(data, dict):
        errors.append("A LineItem must be an object.")
        return None
    before = len(errors)
    item = None
    item_code = _text(data, "ItemCode").strip()
    if item_code:
        item = ledger.item(item_code)
        if item is None:
            errors.append(MSG_ITEM_NOT_FOUND.format(code=item_code))
    selling = invoice_type == InvoiceType.ACCREC
    quantity = _decimal(data.get("Quantity"), "Quantity", errors)
    unit_amount = _decimal(data.get("UnitAmount"), "UnitAmount", errors)
    given_line_amount = _decimal(data.get("LineAmount"), "LineAmount", errors)
    discount_rate = _decimal(data.get("DiscountRate"), "DiscountRate", errors)
    if quantity is None:
        quantity = Decimal(1)
    if unit_amount is None and item is not None:
        unit_amount = item.sales_unit_price if selling else item.purchase_unit_price
    if unit_amount is None:
        # A line given only as LineAmount: Xero derives the unit price from it.
        unit_amount = given_line_amount / quantity if given_line_amount is not None and quantity else Decimal(0)
    account_code = _text(data, "AccountCode").strip()
    if not account_code and item is not None:
        account_code = item.sales_account_code if selling else item.purchase_account_code
    account = None
    if account_code:
        account = ledger.accounts.get(account_code)
        if account is None:
            errors.append(MSG_ACCOUNT_REMOVED.format(code=account_code))
    tax_type = _text(data, "TaxType").strip()
    if not tax_type and item is not None:
        tax_type = item.sales_tax_type if selling else item.purchase_tax_type
    if line_amount_types == LineAmountTypes.NOTAX:
        tax_type = tax_type or "NONE"
    elif not tax_type:
        tax_type = (account.tax_type if account is not None else "") or "NONE"
    if tax_type not in ledger.rates and tax_type != "NONE":
        errors.append(MSG_TAX_INVALID)
    if discount_rate is not None and (discount_rate < 0 or discount_rate > 100):
        errors.append(MSG_DISCOUNT.format(rate=f"{discount_rate:.2f}"))
    description = _text(data, "Description")
    if not description and item is not None:
        description = item.description if selling else (item.purchase_description or item.description)
    if len(errors) > before:
        return None
    line = _Line(
        line_id=_uuid(data.get("LineItemID")),
        description=description,
        quantity=quantity,
        unit_amount=unit_amount,
        item_code=item.code if item is not None else "",
        account_code=account_code,
        tax_type=tax_type,
        discount_rate=discount_rate,
    )
    line.line_amount = totals.line_amount(quantity, unit_amount, discount_rate)
    rate = ledger.rates[tax_type].rate if tax_type in ledger.rates else totals.ZERO
    line.tax_amount = totals.line_tax(line.line_amount, rate, line_amount_types)
    line.discount_amount = totals.discount_amount(quantity, unit_amount, discount_rate)
    return line


def _contact_for_invoice(*, org: Organisation, data, errors: list[str]) -> tuple[Contact | None, dict | None]:
    """The invoice's contact, or the element of a new contact to create (Xero creates one sent by Name)."""
    if not isinstance(data, dict) or not (data.get("ContactID") or data.get("Name") or data.get("ContactNumber")):
        errors.append(MSG_CONTACT_EMPTY)
        return None, None
    contact = contact_find(org=org, data=data)
    if contact is None and data.get("ContactID"):
        errors.append(MSG_CONTACT_NOT_FOUND)
        return None, None
    if contact is None and data.get("Name"):
        contact = (
            Contact.objects.filter(org=org, name__iexact=str(data["Name"]).strip())
            .order_by("status")  # ACTIVE before ARCHIVED
            .first()
        )
    if contact is None:
        return None, data
    if contact.status == ContactStatus.ARCHIVED:
        errors.append(MSG_CONTACT_ARCHIVED)
    return contact, None


def _lock_check(ledger: Ledger, date: dt.date | None, errors: list[str]) -> None:
    if date is None:
        return
    settings = ledger.settings
    if settings.end_of_year_lock_date and date <= settings.end_of_year_lock_date:
        errors.append(MSG_YEAR_LOCK)
    elif settings.period_lock_date and date <= settings.period_lock_date:
        errors.append(MSG_PERIOD_LOCK)


def _next_number(ledger: Ledger) -> str:
    settings = ledger.settings
    number = settings.next_invoice_number
    taken = set(
        Invoice.objects.filter(
            org=ledger.org, type=InvoiceType.ACCREC, number__startswith=settings.invoice_number_prefix
        ).values_list("number", flat=True)
    )
    while f"{settings.invoice_number_prefix}{number:04d}" in taken:
        number += 1
    settings.next_invoice_number = number + 1
    settings.save(update_fields=["next_invoice_number", "updated_at"])
    return f"{settings.invoice_number_prefix}{number:04d}"


def invoice_find(*, org: Organisation, data: dict, by_number: bool) -> Invoice | None:
    invoice_id = _uuid(data.get("InvoiceID"))
    if invoice_id:
        return Invoice.objects.filter(org=org, id=invoice_id).first()
    number = data.get("InvoiceNumber")
    if by_number and number:
        return (
            Invoice.objects.filter(org=org, number=number)
            .exclude(status=InvoiceStatus.DELETED)
            .order_by("-updated_at")
            .first()
        )
    return None


def invoice_save(
    *,
    org: Organisation,
    data: dict,
    invoice: Invoice | None = None,
    ledger: Ledger | None = None,
    create_id: uuid.UUID | None = None,
    notify: bool = True,
) -> Invoice:
    """Create (invoice=None) or update an invoice from a Xero Invoice element, applying Xero's rules."""
    if not isinstance(data, dict):
        raise ElementInvalid("An Invoice element must be an object.")
    ledger = ledger or Ledger(org=org)
    errors: list[str] = []
    creating = invoice is None

    if creating:
        invoice_type = _text(data, "Type").upper()
        if invoice_type not in InvoiceType.values:
            raise ElementInvalid(MSG_TYPE_INVALID)
    else:
        invoice_type = invoice.type
        if invoice.status in (InvoiceStatus.VOIDED, InvoiceStatus.DELETED):
            raise ElementInvalid(MSG_STATUS_INVALID)

    # Status machine.
    current_status = invoice.status if invoice else None
    status = _text(data, "Status", current_status or InvoiceStatus.DRAFT).upper()
    if creating:
        if status not in CREATE_STATUSES:
            errors.append(MSG_STATUS_INVALID)
    elif status not in STATUS_MOVES[current_status] or (status == InvoiceStatus.VOIDED and invoice.amount_paid > 0):
        errors.append(MSG_STATUS_INVALID)

    has_payments = bool(invoice and (invoice.amount_paid > 0 or invoice.amount_credited > 0))
    if has_payments and "LineItems" in data:
        errors.append(MSG_HAS_PAYMENTS)

    # Contact.
    contact, new_contact = (invoice.contact if invoice else None), None
    if creating or "Contact" in data:
        contact, new_contact = _contact_for_invoice(org=org, data=data.get("Contact"), errors=errors)
        if has_payments and contact is not None and contact.id != invoice.contact_id:
            errors.append(MSG_HAS_PAYMENTS)

    line_amount_types = _text(data, "LineAmountTypes", invoice.line_amount_types if invoice else "Exclusive")
    line_amount_types = {t.lower(): t for t in LineAmountTypes.values}.get(line_amount_types.lower())
    if line_amount_types is None:
        errors.append(MSG_LINE_AMOUNT_TYPES)
        line_amount_types = LineAmountTypes.EXCLUSIVE
    if has_payments and line_amount_types != invoice.line_amount_types:
        errors.append(MSG_HAS_PAYMENTS)

    date = _date(data.get("Date"), errors) if "Date" in data else (invoice.date if invoice else None)
    date = date or (invoice.date if invoice else timezone.now().date())
    due_date = _date(data.get("DueDate"), errors) if "DueDate" in data else (invoice.due_date if invoice else None)
    expected = (
        _date(data.get("ExpectedPaymentDate"), errors)
        if "ExpectedPaymentDate" in data
        else (invoice.expected_payment_date if invoice else None)
    )
    _lock_check(ledger, date, errors)

    # Lines: replacement rules apply whenever LineItems is sent.
    lines: list[_Line] | None = None
    lines_changed = creating or "LineItems" in data or (invoice and line_amount_types != invoice.line_amount_types)
    if "LineItems" in data or creating:
        raw_lines = data.get("LineItems") or []
        if not isinstance(raw_lines, list):
            errors.append("LineItems must be a list.")
            raw_lines = []
        lines = []
        for raw in raw_lines:
            line = _line_parse(
                ledger=ledger,
                data=raw,
                invoice_type=invoice_type,
                line_amount_types=line_amount_types,
                errors=errors,
            )
            if line is not None:
                lines.append(line)
    elif lines_changed:
        lines = [
            _line_parse(
                ledger=ledger,
                data=_line_as_element(line),
                invoice_type=invoice_type,
                line_amount_types=line_amount_types,
                errors=errors,
            )
            for line in invoice.lines.all()
        ]
        lines = [line for line in lines if line is not None]

    if lines is not None and status in (InvoiceStatus.SUBMITTED, InvoiceStatus.AUTHORISED):
        if any(not line.account_code for line in lines):
            errors.append(MSG_ACCOUNT_INVALID)
    elif (
        lines is None
        and invoice
        and status != current_status
        and status == InvoiceStatus.AUTHORISED
        and invoice.lines.filter(account_code="").exists()
    ):
        errors.append(MSG_ACCOUNT_INVALID)

    # Number: unique among a company's sales invoices.
    number = _text(data, "InvoiceNumber", invoice.number if invoice else "").strip()
    if invoice_type == InvoiceType.ACCREC and number:
        clash = Invoice.objects.filter(org=org, type=InvoiceType.ACCREC, number__iexact=number).exclude(
            status=InvoiceStatus.DELETED
        )
        if invoice is not None:
            clash = clash.exclude(id=invoice.id)
        if clash.exists():
            errors.append(MSG_NUMBER_UNIQUE)

    currency = _text(data, "CurrencyCode", invoice.currency_code if invoice else org.base_currency).upper()
    if len(currency) != 3:
        errors.append(f"Currency code '{currency}' is not valid.")

    computed = None
    if lines is not None:
        computed = totals.invoice_totals(
            [(line.line_amount, line.tax_amount, line.discount_amount) for line in lines], line_amount_types
        )
        if computed.total < 0:
            errors.append(MSG_NEGATIVE_TOTAL)

    if errors:
        raise ElementInvalid(*dict.fromkeys(errors))

    now = timezone.now()
    with transaction.atomic():
        if new_contact is not None:
            contact = contact_save(org=org, data=new_contact, notify=notify)
        if creating:
            invoice = Invoice(org=org, id=create_id or uuid.uuid4(), type=invoice_type)
            if invoice_type == InvoiceType.ACCREC and not number:
                number = _next_number(ledger)
        invoice.contact = contact
        invoice.number = number
        invoice.reference = _text(data, "Reference", invoice.reference or "")
        invoice.date = date
        invoice.due_date = due_date
        invoice.expected_payment_date = expected
        invoice.line_amount_types = line_amount_types
        invoice.currency_code = currency
        if "SentToContact" in data:
            invoice.sent_to_contact = bool(data.get("SentToContact"))
        if "CurrencyRate" in data and data.get("CurrencyRate") not in (None, ""):
            rate = _decimal(data.get("CurrencyRate"), "CurrencyRate", [])
            invoice.currency_rate = rate or invoice.currency_rate
        invoice.status = status
        if computed is not None:
            invoice.sub_total = computed.sub_total
            invoice.total_tax = computed.total_tax
            invoice.total = computed.total
            invoice.total_discount = computed.total_discount
        invoice.amount_due = invoice.total - invoice.amount_paid - invoice.amount_credited
        if status in (InvoiceStatus.VOIDED, InvoiceStatus.DELETED):
            invoice.amount_due = totals.ZERO
        invoice.updated_at = now
        invoice.save()
        if lines is not None:
            _lines_replace(invoice=invoice, lines=lines, creating=creating)
        role = {"is_customer": True} if invoice_type == InvoiceType.ACCREC else {"is_supplier": True}
        # Xero does not move the contact's UpdatedDateUTC for these flags.
        Contact.objects.filter(id=contact.id).update(**role)
    if notify:
        emit(org=org, category="INVOICE", event_type="CREATE" if creating else "UPDATE", resource_id=invoice.id)
    return invoice


def _line_as_element(line: LineItem) -> dict:
    return {
        "LineItemID": str(line.id),
        "Description": line.description,
        "Quantity": line.quantity,
        "UnitAmount": line.unit_amount,
        "ItemCode": line.item_code,
        "AccountCode": line.account_code,
        "TaxType": line.tax_type,
        "DiscountRate": line.discount_rate,
    }


def _lines_replace(*, invoice: Invoice, lines: list[_Line], creating: bool) -> None:
    """Lines with a known LineItemID are updated in place; others are created; lines not sent are removed."""
    existing = set() if creating else set(invoice.lines.values_list("id", flat=True))
    keep = {line.line_id for line in lines if line.line_id in existing}
    if not creating:
        invoice.lines.exclude(id__in=keep).delete()
    rows = []
    for position, line in enumerate(lines):
        row = LineItem(
            id=line.line_id if line.line_id in keep else uuid.uuid4(),
            invoice=invoice,
            position=position,
            description=line.description,
            quantity=line.quantity,
            unit_amount=line.unit_amount,
            item_code=line.item_code,
            account_code=line.account_code,
            tax_type=line.tax_type,
            tax_amount=line.tax_amount,
            line_amount=line.line_amount,
            discount_rate=line.discount_rate,
        )
        if row.id in keep:
            row.save(force_update=True)
        else:
            rows.append(row)
    LineItem.objects.bulk_create(rows)


# ---- payments -----------------------------------------------------------------------------------------------


def payment_create(
    *, org: Organisation, data: dict, ledger: Ledger | None = None, notify: bool = True, create_id=None
) -> Payment:
    """Apply a payment to an authorised invoice; the invoice becomes PAID when nothing is left to pay."""
    if not isinstance(data, dict):
        raise ElementInvalid("A Payment element must be an object.")
    ledger = ledger or Ledger(org=org)
    errors: list[str] = []
    invoice_ref = data.get("Invoice") if isinstance(data.get("Invoice"), dict) else {}
    if not invoice_ref and data.get("InvoiceNumber"):
        invoice_ref = {"InvoiceNumber": data["InvoiceNumber"]}
    invoice = invoice_find(org=org, data=invoice_ref, by_number=True) if invoice_ref else None
    if invoice is None:
        errors.append(MSG_PAYMENT_NO_INVOICE if not invoice_ref else MSG_INVOICE_NOT_FOUND)
    account_ref = data.get("Account") if isinstance(data.get("Account"), dict) else {}
    account = None
    if account_ref.get("AccountID"):
        account = Account.objects.filter(org=org, id=_uuid(account_ref["AccountID"])).first()
    elif account_ref.get("Code") or data.get("Code"):
        account = ledger.accounts.get(str(account_ref.get("Code") or data.get("Code")))
    if account is None:
        errors.append(MSG_ACCOUNT_INVALID)
    elif account.type != "BANK" and not account.enable_payments_to_account:
        errors.append(MSG_PAYMENT_ACCOUNT)
    amount = _decimal(data.get("Amount"), "Amount", errors)
    if amount is None or amount <= 0:
        errors.append(MSG_PAYMENT_POSITIVE)
    date = _date(data.get("Date"), errors) or timezone.now().date()
    _lock_check(ledger, date, errors)
    if invoice is not None:
        if invoice.status != InvoiceStatus.AUTHORISED:
            errors.append(MSG_PAYMENT_NOT_AUTHORISED)
        elif amount is not None and amount > invoice.amount_due:
            errors.append(MSG_PAYMENT_EXCEEDS)
    if errors:
        raise ElementInvalid(*dict.fromkeys(errors))

    now = timezone.now()
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(id=invoice.id)
        if amount > invoice.amount_due:  # re-checked under the lock
            raise ElementInvalid(MSG_PAYMENT_EXCEEDS)
        payment = Payment.objects.create(
            id=create_id or uuid.uuid4(),
            org=org,
            invoice=invoice,
            account=account,
            date=date,
            amount=totals.cents(amount),
            currency_rate=_decimal(data.get("CurrencyRate"), "CurrencyRate", []) or Decimal(1),
            reference=_text(data, "Reference"),
            status=PaymentStatus.AUTHORISED,
            payment_type="ACCRECPAYMENT" if invoice.type == InvoiceType.ACCREC else "ACCPAYPAYMENT",
            is_reconciled=bool(data.get("IsReconciled", False)),
            updated_at=now,
        )
        invoice_payments_apply(invoice=invoice, now=now)
    if notify:
        emit(org=org, category="INVOICE", event_type="UPDATE", resource_id=invoice.id)
    return payment


def invoice_payments_apply(*, invoice: Invoice, now: dt.datetime) -> None:
    """Recompute AmountPaid/AmountDue/status from the invoice's live payments."""
    live = list(invoice.payments.filter(status=PaymentStatus.AUTHORISED).order_by("date"))
    invoice.amount_paid = sum((p.amount for p in live), totals.ZERO)
    invoice.amount_due = invoice.total - invoice.amount_paid - invoice.amount_credited
    if invoice.amount_due <= 0 and live:
        invoice.status = InvoiceStatus.PAID
        invoice.fully_paid_on = live[-1].date
    elif invoice.status == InvoiceStatus.PAID:
        invoice.status = InvoiceStatus.AUTHORISED
        invoice.fully_paid_on = None
    invoice.updated_at = now
    invoice.save()


def payment_delete(*, org: Organisation, payment: Payment, data: dict, notify: bool = True) -> Payment:
    """Delete a payment (the only change Xero allows) and reopen its invoice."""
    if not isinstance(data, dict) or str(data.get("Status", "")).upper() != PaymentStatus.DELETED:
        raise ElementInvalid(MSG_PAYMENT_DELETE_ONLY)
    if payment.status == PaymentStatus.DELETED:
        raise ElementInvalid(MSG_PAYMENT_ALREADY_DELETED)
    now = timezone.now()
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(id=payment.invoice_id)
        payment.status = PaymentStatus.DELETED
        payment.updated_at = now
        payment.save(update_fields=["status", "updated_at"])
        invoice_payments_apply(invoice=invoice, now=now)
    if notify:
        emit(org=org, category="INVOICE", event_type="UPDATE", resource_id=invoice.id)
    return payment


# ---- items --------------------------------------------------------------------------------------------------


def item_find(*, org: Organisation, data: dict) -> Item | None:
    item_id = _uuid(data.get("ItemID"))
    if item_id:
        return Item.objects.filter(org=org, id=item_id).first()
    if data.get("Code"):
        return Item.objects.filter(org=org, code__iexact=str(data["Code"]).strip()).first()
    return None


def item_save(
    *, org: Organisation, data: dict, item: Item | None = None, ledger: Ledger | None = None, create_id=None
) -> Item:
    """Create (item=None) or update a price-list item; Code is unique per organisation."""
    if not isinstance(data, dict):
        raise ElementInvalid("An Item element must be an object.")
    ledger = ledger or Ledger(org=org)
    errors: list[str] = []
    code = _text(data, "Code", item.code if item else "").strip()
    if not code:
        errors.append(MSG_ITEM_CODE_MISSING)
    else:
        clash = Item.objects.filter(org=org, code__iexact=code)
        if item is not None:
            clash = clash.exclude(id=item.id)
        if clash.exists():
            errors.append(MSG_ITEM_CODE_TAKEN.format(code=code))
    details = {}
    for key in ("SalesDetails", "PurchaseDetails"):
        value = data.get(key)
        if value is None:
            continue
        if not isinstance(value, dict):
            errors.append(f"{key} must be an object.")
            continue
        account_code = _text(value, "AccountCode").strip()
        if account_code and account_code not in ledger.accounts:
            errors.append(MSG_ACCOUNT_REMOVED.format(code=account_code))
        tax_type = _text(value, "TaxType").strip()
        if tax_type and tax_type not in ledger.rates and tax_type != "NONE":
            errors.append(MSG_TAX_INVALID)
        details[key] = (_decimal(value.get("UnitPrice"), "UnitPrice", errors), account_code, tax_type)
    if errors:
        raise ElementInvalid(*dict.fromkeys(errors))
    if item is None:
        item = Item(org=org, id=create_id or uuid.uuid4())
    item.code = code
    for key, attr in (
        ("Name", "name"),
        ("Description", "description"),
        ("PurchaseDescription", "purchase_description"),
    ):
        if key in data:
            setattr(item, attr, _text(data, key))
    for key, attr in (("IsSold", "is_sold"), ("IsPurchased", "is_purchased")):
        if key in data:
            setattr(item, attr, bool(data[key]))
    if "SalesDetails" in details:
        item.sales_unit_price, item.sales_account_code, item.sales_tax_type = details["SalesDetails"]
    if "PurchaseDetails" in details:
        item.purchase_unit_price, item.purchase_account_code, item.purchase_tax_type = details["PurchaseDetails"]
    item.updated_at = timezone.now()
    item.save()
    return item


# ---- contact groups -----------------------------------------------------------------------------------------


def contact_group_save(
    *, org: Organisation, data: dict, group: ContactGroup | None = None, create_id=None
) -> ContactGroup:
    """Create or rename a contact group, or delete it with Status DELETED."""
    if not isinstance(data, dict):
        raise ElementInvalid("A ContactGroup element must be an object.")
    name = _text(data, "Name", group.name if group else "").strip()
    status = _text(data, "Status", group.status if group else ContactGroupStatus.ACTIVE).upper()
    errors = []
    if not name:
        errors.append(MSG_GROUP_NAME_MISSING)
    if status not in ContactGroupStatus.values:
        errors.append(f"Contact group status '{status}' is not valid.")
    if name and status == ContactGroupStatus.ACTIVE:
        clash = ContactGroup.objects.filter(org=org, status=ContactGroupStatus.ACTIVE, name__iexact=name)
        if group is not None:
            clash = clash.exclude(id=group.id)
        if clash.exists():
            errors.append(MSG_GROUP_NAME_TAKEN.format(name=name))
    if errors:
        raise ElementInvalid(*errors)
    if group is None:
        group = ContactGroup(org=org, id=create_id or uuid.uuid4())
    group.name = name
    group.status = status
    group.updated_at = timezone.now()
    group.save()
    if status == ContactGroupStatus.DELETED:
        group.contacts.clear()
    return group


def contact_group_add(*, org: Organisation, group: ContactGroup, elements: list) -> list[Contact]:
    """Put contacts (by ContactID) into a group; unknown ids fail the whole call as Xero does."""
    ids = [_uuid(e.get("ContactID")) if isinstance(e, dict) else None for e in elements]
    if any(i is None for i in ids):
        raise ElementInvalid("Each contact must be given by its ContactID.")
    contacts = list(Contact.objects.filter(org=org, id__in=ids))
    if len(contacts) != len(set(ids)):
        raise ElementInvalid(MSG_CONTACT_NOT_FOUND)
    group.contacts.add(*contacts)
    group.updated_at = timezone.now()
    group.save(update_fields=["updated_at"])
    return contacts


# Xero's account types and the class each belongs to.
ACCOUNT_CLASSES = {
    "BANK": "ASSET",
    "CURRENT": "ASSET",
    "FIXED": "ASSET",
    "NONCURRENT": "ASSET",
    "INVENTORY": "ASSET",
    "PREPAYMENT": "ASSET",
    "CURRLIAB": "LIABILITY",
    "LIABILITY": "LIABILITY",
    "TERMLIAB": "LIABILITY",
    "PAYGLIABILITY": "LIABILITY",
    "SUPERANNUATIONLIABILITY": "LIABILITY",
    "WAGESPAYABLELIABILITY": "LIABILITY",
    "EQUITY": "EQUITY",
    "DEPRECIATN": "EXPENSE",
    "DIRECTCOSTS": "EXPENSE",
    "EXPENSE": "EXPENSE",
    "OVERHEADS": "EXPENSE",
    "SUPERANNUATIONEXPENSE": "EXPENSE",
    "WAGESEXPENSE": "EXPENSE",
    "OTHERINCOME": "REVENUE",
    "REVENUE": "REVENUE",
    "SALES": "REVENUE",
}


def account_create(*, org: Organisation, data) -> Account:
    """PUT /Accounts: one new account; Code and Name unique in the organisation's chart."""
    if not isinstance(data, dict):
        raise ElementInvalid("An Account element must be an object.")
    errors: list[str] = []
    code = _text(data, "Code").strip()
    name = _text(data, "Name").strip()
    account_type = _text(data, "Type").strip().upper()
    if not name:
        errors.append(MSG_ACCOUNT_NAME_MISSING)
    elif Account.objects.filter(org=org, name__iexact=name).exclude(status=AccountStatus.DELETED).exists():
        errors.append(MSG_ACCOUNT_NAME_TAKEN)
    if code and Account.objects.filter(org=org, code__iexact=code).exclude(status=AccountStatus.DELETED).exists():
        errors.append(MSG_ACCOUNT_CODE_TAKEN)
    if account_type not in ACCOUNT_CLASSES:
        errors.append(MSG_ACCOUNT_TYPE_INVALID.format(type=account_type))
    tax_type = _text(data, "TaxType").strip()
    if tax_type and tax_type != "NONE" and not TaxRate.objects.filter(org=org, tax_type=tax_type).exists():
        errors.append(MSG_TAX_INVALID)
    if errors:
        raise ElementInvalid(*errors)
    return Account.objects.create(
        org=org,
        code=code,
        name=name,
        type=account_type,
        account_class=ACCOUNT_CLASSES[account_type],
        description=_text(data, "Description"),
        tax_type=tax_type,
        enable_payments_to_account=bool(data.get("EnablePaymentsToAccount")),
        updated_at=timezone.now(),
    )
