"""Scoping: a user sees only the merchant they are working in, and members see no admin-only actions."""

import pytest
from django.urls import reverse

from integrations.models import Installation
from integrations.services import installation_create
from portal.models import Role
from tests.factories import (
    CustomerFactory,
    InvoiceFactory,
    MembershipFactory,
    MerchantFactory,
    PaymentFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_merchant():
    return MerchantFactory(name="Someone Else's Shop")


def test_payments_list_shows_only_own_payments(admin_client, merchant, other_merchant):
    PaymentFactory(invoice=InvoiceFactory(merchant=merchant, number="OWN-1"), reference="OWN-PAYMENT")
    PaymentFactory(invoice=InvoiceFactory(merchant=other_merchant, number="THEIRS-1"), reference="THEIR-PAYMENT")
    response = admin_client.get(reverse("portal:payments"))
    body = response.content.decode()
    assert "OWN-PAYMENT" in body
    assert "THEIR-PAYMENT" not in body
    assert "THEIRS-1" not in body
    assert response.context["page"].paginator.count == 1


def test_customer_pages_are_scoped(member_client, merchant, other_merchant):
    own = CustomerFactory(merchant=merchant, name="Own Customer")
    theirs = CustomerFactory(merchant=other_merchant, name="Their Customer")
    InvoiceFactory(merchant=other_merchant, customer=theirs, number="THEIRS-9")
    assert member_client.get(reverse("portal:customer", args=[theirs.pk])).status_code == 404
    body = member_client.get(reverse("portal:customers")).content.decode()
    assert "Own Customer" in body
    assert "Their Customer" not in body
    assert member_client.get(reverse("portal:customers") + "?q=Their").context["page"].paginator.count == 0
    assert member_client.get(reverse("portal:customer", args=[own.pk])).status_code == 200


def test_customer_detail_lists_only_that_customers_invoices(admin_client, merchant):
    alice = CustomerFactory(merchant=merchant, name="Alice")
    InvoiceFactory(merchant=merchant, customer=alice, number="ALICE-1")
    InvoiceFactory(merchant=merchant, number="BOB-1")
    body = admin_client.get(reverse("portal:customer", args=[alice.pk])).content.decode()
    assert "ALICE-1" in body
    assert "BOB-1" not in body


def test_belonging_to_both_merchants_still_scopes_to_the_current_one(admin_client, admin_user, other_merchant):
    """Membership of another merchant is not a pass: pages follow the merchant you are working in."""
    MembershipFactory(user=admin_user, merchant=other_merchant, role=Role.ADMIN)
    theirs = InvoiceFactory(merchant=other_merchant, number="OTHER-7")
    assert admin_client.get(reverse("portal:invoice", args=[theirs.pk])).status_code == 404
    assert admin_client.get(reverse("portal:customer", args=[theirs.customer_id])).status_code == 404
    admin_client.post(reverse("portal:merchant_switch"), {"merchant": other_merchant.pk})
    assert admin_client.get(reverse("portal:invoice", args=[theirs.pk])).status_code == 200


def test_non_numeric_customer_filter_is_404(admin_client):
    assert admin_client.get(reverse("portal:invoices") + "?customer=abc").status_code == 404


def test_member_sees_no_install_or_uninstall_buttons(member_client, merchant):
    install_url = reverse("integrations:install", args=["xero"])
    uninstall_url = reverse("integrations:uninstall", args=["xero"])

    marketplace = member_client.get(reverse("integrations:marketplace")).content.decode()
    assert install_url not in marketplace
    assert ">Install</button>" not in marketplace
    assert "An admin can install this" in marketplace
    page = member_client.get(reverse("integrations:addon", args=["xero"])).content.decode()
    assert install_url not in page

    installation_create(merchant=merchant, addon_key="xero", user=None)
    page = member_client.get(reverse("integrations:addon", args=["xero"])).content.decode()
    assert uninstall_url not in page
    assert ">Uninstall</button>" not in page
    assert Installation.objects.filter(merchant=merchant).count() == 1


def test_admin_sees_the_buttons_members_do_not(admin_client, merchant):
    """The other side of the member test, so that one cannot pass just because the markup changed."""
    assert (
        reverse("integrations:install", args=["xero"])
        in admin_client.get(reverse("integrations:marketplace")).content.decode()
    )
    installation_create(merchant=merchant, addon_key="xero", user=None)
    page = admin_client.get(reverse("integrations:addon", args=["xero"])).content.decode()
    assert reverse("integrations:uninstall", args=["xero"]) in page


def test_role_is_shown_in_the_top_bar(member_client):
    body = member_client.get(reverse("portal:dashboard")).content.decode()
    assert '<span class="role-pill">Member</span>' in body
