"""The OAuth scopes the sandbox knows, in Xero's broad and granular names, with plain-word descriptions."""

IDENTITY_SCOPES = {
    "openid": "Confirm who you are",
    "profile": "See your name",
    "email": "See your email address",
    "offline_access": "Keep access when you're not using the app (for up to 60 days without use)",
}

# Scopes every app can ask for.
COMMON_SCOPES = {
    "accounting.settings": "View and edit your organisation settings (chart of accounts, tax rates, items)",
    "accounting.settings.read": "View your organisation settings",
    "accounting.contacts": "View and edit your contacts",
    "accounting.contacts.read": "View your contacts",
    "accounting.attachments": "View and add attachments",
    "accounting.attachments.read": "View attachments",
    "accounting.journals.read": "View your general ledger",
    "accounting.budgets.read": "View your budgets",
}

# The broad names (older apps only).
BROAD_SCOPES = {
    "accounting.transactions": "View and edit your business transactions (invoices, bills, payments, bank)",
    "accounting.transactions.read": "View your business transactions",
    "accounting.reports.read": "View your reports",
}

# The granular names (apps created from March 2026 get only these).
GRANULAR_SCOPES = {
    "accounting.invoices": "View and edit your invoices, bills, credit notes and items",
    "accounting.invoices.read": "View your invoices, bills, credit notes and items",
    "accounting.payments": "View and edit your payments",
    "accounting.payments.read": "View your payments",
    "accounting.banktransactions": "View and edit your bank transactions",
    "accounting.banktransactions.read": "View your bank transactions",
    "accounting.manualjournals": "View and edit your manual journals",
    "accounting.manualjournals.read": "View your manual journals",
    "accounting.reports.aged.read": "View your aged payables and receivables reports",
    "accounting.reports.profitandloss.read": "View your profit and loss report",
    "accounting.reports.balancesheet.read": "View your balance sheet",
    "accounting.reports.trialbalance.read": "View your trial balance",
    "accounting.reports.banksummary.read": "View your bank summary",
    "accounting.reports.budgetsummary.read": "View your budget summary",
    "accounting.reports.executivesummary.read": "View your executive summary",
    "accounting.reports.taxreports.read": "View your tax reports",
}

ALL_SCOPES = {**IDENTITY_SCOPES, **COMMON_SCOPES, **BROAD_SCOPES, **GRANULAR_SCOPES}

DEFAULT_SCOPES = (
    "openid profile email offline_access accounting.settings accounting.contacts "
    "accounting.transactions accounting.reports.read"
)


def scopes_parse(scope: str) -> list[str]:
    """Split a space-separated scope string, keeping order and dropping repeats."""
    seen: list[str] = []
    for item in (scope or "").split():
        if item not in seen:
            seen.append(item)
    return seen


def scopes_invalid(scopes: list[str], *, allow_broad: bool) -> list[str]:
    """The requested scopes this app may not have (unknown, or broad for a granular-only app)."""
    bad = [s for s in scopes if s not in ALL_SCOPES]
    if not allow_broad:
        bad += [s for s in scopes if s in BROAD_SCOPES]
    return bad


def scopes_describe(scopes: list[str]) -> list[str]:
    """Plain words for the consent page (identity scopes folded into one line)."""
    lines = [ALL_SCOPES[s] for s in scopes if s in ALL_SCOPES and s not in ("openid", "profile", "email")]
    if any(s in scopes for s in ("openid", "profile", "email")):
        lines.insert(0, "Confirm who you are and see your name and email address")
    return lines
