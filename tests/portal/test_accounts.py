"""Sign-up creates a merchant; users switch between merchants; roles; the demo command."""

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.urls import reverse

from portal.models import Membership, Merchant, Role, User
from tests.factories import MembershipFactory, MerchantFactory

pytestmark = pytest.mark.django_db


def test_signup_creates_merchant_with_user_as_admin(client):
    response = client.post(
        reverse("account_signup"),
        {
            "business_name": "Rapid Rooter",
            "full_name": "Riley",
            "email": "riley@rooter.example",
            "password1": "a-Strong-pass-991",
            "password2": "a-Strong-pass-991",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(email="riley@rooter.example")
    membership = Membership.objects.get(user=user)
    assert membership.merchant.name == "Rapid Rooter"
    assert membership.role == Role.ADMIN
    assert client.get(reverse("portal:dashboard")).context["current_merchant"] == membership.merchant


def test_signup_requires_business_name(client):
    response = client.post(
        reverse("account_signup"),
        {
            "business_name": "  ",
            "email": "x@y.example",
            "password1": "a-Strong-pass-991",
            "password2": "a-Strong-pass-991",
        },
    )
    assert response.status_code == 200
    assert not User.objects.filter(email="x@y.example").exists()
    assert "business_name" in response.context["form"].errors


def test_sign_in_with_email(client, admin_user):
    response = client.post(reverse("account_login"), {"login": "admin@acme.example", "password": "pass-word-123"})
    assert response.status_code == 302
    assert client.get(reverse("portal:dashboard")).status_code == 200


def test_switch_merchant(admin_client, admin_user, merchant):
    second = MerchantFactory(name="Second Shop")
    MembershipFactory(user=admin_user, merchant=second, role=Role.MEMBER)
    assert admin_client.get(reverse("portal:dashboard")).context["current_merchant"] == merchant
    admin_client.post(reverse("portal:merchant_switch"), {"merchant": second.pk})
    response = admin_client.get(reverse("portal:dashboard"))
    assert response.context["current_merchant"] == second
    assert response.context["is_merchant_admin"] is False


def test_cannot_switch_to_a_merchant_you_do_not_belong_to(admin_client):
    stranger = MerchantFactory()
    response = admin_client.post(reverse("portal:merchant_switch"), {"merchant": stranger.pk})
    assert response.status_code == 404
    assert admin_client.get(reverse("portal:dashboard")).context["current_merchant"] != stranger


def test_user_without_merchant_sees_explanation(client):
    client.force_login(User.objects.create_user(email="lonely@example.com", password="x"))
    response = client.get(reverse("portal:dashboard"))
    assert response.status_code == 403
    assert "not part of a merchant" in response.content.decode()


@override_settings(DEBUG=True)
def test_demo_setup_is_repeatable(capsys):
    call_command("demo_setup")
    call_command("demo_setup")
    assert Merchant.objects.filter(name="Demo Plumbing Co").count() == 1
    admin = User.objects.get(email="admin@demo.example")
    assert admin.check_password("demo-admin-pass")
    assert Membership.objects.get(user=admin).role == Role.ADMIN
    assert User.objects.get(email="staff@demo.example").is_staff
    assert "admin@demo.example / demo-admin-pass" in capsys.readouterr().out


@override_settings(DEBUG=False)
def test_demo_setup_refuses_without_debug():
    with pytest.raises(CommandError):
        call_command("demo_setup")
    assert not User.objects.filter(email="admin@demo.example").exists()
