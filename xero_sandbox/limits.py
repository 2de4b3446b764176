"""Xero's rate limits as fixed-window counters kept with atomic SQL updates (safe across threads and processes)."""

import math
from dataclasses import dataclass, field

from django.db import connection
from django.utils import timezone

from xero_sandbox import conf
from xero_sandbox.models import Organisation, RateCounter, SandboxApp

HEADER_DAY = "X-DayLimit-Remaining"
HEADER_MINUTE = "X-MinLimit-Remaining"
HEADER_APP_MINUTE = "X-AppMinLimit-Remaining"
CONCURRENCY_WINDOW_SECONDS = 600


@dataclass
class LimitResult:
    """The outcome of admitting one call: remaining counts for the headers, or which limit was hit."""

    headers: dict[str, str] = field(default_factory=dict)
    problem: str = ""
    retry_after: int = 0
    concurrency_key: str = ""
    concurrency_window: int = 0

    @property
    def admitted(self) -> bool:
        return not self.problem


@dataclass(frozen=True)
class _Window:
    key: str
    index: int
    ends_at: float
    limit: int


def _offset(seed: int, length: int) -> int:
    # Xero resets each organisation's windows at its own offset, not on the clock minute.
    return seed % length


def _window(key: str, *, seed: int, length: int, limit: int, now: float) -> _Window:
    offset = _offset(seed, length)
    index = math.floor((now - offset) / length)
    return _Window(key=key, index=index, ends_at=(index + 1) * length + offset, limit=limit)


def _table() -> str:
    return connection.ops.quote_name(RateCounter._meta.db_table)


def _clock() -> float:
    # timezone.now, so tests can move the clock the same way for tokens and limits.
    return timezone.now().timestamp()


def _q(name: str) -> str:
    # "window" is a reserved word in PostgreSQL: always quote column names.
    return connection.ops.quote_name(name)


def _increment(window: _Window) -> int | None:
    """Take one unit in the window if it has room: the new count, or None when full. One atomic UPDATE."""
    sql = (
        f"UPDATE {_table()} SET {_q('count')} = {_q('count')} + 1 "  # noqa: S608 - names from model meta
        f"WHERE {_q('key')} = %s AND {_q('window')} = %s AND {_q('count')} < %s RETURNING {_q('count')}"
    )
    for _ in range(5):
        with connection.cursor() as cursor:
            cursor.execute(sql, [window.key, window.index, window.limit])
            row = cursor.fetchone()
        if row is not None:
            return row[0]
        current = (
            RateCounter.objects.filter(key=window.key, window=window.index).values_list("count", flat=True).first()
        )
        if current is not None and current >= window.limit:
            return None
        if current is None:
            # First call in this window: create the row (racing creators are fine) and forget old windows.
            RateCounter.objects.bulk_create(
                [RateCounter(key=window.key, window=window.index, count=0)], ignore_conflicts=True
            )
            RateCounter.objects.filter(key=window.key, window__lt=window.index - 1).delete()
        # Otherwise another caller created the row meanwhile and it has room: try again.
    return None


def _decrement(window: _Window) -> None:
    sql = (
        f"UPDATE {_table()} SET {_q('count')} = {_q('count')} - 1 "  # noqa: S608 - names from model meta
        f"WHERE {_q('key')} = %s AND {_q('window')} = %s AND {_q('count')} > 0"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [window.key, window.index])


def _count(window: _Window) -> int:
    row = RateCounter.objects.filter(key=window.key, window=window.index).values_list("count", flat=True).first()
    return row or 0


def _windows(org: Organisation, app: SandboxApp, now: float) -> dict[str, _Window]:
    org_seed = org.tenant_id.int
    return {
        "day": _window(f"org:{org.pk}:day", seed=org_seed, length=conf.day_seconds(), limit=conf.day_limit(), now=now),
        "minute": _window(
            f"org:{org.pk}:min", seed=org_seed, length=conf.minute_seconds(), limit=conf.minute_limit(), now=now
        ),
        "appminute": _window(
            f"app:{app.pk}:min", seed=app.pk, length=conf.minute_seconds(), limit=conf.app_minute_limit(), now=now
        ),
    }


def _headers(counts: dict[str, int], windows: dict[str, _Window]) -> dict[str, str]:
    return {
        HEADER_DAY: str(max(0, windows["day"].limit - counts["day"])),
        HEADER_MINUTE: str(max(0, windows["minute"].limit - counts["minute"])),
        HEADER_APP_MINUTE: str(max(0, windows["appminute"].limit - counts["appminute"])),
    }


def _retry_after(window: _Window, now: float) -> int:
    return max(1, math.ceil(window.ends_at - now))


def limits_remaining(*, org: Organisation, app: SandboxApp, now: float | None = None) -> dict[str, str]:
    """The limit headers as they stand, without taking a call (for answers that were not admitted)."""
    now = _clock() if now is None else now
    windows = _windows(org, app, now)
    return _headers({name: _count(w) for name, w in windows.items()}, windows)


def limits_admit(*, org: Organisation, app: SandboxApp, now: float | None = None) -> LimitResult:
    """Count one call against the day, minute, app-minute and concurrency limits, all or nothing."""
    now = _clock() if now is None else now
    windows = _windows(org, app, now)
    counts: dict[str, int] = {}
    taken: list[_Window] = []
    for name in ("day", "minute", "appminute"):
        window = windows[name]
        new_count = _increment(window)
        if new_count is None:
            for done in taken:
                _decrement(done)
            current = {n: (_count(w) if n not in counts else counts[n] - 1) for n, w in windows.items()}
            current[name] = window.limit
            return LimitResult(headers=_headers(current, windows), problem=name, retry_after=_retry_after(window, now))
        counts[name] = new_count
        taken.append(window)
    # Concurrency: a slot held until the answer is written. Counted in long windows so a slot leaked by a
    # killed worker frees itself within CONCURRENCY_WINDOW_SECONDS instead of locking the organisation out.
    slot = _Window(
        key=f"org:{org.pk}:concurrent",
        index=math.floor(now / CONCURRENCY_WINDOW_SECONDS),
        ends_at=now + 1,
        limit=conf.concurrent_limit(),
    )
    if _increment(slot) is None:
        for done in taken:
            _decrement(done)
        current = {n: counts[n] - 1 for n in counts}
        return LimitResult(headers=_headers(current, windows), problem="concurrent", retry_after=1)
    return LimitResult(headers=_headers(counts, windows), concurrency_key=slot.key, concurrency_window=slot.index)


def limits_release(result: LimitResult) -> None:
    """Give back the concurrency slot taken by limits_admit."""
    if result.concurrency_key:
        _decrement(_Window(key=result.concurrency_key, index=result.concurrency_window, ends_at=0, limit=0))


def minute_retry_after(*, org: Organisation, now: float | None = None) -> int:
    """Seconds until the organisation's current minute window ends (for forced 429s)."""
    now = _clock() if now is None else now
    window = _window("", seed=org.tenant_id.int, length=conf.minute_seconds(), limit=0, now=now)
    return _retry_after(window, now)
