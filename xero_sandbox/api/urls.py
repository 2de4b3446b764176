"""Accounting API routes, relative to api.xro/2.0/ (SB-A's xero_sandbox/urls.py includes them there)."""

from django.urls import path

from xero_sandbox.api import views

app_name = "api"

urlpatterns = [
    path("Organisation", views.organisation, name="organisation"),
    path("Accounts", views.accounts, name="accounts"),
    path("Accounts/<str:account_id>", views.accounts, name="account"),
    path("TaxRates", views.tax_rates, name="tax_rates"),
    path("TaxRates/<str:tax_type>", views.tax_rates, name="tax_rate"),
    path("Items", views.items, name="items"),
    path("Items/<str:item_id>", views.items, name="item"),
    path("Contacts", views.contacts, name="contacts"),
    path("Contacts/<str:contact_id>", views.contacts, name="contact"),
    path("ContactGroups", views.contact_groups, name="contact_groups"),
    path("ContactGroups/<str:group_id>", views.contact_groups, name="contact_group"),
    path("ContactGroups/<str:group_id>/Contacts", views.contact_group_members, name="contact_group_members"),
    path(
        "ContactGroups/<str:group_id>/Contacts/<str:contact_id>",
        views.contact_group_members,
        name="contact_group_member",
    ),
    path("Invoices", views.invoices, name="invoices"),
    path("Invoices/<str:invoice_id>", views.invoices, name="invoice"),
    path("Payments", views.payments, name="payments"),
    path("Payments/<str:payment_id>", views.payments, name="payment"),
    path("Reports/ProfitAndLoss", views.report_profit_and_loss, name="report_profit_and_loss"),
    path("Reports/AgedReceivablesByContact", views.report_aged_receivables, name="report_aged_receivables"),
]
