"""The Fees page: admins save valid settings, invalid values get clear errors, members only read."""

from decimal import Decimal

import pytest
from django.urls import reverse

from portal.models import FeeSettings

pytestmark = pytest.mark.django_db

VALID = {
    "late_enabled": "on",
    "late_type": "percent",
    "late_value": "1.5",
    "late_after_days": "30",
    "late_repeat_days": "30",
    "late_max_times": "3",
    "late_cap": "100",
    "late_min_balance": "10",
    "late_account_code": "",
    "paid_invoice_policy": "separate_invoice",
    "late_terms": "A 1.5% late fee applies 30 days after the due date.",
    "tech_type": "flat",
    "tech_value": "2.50",
}


def test_admin_saves_fees(admin_client, merchant):
    page = admin_client.get(reverse("portal:fees"))
    assert page.status_code == 200 and b"Late fee" in page.content
    response = admin_client.post(reverse("portal:fees"), VALID)
    assert response.status_code == 302
    settings = FeeSettings.objects.get(merchant=merchant)
    assert settings.late_enabled and settings.late_value == Decimal("1.5") and settings.late_max_times == 3
    assert settings.late_cap == Decimal("100") and settings.tech_value == Decimal("2.50")


@pytest.mark.parametrize(
    "changes, field, text",
    [
        ({"late_value": "-5"}, "late_value", "cannot be negative"),
        ({"late_value": "100.5"}, "late_value", "over 100%"),
        ({"late_value": "1.123456"}, "late_value", "at most 4 decimal places"),
        ({"late_value": "abc"}, "late_value", "Enter a number"),
        ({"late_value": ""}, "late_value", "Enter the fee"),
        ({"tech_value": "2.505"}, "tech_value", "at most 2 decimal places"),
        ({"late_cap": "-1"}, "late_cap", "Cannot be negative"),
        ({"late_repeat_days": "0"}, "late_repeat_days", "greater than or equal to 1"),
    ],
)
def test_invalid_values_get_clear_errors(admin_client, merchant, changes, field, text):
    response = admin_client.post(reverse("portal:fees"), {**VALID, **changes})
    assert response.status_code == 400
    assert any(text in error for error in response.context["form"].errors[field])
    assert not FeeSettings.objects.filter(merchant=merchant, late_enabled=True).exists()


def test_member_cannot_change_fees(member_client, merchant):
    assert member_client.get(reverse("portal:fees")).status_code == 200
    member_client.post(reverse("portal:fees"), VALID)
    assert not FeeSettings.objects.filter(merchant=merchant, late_enabled=True).exists()
