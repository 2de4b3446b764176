"""The Xero add-on's pages: the add-on page, Connect to Xero and its callback, organisation choice, settings,
Test Connection and Disconnect from Xero."""

from __future__ import annotations

import secrets
import time

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from integrations.models import Installation
from portal.permissions import admin_required, merchant_required
from xero_sync import oauth
from xero_sync.addon import XERO
from xero_sync.forms import XeroSettingsForm
from xero_sync.models import ConnectionStatus
from xero_sync.services import connection as connection_services
from xero_sync.services.connection import AuthorisationStep, ConnectError

OAUTH_SESSION_KEY = "xero_oauth"
STATE_LIFETIME_S = 15 * 60


def _addon_redirect():
    return redirect("integrations:addon", key=XERO.key)


def addon_page(request, addon=XERO):
    """The add-on page at /addons/xero/ (routed here by the marketplace)."""
    merchant = request.merchant
    installation = Installation.objects.filter(merchant=merchant, addon_key=XERO.key).first()
    connection = connection_services.connection_for(merchant)
    context = {
        "addon": XERO,
        "installation": installation,
        "connection": connection if connection and connection.status != ConnectionStatus.DISCONNECTED else None,
        "previous_connection": connection,
        "pending": connection_services.pending_authorisation(merchant),
        "configured": bool(settings.XERO_CLIENT_ID and settings.XERO_CLIENT_SECRET and settings.XERO_REDIRECT_URI),
    }
    if connection and connection.is_connected:
        from xero_sync.services.settings import addon_page_prepare, settings_form_initial

        addon_page_prepare(connection=connection)
        context["settings_form"] = XeroSettingsForm(
            connection=connection, initial=settings_form_initial(connection=connection)
        )
        context["write_settings_form"] = _write_settings_form(connection)
    if connection is not None:
        context.update(_sync_context(merchant, connection))
    return render(request, "xero_sync/addon.html", context)


def _sync_context(merchant, connection) -> dict:
    from integrations.selectors import sync_errors_open, sync_runs_recent
    from xero_sync.services.status import sync_status_for
    from xero_sync.services.sync import sync_state_for

    state = sync_state_for(connection)
    return {
        "sync_state": state,
        "sync_status": sync_status_for(merchant=merchant),
        "sync_runs": sync_runs_recent(merchant=merchant, addon_key=XERO.key, limit=8),
        "sync_errors": list(sync_errors_open(merchant=merchant, addon_key=XERO.key)[:50]),
        "retry_url_name": "xero_sync:error_retry",
        "dismiss_url_name": "xero_sync:error_dismiss",
    }


@require_POST
@admin_required
def connect(request):
    if not Installation.objects.filter(merchant=request.merchant, addon_key=XERO.key).exists():
        messages.error(request, "Install the Xero add-on first.")
        return redirect("integrations:marketplace")
    if not (settings.XERO_CLIENT_ID and settings.XERO_CLIENT_SECRET and settings.XERO_REDIRECT_URI):
        messages.error(
            request,
            "The Xero add-on is not configured on this portal yet: platform staff must set XERO_CLIENT_ID, "
            "XERO_CLIENT_SECRET and XERO_REDIRECT_URI.",
        )
        return _addon_redirect()
    state = secrets.token_urlsafe(32)
    verifier, challenge = oauth.pkce_pair()
    request.session[OAUTH_SESSION_KEY] = {
        "state": state,
        "verifier": verifier,
        "merchant_id": request.merchant.pk,
        "created": time.time(),
    }
    return redirect(oauth.authorize_url(state=state, code_challenge=challenge))


