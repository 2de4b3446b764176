"""Xero-shaped webhooks: record events, deliver them batched and signed from a worker, intent-to-receive."""

import base64
import hashlib
import hmac
import json
import logging
import secrets
import string
from datetime import UTC, datetime, timedelta
from functools import partial

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from xero_sandbox.models import (
    Organisation,
    SandboxApp,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEvent,
)

logger = logging.getLogger(__name__)

CATEGORIES = ("INVOICE", "CONTACT")
EVENT_TYPES = ("CREATE", "UPDATE")
BATCH_SIZE = 100
# Seconds between attempts; Xero keeps retrying for about a day, then gives up.
DEFAULT_RETRY_DELAYS = (10, 60, 300, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600)
RESOURCE_PATHS = {"INVOICE": "Invoices", "CONTACT": "Contacts"}


def webhook_signature(*, key: str, body: bytes) -> str:
    """`x-xero-signature`: base64 of HMAC-SHA256 over the raw body bytes."""
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


def webhook_http_session() -> requests.Session:
    """The HTTP session deliveries go through (tests swap it for an in-process one)."""
    return requests.Session()


def _retry_delays() -> tuple[int, ...]:
    return tuple(getattr(settings, "XERO_SANDBOX_WEBHOOK_RETRY_DELAYS", DEFAULT_RETRY_DELAYS))


def _timeout() -> float:
    return float(getattr(settings, "XERO_SANDBOX_WEBHOOK_TIMEOUT", 5.0))


def _api_base() -> str:
    """Where resourceUrl points: explicit setting, else the portal's API URL when it is this sandbox."""
    explicit = getattr(settings, "XERO_SANDBOX_API_BASE", "")
    if explicit:
        return explicit
    portal_api = getattr(settings, "XERO_API_URL", "")
    if "/sandbox/xero/" in portal_api:
        return portal_api
    return "http://127.0.0.1:8000/sandbox/xero/api.xro/2.0"


def _entropy() -> str:
    return "".join(secrets.choice(string.ascii_uppercase) for _ in range(20))


def _enqueue(app_id: int) -> None:
    from django_q.tasks import async_task

    async_task("xero_sandbox.tasks.webhook_deliver", app_id, group="xero_sandbox.webhooks")


def event_emit(*, org: Organisation, category: str, event_type: str, resource_id) -> None:
    """Record a change for every app connected to the organisation; delivery happens after commit."""
    if category not in CATEGORIES or event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event {category}/{event_type}")
    apps = list(SandboxApp.objects.filter(connections__organisation=org).exclude(webhook_url="").distinct().only("pk"))
    if not apps:
        return
    now = timezone.now()
    WebhookEvent.objects.bulk_create(
        [
            WebhookEvent(
                app=app,
                organisation=org,
                category=category,
                event_type=event_type,
                resource_id=resource_id,
                event_date=now,
            )
            for app in apps
        ]
    )
    for app in apps:
        _enqueue_after_commit(app.pk)


def _enqueue_after_commit(app_id: int) -> None:
    """Never inside the request: the worker picks the events up once committed; one task per app per commit."""
    conn = transaction.get_connection()
    if conn.in_atomic_block and any(
        getattr(entry[1], "xero_sandbox_webhook_app", None) == app_id for entry in conn.run_on_commit
    ):
        return
    callback = partial(_enqueue, app_id)
    callback.xero_sandbox_webhook_app = app_id
    transaction.on_commit(callback)


def _payload(events: list[WebhookEvent]) -> dict:
    base = _api_base().rstrip("/")
    return {
        "events": [
            {
                "resourceUrl": f"{base}/{RESOURCE_PATHS[e.category]}/{e.resource_id}",
                "resourceId": str(e.resource_id),
                "eventDateUtc": e.event_date.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="milliseconds"),
                "eventType": e.event_type,
                "eventCategory": e.category,
                "tenantId": str(e.organisation.tenant_id),
                "tenantType": "ORGANISATION",
            }
            for e in events
        ],
        "firstEventSequence": events[0].pk,
        "lastEventSequence": events[-1].pk,
        "entropy": _entropy(),
    }


