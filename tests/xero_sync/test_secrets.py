"""After a full flow (connect through the sandbox, sync, a failed refresh retried, disconnect), no token or secret
is found in plain text in any database table, in the log output, or in django-q2's task and schedule rows."""

import logging

import pytest
from django.apps import apps
from django.db import connection as db
from django.urls import reverse

from integrations.services import installation_create
from tests.xero_sync.conftest import CLIENT_SECRET, WEBHOOK_KEY, connect_through_sandbox
from xero_sync import oauth
from xero_sync.models import XeroConnection

pytestmark = pytest.mark.django_db


def dump_database() -> str:
    """Every row of every table, as stored (encrypted columns stay encrypted)."""
    chunks = []
    with db.cursor() as cursor:
        for model in apps.get_models():
            table = model._meta.db_table
            cursor.execute(f'SELECT * FROM "{table}"')
            chunks.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(chunks)


def test_no_plain_text_secrets_anywhere(admin_client, merchant, xero_org, sandbox_owner, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)
    seen_tokens = []
    real_token_set = oauth._token_set

    def capture(response):
        tokens = real_token_set(response)
        seen_tokens.extend([tokens.access_token, tokens.refresh_token])
        return tokens

    monkeypatch.setattr(oauth, "_token_set", capture)
    installation_create(merchant=merchant, addon_key="xero", user=None)
    connect_through_sandbox(admin_client)
    admin_client.post(reverse("xero_sync:test"))

    from xero_sync.services.connection import connection_refresh_tokens
    from xero_sync.services.sync import sync_execute, sync_request

    connection = XeroConnection.objects.get(merchant=merchant)
    connection_refresh_tokens(connection_id=connection.pk, rejected_access_token=connection.access_token)
    run = sync_request(connection=connection, enqueue=False)
    sync_execute(run_id=run.pk)
    admin_client.post(reverse("xero_sync:disconnect"))

    assert len(seen_tokens) >= 4
    secrets = [t for t in seen_tokens if t] + [CLIENT_SECRET, WEBHOOK_KEY]
    dump = dump_database()
    logs = caplog.text + "\n".join(repr(r.__dict__) for r in caplog.records)
    for secret in secrets:
        assert secret not in dump, "a secret is stored in plain text"
        assert secret not in logs, "a secret reached the logs"
    # The task queue and schedules hold ids only.
    from django_q.models import OrmQ, Schedule

    queued = "\n".join(repr(o.task) for o in OrmQ.objects.all()) + "\n".join(
        repr(s.args) for s in Schedule.objects.all()
    )
    for secret in secrets:
        assert secret not in queued
