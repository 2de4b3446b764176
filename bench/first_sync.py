"""First sync of a merchant against the sandbox over HTTP, with Xero's limits.

    .venv/bin/python -m bench.first_sync --contacts 300 --invoices 500
    .venv/bin/python -m bench.first_sync --contacts 10000 --invoices 50000

Prints {"api_calls", "wall_s", "invoices_per_s", "peak_rss_mb", "real_limit_s", ...} as the last line.
Targets: typical ≤ 10 calls and < 10 s; large ≤ 80 calls, ≥ 3,000 invoices stored per second, < 300 MB.
"""

from __future__ import annotations

import argparse
import time

from bench import _django, _xero


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=300)
    parser.add_argument("--invoices", type=int, default=500)
    parser.add_argument("--minute-seconds", type=float, default=5, help="length of a rate-limit minute here")
    args = parser.parse_args()

    env = _xero.start("first_sync", contacts=args.contacts, invoices=args.invoices, minute_seconds=args.minute_seconds)
    try:
        from integrations.models import SyncRunKind
        from portal.models import Customer, Invoice, InvoiceLine
        from xero_sync.services.sync import sync_execute, sync_request

        merchant = env.connection.merchant
        run = sync_request(connection=env.connection, kind=SyncRunKind.FIRST, enqueue=False)
        _django.log("first sync …")
        step_started: dict[str, float] = {}

        def watch(current) -> None:
            step_started.setdefault(current.current_step, time.perf_counter())

        started = time.perf_counter()
        run = sync_execute(run_id=run.pk, on_progress=watch)
        wall = time.perf_counter() - started
        steps = list(step_started)
        after_invoices = steps[steps.index("invoices") + 1] if "invoices" in steps[:-1] else None
        invoices_s = (step_started[after_invoices] if after_invoices else started + wall) - step_started["invoices"]
        run.refresh_from_db()
        if run.state != "succeeded":
            raise SystemExit(f"sync did not succeed: {run.state} {run.error_summary}")
        invoices = Invoice.objects.filter(merchant=merchant).count()
        result = {
            "api_calls": run.api_calls,
            "wall_s": round(wall, 2),
            # Invoices stored per second while the invoices step ran; the whole run's rate is next to it.
            "invoices_per_s": round(invoices / invoices_s, 1),
            "overall_invoices_per_s": round(invoices / wall, 1),
            "peak_rss_mb": _xero.peak_rss_mb(),
            "real_limit_s": _xero.real_limit_s(calls=run.api_calls, wall_s=wall, minute_seconds=env.minute_seconds),
            "invoices": invoices,
            "invoice_lines": InvoiceLine.objects.filter(merchant=merchant).count(),
            "customers": Customer.objects.filter(merchant=merchant).count(),
        }
    finally:
        env.stop()
    _django.emit(result)


if __name__ == "__main__":
    main()
