"""Benchmark: seed a sandbox Xero organisation with 100,000 invoices (1-3 lines each) into a throw-away database.

Run from the project root: `.venv/bin/python -m bench.sandbox_seed --invoices 100000` (SQLite in a temp dir;
with DATABASE_URL pointing at PostgreSQL, a scratch database there). Prints one JSON line last:
{"invoices", "lines", "payments", "contacts", "seconds", "target_seconds"}. Target: under 120 seconds.
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
    _django.emit(
        {
            "invoices": Invoice.objects.filter(org=org).count(),
            "lines": LineItem.objects.filter(invoice__org=org).count(),
            "payments": Payment.objects.filter(org=org).count(),
            "contacts": Contact.objects.filter(org=org).count(),
            "seconds": seconds,
            "target_seconds": TARGET_SECONDS,
            "database": db.vendor,
        }
    )


if __name__ == "__main__":
    main()
