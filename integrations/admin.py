"""Django admin for the marketplace: installs per merchant."""

from django.contrib import admin

from integrations.models import Installation


@admin.register(Installation)
class InstallationAdmin(admin.ModelAdmin):
    list_display = ["merchant", "addon_key", "state", "installed_at", "installed_by"]
    list_filter = ["addon_key", "state"]
    list_select_related = ["merchant", "installed_by"]
    search_fields = ["merchant__name"]
    readonly_fields = ["installed_at", "updated_at"]
