"""The sandbox's own admin: apps, users and roles, connections, tokens (never in plain text), faults, log, webhooks."""

import importlib.util

from django import forms
from django.contrib import admin, messages

from xero_sandbox import webhooks
from xero_sandbox.identity import services
from xero_sandbox.models import (
    Connection,
    FaultRule,
    Organisation,
    RequestLog,
    SandboxAccessToken,
    SandboxApp,
    SandboxRefreshToken,
    SandboxUser,
    TokenFamily,
    UserOrgRole,
    WebhookDelivery,
    WebhookEvent,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records the sandbox writes itself; looked at, never edited."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class UserOrgRoleInline(admin.TabularInline):
    model = UserOrgRole
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "tenant_id", "short_code", "base_currency", "created_at"]
    search_fields = ["name", "short_code", "tenant_id"]
    readonly_fields = ["tenant_id", "created_at"]
    inlines = [UserOrgRoleInline]
    actions = ["disconnect_all_apps"]

    @admin.action(description="Disconnect app (every app connected to these organisations)")
    def disconnect_all_apps(self, request, queryset):
        removed = sum(services.app_disconnect(org=org) for org in queryset)
        self.message_user(request, f"{removed} connection(s) removed.", messages.SUCCESS)


class SandboxAppForm(forms.ModelForm):
    """Secrets are write-only here: a new value replaces the stored one, the old one is never shown."""

    webhook_url = forms.URLField(required=False, assume_scheme="http", max_length=500)
    new_client_secret = forms.CharField(
        required=False, widget=forms.PasswordInput, help_text="Leave empty to keep the current secret."
    )
    new_webhook_key = forms.CharField(
        required=False, widget=forms.PasswordInput, help_text="Leave empty to keep the current key."
    )

    class Meta:
        model = SandboxApp
        fields = ["name", "client_id", "redirect_uris", "allow_broad_scopes", "webhook_url"]

    def clean(self):
        cleaned = super().clean()
        if not self.instance.pk and not cleaned.get("new_client_secret"):
            self.add_error("new_client_secret", "A new app needs a client secret.")
        return cleaned

    def save(self, commit=True):
        app = super().save(commit=False)
        if self.cleaned_data.get("new_client_secret"):
            from django.contrib.auth.hashers import make_password

            app.client_secret_hash = make_password(self.cleaned_data["new_client_secret"])
        if self.cleaned_data.get("new_webhook_key"):
            app.webhook_key = self.cleaned_data["new_webhook_key"]
        if commit:
            app.save()
        return app


@admin.register(SandboxApp)
class SandboxAppAdmin(admin.ModelAdmin):
    form = SandboxAppForm
    list_display = ["name", "client_id", "webhook_url", "webhook_intent_ok", "created_at"]
    search_fields = ["name", "client_id"]
    readonly_fields = ["webhook_intent_ok", "webhook_intent_checked_at", "created_at"]
    actions = ["intent_to_receive"]

    @admin.action(description="Run the webhook intent-to-receive check")
    def intent_to_receive(self, request, queryset):
        for app in queryset:
            try:
                result = webhooks.webhook_intent_check(app=app)
            except ValueError as exc:
                self.message_user(request, f"{app}: {exc}", messages.ERROR)
                continue
            level = messages.SUCCESS if result["passed"] else messages.ERROR
            problems = "; ".join(r.get("problem", "") for r in result["results"] if not r["ok"])
            verdict = "passed" if result["passed"] else f"failed ({problems})"
            self.message_user(request, f"{app}: intent to receive {verdict}", level)


class SandboxUserForm(forms.ModelForm):
    new_password = forms.CharField(
        required=False, widget=forms.PasswordInput, help_text="Leave empty to keep the current password."
    )

    class Meta:
        model = SandboxUser
        fields = ["email", "first_name", "last_name"]

    def clean(self):
        cleaned = super().clean()
        if not self.instance.pk and not cleaned.get("new_password"):
            self.add_error("new_password", "A new user needs a password.")
        return cleaned

    def save(self, commit=True):
        user = super().save(commit=False)
        if self.cleaned_data.get("new_password"):
            from django.contrib.auth.hashers import make_password

            user.password_hash = make_password(self.cleaned_data["new_password"])
        if commit:
            user.save()
        return user


@admin.register(SandboxUser)
class SandboxUserAdmin(admin.ModelAdmin):
    form = SandboxUserForm
    list_display = ["email", "first_name", "last_name", "xero_userid", "created_at"]
    search_fields = ["email"]
    inlines = [UserOrgRoleInline]


