"""URL map of the whole site."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from portal import billing_views, views

portal_patterns = [
    path("", views.dashboard, name="dashboard"),
    path("customers/", views.customer_list, name="customers"),
    path("customers/<int:pk>/", views.customer_detail, name="customer"),
    path("invoices/", views.invoice_list, name="invoices"),
    path("invoices/<int:pk>/", views.invoice_detail, name="invoice"),
    path("payments/", views.payment_list, name="payments"),
    path("merchants/switch/", views.merchant_switch, name="merchant_switch"),
    path("customers/new/", billing_views.customer_new, name="customer_new"),
    path("customers/unmatched/", billing_views.unmatched, name="unmatched"),
    path("customers/unmatched/<int:pk>/", billing_views.unmatched_resolve, name="unmatched_resolve"),
    path("invoices/new/", billing_views.invoice_new, name="invoice_new"),
    path("items/new/", billing_views.item_new, name="item_new"),
    path("invoices/<int:pk>/edit/", billing_views.invoice_edit, name="invoice_edit"),
    path("invoices/<int:pk>/payments/new/", billing_views.payment_new, name="payment_new"),
    path("fees/", billing_views.fees, name="fees"),
    path("fees/apply/", billing_views.fees_apply_now, name="fees_apply"),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("addons/xero/", include("xero_sync.urls")),
    path("addons/", include("integrations.urls")),
    path("", include((portal_patterns, "portal"))),
]

if settings.XERO_SANDBOX:
    urlpatterns.insert(0, path("sandbox/xero/", include("xero_sandbox.urls")))
