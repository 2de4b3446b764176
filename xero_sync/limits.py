"""Keeps calls inside Xero's limits before Xero has to say no, per organisation and across every worker process.

Three rules, all kept in the database with compare-and-set UPDATEs (no locks, no long transactions):
- at most `max_in_flight` calls at once per organisation (leased slots that expire if a worker dies);
- pacing from Xero's X-MinLimit/X-DayLimit/X-AppMinLimit-Remaining headers: when a minute's budget is used,
  wait for the window to roll; when the day's is gone, raise so the work is parked until the reset;
- after a 429, no call for that organisation (or the app) until its Retry-After has passed.
A wait longer than `max_wait` raises XeroRateLimited instead of sleeping, so a worker is never tied up.
Call Xero outside transaction.atomic(): inside one, these UPDATEs would hold their row locks until commit.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q

from xero_sync.errors import XeroRateLimited
from xero_sync.models import XeroCallSlot, XeroRateState

logger = logging.getLogger(__name__)

HEADER_MINUTE = "X-MinLimit-Remaining"
HEADER_DAY = "X-DayLimit-Remaining"
HEADER_APP_MINUTE = "X-AppMinLimit-Remaining"

APP = XeroRateState.APP_KEY
# The app-wide budget (10,000 a minute) is shared by every organisation: only write it down once it runs low,
# so the single app row is not a hot spot.
APP_LOW_WATER = 200
SLOT_POLL_SECONDS = (0.02, 0.1)
CAS_TRIES = 50


# Read at call time (getattr): tests and benchmarks shorten Xero's minute along with the sandbox's.
def minute_seconds() -> float:
    return float(getattr(settings, "XERO_RATE_MINUTE_SECONDS", 60))


def day_seconds() -> float:
    return float(getattr(settings, "XERO_RATE_DAY_SECONDS", 86400))


def minute_limit() -> int:
    return int(getattr(settings, "XERO_RATE_MINUTE_LIMIT", 60))


def concurrent_limit() -> int:
    return int(getattr(settings, "XERO_RATE_CONCURRENT_LIMIT", 5))


@dataclass(frozen=True)
class Lease:
    """A held call slot: give it back with Limiter.release()."""

    slot_id: int
    token: str


@dataclass(frozen=True)
class _Wait:
    seconds: float
    problem: str
    resume_at: dt.datetime


def _observe(
    started: dt.datetime | None, remaining: int | None, seen: int, now: dt.datetime, length: float, slack: int
) -> tuple[dt.datetime, int]:
    """Merge a header's remaining count into a window: (window start, remaining).

    `slack` is how many other calls may be in flight and not yet counted by Xero. A count well above ours
    means Xero's window rolled: this call was counted in the new one, so `now` bounds its start from above.
    """
    if (
        started is None
        or remaining is None
        or now >= started + dt.timedelta(seconds=length)
        or seen > remaining + slack
    ):
        return now, seen - slack
    return started, min(remaining, seen)


def _header_int(headers, name: str) -> int | None:
    value = headers.get(name) if headers is not None else None
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


class Limiter:
    """One organisation's limits, shared through the database with every other worker calling it."""

    def __init__(
        self,
        tenant_id: str,
        *,
        max_in_flight: int | None = None,
        max_wait: float = 30.0,
        lease_seconds: float = 120.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not tenant_id:
            raise ValueError("a limiter needs the organisation's tenant id")
        self.tenant_id = tenant_id
        self.max_in_flight = max_in_flight or concurrent_limit()
        self.max_wait = max_wait
        # Longer than any one call can take: a slot outlives its call only when its worker died.
        self.lease_seconds = lease_seconds
        self.sleep = sleep
        self.clock = clock
        self._rows_ready = False

    # -- public -----------------------------------------------------------------------------------------------

    def acquire(self) -> Lease:
        """Wait (at most max_wait) for a slot and for the budget, then reserve one call. Raises XeroRateLimited."""
        self._ensure_rows()
        started = self.clock()
        lease = self._take_slot(started)
        try:
            self._reserve(started)
        except BaseException:
            self._free_slot(lease)
            raise
        return lease

    def release(self, lease: Lease, headers=None) -> None:
        """Record the budget Xero reported on the answer (if any) and give the slot back."""
        if headers is not None:
            self.record(headers)
        self._free_slot(lease)

    def record(self, headers) -> None:
        minute, day, app = (_header_int(headers, h) for h in (HEADER_MINUTE, HEADER_DAY, HEADER_APP_MINUTE))
        # Calls still in flight besides this one may not be in Xero's count yet.
        in_flight = XeroCallSlot.objects.filter(tenant_id=self.tenant_id, leased_until__gt=self._now()).count()
        slack = max(0, in_flight - 1)
        if minute is not None or day is not None:

            def change(state: XeroRateState, now: dt.datetime) -> dict:
                values = {}
                if minute is not None:
                    values["minute_started_at"], values["minute_remaining"] = _observe(
                        state.minute_started_at, state.minute_remaining, minute, now, minute_seconds(), slack
                    )
                if day is not None:
                    values["day_started_at"], values["day_remaining"] = _observe(
                        state.day_started_at, state.day_remaining, day, now, day_seconds(), slack
                    )
                return values

            self._change(self.tenant_id, change)
        if app is not None:

            def change_app(state: XeroRateState, now: dt.datetime) -> dict:
                if app > APP_LOW_WATER and (state.minute_remaining is None or state.minute_remaining > APP_LOW_WATER):
                    return {}
                started, remaining = _observe(
                    state.minute_started_at, state.minute_remaining, app, now, minute_seconds(), slack
                )
                return {"minute_started_at": started, "minute_remaining": remaining}

            self._change(APP, change_app)

    def block(self, *, problem: str, retry_after: float) -> dt.datetime:
        """After a 429: no call for this organisation (the app, for appminute) before Retry-After has passed."""
        key = APP if problem == "appminute" else self.tenant_id
        until = [self._now() + dt.timedelta(seconds=retry_after)]

        def change(state: XeroRateState, now: dt.datetime) -> dict:
            if state.blocked_until and state.blocked_until >= until[0]:
                until[0] = state.blocked_until  # another worker already blocked for longer
                return {}
            return {"blocked_until": until[0], "blocked_problem": problem}

        self._change(key, change)
        logger.warning(
            "xero.limits.blocked",
            extra={"tenant": self.tenant_id, "problem": problem, "retry_after": retry_after},
        )
        return until[0]

    # -- pacing -----------------------------------------------------------------------------------------------

    def _reserve(self, started: float) -> None:
        for _ in range(CAS_TRIES):
            now = self._now()
            states = {s.tenant_id: s for s in XeroRateState.objects.filter(tenant_id__in=[self.tenant_id, APP])}
            state, app = states[self.tenant_id], states[APP]
            wait = self._wait_needed(state, app, now)
            if wait is None:
                if self._compare_and_set(state, self._reservation(state, now)):
                    return
                continue
            # The day's budget is parked, never slept on; any other wait only if it fits within max_wait.
            if wait.problem == "day" or (self.clock() - started) + wait.seconds > self.max_wait:
                raise self._parked(wait)
            logger.info(
                "xero.limits.wait", extra={"tenant": self.tenant_id, "problem": wait.problem, "s": wait.seconds}
            )
            self.sleep(wait.seconds)
        raise self._parked(_Wait(1.0, "concurrent", self._now() + dt.timedelta(seconds=1)))

    def _parked(self, wait: _Wait) -> XeroRateLimited:
        logger.info(
            "xero.limits.parked",
            extra={"tenant": self.tenant_id, "problem": wait.problem, "resume_at": wait.resume_at.isoformat()},
        )
        return XeroRateLimited(
            f"Xero's {wait.problem} limit for this organisation: try again at {wait.resume_at:%Y-%m-%d %H:%M:%S} UTC",
            problem=wait.problem,
            retry_after=wait.seconds,
            resume_at=wait.resume_at,
            status_code=None,
        )

    def _wait_needed(self, state: XeroRateState, app: XeroRateState, now: dt.datetime) -> _Wait | None:
        def until(moment: dt.datetime, problem: str) -> _Wait:
            return _Wait(seconds=(moment - now).total_seconds(), problem=problem, resume_at=moment)

        for row, default_problem in ((state, "minute"), (app, "appminute")):
            if row.blocked_until and row.blocked_until > now:
                return until(row.blocked_until, row.blocked_problem or default_problem)
        if state.day_remaining is not None and state.day_remaining <= 0:
            day_ends = state.day_started_at + dt.timedelta(seconds=day_seconds())
            if day_ends > now:
                return until(day_ends, "day")
        for row, problem in ((state, "minute"), (app, "appminute")):
            if row.minute_remaining is not None and row.minute_remaining <= 0 and row.minute_started_at:
                minute_ends = row.minute_started_at + dt.timedelta(seconds=minute_seconds())
                if minute_ends > now:
                    return until(minute_ends, problem)
        return None

    @staticmethod
    def _reservation(state: XeroRateState, now: dt.datetime) -> dict:
        values: dict = {}
        minute_over = state.minute_started_at is None or now >= state.minute_started_at + dt.timedelta(
            seconds=minute_seconds()
        )
        if minute_over:
            # Our window starts with our first call, never before Xero's: ending it at +length is never early.
            values["minute_started_at"], values["minute_remaining"] = now, minute_limit() - 1
        elif state.minute_remaining is not None:
            values["minute_remaining"] = state.minute_remaining - 1
        if state.day_remaining is not None:
            day_over = now >= state.day_started_at + dt.timedelta(seconds=day_seconds())
            values["day_remaining"] = None if day_over else state.day_remaining - 1
        return values

    # -- slots ------------------------------------------------------------------------------------------------

    def _take_slot(self, started: float) -> Lease:
        token = uuid.uuid4().hex
        polls = int(self.max_wait / SLOT_POLL_SECONDS[0]) + 1
        for _ in range(polls):  # a bound even for a clock that does not move; max_wait ends it first
            now = self._now()
            free = Q(leased_until__isnull=True) | Q(leased_until__lte=now)
            mine = XeroCallSlot.objects.filter(tenant_id=self.tenant_id, number__lt=self.max_in_flight)
            candidates = list(mine.filter(free).values_list("pk", flat=True))
            random.shuffle(candidates)  # spread workers over the free slots so they rarely race for one
            for pk in candidates:
                taken = mine.filter(free, pk=pk).update(
                    lease=token, leased_until=now + dt.timedelta(seconds=self.lease_seconds)
                )
                if taken:
                    return Lease(slot_id=pk, token=token)
            pause = random.uniform(*SLOT_POLL_SECONDS)
            if self.clock() - started + pause > self.max_wait:
                break
            self.sleep(pause)
        logger.info("xero.limits.no_slot", extra={"tenant": self.tenant_id})
        return_at = self._now() + dt.timedelta(seconds=1)
        raise self._parked(_Wait(1.0, "concurrent", return_at))

    def _free_slot(self, lease: Lease) -> None:
        XeroCallSlot.objects.filter(pk=lease.slot_id, lease=lease.token).update(lease="", leased_until=None)

    # -- storage ----------------------------------------------------------------------------------------------

    def _now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock(), tz=dt.UTC)

    def _ensure_rows(self) -> None:
        if self._rows_ready:
            return
        XeroRateState.objects.bulk_create(
            [XeroRateState(tenant_id=self.tenant_id), XeroRateState(tenant_id=APP)], ignore_conflicts=True
        )
        XeroCallSlot.objects.bulk_create(
            [XeroCallSlot(tenant_id=self.tenant_id, number=n) for n in range(self.max_in_flight)],
            ignore_conflicts=True,
        )
        self._rows_ready = True

    @staticmethod
    def _compare_and_set(state: XeroRateState, values: dict) -> bool:
        if not values:
            return True
        updated = XeroRateState.objects.filter(pk=state.pk, version=state.version).update(
            version=state.version + 1, **values
        )
        return bool(updated)

    def _change(self, key: str, change: Callable[[XeroRateState, dt.datetime], dict]) -> None:
        self._ensure_rows()
        for _ in range(CAS_TRIES):
            state = XeroRateState.objects.get(tenant_id=key)
            if self._compare_and_set(state, change(state, self._now())):
                return
        logger.warning("xero.limits.state_contended", extra={"tenant": self.tenant_id})


def limiter_for(tenant_id: str, **kwargs) -> Limiter:
    """The limiter every client for this organisation should use."""
    return Limiter(tenant_id, **kwargs)
