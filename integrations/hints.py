"""The troubleshooting catalogue: what an add-on's error message means and what the merchant should do.

Each `Hint` matches an error by the other system's own words (case-insensitive regular expressions) and/or
its HTTP status code. Words win over a bare status code: `hint_for` first looks for a hint whose
`matches` fit the message, then for one whose `status_codes` contain the status, and falls back to
`UNKNOWN` (unknown messages stay listed by `integrations.selectors.unknown_error_messages` so the
catalogue can grow). To add a hint, add an entry to `CATALOGUE` and a unit test to
tests/integrations/test_hints.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass(frozen=True)
class Hint:
    key: str
    title: str
    fix: str  # may use {placeholders} filled from the error's hint_params (see render_fix)
    matches: tuple[str, ...] = ()
    status_codes: tuple[int, ...] = ()
    _patterns: tuple[re.Pattern, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "_patterns", tuple(re.compile(m, re.IGNORECASE) for m in self.matches))

    def matches_message(self, message: str) -> bool:
        return any(p.search(message) for p in self._patterns)

    def render_fix(self, **params) -> str:
        """The fix text with its placeholders filled; missing values read naturally ("shortly")."""
        values = {"resume_at": "shortly"}
        for name, value in params.items():
            values[name] = _format_value(value)
        try:
            return self.fix.format(**values)
        except (KeyError, IndexError, ValueError):
            return self.fix


def _format_value(value) -> str:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return f"at {value:%H:%M} UTC on {value.day} {value:%b %Y}"
    return str(value)


UNKNOWN = Hint(
    key="unknown",
    title="Error without a known fix",
    fix="We have no specific advice for this message yet. Read the message above, correct the record in "
    "Xero or in the portal, then Retry. If it keeps failing, contact support and quote the message.",
)

CATALOGUE: tuple[Hint, ...] = (
    # --- Invoices ---
    Hint(
        key="invoice_number_not_unique",
        title="Invoice number already used in Xero",
        fix="Xero already has an invoice with this number. Either change the number of the invoice in Xero, "
        "or delete the portal invoice, raise the portal's starting invoice number above Xero's highest "
        "number and create the invoice again.",
        matches=(r"Invoice # must be unique",),
    ),
    Hint(
        key="negative_line",
        title="Xero refuses negative line items",
        fix="Xero does not accept negative lines on an invoice. Re-invoice without the negative line, and "
        "give the reduction as a discount on a line in Xero or as a credit note.",
        matches=(
            r"The discount rate '.*' is invalid",
            r"Discount must not be greater than the line total",
            r"negative (line|amount|unit|quantit)",
            r"line (item|amount)s? .*(must not|cannot) be negative",
            r"document total cannot be negative",
        ),
    ),
    Hint(
        key="document_has_allocation",
        title="Invoice has a payment or credit note allocated",
        fix="Xero does not let anyone edit an invoice once a payment or credit note is allocated to it. "
        "Remove the payment in Xero and sync again, or let the fee go on a separate invoice (Fees settings).",
        matches=(r"cannot be edited as it has a payment or credit note allocated",),
    ),
    Hint(
        key="invalid_status",
        title="Invoice status does not allow this change",
        fix="Xero only lets draft and awaiting-approval invoices be deleted, and unpaid authorised ones be "
        "voided or edited. Check the invoice's status in Xero, change it there if needed, then Retry.",
        matches=(r"not of (a )?valid status for modification",),
    ),
    Hint(
        key="period_locked",
        title="Date falls in a locked period",
        fix="The date is on or before the lock date set in Xero (Advanced > Financial settings). Ask your "
        "adviser to move the lock date, or use a date after it, then Retry.",
        matches=(r"lock ?date", r"locked period", r"period is locked"),
    ),
    # --- Mappings ---
    Hint(
        key="account_invalid",
        title="Account code not recognised by Xero",
        fix="The account this line books to does not exist in Xero or is archived. Fix the account mapping "
        "on the add-on page (or restore the account in Xero), then Retry.",
        matches=(
            r"Account code .* does not match a recognised account",
            r"Account must be valid",
            r"Account code .* is not (a )?valid",
        ),
    ),
    Hint(
        key="tax_rate_invalid",
        title="Tax rate not valid in Xero",
        fix="The tax rate on this line is unknown, archived or not allowed for this account in Xero. Fix the "
        "tax rate mapping on the add-on page, then Retry.",
        matches=(r"Tax rate must be valid", r"TaxType code .* (does not exist|cannot be used)"),
    ),
    Hint(
        key="item_code_exists",
        title="Item code already used in Xero",
        fix="Xero already has an item with this code. Run Sync Now so the portal links to it, or give the "
        "portal item a different code.",
        matches=(r"Item with Code .* already exists",),
    ),
    # --- Contacts ---
    Hint(
        key="duplicate_contact_name",
        title="Contact name already used in Xero",
        fix="Contact names must be unique in Xero. Link the customer to the existing Xero contact (Unmatched "
        "queue), or rename one of the two, then Retry.",
        matches=(r"contact name .* is already assigned to another contact",),
    ),
    Hint(
        key="contact_archived",
        title="Contact is archived in Xero",
        fix="The Xero contact is archived, so nothing can be raised against it. Restore the contact in Xero "
        "(Contacts > Archived > Restore), then Retry.",
        matches=(r"contact.*\barchived\b", r"\barchived\b.*contact"),
    ),
    # --- Payments ---
    Hint(
        key="payment_exceeds_outstanding",
        title="Payment is more than the amount due",
        fix="The payment is larger than what is still owed on the invoice in Xero (maybe it was already paid "
        "there). Check the invoice's payments in Xero, correct the payment amount, then Retry.",
        matches=(r"Payment amount exceeds the amount outstanding",),
    ),
    Hint(
        key="payment_not_authorised",
        title="Payments need an approved invoice",
        fix="Xero only takes payments against approved (Authorised) invoices. Approve the invoice in Xero, "
        "or set new invoices to be pushed as Authorised on the add-on page, then Retry.",
        matches=(r"Payments can only be made against authori[sz]ed documents",),
    ),
    Hint(
        key="payment_in_batch",
        title="Payment is part of a batch payment",
        fix="This payment belongs to a batch payment in Xero and cannot be removed on its own. Remove the "
        "batch payment in Xero, then Retry.",
        matches=(r"Payments within a batch cannot be deleted",),
    ),
    Hint(
        key="payment_not_positive",
        title="Payment amount must be positive",
        fix="Xero only accepts payments above zero. Correct the payment amount in the portal, then Retry.",
        matches=(r"Payment amounts must be positive",),
    ),
    # --- Connection ---
    Hint(
        key="invalid_client",
        title="Xero app credentials are wrong",
        fix="Xero does not recognise the app's client id or secret. The platform operator must correct "
        "XERO_CLIENT_ID / XERO_CLIENT_SECRET in the settings; merchants cannot fix this.",
        matches=(r"invalid_client", r"unauthorized_client"),
    ),
    Hint(
        key="missing_scope",
        title="Permissions missing",
        fix="Xero did not grant every permission the add-on needs (for example offline_access). An admin "
        "must reconnect Xero and allow all the requested permissions.",
        matches=(r"invalid_scope", r"offline_access", r"insufficient[ _]scope", r"missing scope", r"scope"),
    ),
    Hint(
        key="reconnect_required",
        title="Xero connection has expired",
        fix="The connection to Xero has expired or was revoked. An admin must reconnect Xero from the add-on "
        "page; syncing resumes right after.",
        matches=(r"invalid_grant", r"TokenExpired", r"token (has )?expired", r"refresh token"),
        status_codes=(401,),
    ),
    Hint(
        key="wrong_organisation",
        title="Wrong Xero organisation",
        fix="The connection points at a different Xero organisation than the one this merchant's data "
        "belongs to. Disconnect, then reconnect and pick the right organisation.",
        matches=(
            r"wrong (xero )?organi[sz]ation",
            r"different organi[sz]ation",
            r"organi[sz]ation (is )?not connected",
            r"tenant",
        ),
    ),
    Hint(
        key="authentication_unsuccessful",
        title="Xero refused access",
        fix="The Xero user who connected was removed from the organisation or their access was revoked. A "
        "different Xero user with the Standard or Advisor role must reconnect from the add-on page.",
        matches=(r"AuthenticationUnsuccessful",),
        status_codes=(403,),
    ),
    # --- Xero itself ---
    Hint(
        key="rate_limited",
        title="Xero's call limit reached",
        fix="Nothing to do: Xero limits how many calls an app may make per minute and per day. Syncing "
        "resumes automatically {resume_at}.",
        matches=(r"rate limit", r"too many requests"),
        status_codes=(429,),
    ),
    Hint(
        key="not_found",
        title="Record no longer in Xero",
        fix="Xero cannot find this record: it was probably deleted there. Run Sync Now to bring the portal "
        "up to date; if the record should exist, create it again.",
        matches=(r"resource you're looking for cannot be found",),
        status_codes=(404,),
    ),
    Hint(
        key="xero_unavailable",
        title="Xero is offline",
        fix="Xero is down or under maintenance. Nothing to do: the add-on retries on its own once Xero is back.",
        matches=(r"service unavailable", r"(Xero|API|organi[sz]ation) is (currently )?(offline|unavailable)"),
        status_codes=(502, 503, 504),
    ),
)

_BY_KEY: dict[str, Hint] = {h.key: h for h in (*CATALOGUE, UNKNOWN)}
assert len(_BY_KEY) == len(CATALOGUE) + 1, "hint keys must be unique"


def hint_for(status_code: int | None, message: str) -> Hint:
    """The hint for an error: by message first, then by status code, else UNKNOWN."""
    message = message or ""
    for hint in CATALOGUE:
        if hint.matches_message(message):
            return hint
    for hint in CATALOGUE:
        if status_code is not None and status_code in hint.status_codes:
            return hint
    return UNKNOWN


def get(key: str) -> Hint:
    """The hint with this key; UNKNOWN for a key that has since left the catalogue."""
    return _BY_KEY.get(key, UNKNOWN)


def choices() -> list[tuple[str, str]]:
    """(key, title) pairs for filters, catalogue order, unknown last."""
    return [(h.key, h.title) for h in (*CATALOGUE, UNKNOWN)]
