"""Sandbox accounting data (accounts, tax rates, items, contacts, groups, invoices, payments) per organisation."""

import uuid

from django.db import models

from xero_sandbox.models.identity import Organisation

__all__ = [
    "Account",
    "AccountStatus",
    "AccountingSettings",
    "Contact",
    "ContactGroup",
    "ContactGroupStatus",
    "ContactStatus",
    "IdempotencyRecord",
    "Invoice",
    "InvoiceStatus",
    "InvoiceType",
    "Item",
    "LineAmountTypes",
    "LineItem",
    "Payment",
    "PaymentStatus",
    "TaxRate",
]

MONEY = {"max_digits": 18, "decimal_places": 2, "default": 0}


class AccountStatus(models.TextChoices):
    ACTIVE = "ACTIVE"
    ARCHIVED = "ARCHIVED"
    DELETED = "DELETED"


class ContactStatus(models.TextChoices):
    ACTIVE = "ACTIVE"
    ARCHIVED = "ARCHIVED"


class ContactGroupStatus(models.TextChoices):
    ACTIVE = "ACTIVE"
    DELETED = "DELETED"


class InvoiceType(models.TextChoices):
    ACCREC = "ACCREC"
    ACCPAY = "ACCPAY"


class InvoiceStatus(models.TextChoices):
    DRAFT = "DRAFT"
    SUBMITTED = "SUBMITTED"
    AUTHORISED = "AUTHORISED"
    PAID = "PAID"
    VOIDED = "VOIDED"
    DELETED = "DELETED"


class LineAmountTypes(models.TextChoices):
    EXCLUSIVE = "Exclusive"
    INCLUSIVE = "Inclusive"
    NOTAX = "NoTax"


class PaymentStatus(models.TextChoices):
    AUTHORISED = "AUTHORISED"
    DELETED = "DELETED"


class AccountingSettings(models.Model):
    """Per-organisation accounting settings that Xero keeps on the Organisation (lock dates, defaults)."""

    org = models.OneToOneField(Organisation, on_delete=models.CASCADE, related_name="accounting_settings")
    period_lock_date = models.DateField(null=True, blank=True)
    end_of_year_lock_date = models.DateField(null=True, blank=True)
    financial_year_end_day = models.PositiveSmallIntegerField(default=31)
    financial_year_end_month = models.PositiveSmallIntegerField(default=12)
    default_sales_tax = models.CharField(max_length=50, default="Tax Exclusive")
    default_purchases_tax = models.CharField(max_length=50, default="Tax Exclusive")
    invoice_number_prefix = models.CharField(max_length=20, default="INV-")
    next_invoice_number = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Settings of {self.org_id}"


class Account(models.Model):
    """One account of an organisation's chart of accounts."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    org = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="sandbox_accounts")
    code = models.CharField(max_length=10, blank=True)
    name = models.CharField(max_length=150)
    type = models.CharField(max_length=20)
    account_class = models.CharField(max_length=20, blank=True)
    status = models.CharField(max_length=10, choices=AccountStatus.choices, default=AccountStatus.ACTIVE)
    description = models.TextField(blank=True)
    tax_type = models.CharField(max_length=50, blank=True)
    bank_account_number = models.CharField(max_length=40, blank=True)
    bank_account_type = models.CharField(max_length=20, blank=True)
    currency_code = models.CharField(max_length=3, blank=True)
    enable_payments_to_account = models.BooleanField(default=False)
    show_in_expense_claims = models.BooleanField(default=False)
    system_account = models.CharField(max_length=30, blank=True)
    reporting_code = models.CharField(max_length=50, blank=True)
    reporting_code_name = models.CharField(max_length=150, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["code", "name"]
        indexes = [models.Index(fields=["org", "code"])]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class TaxRate(models.Model):
    """A tax rate an organisation can put on lines, keyed by its TaxType."""

    org = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="sandbox_tax_rates")
    tax_type = models.CharField(max_length=50)
    name = models.CharField(max_length=100)
    rate = models.DecimalField(max_digits=8, decimal_places=4, default=0)
    status = models.CharField(max_length=10, default="ACTIVE")
    report_tax_type = models.CharField(max_length=30, blank=True)
    can_apply_to_revenue = models.BooleanField(default=True)
    can_apply_to_expenses = models.BooleanField(default=True)
    can_apply_to_assets = models.BooleanField(default=True)
    can_apply_to_liabilities = models.BooleanField(default=True)
    can_apply_to_equity = models.BooleanField(default=True)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["org", "tax_type"], name="sandbox_taxrate_unique_type")]

    def __str__(self) -> str:
        return f"{self.tax_type} {self.rate}%"


class Item(models.Model):
    """A price-list item (sold and/or purchased), unique by Code within an organisation."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    org = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="sandbox_items")
    code = models.CharField(max_length=30)
    name = models.CharField(max_length=50, blank=True)
    description = models.TextField(blank=True)
    purchase_description = models.TextField(blank=True)
    is_sold = models.BooleanField(default=True)
    is_purchased = models.BooleanField(default=True)
    sales_unit_price = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    sales_account_code = models.CharField(max_length=10, blank=True)
    sales_tax_type = models.CharField(max_length=50, blank=True)
    purchase_unit_price = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    purchase_account_code = models.CharField(max_length=10, blank=True)
    purchase_tax_type = models.CharField(max_length=50, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["org", "code"], name="sandbox_item_unique_code")]

    def __str__(self) -> str:
        return self.code


