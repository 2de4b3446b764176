"""The merchant's ledger: accounts, tax rates, items, customers, invoices and payments.

Every row belongs to one merchant. `external_id` is the accounting system's id for the row (unique per
merchant and kind; NULL for rows that exist only in the portal) and `external_updated_at` is that
system's last-modified time, so syncs can tell what changed.
"""

from decimal import Decimal

from django.db import models
from django.db.models import Q

from portal.models.accounts import Merchant

MONEY = {"max_digits": 14, "decimal_places": 2, "default": Decimal("0.00")}


class ExternalRecord(models.Model):
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    external_id = models.CharField(max_length=64, null=True, blank=True)
    external_updated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    @classmethod
    def external_id_constraint(cls, name: str) -> models.UniqueConstraint:
        return models.UniqueConstraint(fields=["merchant", "external_id"], name=name)


class AccountStatus(models.TextChoices):
    ACTIVE = "ACTIVE", "Active"
    ARCHIVED = "ARCHIVED", "Archived"


class Account(ExternalRecord):
    """A chart-of-accounts entry (Xero's Type values: BANK, REVENUE, SALES, EXPENSE, …)."""

    code = models.CharField(max_length=10, blank=True)
    name = models.CharField(max_length=150)
    type = models.CharField(max_length=32)
    tax_type = models.CharField(max_length=50, blank=True)
    status = models.CharField(max_length=16, choices=AccountStatus.choices, default=AccountStatus.ACTIVE)
    enable_payments = models.BooleanField(default=False)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["code", "name"]
        constraints = [ExternalRecord.external_id_constraint("account_unique_external_id")]
        indexes = [models.Index(fields=["merchant", "code"], name="account_merchant_code")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}".strip()

    @property
    def accepts_payments(self) -> bool:
        return self.type == "BANK" or self.enable_payments


class TaxRate(ExternalRecord):
    name = models.CharField(max_length=100)
    tax_type = models.CharField(max_length=50)
    rate = models.DecimalField(max_digits=7, decimal_places=4, default=Decimal("0"))
    status = models.CharField(max_length=16, default="ACTIVE")

    class Meta:
        ordering = ["name"]
        constraints = [
            ExternalRecord.external_id_constraint("taxrate_unique_external_id"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.rate}%)"


class Item(ExternalRecord):
    """A product or service with its prices and the accounts it books to."""

    code = models.CharField(max_length=30)
    name = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True)
    sale_price = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    sale_account_code = models.CharField(max_length=10, blank=True)
    sale_tax_type = models.CharField(max_length=50, blank=True)
    purchase_price = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    purchase_account_code = models.CharField(max_length=10, blank=True)
    commodity_code = models.CharField(max_length=8, blank=True)

    class Meta:
        ordering = ["code"]
        constraints = [ExternalRecord.external_id_constraint("item_unique_external_id")]
        indexes = [models.Index(fields=["merchant", "code"], name="item_merchant_code")]

    def __str__(self) -> str:
        return self.code


class CustomerType(ExternalRecord):
    """A grouping of customers (Xero's contact groups)."""

    name = models.CharField(max_length=100)
    status = models.CharField(max_length=16, default="ACTIVE")

    class Meta:
        ordering = ["name"]
        constraints = [ExternalRecord.external_id_constraint("customertype_unique_external_id")]

    def __str__(self) -> str:
        return self.name


class CustomerStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    ARCHIVED = "archived", "Archived"


class Customer(ExternalRecord):
    name = models.CharField(max_length=255)
    first_name = models.CharField(max_length=255, blank=True)
    last_name = models.CharField(max_length=255, blank=True)
    email = models.EmailField(max_length=255, blank=True)
    phone = models.CharField(max_length=60, blank=True)
    mobile = models.CharField(max_length=60, blank=True)
    bill_line1 = models.CharField("bill-to line 1", max_length=255, blank=True)
    bill_line2 = models.CharField("bill-to line 2", max_length=255, blank=True)
    bill_city = models.CharField("bill-to city", max_length=255, blank=True)
    bill_region = models.CharField("bill-to region", max_length=255, blank=True)
    bill_postal_code = models.CharField("bill-to postal code", max_length=50, blank=True)
    bill_country = models.CharField("bill-to country", max_length=50, blank=True)
    ship_line1 = models.CharField("ship-to line 1", max_length=255, blank=True)
    ship_line2 = models.CharField("ship-to line 2", max_length=255, blank=True)
    ship_city = models.CharField("ship-to city", max_length=255, blank=True)
    ship_region = models.CharField("ship-to region", max_length=255, blank=True)
    ship_postal_code = models.CharField("ship-to postal code", max_length=50, blank=True)
    ship_country = models.CharField("ship-to country", max_length=50, blank=True)
    status = models.CharField(max_length=16, choices=CustomerStatus.choices, default=CustomerStatus.ACTIVE)
    types = models.ManyToManyField(CustomerType, blank=True, related_name="customers")

    class Meta:
        ordering = ["name"]
        constraints = [ExternalRecord.external_id_constraint("customer_unique_external_id")]
        indexes = [models.Index(fields=["merchant", "status", "name"], name="customer_merchant_status_name")]

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def _address(*parts: str) -> str:
        return ", ".join(p for p in parts if p)

    @property
    def bill_to(self) -> str:
        return self._address(
            self.bill_line1,
            self.bill_line2,
            self.bill_city,
            self.bill_region,
            self.bill_postal_code,
            self.bill_country,
        )

    @property
    def ship_to(self) -> str:
        return self._address(
            self.ship_line1,
            self.ship_line2,
            self.ship_city,
            self.ship_region,
            self.ship_postal_code,
            self.ship_country,
        )


