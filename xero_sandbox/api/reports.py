"""The two reports the add-on reads (Profit and Loss, Aged Receivables by Contact) as Xero's rows of string cells."""

import calendar
import datetime as dt
from decimal import Decimal

from django.db.models import F, Sum
from django.utils import timezone

from xero_sandbox.api.serialise import msdate
from xero_sandbox.models import Account, Contact, Invoice, InvoiceStatus, InvoiceType, LineItem, Organisation

POSTED = (InvoiceStatus.AUTHORISED, InvoiceStatus.PAID)
INCOME_TYPES = ("REVENUE", "SALES", "OTHERINCOME")
COST_OF_SALES_TYPES = ("DIRECTCOSTS",)


def _long(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def _cell(value, account: Account | None = None, attr_id: str = "account") -> dict:
    cell = {"Value": value}
    if account is not None:
        cell["Attributes"] = [{"Value": str(account.id), "Id": attr_id}]
    return cell


def _amount(value: Decimal) -> str:
    return f"{value:.2f}"


def _report(*, report_id: str, name: str, titles: list[str], rows: list[dict]) -> dict:
    return {
        "ReportID": report_id,
        "ReportName": name,
        "ReportType": report_id,
        "ReportTitles": titles,
        "ReportDate": _long(timezone.now().date()),
        "UpdatedDateUTC": msdate(timezone.now()),
        "Fields": [],
        "Rows": rows,
    }


def profit_and_loss(*, org: Organisation, from_date: dt.date | None, to_date: dt.date | None) -> dict:
    """Accrual-basis P&L: posted sales lines by revenue account, posted bill lines by expense account."""
    today = timezone.now().date()
    if from_date is None and to_date is None:
        from_date = today.replace(day=1)
        to_date = today.replace(day=calendar.monthrange(today.year, today.month)[1])
    from_date = from_date or (to_date.replace(day=1) if to_date else today.replace(day=1))
    to_date = to_date or today
    lines = (
        LineItem.objects.filter(
            invoice__org=org, invoice__status__in=POSTED, invoice__date__gte=from_date, invoice__date__lte=to_date
        )
        .values("invoice__type", "account_code", "invoice__line_amount_types")
        .annotate(amount=Sum("line_amount"), tax=Sum("tax_amount"))
    )
    by_account: dict[tuple[str, str], Decimal] = {}
    for row in lines:
        amount = row["amount"] or Decimal(0)
        if row["invoice__line_amount_types"] == "Inclusive":
            amount -= row["tax"] or Decimal(0)
        key = (row["invoice__type"], row["account_code"])
        by_account[key] = by_account.get(key, Decimal(0)) + amount
    accounts = {a.code: a for a in Account.objects.filter(org=org).exclude(code="")}

    def section(title: str, total_title: str, invoice_type: str, types: tuple[str, ...] | None, exclude=()):
        rows, total = [], Decimal(0)
        for (kind, code), amount in sorted(by_account.items(), key=lambda kv: kv[0][1]):
            account = accounts.get(code)
            if kind != invoice_type or account is None:
                continue
            if types is not None and account.type not in types:
                continue
            if account.type in exclude:
                continue
            total += amount
            rows.append({"RowType": "Row", "Cells": [_cell(account.name, account), _cell(_amount(amount), account)]})
        rows.append({"RowType": "SummaryRow", "Cells": [_cell(total_title), _cell(_amount(total))]})
        return {"RowType": "Section", "Title": title, "Rows": rows}, total

    income, income_total = section("Income", "Total Income", InvoiceType.ACCREC, INCOME_TYPES)
    cost, cost_total = section("Less Cost of Sales", "Total Cost of Sales", InvoiceType.ACCPAY, COST_OF_SALES_TYPES)
    expenses, expenses_total = section(
        "Less Operating Expenses", "Total Operating Expenses", InvoiceType.ACCPAY, None, COST_OF_SALES_TYPES
    )
    gross = income_total - cost_total
    rows = [
        {"RowType": "Header", "Cells": [_cell(""), _cell(f"{to_date:%d %b %y}")]},
        income,
        cost,
        {
            "RowType": "Section",
            "Title": "",
            "Rows": [{"RowType": "Row", "Cells": [_cell("Gross Profit"), _cell(_amount(gross))]}],
        },
        expenses,
        {
            "RowType": "Section",
            "Title": "",
            "Rows": [{"RowType": "Row", "Cells": [_cell("Net Profit"), _cell(_amount(gross - expenses_total))]}],
        },
    ]
    titles = ["Profit & Loss", org.name, f"For the period {_long(from_date)} to {_long(to_date)}"]
    return _report(report_id="ProfitAndLoss", name="Profit and Loss", titles=titles, rows=rows)


def aged_receivables_by_contact(
    *, org: Organisation, contact: Contact, date: dt.date | None, from_date: dt.date | None, to_date: dt.date | None
) -> dict:
    """Outstanding sales invoices of one contact at a date, with totals."""
    date = date or timezone.now().date()
    invoices = Invoice.objects.filter(
        org=org, contact=contact, type=InvoiceType.ACCREC, status=InvoiceStatus.AUTHORISED, date__lte=date
    ).filter(amount_due__gt=0)
    if from_date:
        invoices = invoices.filter(date__gte=from_date)
    if to_date:
        invoices = invoices.filter(date__lte=to_date)
    invoices = invoices.order_by("date", "number").annotate(paid=F("amount_paid"))
    header = ["Date", "Reference", "Due Date", "", "Total", "Paid", "Credited", "Due"]
    rows = []
    sums = [Decimal(0)] * 4
    for invoice in invoices:
        values = [invoice.total, invoice.amount_paid, invoice.amount_credited, invoice.amount_due]
        sums = [a + b for a, b in zip(sums, values, strict=True)]
        attrs = [{"Value": str(invoice.id), "Id": "invoiceID"}]
        cells = [
            {"Value": f"{invoice.date.isoformat()}T00:00:00", "Attributes": attrs},
            {"Value": invoice.number or invoice.reference, "Attributes": attrs},
            {"Value": f"{invoice.due_date.isoformat()}T00:00:00" if invoice.due_date else "", "Attributes": attrs},
            {"Value": ""},
            *({"Value": _amount(v), "Attributes": attrs} for v in values),
        ]
        rows.append({"RowType": "Row", "Cells": cells})
    rows.append(
        {
            "RowType": "SummaryRow",
            "Cells": [_cell("Total"), _cell(""), _cell(""), _cell(""), *(_cell(_amount(v)) for v in sums)],
        }
    )
    titles = ["Invoices", contact.name, f"To {_long(date)}", "Showing payments to " + _long(date)]
    return _report(
        report_id="AgedReceivablesByContact",
        name="Aged Receivables By Contact",
        titles=titles,
        rows=[
            {"RowType": "Header", "Cells": [_cell(h) for h in header]},
            {"RowType": "Section", "Title": "", "Rows": rows},
        ],
    )
