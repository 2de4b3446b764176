"""Admin for the sandbox's accounting data; edits made "inside Xero" here move UpdatedDateUTC and emit webhooks."""

from django.contrib import admin
from django.utils import timezone

from xero_sandbox.api.services import emit
from xero_sandbox.models import (
    Account,
    AccountingSettings,
    Contact,
    ContactGroup,
    Invoice,
    Item,
    LineItem,
    Payment,
    TaxRate,
)


class _TouchesUpdated(admin.ModelAdmin):
    """Every save through the admin is a change Xero would stamp."""

    def save_model(self, request, obj, form, change):
        obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)


@admin.register(AccountingSettings)
class AccountingSettingsAdmin(admin.ModelAdmin):
    list_display = ("org", "period_lock_date", "end_of_year_lock_date", "next_invoice_number")


@admin.register(Account)
class AccountAdmin(_TouchesUpdated):
    list_display = ("code", "name", "type", "status", "org")
    list_filter = ("type", "status")
    search_fields = ("code", "name")
    exclude = ("updated_at",)


@admin.register(TaxRate)
class TaxRateAdmin(_TouchesUpdated):
    list_display = ("tax_type", "name", "rate", "status", "org")
    exclude = ("updated_at",)


@admin.register(Item)
class ItemAdmin(_TouchesUpdated):
    list_display = ("code", "name", "sales_unit_price", "org")
    search_fields = ("code", "name")
    exclude = ("updated_at",)


@admin.register(ContactGroup)
class ContactGroupAdmin(_TouchesUpdated):
    list_display = ("name", "status", "org")
    filter_horizontal = ("contacts",)
    exclude = ("updated_at",)


@admin.register(Contact)
class ContactAdmin(_TouchesUpdated):
    list_display = ("name", "status", "email_address", "is_customer", "is_supplier", "updated_at", "org")
    list_filter = ("status", "is_customer", "is_supplier")
    search_fields = ("name", "email_address", "contact_number")
    readonly_fields = ("updated_at",)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        emit(org=obj.org, category="CONTACT", event_type="UPDATE" if change else "CREATE", resource_id=obj.id)


class LineItemInline(admin.TabularInline):
    model = LineItem
    extra = 0
    can_delete = False
    fields = ("description", "quantity", "unit_amount", "account_code", "tax_type", "tax_amount", "line_amount")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Invoice)
class InvoiceAdmin(_TouchesUpdated):
    """Header fields only: lines and money are the API's (totals must stay as Xero computes them)."""

    list_display = ("number", "type", "status", "contact", "date", "total", "amount_due", "updated_at")
    list_filter = ("type", "status", "line_amount_types")
    search_fields = ("number", "reference", "contact__name")
    list_select_related = ("contact",)
    raw_id_fields = ("contact",)
    inlines = [LineItemInline]
    fields = (
        "org",
        "type",
        "contact",
        "number",
        "reference",
        "date",
        "due_date",
        "status",
        "sent_to_contact",
        "sub_total",
        "total_tax",
        "total",
        "amount_paid",
        "amount_due",
        "updated_at",
    )
    readonly_fields = ("org", "type", "sub_total", "total_tax", "total", "amount_paid", "amount_due", "updated_at")

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        emit(org=obj.org, category="INVOICE", event_type="UPDATE", resource_id=obj.id)


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    list_display = ("invoice", "amount", "date", "status", "account")
    list_select_related = ("invoice", "account")
    raw_id_fields = ("invoice",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
