"""Webhooks: events recorded on change, delivered after commit, batched, signed, retried; intent to receive."""

import base64
import hashlib
import hmac
import json
import uuid
from datetime import timedelta
from pathlib import Path
from unittest import mock

import jsonschema
import pytest
import requests
import yaml
from django.http import HttpResponse
from django.urls import include, path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from xero_sandbox import tasks, webhooks
from xero_sandbox.models import WebhookDelivery, WebhookDeliveryStatus, WebhookEvent
from xero_sandbox.testing import SandboxWire, sandbox_app, sandbox_org, sandbox_token

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.xero_sandbox.test_webhooks")]

KEY = "a-webhook-key-of-reasonable-length"
HOOK = "http://hooks.test/hooks/xero"
SPEC = yaml.safe_load(Path("/work/shared/xero-openapi/xero-webhooks.yaml").read_text())
EVENT_SCHEMA = SPEC["components"]["schemas"]["WebhookEvent"]

received: list[dict] = []
behaviour = {"mode": "correct", "fail_first": 0}


@csrf_exempt
def receiver(request):
    """A receiver that checks the signature as an add-on must (or misbehaves on purpose)."""
    good = hmac.compare_digest(
        request.headers.get("x-xero-signature", ""),
        base64.b64encode(hmac.new(KEY.encode(), request.body, hashlib.sha256).digest()).decode(),
    )
    received.append({"body": request.body, "good": good})
    if behaviour["fail_first"] > 0:
        behaviour["fail_first"] -= 1
        return HttpResponse(status=500)
    if behaviour["mode"] == "always_200":
        return HttpResponse(status=200)
    if behaviour["mode"] == "chatty":
        return HttpResponse("thanks!", status=200) if good else HttpResponse(status=401)
    return HttpResponse(status=200) if good else HttpResponse(status=401)


urlpatterns = [path("hooks/xero", receiver), path("sandbox/xero/", include("xero_sandbox.urls"))]


@pytest.fixture(autouse=True)
def hooks_wire():
    received.clear()
    behaviour.update(mode="correct", fail_first=0)

    def session():
        s = requests.Session()
        s.mount("http://hooks.test/", SandboxWire(prefix=""))
        return s

    with mock.patch.object(webhooks, "webhook_http_session", session):
        yield


@pytest.fixture
def app():
    return sandbox_app(webhook_url=HOOK, webhook_key=KEY)


@pytest.fixture
def org(app):
    org = sandbox_org("Hooked Co")
    sandbox_token(org, app=app)
    return org


def _emit(org, n=1, category="INVOICE", event_type="CREATE"):
    ids = [uuid.uuid4() for _ in range(n)]
    for resource_id in ids:
        webhooks.event_emit(org=org, category=category, event_type=event_type, resource_id=resource_id)
    return ids


def test_events_are_queued_for_after_commit_never_sent_inside_the_request(org, app, django_capture_on_commit_callbacks):
    with mock.patch("django_q.tasks.async_task") as async_task:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            _emit(org, 2)
            _emit(org, 1, category="CONTACT")
        assert len(callbacks) == 1  # one worker task per app per commit, however many changes
        assert not async_task.called
        assert received == []
        for callback in callbacks:
            callback()
    async_task.assert_called_with("xero_sandbox.tasks.webhook_deliver", app.pk, group="xero_sandbox.webhooks")
    assert WebhookEvent.objects.filter(app=app, delivery__isnull=True).count() == 3


