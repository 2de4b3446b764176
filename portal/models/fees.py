"""A merchant's fee rules (late fee and technology fee) and the counter that numbers invoices made in the portal."""

from __future__ import annotations

from decimal import Decimal

from django.db import models

from portal.models.accounts import Merchant
from portal.models.ledger import MONEY, CustomerType


class FeeType(models.TextChoices):
    FLAT = "flat", "Flat amount"
    PERCENT = "percent", "Percentage of the amount due"


class PaidInvoicePolicy(models.TextChoices):
    SEPARATE_INVOICE = "separate_invoice", "Raise the fee as a separate invoice"
    QUEUE = "queue", "Queue it for me to handle"


class FeeSettings(models.Model):
    """One per merchant. Late fee: `late_after_days` after the due date, then every `late_repeat_days`, at most
    `late_max_times` times and `late_cap` in total. Technology fee: added when an invoice is paid by card."""

    merchant = models.OneToOneField(Merchant, on_delete=models.CASCADE, related_name="fee_settings")

    late_enabled = models.BooleanField("Charge late fees", default=False)
    late_type = models.CharField(max_length=10, choices=FeeType.choices, default=FeeType.FLAT)
    late_value = models.DecimalField(max_digits=12, decimal_places=4, default=Decimal("0"))
    late_after_days = models.PositiveIntegerField("Late after (days past due)", default=30)
    late_repeat_days = models.PositiveIntegerField("Repeat every (days)", default=30)
    late_max_times = models.PositiveIntegerField("At most (times)", default=1)
    late_cap = models.DecimalField(
        "Cap (total late fees per invoice)", max_digits=14, decimal_places=2, null=True, blank=True
    )
    late_min_balance = models.DecimalField("Minimum balance", **MONEY)
    late_excluded_types = models.ManyToManyField(CustomerType, blank=True, related_name="+")
    late_terms = models.TextField("Terms shown on the invoice", blank=True)
    late_account_code = models.CharField("Late fee revenue account", max_length=10, blank=True)
    paid_invoice_policy = models.CharField(
        max_length=20, choices=PaidInvoicePolicy.choices, default=PaidInvoicePolicy.SEPARATE_INVOICE
    )

    tech_enabled = models.BooleanField("Charge a technology fee on card payments", default=False)
    tech_type = models.CharField(max_length=10, choices=FeeType.choices, default=FeeType.PERCENT)
    tech_value = models.DecimalField(max_digits=12, decimal_places=4, default=Decimal("0"))

    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Fee settings of {self.merchant}"


class InvoiceNumberSequence(models.Model):
    """The last number given to an invoice made in the portal: numbers only go up and are never reused."""

    merchant = models.OneToOneField(Merchant, on_delete=models.CASCADE, related_name="+")
    last_number = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.merchant}: {self.last_number}"
