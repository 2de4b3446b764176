"""django-q2 tasks of the Xero add-on: thin wrappers that take ids, re-fetch, and call services."""

from __future__ import annotations

import datetime as dt
import logging

from django.utils import timezone
from django_q.models import Schedule

logger = logging.getLogger(__name__)

REVOCATION_BACKOFF = (60, 300, 1800, 3600, 6 * 3600)


def _schedule_once(func: str, *, args: tuple, delay_s: int, name: str) -> None:
    Schedule.objects.update_or_create(
        name=name,
        defaults={
            "func": func,
            "args": repr(args),
            "schedule_type": Schedule.ONCE,
            "repeats": 1,
            "next_run": timezone.now() + dt.timedelta(seconds=delay_s),
        },
    )


def enqueue_revocation_retry(revocation_id: int, attempt: int = 0) -> None:
    delay = REVOCATION_BACKOFF[min(attempt, len(REVOCATION_BACKOFF) - 1)]
    _schedule_once(
        "xero_sync.tasks.revocation_retry",
        args=(revocation_id,),
        delay_s=delay,
        name=f"xero-revoke-{revocation_id}",
    )


def revocation_retry(revocation_id: int) -> None:
    from xero_sync.models.pending import XeroPendingRevocation
    from xero_sync.services.connection import revocation_attempt

    if revocation_attempt(revocation_id=revocation_id):
        return
    revocation = XeroPendingRevocation.objects.filter(pk=revocation_id).first()
    if revocation is None:
        return
    if revocation.attempts >= 12:
        logger.error("xero.oauth.revoke_gave_up", extra={"revocation": revocation_id})
        return
    enqueue_revocation_retry(revocation_id, attempt=revocation.attempts)
