"""Fill sandbox organisations with realistic, deterministic data fast (bulk inserts), or from a Xero-shaped file."""

import datetime as dt
import json
import random
import uuid
from decimal import Decimal
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from xero_sandbox.api import services, totals
from xero_sandbox.models import (
    Account,
    AccountingSettings,
    Contact,
    ContactGroup,
    ContactStatus,
    Invoice,
    InvoiceStatus,
    InvoiceType,
    Item,
    LineItem,
    Organisation,
    Payment,
    PaymentStatus,
    TaxRate,
)

CHUNK = 5000

_CLASSES = {
    "BANK": "ASSET",
    "CURRENT": "ASSET",
    "INVENTORY": "ASSET",
    "FIXED": "ASSET",
    "PREPAYMENT": "ASSET",
    "NONCURRENT": "ASSET",
    "CURRLIAB": "LIABILITY",
    "LIABILITY": "LIABILITY",
    "TERMLIAB": "LIABILITY",
    "EQUITY": "EQUITY",
    "REVENUE": "REVENUE",
    "SALES": "REVENUE",
    "OTHERINCOME": "REVENUE",
    "DIRECTCOSTS": "EXPENSE",
    "EXPENSE": "EXPENSE",
    "OVERHEADS": "EXPENSE",
    "DEPRECIATN": "EXPENSE",
}

# (code, name, type, tax type, system account)
CHART = [
    ("090", "Business Bank Account", "BANK", "NONE", ""),
    ("091", "Business Savings Account", "BANK", "NONE", ""),
    ("610", "Accounts Receivable", "CURRENT", "NONE", "DEBTORS"),
    ("620", "Prepayments", "CURRENT", "NONE", ""),
    ("630", "Inventory", "INVENTORY", "NONE", ""),
    ("710", "Office Equipment", "FIXED", "INPUT", ""),
    ("720", "Computer Equipment", "FIXED", "INPUT", ""),
    ("800", "Accounts Payable", "CURRLIAB", "NONE", "CREDITORS"),
    ("820", "Sales Tax", "CURRLIAB", "NONE", "GST"),
    ("825", "Payroll Liabilities", "CURRLIAB", "NONE", ""),
    ("900", "Loan", "TERMLIAB", "NONE", ""),
    ("960", "Retained Earnings", "EQUITY", "NONE", "RETAINEDEARNINGS"),
    ("970", "Owner A Funds Introduced", "EQUITY", "NONE", ""),
    ("200", "Sales", "REVENUE", "OUTPUT", ""),
    ("260", "Other Revenue", "REVENUE", "OUTPUT", ""),
    ("270", "Interest Income", "REVENUE", "NONE", ""),
    ("310", "Cost of Goods Sold", "DIRECTCOSTS", "INPUT", ""),
    ("400", "Advertising", "EXPENSE", "INPUT", ""),
    ("404", "Bank Fees", "EXPENSE", "NONE", ""),
    ("408", "Cleaning", "EXPENSE", "INPUT", ""),
    ("412", "Consulting & Accounting", "EXPENSE", "INPUT", ""),
    ("420", "Entertainment", "EXPENSE", "NONE", ""),
    ("429", "General Expenses", "EXPENSE", "INPUT", ""),
    ("433", "Insurance", "EXPENSE", "NONE", ""),
    ("445", "Light, Power, Heating", "EXPENSE", "INPUT", ""),
    ("461", "Printing & Stationery", "EXPENSE", "INPUT", ""),
    ("469", "Rent", "EXPENSE", "INPUT", ""),
    ("473", "Repairs and Maintenance", "EXPENSE", "INPUT", ""),
    ("477", "Wages and Salaries", "EXPENSE", "NONE", ""),
    ("489", "Telephone & Internet", "EXPENSE", "INPUT", ""),
    ("493", "Travel - National", "EXPENSE", "INPUT", ""),
]

# (tax type, name, rate, report tax type)
TAX_RATES = [
    ("OUTPUT", "Tax on Sales", Decimal("8.875"), "OUTPUT"),
    ("INPUT", "Tax on Purchases", Decimal("8.875"), "INPUT"),
    ("NONE", "Tax Exempt", Decimal("0"), "NONE"),
]