@merchant_required
def callback(request):
    """Where Xero sends the browser back after the consent screen."""
    started = request.session.pop(OAUTH_SESSION_KEY, None)  # single use, whatever happens next
    state = request.GET.get("state", "")
    if (
        not started
        or not state
        or not secrets.compare_digest(str(started.get("state", "")), state)
        or started.get("merchant_id") != request.merchant.pk
    ):
        messages.error(
            request,
            "That Xero sign-in could not be matched to this browser session (it was already used, or started "
            "elsewhere). Nothing was connected: click Connect to Xero to start again.",
        )
        return _addon_redirect()
    if time.time() - float(started.get("created", 0)) > STATE_LIFETIME_S:
        messages.error(request, "That Xero sign-in took too long and expired. Click Connect to Xero to try again.")
        return _addon_redirect()
    if not request.membership.is_admin:
        messages.error(request, "Only the merchant's admins can connect Xero.")
        return _addon_redirect()

    error = request.GET.get("error", "")
    if error:
        if error == "access_denied":
            text = "You cancelled on Xero's consent screen, so nothing was connected. Click Connect to Xero when ready."
        else:
            text = f"Xero did not connect ({error}). Nothing was connected: click Connect to Xero to try again."
        messages.error(request, text)
        return _addon_redirect()
    code = request.GET.get("code", "")
    if not code:
        messages.error(request, "Xero sent no sign-in code back. Nothing was connected: try Connect to Xero again.")
        return _addon_redirect()

    try:
        step = connection_services.authorisation_complete(
            merchant=request.merchant, user=request.user, code=code, code_verifier=started["verifier"]
        )
    except ConnectError as exc:
        messages.error(request, str(exc))
        return _addon_redirect()
    return _after_step(request, step)


def _after_step(request, step: AuthorisationStep):
    if step is AuthorisationStep.CHOOSE_ORGANISATION:
        return redirect("xero_sync:choose")
    if step is AuthorisationStep.CONFIRM_ORGANISATION:
        return redirect("xero_sync:confirm")
    connection = connection_services.connection_for(request.merchant)
    messages.success(request, f"Connected to Xero organisation “{connection.tenant_name}”.")
    return _addon_redirect()


@admin_required
def choose(request):
    pending = connection_services.pending_authorisation(request.merchant)
    if pending is None:
        messages.error(request, "That Xero sign-in has expired. Click Connect to Xero to start again.")
        return _addon_redirect()
    if request.method == "POST":
        if "cancel" in request.POST:
            connection_services.authorisation_cancel(merchant=request.merchant)
            messages.info(request, "Nothing was connected.")
            return _addon_redirect()
        try:
            step = connection_services.authorisation_choose(
                merchant=request.merchant, tenant_id=request.POST.get("tenant_id", "")
            )
        except ConnectError as exc:
            messages.error(request, str(exc))
            if connection_services.pending_authorisation(request.merchant) is None:
                return _addon_redirect()
            return redirect("xero_sync:choose")
        return _after_step(request, step)
    taken = connection_services.tenants_taken_elsewhere(merchant=request.merchant, pending=pending)
    return render(request, "xero_sync/choose.html", {"addon": XERO, "pending": pending, "taken": taken})


@admin_required
def confirm(request):
    pending = connection_services.pending_authorisation(request.merchant)
    if pending is None or not pending.chosen_tenant_id:
        messages.error(request, "That Xero sign-in has expired. Click Connect to Xero to start again.")
        return _addon_redirect()
    previous = connection_services.connection_for(request.merchant)
    chosen = pending.tenant(pending.chosen_tenant_id)
    if request.method == "POST":
        if "confirm" not in request.POST:
            connection_services.authorisation_cancel(merchant=request.merchant)
            messages.info(request, f"Nothing changed: still set up for “{previous.tenant_name}”.")
            return _addon_redirect()
        try:
            step = connection_services.authorisation_choose(
                merchant=request.merchant, tenant_id=pending.chosen_tenant_id, confirmed=True
            )
        except ConnectError as exc:
            messages.error(request, str(exc))
            return _addon_redirect()
        return _after_step(request, step)
    return render(request, "xero_sync/confirm.html", {"addon": XERO, "previous": previous, "chosen": chosen})


