"""When fees run: just after midnight in the Xero organisation's timezone (hourly check), and after the first sync."""

import datetime as dt
from unittest import mock

import pytest

from xero_sync import tasks
from xero_sync.mapping import organisation_zone
from xero_sync.models import XeroConnection
from xero_sync.services.sync import sync_execute, sync_request

pytestmark = pytest.mark.django_db


def test_organisation_zones():
    assert organisation_zone("NEWZEALANDSTANDARDTIME").key == "Pacific/Auckland"
    assert organisation_zone("EASTERNSTANDARDTIME").key == "America/New_York"
    assert organisation_zone("").key == "UTC"
    assert organisation_zone("NOT A ZONE").key == "UTC"


def test_hourly_check_starts_runs_only_where_it_is_just_past_midnight(connection):
    XeroConnection.objects.filter(pk=connection.pk).update(timezone="NEWZEALANDSTANDARDTIME")
    # 11:30 UTC on 23 Nov = 00:30 on 24 Nov in Auckland (NZDT, UTC+13).
    with mock.patch.object(tasks, "enqueue_fees") as enqueue:
        assert tasks.fees_run_midnight(now=dt.datetime(2026, 11, 23, 11, 30, tzinfo=dt.UTC)) == 1
        enqueue.assert_called_once_with(connection.pk)
    with mock.patch.object(tasks, "enqueue_fees") as enqueue:
        assert tasks.fees_run_midnight(now=dt.datetime(2026, 11, 23, 12, 30, tzinfo=dt.UTC)) == 0
        enqueue.assert_not_called()


def test_first_sync_queues_the_fee_run(connection, django_capture_on_commit_callbacks):
    run = sync_request(connection=connection, enqueue=False)
    with mock.patch.object(tasks, "enqueue_fees") as enqueue, django_capture_on_commit_callbacks(execute=True):
        sync_execute(run_id=run.pk)
    enqueue.assert_called_once_with(connection.pk)
    run = sync_request(connection=connection, kind="manual", enqueue=False)
    with mock.patch.object(tasks, "enqueue_fees") as enqueue, django_capture_on_commit_callbacks(execute=True):
        sync_execute(run_id=run.pk)
    enqueue.assert_not_called()
