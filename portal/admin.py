"""Django admin for platform staff: users, merchants and their ledgers."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from portal import models


class MembershipInline(admin.TabularInline):
    model = models.Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(models.User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_staff", "is_active", "date_joined"]
    search_fields = ["email", "full_name"]
    list_filter = ["is_staff", "is_superuser", "is_active"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("full_name",)}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(models.Merchant)
class MerchantAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


class LedgerAdmin(admin.ModelAdmin):
    list_filter = ["merchant"]
    list_select_related = ["merchant"]
    readonly_fields = ["external_id", "external_updated_at", "created_at", "updated_at"]


@admin.register(models.Customer)
class CustomerAdmin(LedgerAdmin):
    list_display = ["name", "merchant", "email", "status", "external_id"]
    list_filter = ["merchant", "status"]
    search_fields = ["name", "email", "external_id"]


class InvoiceLineInline(admin.TabularInline):
    model = models.InvoiceLine
    extra = 0
    fields = ["description", "quantity", "unit_amount", "item_code", "account_code", "tax_type", "amount"]


@admin.register(models.Invoice)
class InvoiceAdmin(LedgerAdmin):
    list_display = [
        "number",
        "merchant",
        "customer",
        "type",
        "status",
        "date",
        "due_date",
        "total",
        "amount_due",
    ]
    list_filter = ["merchant", "type", "status"]
    list_select_related = ["merchant", "customer"]
    search_fields = ["number", "customer__name", "external_id"]
    raw_id_fields = ["customer"]
    inlines = [InvoiceLineInline]


@admin.register(models.Payment)
class PaymentAdmin(LedgerAdmin):
    list_display = ["invoice", "merchant", "date", "amount", "method", "status"]
    list_select_related = ["merchant", "invoice"]
    raw_id_fields = ["invoice", "account"]


@admin.register(models.Account)
class AccountAdmin(LedgerAdmin):
    list_display = ["code", "name", "type", "status", "merchant"]
    search_fields = ["code", "name"]


@admin.register(models.Item)
class ItemAdmin(LedgerAdmin):
    list_display = ["code", "name", "sale_price", "merchant"]
    search_fields = ["code", "name"]


@admin.register(models.CustomerType)
class CustomerTypeAdmin(LedgerAdmin):
    list_display = ["name", "merchant"]


@admin.register(models.TaxRate)
class TaxRateAdmin(LedgerAdmin):
    list_display = ["name", "tax_type", "rate", "merchant"]
