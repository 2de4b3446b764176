"""Forms of the Xero add-on page."""

from __future__ import annotations

import re

from django import forms

from portal.models import Account, AccountStatus
from xero_sync.models import RetentionInterval, XeroConnection


def payment_account_choices(connection: XeroConnection) -> list[tuple[str, str]]:
    """Bank accounts and accounts that accept payments, from the merchant's synced chart of accounts."""
    accounts = Account.objects.filter(merchant=connection.merchant, status=AccountStatus.ACTIVE).exclude(code="")
    eligible = [a for a in accounts if a.accepts_payments]
    return [("", "— choose an account —")] + [(a.code, f"{a.code} · {a.name}") for a in eligible]


class XeroSettingsForm(forms.Form):
    auto_sync = forms.BooleanField(
        label="Auto-sync",
        required=False,
        help_text="Keep in sync in the background (Xero webhooks and scheduled polls).",
    )
    default_payment_account_code = forms.ChoiceField(
        label="Default Payment Account",
        required=False,
        help_text="Payments recorded in the portal are pushed to Xero into this account.",
    )
    default_commodity_code = forms.CharField(
        label="Default Commodity Code",
        required=False,
        max_length=8,
        help_text="UNSPSC code (8 digits) carried on items created from the portal.",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": "e.g. 72151300"}),
    )
    retention_interval_days = forms.TypedChoiceField(
        label="Integration Retention Interval",
        choices=RetentionInterval.choices,
        coerce=int,
        help_text="How often admins are reminded about data that has not reached Xero.",
    )

    def __init__(self, *args, connection: XeroConnection, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["default_payment_account_code"].choices = payment_account_choices(connection)

    def clean_default_commodity_code(self) -> str:
        code = self.cleaned_data["default_commodity_code"].strip()
        if code and not re.fullmatch(r"[1-9]\d{7}", code):
            raise forms.ValidationError("A UNSPSC commodity code is 8 digits, e.g. 72151300.")
        return code
