"""Running syncs: queue one (a second click joins it), hold a lease so one merchant never has two at once, run the
first sync in order (resuming where a killed one stopped) or an incremental one, and record the run's outcome."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from integrations.errors import sync_error_record, sync_error_resolve_for_record
from integrations.models import SyncRun, SyncRunKind, SyncRunState
from integrations.runs import sync_run_finish, sync_run_progress, sync_run_start, sync_runs_mark_interrupted
from xero_sync import errors
from xero_sync.addon import XERO
from xero_sync.models import ConnectionStatus, XeroConnection, XeroSyncState, XeroWebhookEvent
from xero_sync.services import pull
from xero_sync.services.api import client_for
from xero_sync.services.connection import ConnectionNotActive, connection_mark_needs_reconnect
from xero_sync.services.settings import organisation_refresh

logger = logging.getLogger(__name__)

LEASE = dt.timedelta(minutes=10)
FIRST_SYNC_STEPS = ("accounts", "items", "contacts", "invoices", "customer_types")
INCREMENTAL_STEPS = ("accounts", "items", "contacts", "payments", "invoices")
RECONCILE_STEPS = ("accounts", "items", "contacts", "invoices", "open_invoices", "customer_types")
# First sync reads the open, authorised invoices (receivable and payable); later syncs follow every change.
FIRST_SYNC_INVOICE_STATUSES = "AUTHORISED"


def sync_state_for(connection: XeroConnection) -> XeroSyncState:
    state, _ = XeroSyncState.objects.get_or_create(connection=connection)
    return state


def sync_kind_default(connection: XeroConnection) -> str:
    state = sync_state_for(connection)
    return SyncRunKind.FIRST if state.first_sync_done_at is None else SyncRunKind.MANUAL


def sync_request(*, connection: XeroConnection, kind: str | None = None, enqueue: bool = True) -> SyncRun:
    """Queue a sync (Sync / Sync Now). A click while one is queued or running joins that run."""
    kind = kind or sync_kind_default(connection)
    with transaction.atomic():
        state = XeroSyncState.objects.select_for_update().get(pk=sync_state_for(connection).pk)
        sync_runs_mark_interrupted(merchant=connection.merchant, addon_key=XERO.key, lease_until=state.lease_until)
        if state.queued_run_id:
            active = SyncRun.objects.filter(
                pk=state.queued_run_id, state__in=[SyncRunState.QUEUED, SyncRunState.RUNNING]
            ).first()
            if active is not None:
                return active
        run = sync_run_start(
            merchant=connection.merchant, addon_key=XERO.key, kind=kind, steps=_steps_for(kind), queued=True
        )
        state.queued_run_id = run.pk
        state.save(update_fields=["queued_run_id"])
    if enqueue:
        from xero_sync.tasks import enqueue_sync

        transaction.on_commit(lambda: enqueue_sync(run.pk))
    return run


def _steps_for(kind: str) -> tuple[str, ...]:
    if kind == SyncRunKind.FIRST:
        return FIRST_SYNC_STEPS
    if kind == SyncRunKind.RECONCILE:
        return RECONCILE_STEPS
    if kind == SyncRunKind.WEBHOOK:
        return ("webhook",)
    return INCREMENTAL_STEPS


# --- the lease ----------------------------------------------------------------------------------------------


def _lease_take(state: XeroSyncState, owner: str) -> bool:
    now = timezone.now()
    taken = (
        XeroSyncState.objects.filter(pk=state.pk)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now) | Q(lease_owner=owner))
        .update(lease_owner=owner, lease_until=now + LEASE)
    )
    return taken == 1


def _lease_release(state: XeroSyncState, owner: str) -> None:
    XeroSyncState.objects.filter(pk=state.pk, lease_owner=owner).update(lease_owner="", lease_until=None)


# --- running ------------------------------------------------------------------------------------------------


class SyncBusy(Exception):
    """Another sync of this merchant holds the lease; try again shortly."""


def sync_execute(
    *, run_id: int, client_kwargs: dict | None = None, on_progress: Callable[[SyncRun], None] | None = None
) -> SyncRun:
    """Run a queued sync to its end. Raises SyncBusy when another sync of the merchant is running."""
    run = SyncRun.objects.select_related("merchant").get(pk=run_id)
    if run.state not in (SyncRunState.QUEUED, SyncRunState.RUNNING):
        return run
    connection = XeroConnection.objects.filter(merchant=run.merchant).first()
    if connection is None or connection.status != ConnectionStatus.CONNECTED:
        _finish(run, connection, SyncRunState.FAILED, "Not connected to Xero.")
        return run
    state = sync_state_for(connection)
    owner = uuid.uuid4().hex
    if not _lease_take(state, owner):
        raise SyncBusy()
    client = client_for(connection, **(client_kwargs or {}))
    try:
        _run(run, connection, state, client, on_progress or (lambda run: None))
    except ConnectionNotActive as exc:
        _finish(run, connection, SyncRunState.FAILED, str(exc), client)
    except errors.XeroForbidden as exc:
        connection_mark_needs_reconnect(connection_id=connection.pk)
        _record(connection, "token", "connection", exc)
        _finish(run, connection, SyncRunState.FAILED, str(exc), client)
    except errors.XeroRateLimited as exc:
        _record(connection, "pull", "connection", exc)
        _finish(run, connection, SyncRunState.PARTIAL, f"Paused by Xero's rate limit until {exc.resume_at:%H:%M} UTC.")
        from xero_sync.tasks import enqueue_sync_at

        retry = sync_request(connection=connection, kind=run.kind, enqueue=False)
        enqueue_sync_at(retry.pk, exc.resume_at)
    except errors.XeroError as exc:
        _record(connection, "pull", "connection", exc)
        _finish(run, connection, SyncRunState.FAILED, str(exc), client)
    finally:
        _lease_release(state, owner)
    return run


def _run(run: SyncRun, connection: XeroConnection, state: XeroSyncState, client, on_progress) -> None:
    kind = run.kind
    first = state.first_sync_done_at is None
    if first and kind not in (SyncRunKind.WEBHOOK,):
        kind = SyncRunKind.FIRST
    resume = state.checkpoint if first and state.checkpoint.get("run_kind") == SyncRunKind.FIRST else {}

    def progress(**kw):
        sync_run_progress(run=run, counts=dict(ctx.counts), **kw)
        on_progress(run)

    def page_done(step: str, page: int):
        XeroSyncState.objects.filter(pk=state.pk).update(
            checkpoint={"run_kind": kind, "step": step, "page": page + 1}, lease_until=timezone.now() + LEASE
        )

    since = {} if kind in (SyncRunKind.FIRST, SyncRunKind.RECONCILE) else _watermarks(state)
    ctx = pull.PullContext(connection=connection, client=client, since=since, progress=progress, on_page_done=page_done)
    if kind == SyncRunKind.WEBHOOK:
        steps = {"webhook": lambda: webhook_events_process(ctx)}
    else:
        steps = _step_functions(ctx, kind)
    started_at = timezone.now()
    skipping = bool(resume.get("step"))
    for name, step in steps.items():
        if skipping and name != resume["step"]:
            continue  # finished before the interruption
        ctx.start_page = int(resume.get("page", 1)) if skipping else 1
        skipping = False
        sync_run_progress(run=run, step=name, counts=dict(ctx.counts))
        on_progress(run)
        done = step()
        XeroSyncState.objects.filter(pk=state.pk).update(
            checkpoint={"run_kind": kind, "step": _next_step(steps, name), "page": 1},
            lease_until=timezone.now() + LEASE,
        )
        entry = run.progress.get(name) or {}
        done = max(done or 0, entry.get("done") or 0)
        sync_run_progress(run=run, step=name, done=done, total=max(done, entry.get("total") or 0))
        on_progress(run)
    _success(state, ctx, kind, started_at)
    _finish(run, connection, SyncRunState.SUCCEEDED, "", client, counts=dict(ctx.counts))
    if kind == SyncRunKind.FIRST:  # fees are applied by the write-back right after the first sync
        from xero_sync.tasks import enqueue_fees

        transaction.on_commit(lambda: enqueue_fees(connection.pk))
    sync_error_resolve_for_record(
        merchant=connection.merchant, addon_key=XERO.key, operation="pull", record_kind="connection", record_id=None
    )


def _next_step(steps: dict, name: str) -> str:
    names = list(steps)
    index = names.index(name)
    return names[index + 1] if index + 1 < len(names) else ""


def _step_functions(ctx: pull.PullContext, kind: str) -> dict[str, Callable[[], int]]:
    if kind in (SyncRunKind.FIRST, SyncRunKind.RECONCILE):
        steps = {
            "accounts": lambda: _accounts_and_org(ctx),
            "items": lambda: pull.items_pull(ctx, ensure_system_items=True),
            "contacts": lambda: pull.contacts_pull(ctx),
            "invoices": lambda: pull.invoices_pull(ctx, statuses=FIRST_SYNC_INVOICE_STATUSES),
        }
        if kind == SyncRunKind.RECONCILE:
            # What If-Modified-Since misses: open invoices Xero no longer lists as open.
            steps["open_invoices"] = lambda: pull.open_invoices_recheck(ctx)
        steps["customer_types"] = lambda: pull.customer_types_pull(ctx)
        return steps
    return {
        "accounts": lambda: pull.accounts_pull(connection=ctx.connection, client=ctx.client, ctx=ctx),
        "items": lambda: pull.items_pull(ctx),
        "contacts": lambda: pull.contacts_pull(ctx),
        "payments": lambda: pull.payments_pull(ctx),
        "invoices": lambda: pull.invoices_pull(ctx),
    }


def _accounts_and_org(ctx: pull.PullContext) -> int:
    if not ctx.connection.short_code:
        organisation_refresh(connection=ctx.connection, client=ctx.client)
    pull.tax_rates_pull(ctx)
    return pull.accounts_pull(connection=ctx.connection, client=ctx.client, ctx=ctx)


def _watermarks(state: XeroSyncState) -> dict[str, dt.datetime | None]:
    return {entity: dt.datetime.fromisoformat(value) for entity, value in (state.watermarks or {}).items() if value}


def _success(state: XeroSyncState, ctx: pull.PullContext, kind: str, started_at: dt.datetime) -> None:
    marks = dict(state.watermarks or {})
    for entity, moment in ctx.server_time.items():
        marks[entity] = moment.isoformat()
    if kind == SyncRunKind.FIRST:
        # Everything after the first sync's start is picked up by the next incremental sync.
        for entity in ("payments", "invoices", "contacts", "accounts", "items"):
            marks.setdefault(entity, (ctx.server_time.get(entity) or started_at).isoformat())
    now = timezone.now()
    changes = {"watermarks": marks, "last_success_at": now, "checkpoint": {}}
    if kind == SyncRunKind.FIRST:
        changes["first_sync_done_at"] = now
    if kind == SyncRunKind.RECONCILE:
        changes["last_reconcile_at"] = now
    XeroSyncState.objects.filter(pk=state.pk).update(**changes)


def _finish(run, connection, outcome, message, client=None, counts=None) -> None:
    sync_run_finish(run=run, state=outcome, error_summary=message, counts=counts, api_calls=_calls(run, client))
    if connection is not None:
        XeroSyncState.objects.filter(connection=connection, queued_run_id=run.pk).update(queued_run_id=None)


def _calls(run: SyncRun, client) -> int:
    # Progress updates did not count calls; the run's total is the client's count.
    return max(0, (client.calls if client else 0) - run.api_calls)


def _record(connection: XeroConnection, operation: str, record_kind: str, exc: errors.XeroError) -> None:
    rate_limited = isinstance(exc, errors.XeroRateLimited)
    sync_error_record(
        merchant=connection.merchant,
        addon_key=XERO.key,
        operation=operation,
        record_kind=record_kind,
        record_label=connection.tenant_name,
        # A limit the client saw coming never reached Xero, so it has no status of its own.
        status_code=exc.status_code or (429 if rate_limited else None),
        message=exc.detail or exc.message,
        response_excerpt=exc.response_excerpt,
        hint_params={"resume_at": exc.resume_at} if rate_limited else None,
    )


# --- webhooks -----------------------------------------------------------------------------------------------


def webhook_events_process(ctx: pull.PullContext) -> int:
    """Fetch the records behind the waiting events in batches: never one call per event. Duplicates collapse,
    and because Xero's current state is what gets fetched, order does not matter."""
    pending = list(
        XeroWebhookEvent.objects.filter(tenant_id=ctx.connection.tenant_id, processed_at__isnull=True).values_list(
            "pk", "category", "resource_id"
        )
    )
    by_category: dict[str, set[str]] = {}
    for _pk, category, resource_id in pending:
        by_category.setdefault(category, set()).add(resource_id)
    if by_category.get("CONTACT"):
        pull.contacts_fetch_by_id(ctx, by_category["CONTACT"])
    if by_category.get("INVOICE"):
        pull.invoices_fetch_by_id(ctx, by_category["INVOICE"])
    XeroWebhookEvent.objects.filter(pk__in=[pk for pk, _c, _r in pending]).update(processed_at=timezone.now())
    ctx.counts["webhook_events"] += len(pending)
    if XeroWebhookEvent.objects.filter(tenant_id=ctx.connection.tenant_id, processed_at__isnull=True).exists():
        # Events that arrived while this ran found a sync already waiting, so none was queued for them.
        transaction.on_commit(lambda: _webhook_followup(ctx.connection))
    return len(pending)


def _webhook_followup(connection: XeroConnection) -> None:
    from xero_sync.tasks import webhook_events_dispatch

    webhook_events_dispatch(connection.tenant_id)
