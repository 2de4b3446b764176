"""Reads for the portal's pages, always scoped to one merchant."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from portal.models import (
    Customer,
    CustomerStatus,
    Invoice,
    InvoiceStatus,
    InvoiceType,
    Merchant,
    Payment,
)

ZERO = Decimal("0.00")


def dashboard_figures(*, merchant: Merchant, today: dt.date | None = None) -> dict:
    today = today or timezone.localdate()
    open_receivables = Q(type=InvoiceType.RECEIVABLE, status=InvoiceStatus.AUTHORISED, amount_due__gt=0)
    figures = Invoice.objects.filter(merchant=merchant).aggregate(
        open_invoices=Count("id", filter=open_receivables),
        outstanding=Coalesce(Sum("amount_due", filter=open_receivables), ZERO),
        overdue=Coalesce(Sum("amount_due", filter=open_receivables & Q(due_date__lt=today)), ZERO),
        overdue_invoices=Count("id", filter=open_receivables & Q(due_date__lt=today)),
    )
    figures["customers"] = Customer.objects.filter(merchant=merchant, status=CustomerStatus.ACTIVE).count()
    return figures


def customer_list(*, merchant: Merchant, query: str = "", status: str = "") -> QuerySet[Customer]:
    qs = Customer.objects.filter(merchant=merchant)
    if status:
        qs = qs.filter(status=status)
    if query:
        qs = qs.filter(Q(name__icontains=query) | Q(email__icontains=query))
    return qs.only("id", "name", "email", "phone", "bill_city", "bill_region", "status").order_by("name", "id")


def invoice_list(
    *,
    merchant: Merchant,
    status: str = "",
    customer_id: int | None = None,
    number: str = "",
    type: str = "",
) -> QuerySet[Invoice]:
    qs = Invoice.objects.filter(merchant=merchant)
    if status:
        qs = qs.filter(status=status)
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    if type:
        qs = qs.filter(type=type)
    if number:
        qs = qs.filter(number__icontains=number)
    return (
        qs.select_related("customer")
        .only(
            "id",
            "number",
            "type",
            "date",
            "due_date",
            "status",
            "currency",
            "total",
            "amount_due",
            "customer__id",
            "customer__name",
        )
        .order_by("-date", "-id")
    )


def payment_list(*, merchant: Merchant) -> QuerySet[Payment]:
    return (
        Payment.objects.filter(merchant=merchant)
        .select_related("invoice", "invoice__customer", "account")
        .order_by("-date", "-id")
    )
