"""Unsynced data reminders: records that have not reached an add-on's system, listed on its page and emailed to
the merchant's admins every Integration Retention Interval while any remain.

An add-on registers where its unsynced records come from and how often its merchants want to hear about them
(e.g. in its AppConfig.ready):

    reminders.register(
        addon_key="xero",
        unsynced=lambda merchant: [...UnsyncedItem...],
        interval_days=lambda merchant: 7,  # None when the add-on is not in use for this merchant
    )

The daily task `integrations.tasks.unsynced_reminders` calls `unsynced_reminders_send`: it emails a merchant only
when something is unsynced and the interval has passed since the last reminder (kept in UnsyncedReminder).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from integrations import registry
from integrations.models import Installation, UnsyncedReminder
from portal.models import Merchant, Role

logger = logging.getLogger(__name__)

# A daily job that ran a little earlier than the day before must not skip a day.
SLACK = dt.timedelta(hours=2)
MAX_LISTED = 50  # items listed in one email; the page has them all


@dataclass(frozen=True)
class UnsyncedItem:
    """One record that has not reached the add-on's system, and why."""

    kind: str  # what the merchant calls it: "Invoice", "Fee line", "Payment", "Customer"
    label: str  # invoice number, customer name
    reason: str  # the other system's words, or why it waits for the merchant
    since: dt.datetime | None = None
    amount: Decimal | None = None
    url: str = ""  # the portal page where it is dealt with (a sync queue)


@dataclass(frozen=True)
class Source:
    addon_key: str
    unsynced: Callable[[Merchant], list[UnsyncedItem]]
    interval_days: Callable[[Merchant], int | None]


_SOURCES: dict[str, Source] = {}


def register(
    *,
    addon_key: str,
    unsynced: Callable[[Merchant], list[UnsyncedItem]],
    interval_days: Callable[[Merchant], int | None],
) -> None:
    _SOURCES[addon_key] = Source(addon_key=addon_key, unsynced=unsynced, interval_days=interval_days)


def unregister(*, addon_key: str) -> None:
    _SOURCES.pop(addon_key, None)


def unsynced_items(*, merchant: Merchant, addon_key: str) -> list[UnsyncedItem]:
    """What has not reached the add-on's system yet, oldest first ([] when the add-on registered nothing)."""
    source = _SOURCES.get(addon_key)
    if source is None:
        return []
    items = list(source.unsynced(merchant))
    far_future = timezone.now() + dt.timedelta(days=3650)
    return sorted(items, key=lambda item: item.since or far_future)


def _admin_emails(merchant: Merchant) -> list[str]:
    return sorted(
        set(
            merchant.memberships.filter(role=Role.ADMIN, user__is_active=True)
            .exclude(user__email="")
            .values_list("user__email", flat=True)
        )
    )


def _addon_url(addon_key: str) -> str:
    path = reverse("integrations:addon", args=[addon_key])
    return f"{getattr(settings, 'PORTAL_BASE_URL', '').rstrip('/')}{path}"


def unsynced_reminder_send(*, merchant: Merchant, addon_key: str, now: dt.datetime | None = None) -> bool:
    """Email the merchant's admins about unsynced records if any remain and the interval has passed.

    Returns whether an email went out. Two runs at once send one email: the reminder row is locked first.
    """
    source = _SOURCES.get(addon_key)
    if source is None:
        return False
    now = now or timezone.now()
    interval = source.interval_days(merchant)
    if not interval:
        return False
    with transaction.atomic():
        reminder = UnsyncedReminder.objects.select_for_update().filter(merchant=merchant, addon_key=addon_key).first()
        if reminder is not None and now - reminder.last_sent_at < dt.timedelta(days=interval) - SLACK:
            return False
        items = unsynced_items(merchant=merchant, addon_key=addon_key)
        recipients = _admin_emails(merchant)
        if not items or not recipients:
            return False
        addon = registry.get(addon_key)
        context = {
            "merchant": merchant,
            "addon_name": addon.name if addon else addon_key.capitalize(),
            "items": items[:MAX_LISTED],
            "more": max(0, len(items) - MAX_LISTED),
            "count": len(items),
            "interval": interval,
            "url": _addon_url(addon_key),
        }
        subject = render_to_string("integrations/email/unsynced_reminder_subject.txt", context).strip()
        body = render_to_string("integrations/email/unsynced_reminder.txt", context)
        # Sent inside the lock: a second run waiting on it then sees the new last_sent_at and stays quiet.
        send_mail(subject, body, None, recipients)
        UnsyncedReminder.objects.update_or_create(
            merchant=merchant,
            addon_key=addon_key,
            defaults={"last_sent_at": now, "items": len(items), "recipients": len(recipients)},
        )
    logger.info(
        "integrations.unsynced_reminder.sent",
        extra={"merchant_id": merchant.pk, "addon_key": addon_key, "items": len(items)},
    )
    return True


def unsynced_reminders_send(*, now: dt.datetime | None = None) -> int:
    """The daily run: every merchant with a registered add-on installed gets a reminder when one is due."""
    now = now or timezone.now()
    sent = 0
    installs = Installation.objects.filter(addon_key__in=list(_SOURCES)).select_related("merchant")
    for installation in installs:
        try:
            sent += unsynced_reminder_send(merchant=installation.merchant, addon_key=installation.addon_key, now=now)
        except Exception:
            # One merchant's failure (a mail server hiccup) must not stop the others' reminders.
            logger.exception(
                "integrations.unsynced_reminder.failed",
                extra={"merchant_id": installation.merchant_id, "addon_key": installation.addon_key},
            )
    return sent
