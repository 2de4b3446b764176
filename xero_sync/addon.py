"""How the Xero add-on describes itself to the marketplace."""

from integrations.registry import ACCOUNTING, AddOn

XERO = AddOn(
    key="xero",
    name="Xero",
    category=ACCOUNTING,
    summary="Two-way sync of customers, invoices, payments, accounts and items with Xero.",
    logo="img/addons/xero.svg",
    keywords=("accounting", "bookkeeping", "invoices", "sync"),
    page_view="xero_sync.views.addon_page",
    uninstall="xero_sync.services.connection.connection_disconnect",
)
