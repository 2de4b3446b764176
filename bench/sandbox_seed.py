"""Benchmark: seed a sandbox Xero organisation with 100,000 invoices (1-3 lines each) into a throw-away database.

Run from the project root: `.venv/bin/python -m bench.sandbox_seed --invoices 100000` (SQLite in a temp dir;
with DATABASE_URL pointing at PostgreSQL, a scratch database there). Then serves GET /Invoices?page=N&pageSize=1000
(with line items) through the real gate and view a few times. Prints one JSON line last:
{"invoices", "lines", "payments", "contacts", "seconds", "target_seconds", "page_1000_ms", ...}.
Target: seeding under 120 seconds.
"""

from __future__ import annotations

import argparse
import time

from bench import _django

TARGET_SECONDS = 120


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--contacts", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    db = _django.setup("sandbox_seed", migrate=False)
    from django.core.management import call_command

    # xero_sandbox has no migrations while it is being built: create its tables straight from the models.
    call_command("migrate", run_syncdb=True, verbosity=0, interactive=False)
    _django.log(f"seeding {args.invoices} invoices, {args.contacts} contacts into {db.description}")

    from xero_sandbox.models import Contact, Invoice, LineItem, Payment
    from xero_sandbox.seed import seed_organisation

    start = time.perf_counter()
    org = seed_organisation("Bench Org", contacts=args.contacts, invoices=args.invoices, seed=args.seed)
    seconds = round(time.perf_counter() - start, 1)
    page_ms, page_queries = _page_timing(org, args.invoices)
    _django.emit(
        {
            "invoices": Invoice.objects.filter(org=org).count(),
            "lines": LineItem.objects.filter(invoice__org=org).count(),
            "payments": Payment.objects.filter(org=org).count(),
            "contacts": Contact.objects.filter(org=org).count(),
            "seconds": seconds,
            "target_seconds": TARGET_SECONDS,
            "page_1000_ms": page_ms,
            "page_1000_queries": page_queries,
            "database": db.vendor,
        }
    )


def _page_timing(org, invoices: int) -> tuple[float, int]:
    """Median time to serve a middle page of 1000 invoices with lines through the gate and the view."""
    from django.test import RequestFactory, override_settings

    from xero_sandbox.api import views
    from xero_sandbox.testing import sandbox_token

    token = sandbox_token(org)
    page = max(1, invoices // 2000)
    factory = RequestFactory()

    def serve():
        request = factory.get(
            "/sandbox/xero/api.xro/2.0/Invoices",
            {"page": page, "pageSize": 1000},
            HTTP_AUTHORIZATION=f"Bearer {token['access_token']}",
            HTTP_XERO_TENANT_ID=str(org.tenant_id),
        )
        response = views.invoices(request)
        assert response.status_code == 200, response.content[:200]
        return response

    # Benchmarks are not about the rate limit; lift it for the timing loop.
    with override_settings(XERO_SANDBOX_MINUTE_LIMIT=10**6, XERO_SANDBOX_DAY_LIMIT=10**6):
        return _django.median_ms(serve, repeat=7, warmup=1), _django.query_count(serve)


if __name__ == "__main__":
    main()
