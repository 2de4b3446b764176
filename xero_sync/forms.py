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


def _mapping_text(mapping: dict) -> str:
    return "\n".join(f"{key} = {value}" for key, value in sorted(mapping.items()))


def _mapping_parse(text: str, *, what: str) -> dict[str, str]:
    found = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if "=" not in line:
            raise forms.ValidationError(f"Line {number}: write “{what} = code”, e.g. “LABOUR-HR = 200”.")
        key, value = (part.strip() for part in line.split("=", 1))
        if not key or not value:
            raise forms.ValidationError(f"Line {number}: both sides of “=” are needed.")
        found[key] = value
    return found


class XeroWriteSettingsForm(forms.Form):
    """What the portal writes to Xero: the status of pushed invoices and the account and tax mappings."""

    invoice_status = forms.ChoiceField(
        label="Status of invoices sent to Xero",
        choices=[("DRAFT", "Draft"), ("SUBMITTED", "Submitted (Awaiting Approval)"), ("AUTHORISED", "Authorised")],
    )
    default_revenue_account_code = forms.ChoiceField(
        label="Default revenue account",
        required=False,
        help_text="Lines with no mapped item or account book here.",
    )
    item_account_codes = forms.CharField(
        label="Item/service → account code",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "LABOUR-HR = 200\nTECH-FEE = 260"}),
        help_text="One per line: the portal item code, “=”, the Xero account code.",
    )
    tax_types = forms.CharField(
        label="Tax rate mapping",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "OUTPUT = OUTPUT2"}),
        help_text="One per line: the portal tax rate, “=”, the Xero tax type.",
    )

    def __init__(self, *args, connection: XeroConnection, **kwargs):
        super().__init__(*args, **kwargs)
        self.connection = connection
        accounts = Account.objects.filter(
            merchant=connection.merchant, status=AccountStatus.ACTIVE, type__in=["REVENUE", "SALES", "OTHERINCOME"]
        ).exclude(code="")
        self.fields["default_revenue_account_code"].choices = [("", "— none —")] + [
            (a.code, f"{a.code} · {a.name}") for a in accounts
        ]

    @staticmethod
    def initial_for(write_settings) -> dict:
        return {
            "invoice_status": write_settings.invoice_status,
            "default_revenue_account_code": write_settings.default_revenue_account_code,
            "item_account_codes": _mapping_text(write_settings.item_account_codes),
            "tax_types": _mapping_text(write_settings.tax_types),
        }

    def clean_item_account_codes(self) -> dict:
        mapping = _mapping_parse(self.cleaned_data["item_account_codes"], what="ITEM")
        known = set(
            Account.objects.filter(merchant=self.connection.merchant, status=AccountStatus.ACTIVE).values_list(
                "code", flat=True
            )
        )
        unknown = sorted(code for code in mapping.values() if known and code not in known)
        if unknown:
            raise forms.ValidationError(f"Not an account in Xero's chart of accounts: {', '.join(unknown)}.")
        return mapping

    def clean_tax_types(self) -> dict:
        from portal.models import TaxRate

        mapping = _mapping_parse(self.cleaned_data["tax_types"], what="TAX RATE")
        known = set(TaxRate.objects.filter(merchant=self.connection.merchant).values_list("tax_type", flat=True))
        unknown = sorted(code for code in mapping.values() if known and code not in known and code != "NONE")
        if unknown:
            raise forms.ValidationError(f"Not a tax type in Xero: {', '.join(unknown)}.")
        return mapping
