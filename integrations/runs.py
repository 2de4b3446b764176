"""Sync runs: start a run, report its progress cheaply (one UPDATE each), finish it with its outcome."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.db.models import DateTimeField, F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from integrations.models import SyncRun, SyncRunState
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
        progress={step: {"done": 0, "total": None} for step in steps},
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
        entry = run.progress.setdefault(step, {"done": 0, "total": None})
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
