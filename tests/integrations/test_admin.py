"""Django admin for the error log, sync runs and audit trail: staff only, filters, search, detail, actions."""

import pytest
from django.urls import reverse

from integrations import links, retry
from integrations.audit import audit_record
from integrations.errors import sync_error_record, sync_error_resolve_for_record
from integrations.models import AuditOutcome, SyncError, SyncErrorState, SyncOperation, SyncRunKind
from integrations.runs import sync_run_start
from tests.factories import CustomerFactory, InvoiceFactory, MerchantFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:integrations_syncerror_changelist"
ACCESS_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEyMzQ1In0.c2lnbmF0dXJlLWJ5dGVz"


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(email="ops@platform.example", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def invoice(merchant):
    return InvoiceFactory(merchant=merchant, number="INV-0042", external_id="inv-guid-42")


@pytest.fixture
def error(merchant, invoice):
    return sync_error_record(
        merchant=merchant,
        addon_key="xero",
        operation=SyncOperation.PUSH,
        record_kind="invoice",
        record_id=invoice.pk,
        external_id=invoice.external_id,
        record_label=invoice.number,
        status_code=400,
        message="Invoice # must be unique.",
        request_excerpt={"headers": {"Authorization": f"Bearer {ACCESS_TOKEN}"}, "InvoiceNumber": "INV-0042"},
        response_excerpt={"Elements": [{"ValidationErrors": [{"Message": "Invoice # must be unique."}]}]},
        retry_payload={"invoice_id": invoice.pk},
    )


@pytest.fixture
def contact_error(merchant):
    customer = CustomerFactory(merchant=merchant, name="Bob's Burgers")
    return sync_error_record(
        merchant=merchant,
        addon_key="xero",
        operation=SyncOperation.PUSH,
        record_kind="contact",
        record_id=customer.pk,
        record_label=customer.name,
        status_code=400,
        message="The contact name Bob's Burgers is already assigned to another contact.",
    )


def act(client, action, errors):
    return client.post(reverse(CHANGELIST), {"action": action, "_selected_action": [e.pk for e in errors]}, follow=True)


# --- Staff only ---


@pytest.mark.parametrize(
    "url_name",
    [CHANGELIST, "admin:integrations_syncrun_changelist", "admin:integrations_auditentry_changelist"],
)
def test_merchant_admins_who_are_not_staff_cannot_reach_the_admin(admin_client, url_name):
    response = admin_client.get(reverse(url_name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_non_staff_cannot_run_admin_actions(admin_client, error):
    admin_client.post(reverse(CHANGELIST), {"action": "dismiss", "_selected_action": [error.pk]})
    error.refresh_from_db()
    assert error.state == SyncErrorState.OPEN


# --- List, filters, search ---


def test_list_shows_count_last_seen_and_hint(staff_client, error):
    sync_error_record(
        merchant=error.merchant,
        addon_key="xero",
        operation=SyncOperation.PUSH,
        record_kind="invoice",
        record_id=error.record_id,
        message="Invoice # must be unique.",
    )
    body = staff_client.get(reverse(CHANGELIST)).content.decode()
    assert "INV-0042" in body
    assert "Invoice number already used in Xero" in body
    assert '<td class="field-count">2</td>' in body
    assert "field-last_seen" in body


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=INV-0042", {"INV-0042"}),
        ("q=Burgers", {"Bob's Burgers"}),
        ("q=already+assigned", {"Bob's Burgers"}),
        ("hint=invoice_number_not_unique", {"INV-0042"}),
        ("operation=push&state=open", {"INV-0042", "Bob's Burgers"}),
        ("record_kind=contact", {"Bob's Burgers"}),
        ("state=dismissed", set()),
    ],
)
def test_filters_and_search(staff_client, error, contact_error, query, expected):
    response = staff_client.get(reverse(CHANGELIST) + "?" + query)
    assert response.status_code == 200
    labels = {row.record_label for row in response.context["cl"].result_list}
    assert labels == expected


def test_merchant_filter(staff_client, error):
    other = MerchantFactory(name="Other Co")
    sync_error_record(
        merchant=other,
        addon_key="xero",
        operation=SyncOperation.PULL,
        record_kind="invoice",
        external_id="x",
        record_label="OTHER-1",
        message="boom",
    )
    response = staff_client.get(reverse(CHANGELIST) + f"?merchant__id__exact={other.pk}")
    assert [e.record_label for e in response.context["cl"].result_list] == ["OTHER-1"]


# --- Detail ---


def test_detail_shows_hint_redacted_excerpts_and_links(staff_client, error, invoice):
    links.register(addon_key="xero", org_code=lambda merchant: "!Ab3Cd")
    try:
        body = staff_client.get(reverse("admin:integrations_syncerror_change", args=[error.pk])).content.decode()
    finally:
        links.unregister(addon_key="xero")
    assert "Invoice number already used in Xero" in body
    assert "raise the portal&#x27;s starting invoice number" in body
    assert ACCESS_TOKEN not in body
    assert "[redacted]" in body
    assert "INV-0042" in body
    assert reverse("portal:invoice", args=[invoice.pk]) in body
    assert (
        "https://go.xero.com/organisationlogin/default.aspx?shortcode=%21Ab3Cd"
        "&amp;redirecturl=/AccountsReceivable/View.aspx?InvoiceID=inv-guid-42"
    ) in body


def test_detail_without_a_short_code_provider_has_no_external_link(staff_client, error):
    body = staff_client.get(reverse("admin:integrations_syncerror_change", args=[error.pk])).content.decode()
    assert "go.xero.com" not in body


def test_xero_deep_links():
    assert links.xero_record_url(short_code="sc1", record_kind="contact", external_id="c-1") == (
        "https://go.xero.com/organisationlogin/default.aspx?shortcode=sc1&redirecturl=/Contacts/View/c-1"
    )
    assert links.xero_record_url(short_code="sc1", record_kind="invoice", external_id="i-1").endswith(
        "redirecturl=/AccountsReceivable/View.aspx?InvoiceID=i-1"
    )
    assert links.xero_record_url(short_code="", record_kind="invoice", external_id="i-1") == ""
    assert links.xero_record_url(short_code="sc1", record_kind="account", external_id="a-1") == ""


# --- Actions ---


def test_mark_resolved_and_dismiss_record_who(staff_client, error, contact_error):
    act(staff_client, "mark_resolved", [error])
    response = act(staff_client, "dismiss", [contact_error])
    assert "1 dismissed." in response.content.decode()
    error.refresh_from_db()
    contact_error.refresh_from_db()
    assert error.state == SyncErrorState.RESOLVED
    assert contact_error.state == SyncErrorState.DISMISSED
    assert error.resolved_by.email == contact_error.resolved_by.email == "ops@platform.example"


def test_retry_without_a_registered_handler_says_so(staff_client, error, monkeypatch):
    from integrations import retry

    monkeypatch.setattr(retry, "_HANDLERS", {})  # as for an add-on that cannot retry this operation
    response = act(staff_client, "retry_selected", [error])
    assert "no retry handler is registered for xero push" in response.content.decode()
    error.refresh_from_db()
    assert error.state == SyncErrorState.OPEN


def retry_push_that_now_succeeds(sync_error_id: int) -> None:
    """A retry handler as an add-on would write one: re-read the row, redo the work, resolve on success."""
    error = SyncError.objects.filter(pk=sync_error_id).first()
    if error is None:
        return
    sync_error_resolve_for_record(
        merchant=error.merchant,
        addon_key=error.addon_key,
        operation=error.operation,
        record_kind=error.record_kind,
        record_id=error.retry_payload["invoice_id"],
    )


def test_retry_from_admin_runs_the_operation_and_resolves_the_row(
    staff_client, error, contact_error, monkeypatch, django_capture_on_commit_callbacks
):
    from django_q.tasks import async_task

    enqueued = []

    def run_now(func, *args, **kwargs):
        enqueued.append((func, args))
        return async_task(func, *args, sync=True, **kwargs)

    monkeypatch.setattr("integrations.errors.async_task", run_now)
    handler = f"{__name__}.retry_push_that_now_succeeds"
    retry.register(addon_key="xero", operation=SyncOperation.PUSH, handler=handler)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = act(staff_client, "retry_selected", [error])
    finally:
        retry.unregister(addon_key="xero", operation=SyncOperation.PUSH)
    assert "1 queued for retry." in response.content.decode()
    assert enqueued == [(handler, (error.pk,))]  # the id only
    error.refresh_from_db()
    contact_error.refresh_from_db()
    assert error.state == SyncErrorState.RESOLVED
    assert contact_error.state == SyncErrorState.OPEN


# --- Sync runs and audit trail ---


def test_sync_run_list_filters_by_kind(staff_client, merchant):
    sync_run_start(merchant=merchant, addon_key="xero", kind=SyncRunKind.FIRST, steps=["contacts"])
    sync_run_start(merchant=merchant, addon_key="xero", kind=SyncRunKind.POLL)
    response = staff_client.get(reverse("admin:integrations_syncrun_changelist") + "?kind=first")
    assert [r.kind for r in response.context["cl"].result_list] == ["first"]
    assert "contacts 0/?" in response.content.decode()


def test_audit_list_filters_by_outcome_and_is_read_only(staff_client, merchant):
    for outcome in (AuditOutcome.OK, AuditOutcome.LOST):
        audit_record(
            merchant=merchant,
            addon_key="xero",
            operation=SyncOperation.FEE,
            record_kind="invoice",
            record_id=1,
            record_label="INV-1",
            outcome=outcome,
            idempotency_key=f"fee-1-{outcome}",
        )
    url = reverse("admin:integrations_auditentry_changelist")
    response = staff_client.get(url + "?outcome=lost")
    assert [e.idempotency_key for e in response.context["cl"].result_list] == ["fee-1-lost"]
    response = staff_client.get(url + "?q=fee-1-ok")
    assert [e.outcome for e in response.context["cl"].result_list] == ["ok"]
    assert staff_client.get(reverse("admin:integrations_auditentry_add")).status_code == 403
