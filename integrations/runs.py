"""Sync runs: start a run, report its progress cheaply (one UPDATE each), finish it with its outcome, and mark
runs a killed worker left "running" as interrupted."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence

from django.db.models import DateTimeField, F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from integrations.models import SyncRun, SyncRunKind, SyncRunState
from integrations.redact import redact_text, truncate
from portal.models import Merchant

logger = logging.getLogger(__name__)


def sync_run_start(
    *, merchant: Merchant, addon_key: str, kind: str, steps: Sequence[str] = (), queued: bool = False
) -> SyncRun:
    """A new run, running now (or queued: it then starts running at its first progress update)."""
    now = timezone.now()
    return SyncRun.objects.create(
        merchant=merchant,
        addon_key=addon_key,
        kind=kind,
        state=SyncRunState.QUEUED if queued else SyncRunState.RUNNING,
        started_at=None if queued else now,
        # "n" keeps the steps in order: PostgreSQL's jsonb does not keep the order of keys.
        progress={step: {"done": 0, "total": None, "n": n} for n, step in enumerate(steps)},
    )


def sync_run_progress(
    *,
    run: SyncRun,
    step: str | None = None,
    done: int | None = None,
    total: int | None = None,
    counts: dict[str, int] | None = None,
    api_calls: int = 0,
) -> None:
    """Record progress in one UPDATE: a step's done/total, counts per entity, and API calls made (added).

    The run's worker owns `progress` and `counts`, so the in-memory copy is written whole; `api_calls` is
    added in SQL so other code paths may count calls too. Finished runs are left untouched.
    """
    if step:
        entry = run.progress.setdefault(step, {"done": 0, "total": None, "n": len(run.progress)})
        if done is not None:
            entry["done"] = done
        if total is not None:
            entry["total"] = total
        run.current_step = step
    if counts:
        run.counts.update(counts)
    now = timezone.now()
    changes = {
        "progress": run.progress,
        "counts": run.counts,
        "current_step": run.current_step,
        "state": SyncRunState.RUNNING,
        "started_at": Coalesce(F("started_at"), Value(now), output_field=DateTimeField()),
    }
    if api_calls:
        changes["api_calls"] = F("api_calls") + api_calls
    SyncRun.objects.filter(pk=run.pk, state__in=[SyncRunState.QUEUED, SyncRunState.RUNNING]).update(**changes)
    run.state = SyncRunState.RUNNING
    run.started_at = run.started_at or now
    run.api_calls += api_calls


def sync_run_finish(
    *,
    run: SyncRun,
    state: str = SyncRunState.SUCCEEDED,
    error_summary: str = "",
    counts: dict[str, int] | None = None,
    api_calls: int = 0,
) -> None:
    """Close the run with its outcome (succeeded, failed or partial) in one UPDATE."""
    if counts:
        run.counts.update(counts)
    now = timezone.now()
    summary = truncate(redact_text(error_summary), limit=2000)
    SyncRun.objects.filter(pk=run.pk).update(
        state=state,
        finished_at=now,
        started_at=Coalesce(F("started_at"), Value(now), output_field=DateTimeField()),
        counts=run.counts,
        error_summary=summary,
        api_calls=F("api_calls") + api_calls,
    )
    run.state, run.finished_at, run.error_summary = state, now, summary
    run.started_at = run.started_at or now
    run.api_calls += api_calls
    logger.info(
        "integrations.sync_run.finished",
        extra={"run_id": run.pk, "merchant_id": run.merchant_id, "state": state, "kind": run.kind},
    )


# --- runs left behind by a killed worker --------------------------------------------------------------------

INTERRUPTED_SUMMARY = (
    "Interrupted: the worker running this sync stopped (restarted or killed) before it finished. "
    "The next sync picks up where it left off."
)
# Kinds run under the add-on's per-merchant lease (write-back runs keep their own bookkeeping).
LEASED_KINDS = (SyncRunKind.FIRST, SyncRunKind.WEBHOOK, SyncRunKind.POLL, SyncRunKind.MANUAL, SyncRunKind.RECONCILE)

LeaseUntil = Callable[[Merchant], dt.datetime | None]  # when the merchant's sync lease runs out (None: not held)
_LEASES: dict[str, LeaseUntil] = {}


def register_lease(*, addon_key: str, lease_until: LeaseUntil) -> None:
    """An add-on that runs syncs under a lease says how to read it, so the daily sweep can find dead runs."""
    _LEASES[addon_key] = lease_until


def unregister_lease(*, addon_key: str) -> None:
    _LEASES.pop(addon_key, None)


def sync_runs_mark_interrupted(
    *,
    merchant: Merchant,
    addon_key: str,
    lease_until: dt.datetime | None,
    except_run_id: int | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Mark the merchant's running syncs failed ("interrupted") when the lease a live worker would keep
    extending has run out; returns how many. Does nothing while the lease is held."""
    now = now or timezone.now()
    if lease_until is not None and lease_until >= now:
        return 0
    runs = SyncRun.objects.filter(
        merchant=merchant, addon_key=addon_key, state=SyncRunState.RUNNING, kind__in=LEASED_KINDS
    )
    if except_run_id is not None:
        runs = runs.exclude(pk=except_run_id)
    marked = runs.update(
        state=SyncRunState.FAILED,
        finished_at=now,
        started_at=Coalesce(F("started_at"), Value(now), output_field=DateTimeField()),
        error_summary=INTERRUPTED_SUMMARY,
    )
    if marked:
        logger.warning(
            "integrations.sync_run.interrupted",
            extra={"merchant_id": merchant.pk, "addon_key": addon_key, "runs": marked},
        )
    return marked


def sync_runs_interrupted_sweep(*, now: dt.datetime | None = None) -> int:
    """The daily backstop: every running sync whose add-on's lease has run out is marked interrupted."""
    now = now or timezone.now()
    marked = 0
    running = (
        SyncRun.objects.filter(state=SyncRunState.RUNNING, kind__in=LEASED_KINDS, addon_key__in=list(_LEASES))
        .values_list("merchant_id", "addon_key")
        .distinct()
    )
    merchants = Merchant.objects.in_bulk({merchant_id for merchant_id, _ in running})
    for merchant_id, addon_key in set(running):
        merchant = merchants[merchant_id]
        lease_until = _LEASES[addon_key](merchant)
        marked += sync_runs_mark_interrupted(merchant=merchant, addon_key=addon_key, lease_until=lease_until, now=now)
    return marked
