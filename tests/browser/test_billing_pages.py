"""The merchant's own billing pages in a browser: the Fees page (with a form error), creating a customer and an
invoice in the portal, and recording a card payment. Screenshots of each."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from portal.models import Invoice, Payment, Role
from tests.factories import MembershipFactory, MerchantFactory, UserFactory

pytestmark = pytest.mark.browser


def test_fees_customer_invoice_and_payment(signed_in_page, screenshot):
    merchant = MerchantFactory(name="Harbour Heating")
    admin = UserFactory(email="hana@harbour.example", full_name="Hana Admin")
    MembershipFactory(user=admin, merchant=merchant, role=Role.ADMIN)
    page = signed_in_page(admin)

    page.goto("/fees/")
    expect(page.get_by_role("heading", name=re.compile("Fees"))).to_be_visible()
    screenshot(page, "billing_fees")
    page.get_by_label("Charge late fees").check()
    page.get_by_label("Late fee type").select_option(index=1)  # a percentage of the amount due
    page.get_by_label("Late fee", exact=True).fill("150")
    page.get_by_role("button", name="Save fees").click()
    expect(page.locator(".errorlist").first).to_be_visible()
    screenshot(page, "billing_fees_error")

    page.goto("/customers/new/")
    page.get_by_label(re.compile(r"^Name", re.I)).first.fill("Pier Café")
    page.get_by_label(re.compile("Email", re.I)).first.fill("owner@piercafe.example")
    screenshot(page, "billing_customer_new")
    page.get_by_role("button", name=re.compile("Save|Create|Add", re.I)).first.click()
    expect(page.get_by_role("heading", name=re.compile("Pier Café"))).to_be_visible()

    page.goto("/invoices/new/")
    expect(page.get_by_role("heading", name=re.compile("invoice", re.I)).first).to_be_visible()
    screenshot(page, "billing_invoice_new")
    page.get_by_label(re.compile("Customer", re.I)).first.select_option(label="Pier Café")
    page.locator("input[name$='description']").first.fill("Boiler service")
    page.locator("input[name$='quantity']").first.fill("1")
    page.locator("input[name$='unit_amount']").first.fill("240")
    page.get_by_role("button", name=re.compile("Save|Create", re.I)).first.click()
    expect(page.get_by_text("Boiler service")).to_be_visible()
    screenshot(page, "billing_invoice_detail")
    invoice = Invoice.objects.get(merchant=merchant, customer__name="Pier Café")
    assert invoice.total > 0

    page.goto(f"/invoices/{invoice.pk}/payments/new/")
    screenshot(page, "billing_payment_new")
    page.get_by_label(re.compile("Amount", re.I)).first.fill(str(invoice.total + Decimal("1000")))
    page.get_by_role("button", name=re.compile("Record|Save|Mark", re.I)).first.click()
    expect(page.locator(".errorlist, .alert-error").first).to_be_visible()
    screenshot(page, "billing_payment_overpaid")
    assert not Payment.objects.filter(invoice=invoice).exists()
