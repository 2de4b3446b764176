"""Xero's webhook endpoint: check the signature on the raw body first, store the events, answer at once.

The records behind the events are fetched later, in batches, by a worker (services.sync.webhook_events_process).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import logging
import threading
import time

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpResponse
from django.urls import NoReverseMatch, reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from xero_sync import mapping
from xero_sync.models import ConnectionStatus, XeroConnection, XeroWebhookEvent
from xero_sync.services import bulk

logger = logging.getLogger(__name__)

CATEGORIES = {"INVOICE", "CONTACT"}  # what the add-on fetches; others are acknowledged and dropped


def signature_valid(body: bytes, header: str, key: str) -> bool:
    if not header or not key:
        return False
    try:
        given = base64.b64decode(header, validate=True)
    except (binascii.Error, ValueError):
        return False
    expected = hmac.new(key.encode(), body, hashlib.sha256).digest()
    return hmac.compare_digest(given, expected)


class WebhookFastPathMiddleware:
    """First in the middleware stack: Xero's webhook posts go straight to `receive`, skipping sessions, auth,
    messages and the rest, none of which a signed machine-to-machine post uses. Xero wants an answer fast and
    sends bursts."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "POST" and request.path_info == _webhook_path(
            request.urlconf if hasattr(request, "urlconf") else None
        ):
            return receive(request)
        return self.get_response(request)


def _webhook_path(urlconf=None) -> str | None:
    try:
        return reverse("xero_sync:webhooks", urlconf=urlconf)
    except NoReverseMatch:  # a URL map without the add-on (some tests mount only part of the site)
        return None


def _empty(status: int) -> HttpResponse:
    return HttpResponse(b"", status=status, content_type="text/plain")


@csrf_exempt
@require_POST
def receive(request):
    body = request.body
    if not signature_valid(body, request.headers.get("x-xero-signature", ""), settings.XERO_WEBHOOK_KEY):
        logger.warning("xero.webhook.bad_signature")
        return _empty(401)
    try:
        payload = json.loads(body)
        events = payload.get("events")
        if not isinstance(events, list):
            raise ValueError("no events list")
    except (ValueError, AttributeError):
        logger.warning("xero.webhook.bad_payload")
        return _empty(400)
    if events:
        _store(events)
    return _empty(200)


_CONNECTED_TTL_S = 2.0
_connected_cache: dict[str, tuple[float, bool | None]] = {}


def _connected(tenants: set[str]) -> dict[str, bool]:
    """Tenant id → Auto-sync, for organisations a merchant has connected. Remembered for two seconds per
    process, since Xero sends bursts for the same organisation; a disconnect is still honoured by the sync."""
    now = time.monotonic()
    fresh = {t: hit[1] for t in tenants if (hit := _connected_cache.get(t)) and hit[0] > now}
    missing = tenants - set(fresh)
    if missing:
        found = dict(
            XeroConnection.objects.filter(tenant_id__in=missing, status=ConnectionStatus.CONNECTED).values_list(
                "tenant_id", "auto_sync"
            )
        )
        for tenant in missing:
            _connected_cache[tenant] = (now + _CONNECTED_TTL_S, found.get(tenant))
            fresh[tenant] = found.get(tenant)
    return {t: auto for t, auto in fresh.items() if auto is not None}


_sqlite_writer = threading.Lock()


def _one_writer():
    """SQLite takes one writer at a time and makes the others sleep in growing steps (up to 100 ms) while they
    wait; a burst of webhook posts queues on a lock in this process instead, which wakes the next one at once."""
    return _sqlite_writer if connection.vendor == "sqlite" else contextlib.nullcontext()


def _store(events: list[dict]) -> None:
    connected = _connected({str(e.get("tenantId", "")) for e in events if isinstance(e, dict)})
    rows = [
        {
            "tenant_id": str(e["tenantId"]),
            "category": str(e.get("eventCategory", "")),
            "event_type": str(e.get("eventType", ""))[:20],
            "resource_id": str(e.get("resourceId", ""))[:64],
            "event_date": mapping.parse_datetime(e.get("eventDateUtc")),
            "processed_at": None,
        }
        for e in events
        if isinstance(e, dict)
        and str(e.get("tenantId", "")) in connected
        and e.get("eventCategory") in CATEGORIES
        and e.get("resourceId")
    ]
    if not rows:
        logger.info("xero.webhook.ignored", extra={"events": len(events)})
        return
    syncing = {r["tenant_id"] for r in rows if connected[r["tenant_id"]]}  # Auto-sync off: stored, no sync queued
    # A burst of posts needs one sync, not one per post: only the post that finds nothing waiting queues it
    # (the webhook sync queues another if events arrive while it runs).
    waiting = (
        set(
            XeroWebhookEvent.objects.filter(tenant_id__in=syncing, processed_at__isnull=True)
            .values_list("tenant_id", flat=True)
            .distinct()
        )
        if syncing
        else set()
    )
    with _one_writer(), transaction.atomic():
        bulk.insert(XeroWebhookEvent, rows=rows)
        for tenant_id in syncing - waiting:
            transaction.on_commit(lambda t=tenant_id: _dispatch(t))


def _dispatch(tenant_id: str) -> None:
    from django_q.tasks import async_task

    async_task("xero_sync.tasks.webhook_events_dispatch", tenant_id, group="xero-webhooks")