def test_a_batch_is_delivered_signed_in_xeros_shape(org, app):
    invoice_ids = _emit(org, 2)
    contact_ids = _emit(org, 1, category="CONTACT", event_type="UPDATE")
    assert tasks.webhook_deliver(app.pk) == 1
    assert len(received) == 1 and received[0]["good"]
    payload = json.loads(received[0]["body"])
    jsonschema.validate(payload, EVENT_SCHEMA)
    events = payload["events"]
    assert [e["resourceId"] for e in events] == [str(i) for i in invoice_ids + contact_ids]
    assert {e["tenantId"] for e in events} == {str(org.tenant_id)}
    assert events[0]["eventCategory"] == "INVOICE" and events[0]["eventType"] == "CREATE"
    assert events[2]["eventCategory"] == "CONTACT" and events[2]["eventType"] == "UPDATE"
    assert events[0]["resourceUrl"].endswith(f"/api.xro/2.0/Invoices/{invoice_ids[0]}")
    assert events[2]["resourceUrl"].endswith(f"/api.xro/2.0/Contacts/{contact_ids[0]}")
    assert payload["firstEventSequence"] <= payload["lastEventSequence"]
    assert WebhookDelivery.objects.get().status == WebhookDeliveryStatus.DELIVERED
    # Nothing left: a second run sends nothing.
    assert tasks.webhook_deliver(app.pk) == 0
    assert len(received) == 1


def test_signature_is_base64_hmac_sha256_of_the_raw_body():
    body = b'{"events":[]}'
    expected = base64.b64encode(hmac.new(b"k", body, hashlib.sha256).digest()).decode()
    assert webhooks.webhook_signature(key="k", body=body) == expected
    assert webhooks.webhook_signature(key="other", body=body) != expected


def test_only_connected_apps_with_a_webhook_get_events(org, app):
    quiet = sandbox_app(client_id="no-hook-app", webhook_url="")
    sandbox_token(org, app=quiet)
    stranger = sandbox_app(client_id="stranger-app", webhook_url=HOOK, webhook_key=KEY)
    _emit(org, 1)
    assert list(WebhookEvent.objects.values_list("app__client_id", flat=True)) == [app.client_id]
    assert tasks.webhook_deliver(stranger.pk) == 0


def test_failed_delivery_is_retried_then_delivered(org, app, settings):
    settings.XERO_SANDBOX_WEBHOOK_RETRY_DELAYS = (10, 60)
    behaviour["fail_first"] = 1
    _emit(org, 1)
    with mock.patch.object(webhooks, "_retry_schedule") as schedule:
        tasks.webhook_deliver(app.pk)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDeliveryStatus.RETRYING
    assert delivery.last_status_code == 500
    assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=5)
    schedule.assert_called_once()
    assert tasks.webhook_retry(delivery.pk) is True
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (WebhookDeliveryStatus.DELIVERED, 2)
    assert received[0]["body"] == received[1]["body"]  # a retry resends the same signed batch


def test_retries_are_scheduled_with_django_q(org, app):
    from django_q.models import Schedule

    behaviour["fail_first"] = 1
    _emit(org, 1)
    tasks.webhook_deliver(app.pk)
    schedule = Schedule.objects.get()
    assert schedule.func == "xero_sandbox.tasks.webhook_retry"
    assert schedule.schedule_type == Schedule.ONCE
    assert schedule.args == str(WebhookDelivery.objects.get().pk)


def test_delivery_gives_up_after_the_last_retry(org, app, settings):
    settings.XERO_SANDBOX_WEBHOOK_RETRY_DELAYS = (1, 2)
    behaviour["fail_first"] = 10
    _emit(org, 1)
    with mock.patch.object(webhooks, "_retry_schedule"):
        tasks.webhook_deliver(app.pk)
        delivery = WebhookDelivery.objects.get()
        assert webhooks.webhook_retry(delivery_id=delivery.pk) is False
        assert webhooks.webhook_retry(delivery_id=delivery.pk) is False
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (WebhookDeliveryStatus.FAILED, 3)
    assert webhooks.webhook_retry(delivery_id=delivery.pk) is False  # no more attempts
    assert len(received) == 3