def webhook_batch_create(*, app: SandboxApp, now: datetime | None = None) -> WebhookDelivery | None:
    """Claim the app's undelivered events (up to a batch) into one delivery; None when there are none."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            WebhookEvent.objects.filter(app=app, delivery__isnull=True)
            .order_by("id")
            .values_list("id", flat=True)[:BATCH_SIZE]
        )
        if not ids:
            return None
        delivery = WebhookDelivery.objects.create(app=app, body="", created_at=now, next_attempt_at=now)
        # A conditional claim: two workers never put the same event in two deliveries.
        WebhookEvent.objects.filter(id__in=ids, delivery__isnull=True).update(delivery=delivery)
        events = list(delivery.events.select_related("organisation").order_by("id"))
        if not events:
            delivery.delete()
            return None
        delivery.body = json.dumps(_payload(events), separators=(",", ":"))
        delivery.save(update_fields=["body"])
    return delivery


def webhook_delivery_attempt(*, delivery: WebhookDelivery, now: datetime | None = None) -> bool:
    """POST one delivery, signed; record the attempt and when to try again. True when the app said 200."""
    now = now or timezone.now()
    app = delivery.app
    body = delivery.body.encode()
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "x-xero-signature": webhook_signature(key=app.webhook_key, body=body),
        "User-Agent": "Xero-Webhooks-Sandbox",
    }
    status, error = None, ""
    try:
        response = webhook_http_session().post(app.webhook_url, data=body, headers=headers, timeout=_timeout())
        status = response.status_code
    except requests.RequestException as exc:
        error = type(exc).__name__
    delivery.attempts += 1
    delivery.last_status_code = status
    delivery.last_error = error or ("" if status == 200 else f"HTTP {status}")
    if status == 200:
        delivery.status = WebhookDeliveryStatus.DELIVERED
        delivery.delivered_at = now
        delivery.next_attempt_at = None
    else:
        delays = _retry_delays()
        if delivery.attempts > len(delays):
            delivery.status = WebhookDeliveryStatus.FAILED
            delivery.next_attempt_at = None
        else:
            delivery.status = WebhookDeliveryStatus.RETRYING
            delivery.next_attempt_at = now + timedelta(seconds=delays[delivery.attempts - 1])
    delivery.save()
    logger.info(
        "xero_sandbox.webhook.attempt",
        extra={"delivery": delivery.pk, "status": status, "error": error, "attempts": delivery.attempts},
    )
    return status == 200


def _retry_schedule(delivery: WebhookDelivery) -> None:
    from django_q.models import Schedule

    Schedule.objects.create(
        func="xero_sandbox.tasks.webhook_retry",
        args=str(delivery.pk),
        schedule_type=Schedule.ONCE,
        repeats=1,
        next_run=delivery.next_attempt_at,
        name=f"xero_sandbox.webhook_retry.{delivery.pk}.{delivery.attempts}",
    )


def webhooks_deliver(*, app_id: int, schedule_retries: bool = True) -> list[WebhookDelivery]:
    """Deliver every pending event of an app in batches (what the worker task runs)."""
    app = SandboxApp.objects.filter(pk=app_id).exclude(webhook_url="").first()
    if app is None:
        return []
    done = []
    for _ in range(1000):  # bounded: at most 100,000 events per run
        delivery = webhook_batch_create(app=app)
        if delivery is None:
            break
        delivered = webhook_delivery_attempt(delivery=delivery)
        if not delivered and schedule_retries and delivery.status == WebhookDeliveryStatus.RETRYING:
            _retry_schedule(delivery)
        done.append(delivery)
    return done


def webhook_retry(*, delivery_id: int, schedule_retries: bool = True) -> bool:
    """Try a failed delivery again (scheduled by the worker, or run directly in tests)."""
    delivery = (
        WebhookDelivery.objects.select_related("app")
        .filter(pk=delivery_id, status=WebhookDeliveryStatus.RETRYING)
        .first()
    )
    if delivery is None:
        return False
    ok = webhook_delivery_attempt(delivery=delivery)
    if not ok and schedule_retries and delivery.status == WebhookDeliveryStatus.RETRYING:
        _retry_schedule(delivery)
    return ok


def webhook_retries_due(*, now: datetime | None = None) -> int:
    """Retry every delivery whose next attempt is due (a safety net beside the per-delivery schedules)."""
    now = now or timezone.now()
    due = WebhookDelivery.objects.filter(status=WebhookDeliveryStatus.RETRYING, next_attempt_at__lte=now)
    count = 0
    for delivery_id in due.values_list("id", flat=True)[:1000]:
        webhook_retry(delivery_id=delivery_id, schedule_retries=False)
        count += 1
    return count


def webhook_intent_check(*, app: SandboxApp, posts: int = 4) -> dict:
    """Xero's intent-to-receive: several empty posts, some badly signed; good → 200 empty, bad → 401."""
    if not app.webhook_url or not app.webhook_key:
        raise ValueError("the app has no webhook URL or key")
    session = webhook_http_session()
    results = []
    # Always at least one good and one bad, in a random order.
    signed_well = [True, False] + [secrets.choice([True, False]) for _ in range(max(0, posts - 2))]
    secrets.SystemRandom().shuffle(signed_well)
    for good in signed_well:
        body = json.dumps(
            {"events": [], "firstEventSequence": 0, "lastEventSequence": 0, "entropy": _entropy()},
            separators=(",", ":"),
        ).encode()
        key = app.webhook_key if good else app.webhook_key + "-wrong"
        expected = 200 if good else 401
        status, problem = None, ""
        try:
            response = session.post(
                app.webhook_url,
                data=body,
                headers={
                    "Content-Type": "application/json; charset=utf-8",
                    "x-xero-signature": webhook_signature(key=key, body=body),
                },
                timeout=_timeout(),
            )
            status = response.status_code
            if status != expected:
                problem = f"expected {expected}, got {status}"
            elif good and response.content:
                problem = "a good signature must be answered with an empty body"
            elif good and response.headers.get("Set-Cookie"):
                problem = "a webhook answer must not set cookies"
        except requests.RequestException as exc:
            problem = f"no answer ({type(exc).__name__})"
        results.append(
            {"signature": "good" if good else "bad", "expected": expected, "status": status, "ok": not problem}
            | ({"problem": problem} if problem else {})
        )
    passed = all(r["ok"] for r in results)
    app.webhook_intent_ok = passed
    app.webhook_intent_checked_at = timezone.now()
    app.save(update_fields=["webhook_intent_ok", "webhook_intent_checked_at"])
    logger.info("xero_sandbox.webhook.intent_to_receive", extra={"app": app.client_id, "passed": passed})
    return {"passed": passed, "url": app.webhook_url, "results": results}
