"""Fee arithmetic, pure and in Decimal: a fee's amount (rounded half-up to cents) and which late-fee periods are
due for an invoice on a day. No database, no Xero: the write-back decides where a fee goes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal("100")


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def fee_amount(*, fee_type: str, value: Decimal, base: Decimal) -> Decimal:
    """A flat fee is `value`; a percentage fee is `value` % of `base`. Never negative; half-up to cents."""
    if value <= 0 or base < 0:
        return ZERO
    if fee_type == "flat":
        return cents(value)
    if fee_type == "percent":
        return cents(base * value / HUNDRED)
    raise ValueError(f"unknown fee type {fee_type!r}")


@dataclass(frozen=True)
class LateFeeRule:
    fee_type: str
    value: Decimal
    after_days: int = 30
    repeat_days: int = 30
    max_times: int = 1
    cap: Decimal | None = None
    min_balance: Decimal = ZERO


def late_fee_period_start(*, rule: LateFeeRule, due_date: dt.date, period: int) -> dt.date:
    """The day late fee number `period` (1-based) falls due."""
    return due_date + dt.timedelta(days=rule.after_days + (period - 1) * max(1, rule.repeat_days))


def late_fees_due(
    *,
    rule: LateFeeRule,
    due_date: dt.date | None,
    today: dt.date,
    amount_due: Decimal,
    charged: dict[int, Decimal],
) -> list[tuple[int, Decimal]]:
    """The late fees to charge now as (period, amount): periods that have fallen due and are not in `charged`
    (period → amount already charged), within max_times and the cap, when the balance is at least the minimum."""
    if due_date is None or rule.value <= 0 or amount_due <= 0 or amount_due < rule.min_balance:
        return []
    total = sum(charged.values(), ZERO)
    due: list[tuple[int, Decimal]] = []
    for period in range(1, rule.max_times + 1):
        if late_fee_period_start(rule=rule, due_date=due_date, period=period) > today:
            break
        if period in charged:
            continue
        amount = fee_amount(fee_type=rule.fee_type, value=rule.value, base=amount_due)
        if rule.cap is not None:
            amount = min(amount, cents(rule.cap) - total)
        if amount <= 0:
            break
        due.append((period, amount))
        total += amount
    return due
