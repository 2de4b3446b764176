"""The portal in a real browser: install Xero from the marketplace, the list pages, sign-in and sign-up.

Each step writes a screenshot under tests/artifacts/ so a person can look at the pages.
"""

import re

import pytest
from django.core.management import call_command
from django.test import override_settings
from playwright.sync_api import expect

from integrations.models import Installation
from portal.models import Customer, CustomerStatus, Invoice, InvoiceStatus, Merchant, Payment, Role, User
from tests.factories import MembershipFactory, UserFactory, ledger_seed

pytestmark = pytest.mark.browser

DEMO_ADMIN = ("admin@demo.example", "demo-admin-pass")
NARROW = {"width": 390, "height": 844}


@pytest.fixture
def demo_merchant(transactional_db):
    with override_settings(DEBUG=True):
        call_command("demo_setup", stdout=open("/dev/null", "w"))  # noqa: SIM115
    return Merchant.objects.get(name="Demo Plumbing Co")


@pytest.fixture
def demo_admin_page(demo_merchant, signed_in_page):
    return signed_in_page(User.objects.get(email=DEMO_ADMIN[0]), password=DEMO_ADMIN[1])


@pytest.fixture
def seeded(demo_merchant):
    return ledger_seed(merchant=demo_merchant)


def test_demo_admin_installs_xero_from_the_marketplace(demo_merchant, demo_admin_page, screenshot):
    page = demo_admin_page
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Add-ons").click()
    expect(page).to_have_url(re.compile(r"/addons/$"))
    expect(page.get_by_role("heading", name="Add-ons Marketplace")).to_be_visible()
    expect(page.get_by_role("heading", name="Accounting Software")).to_be_visible()
    screenshot(page, "marketplace")

    page.get_by_role("searchbox", name="Search add-ons").fill("xero")
    page.get_by_role("searchbox", name="Search add-ons").press("Enter")
    expect(page).to_have_url(re.compile(r"/addons/\?q=xero"))
    tile = page.locator('[data-addon="xero"]')
    expect(tile).to_have_count(1)
    expect(tile.get_by_role("heading", name="Xero")).to_be_visible()
    screenshot(page, "marketplace_search_xero")

    tile.get_by_role("button", name="Install").click()
    expect(page).to_have_url(re.compile(r"/addons/xero/$"))
    expect(page.get_by_role("heading", name="Xero", exact=True)).to_be_visible()
    expect(page.get_by_text("Xero is installed.")).to_be_visible()
    expect(page.get_by_test_id("connection-state")).to_have_text("Not connected")
    screenshot(page, "addon_xero_installed")
    assert Installation.objects.filter(merchant=demo_merchant, addon_key="xero").count() == 1

    page.get_by_role("link", name="Add-ons", exact=True).first.click()
    expect(page.locator('[data-addon="xero"]').get_by_text("Installed")).to_be_visible()
    expect(page.locator('[data-addon="xero"]').get_by_role("button", name="Install")).to_have_count(0)
    screenshot(page, "marketplace_after_install")


def test_member_sees_marketplace_without_install_button(demo_merchant, signed_in_page, screenshot):
    member = UserFactory(email="member@demo.example", full_name="Morgan Member")
    MembershipFactory(user=member, merchant=demo_merchant, role=Role.MEMBER)
    page = signed_in_page(member)
    expect(page.locator(".role-pill")).to_have_text("Member")
    page.goto("/addons/")
    tile = page.locator('[data-addon="xero"]')
    expect(tile).to_be_visible()
    expect(page.get_by_role("button", name="Install")).to_have_count(0)
    expect(tile.get_by_text("An admin can install this")).to_be_visible()
    screenshot(page, "marketplace_member")

    page.goto("/addons/xero/")
    expect(page.get_by_test_id("connection-state")).to_have_text("Not installed")
    expect(page.get_by_role("button", name="Install")).to_have_count(0)
    screenshot(page, "addon_xero_member")


