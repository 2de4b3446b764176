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


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Account

    merchant = factory.SubFactory(MerchantFactory)
    code = factory.Sequence(lambda n: f"{200 + n}")
    name = factory.Sequence(lambda n: f"Account {n}")
    type = "REVENUE"


# A plumbing business's everyday work: (description, item code, unit price).
_SERVICES = [
    ("Call-out fee", "CALLOUT", Decimal("85.00")),
    ("Labour (per hour)", "LAB-HR", Decimal("95.00")),
    ("Annual boiler service", "BOIL-SVC", Decimal("140.00")),
    ("Replace kitchen mixer tap", "TAP-KIT", Decimal("189.00")),
    ("Unblock main drain (CCTV survey included)", "DRAIN-CCTV", Decimal("260.00")),
    ("Fit thermostatic radiator valves", "TRV", Decimal("48.50")),
    ("Install 50-gallon water heater", "WH-50", Decimal("1450.00")),
    ("Copper pipe and fittings", "MAT-CU", Decimal("36.75")),
    ("Emergency leak repair, out of hours", "EMERG", Decimal("320.00")),
    ("Bathroom refit: first fix plumbing", "BATH-1F", Decimal("980.00")),
    ("Gas safety certificate", "GAS-CERT", Decimal("75.00")),
    ("Replace toilet cistern mechanism", "WC-MECH", Decimal("110.00")),
]


def _phone(rnd) -> str:
    return f"({rnd.randint(201, 989)}) {rnd.randint(201, 989)}-{rnd.randint(0, 9999):04d}"


def ledger_seed(
    *,
    merchant: models.Merchant,
    customers: int = 40,
    invoices: int = 120,
    seed: int = 2026,
    today: dt.date | None = None,
) -> dict:
    """Realistic ledger for screenshots and demos: customers with contacts and addresses, invoices in every
    status with lines and tax, payments for paid and part-paid invoices. Deterministic for a given seed."""
    import random

    from faker import Faker

    rnd = random.Random(seed)
    fake = Faker("en_US")
    fake.seed_instance(seed)
    today = today or dt.date.today()
    bank = AccountFactory(merchant=merchant, code="090", name="Business Bank Account", type="BANK")
    sales = AccountFactory(merchant=merchant, code="200", name="Sales", type="REVENUE")
    residential = models.CustomerType.objects.create(merchant=merchant, name="Residential")
    commercial = models.CustomerType.objects.create(merchant=merchant, name="Commercial")

    people = []
    for i in range(customers):
        business = i % 3 == 0
        first, last = fake.first_name(), fake.last_name()
        name = fake.company() if business else f"{first} {last}"
        domain = fake.domain_name()
        city, state, postal = (
            fake.city(),
            fake.state_abbr(include_territories=False, include_freely_associated_states=False),
            fake.postcode(),
        )
        street = fake.street_address()
        customer = CustomerFactory(
            merchant=merchant,
            name=name,
            first_name=first,
            last_name=last,
            email=f"{first.lower()}.{last.lower()}@{domain}",
            phone=_phone(rnd),
            mobile=_phone(rnd) if rnd.random() < 0.5 else "",
            bill_line1=street,
            bill_city=city,
            bill_region=state,
            bill_postal_code=postal,
            bill_country="USA",
            ship_line1=street if rnd.random() < 0.7 else fake.street_address(),
            ship_city=city,
            ship_region=state,
            ship_postal_code=postal,
            ship_country="USA",
            status=models.CustomerStatus.ARCHIVED if i % 13 == 12 else models.CustomerStatus.ACTIVE,
        )
        customer.types.add(commercial if business else residential)
        people.append(customer)

    status = models.InvoiceStatus
    # Older invoices are mostly settled; recent ones are still open or in draft, as in a real book.
    by_age = [
        (60, [status.PAID] * 18 + [status.AUTHORISED] + [status.VOIDED]),
        (21, [status.PAID] * 15 + [status.AUTHORISED] * 4 + [status.VOIDED]),
        (0, [status.DRAFT] * 4 + [status.AUTHORISED] * 12 + [status.PAID] * 4),
    ]
    tax_rate = Decimal("0.08")
    created = []
    for n in range(invoices):
        # Oldest first, so numbers rise with the date like a real invoice book.
        issued = today - dt.timedelta(days=(invoices - n) * 150 // invoices)
        age = (today - issued).days
        state = rnd.choice(next(choices for min_age, choices in by_age if age >= min_age))
        invoice = InvoiceFactory(
            merchant=merchant,
            customer=rnd.choice(people),
            number=f"INV-{1001 + n}",
            reference=rnd.choice(["", "", f"PO {rnd.randint(4000, 9999)}", "Job sheet attached"]),
            date=issued,
            due_date=issued + dt.timedelta(days=rnd.choice([7, 14, 30])),
            status=state,
            subtotal=Decimal("0"),
            total=Decimal("0"),
            amount_due=Decimal("0"),
        )
        subtotal = Decimal("0")
        for position, (description, code, price) in enumerate(rnd.sample(_SERVICES, rnd.randint(1, 4))):
            quantity = Decimal(rnd.choice([1, 1, 1, 2, 3]))
            amount = (quantity * price).quantize(Decimal("0.01"))
            InvoiceLineFactory(
                invoice=invoice,
                position=position,
                description=description,
                item_code=code,
                quantity=quantity,
                unit_amount=price,
                account_code=sales.code,
                tax_type="OUTPUT",
                tax_amount=(amount * tax_rate).quantize(Decimal("0.01")),
                amount=amount,
            )
            subtotal += amount
        tax = (subtotal * tax_rate).quantize(Decimal("0.01"))
        total = subtotal + tax
        paid = Decimal("0")
        if state == status.PAID:
            paid = total
        elif state == status.AUTHORISED and rnd.random() < 0.3:
            paid = (total * Decimal("0.5")).quantize(Decimal("0.01"))
        if paid:
            PaymentFactory(
                invoice=invoice,
                date=min(today, issued + dt.timedelta(days=rnd.randint(1, 20))),
                amount=paid,
                account=bank,
                method=rnd.choice(list(models.PaymentMethod.values)),
                reference=f"RCPT-{5000 + n}",
            )
        invoice.subtotal, invoice.total_tax, invoice.total = subtotal, tax, total
        invoice.amount_paid = paid
        invoice.amount_due = Decimal("0") if state == status.VOIDED else total - paid
        invoice.save(update_fields=["subtotal", "total_tax", "total", "amount_paid", "amount_due"])
        created.append(invoice)
    return {"customers": people, "invoices": created, "bank": bank}
