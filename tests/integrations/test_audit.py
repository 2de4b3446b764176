"""The audit trail: every write to an external system is recorded and can be read back per record."""

import pytest

from integrations.audit import audit_record
from integrations.models import AuditEntry, AuditOutcome, SyncOperation
from integrations.selectors import audit_entries_for_record
from tests.factories import MerchantFactory

pytestmark = pytest.mark.django_db


def write(merchant, **overrides):
    fields = {
        "merchant": merchant,
        "addon_key": "xero",
        "operation": SyncOperation.FEE,
        "endpoint": "POST /Invoices",
        "record_kind": "invoice",
        "record_id": 7,
        "record_label": "INV-0007",
        "idempotency_key": "fee:7:late:2026-11",
        "outcome": AuditOutcome.OK,
        "external_ids": {"InvoiceID": "inv-guid-7", "LineItemIDs": ["l-1", "l-2"]},
        "status_code": 200,
        "duration_ms": 321,
    }
    return audit_record(**{**fields, **overrides})


def test_a_write_is_recorded_with_what_came_back(merchant):
    entry = write(merchant)
    entry.refresh_from_db()
    assert entry.created_at is not None
    assert (entry.operation, entry.record_label, entry.outcome) == ("fee", "INV-0007", "ok")
    assert entry.idempotency_key == "fee:7:late:2026-11"
    assert entry.external_ids["LineItemIDs"] == ["l-1", "l-2"]
    assert (entry.status_code, entry.duration_ms) == (200, 321)


def test_lost_and_failed_writes_are_recorded_too(merchant):
    write(merchant, outcome=AuditOutcome.LOST, status_code=None, external_ids=None, message="read timed out")
    write(merchant, outcome=AuditOutcome.ERROR, status_code=400, message="Invoice # must be unique.")
    assert sorted(AuditEntry.objects.values_list("outcome", flat=True)) == ["error", "lost"]


def test_unknown_outcome_is_refused(merchant):
    with pytest.raises(ValueError):
        write(merchant, outcome="maybe")


def test_no_token_in_audit_messages(merchant):
    token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEyMzQ1In0.c2lnbmF0dXJlLWJ5dGVz"
    entry = write(merchant, outcome=AuditOutcome.ERROR, message=f"401 with Bearer {token}")
    entry.refresh_from_db()
    assert token not in entry.message


def test_history_of_one_record_is_scoped_to_the_merchant(merchant):
    first = write(merchant)
    second = write(merchant, operation=SyncOperation.PAYMENT, idempotency_key="pay:3")
    write(merchant, record_id=8)
    write(MerchantFactory(), record_id=7)
    history = list(audit_entries_for_record(merchant=merchant, record_kind="invoice", record_id=7))
    assert history == [second, first]
