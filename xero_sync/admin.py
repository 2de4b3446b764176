"""Django admin for staff: Xero connections' state (never their tokens)."""

from django.contrib import admin

from xero_sync.models import XeroConnection, XeroPendingRevocation

TOKEN_FIELDS = ("access_token", "refresh_token", "previous_refresh_token")


@admin.register(XeroConnection)
class XeroConnectionAdmin(admin.ModelAdmin):
    list_display = ["merchant", "tenant_name", "status", "xero_user_name", "connected_at", "auto_sync"]
    list_filter = ["status", "auto_sync"]
    list_select_related = ["merchant"]
    search_fields = ["merchant__name", "tenant_name", "tenant_id", "xero_user_email"]
    exclude = TOKEN_FIELDS
    readonly_fields = [
        "merchant",
        "tenant_id",
        "tenant_name",
        "short_code",
        "connection_id",
        "auth_event_id",
        "scopes",
        "access_expires_at",
        "tokens_refreshed_at",
        "connected_by",
        "xero_user_id",
        "xero_user_name",
        "xero_user_email",
        "connected_at",
        "disconnected_at",
        "created_at",
        "updated_at",
    ]

    def has_add_permission(self, request):
        return False


@admin.register(XeroPendingRevocation)
class XeroPendingRevocationAdmin(admin.ModelAdmin):
    list_display = ["merchant", "attempts", "last_error", "created_at"]
    exclude = ("refresh_token", "access_token")
    readonly_fields = ["merchant", "connection_id", "attempts", "last_error", "created_at"]

    def has_add_permission(self, request):
        return False
