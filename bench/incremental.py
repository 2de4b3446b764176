"""Keeping in sync, measured in API calls against the sandbox over HTTP: an idle poll, and 200 webhook events.

    .venv/bin/python -m bench.incremental

Prints {"idle_poll_calls", "webhook_200_calls", ...} last. Targets: an idle poll makes ≤ 1 call per entity kind;
200 webhook events for 200 invoices are fetched with ≤ 5 GETs.
"""

from __future__ import annotations

import json

from bench import _django, _xero


def main() -> None:
    env = _xero.start("incremental", contacts=300, invoices=800, minute_seconds=5)
    try:
        from django.test import Client
        from django.utils import timezone

        from integrations.models import SyncRunKind
        from xero_sandbox.models import Invoice as SandboxInvoice
        from xero_sandbox.webhooks import webhook_signature
        from xero_sync.services.sync import INCREMENTAL_STEPS, sync_execute, sync_request

        def run(kind: str | None = None):
            queued = sync_request(connection=env.connection, kind=kind, enqueue=False)
            done = sync_execute(run_id=queued.pk)
            done.refresh_from_db()
            if done.state != "succeeded":
                raise SystemExit(f"{done.kind} sync did not succeed: {done.error_summary}")
            return done

        run(SyncRunKind.FIRST)
        idle = run(SyncRunKind.POLL)

        # 200 invoices change in Xero; Xero sends an event for each (some twice, out of order).
        changed = list(
            SandboxInvoice.objects.filter(org__tenant_id=env.tenant_id, status="AUTHORISED").order_by("?")[:200]
        )
        SandboxInvoice.objects.filter(pk__in=[i.pk for i in changed]).update(
            reference="Changed in Xero", updated_at=timezone.now()
        )
        events = [
            {
                "resourceUrl": f"{env.base_url}/sandbox/xero/api.xro/2.0/Invoices/{inv.id}",
                "resourceId": str(inv.id),
                "eventDateUtc": timezone.now().replace(tzinfo=None).isoformat(timespec="milliseconds"),
                "eventType": "UPDATE",
                "eventCategory": "INVOICE",
                "tenantId": env.tenant_id,
                "tenantType": "ORGANISATION",
            }
            for inv in changed
        ]
        client = Client()
        for start in range(0, len(events), 25):  # Xero batches events; send them in posts of 25, one repeated
            body = json.dumps(
                {
                    "events": events[start : start + 25] + events[start : start + 1],
                    "firstEventSequence": start,
                    "lastEventSequence": start + 25,
                    "entropy": "X",
                }
            ).encode()
            response = client.post(
                "/addons/xero/webhooks/",
                data=body,
                content_type="application/json",
                headers={"x-xero-signature": webhook_signature(key=_xero.WEBHOOK_KEY, body=body)},
            )
            assert response.status_code == 200, response.status_code
        webhook = run(SyncRunKind.WEBHOOK)
        from portal.models import Invoice

        converged = Invoice.objects.filter(merchant=env.connection.merchant, reference="Changed in Xero").count()
        result = {
            "idle_poll_calls": idle.api_calls,
            "idle_poll_entity_kinds": len(INCREMENTAL_STEPS),
            "webhook_200_calls": webhook.api_calls,
            "webhook_events": webhook.counts.get("webhook_events"),
            "invoices_converged": converged,
        }
    finally:
        env.stop()
    _django.emit(result)


if __name__ == "__main__":
    main()