# (code, name, sales price, sales account, purchase price, purchase account)
ITEMS = [
    ("LABOUR-HR", "Labour (per hour)", Decimal("95.00"), "200", None, ""),
    ("CALL-OUT", "Call-out fee", Decimal("65.00"), "200", None, ""),
    ("MAINT-PLAN", "Annual maintenance plan", Decimal("240.00"), "260", None, ""),
    ("VALVE-22", "Ball valve 22mm", Decimal("18.50"), "200", Decimal("9.20"), "310"),
    ("PIPE-15", "Copper pipe 15mm (3m)", Decimal("24.00"), "200", Decimal("12.75"), "310"),
]

GROUPS = ["Preferred Customers", "Wholesale", "Suppliers", "Residential"]

_FIRST = [
    "Alder",
    "Birch",
    "Cedar",
    "Delta",
    "Elm",
    "Falcon",
    "Granite",
    "Harbor",
    "Iris",
    "Juniper",
    "Kestrel",
    "Linden",
    "Maple",
    "North",
    "Oak",
    "Pine",
    "Quarry",
    "River",
    "Summit",
    "Tidewater",
    "Union",
    "Valley",
    "Willow",
    "Yarrow",
    "Zephyr",
]
_SECOND = [
    "Plumbing",
    "Bakery",
    "Dental",
    "Builders",
    "Florist",
    "Logistics",
    "Studio",
    "Motors",
    "Clinic",
    "Cafe",
    "Hardware",
    "Electrical",
    "Landscaping",
    "Realty",
    "Printing",
    "Fitness",
    "Catering",
    "Supplies",
    "Consulting",
    "Roofing",
]
_SUFFIX = ["LLC", "Inc", "Co", "Group", "& Sons", "Partners", "Ltd"]
_PEOPLE = ["Ava", "Ben", "Cleo", "Dan", "Eve", "Finn", "Gina", "Hugo", "Ivy", "Jack", "Kim", "Leo", "Mia", "Noah"]
_SURNAMES = ["Adams", "Brown", "Chen", "Diaz", "Evans", "Fox", "Garcia", "Hill", "Ito", "Jones", "Khan", "Lopez"]
_STREETS = ["Main St", "Oak Ave", "Market St", "Harbor Rd", "Elm St", "Park Blvd", "River Rd", "Hill St"]
_CITIES = [("New York", "NY", "100"), ("Brooklyn", "NY", "112"), ("Newark", "NJ", "071"), ("Stamford", "CT", "069")]
_LINES_SOLD = [
    "Service call",
    "Repair work",
    "Installation",
    "Parts and materials",
    "Consultation",
    "Monthly retainer",
    "Inspection",
    "Emergency call-out",
    "Maintenance visit",
]
_LINES_BOUGHT = [
    "Office supplies",
    "Phone and internet",
    "Fuel",
    "Equipment hire",
    "Materials",
    "Insurance premium",
    "Advertising",
    "Accounting fees",
    "Rent",
]
_EXPENSE_CODES = ["310", "400", "408", "412", "429", "445", "461", "469", "473", "489", "493"]


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def org_defaults_create(org: Organisation, *, now: dt.datetime | None = None) -> None:
    """Give an organisation Xero's usual starting point: chart of accounts, tax rates, items, contact groups."""
    now = now or timezone.now()
    AccountingSettings.objects.get_or_create(org=org)
    have = set(Account.objects.filter(org=org).values_list("code", flat=True))
    Account.objects.bulk_create(
        [
            Account(
                org=org,
                code=code,
                name=name,
                type=kind,
                account_class=_CLASSES[kind],
                tax_type=tax,
                system_account=system,
                bank_account_number=f"1210001{code}" if kind == "BANK" else "",
                bank_account_type="BANK" if kind == "BANK" else "",
                currency_code=org.base_currency if kind == "BANK" else "",
                show_in_expense_claims=kind == "EXPENSE",
                updated_at=now,
            )
            for code, name, kind, tax, system in CHART
            if code not in have
        ]
    )
    have_rates = set(TaxRate.objects.filter(org=org).values_list("tax_type", flat=True))
    TaxRate.objects.bulk_create(
        [
            TaxRate(
                org=org,
                tax_type=tax_type,
                name=name,
                rate=rate,
                report_tax_type=report,
                can_apply_to_revenue=tax_type != "INPUT",
                can_apply_to_expenses=tax_type != "OUTPUT",
                updated_at=now,
            )
            for tax_type, name, rate, report in TAX_RATES
            if tax_type not in have_rates
        ]
    )
    have_items = set(Item.objects.filter(org=org).values_list("code", flat=True))
    Item.objects.bulk_create(
        [
            Item(
                org=org,
                code=code,
                name=name,
                description=name,
                purchase_description=name if buy is not None else "",
                is_sold=True,
                is_purchased=buy is not None,
                sales_unit_price=sell,
                sales_account_code=sell_account,
                sales_tax_type="OUTPUT",
                purchase_unit_price=buy,
                purchase_account_code=buy_account,
                purchase_tax_type="INPUT" if buy is not None else "",
                updated_at=now,
            )
            for code, name, sell, sell_account, buy, buy_account in ITEMS
            if code not in have_items
        ]
    )
    have_groups = set(ContactGroup.objects.filter(org=org).values_list("name", flat=True))
    ContactGroup.objects.bulk_create(
        [ContactGroup(org=org, name=name, updated_at=now) for name in GROUPS if name not in have_groups]
    )