@require_POST
@admin_required
def save_settings(request):
    connection = connection_services.connection_for(request.merchant)
    if connection is None or not connection.is_connected:
        messages.error(request, "Connect to Xero before changing its settings.")
        return _addon_redirect()
    form = XeroSettingsForm(request.POST, connection=connection)
    if form.is_valid():
        from xero_sync.services.settings import settings_update

        settings_update(connection=connection, **form.cleaned_data)
        messages.success(request, "Xero settings saved.")
        return _addon_redirect()
    installation = Installation.objects.filter(merchant=request.merchant, addon_key=XERO.key).first()
    return render(
        request,
        "xero_sync/addon.html",
        {
            "addon": XERO,
            "installation": installation,
            "connection": connection,
            "previous_connection": connection,
            "settings_form": form,
            "configured": True,
        },
        status=400,
    )


@require_POST
@admin_required
def test_connection(request):
    from xero_sync.services.settings import connection_test

    report = connection_test(merchant=request.merchant)
    for check in report:
        (messages.success if check.ok else messages.error)(request, f"{check.name}: {check.message}")
    return _addon_redirect()


@require_POST
@admin_required
def disconnect(request):
    confirmed = connection_services.connection_disconnect(merchant=request.merchant)
    text = "Disconnected from Xero. Your synced data stays in the portal."
    if not confirmed:
        text += " Xero could not be reached just now; the portal will finish revoking its access in the background."
    messages.success(request, text)
    return redirect("integrations:marketplace")


# --- syncing ------------------------------------------------------------------------------------------------


def _connected_or_message(request):
    connection = connection_services.connection_for(request.merchant)
    if connection is None or not connection.is_connected:
        messages.error(request, "Connect to Xero first.")
        return None
    return connection


@require_POST
@admin_required
def sync_now(request):
    """The Sync button (first sync) and Sync Now (an immediate incremental sync)."""
    from xero_sync.services.sync import sync_request

    connection = _connected_or_message(request)
    if connection is None:
        return _addon_redirect()
    run = sync_request(connection=connection)
    messages.info(request, f"{run.get_kind_display()} started: follow its progress below.")
    return _addon_redirect()


@merchant_required
def sync_status(request):
    """Progress of the active (or last) sync, polled by the add-on page."""
    from django.http import JsonResponse

    from xero_sync.services.status import sync_status_for

    return JsonResponse(sync_status_for(merchant=request.merchant))


@require_POST
@admin_required
def error_retry(request, pk: int):
    from django.shortcuts import get_object_or_404

    from integrations.errors import sync_errors_retry
    from integrations.selectors import sync_errors_for_merchant

    error = get_object_or_404(sync_errors_for_merchant(merchant=request.merchant, addon_key=XERO.key), pk=pk)
    outcome = sync_errors_retry(errors=[error])
    if outcome.enqueued:
        messages.info(request, "Retrying. The error closes by itself when the retry succeeds.")
    elif outcome.already_resolved:
        messages.info(request, "That error is already resolved.")
    else:
        messages.error(request, "This kind of error cannot be retried from here: follow its hint, then click Sync Now.")
    return _addon_redirect()


@require_POST
@admin_required
def error_dismiss(request, pk: int):
    from django.shortcuts import get_object_or_404

    from integrations.errors import sync_error_dismiss
    from integrations.selectors import sync_errors_for_merchant

    error = get_object_or_404(sync_errors_for_merchant(merchant=request.merchant, addon_key=XERO.key), pk=pk)
    sync_error_dismiss(error=error, user=request.user, note="Dismissed on the add-on page.")
    messages.success(request, "Error dismissed.")
    return _addon_redirect()


# --- write-back settings ------------------------------------------------------------------------------------


def _write_settings_form(connection, data=None):
    from xero_sync.forms import XeroWriteSettingsForm
    from xero_sync.services.push import write_settings_for

    initial = XeroWriteSettingsForm.initial_for(write_settings_for(connection))
    return XeroWriteSettingsForm(data, connection=connection, initial=initial)


@require_POST
@admin_required
def save_write_settings(request):
    from xero_sync.services.push import write_settings_update

    connection = _connected_or_message(request)
    if connection is None:
        return _addon_redirect()
    form = _write_settings_form(connection, request.POST)
    if form.is_valid():
        write_settings_update(connection=connection, **form.cleaned_data)
        messages.success(request, "Invoice settings saved.")
    else:
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else "Invoice settings"
            messages.error(request, f"{label}: {' '.join(errors)}")
    return _addon_redirect()