class InvoiceType(models.TextChoices):
    RECEIVABLE = "ACCREC", "Receivable"
    PAYABLE = "ACCPAY", "Payable"


class InvoiceStatus(models.TextChoices):
    DRAFT = "DRAFT", "Draft"
    SUBMITTED = "SUBMITTED", "Awaiting approval"
    AUTHORISED = "AUTHORISED", "Awaiting payment"
    PAID = "PAID", "Paid"
    VOIDED = "VOIDED", "Voided"
    DELETED = "DELETED", "Deleted"


OPEN_INVOICE_STATUSES = (InvoiceStatus.AUTHORISED,)


class LineAmountType(models.TextChoices):
    EXCLUSIVE = "Exclusive", "Tax exclusive"
    INCLUSIVE = "Inclusive", "Tax inclusive"
    NO_TAX = "NoTax", "No tax"


class Invoice(ExternalRecord):
    number = models.CharField(max_length=255, blank=True)
    type = models.CharField(max_length=8, choices=InvoiceType.choices, default=InvoiceType.RECEIVABLE)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="invoices")
    reference = models.CharField(max_length=255, blank=True)
    date = models.DateField()
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT)
    currency = models.CharField(max_length=3, default="USD")
    line_amount_type = models.CharField(max_length=16, choices=LineAmountType.choices, default=LineAmountType.EXCLUSIVE)
    subtotal = models.DecimalField(**MONEY)
    total_tax = models.DecimalField(**MONEY)
    total = models.DecimalField(**MONEY)
    amount_due = models.DecimalField(**MONEY)
    amount_paid = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["-date", "-id"]
        constraints = [ExternalRecord.external_id_constraint("invoice_unique_external_id")]
        indexes = [
            models.Index(fields=["merchant", "-date", "-id"], name="invoice_merchant_date"),
            models.Index(fields=["merchant", "status", "-date", "-id"], name="invoice_merchant_status_date"),
            models.Index(fields=["merchant", "customer", "-date"], name="invoice_merchant_customer_date"),
            models.Index(fields=["merchant", "number"], name="invoice_merchant_number"),
            models.Index(fields=["merchant", "status", "due_date"], name="invoice_merchant_status_due"),
        ]

    def __str__(self) -> str:
        return self.number or f"Invoice {self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_INVOICE_STATUSES and self.amount_due > 0


class InvoiceLine(ExternalRecord):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(default=0)
    description = models.TextField(blank=True)
    quantity = models.DecimalField(max_digits=14, decimal_places=4, default=Decimal("1"))
    unit_amount = models.DecimalField(max_digits=14, decimal_places=4, default=Decimal("0"))
    item = models.ForeignKey(Item, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    item_code = models.CharField(max_length=30, blank=True)
    account_code = models.CharField(max_length=10, blank=True)
    tax_type = models.CharField(max_length=50, blank=True)
    tax_amount = models.DecimalField(**MONEY)
    discount_rate = models.DecimalField(max_digits=7, decimal_places=4, null=True, blank=True)
    amount = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["invoice", "position", "id"]
        constraints = [ExternalRecord.external_id_constraint("invoiceline_unique_external_id")]

    def __str__(self) -> str:
        return self.description[:60] or self.item_code


class PaymentMethod(models.TextChoices):
    CARD = "card", "Card"
    BANK_TRANSFER = "bank_transfer", "Bank transfer"
    CHECK = "check", "Check"
    CASH = "cash", "Cash"
    OTHER = "other", "Other"


class PaymentStatus(models.TextChoices):
    AUTHORISED = "AUTHORISED", "Received"
    DELETED = "DELETED", "Deleted"


class Payment(ExternalRecord):
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    date = models.DateField()
    amount = models.DecimalField(**MONEY)
    account = models.ForeignKey(Account, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    method = models.CharField(max_length=16, choices=PaymentMethod.choices, default=PaymentMethod.OTHER)
    reference = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=16, choices=PaymentStatus.choices, default=PaymentStatus.AUTHORISED)

    class Meta:
        ordering = ["-date", "-id"]
        constraints = [
            ExternalRecord.external_id_constraint("payment_unique_external_id"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
        ]
        indexes = [models.Index(fields=["merchant", "-date", "-id"], name="payment_merchant_date")]

    def __str__(self) -> str:
        return f"{self.amount} on {self.date}"