def _contact_rows(org: Organisation, rng: random.Random, ids: random.Random, count: int, now: dt.datetime):
    names: set[str] = set()
    rows = []
    for n in range(count):
        base = f"{rng.choice(_FIRST)} {rng.choice(_SECOND)} {rng.choice(_SUFFIX)}"
        name = base if base not in names else f"{base} {n + 1}"
        names.add(name)
        first, last = rng.choice(_PEOPLE), rng.choice(_SURNAMES)
        city, region, zip_prefix = rng.choice(_CITIES)
        street = f"{rng.randint(1, 999)} {rng.choice(_STREETS)}"
        postal = f"{zip_prefix}{rng.randint(10, 99)}"
        addresses = [
            {
                "AddressType": "STREET",
                "AddressLine1": street,
                "City": city,
                "Region": region,
                "PostalCode": postal,
                "Country": "USA",
            },
            {
                "AddressType": "POBOX",
                "AddressLine1": f"PO Box {rng.randint(100, 9999)}",
                "City": city,
                "Region": region,
                "PostalCode": postal,
                "Country": "USA",
            },
        ]
        area = f"{rng.randint(201, 989)}"
        phones = [
            {
                "PhoneType": "DEFAULT",
                "PhoneNumber": f"555-{rng.randint(1000, 9999)}",
                "PhoneAreaCode": area,
                "PhoneCountryCode": "1",
            },
            {
                "PhoneType": "MOBILE",
                "PhoneNumber": f"555-{rng.randint(1000, 9999)}",
                "PhoneAreaCode": area,
                "PhoneCountryCode": "1",
            },
        ]
        slug = "".join(ch for ch in name.lower() if ch.isalnum())[:20]
        rows.append(
            Contact(
                id=_uuid(ids),
                org=org,
                name=name,
                contact_number=f"C{n + 1:05d}",
                status=ContactStatus.ARCHIVED if rng.random() < 0.08 else ContactStatus.ACTIVE,
                first_name=first,
                last_name=last,
                email_address=f"{first.lower()}@{slug}.example",
                addresses=addresses,
                phones=phones,
                updated_at=now - dt.timedelta(days=rng.randint(0, 900), seconds=rng.randint(0, 86399)),
            )
        )
    return rows


def _pick_status(rng: random.Random, invoice_type: str) -> str:
    r = rng.random()
    if r < 0.08:
        return InvoiceStatus.DRAFT
    if r < 0.11:
        return InvoiceStatus.SUBMITTED
    if r < 0.15:
        return InvoiceStatus.VOIDED
    if r < 0.17 and invoice_type == InvoiceType.ACCREC:
        return InvoiceStatus.DELETED
    if r < 0.57:
        return InvoiceStatus.PAID
    if r < 0.67:
        return "PARTPAID"
    return InvoiceStatus.AUTHORISED


def _stamp(day: dt.date, rng: random.Random, now: dt.datetime) -> dt.datetime:
    stamp = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC) + dt.timedelta(
        seconds=rng.randint(8 * 3600, 20 * 3600), milliseconds=rng.randint(0, 999)
    )
    return min(stamp, now)


