"""The hint catalogue, unit level: each entry matched from Xero's words or status code.

These are unit tests on `hint_for` with the messages Xero is known to send. The end-to-end tests, which
produce each error through the Xero sandbox and check the hint shown, belong with the sync and
write-back tests once the sandbox can produce them (tests/xero_sync/).
"""

from datetime import UTC, datetime

import pytest

from integrations import hints
from integrations.errors import sync_error_record
from integrations.models import SyncOperation
from integrations.selectors import unknown_error_messages

# (hint key, status code, message) — at least one known real-world message per catalogue entry.
KNOWN_ERRORS = [
    ("invoice_number_not_unique", 400, "Invoice # must be unique."),
    (
        "negative_line",
        400,
        "The discount rate '0.00' is invalid. Discount must not be greater than the line total.",
    ),
    ("negative_line", 400, "Line items cannot be negative: negative line amounts are not allowed."),
    (
        "document_has_allocation",
        400,
        "This document cannot be edited as it has a payment or credit note allocated to it.",
    ),
    ("invalid_status", 400, "Invoice not of valid status for modification"),
    ("period_locked", 400, "The document date cannot be before the period lock date, 31 Mar 2026."),
    (
        "account_invalid",
        400,
        "Account code '476' has been removed as it does not match a recognised account.",
    ),
    ("account_invalid", 400, "Account must be valid."),
    ("tax_rate_invalid", 400, "Tax rate must be valid."),
    ("tax_rate_invalid", 400, "The TaxType code 'OUTPUT9' does not exist or cannot be used for this account."),
    ("item_code_exists", 400, "Price List Item with Code 'LATE-FEE' already exists"),
    (
        "duplicate_contact_name",
        400,
        "The contact name Acme Ltd is already assigned to another contact. The contact name must be unique "
        "across all active contacts.",
    ),
    ("contact_archived", 400, "The contact Acme Ltd is archived and cannot be used."),
    ("payment_exceeds_outstanding", 400, "Payment amount exceeds the amount outstanding on this document"),
    ("payment_not_authorised", 400, "Payments can only be made against authorized documents."),
    ("payment_in_batch", 400, "Payments within a batch cannot be deleted."),
    ("payment_not_positive", 400, "Payment amounts must be positive amounts"),
    ("invalid_client", 400, '{"error":"invalid_client"}'),
    ("reconnect_required", 400, '{"error":"invalid_grant"}'),
    ("reconnect_required", 401, "TokenExpired: token expired at 11/23/2026 10:00:00"),
    ("missing_scope", 400, "The refresh was refused: offline_access was not granted"),
    ("missing_scope", 400, '{"error":"invalid_scope"}'),
    ("wrong_organisation", 403, "Wrong organisation: the tenant does not match this merchant's connection"),
    ("authentication_unsuccessful", 403, "AuthenticationUnsuccessful"),
    ("authentication_unsuccessful", 403, ""),
    ("rate_limited", 429, "Rate limit exceeded (minute)"),
    ("rate_limited", 429, ""),
    ("not_found", 404, "The resource you're looking for cannot be found"),
    ("xero_unavailable", 503, "Service Unavailable"),
    ("xero_unavailable", 503, "The Xero API is currently offline for maintenance"),
    ("unknown", 400, "A validation exception occurred"),
    ("unknown", None, ""),
]


@pytest.mark.parametrize(
    ("key", "status", "message"), KNOWN_ERRORS, ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(KNOWN_ERRORS)]
)
def test_catalogue_entry_unit(key, status, message):
    hint = hints.hint_for(status, message)
    assert hint.key == key
    assert hint.title and hint.fix


def test_every_catalogue_entry_has_a_unit_case():
    assert {h.key for h in (*hints.CATALOGUE, hints.UNKNOWN)} == {k for k, _, _ in KNOWN_ERRORS}


def test_matching_ignores_case():
    assert hints.hint_for(400, "INVOICE # MUST BE UNIQUE.").key == "invoice_number_not_unique"


def test_words_win_over_a_bare_status_code():
    # A 403 is usually a revoked user, but Xero's words can be more specific.
    assert hints.hint_for(403, "The tenant id is not connected").key == "wrong_organisation"
    assert hints.hint_for(400, "Invoice # must be unique.").key == "invoice_number_not_unique"
    assert hints.hint_for(503, "Invoice # must be unique.").key == "invoice_number_not_unique"


def test_rate_limit_fix_says_when_it_resumes():
    hint = hints.get("rate_limited")
    assert "resumes automatically at 14:05 UTC on 23 Nov 2026" in hint.render_fix(
        resume_at=datetime(2026, 11, 23, 14, 5, tzinfo=UTC)
    )
    assert "resumes automatically shortly" in hint.render_fix()


def test_rate_limit_time_shows_on_the_recorded_error(merchant):
    error = sync_error_record(
        merchant=merchant,
        addon_key="xero",
        operation=SyncOperation.PULL,
        record_kind="connection",
        status_code=429,
        message="Rate limit exceeded (day)",
        hint_params={"resume_at": datetime(2026, 11, 24, 0, 0, tzinfo=UTC)},
    )
    error.refresh_from_db()
    assert "at 00:00 UTC on 24 Nov 2026" in error.fix


def test_a_key_that_left_the_catalogue_reads_as_unknown():
    assert hints.get("no-such-hint") is hints.UNKNOWN


def test_unknown_messages_are_listed_most_frequent_first(merchant):
    def record(message, record_id):
        sync_error_record(
            merchant=merchant,
            addon_key="xero",
            operation=SyncOperation.PUSH,
            record_kind="invoice",
            record_id=record_id,
            status_code=400,
            message=message,
        )

    record("Brand new Xero complaint", 1)
    record("Brand new Xero complaint", 2)
    record("Brand new Xero complaint", 2)
    record("Another novelty", 3)
    record("Invoice # must be unique.", 4)  # known: not listed
    listed = unknown_error_messages()
    assert [(row["message"], row["records"], row["occurrences"]) for row in listed] == [
        ("Brand new Xero complaint", 2, 3),
        ("Another novelty", 1, 1),
    ]


def test_missing_offline_access_is_not_mistaken_for_an_expired_connection():
    message = "No refresh token returned: offline_access was not granted"
    assert hints.hint_for(400, message).key == "missing_scope"