class ContactGroup(models.Model):
    """A named group of contacts."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    org = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="sandbox_contact_groups")
    name = models.CharField(max_length=100)
    status = models.CharField(max_length=10, choices=ContactGroupStatus.choices, default=ContactGroupStatus.ACTIVE)
    contacts = models.ManyToManyField("Contact", related_name="groups", blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    """A customer or supplier; the name is unique among active contacts of an organisation."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    org = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="sandbox_contacts")
    name = models.CharField(max_length=255)
    contact_number = models.CharField(max_length=50, blank=True)
    account_number = models.CharField(max_length=50, blank=True)
    status = models.CharField(max_length=10, choices=ContactStatus.choices, default=ContactStatus.ACTIVE)
    first_name = models.CharField(max_length=255, blank=True)
    last_name = models.CharField(max_length=255, blank=True)
    email_address = models.CharField(max_length=255, blank=True)
    tax_number = models.CharField(max_length=50, blank=True)
    bank_account_details = models.CharField(max_length=255, blank=True)
    default_currency = models.CharField(max_length=3, blank=True)
    # Xero's own shapes ([{AddressType, AddressLine1, ...}], [{PhoneType, PhoneNumber, ...}]).
    addresses = models.JSONField(default=list, blank=True)
    phones = models.JSONField(default=list, blank=True)
    is_customer = models.BooleanField(default=False)
    is_supplier = models.BooleanField(default=False)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["org", "updated_at"]), models.Index(fields=["org", "name"])]

    def __str__(self) -> str:
        return self.name


class Invoice(models.Model):
    """A sales invoice (ACCREC) or a bill (ACCPAY), with its totals kept as Xero computes them."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    org = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="sandbox_invoices")
    type = models.CharField(max_length=10, choices=InvoiceType.choices)
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="invoices")
    number = models.CharField(max_length=255, blank=True)
    reference = models.CharField(max_length=255, blank=True)
    date = models.DateField()
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT)
    line_amount_types = models.CharField(
        max_length=10, choices=LineAmountTypes.choices, default=LineAmountTypes.EXCLUSIVE
    )
    currency_code = models.CharField(max_length=3)
    currency_rate = models.DecimalField(max_digits=18, decimal_places=6, default=1)
    sub_total = models.DecimalField(**MONEY)
    total_tax = models.DecimalField(**MONEY)
    total = models.DecimalField(**MONEY)
    total_discount = models.DecimalField(**MONEY)
    amount_due = models.DecimalField(**MONEY)
    amount_paid = models.DecimalField(**MONEY)
    amount_credited = models.DecimalField(**MONEY)
    fully_paid_on = models.DateField(null=True, blank=True)
    sent_to_contact = models.BooleanField(default=False)
    expected_payment_date = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["date", "number"]
        indexes = [
            models.Index(fields=["org", "updated_at"]),
            models.Index(fields=["org", "number"]),
            models.Index(fields=["org", "status"]),
            models.Index(fields=["org", "contact"]),
        ]

    def __str__(self) -> str:
        return self.number or str(self.id)


class LineItem(models.Model):
    """One line of an invoice; amounts as Xero stores them (LineAmount after discount, TaxAmount rounded)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(default=0)
    description = models.TextField(blank=True)
    quantity = models.DecimalField(max_digits=18, decimal_places=4, default=1)
    unit_amount = models.DecimalField(max_digits=18, decimal_places=4, default=0)
    item_code = models.CharField(max_length=30, blank=True)
    account_code = models.CharField(max_length=10, blank=True)
    tax_type = models.CharField(max_length=50, blank=True)
    tax_amount = models.DecimalField(**MONEY)
    line_amount = models.DecimalField(**MONEY)
    discount_rate = models.DecimalField(max_digits=8, decimal_places=4, null=True, blank=True)

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return self.description[:40]


class Payment(models.Model):
    """A payment against an invoice into a bank account; deleted (never edited) to be undone."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    org = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="sandbox_payments")
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="payments")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="payments")
    date = models.DateField()
    amount = models.DecimalField(**MONEY)
    currency_rate = models.DecimalField(max_digits=18, decimal_places=6, default=1)
    reference = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=12, choices=PaymentStatus.choices, default=PaymentStatus.AUTHORISED)
    payment_type = models.CharField(max_length=20)
    is_reconciled = models.BooleanField(default=False)
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["date"]
        indexes = [models.Index(fields=["org", "updated_at"])]

    def __str__(self) -> str:
        return f"{self.amount} on {self.date}"


class IdempotencyRecord(models.Model):
    """The first response given to a write carrying an Idempotency-Key, replayed for retries of it."""

    org = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="sandbox_idempotency")
    key = models.CharField(max_length=128)
    body_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    content_type = models.CharField(max_length=100)
    body = models.BinaryField()
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org", "key"], name="sandbox_idempotency_unique_key")]

    def __str__(self) -> str:
        return self.key