@admin.register(UserOrgRole)
class UserOrgRoleAdmin(admin.ModelAdmin):
    list_display = ["user", "organisation", "role"]
    list_filter = ["role"]
    search_fields = ["user__email", "organisation__name"]
    actions = ["remove_user_from_organisation"]

    @admin.action(description="Remove user from organisation")
    def remove_user_from_organisation(self, request, queryset):
        count = 0
        for membership in queryset.select_related("user", "organisation"):
            services.user_remove_from_org(user=membership.user, org=membership.organisation)
            count += 1
        self.message_user(request, f"{count} user(s) removed; their connections stopped working.", messages.SUCCESS)

    def delete_model(self, request, obj):
        # Deleting the row is removing the user: take their connections with it.
        services.user_remove_from_org(user=obj.user, org=obj.organisation)

    def delete_queryset(self, request, queryset):
        for membership in queryset.select_related("user", "organisation"):
            services.user_remove_from_org(user=membership.user, org=membership.organisation)


@admin.register(Connection)
class ConnectionAdmin(ReadOnlyAdmin):
    list_display = ["organisation", "app", "user", "auth_event_id", "created_at", "updated_at"]
    list_filter = ["app"]
    search_fields = ["organisation__name", "user__email", "app__client_id"]
    actions = ["disconnect_app"]

    @admin.action(description="Disconnect app")
    def disconnect_app(self, request, queryset):
        removed = 0
        for conn in queryset.select_related("organisation", "app"):
            removed += services.app_disconnect(org=conn.organisation, app=conn.app)
        self.message_user(request, f"{removed} connection(s) removed.", messages.SUCCESS)

    def has_delete_permission(self, request, obj=None):
        return True


@admin.register(TokenFamily)
class TokenFamilyAdmin(ReadOnlyAdmin):
    list_display = ["user", "app", "auth_event_id", "public_client", "created_at"]
    list_filter = ["app"]
    search_fields = ["user__email", "app__client_id"]
    fields = ["app", "user", "scope", "auth_event_id", "public_client", "created_at"]

    def has_delete_permission(self, request, obj=None):
        return True  # deleting a family revokes every token in it


def _short_hash(obj) -> str:
    return f"sha256:{obj.token_hash[:12]}…"


@admin.register(SandboxAccessToken)
class SandboxAccessTokenAdmin(ReadOnlyAdmin):
    list_display = ["jti", "family", "expires_at", "hash_prefix"]
    fields = ["family", "jti", "hash_prefix", "expires_at"]
    readonly_fields = ["hash_prefix"]

    @admin.display(description="token (hash only)")
    def hash_prefix(self, obj):
        return _short_hash(obj)


@admin.register(SandboxRefreshToken)
class SandboxRefreshTokenAdmin(ReadOnlyAdmin):
    list_display = ["family", "created_at", "used_at", "expires_at", "hash_prefix"]
    fields = ["family", "hash_prefix", "created_at", "used_at", "expires_at"]
    readonly_fields = ["hash_prefix"]

    @admin.display(description="token (hash only)")
    def hash_prefix(self, obj):
        return _short_hash(obj)


@admin.register(FaultRule)
class FaultRuleAdmin(admin.ModelAdmin):
    list_display = ["organisation", "kind", "remaining", "status", "delay_ms", "created_at"]
    list_filter = ["kind"]


@admin.register(RequestLog)
class RequestLogAdmin(ReadOnlyAdmin):
    list_display = ["at", "organisation", "method", "path", "status", "rate_limit_problem", "fault", "duration_ms"]
    list_filter = ["status", "method", "rate_limit_problem"]
    search_fields = ["path", "organisation__name"]
    date_hierarchy = "at"


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["id", "app", "organisation", "category", "event_type", "resource_id", "event_date", "delivery"]
    list_filter = ["category", "event_type"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["id", "app", "status", "attempts", "last_status_code", "created_at", "delivered_at"]
    list_filter = ["status"]
    actions = ["retry_now"]

    @admin.action(description="Retry now")
    def retry_now(self, request, queryset):
        ok = sum(webhooks.webhook_retry(delivery_id=d.pk) for d in queryset)
        self.message_user(request, f"{ok} delivered.", messages.INFO)


# The Accounting API registers its own models (SB-B's module), when it is there.
if importlib.util.find_spec("xero_sandbox.api") and importlib.util.find_spec("xero_sandbox.api.admin"):
    importlib.import_module("xero_sandbox.api.admin")