def test_dashboard_and_lists_with_realistic_data(demo_merchant, seeded, demo_admin_page, screenshot):
    page = demo_admin_page
    active = Customer.objects.filter(merchant=demo_merchant, status=CustomerStatus.ACTIVE).count()
    open_count = Invoice.objects.filter(
        merchant=demo_merchant, status=InvoiceStatus.AUTHORISED, amount_due__gt=0
    ).count()
    expect(page.get_by_test_id("stat-customers")).to_have_text(str(active))
    expect(page.get_by_test_id("stat-open")).to_have_text(str(open_count))
    expect(page.locator(".card table tbody tr")).to_have_count(8)
    screenshot(page, "dashboard")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Customers").click()
    expect(page.get_by_role("heading", name="Customers")).to_be_visible()
    expect(page.locator("table tbody tr")).to_have_count(25)
    expect(page.get_by_text("Page 1 of 2 · 40 in all")).to_be_visible()
    screenshot(page, "customers")

    customer = seeded["invoices"][-1].customer
    page.get_by_role("searchbox", name="Search customers").fill(customer.name)
    page.get_by_role("searchbox", name="Search customers").press("Enter")
    page.get_by_role("link", name=customer.name, exact=True).first.click()
    expect(page).to_have_url(re.compile(rf"/customers/{customer.pk}/$"))
    expect(page.get_by_role("heading", name=customer.name)).to_be_visible()
    expect(page.get_by_text(customer.email)).to_be_visible()
    own_invoices = Invoice.objects.filter(customer=customer).count()
    expect(page.locator("table tbody tr")).to_have_count(min(own_invoices, 25))
    screenshot(page, "customer_detail")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Invoices").click()
    expect(page.get_by_text("Page 1 of 5 · 120 in all")).to_be_visible()
    page.get_by_role("tab", name="Awaiting payment").click()
    expect(page).to_have_url(re.compile(r"\?status=AUTHORISED$"))
    awaiting = Invoice.objects.filter(merchant=demo_merchant, status=InvoiceStatus.AUTHORISED).count()
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(min(awaiting, 25))
    expect(rows.locator(".status")).to_have_text(["Awaiting payment"] * min(awaiting, 25))
    screenshot(page, "invoices_awaiting_payment")

    invoice = (
        Invoice.objects.filter(merchant=demo_merchant, status=InvoiceStatus.AUTHORISED, amount_paid__gt=0)
        .order_by("-date", "-id")
        .first()
    )
    page.goto(f"/invoices/?q={invoice.number}")
    expect(rows).to_have_count(1)
    page.get_by_role("link", name=invoice.number).click()
    expect(page.get_by_role("heading", name=f"Invoice {invoice.number}")).to_be_visible()
    expect(page.locator("table").first.locator("tbody tr")).to_have_count(invoice.lines.count())
    expect(page.get_by_text(invoice.payments.get().reference)).to_be_visible()
    screenshot(page, "invoice_detail")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Payments").click()
    expect(page.get_by_role("heading", name="Payments")).to_be_visible()
    payments = Payment.objects.filter(merchant=demo_merchant).count()
    expect(page.get_by_text(f"{payments} in all")).to_be_visible()
    screenshot(page, "payments")


