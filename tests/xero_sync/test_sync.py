"""Syncing from Xero against the sandbox: first sync in order with bulk writes, paging, resume after a kill,
incremental syncs that see paid/voided/deleted/archived changes, webhooks, Auto-sync off, one run at a time."""

import datetime as dt
import json
from decimal import Decimal
from unittest import mock

import pytest
from django.urls import reverse

from integrations.models import SyncError, SyncRun, SyncRunKind, SyncRunState
from portal.models import Account, Customer, CustomerStatus, CustomerType, Invoice, InvoiceLine, InvoiceStatus, Item
from tests.xero_sync.conftest import WEBHOOK_KEY
from xero_sandbox import testing as sandbox
from xero_sandbox.models import Contact, RequestLog
from xero_sandbox.models import Invoice as XInvoice
from xero_sync.models import XeroSyncState, XeroWebhookEvent
from xero_sync.services import pull
from xero_sync.services.sync import SyncBusy, sync_execute, sync_request, sync_state_for

pytestmark = pytest.mark.django_db


def run_sync(connection, kind=None):
    run = sync_request(connection=connection, kind=kind, enqueue=False)
    return sync_execute(run_id=run.pk)


def api_paths(org):
    return list(RequestLog.objects.filter(organisation=org).order_by("id").values_list("method", "path", "query"))


def test_first_sync_in_order_with_few_calls(connection, xero_org):
    run = run_sync(connection)
    run.refresh_from_db()
    assert run.kind == SyncRunKind.FIRST
    assert run.state == SyncRunState.SUCCEEDED, run.error_summary

    endpoints = [path.rsplit("/", 1)[-1] for _method, path, _query in api_paths(xero_org)]
    order = [e for e in endpoints if e in {"Accounts", "Items", "Contacts", "Invoices", "ContactGroups"}]
    assert order == ["Accounts", "Items", "Items", "Contacts", "Invoices", "ContactGroups"]  # GET + PUT Items
    assert len(endpoints) <= 10
    assert run.api_calls == len(endpoints)

    merchant = connection.merchant
    x_accounts = xero_org.accounts.count() if hasattr(xero_org, "accounts") else None
    assert Account.objects.filter(merchant=merchant).count() == (
        x_accounts or Account.objects.filter(merchant=merchant).count()
    )
    assert {"LATE-FEE", "TECH-FEE", "REFUND"} <= set(
        Item.objects.filter(merchant=merchant).values_list("code", flat=True)
    )
    x_contacts = Contact.objects.filter(org=xero_org)
    assert Customer.objects.filter(merchant=merchant).count() == x_contacts.count()
    assert (
        Customer.objects.filter(merchant=merchant, status=CustomerStatus.ARCHIVED).count()
        == x_contacts.filter(status="ARCHIVED").count()
    )
    open_in_xero = XInvoice.objects.filter(org=xero_org, status="AUTHORISED")
    assert Invoice.objects.filter(merchant=merchant).count() == open_in_xero.count() > 0
    for xinv in open_in_xero[:10]:
        local = Invoice.objects.get(merchant=merchant, external_id=str(xinv.id))
        assert local.amount_due == xinv.amount_due
        assert local.total == xinv.total
        assert local.lines.count() == xinv.lines.count()
    assert CustomerType.objects.filter(merchant=merchant).exists()
    assert Customer.types.through.objects.filter(customer__merchant=merchant).exists()

    state = sync_state_for(connection)
    assert state.first_sync_done_at is not None
    assert {"accounts", "contacts", "invoices", "payments"} <= set(state.watermarks)


def test_system_items_created_only_if_missing(connection, xero_org):
    run_sync(connection)
    puts = [q for m, p, q in api_paths(xero_org) if m == "PUT" and p.endswith("/Items")]
    assert len(puts) == 1
    RequestLog.objects.all().delete()
    run_sync(connection, kind=SyncRunKind.RECONCILE)
    assert not [m for m, p, q in api_paths(xero_org) if m == "PUT"]


def test_paging_across_boundaries(merchant, xero_wire, sandbox_owner, connection, xero_org):
    existing = Contact.objects.filter(org=xero_org).count()
    Contact.objects.bulk_create(
        [
            Contact(org=xero_org, name=f"Bulk Contact {n:04d}", status="ACTIVE", updated_at=xero_org.created_at)
            for n in range(2050 - existing)
        ]
    )
    run_sync(connection)
    contact_pages = [q for m, p, q in api_paths(xero_org) if p.endswith("/Contacts")]
    assert len(contact_pages) == 3  # 1000 + 1000 + 50
    assert Customer.objects.filter(merchant=merchant).count() == 2050


