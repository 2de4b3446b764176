"""Runs a killed worker left "running": marked failed (interrupted) when the next sync of the merchant starts, or by
the daily sweep, once the sync lease has run out; never while a live worker holds it."""

import datetime as dt

import pytest
from django.utils import timezone

from integrations.models import SyncRun, SyncRunKind, SyncRunState
from integrations.runs import (
    INTERRUPTED_SUMMARY,
    sync_run_start,
    sync_runs_interrupted_sweep,
    sync_runs_mark_interrupted,
)
from integrations.schedules import schedules_ensure
from tests.factories import MerchantFactory
from xero_sync.models import ConnectionStatus, XeroConnection, XeroSyncState

pytestmark = pytest.mark.django_db
NOW = timezone.now()


@pytest.fixture
def connection(merchant):
    return XeroConnection.objects.create(
        merchant=merchant, status=ConnectionStatus.CONNECTED, tenant_id="t-1", tenant_name="Harbour Plumbing Ltd"
    )


def running(merchant, kind=SyncRunKind.MANUAL) -> SyncRun:
    return sync_run_start(merchant=merchant, addon_key="xero", kind=kind, steps=("contacts",))


def test_a_running_sync_with_an_expired_lease_is_marked_interrupted(merchant):
    dead = running(merchant)
    assert (
        sync_runs_mark_interrupted(
            merchant=merchant, addon_key="xero", lease_until=NOW - dt.timedelta(minutes=1), now=NOW
        )
        == 1
    )
    dead.refresh_from_db()
    assert dead.state == SyncRunState.FAILED
    assert dead.error_summary == INTERRUPTED_SUMMARY and dead.finished_at == NOW


def test_nothing_is_marked_while_the_lease_is_held(merchant):
    alive = running(merchant)
    assert (
        sync_runs_mark_interrupted(
            merchant=merchant, addon_key="xero", lease_until=NOW + dt.timedelta(minutes=5), now=NOW
        )
        == 0
    )
    alive.refresh_from_db()
    assert alive.state == SyncRunState.RUNNING


def test_queued_finished_and_write_back_runs_are_left_alone(merchant):
    queued = sync_run_start(merchant=merchant, addon_key="xero", kind=SyncRunKind.MANUAL, queued=True)
    fees = running(merchant, kind=SyncRunKind.FEES)
    other = running(MerchantFactory())
    keep = running(merchant)
    marked = sync_runs_mark_interrupted(merchant=merchant, addon_key="xero", lease_until=None, except_run_id=keep.pk)
    assert marked == 0
    states = dict(SyncRun.objects.values_list("pk", "state"))
    assert states[queued.pk] == SyncRunState.QUEUED
    assert states[fees.pk] == states[other.pk] == states[keep.pk] == SyncRunState.RUNNING


def test_sync_now_after_a_killed_worker_starts_a_new_run_instead_of_joining_the_dead_one(merchant, connection):
    from xero_sync.services.sync import sync_request

    dead = sync_request(connection=connection, enqueue=False)
    SyncRun.objects.filter(pk=dead.pk).update(state=SyncRunState.RUNNING, started_at=NOW)
    state = XeroSyncState.objects.get(connection=connection)
    # The killed worker's lease ran out a minute ago.
    XeroSyncState.objects.filter(pk=state.pk).update(lease_owner="dead", lease_until=NOW - dt.timedelta(minutes=1))
    run = sync_request(connection=connection, enqueue=False)
    assert run.pk != dead.pk and run.state == SyncRunState.QUEUED
    dead.refresh_from_db()
    assert dead.state == SyncRunState.FAILED and "Interrupted" in dead.error_summary


def test_sync_now_while_a_live_worker_runs_joins_that_run(merchant, connection):
    from xero_sync.services.sync import sync_request

    live = sync_request(connection=connection, enqueue=False)
    SyncRun.objects.filter(pk=live.pk).update(state=SyncRunState.RUNNING, started_at=NOW)
    XeroSyncState.objects.filter(connection=connection).update(
        lease_owner="alive", lease_until=timezone.now() + dt.timedelta(minutes=5)
    )
    assert sync_request(connection=connection, enqueue=False).pk == live.pk


def test_the_daily_sweep_marks_dead_runs_of_every_merchant_with_an_expired_lease(merchant, connection):
    dead = running(merchant)
    XeroSyncState.objects.create(connection=connection, lease_owner="dead", lease_until=NOW - dt.timedelta(hours=1))
    other = MerchantFactory()
    other_connection = XeroConnection.objects.create(
        merchant=other, status=ConnectionStatus.CONNECTED, tenant_id="t-2", tenant_name="Other Ltd"
    )
    alive = running(other)
    XeroSyncState.objects.create(
        connection=other_connection, lease_owner="alive", lease_until=NOW + dt.timedelta(minutes=5)
    )
    assert sync_runs_interrupted_sweep(now=NOW) == 1
    dead.refresh_from_db()
    alive.refresh_from_db()
    assert dead.state == SyncRunState.FAILED and alive.state == SyncRunState.RUNNING


def test_the_sweep_has_a_daily_schedule():
    names = dict(schedules_ensure())
    assert "integrations-interrupted-runs" in names