def _invoices_bulk(
    *,
    org: Organisation,
    rng: random.Random,
    ids: random.Random,
    count: int,
    customers: list[Contact],
    suppliers: list[Contact],
    rates: dict[str, Decimal],
    bank: Account,
    today: dt.date,
    now: dt.datetime,
) -> int:
    """Insert `count` invoices with lines and payments in chunks; returns the last ACCREC number used."""
    number = 0
    customer_flags: set = set()
    supplier_flags: set = set()
    for start in range(0, count, CHUNK):
        invoices, lines, payments = [], [], []
        for _ in range(min(CHUNK, count - start)):
            selling = not suppliers or rng.random() < 0.78
            kind = InvoiceType.ACCREC if selling else InvoiceType.ACCPAY
            contact = rng.choice(customers if selling else suppliers)
            (customer_flags if selling else supplier_flags).add(contact.id)
            date = today - dt.timedelta(days=rng.randint(0, 730))
            due = date + dt.timedelta(days=rng.choice((7, 14, 30, 30, 30, 45)))
            r = rng.random()
            lat = "Exclusive" if r < 0.8 else ("Inclusive" if r < 0.95 else "NoTax")
            status = _pick_status(rng, kind)
            invoice_id = _uuid(ids)
            parts = []
            for position in range(rng.randint(1, 3)):
                quantity = Decimal(rng.choice((1, 1, 1, 2, 3, 4, 5, 10)))
                unit = Decimal(rng.randint(500, 250000)) / 100
                discount = Decimal(rng.choice((5, 10, 15))) if rng.random() < 0.07 else None
                if selling:
                    code = "200" if rng.random() < 0.85 else "260"
                    tax_type = "OUTPUT" if lat != "NoTax" else "NONE"
                    description = rng.choice(_LINES_SOLD)
                else:
                    code = rng.choice(_EXPENSE_CODES)
                    tax_type = "INPUT" if lat != "NoTax" and rng.random() < 0.7 else "NONE"
                    description = rng.choice(_LINES_BOUGHT)
                amount = totals.line_amount(quantity, unit, discount)
                tax = totals.line_tax(amount, rates.get(tax_type, totals.ZERO), lat)
                parts.append((amount, tax, totals.discount_amount(quantity, unit, discount)))
                lines.append(
                    LineItem(
                        id=_uuid(ids),
                        invoice_id=invoice_id,
                        position=position,
                        description=description,
                        quantity=quantity,
                        unit_amount=unit,
                        account_code=code,
                        tax_type=tax_type,
                        tax_amount=tax,
                        line_amount=amount,
                        discount_rate=discount,
                    )
                )
            sums = totals.invoice_totals(parts, lat)
            paid = totals.ZERO
            paid_on = None
            updated = _stamp(date, rng, now)
            if status in (InvoiceStatus.PAID, "PARTPAID"):
                pay_day = min(date + dt.timedelta(days=rng.randint(0, 45)), today)
                paid = (
                    sums.total
                    if status == InvoiceStatus.PAID
                    else totals.cents(sums.total * Decimal(rng.randint(20, 80)) / 100)
                )
                if paid <= 0 or (paid >= sums.total and status == "PARTPAID"):
                    status = InvoiceStatus.AUTHORISED
                    paid = totals.ZERO
                else:
                    pay_stamp = _stamp(pay_day, rng, now)
                    payments.append(
                        Payment(
                            id=_uuid(ids),
                            org=org,
                            invoice_id=invoice_id,
                            account=bank,
                            date=pay_day,
                            amount=paid,
                            reference=f"Payment {rng.randint(1000, 99999)}",
                            status=PaymentStatus.AUTHORISED,
                            payment_type="ACCRECPAYMENT" if selling else "ACCPAYPAYMENT",
                            is_reconciled=rng.random() < 0.6,
                            updated_at=pay_stamp,
                        )
                    )
                    updated = max(updated, pay_stamp)
                    if status == InvoiceStatus.PAID:
                        paid_on = pay_day
                    else:
                        status = InvoiceStatus.AUTHORISED
            if selling:
                number += 1
                invoice_number = f"INV-{number:05d}"
            else:
                invoice_number = f"BILL-{rng.randint(10000, 99999)}" if rng.random() < 0.6 else ""
            due_amount = sums.total - paid
            if status in (InvoiceStatus.VOIDED, InvoiceStatus.DELETED):
                due_amount = totals.ZERO
            invoices.append(
                Invoice(
                    id=invoice_id,
                    org=org,
                    type=kind,
                    contact=contact,
                    number=invoice_number,
                    reference=f"PO-{rng.randint(100, 9999)}" if rng.random() < 0.4 else "",
                    date=date,
                    due_date=due,
                    status=status,
                    line_amount_types=lat,
                    currency_code=org.base_currency,
                    sub_total=sums.sub_total,
                    total_tax=sums.total_tax,
                    total=sums.total,
                    total_discount=sums.total_discount,
                    amount_due=due_amount,
                    amount_paid=paid,
                    fully_paid_on=paid_on,
                    sent_to_contact=selling and status != InvoiceStatus.DRAFT,
                    updated_at=updated,
                )
            )
        Invoice.objects.bulk_create(invoices, batch_size=1000)
        LineItem.objects.bulk_create(lines, batch_size=1000)
        Payment.objects.bulk_create(payments, batch_size=1000)
    if customer_flags:
        Contact.objects.filter(id__in=list(customer_flags)).update(is_customer=True)
    if supplier_flags:
        Contact.objects.filter(id__in=list(supplier_flags)).update(is_supplier=True)
    return number