def test_unreachable_url_is_retried(org, settings):
    app = sandbox_app(client_id="down-app", webhook_url="http://127.0.0.1:9/nothing", webhook_key=KEY)
    sandbox_token(org, app=app)
    _emit(org, 1)
    with (
        mock.patch.object(webhooks, "webhook_http_session", requests.Session),
        mock.patch.object(webhooks, "_retry_schedule"),
    ):
        tasks.webhook_deliver(app.pk)
    delivery = WebhookDelivery.objects.get(app=app)
    assert delivery.status == WebhookDeliveryStatus.RETRYING
    assert delivery.last_error == "ConnectionError"


def test_webhook_retries_due_picks_up_overdue_deliveries(org, app, settings):
    settings.XERO_SANDBOX_WEBHOOK_RETRY_DELAYS = (10,)
    behaviour["fail_first"] = 1
    _emit(org, 1)
    with mock.patch.object(webhooks, "_retry_schedule"):
        tasks.webhook_deliver(app.pk)
    assert webhooks.webhook_retries_due() == 0  # not due yet
    assert webhooks.webhook_retries_due(now=timezone.now() + timedelta(seconds=11)) == 1
    assert WebhookDelivery.objects.get().status == WebhookDeliveryStatus.DELIVERED


def test_intent_to_receive_passes_for_a_correct_receiver(app):
    result = webhooks.webhook_intent_check(app=app, posts=6)
    assert result["passed"] is True
    assert len(received) == 6
    assert {r["signature"] for r in result["results"]} == {"good", "bad"}
    assert [r["good"] for r in received] == [r["signature"] == "good" for r in result["results"]]
    for r in received:
        body = json.loads(r["body"])
        assert body["events"] == [] and body["firstEventSequence"] == 0 and body["lastEventSequence"] == 0
        assert len(body["entropy"]) == 20
    app.refresh_from_db()
    assert app.webhook_intent_ok is True


def test_intent_to_receive_fails_when_bad_signatures_get_200(app):
    behaviour["mode"] = "always_200"
    result = webhooks.webhook_intent_check(app=app)
    assert result["passed"] is False
    bad = [r for r in result["results"] if r["signature"] == "bad"]
    assert bad and all(not r["ok"] and r["status"] == 200 for r in bad)
    app.refresh_from_db()
    assert app.webhook_intent_ok is False


def test_intent_to_receive_fails_when_the_good_answer_has_a_body(app):
    behaviour["mode"] = "chatty"
    result = webhooks.webhook_intent_check(app=app)
    assert result["passed"] is False
    assert any("empty body" in r.get("problem", "") for r in result["results"])


def test_unknown_event_kinds_are_refused(org):
    with pytest.raises(ValueError):
        webhooks.event_emit(org=org, category="PAYMENT", event_type="CREATE", resource_id=uuid.uuid4())


def test_a_contact_created_through_the_api_reaches_the_webhook(app, django_capture_on_commit_callbacks):
    from xero_sandbox.api.testing import org_with_defaults
    from xero_sandbox.testing import wire_session

    org = org_with_defaults("API Hooked Co")
    tokens = sandbox_token(org, app=app)
    session = wire_session()
    session.headers.update({"Authorization": f"Bearer {tokens['access_token']}", "xero-tenant-id": str(org.tenant_id)})
    with mock.patch("django_q.tasks.async_task") as async_task:
        with django_capture_on_commit_callbacks(execute=True):
            response = session.put("http://sandbox.test/api.xro/2.0/Contacts", json={"Contacts": [{"Name": "Hook Me"}]})
        assert response.status_code == 200, response.text
        async_task.assert_called_once_with("xero_sandbox.tasks.webhook_deliver", app.pk, group="xero_sandbox.webhooks")
    contact_id = response.json()["Contacts"][0]["ContactID"]
    tasks.webhook_deliver(app.pk)
    events = json.loads(received[0]["body"])["events"]
    assert [(e["eventCategory"], e["eventType"], e["resourceId"]) for e in events] == [
        ("CONTACT", "CREATE", contact_id)
    ]
    assert received[0]["good"]