def test_killed_first_sync_resumes_without_duplicates(connection, xero_org):
    calls = {"n": 0}
    real = pull.invoices_store

    def die_after_first_page(ctx, invoices):
        calls["n"] += 1
        real(ctx, invoices)
        raise KeyboardInterrupt("worker killed")  # not an Exception: nothing inside may swallow it

    with mock.patch.object(pull, "invoices_store", die_after_first_page), pytest.raises(KeyboardInterrupt):
        run_sync(connection)
    state = sync_state_for(connection)
    assert state.first_sync_done_at is None
    assert state.checkpoint["step"] == "invoices"
    # The killed worker's lease would time out; simulate that.
    XeroSyncState.objects.filter(pk=state.pk).update(lease_until=None, lease_owner="")
    SyncRun.objects.update(state=SyncRunState.FAILED)
    RequestLog.objects.all().delete()

    run = run_sync(connection)
    run.refresh_from_db()
    assert run.state == SyncRunState.SUCCEEDED
    endpoints = [p.rsplit("/", 1)[-1] for m, p, q in api_paths(xero_org)]
    assert "Accounts" not in endpoints and "Contacts" not in endpoints  # finished before the kill
    ids = list(Invoice.objects.filter(merchant=connection.merchant).values_list("external_id", flat=True))
    assert len(ids) == len(set(ids)) == XInvoice.objects.filter(org=xero_org, status="AUTHORISED").count()
    assert InvoiceLine.objects.filter(merchant=connection.merchant).count() == sum(
        x.lines.count() for x in XInvoice.objects.filter(org=xero_org, status="AUTHORISED")
    )


def test_idle_incremental_sync_makes_one_call_per_entity(connection, xero_org):
    run_sync(connection)
    RequestLog.objects.all().delete()
    run = run_sync(connection)
    run.refresh_from_db()
    assert run.kind == SyncRunKind.MANUAL and run.state == SyncRunState.SUCCEEDED
    calls = api_paths(xero_org)
    assert len(calls) == 5
    assert all(m == "GET" for m, _p, _q in calls)


def _api(connection):
    from xero_sync.services.api import client_for

    return client_for(connection)


def test_incremental_sync_sees_payment_void_delete_and_archive(connection, xero_org):
    run_sync(connection)
    client = _api(connection)
    open_invoices = list(XInvoice.objects.filter(org=xero_org, status="AUTHORISED", type="ACCREC").order_by("number"))
    unpaid = [i for i in open_invoices if not i.amount_paid]
    paid, voided = unpaid[0], unpaid[1]
    body = client.put(
        "Payments",
        {
            "Payments": [
                {
                    "Invoice": {"InvoiceID": str(paid.id)},
                    "Account": {"Code": "090"},
                    "Date": "2026-11-20",
                    "Amount": float(paid.amount_due),
                }
            ]
        },
    )
    assert body["Payments"][0]["StatusAttributeString"] != "ERROR", body
    client.post(f"Invoices/{voided.id}", {"Invoices": [{"InvoiceID": str(voided.id), "Status": "VOIDED"}]})
    draft = client.put(
        "Invoices",
        {
            "Invoices": [
                {
                    "Type": "ACCREC",
                    "Contact": {"ContactID": str(paid.contact_id)},
                    "Status": "DRAFT",
                    "LineItems": [{"Description": "Call-out", "Quantity": 1, "UnitAmount": 90, "AccountCode": "200"}],
                }
            ]
        },
    )["Invoices"][0]
    contact = Contact.objects.filter(org=xero_org, status="ACTIVE").first()
    client.post("Contacts", {"Contacts": [{"ContactID": str(contact.id), "ContactStatus": "ARCHIVED"}]})

    run = run_sync(connection)
    run.refresh_from_db()
    assert run.state == SyncRunState.SUCCEEDED, run.error_summary
    merchant = connection.merchant
    local_paid = Invoice.objects.get(merchant=merchant, external_id=str(paid.id))
    assert local_paid.status == InvoiceStatus.PAID and local_paid.amount_due == Decimal("0.00")
    assert local_paid.payments.count() >= 1
    assert Invoice.objects.get(merchant=merchant, external_id=str(voided.id)).status == InvoiceStatus.VOIDED
    assert Invoice.objects.get(merchant=merchant, external_id=draft["InvoiceID"]).status == InvoiceStatus.DRAFT
    assert Customer.objects.get(merchant=merchant, external_id=str(contact.id)).status == CustomerStatus.ARCHIVED

    # Deleting the draft in Xero is seen too.
    client.post(
        f"Invoices/{draft['InvoiceID']}", {"Invoices": [{"InvoiceID": draft["InvoiceID"], "Status": "DELETED"}]}
    )
    run_sync(connection)
    assert Invoice.objects.get(merchant=merchant, external_id=draft["InvoiceID"]).status == InvoiceStatus.DELETED


