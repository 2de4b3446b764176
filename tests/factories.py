"""factory_boy factories for the portal's models."""

import datetime as dt
from decimal import Decimal

import factory

from portal import models


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.User
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    password = factory.django.Password("pass-word-123")


class MerchantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Merchant

    name = factory.Sequence(lambda n: f"Merchant {n}")
    slug = factory.Sequence(lambda n: f"merchant-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Membership

    user = factory.SubFactory(UserFactory)
    merchant = factory.SubFactory(MerchantFactory)
    role = models.Role.ADMIN


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Customer

    merchant = factory.SubFactory(MerchantFactory)
    name = factory.Sequence(lambda n: f"Customer {n}")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")


class InvoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Invoice

    merchant = factory.SubFactory(MerchantFactory)
    customer = factory.SubFactory(CustomerFactory, merchant=factory.SelfAttribute("..merchant"))
    number = factory.Sequence(lambda n: f"INV-{n:05d}")
    date = dt.date(2026, 10, 1)
    due_date = dt.date(2026, 10, 31)
    status = models.InvoiceStatus.AUTHORISED
    subtotal = Decimal("100.00")
    total = Decimal("100.00")
    amount_due = Decimal("100.00")


class InvoiceLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.InvoiceLine

    invoice = factory.SubFactory(InvoiceFactory)
    merchant = factory.SelfAttribute("invoice.merchant")
    description = "Labour"
    quantity = Decimal("1")
    unit_amount = Decimal("100.00")
    amount = Decimal("100.00")


class PaymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Payment

    invoice = factory.SubFactory(InvoiceFactory)
    merchant = factory.SelfAttribute("invoice.merchant")
    date = dt.date(2026, 10, 15)
    amount = Decimal("40.00")
