"""Fee arithmetic: property-based checks of rounding, caps, periods and limits."""

import datetime as dt
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from portal.fees import LateFeeRule, cents, fee_amount, late_fee_period_start, late_fees_due

money = st.decimals(min_value=Decimal("0"), max_value=Decimal("1000000"), places=2)
percent = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("100"), places=4)
days = st.integers(min_value=0, max_value=400)


def test_half_up_to_cents():
    assert fee_amount(fee_type="percent", value=Decimal("0.5"), base=Decimal("1.00")) == Decimal("0.01")  # 0.005
    assert fee_amount(fee_type="percent", value=Decimal("1.5"), base=Decimal("0.30")) == Decimal("0.00")  # 0.0045
    assert fee_amount(fee_type="percent", value=Decimal("2.5"), base=Decimal("1.00")) == Decimal("0.03")  # 0.025
    assert fee_amount(fee_type="flat", value=Decimal("12.345"), base=Decimal("0")) == Decimal("12.35")


@given(value=percent, base=money)
def test_percentage_fee_is_exact_half_up(value, base):
    amount = fee_amount(fee_type="percent", value=value, base=base)
    exact = base * value / 100
    assert amount == amount.quantize(Decimal("0.01"))
    assert abs(amount - exact) <= Decimal("0.005")
    assert Decimal("0") <= amount <= base


@given(
    value=money,
    after=st.integers(0, 90),
    repeat=st.integers(1, 60),
    times=st.integers(1, 12),
    cap=st.none() | money,
    amount_due=money,
    age=days,
)
@settings(max_examples=200)
def test_late_fees_respect_limits_and_never_repeat(value, after, repeat, times, cap, amount_due, age):
    rule = LateFeeRule(fee_type="flat", value=value, after_days=after, repeat_days=repeat, max_times=times, cap=cap)
    due_date = dt.date(2026, 1, 1)
    today = due_date + dt.timedelta(days=age)
    first = late_fees_due(rule=rule, due_date=due_date, today=today, amount_due=amount_due, charged={})
    periods = [p for p, _ in first]
    assert periods == sorted(set(periods)) and all(1 <= p <= times for p in periods)
    assert all(late_fee_period_start(rule=rule, due_date=due_date, period=p) <= today for p in periods)
    assert all(a > 0 for _, a in first)
    if cap is not None:
        assert sum((a for _, a in first), Decimal("0")) <= cents(cap)
    # Charging again the same day adds nothing: every due period is already charged.
    again = late_fees_due(rule=rule, due_date=due_date, today=today, amount_due=amount_due, charged=dict(first))
    assert again == []


@given(amount_due=money, minimum=money)
def test_minimum_balance(amount_due, minimum):
    rule = LateFeeRule(fee_type="flat", value=Decimal("10"), after_days=0, min_balance=minimum)
    due = late_fees_due(
        rule=rule, due_date=dt.date(2026, 1, 1), today=dt.date(2026, 3, 1), amount_due=amount_due, charged={}
    )
    assert bool(due) == (amount_due > 0 and amount_due >= minimum)


def test_thirty_days_late_by_default():
    rule = LateFeeRule(fee_type="flat", value=Decimal("25"))
    due_date = dt.date(2026, 10, 1)
    assert (
        late_fees_due(rule=rule, due_date=due_date, today=dt.date(2026, 10, 30), amount_due=Decimal("100"), charged={})
        == []
    )
    assert late_fees_due(
        rule=rule, due_date=due_date, today=dt.date(2026, 10, 31), amount_due=Decimal("100"), charged={}
    ) == [(1, Decimal("25.00"))]