def _signed(body: bytes) -> str:
    import base64
    import hashlib
    import hmac

    return base64.b64encode(hmac.new(WEBHOOK_KEY.encode(), body, hashlib.sha256).digest()).decode()


def _post_webhook(client, payload, signature=None):
    body = json.dumps(payload).encode()
    headers = {} if signature is False else {"x-xero-signature": signature or _signed(body)}
    return client.post(reverse("xero_sync:webhooks"), data=body, content_type="application/json", headers=headers)


def _event(org, resource_id, category="INVOICE", when="2026-11-23T10:00:00.000"):
    return {
        "resourceUrl": f"https://api.xero.com/api.xro/2.0/Invoices/{resource_id}",
        "resourceId": str(resource_id),
        "eventDateUtc": when,
        "eventType": "UPDATE",
        "eventCategory": category,
        "tenantId": str(org.tenant_id),
        "tenantType": "ORGANISATION",
    }


@pytest.mark.parametrize(
    "signature",
    [False, "not base64!!", "c2lnbmF0dXJl", "replaced"],
    ids=["missing", "not-base64", "wrong", "other-body"],
)
def test_webhook_signature_cases(client, connection, xero_org, signature):
    payload = {"events": [_event(xero_org, "x")], "firstEventSequence": 1, "lastEventSequence": 1, "entropy": "A"}
    if signature == "replaced":
        signature = _signed(b'{"events": []}')
    response = _post_webhook(client, payload, signature)
    assert response.status_code == 401
    assert response.content == b""
    assert not XeroWebhookEvent.objects.exists()


def test_webhook_intent_to_receive(client, connection):
    payload = {"events": [], "firstEventSequence": 0, "lastEventSequence": 0, "entropy": "SOMEENTROPY"}
    good = _post_webhook(client, payload)
    assert good.status_code == 200 and good.content == b"" and not good.cookies
    assert _post_webhook(client, payload, "AAAA").status_code == 401


def _sandbox_posts_to_portal(monkeypatch):
    """The sandbox's webhook deliveries reach the portal's endpoint in-process."""
    from xero_sandbox import webhooks as sandbox_webhooks

    monkeypatch.setattr(
        sandbox_webhooks, "webhook_http_session", lambda: sandbox.wire_session(base="http://testserver", prefix="")
    )


def test_sandbox_intent_to_receive_check_passes(connection, xero_wire, monkeypatch):
    from xero_sandbox.webhooks import webhook_intent_check

    _sandbox_posts_to_portal(monkeypatch)
    result = webhook_intent_check(app=xero_wire, posts=6)
    assert result["passed"], result["results"]
    assert {r["signature"] for r in result["results"]} == {"good", "bad"}


def test_changes_in_xero_arrive_by_webhook(connection, xero_org, xero_wire, monkeypatch):
    from xero_sandbox.webhooks import webhooks_deliver

    run_sync(connection)
    _sandbox_posts_to_portal(monkeypatch)
    invoice = XInvoice.objects.filter(org=xero_org, status="AUTHORISED", type="ACCREC").first()
    _api(connection).post(
        f"Invoices/{invoice.id}", {"Invoices": [{"InvoiceID": str(invoice.id), "Reference": "Webhook ref"}]}
    )
    deliveries = webhooks_deliver(app_id=xero_wire.pk, schedule_retries=False)
    assert deliveries and all(d.status_code == 200 for d in deliveries if hasattr(d, "status_code"))
    assert XeroWebhookEvent.objects.filter(resource_id=str(invoice.id), category="INVOICE").exists()
    run_sync(connection, kind=SyncRunKind.WEBHOOK)
    assert Invoice.objects.get(merchant=connection.merchant, external_id=str(invoice.id)).reference == "Webhook ref"


def test_webhook_events_fetched_in_batches_and_converge(
    client, connection, xero_org, django_capture_on_commit_callbacks
):
    run_sync(connection)
    invoices = list(XInvoice.objects.filter(org=xero_org, status="AUTHORISED", type="ACCREC")[:3])
    client_api = _api(connection)
    target = invoices[0]
    client_api.post(
        f"Invoices/{target.id}", {"Invoices": [{"InvoiceID": str(target.id), "Reference": "Changed in Xero"}]}
    )
    RequestLog.objects.all().delete()
    events = [_event(xero_org, inv.id) for inv in invoices for _ in range(3)]  # duplicates
    events.reverse()  # out of order
    events.append(_event(sandbox.sandbox_org("Not ours"), "00000000-0000-0000-0000-000000000001"))  # ignored
    with mock.patch("xero_sync.webhooks._dispatch") as dispatch, django_capture_on_commit_callbacks(execute=True):
        response = _post_webhook(client, {"events": events, "firstEventSequence": 1, "lastEventSequence": 10})
    assert response.status_code == 200
    assert dispatch.call_count == 1
    assert XeroWebhookEvent.objects.count() == 9
    assert RequestLog.objects.count() == 0  # nothing fetched inside the request

    run = run_sync(connection, kind=SyncRunKind.WEBHOOK)
    run.refresh_from_db()
    assert run.state == SyncRunState.SUCCEEDED
    calls = api_paths(xero_org)
    assert len(calls) == 1 and "IDs=" in calls[0][2]
    assert Invoice.objects.get(merchant=connection.merchant, external_id=str(target.id)).reference == "Changed in Xero"
    assert not XeroWebhookEvent.objects.filter(processed_at__isnull=True).exists()


