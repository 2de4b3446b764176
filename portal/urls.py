"""URL map of the whole site."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from portal import views

portal_patterns = [
    path("", views.dashboard, name="dashboard"),
    path("customers/", views.customer_list, name="customers"),
    path("customers/<int:pk>/", views.customer_detail, name="customer"),
    path("invoices/", views.invoice_list, name="invoices"),
    path("invoices/<int:pk>/", views.invoice_detail, name="invoice"),
    path("payments/", views.payment_list, name="payments"),
    path("merchants/switch/", views.merchant_switch, name="merchant_switch"),
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
