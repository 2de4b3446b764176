"""The Add-ons Marketplace: listing, search, install rules and roles."""

import pytest
from django.urls import reverse

from integrations import registry
from integrations.models import Installation
from integrations.services import InstallError, installation_create

pytestmark = pytest.mark.django_db

OTHER_ACCOUNTING = registry.AddOn(
    key="ledgerly",
    name="Ledgerly",
    category=registry.ACCOUNTING,
    summary="Another accounting package.",
    logo="img/addons/xero.svg",
)


@pytest.fixture
def second_accounting_addon():
    registry.register(OTHER_ACCOUNTING)
    yield OTHER_ACCOUNTING
    registry._ADDONS.pop(OTHER_ACCOUNTING.key)


def test_xero_is_first_in_registry():
    assert registry.all_addons()[0].key == "xero"
    assert registry.all_addons()[0].category.name == "Accounting Software"


def test_marketplace_lists_xero_with_install_button(admin_client):
    body = admin_client.get(reverse("integrations:marketplace")).content.decode()
    assert "Accounting Software" in body
    assert 'data-addon="xero"' in body
    assert reverse("integrations:install", args=["xero"]) in body


@pytest.mark.parametrize(
    ("query", "found"), [("xero", True), ("XERO", True), ("bookkeeping", True), ("payroll", False)]
)
def test_marketplace_search(admin_client, query, found):
    body = admin_client.get(reverse("integrations:marketplace") + f"?q={query}").content.decode()
    assert ('data-addon="xero"' in body) is found
    if not found:
        assert "No add-ons match" in body


def test_admin_installs_and_lands_on_addon_page(admin_client, merchant):
    response = admin_client.post(reverse("integrations:install", args=["xero"]))
    assert response.status_code == 302
    assert response["Location"] == reverse("integrations:addon", args=["xero"])
    assert Installation.objects.filter(merchant=merchant, addon_key="xero").exists()
    page = admin_client.get(response["Location"]).content.decode()
    assert "Not connected" in page
    tile = admin_client.get(reverse("integrations:marketplace")).content.decode()
    assert "Installed" in tile


def test_member_cannot_install(member_client, merchant):
    response = member_client.post(reverse("integrations:install", args=["xero"]))
    assert response.status_code == 403
    assert not Installation.objects.filter(merchant=merchant).exists()
    body = member_client.get(reverse("integrations:marketplace")).content.decode()
    assert reverse("integrations:install", args=["xero"]) not in body


def test_member_cannot_uninstall(member_client, merchant):
    installation_create(merchant=merchant, addon_key="xero", user=None)
    assert member_client.post(reverse("integrations:uninstall", args=["xero"])).status_code == 403
    assert Installation.objects.filter(merchant=merchant).exists()


def test_install_twice_is_harmless(admin_client, merchant):
    admin_client.post(reverse("integrations:install", args=["xero"]))
    admin_client.post(reverse("integrations:install", args=["xero"]))
    assert Installation.objects.filter(merchant=merchant).count() == 1


def test_exclusive_category_names_the_installed_addon(admin_client, merchant, second_accounting_addon):
    admin_client.post(reverse("integrations:install", args=["xero"]))
    response = admin_client.post(reverse("integrations:install", args=["ledgerly"]), follow=True)
    assert "Xero is already installed" in response.content.decode()
    assert list(Installation.objects.filter(merchant=merchant).values_list("addon_key", flat=True)) == ["xero"]


def test_exclusive_category_is_enforced_by_the_database(merchant, second_accounting_addon):
    installation_create(merchant=merchant, addon_key="xero", user=None)
    with pytest.raises(InstallError):
        installation_create(merchant=merchant, addon_key="ledgerly", user=None)


def test_uninstall_returns_tile_to_install(admin_client, merchant):
    admin_client.post(reverse("integrations:install", args=["xero"]))
    admin_client.post(reverse("integrations:uninstall", args=["xero"]))
    assert not Installation.objects.filter(merchant=merchant).exists()
    body = admin_client.get(reverse("integrations:marketplace")).content.decode()
    assert reverse("integrations:install", args=["xero"]) in body


def test_unknown_addon_is_404(admin_client):
    assert admin_client.get(reverse("integrations:addon", args=["nope"])).status_code == 404
    assert admin_client.post(reverse("integrations:install", args=["nope"])).status_code == 404
