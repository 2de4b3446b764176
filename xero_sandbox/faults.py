"""Injected faults per organisation: fail the next N calls, delay answers, drop connections, force 429s."""

from dataclasses import dataclass

from django.db.models import F

from xero_sandbox.models import FaultKind, FaultRule, Organisation

_KIND_ALIASES = {"429": FaultKind.RATE_LIMIT, "ratelimit": FaultKind.RATE_LIMIT, "rate-limit": FaultKind.RATE_LIMIT}


def fault_kind_parse(kind: str) -> FaultKind:
    kind = (kind or "").strip().lower()
    return _KIND_ALIASES.get(kind) or FaultKind(kind)


def fault_set(
    *,
    org: Organisation,
    kind: str,
    count: int | None = None,
    status: int = 503,
    delay_ms: int = 0,
) -> FaultRule:
    """Add a fault for the organisation's next `count` API calls (every call until cleared when None)."""
    fault_kind = fault_kind_parse(kind)
    if fault_kind == FaultKind.FAIL and status not in (500, 503):
        raise ValueError("a failing fault answers 500 or 503")
    if fault_kind == FaultKind.DELAY and delay_ms <= 0:
        raise ValueError("a delay fault needs a positive delay")
    return FaultRule.objects.create(
        organisation=org, kind=fault_kind, remaining=count, status=status, delay_ms=delay_ms
    )


def fault_clear(*, org: Organisation | None = None) -> int:
    """Remove the organisation's faults (every organisation's when None)."""
    qs = FaultRule.objects.all() if org is None else FaultRule.objects.filter(organisation=org)
    deleted, _ = qs.delete()
    return deleted


@dataclass(frozen=True)
class FaultPlan:
    """What to do to this one call."""

    fail_status: int = 0
    rate_limit: bool = False
    delay_ms: int = 0
    drop: bool = False

    @property
    def label(self) -> str:
        parts = []
        if self.rate_limit:
            parts.append("rate_limit")
        if self.fail_status:
            parts.append(f"fail{self.fail_status}")
        if self.delay_ms:
            parts.append("delay")
        if self.drop:
            parts.append("drop")
        return ",".join(parts)


def _consume(rule: FaultRule) -> bool:
    """Use one of the rule's remaining calls; atomic, so parallel calls never take the same one."""
    if rule.remaining is None:
        return True
    taken = FaultRule.objects.filter(pk=rule.pk, remaining__gt=0).update(remaining=F("remaining") - 1)
    FaultRule.objects.filter(pk=rule.pk, remaining__lte=0).delete()
    return taken == 1


def fault_plan_take(*, org: Organisation) -> FaultPlan:
    """Consume this call's share of the organisation's faults (at most one rule of each kind)."""
    chosen: dict[str, FaultRule] = {}
    for rule in FaultRule.objects.filter(organisation=org).order_by("id"):
        if rule.kind in chosen:
            continue
        if _consume(rule):
            chosen[rule.kind] = rule
    fail = chosen.get(FaultKind.FAIL)
    delay = chosen.get(FaultKind.DELAY)
    return FaultPlan(
        fail_status=fail.status if fail else 0,
        rate_limit=FaultKind.RATE_LIMIT in chosen,
        delay_ms=delay.delay_ms if delay else 0,
        drop=FaultKind.DROP in chosen,
    )
