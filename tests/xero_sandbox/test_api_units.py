"""Sandbox API building blocks without HTTP: Xero's arithmetic, /Date()/ stamps, where and order parsing."""

import datetime as dt
from decimal import Decimal

import pytest

from xero_sandbox.api import totals
from xero_sandbox.api.errors import QueryInvalid
from xero_sandbox.api.selectors import order_by, where_q
from xero_sandbox.api.serialise import msdate, parse_date, parse_datetime_header
from xero_sandbox.models import Invoice

D = Decimal


@pytest.mark.parametrize(
    ("quantity", "unit", "discount", "expected"),
    [
        (D(3), D("19.99"), None, D("59.97")),
        (D("0.333"), D("10"), None, D("3.33")),
        (D(4), D(25), D(15), D("85.00")),
        (D(1), D("0.125"), None, D("0.13")),  # half-up to cents
    ],
)
def test_line_amount(quantity, unit, discount, expected):
    assert totals.line_amount(quantity, unit, discount) == expected


@pytest.mark.parametrize(
    ("amount", "rate", "kind", "expected"),
    [
        (D("100.00"), D("8.875"), "Exclusive", D("8.88")),
        (D("108.88"), D("8.875"), "Inclusive", D("8.88")),
        (D("100.00"), D("8.875"), "NoTax", D("0.00")),
        (D("0.05"), D("8.875"), "Exclusive", D("0.00")),
    ],
)
def test_line_tax(amount, rate, kind, expected):
    assert totals.line_tax(amount, rate, kind) == expected


def test_invoice_totals_sum_rounded_line_taxes():
    # Per-line rounding: 3 x 0.0444 would be 0.13 if rounded once on the sum; Xero rounds each line.
    lines = [(D("0.50"), totals.line_tax(D("0.50"), D("8.875"), "Exclusive"), D(0))] * 3
    result = totals.invoice_totals(lines, "Exclusive")
    assert (result.sub_total, result.total_tax, result.total) == (D("1.50"), D("0.12"), D("1.62"))
    inclusive = totals.invoice_totals([(D("108.88"), D("8.88"), D(0))], "Inclusive")
    assert (inclusive.sub_total, inclusive.total) == (D("100.00"), D("108.88"))


def test_msdate_and_parse_date():
    assert msdate(dt.date(2018, 10, 20)) == "/Date(1539993600000+0000)/"
    assert msdate(dt.datetime(2018, 10, 20, 0, 0, 1, 500000, tzinfo=dt.UTC)) == "/Date(1539993601500+0000)/"
    assert parse_date("/Date(1539993600000+0000)/") == dt.date(2018, 10, 20)
    assert parse_date("/Date(1539993600000)/") == dt.date(2018, 10, 20)
    assert parse_date("2018-10-20T00:00:00") == dt.date(2018, 10, 20)
    with pytest.raises(ValueError):
        parse_date("20/10/2018")


def test_if_modified_since_forms():
    expected = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)
    assert parse_datetime_header("2026-11-20T10:00:00") == expected
    assert parse_datetime_header("2026-11-20T10:00:00Z") == expected
    assert parse_datetime_header("Fri, 20 Nov 2026 10:00:00 GMT") == expected
    assert parse_datetime_header("yesterday") is None


def test_where_parsing():
    assert str(where_q("Invoices", 'Status=="PAID"', Invoice)) == str(where_q("Invoices", 'Status == "PAID"', Invoice))
    q = where_q("Invoices", 'Type=="ACCREC" AND (Status=="DRAFT" OR AmountDue>=10.5)', Invoice)
    assert "amount_due__gte" in str(q)
    assert "contact__name__icontains" in str(where_q("Invoices", 'Contact.Name.Contains("bak")', Invoice))
    for bad in ("Status==", "Nope==1", 'Status=="A" AND', "Status ~ 1"):
        with pytest.raises(QueryInvalid):
            where_q("Invoices", bad, Invoice)


def test_order_parsing():
    assert order_by("Invoices", "InvoiceNumber DESC, Date", ("updated_at",)) == ("-number", "date", "id")
    assert order_by("Invoices", "", ("updated_at",)) == ("updated_at", "id")
    with pytest.raises(QueryInvalid):
        order_by("Invoices", "Bogus", ())
