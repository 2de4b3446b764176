"""Write-back to Xero as rows: one per element to write (a fee line, a fee invoice, a portal invoice, contact or
payment), recorded before Xero is called, so every write lands exactly once and the sync queues can list them.

Also the add-on's write settings (status of pushed invoices, default revenue account, account and tax mappings).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from portal.models import Customer, Invoice, Item, Merchant, Payment
from portal.models.ledger import MONEY
from xero_sync.models.connection import XeroConnection


class WriteKind(models.TextChoices):
    FEE_LINE = "fee_line", "Fee line"
    FEE_INVOICE = "fee_invoice", "Fee invoice"
    INVOICE = "invoice", "Invoice"
    CONTACT = "contact", "Customer"
    ITEM = "item", "Item"
    PAYMENT = "payment", "Payment"


class WriteState(models.TextChoices):
    PENDING = "pending", "Waiting to sync"
    SENT = "sent", "Sent, awaiting Xero"  # the outcome is unknown until Xero answers or a read-back tells
    SYNCED = "synced", "Synced"
    FAILED = "failed", "Failed"
    HELD = "held", "Needs your action"
    DEQUEUED = "dequeued", "Dequeued"


class FeeKind(models.TextChoices):
    NONE = "", "—"
    LATE = "late", "Late fee"
    TECHNOLOGY = "technology", "Technology fee"


OPEN_STATES = (WriteState.PENDING, WriteState.SENT, WriteState.FAILED, WriteState.HELD)
HISTORY_STATES = (WriteState.SYNCED, WriteState.DEQUEUED)
PAYMENT_KINDS = (WriteKind.PAYMENT,)
OUTBOUND_KINDS = (WriteKind.FEE_LINE, WriteKind.FEE_INVOICE, WriteKind.INVOICE, WriteKind.CONTACT, WriteKind.ITEM)


class XeroWrite(models.Model):
    """One element to write to Xero: the Outbound and Payment Sync Queues list these rows.

    `idempotency_key` is derived from (record, fee, period) or (record, version), so the same intent always has
    the same key; a fee has at most one row per (invoice, fee kind, period), which is what makes it apply once.
    """

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=WriteKind.choices)
    state = models.CharField(max_length=10, choices=WriteState.choices, default=WriteState.PENDING)

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, null=True, blank=True, related_name="xero_writes")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, null=True, blank=True, related_name="xero_writes")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, null=True, blank=True, related_name="xero_writes")
    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, null=True, blank=True, related_name="xero_writes")
    # A payment by card waits for its technology fee line to land first.
    depends_on = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    fee_kind = models.CharField(max_length=12, choices=FeeKind.choices, blank=True, default="")
    fee_period = models.CharField(max_length=40, blank=True)  # "1", "2", … for late fees; "payment-<id>" for tech
    version = models.PositiveIntegerField(default=1)  # of the portal record, for invoice/contact pushes
    amount = models.DecimalField(**MONEY)
    label = models.CharField(max_length=255, blank=True)  # invoice number / contact name, for the queues
    detail = models.JSONField(default=dict, blank=True)  # e.g. the fee line's description, the fee invoice number

    idempotency_key = models.CharField(max_length=128)
    attempts = models.PositiveIntegerField(default=0)  # requests that carried this element
    failures = models.PositiveIntegerField(default=0)  # definite rejections by Xero; a new one = a new request key
    error_message = models.TextField(blank=True)
    hint_key = models.CharField(max_length=60, blank=True)
    reason = models.TextField(blank=True)  # why it is held, or why it was dequeued

    external_id = models.CharField(max_length=64, blank=True)  # the Xero id this write produced
    external_ids = models.JSONField(default=dict, blank=True)

    claimed_by = models.CharField(max_length=64, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    dequeued_at = models.DateTimeField(null=True, blank=True)
    dequeued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "idempotency_key"], name="xerowrite_unique_key"),
            models.UniqueConstraint(
                fields=["invoice", "fee_kind", "fee_period"],
                condition=~Q(fee_kind=""),
                name="xerowrite_one_fee_per_period",
            ),
        ]
        indexes = [
            models.Index(fields=["merchant", "state", "kind"], name="xerowrite_merchant_state"),
            models.Index(fields=["merchant", "kind", "-created_at"], name="xerowrite_merchant_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.label} ({self.state})"

    @property
    def since(self):
        """Since when it has been in its current situation (for "stuck since" in the queues)."""
        if self.state in HISTORY_STATES:
            return self.synced_at or self.dequeued_at or self.updated_at
        return self.created_at

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class InvoiceStatusOnPush(models.TextChoices):
    DRAFT = "DRAFT", "Draft"
    SUBMITTED = "SUBMITTED", "Submitted (Awaiting Approval)"
    AUTHORISED = "AUTHORISED", "Authorised (Awaiting Payment)"


class XeroWriteSettings(models.Model):
    """How portal invoices are written to Xero, set on the add-on page."""

    connection = models.OneToOneField(XeroConnection, on_delete=models.CASCADE, related_name="write_settings")
    invoice_status = models.CharField(
        "Status of invoices sent to Xero",
        max_length=12,
        choices=InvoiceStatusOnPush.choices,
        default=InvoiceStatusOnPush.AUTHORISED,
    )
    default_revenue_account_code = models.CharField("Default revenue account", max_length=10, blank=True)
    # {"LABOUR-HR": "200", ...}: the account code a line with that item/service books to.
    item_account_codes = models.JSONField(default=dict, blank=True)
    # {"Sales tax 8.25%": "OUTPUT", ...}: the Xero TaxType for a portal tax rate name (or tax type).
    tax_types = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"Write settings of {self.connection}"
