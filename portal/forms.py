"""Forms for signing up (which creates a merchant)."""

from allauth.account.forms import SignupForm
from django import forms


class MerchantSignupForm(SignupForm):
    business_name = forms.CharField(
        label="Business name",
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": "Acme Plumbing", "autocomplete": "organization"}),
    )
    full_name = forms.CharField(
        label="Your name",
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )

    field_order = ["business_name", "full_name", "email", "password1", "password2"]

    def clean_business_name(self):
        name = self.cleaned_data["business_name"].strip()
        if not name:
            raise forms.ValidationError("Enter your business name.")
        return name
