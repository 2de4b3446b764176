"""Forms of the pages where merchants set fees, create customers and invoices, and record payments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import forms
from django.core.validators import MinValueValidator
from django.forms import formset_factory

from portal.models import (
    Account,
    AccountStatus,
    Customer,
    CustomerStatus,
    CustomerType,
    FeeSettings,
    FeeType,
    Item,
    PaymentMethod,
    TaxRate,
)

MAX_PERCENT = Decimal("100")


class PortalForm:
    """Labels without Django's trailing colon, as on the rest of the portal."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


def _amount_field(label: str, **kwargs) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        max_digits=12,
        decimal_places=4,
        error_messages={
            "invalid": "Enter a number, like 25 or 1.5.",
            "max_decimal_places": "Use at most %(max)s decimal places.",
            "max_digits": "That number is too large.",
        },
        **kwargs,
    )


class FeeSettingsForm(PortalForm, forms.ModelForm):
    late_value = _amount_field("Late fee", required=False)
    tech_value = _amount_field("Technology fee", required=False)
    late_cap = forms.DecimalField(
        label="Cap (total late fees per invoice)",
        required=False,
        max_digits=14,
        decimal_places=2,
        error_messages={"invalid": "Enter an amount, like 100.", "max_decimal_places": "Use at most 2 decimal places."},
    )
    late_min_balance = forms.DecimalField(
        label="Minimum balance",
        required=False,
        max_digits=14,
        decimal_places=2,
        error_messages={"invalid": "Enter an amount, like 10.", "max_decimal_places": "Use at most 2 decimal places."},
    )
    late_account_code = forms.ChoiceField(label="Late fee revenue account", required=False)

    class Meta:
        model = FeeSettings
        fields = [
            "late_enabled",
            "late_type",
            "late_value",
            "late_after_days",
            "late_repeat_days",
            "late_max_times",
            "late_cap",
            "late_min_balance",
            "late_excluded_types",
            "late_account_code",
            "paid_invoice_policy",
            "late_terms",
            "tech_enabled",
            "tech_type",
            "tech_value",
        ]
        widgets = {
            "late_excluded_types": forms.CheckboxSelectMultiple,
            "late_terms": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "late_after_days": "An invoice is late this many days after its due date.",
            "late_repeat_days": "A further late fee every this many days while it stays unpaid.",
            "late_max_times": "At most this many late fees per invoice.",
            "late_min_balance": "No late fee when less than this is due.",
            "paid_invoice_policy": "Xero does not allow new lines on an invoice with a payment or credit note.",
            "late_terms": "Shown on the invoice's page, e.g. “A 1.5% late fee applies 30 days after the due date.”",
        }

    def __init__(self, *args, merchant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["late_excluded_types"].queryset = CustomerType.objects.filter(merchant=merchant)
        self.fields["late_excluded_types"].label = "Customer types excluded"
        self.fields["late_type"].label = "Late fee type"
        self.fields["tech_type"].label = "Technology fee type"
        if not self.fields["late_excluded_types"].queryset.exists():
            self.fields["late_excluded_types"].help_text = "Customer types arrive with your contact groups from Xero."
        revenue = Account.objects.filter(
            merchant=merchant, status=AccountStatus.ACTIVE, type__in=["REVENUE", "OTHERINCOME", "SALES"]
        ).exclude(code="")
        self.fields["late_account_code"].choices = [("", "Finance Charges (created in Xero when missing)")] + [
            (a.code, f"{a.code} · {a.name}") for a in revenue
        ]
        for name, lowest in (("late_after_days", 0), ("late_repeat_days", 1), ("late_max_times", 1)):
            self.fields[name].validators.append(MinValueValidator(lowest))
            self.fields[name].widget.attrs["min"] = lowest

    def late_fields(self):
        return [self[name] for name in self.fields if not name.startswith("tech_")]

    def tech_fields(self):
        return [self[name] for name in self.fields if name.startswith("tech_")]

    def _fee_value(self, enabled: str, kind: str, value: str) -> Decimal:
        number = self.cleaned_data.get(value)
        fee_type = self.cleaned_data.get(kind)
        if number is None:
            if self.cleaned_data.get(enabled):
                self.add_error(value, "Enter the fee.")
            return Decimal("0")
        if number < 0:
            self.add_error(value, "A fee cannot be negative.")
        elif fee_type == FeeType.PERCENT and number > MAX_PERCENT:
            self.add_error(value, "A percentage cannot be over 100%.")
        elif fee_type == FeeType.FLAT and number != number.quantize(Decimal("0.01")):
            self.add_error(value, "An amount has at most 2 decimal places (cents).")
        elif number == 0 and self.cleaned_data.get(enabled):
            self.add_error(value, "Enter a fee greater than zero, or switch the fee off.")
        return number

    def clean(self):
        cleaned = super().clean()
        cleaned["late_value"] = self._fee_value("late_enabled", "late_type", "late_value")
        cleaned["tech_value"] = self._fee_value("tech_enabled", "tech_type", "tech_value")
        for name in ("late_cap", "late_min_balance"):
            if cleaned.get(name) is not None and cleaned[name] < 0:
                self.add_error(name, "Cannot be negative.")
        if cleaned.get("late_min_balance") is None:
            cleaned["late_min_balance"] = Decimal("0")
        return cleaned


class CustomerForm(PortalForm, forms.ModelForm):
    class Meta:
        model = Customer
        fields = [
            "name",
            "first_name",
            "last_name",
            "email",
            "phone",
            "bill_line1",
            "bill_line2",
            "bill_city",
            "bill_region",
            "bill_postal_code",
            "bill_country",
        ]

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError("Enter the customer's name.")
        return name


class InvoiceForm(PortalForm, forms.Form):
    customer = forms.ModelChoiceField(queryset=Customer.objects.none())
    date = forms.DateField(initial=dt.date.today, widget=forms.DateInput(attrs={"type": "date"}))
    due_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    reference = forms.CharField(required=False, max_length=255)

    def __init__(self, *args, merchant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = Customer.objects.filter(merchant=merchant, status=CustomerStatus.ACTIVE)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("due_date") and cleaned.get("date") and cleaned["due_date"] < cleaned["date"]:
            self.add_error("due_date", "The due date cannot be before the invoice date.")
        return cleaned


class LineForm(PortalForm, forms.Form):
    description = forms.CharField(required=False, max_length=1000)
    item = forms.ModelChoiceField(queryset=Item.objects.none(), required=False)
    quantity = forms.DecimalField(required=False, max_digits=14, decimal_places=4, min_value=Decimal("0.0001"))
    unit_amount = forms.DecimalField(
        label="Unit price", required=False, max_digits=14, decimal_places=4, min_value=Decimal("0")
    )
    tax_rate = forms.ModelChoiceField(queryset=TaxRate.objects.none(), required=False)

    def __init__(self, *args, merchant=None, **kwargs):
        super().__init__(*args, **kwargs)
        if merchant is not None:
            self.fields["item"].queryset = Item.objects.filter(merchant=merchant)
            self.fields["tax_rate"].queryset = TaxRate.objects.filter(merchant=merchant, status="ACTIVE")

    @property
    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {}) or {}
        return not (data.get("description") or data.get("item") or data.get("unit_amount"))

    def clean(self):
        cleaned = super().clean()
        if not self.is_blank:
            if cleaned.get("quantity") is None:
                cleaned["quantity"] = Decimal("1")
            if cleaned.get("unit_amount") is None:
                item = cleaned.get("item")
                if item is not None and item.sale_price is not None:
                    cleaned["unit_amount"] = item.sale_price
                else:
                    self.add_error("unit_amount", "Enter the unit price.")
            if not cleaned.get("description") and cleaned.get("item"):
                cleaned["description"] = cleaned["item"].description or cleaned["item"].name
        return cleaned


LineFormSet = formset_factory(LineForm, extra=3, max_num=50)


class PaymentForm(PortalForm, forms.Form):
    amount = forms.DecimalField(
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0.01"),
        error_messages={"invalid": "Enter an amount, like 120.50.", "min_value": "Enter an amount greater than zero."},
    )
    date = forms.DateField(initial=dt.date.today, widget=forms.DateInput(attrs={"type": "date"}))
    method = forms.ChoiceField(
        choices=[(m.value, m.label) for m in PaymentMethod if m != PaymentMethod.OTHER],
        initial=PaymentMethod.BANK_TRANSFER,
    )
    reference = forms.CharField(required=False, max_length=255)


class ItemForm(PortalForm, forms.Form):
    code = forms.CharField(max_length=30, help_text="Short and unique, e.g. DRAIN-CAM.")
    name = forms.CharField(max_length=100, required=False)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    sale_price = forms.DecimalField(required=False, max_digits=14, decimal_places=4, min_value=Decimal("0"))

    def __init__(self, *args, merchant, **kwargs):
        super().__init__(*args, **kwargs)
        self.merchant = merchant

    def clean_code(self):
        code = self.cleaned_data["code"].strip().upper()
        if Item.objects.filter(merchant=self.merchant, code__iexact=code).exists():
            raise forms.ValidationError("An item with this code already exists.")
        return code
