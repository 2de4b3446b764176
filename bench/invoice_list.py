"""Benchmark: the invoice list page at 50,000 invoices (3 lines each) across 5,000 customers.

Run from the project root: `.venv/bin/python -m bench.invoice_list` (SQLite in a temp dir; with DATABASE_URL
set to PostgreSQL, a scratch database on that server). Prints the median server time of the first page, a
status filter and a number search, plus queries per page, as one JSON line last. Target: under 150 ms each.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import re
import time
from decimal import Decimal

from bench import _django

TARGET_MS = 150
ROW_LINK = re.compile(r'href="/invoices/\d+/"')  # one link per invoice row
CHUNK = 5_000


def seed(*, customers: int, invoices: int, lines_per_invoice: int) -> tuple:
    """Bulk-insert a merchant's ledger; returns (merchant, admin user)."""
    from django.db import transaction

    from portal.models import (
        Customer,
        Invoice,
        InvoiceLine,
        InvoiceStatus,
        InvoiceType,
        Membership,
        Merchant,
        Role,
        User,
    )

    rnd = random.Random(42)
    start = time.perf_counter()
    with transaction.atomic():
        merchant = Merchant.objects.create(name="Bench Plumbing", slug="bench-plumbing")
        # A second merchant with a little data, so every query really has to filter by merchant.
        other = Merchant.objects.create(name="Other Merchant", slug="other-merchant")
        admin = User.objects.create_user(email="admin@bench.example", password=None)
        Membership.objects.create(user=admin, merchant=merchant, role=Role.ADMIN)

        people = Customer.objects.bulk_create(
            [
                Customer(merchant=merchant, name=f"Customer {i:05d}", email=f"c{i}@bench.example")
                for i in range(customers)
            ],
            batch_size=CHUNK,
        )
        stranger = Customer.objects.create(merchant=other, name="Someone Else")
        Invoice.objects.bulk_create(
            [
                Invoice(merchant=other, customer=stranger, number=f"INV-{i:06d}", date=dt.date(2026, 1, 1))
                for i in range(1, 501)
            ]
        )

        statuses = (
            [InvoiceStatus.PAID] * 60
            + [InvoiceStatus.AUTHORISED] * 25
            + [InvoiceStatus.DRAFT] * 8
            + [InvoiceStatus.VOIDED] * 5
            + [InvoiceStatus.SUBMITTED] * 2
        )
        first_day = dt.date(2024, 1, 1)
        for offset in range(0, invoices, CHUNK):
            batch = []
            for n in range(offset, min(offset + CHUNK, invoices)):
                status = rnd.choice(statuses)
                day = first_day + dt.timedelta(days=n * 1000 // invoices)
                total = Decimal(rnd.randint(5_000, 500_000)) / 100
                batch.append(
                    Invoice(
                        merchant=merchant,
                        customer=people[rnd.randrange(customers)],
                        number=f"INV-{n + 1:06d}",
                        type=InvoiceType.PAYABLE if n % 20 == 0 else InvoiceType.RECEIVABLE,
                        date=day,
                        due_date=day + dt.timedelta(days=30),
                        status=status,
                        subtotal=total,
                        total=total,
                        amount_paid=total if status == InvoiceStatus.PAID else Decimal("0"),
                        amount_due=Decimal("0") if status in (InvoiceStatus.PAID, InvoiceStatus.VOIDED) else total,
                    )
                )
            created = Invoice.objects.bulk_create(batch)
            InvoiceLine.objects.bulk_create(
                [
                    InvoiceLine(
                        merchant=merchant,
                        invoice=invoice,
                        position=p,
                        description=f"Line {p + 1}",
                        quantity=Decimal("1"),
                        unit_amount=invoice.total / lines_per_invoice,
                        amount=(invoice.total / lines_per_invoice).quantize(Decimal("0.01")),
                    )
                    for invoice in created
                    for p in range(lines_per_invoice)
                ],
                batch_size=CHUNK,
            )
    _django.refresh_statistics()
    _django.log(
        f"seeded {customers:,} customers, {invoices:,} invoices, {invoices * lines_per_invoice:,} lines "
        f"in {time.perf_counter() - start:.1f}s"
    )
    return merchant, admin


def analyse() -> None:
    """Print the plans of the list page's queries (stderr), to see which index each one uses."""
    from django.db import connection

    from portal import selectors
    from portal.models import Merchant

    merchant = Merchant.objects.get(slug="bench-plumbing")
    cases = {
        "first page": selectors.invoice_list(merchant=merchant),
        "status": selectors.invoice_list(merchant=merchant, status="AUTHORISED"),
        "search": selectors.invoice_list(merchant=merchant, number="4213"),
    }
    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN ANALYZE "
    for label, qs in cases.items():
        # The two queries a page runs: the paginator's COUNT and the page's rows.
        for what, query in (("count", qs.order_by().values("pk")), ("rows", qs[:25])):
            sql, params = query.query.sql_with_params()
            if what == "count":
                sql = f"SELECT COUNT(*) FROM ({sql}) sub"
            with connection.cursor() as cursor:
                cursor.execute(prefix + sql, params)
                plan = "\n    ".join(str(row[-1]) for row in cursor)
            _django.log(f"{label} / {what}:\n    {plan}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--invoices", type=int, default=50_000)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--lines", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--explain", action="store_true", help="print query plans to stderr")
    args = parser.parse_args()

    db = _django.setup("invoice_list")
    _django.log(f"database: {db.description}")
    merchant, admin = seed(customers=args.customers, invoices=args.invoices, lines_per_invoice=args.lines)

    from django.test import Client

    from portal.models import Invoice, InvoiceStatus

    client = Client()
    client.force_login(admin)
    search = "4213"
    expected = {
        "page": ("/invoices/", min(25, args.invoices)),
        "filtered": (
            "/invoices/?status=AUTHORISED",
            min(25, Invoice.objects.filter(merchant=merchant, status=InvoiceStatus.AUTHORISED).count()),
        ),
        "search": (
            f"/invoices/?q={search}",
            min(25, Invoice.objects.filter(merchant=merchant, number__contains=search).count()),
        ),
    }

    result = {}
    queries = 0
    for key, (url, rows) in expected.items():

        def get(url=url, rows=rows):
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            # Count rows in the HTML (response.context would need test instrumentation, which slows rendering).
            assert len(ROW_LINK.findall(response.content.decode())) == rows, url
            return response

        result[f"{key}_ms"] = _django.median_ms(get, repeat=args.repeat)
        queries = max(queries, _django.query_count(get))
        _django.log(f"{url}: {result[f'{key}_ms']} ms median over {args.repeat}, {rows} rows")
    result["queries"] = queries

    if args.explain:
        analyse()
    misses = [k for k, v in result.items() if k.endswith("_ms") and v >= TARGET_MS]
    _django.log("all under target" if not misses else f"over {TARGET_MS} ms: {', '.join(misses)}")
    _django.emit(
        {
            "page_ms": result["page_ms"],
            "filtered_ms": result["filtered_ms"],
            "search_ms": result["search_ms"],
            "queries": result["queries"],
        }
    )


if __name__ == "__main__":
    main()
