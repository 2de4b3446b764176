"""Twenty workers needing a token at once on PostgreSQL (real row locks): exactly one refresh call to Xero,
everyone gets the newest token, nobody sees invalid_grant, and the stored pair is the rotated one."""

import datetime as dt
import threading
import time

import pytest
from django.db import connections
from django.utils import timezone

from tests.factories import MerchantFactory
from xero_sync import oauth
from xero_sync.models import ConnectionStatus, XeroConnection
from xero_sync.services.connection import connection_access_token

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_twenty_workers_cause_one_refresh(monkeypatch):
    connection = XeroConnection.objects.create(
        merchant=MerchantFactory(),
        status=ConnectionStatus.CONNECTED,
        tenant_id="tenant-lock",
        access_token="expired-access",
        refresh_token="refresh-1",
        access_expires_at=timezone.now() - dt.timedelta(minutes=5),
    )
    calls = []
    used = set()

    def fake_refresh(*, refresh_token, session=None):
        # Like Xero: the refresh token rotates, and using a spent one (outside the grace) is invalid_grant.
        if refresh_token in used:
            raise oauth.OAuthError("invalid_grant")
        used.add(refresh_token)
        calls.append(refresh_token)
        time.sleep(0.3)  # a slow identity server makes the race wide open
        n = len(calls) + 1
        return oauth.TokenSet(access_token=f"access-{n}", refresh_token=f"refresh-{n}", expires_in=1800)

    monkeypatch.setattr(oauth, "refresh", fake_refresh)
    results, failures = [], []
    start = threading.Barrier(20)

    def worker():
        try:
            start.wait(timeout=10)
            results.append(connection_access_token(connection_id=connection.pk))
        except Exception as exc:  # collected and asserted below
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert not failures, failures
    assert calls == ["refresh-1"]
    assert results == ["access-2"] * 20
    connection.refresh_from_db()
    assert (connection.access_token, connection.refresh_token) == ("access-2", "refresh-2")
    assert connection.status == ConnectionStatus.CONNECTED