def test_auto_sync_off_means_no_calls(connection, xero_org):
    from xero_sync.tasks import sync_poll_all, webhook_events_dispatch

    run_sync(connection)
    connection.auto_sync = False
    connection.save()
    RequestLog.objects.all().delete()
    runs_before = SyncRun.objects.count()
    with mock.patch("xero_sync.tasks.enqueue_sync") as enqueue:
        assert sync_poll_all() == 0
        webhook_events_dispatch(str(xero_org.tenant_id))
    assert enqueue.call_count == 0
    assert SyncRun.objects.count() == runs_before
    assert RequestLog.objects.count() == 0


def test_two_sync_now_clicks_give_one_run(admin_client, connection, django_capture_on_commit_callbacks):
    with mock.patch("xero_sync.tasks.enqueue_sync") as enqueue, django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("xero_sync:sync"))
        admin_client.post(reverse("xero_sync:sync"))
    assert SyncRun.objects.count() == 1
    assert enqueue.call_count == 1


def test_second_sync_waits_for_the_lease(connection):
    state = sync_state_for(connection)
    XeroSyncState.objects.filter(pk=state.pk).update(
        lease_owner="someone-else", lease_until=dt.datetime(2099, 1, 1, tzinfo=dt.UTC)
    )
    run = sync_request(connection=connection, enqueue=False)
    with pytest.raises(SyncBusy):
        sync_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.state == SyncRunState.QUEUED


def test_owner_removed_during_sync_records_error_and_needs_reconnect(connection, xero_org, sandbox_owner):
    from xero_sandbox.identity import services as sandbox_identity

    sandbox_identity.user_remove_from_org(user=sandbox_owner, org=xero_org)
    run = run_sync(connection)
    run.refresh_from_db()
    assert run.state == SyncRunState.FAILED
    connection.refresh_from_db()
    assert connection.status == "needs_reconnect"
    error = SyncError.objects.get(merchant=connection.merchant)
    assert error.operation == "token" and error.status_code == 403
    assert "Standard or Advisor" in error.fix


def test_rate_limited_sync_parks_and_reschedules(connection, xero_org):
    from django_q.models import Schedule

    sandbox.fault_set(xero_org, "rate_limit", count=50)
    run = run_sync(connection)
    run.refresh_from_db()
    assert run.state == SyncRunState.PARTIAL
    assert "rate limit" in run.error_summary
    assert Schedule.objects.filter(func="xero_sync.tasks.sync_run").exists()
    error = SyncError.objects.get(merchant=connection.merchant)
    assert error.hint_key == "rate_limited"


def test_sync_page_shows_progress_and_runs(admin_client, connection):
    run_sync(connection)
    page = admin_client.get(reverse("integrations:addon", args=["xero"])).content.decode()
    assert "Sync Now" in page
    assert "Last successful sync" in page
    status = admin_client.get(reverse("xero_sync:sync_status")).json()
    assert status["run"]["state"] == "succeeded"
    assert [s["name"] for s in status["run"]["steps"]] == [
        "accounts",
        "items",
        "contacts",
        "invoices",
        "customer_types",
    ]
    assert all(s["percent"] == 100 for s in status["run"]["steps"])


def test_xero_sync_command(connection, capsys):
    from django.core.management import call_command

    call_command("xero_sync", connection.merchant.slug)
    out = capsys.readouterr().out
    assert "Succeeded" in out and "API calls" in out


def test_schedules_command_is_idempotent():
    from django.core.management import call_command
    from django_q.models import Schedule

    call_command("xero_schedules")
    call_command("xero_schedules")
    crons = dict(Schedule.objects.values_list("name", "cron"))
    assert crons["xero-poll"] == "0 0,5,11,18 * * *"
    assert "xero-reconcile" in crons
    from xero_sync.schedules import SCHEDULES

    assert Schedule.objects.count() == len(SCHEDULES)  # twice run, each once