def seed_organisation(
    name: str,
    contacts: int = 50,
    invoices: int = 200,
    seed: int = 0,
    from_file: str | Path | None = None,
    *,
    today: dt.date | None = None,
) -> Organisation:
    """A new organisation with defaults plus `contacts` contacts and `invoices` invoices (same seed, same data).

    With `from_file`, the file's Xero-shaped arrays are loaded first (keeping their IDs). Seeding emits no
    webhook events.
    """
    rng = random.Random(seed)
    now = timezone.now()
    today = today or now.date()
    with transaction.atomic():
        org = Organisation.objects.create(name=name, short_code="!" + uuid.uuid4().hex[:8])
        # IDs must differ between organisations seeded alike; the content follows `seed` only.
        ids = random.Random(f"{seed}:{org.tenant_id}")
        org_defaults_create(org, now=now)
        if from_file:
            load_file(org=org, path=from_file)
        if contacts:
            rows = _contact_rows(org, rng, ids, contacts, now)
            taken = set(Contact.objects.filter(org=org).values_list("name", flat=True))
            for row in rows:
                if row.name in taken:
                    row.name = f"{row.name} ({row.contact_number})"
            Contact.objects.bulk_create(rows, batch_size=1000)
            groups = list(ContactGroup.objects.filter(org=org).order_by("name"))
            through = ContactGroup.contacts.through
            links = [
                through(contactgroup_id=group.id, contact_id=row.id)
                for row in rows
                for group in groups
                if rng.random() < 0.15
            ]
            through.objects.bulk_create(links, batch_size=1000)
        if invoices:
            active = list(Contact.objects.filter(org=org, status=ContactStatus.ACTIVE).order_by("contact_number", "id"))
            if not active:
                active = [Contact.objects.create(org=org, id=_uuid(ids), name="Walk-in Customer", updated_at=now)]
            split = max(1, int(len(active) * 0.8))
            customers, suppliers = active[:split], active[split:]
            rates = dict(TaxRate.objects.filter(org=org).values_list("tax_type", "rate"))
            bank = Account.objects.get(org=org, code="090")
            last = _invoices_bulk(
                org=org,
                rng=rng,
                ids=ids,
                count=invoices,
                customers=customers,
                suppliers=suppliers,
                rates=rates,
                bank=bank,
                today=today,
                now=now,
            )
            AccountingSettings.objects.filter(org=org).update(next_invoice_number=last + 1)
    return org


