"""Push 500 portal invoices to the sandbox over HTTP with Xero's limits.

    .venv/bin/python -m bench.push --invoices 500

Prints {"api_calls", "wall_s", ...} as the last line. Target: ≤ 15 calls (batches of 50).
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from decimal import Decimal

from bench import _django, _xero


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=500)
    parser.add_argument("--minute-seconds", type=float, default=5, help="length of a rate-limit minute here")
    args = parser.parse_args()

    env = _xero.start("push", contacts=100, invoices=50, minute_seconds=args.minute_seconds)
    try:
        from integrations.models import SyncRunKind
        from portal import billing
        from portal.models import Customer, Invoice
        from xero_sandbox.models import Invoice as XInvoice
        from xero_sync.services.push import push_run, write_settings_for
        from xero_sync.services.sync import sync_execute, sync_request

        connection = env.connection
        merchant = connection.merchant
        run = sync_request(connection=connection, kind=SyncRunKind.FIRST, enqueue=False)
        sync_execute(run_id=run.pk)
        settings = write_settings_for(connection)
        settings.default_revenue_account_code = "200"
        settings.save()
        customers = list(Customer.objects.filter(merchant=merchant, status="active").exclude(external_id=None))
        today = dt.date.today()
        _django.log(f"creating {args.invoices} invoices in the portal …")
        for n in range(args.invoices):
            billing.invoice_create(
                merchant=merchant,
                customer=customers[n % len(customers)],
                date=today,
                due_date=today + dt.timedelta(days=30),
                lines=[
                    billing.LineInput("Labour", Decimal("2"), Decimal("95.00")),
                    billing.LineInput("Parts", Decimal("1"), Decimal(f"{10 + n % 90}.50")),
                ],
            )
        time.sleep(args.minute_seconds)  # a fresh rate-limit minute
        _django.log("pushing …")
        started = time.perf_counter()
        outcome = push_run(connection=connection)
        wall = time.perf_counter() - started
        numbers = list(
            Invoice.objects.filter(merchant=merchant, number__regex=r"^\d+$").values_list("number", flat=True)
        )
        landed = XInvoice.objects.filter(org__tenant_id=connection.tenant_id, number__in=numbers).count()
        result = {
            "api_calls": outcome.calls,
            "wall_s": round(wall, 2),
            "real_limit_s": _xero.real_limit_s(calls=outcome.calls, wall_s=wall, minute_seconds=env.minute_seconds),
            "invoices_in_xero": landed,
            "failed": outcome.failed,
        }
    finally:
        env.stop()
    _django.emit(result)


if __name__ == "__main__":
    main()