def test_narrow_screens(demo_merchant, seeded, signed_in_page, screenshot):
    page = signed_in_page(User.objects.get(email=DEMO_ADMIN[0]), password=DEMO_ADMIN[1], viewport=NARROW)
    expect(page.get_by_test_id("stat-customers")).to_be_visible()
    # The page itself must not scroll sideways; wide tables scroll inside their card.
    assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    screenshot(page, "dashboard_narrow", full_page=False)

    page.get_by_role("button", name="Menu").click()
    expect(page.get_by_role("navigation", name="Main")).to_be_in_viewport()
    screenshot(page, "menu_narrow", full_page=False)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Invoices").click()
    expect(page.get_by_role("heading", name="Invoices")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).not_to_be_in_viewport()
    assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    screenshot(page, "invoices_narrow", full_page=False)

    page.get_by_role("button", name="Menu").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Customers").click()
    expect(page.locator("table tbody tr")).to_have_count(25)
    assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    screenshot(page, "customers_narrow", full_page=False)

    page.goto("/invoices/")
    page.locator("table tbody tr").first.get_by_role("link").first.click()
    expect(page.get_by_role("heading", name=re.compile(r"^Invoice INV-"))).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    screenshot(page, "invoice_detail_narrow")


def test_sign_in_page_and_wrong_password(demo_merchant, page, screenshot):
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    screenshot(page, "sign_in")
    page.get_by_label("Email").fill(DEMO_ADMIN[0])
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("The email address and/or password you specified are not correct.")).to_be_visible()
    screenshot(page, "sign_in_error")


def test_sign_up_creates_a_merchant(page, screenshot):
    page.goto("/accounts/signup/")
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    screenshot(page, "sign_up")
    page.get_by_label("Business name").fill("Rapid Rooter")
    page.get_by_label("Your name").fill("Riley Rooter")
    page.get_by_label("Email").fill("riley@rooter.example")
    page.get_by_label("Password", exact=True).fill("a-Strong-pass-991")
    page.get_by_label("Password (again)").fill("a-Strong-pass-991")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.locator(".merchant-name")).to_have_text("Rapid Rooter")
    expect(page.locator(".role-pill")).to_have_text("Admin")
    expect(page.get_by_text("No invoices yet")).to_be_visible()
    screenshot(page, "dashboard_new_merchant")


def test_password_reset_and_sign_out_pages(demo_merchant, page, signed_in_page, screenshot):
    page.goto("/accounts/password/reset/")
    expect(page.get_by_role("heading", name="Reset your password")).to_be_visible()
    screenshot(page, "password_reset")
    page.get_by_label("Email").fill(DEMO_ADMIN[0])
    page.get_by_role("button", name="Send reset link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    screenshot(page, "password_reset_done")

    admin = signed_in_page(User.objects.get(email=DEMO_ADMIN[0]), password=DEMO_ADMIN[1])
    # allauth's own account pages render through our elements and layout (templates/allauth/).
    admin.goto("/accounts/password/change/")
    expect(admin.get_by_role("heading", name="Change Password")).to_be_visible()
    expect(admin.get_by_label("Current Password")).to_be_visible()
    screenshot(admin, "password_change")
    admin.goto("/accounts/email/")
    expect(admin.get_by_text(DEMO_ADMIN[0])).to_be_visible()
    screenshot(admin, "email_addresses")

    admin.goto("/accounts/logout/")
    expect(admin.get_by_role("heading", name="Sign out")).to_be_visible()
    screenshot(admin, "sign_out")
    admin.get_by_role("button", name="Sign out").click()
    expect(admin).to_have_url(re.compile(r"/accounts/login/"))


def test_user_without_a_merchant_is_told_what_to_do(signed_in_page, screenshot):
    page = signed_in_page(UserFactory(email="lonely@example.com"))
    expect(page.get_by_role("heading", name="You are not part of a merchant yet")).to_be_visible()
    expect(page.get_by_text("lonely@example.com")).to_be_visible()
    screenshot(page, "no_merchant")
    page.get_by_role("button", name="Sign out and create a business").click()
    expect(page).to_have_url(re.compile(r"/accounts/signup/$"))
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()


def test_sign_in_on_a_phone(demo_merchant, new_page, screenshot):
    page = new_page(NARROW)
    page.goto("/accounts/login/")
    expect(page.get_by_role("button", name="Sign in")).to_be_in_viewport()
    assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    screenshot(page, "sign_in_narrow", full_page=False)
