"""Background work: django-q2 is configured sensibly, and with REDIS_URL set tasks really travel through Redis."""

import os

import pytest
from django.conf import settings


def test_q_cluster_settings_are_sane():
    q = settings.Q_CLUSTER
    assert q["timeout"] < q["retry"], "a slow task must be killed before it is handed to a second worker"
    assert 1 <= q["max_attempts"] <= 5
    assert q["catch_up"] is False
    assert q["ack_failures"] is True
    assert q["save_limit"] > 0  # failures are kept for the admin
    if os.environ.get("REDIS_URL"):
        assert q["redis"] == os.environ["REDIS_URL"]
        assert "orm" not in q
    else:
        assert q["orm"] == "default"


@pytest.mark.redis
def test_task_travels_through_redis(db):
    from django_q.brokers import get_broker
    from django_q.signing import SignedPackage
    from django_q.tasks import async_task

    broker = get_broker(list_key="portal-test-queue")
    assert type(broker).__name__ == "Redis"
    broker.purge_queue()
    task_id = async_task("xero_sync.tasks.revocation_retry", 12345, broker=broker)
    assert broker.queue_size() == 1
    [(ack_id, payload)] = broker.dequeue()
    task = SignedPackage.loads(payload)
    assert (task["id"], task["func"], task["args"]) == (task_id, "xero_sync.tasks.revocation_retry", (12345,))
    broker.acknowledge(ack_id)
    broker.purge_queue()
    assert broker.queue_size() == 0
