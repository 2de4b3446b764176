"""allauth hooks: signing up creates a merchant and makes the new user its admin."""

from allauth.account.adapter import DefaultAccountAdapter
from django.db import transaction

from portal.services import merchant_create


class PortalAccountAdapter(DefaultAccountAdapter):
    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=False)
        user.full_name = form.cleaned_data.get("full_name", "")
        if commit:
            with transaction.atomic():
                user.save()
                merchant_create(name=form.cleaned_data["business_name"], admin=user)
        return user
