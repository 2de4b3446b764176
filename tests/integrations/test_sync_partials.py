"""The add-on page partials: open errors with their hints and Retry buttons, recent sync runs with progress."""

import pytest
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import include, path

from integrations.errors import sync_error_record
from integrations.models import SyncOperation, SyncRunKind, SyncRunState
from integrations.runs import sync_run_finish, sync_run_progress, sync_run_start
from integrations.selectors import sync_errors_open, sync_runs_recent
from portal.urls import urlpatterns as portal_urlpatterns

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


def _stub(request, pk):
    return HttpResponse()


# The Xero add-on provides the real views; these stand-ins only give the partials URLs to post to.
urlpatterns = [
    path("stub/errors/<int:pk>/retry/", _stub, name="retry_error"),
    path("stub/errors/<int:pk>/dismiss/", _stub, name="dismiss_error"),
    path("", include(portal_urlpatterns)),
]


def render_errors(merchant, *, is_admin=True, dismiss=True):
    request = RequestFactory().get("/")
    context = {
        "sync_errors": sync_errors_open(merchant=merchant, addon_key="xero"),
        "retry_url_name": "retry_error",
        "dismiss_url_name": "dismiss_error" if dismiss else "",
        "is_merchant_admin": is_admin,
    }
    return render_to_string("integrations/_sync_errors.html", context, request=request)


@pytest.fixture
def error(merchant):
    for _ in range(3):
        error = sync_error_record(
            merchant=merchant,
            addon_key="xero",
            operation=SyncOperation.PAYMENT,
            record_kind="invoice",
            record_id=12,
            record_label="INV-0012",
            status_code=400,
            message="Payment amount exceeds the amount outstanding on this document",
        )
    return error


def test_open_error_shows_message_hint_and_history(merchant, error):
    html = render_errors(merchant)
    assert "INV-0012" in html
    assert "Payment amount exceeds the amount outstanding on this document" in html
    assert "Payment is more than the amount due" in html
    assert "correct the payment amount, then Retry" in html
    assert "3 times" in html
    assert "/invoices/12/" in html  # links to the invoice in the portal


def test_admins_get_retry_and_dismiss_buttons_posting_to_the_addons_urls(merchant, error):
    html = render_errors(merchant)
    assert f'action="/stub/errors/{error.pk}/retry/"' in html
    assert f'action="/stub/errors/{error.pk}/dismiss/"' in html
    assert "csrfmiddlewaretoken" in html


def test_members_see_errors_but_no_buttons(merchant, error):
    html = render_errors(merchant, is_admin=False)
    assert "INV-0012" in html
    assert "/retry/" not in html and "/dismiss/" not in html


def test_no_errors(merchant):
    assert "No open sync errors." in render_errors(merchant)


def test_runs_show_live_progress_and_finished_counts(merchant):
    done = sync_run_start(merchant=merchant, addon_key="xero", kind=SyncRunKind.POLL)
    sync_run_finish(run=done, state=SyncRunState.PARTIAL, counts={"invoices": 12}, error_summary="2 failed")
    running = sync_run_start(
        merchant=merchant, addon_key="xero", kind=SyncRunKind.FIRST, steps=["accounts", "contacts"]
    )
    sync_run_progress(run=running, step="contacts", done=150, total=300)
    html = render_to_string(
        "integrations/_sync_runs.html", {"sync_runs": sync_runs_recent(merchant=merchant, addon_key="xero")}
    )
    assert 'data-state="running"' in html and 'data-state="partial"' in html
    assert '<progress max="100" value="50"' in html
    assert "150 / 300" in html
    assert "12 invoices" in html and "2 failed" in html
    assert "Partly synced" in html
