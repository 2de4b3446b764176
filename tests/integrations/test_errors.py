"""The sync error log: one row per problem and record (counted, not duplicated), resolving, dismissing,
retrying, sync runs and their cheap progress updates, the navigation badge."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from integrations import retry
from integrations.errors import (
    sync_error_dismiss,
    sync_error_mark_resolved,
    sync_error_record,
    sync_error_resolve_for_record,
    sync_errors_retry,
)
from integrations.models import SyncError, SyncErrorState, SyncOperation, SyncRun, SyncRunKind, SyncRunState
from integrations.runs import sync_run_finish, sync_run_progress, sync_run_start
from integrations.selectors import (
    sync_errors_open,
    sync_errors_open_count,
    sync_run_active,
    sync_run_last_succeeded,
    sync_runs_recent,
)
from tests.factories import InvoiceFactory, MerchantFactory

pytestmark = pytest.mark.django_db

DUPLICATE_NUMBER = "Invoice # must be unique."


def record_push_error(merchant, invoice_id=42, message=DUPLICATE_NUMBER, **extra):
    return sync_error_record(
        merchant=merchant,
        addon_key="xero",
        operation=SyncOperation.PUSH,
        record_kind="invoice",
        record_id=invoice_id,
        record_label=f"INV-{invoice_id}",
        status_code=400,
        message=message,
        **extra,
    )


# --- Counting instead of duplicating ---


def test_first_occurrence_is_an_open_error_with_its_hint(merchant):
    error = record_push_error(merchant, retry_payload={"invoice_id": 42})
    assert error.state == SyncErrorState.OPEN
    assert error.count == 1
    assert error.first_seen == error.last_seen
    assert error.hint_key == "invoice_number_not_unique"
    assert "starting invoice number" in error.fix
    assert error.retry_payload == {"invoice_id": 42}


def test_repeats_count_and_move_last_seen_without_new_rows(merchant):
    first = record_push_error(merchant)
    for _ in range(4):
        again = record_push_error(merchant)
    assert SyncError.objects.count() == 1
    assert again.pk == first.pk
    assert again.count == 5
    assert again.first_seen == first.first_seen
    assert again.last_seen > first.last_seen


def test_repeat_keeps_latest_words_and_earlier_details(merchant):
    record_push_error(
        merchant,
        message="Account code '476' has been removed as it does not match a recognised account.",
        external_id="inv-guid-1",
        response_excerpt='{"Message": "first"}',
    )
    error = record_push_error(merchant, message="Account must be valid.")
    assert error.count == 2
    assert error.message == "Account must be valid."
    assert error.external_id == "inv-guid-1"  # not told this time: kept
    assert "first" in error.response_excerpt


def test_different_records_problems_operations_and_merchants_get_their_own_rows(merchant):
    other_merchant = MerchantFactory()
    record_push_error(merchant, invoice_id=1)
    record_push_error(merchant, invoice_id=2)
    record_push_error(merchant, invoice_id=1, message="Tax rate must be valid.")
    record_push_error(other_merchant, invoice_id=1)
    sync_error_record(
        merchant=merchant,
        addon_key="xero",
        operation=SyncOperation.FEE,
        record_kind="invoice",
        record_id=1,
        message=DUPLICATE_NUMBER,
    )
    assert SyncError.objects.count() == 5
    assert sync_errors_open_count(merchant) == 4


def test_unknown_messages_are_kept_apart_but_numbers_in_them_do_not_split_rows(merchant):
    record_push_error(merchant, message="Something odd happened to line 3")
    record_push_error(merchant, message="Something odd happened to line 4")
    record_push_error(merchant, message="A completely different oddity")
    rows = SyncError.objects.order_by("first_seen")
    assert [r.count for r in rows] == [2, 1]
    assert {r.hint_key for r in rows} == {"unknown"}


def test_errors_without_a_portal_id_are_counted_by_external_id_then_label(merchant):
    for _ in range(2):
        sync_error_record(
            merchant=merchant,
            addon_key="xero",
            operation=SyncOperation.PULL,
            record_kind="contact",
            external_id="c-guid",
            message="The contact name Bob is already assigned to another contact.",
        )
        sync_error_record(
            merchant=merchant,
            addon_key="xero",
            operation=SyncOperation.TOKEN,
            record_kind="connection",
            status_code=400,
            message='{"error":"invalid_grant"}',
        )
    assert sorted(SyncError.objects.values_list("hint_key", "count")) == [
        ("duplicate_contact_name", 2),
        ("reconnect_required", 2),
    ]


def test_recurrence_after_resolution_reopens_as_a_new_episode(merchant, admin_user):
    error = record_push_error(merchant)
    record_push_error(merchant)
    sync_error_mark_resolved(error=error, user=admin_user)
    assert sync_errors_open_count(merchant) == 0
    reopened = record_push_error(merchant)
    assert reopened.pk == error.pk
    assert reopened.state == SyncErrorState.OPEN
    assert reopened.count == 1
    assert reopened.first_seen > error.first_seen
    assert reopened.resolved_by is None and reopened.resolved_at is None


def test_recording_inside_a_callers_transaction_counts_too(merchant):
    """Write-back code records errors inside its own transactions; savepoints keep those intact."""
    from django.db import transaction

    with transaction.atomic():
        record_push_error(merchant)
        record_push_error(merchant)
        InvoiceFactory(merchant=merchant)
    assert SyncError.objects.get().count == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_records_of_the_same_problem_make_one_row_with_every_occurrence_counted():
    merchant = MerchantFactory()
    workers = 8
    barrier = threading.Barrier(workers)
    failures = []

    def work():
        try:
            barrier.wait(timeout=10)
            for _ in range(5):
                record_push_error(merchant)
        except Exception as exc:  # surfaced in the assertion below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not failures
    assert SyncError.objects.count() == 1
    assert SyncError.objects.get().count == workers * 5


# --- Secrets never stored ---


def test_stored_excerpts_and_messages_carry_no_token(merchant):
    access = "eyJhbGciOiJSUzI1NiIsImtpZCI6IjFDQUY4RTY2In0.eyJuYmYiOjE3MDAwMDAwMDB9.c2lnbmF0dXJlLXBhcnQ"
    refresh = "a" * 8 + "0123456789abcdef" * 4
    error = sync_error_record(
        merchant=merchant,
        addon_key="xero",
        operation=SyncOperation.TOKEN,
        record_kind="connection",
        status_code=400,
        message=f"invalid_grant for refresh_token={refresh}",
        request_excerpt={
            "headers": {"Authorization": f"Bearer {access}", "xero-tenant-id": "t-1"},
            "body": f"grant_type=refresh_token&refresh_token={refresh}&client_secret=s3cr3t-value",
        },
        response_excerpt=f'{{"error": "invalid_grant", "access_token": "{access}"}}'.encode(),
    )
    error.refresh_from_db()
    stored = " ".join([error.message, error.request_excerpt, error.response_excerpt])
    for secret in (access, refresh, "s3cr3t-value"):
        assert secret not in stored
    assert "t-1" in error.request_excerpt  # the tenant id helps troubleshooting and is not a secret


def test_retry_payload_refuses_secret_looking_keys(merchant):
    with pytest.raises(ValueError, match="ids only"):
        record_push_error(merchant, retry_payload={"invoice_id": 1, "access_token": "x"})
    assert not SyncError.objects.exists()


# --- Closing errors ---


def test_next_successful_attempt_closes_the_records_open_errors_for_that_operation(merchant):
    push = record_push_error(merchant, invoice_id=7)
    other_record = record_push_error(merchant, invoice_id=8)
    fee = sync_error_record(
        merchant=merchant,
        addon_key="xero",
        operation=SyncOperation.FEE,
        record_kind="invoice",
        record_id=7,
        message="This document cannot be edited as it has a payment or credit note allocated to it.",
    )
    closed = sync_error_resolve_for_record(
        merchant=merchant, addon_key="xero", operation=SyncOperation.PUSH, record_kind="invoice", record_id=7
    )
    assert closed == 1
    push.refresh_from_db()
    assert push.state == SyncErrorState.RESOLVED and push.resolved_at and push.resolved_by is None
    assert {e.pk for e in sync_errors_open(merchant=merchant)} == {other_record.pk, fee.pk}


def test_resolving_by_external_id_and_record_less_connection_errors(merchant):
    pulled = sync_error_record(
        merchant=merchant,
        addon_key="xero",
        operation=SyncOperation.PULL,
        record_kind="invoice",
        external_id="guid-9",
        message="Weird",
    )
    token = sync_error_record(
        merchant=merchant,
        addon_key="xero",
        operation=SyncOperation.TOKEN,
        record_kind="connection",
        message="invalid_grant",
    )
    sync_error_resolve_for_record(
        merchant=merchant,
        addon_key="xero",
        operation=SyncOperation.PULL,
        record_kind="invoice",
        record_id=3,
        external_id="guid-9",
    )
    sync_error_resolve_for_record(
        merchant=merchant, addon_key="xero", operation=SyncOperation.TOKEN, record_kind="connection"
    )
    assert set(SyncError.objects.values_list("state", flat=True)) == {SyncErrorState.RESOLVED}
    assert pulled.pk != token.pk


def test_dismiss_records_who_and_why(merchant, admin_user):
    error = record_push_error(merchant)
    sync_error_dismiss(error=error, user=admin_user, note="Entered by hand in Xero")
    assert error.state == SyncErrorState.DISMISSED
    assert error.resolved_by == admin_user
    assert error.resolution_note == "Entered by hand in Xero"
    assert sync_errors_open_count(merchant) == 0


# --- Retry ---


def test_retry_enqueues_the_registered_handler_with_the_error_id_only(
    merchant, monkeypatch, django_capture_on_commit_callbacks
):
    calls = []
    monkeypatch.setattr("integrations.errors.async_task", lambda *args, **kw: calls.append(args))
    retry.register(addon_key="xero", operation=SyncOperation.PUSH, handler="xero_sync.tasks.retry_push")
    try:
        error = record_push_error(merchant)
        with django_capture_on_commit_callbacks(execute=True):
            outcome = sync_errors_retry(errors=[error])
    finally:
        retry.unregister(addon_key="xero", operation=SyncOperation.PUSH)
    assert outcome.enqueued == [error]
    assert calls == [("xero_sync.tasks.retry_push", error.pk)]
    error.refresh_from_db()
    assert error.state == SyncErrorState.RETRYING
    assert sync_errors_open_count(merchant) == 1  # still needs attention until it succeeds


def test_retry_without_a_handler_changes_nothing(merchant, monkeypatch):
    monkeypatch.setattr(retry, "_HANDLERS", {})  # an add-on that cannot retry this operation
    monkeypatch.setattr("integrations.errors.async_task", lambda *a, **k: pytest.fail("nothing to enqueue"))
    error = record_push_error(merchant)
    outcome = sync_errors_retry(errors=[error])
    assert outcome.no_handler == [error]
    error.refresh_from_db()
    assert error.state == SyncErrorState.OPEN


def test_a_failed_retry_goes_back_to_open_and_counts(merchant, monkeypatch):
    monkeypatch.setattr("integrations.errors.async_task", lambda *a, **k: None)
    retry.register(addon_key="xero", operation=SyncOperation.PUSH, handler="h")
    try:
        error = record_push_error(merchant)
        sync_errors_retry(errors=[error])
    finally:
        retry.unregister(addon_key="xero", operation=SyncOperation.PUSH)
    again = record_push_error(merchant)
    assert again.state == SyncErrorState.OPEN
    assert again.count == 2


# --- Navigation badge ---


def test_nav_badge_shows_open_errors_of_the_current_merchant_only(admin_client, merchant):
    record_push_error(merchant, invoice_id=1)
    record_push_error(merchant, invoice_id=2)
    record_push_error(MerchantFactory(), invoice_id=3)
    response = admin_client.get(reverse("portal:dashboard"))
    assert response.context["nav_open_errors"] == 2
    assert 'title="Open sync errors">2</span>' in response.content.decode()


def test_nav_badge_is_absent_without_errors_and_without_a_merchant(admin_client, client, rf):
    from django.contrib.auth.models import AnonymousUser

    from integrations.context_processors import sync_errors

    assert admin_client.get(reverse("portal:dashboard")).context["nav_open_errors"] == 0
    request = rf.get("/")
    request.user = AnonymousUser()
    assert sync_errors(request) == {"nav_open_errors": 0}


def test_nav_badge_costs_one_query(rf, merchant, django_assert_num_queries):
    from integrations.context_processors import sync_errors

    record_push_error(merchant)
    request = rf.get("/")
    request.merchant = merchant
    with django_assert_num_queries(1):
        assert sync_errors(request) == {"nav_open_errors": 1}


# --- Sync runs ---


def test_sync_run_from_start_to_finish(merchant):
    run = sync_run_start(
        merchant=merchant, addon_key="xero", kind=SyncRunKind.FIRST, steps=["accounts", "contacts", "invoices"]
    )
    assert sync_run_active(merchant=merchant, addon_key="xero") == run
    sync_run_progress(run=run, step="accounts", done=40, total=40, api_calls=1, counts={"accounts": 40})
    sync_run_progress(run=run, step="contacts", done=100, total=300, api_calls=1)
    stored = SyncRun.objects.get(pk=run.pk)
    assert stored.current_step == "contacts"
    assert [(s["name"], s["percent"]) for s in stored.steps] == [
        ("accounts", 100),
        ("contacts", 33),
        ("invoices", None),
    ]
    assert stored.api_calls == 2
    sync_run_finish(run=run, counts={"contacts": 300, "invoices": 0}, api_calls=1)
    stored.refresh_from_db()
    assert stored.state == SyncRunState.SUCCEEDED
    assert stored.finished_at >= stored.started_at
    assert stored.counts == {"accounts": 40, "contacts": 300, "invoices": 0}
    assert stored.api_calls == 3
    assert sync_run_active(merchant=merchant, addon_key="xero") is None
    assert sync_run_last_succeeded(merchant=merchant, addon_key="xero") == run


def test_progress_update_is_a_single_query(merchant, django_assert_num_queries):
    run = sync_run_start(merchant=merchant, addon_key="xero", kind=SyncRunKind.MANUAL, steps=["invoices"])
    with django_assert_num_queries(1):
        sync_run_progress(run=run, step="invoices", done=500, total=1000, api_calls=1, counts={"invoices": 500})
    with django_assert_num_queries(1):
        sync_run_finish(run=run, state=SyncRunState.PARTIAL, error_summary="3 invoices failed")


def test_queued_run_starts_running_at_its_first_progress(merchant):
    run = sync_run_start(merchant=merchant, addon_key="xero", kind=SyncRunKind.MANUAL, queued=True)
    assert run.state == SyncRunState.QUEUED and run.started_at is None
    sync_run_progress(run=run, step="contacts", done=0, total=10)
    run.refresh_from_db()
    assert run.state == SyncRunState.RUNNING and run.started_at is not None


def test_late_progress_does_not_reopen_a_finished_run(merchant):
    run = sync_run_start(merchant=merchant, addon_key="xero", kind=SyncRunKind.POLL)
    sync_run_finish(run=run, state=SyncRunState.FAILED, error_summary="Xero offline")
    sync_run_progress(run=run, step="contacts", done=1)
    run.refresh_from_db()
    assert run.state == SyncRunState.FAILED
    assert run.error_summary == "Xero offline"


def test_recent_runs_newest_first_per_merchant_and_addon(merchant):
    old = sync_run_start(merchant=merchant, addon_key="xero", kind=SyncRunKind.POLL)
    SyncRun.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=1))
    new = sync_run_start(merchant=merchant, addon_key="xero", kind=SyncRunKind.MANUAL)
    sync_run_start(merchant=MerchantFactory(), addon_key="xero", kind=SyncRunKind.MANUAL)
    assert sync_runs_recent(merchant=merchant, addon_key="xero") == [new, old]
