"""Late fees on 1,000 overdue invoices, written to the sandbox over HTTP with Xero's limits.

    .venv/bin/python -m bench.fees --invoices 1000

Prints {"api_calls", "wall_s", "real_limit_s", "fee_lines", "rerun_writes", ...} as the last line.
Targets: ≤ 25 calls (batches of 50), fee_lines = 1,000 read back from the sandbox, 0 writes when run again.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from decimal import Decimal

from bench import _django, _xero


def overdue_invoices_create(connection, count: int) -> None:
    """Set-up (not measured): `count` authorised invoices, due 60 days ago, created through the API."""
    from xero_sandbox.models import Contact
    from xero_sync.services.api import client_for

    client = client_for(connection)
    contacts = list(
        Contact.objects.filter(org__tenant_id=connection.tenant_id, status="ACTIVE").values_list("id", flat=True)
    )
    today = dt.date.today()
    elements = [
        {
            "Type": "ACCREC",
            "InvoiceNumber": f"OVERDUE-{n:05d}",
            "Contact": {"ContactID": str(contacts[n % len(contacts)])},
            "Date": (today - dt.timedelta(days=90)).isoformat(),
            "DueDate": (today - dt.timedelta(days=60)).isoformat(),
            "Status": "AUTHORISED",
            "LineItems": [
                {"Description": "Labour", "Quantity": "2", "UnitAmount": "95.00", "AccountCode": "200"},
                {"Description": "Parts", "Quantity": "1", "UnitAmount": f"{10 + n % 90}.50", "AccountCode": "200"},
            ],
        }
        for n in range(count)
    ]
    for start in range(0, count, 50):
        client.put("Invoices", {"Invoices": elements[start : start + 50]}, idempotency_key=f"bench-setup-{start}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=1000)
    parser.add_argument("--minute-seconds", type=float, default=5, help="length of a rate-limit minute here")
    args = parser.parse_args()

    env = _xero.start("fees", contacts=200, invoices=0, minute_seconds=args.minute_seconds)
    try:
        from integrations.models import SyncRunKind
        from portal.models import FeeSettings
        from xero_sandbox.models import LineItem, RequestLog
        from xero_sync.services.fees import fees_apply
        from xero_sync.services.sync import sync_execute, sync_request

        connection = env.connection
        _django.log(f"creating {args.invoices} overdue invoices through the API …")
        overdue_invoices_create(connection, args.invoices)
        run = sync_request(connection=connection, kind=SyncRunKind.FIRST, enqueue=False)
        sync_execute(run_id=run.pk)
        FeeSettings.objects.update_or_create(
            merchant=connection.merchant,
            defaults={"late_enabled": True, "late_type": "percent", "late_value": Decimal("1.5")},
        )
        time.sleep(args.minute_seconds)  # start with a fresh rate-limit minute, as after midnight
        _django.log("applying late fees …")
        started = time.perf_counter()
        outcome = fees_apply(connection=connection)
        wall = time.perf_counter() - started

        writes = RequestLog.objects.filter(method__in=["PUT", "POST"]).count()
        again = fees_apply(connection=connection)
        rerun_writes = RequestLog.objects.filter(method__in=["PUT", "POST"]).count() - writes
        fee_lines = LineItem.objects.filter(invoice__org__tenant_id=connection.tenant_id, item_code="LATE-FEE").count()
        result = {
            "api_calls": outcome.calls,
            "wall_s": round(wall, 2),
            "real_limit_s": _xero.real_limit_s(calls=outcome.calls, wall_s=wall, minute_seconds=env.minute_seconds),
            "fee_lines": fee_lines,
            "rerun_writes": rerun_writes,
            "rerun_calls": again.calls,
            "fees_synced": outcome.synced,
            "fees_failed": outcome.failed,
        }
    finally:
        env.stop()
    _django.emit(result)


if __name__ == "__main__":
    main()
