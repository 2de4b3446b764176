"""Rate-limit state shared by every worker: each organisation's budget as Xero last reported it, and call slots."""

from django.db import models


class XeroRateState(models.Model):
    """Pacing for one organisation (`tenant_id`), or for the whole app under `APP_KEY` (the app-minute budget).

    Every change is a compare-and-set on `version`, so workers in any process can share a row without locks.
    Window starts are upper bounds on when Xero's fixed window began: waiting until start + length never calls early.
    """

    APP_KEY = "app"  # tenant ids are GUIDs, so this cannot clash

    tenant_id = models.CharField(max_length=64, unique=True)
    version = models.PositiveBigIntegerField(default=0)
    # Set from a 429's Retry-After: no call for this organisation (or the app) before it passes.
    blocked_until = models.DateTimeField(null=True, blank=True)
    blocked_problem = models.CharField(max_length=16, blank=True)
    minute_started_at = models.DateTimeField(null=True, blank=True)
    # Calls we may still start in this minute: reserved when a call starts, lowered by Xero's headers.
    minute_remaining = models.IntegerField(null=True, blank=True)
    day_started_at = models.DateTimeField(null=True, blank=True)
    day_remaining = models.IntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"rate state {self.tenant_id}"


class XeroCallSlot(models.Model):
    """One of an organisation's concurrent-call slots; the lease expires, so a killed worker's slot frees itself."""

    tenant_id = models.CharField(max_length=64)
    number = models.PositiveSmallIntegerField()
    lease = models.CharField(max_length=32, blank=True)
    leased_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant_id", "number"], name="xerocallslot_unique_number")]

    def __str__(self) -> str:
        return f"call slot {self.tenant_id}#{self.number}"
