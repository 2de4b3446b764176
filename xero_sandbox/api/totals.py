"""Invoice arithmetic as Xero does it: line amounts after discount, per-line tax rounded to cents, totals."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0")
HUNDRED = Decimal("100")


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def line_amount(quantity: Decimal, unit_amount: Decimal, discount_rate: Decimal | None) -> Decimal:
    """Quantity times UnitAmount less the discount percentage, rounded to cents."""
    gross = quantity * unit_amount
    if discount_rate:
        gross = gross * (HUNDRED - discount_rate) / HUNDRED
    return cents(gross)


def line_tax(amount: Decimal, rate: Decimal, line_amount_types: str) -> Decimal:
    """Tax on one line: added on top (Exclusive), carved out of it (Inclusive) or none (NoTax)."""
    if line_amount_types == "NoTax" or not rate:
        return ZERO.quantize(CENT)
    if line_amount_types == "Inclusive":
        return cents(amount * rate / (HUNDRED + rate))
    return cents(amount * rate / HUNDRED)


@dataclass(frozen=True)
class Totals:
    sub_total: Decimal
    total_tax: Decimal
    total: Decimal
    total_discount: Decimal


def invoice_totals(lines: list[tuple[Decimal, Decimal, Decimal]], line_amount_types: str) -> Totals:
    """Totals from (line_amount, tax_amount, discount_amount) per line."""
    amounts = sum((la for la, _, _ in lines), ZERO)
    tax = sum((t for _, t, _ in lines), ZERO)
    discount = sum((d for _, _, d in lines), ZERO)
    sub_total = amounts - tax if line_amount_types == "Inclusive" else amounts
    return Totals(
        sub_total=cents(sub_total),
        total_tax=cents(tax),
        total=cents(sub_total + tax),
        total_discount=cents(discount),
    )


def discount_amount(quantity: Decimal, unit_amount: Decimal, discount_rate: Decimal | None) -> Decimal:
    if not discount_rate:
        return ZERO
    return cents(quantity * unit_amount * discount_rate / HUNDRED)
