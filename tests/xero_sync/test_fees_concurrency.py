"""Two fee runs at the same moment on PostgreSQL (real transactions, two connections): every fee lands once."""

import threading
from collections import Counter

import pytest
from django.db import connection as db_connection

from tests.xero_sync.test_fees import enable_late_fee, far_future, first_sync
from xero_sandbox.models import Invoice as XInvoice
from xero_sync.models import WriteState, XeroWrite
from xero_sync.services.fees import fees_apply

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_runs_at_once_apply_each_fee_once(connection, xero_org):
    first_sync(connection)
    enable_late_fee(connection.merchant)
    today = far_future(xero_org)
    start = threading.Barrier(2)
    failures = []

    def worker():
        try:
            start.wait(timeout=10)
            fees_apply(connection=connection, today=today)
        except Exception as exc:
            failures.append(exc)
        finally:
            db_connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures
    for xinv in XInvoice.objects.filter(org=xero_org, type="ACCREC").prefetch_related("lines"):
        fee_lines = Counter(line.description for line in xinv.lines.all() if line.item_code == "LATE-FEE")
        assert all(count == 1 for count in fee_lines.values()), xinv.number
    rows = XeroWrite.objects.filter(merchant=connection.merchant)
    assert rows.exists() and not rows.exclude(state__in=[WriteState.SYNCED, WriteState.HELD]).exists()