def load_file(*, org: Organisation, path: str | Path) -> dict[str, int]:
    """Load {"Accounts":[…], "TaxRates":[…], "Items":[…], "ContactGroups":[…], "Contacts":[…], "Invoices":[…],
    "Payments":[…]} in Xero's response shapes into an organisation, keeping IDs; returns counts per array."""
    data = json.loads(Path(path).read_text())
    counts: dict[str, int] = {}
    now = timezone.now()
    for element in data.get("Accounts", []):
        account = Account.objects.filter(org=org, code=element.get("Code", "")).first() or Account(
            org=org, id=_maybe_uuid(element.get("AccountID")) or uuid.uuid4()
        )
        kind = element.get("Type", "EXPENSE")
        account.code = element.get("Code", "")
        account.name = element.get("Name", account.code)
        account.type = kind
        account.account_class = element.get("Class") or _CLASSES.get(kind, "")
        account.status = element.get("Status", "ACTIVE")
        account.tax_type = element.get("TaxType", "")
        account.description = element.get("Description", "")
        account.bank_account_number = element.get("BankAccountNumber", "")
        account.bank_account_type = element.get("BankAccountType", "BANK" if kind == "BANK" else "")
        account.enable_payments_to_account = bool(element.get("EnablePaymentsToAccount", False))
        account.updated_at = now
        account.save()
    counts["Accounts"] = len(data.get("Accounts", []))
    for element in data.get("TaxRates", []):
        rate = element.get("EffectiveRate", element.get("DisplayTaxRate", 0))
        TaxRate.objects.update_or_create(
            org=org,
            tax_type=element["TaxType"],
            defaults={
                "name": element.get("Name", element["TaxType"]),
                "rate": Decimal(str(rate)),
                "status": element.get("Status", "ACTIVE"),
                "report_tax_type": element.get("ReportTaxType") or "",
                "updated_at": now,
            },
        )
    counts["TaxRates"] = len(data.get("TaxRates", []))
    ledger = services.Ledger(org=org)
    for element in data.get("Items", []):
        services.item_save(
            org=org,
            data=element,
            item=services.item_find(org=org, data=element),
            ledger=ledger,
            create_id=_maybe_uuid(element.get("ItemID")),
        )
    counts["Items"] = len(data.get("Items", []))
    groups_by_id = {}
    for element in data.get("ContactGroups", []):
        group = ContactGroup.objects.filter(org=org, name=element.get("Name", "")).first()
        group = services.contact_group_save(
            org=org, data=element, group=group, create_id=_maybe_uuid(element.get("ContactGroupID"))
        )
        groups_by_id[str(element.get("ContactGroupID", group.id))] = group
    counts["ContactGroups"] = len(data.get("ContactGroups", []))
    for element in data.get("Contacts", []):
        contact = services.contact_save(
            org=org,
            data=element,
            contact=services.contact_find(org=org, data=element),
            create_id=_maybe_uuid(element.get("ContactID")),
            notify=False,
        )
        for ref in element.get("ContactGroups", []) or []:
            group = (
                groups_by_id.get(str(ref.get("ContactGroupID")))
                or ContactGroup.objects.filter(org=org, name=ref.get("Name", "")).first()
            )
            if group is not None:
                group.contacts.add(contact)
    counts["Contacts"] = len(data.get("Contacts", []))
    paid_later = []
    for element in data.get("Invoices", []):
        element = dict(element)
        wanted = str(element.get("Status", "DRAFT")).upper()
        # PAID comes from payments; VOIDED/DELETED only by moving an existing invoice.
        element["Status"] = InvoiceStatus.AUTHORISED if wanted in ("PAID", "VOIDED") else wanted
        if wanted == "DELETED":
            element["Status"] = InvoiceStatus.DRAFT
        original_id = _maybe_uuid(element.pop("InvoiceID", None))
        invoice = services.invoice_save(org=org, data=element, ledger=ledger, create_id=original_id, notify=False)
        if wanted in ("VOIDED", "DELETED"):
            services.invoice_save(org=org, data={"Status": wanted}, invoice=invoice, ledger=ledger, notify=False)
        elif wanted == "PAID" and not any(
            isinstance(p, dict) for p in data.get("Payments", []) if _payment_invoice(p) == str(invoice.id)
        ):
            paid_later.append(invoice)
    counts["Invoices"] = len(data.get("Invoices", []))
    for element in data.get("Payments", []):
        services.payment_create(
            org=org, data=element, ledger=ledger, notify=False, create_id=_maybe_uuid(element.get("PaymentID"))
        )
    bank = Account.objects.filter(org=org, type="BANK").order_by("code").first()
    for invoice in paid_later:
        invoice.refresh_from_db()
        if invoice.amount_due > 0 and bank is not None:
            services.payment_create(
                org=org,
                data={
                    "Invoice": {"InvoiceID": str(invoice.id)},
                    "Account": {"Code": bank.code},
                    "Amount": str(invoice.amount_due),
                    "Date": invoice.date.isoformat(),
                },
                ledger=ledger,
                notify=False,
            )
    counts["Payments"] = len(data.get("Payments", []))
    return counts


def _maybe_uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def _payment_invoice(payment: dict) -> str:
    return str((payment.get("Invoice") or {}).get("InvoiceID", ""))


__all__ = ["load_file", "org_defaults_create", "seed_organisation"]
