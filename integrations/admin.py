"""Django admin for the marketplace (staff only): installs, the sync error log, sync runs and the audit trail."""

from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator

from integrations import hints, links
from integrations.errors import sync_errors_close, sync_errors_retry
from integrations.models import AuditEntry, Installation, SyncError, SyncErrorState, SyncRun


@admin.register(Installation)
class InstallationAdmin(admin.ModelAdmin):
    list_display = ["merchant", "addon_key", "state", "installed_at", "installed_by"]
    list_filter = ["addon_key", "state"]
    list_select_related = ["merchant", "installed_by"]
    search_fields = ["merchant__name"]
    readonly_fields = ["installed_at", "updated_at"]


class HintFilter(admin.SimpleListFilter):
    title = "hint"
    parameter_name = "hint"

    def lookups(self, request, model_admin):
        return hints.choices()

    def queryset(self, request, queryset):
        return queryset.filter(hint_key=self.value()) if self.value() else queryset


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by the sync code only: staff look, filter and act, but never add or edit by hand."""

    def has_add_permission(self, request):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields] + list(self.readonly_fields)


@admin.register(SyncError)
class SyncErrorAdmin(ReadOnlyAdmin):
    list_display = [
        "last_seen",
        "merchant",
        "addon_key",
        "operation",
        "record",
        "status_code",
        "short_message",
        "hint_title",
        "count",
        "state",
    ]
    list_filter = [
        ("merchant", admin.RelatedOnlyFieldListFilter),
        "addon_key",
        "operation",
        HintFilter,
        "state",
        "record_kind",
        "last_seen",
    ]
    list_select_related = ["merchant"]
    search_fields = ["record_label", "message", "external_id", "merchant__name"]
    date_hierarchy = "last_seen"
    actions = ["retry_selected", "mark_resolved", "dismiss"]
    readonly_fields = ["hint_title", "hint_fix", "portal_link", "external_link", "request", "response"]
    fieldsets = [
        (None, {"fields": ["merchant", "addon_key", "operation", "state", "count", "first_seen", "last_seen"]}),
        (
            "Record",
            {"fields": ["record_kind", "record_label", "record_id", "external_id", "portal_link", "external_link"]},
        ),
        ("What happened", {"fields": ["status_code", "message", "hint_title", "hint_fix"]}),
        ("Excerpts (tokens and secrets removed)", {"fields": ["request", "response", "retry_payload"]}),
        ("Resolution", {"fields": ["resolved_by", "resolved_at", "resolution_note"]}),
    ]

    @admin.display(description="record", ordering="record_label")
    def record(self, obj: SyncError) -> str:
        return f"{obj.record_kind} {obj.record_label or obj.external_id or obj.record_id or ''}".strip()

    @admin.display(description="message")
    def short_message(self, obj: SyncError) -> str:
        return Truncator(obj.message).chars(80)

    @admin.display(description="hint", ordering="hint_key")
    def hint_title(self, obj: SyncError) -> str:
        return obj.hint.title

    @admin.display(description="what to do")
    def hint_fix(self, obj: SyncError) -> str:
        return obj.fix

    @admin.display(description="in the portal")
    def portal_link(self, obj: SyncError) -> str:
        url = obj.portal_url
        return format_html('<a href="{}">{}</a>', url, url) if url else "—"

    @admin.display(description="in the add-on's system")
    def external_link(self, obj: SyncError) -> str:
        url = links.external_record_url(
            merchant=obj.merchant, addon_key=obj.addon_key, record_kind=obj.record_kind, external_id=obj.external_id
        )
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, url) if url else "—"

    @admin.display(description="request")
    def request(self, obj: SyncError) -> str:
        return _pre(obj.request_excerpt)

    @admin.display(description="response")
    def response(self, obj: SyncError) -> str:
        return _pre(obj.response_excerpt)

    @admin.action(description="Retry selected", permissions=["change"])
    def retry_selected(self, request, queryset):
        outcome = sync_errors_retry(errors=queryset)
        if outcome.enqueued:
            self.message_user(request, f"{len(outcome.enqueued)} queued for retry.", messages.SUCCESS)
        if outcome.no_handler:
            kinds = sorted({f"{e.addon_key} {e.operation}" for e in outcome.no_handler})
            self.message_user(
                request,
                f"{len(outcome.no_handler)} cannot be retried from here: no retry handler is registered "
                f"for {', '.join(kinds)}.",
                messages.WARNING,
            )
        if outcome.already_resolved:
            self.message_user(request, f"{len(outcome.already_resolved)} already resolved, skipped.", messages.INFO)

    @admin.action(description="Mark resolved", permissions=["change"])
    def mark_resolved(self, request, queryset):
        changed = sync_errors_close(errors=queryset, state=SyncErrorState.RESOLVED, user=request.user)
        self.message_user(request, f"{changed} marked resolved.", messages.SUCCESS)

    @admin.action(description="Dismiss", permissions=["change"])
    def dismiss(self, request, queryset):
        changed = sync_errors_close(errors=queryset, state=SyncErrorState.DISMISSED, user=request.user)
        self.message_user(request, f"{changed} dismissed.", messages.SUCCESS)


def _pre(text: str) -> str:
    return format_html('<pre style="white-space: pre-wrap; max-width: 60rem">{}</pre>', text) if text else "—"


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "merchant",
        "addon_key",
        "kind",
        "state",
        "current_step",
        "api_calls",
        "duration",
        "step_progress",
    ]
    list_filter = [("merchant", admin.RelatedOnlyFieldListFilter), "addon_key", "kind", "state", "created_at"]
    list_select_related = ["merchant"]
    search_fields = ["merchant__name", "error_summary"]
    date_hierarchy = "created_at"
    readonly_fields = ["step_progress"]

    @admin.display(description="progress")
    def step_progress(self, obj: SyncRun) -> str:
        return (
            format_html_join(
                ", ", "{} {}/{}", ((s["name"], s["done"], "?" if s["total"] is None else s["total"]) for s in obj.steps)
            )
            or "—"
        )


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "merchant",
        "addon_key",
        "operation",
        "endpoint",
        "record_kind",
        "record_label",
        "outcome",
        "status_code",
        "duration_ms",
        "idempotency_key",
    ]
    list_filter = [
        ("merchant", admin.RelatedOnlyFieldListFilter),
        "addon_key",
        "operation",
        "outcome",
        "record_kind",
        "created_at",
    ]
    list_select_related = ["merchant"]
    search_fields = ["record_label", "idempotency_key", "message", "merchant__name"]
    date_hierarchy = "created_at"

    def has_change_permission(self, request, obj=None):
        return False  # the trail is written by the sync code only

    def has_delete_permission(self, request, obj=None):
        return False
