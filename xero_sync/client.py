"""The one Xero Accounting API client every call goes through: it speaks HTTP only and knows no models.

It adds the tenant header and a timeout to every call, refreshes the access token once on a 401, keeps inside
Xero's limits through a Limiter, retries what is safe to retry, and turns every failure into a typed error.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import random
import time
from collections.abc import Callable, Iterator
from typing import Any

import requests
from django.conf import settings

from xero_sync.errors import XeroError, XeroRateLimited, XeroTimeout, error_for_response
from xero_sync.limits import Limiter

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 4  # for 5xx and timeouts, on reads and on writes that carry an Idempotency-Key
MAX_RATE_LIMITED_RETRIES = 3
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 8.0
DROPPED = (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError)


def format_if_modified_since(moment: dt.datetime) -> str:
    """Xero's If-Modified-Since: UTC to the second, without a zone (`2026-11-20T10:00:00`)."""
    if moment.tzinfo is None:
        raise ValueError("If-Modified-Since needs a timezone-aware datetime")
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _retry_after_seconds(value: str | None, default: float) -> float:
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        try:  # the HTTP-date form
            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())
        except (TypeError, ValueError):
            return default


def _rate_limit(response: requests.Response) -> tuple[str, float]:
    """A 429's limit (minute, day, concurrent, appminute) and Retry-After seconds."""
    problem = (response.headers.get("X-Rate-Limit-Problem") or "minute").lower()
    return problem, _retry_after_seconds(response.headers.get("Retry-After"), 60.0)


def _is_batch(endpoint: str, body: Any) -> bool:
    # A batch is a list under the collection's own key, sent to the collection: {"Invoices": [...]} to Invoices
    # (the only endpoints that take summarizeErrors).
    collection = endpoint.split("?")[0].strip("/")
    return "/" not in collection and isinstance(body, dict) and isinstance(body.get(collection), list)


class XeroClient:
    """Calls one organisation's Accounting API. `calls` counts the HTTP requests made, for run stats."""

    def __init__(
        self,
        *,
        tenant_id: str,
        access_token: Callable[[], str],
        refresh_access_token: Callable[[], str],
        limiter: Limiter | None = None,
        session: requests.Session | None = None,
        api_url: str | None = None,
        timeout: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limiter is not None and limiter.tenant_id != tenant_id:
            raise ValueError("the limiter belongs to another organisation")
        self.tenant_id = tenant_id
        self._access_token = access_token
        self._refresh_access_token = refresh_access_token
        self.limiter = limiter or Limiter(tenant_id, sleep=sleep)
        self.session = session or requests.Session()
        self.api_url = (api_url or settings.XERO_API_URL).rstrip("/")
        self.timeout = timeout if timeout is not None else settings.XERO_HTTP_TIMEOUT
        self.sleep = sleep
        self.clock = clock
        self.calls = 0

    # -- reading ----------------------------------------------------------------------------------------------

    def get(self, endpoint: str, *, params: dict | None = None, if_modified_since: dt.datetime | None = None) -> dict:
        headers = {}
        if if_modified_since is not None:
            headers["If-Modified-Since"] = format_if_modified_since(if_modified_since)
        return self._request("GET", endpoint, params=params, headers=headers, retry_safe=True)

    def paginate(
        self,
        endpoint: str,
        *,
        key: str,
        params: dict | None = None,
        if_modified_since: dt.datetime | None = None,
        page_size: int = 1000,
    ) -> Iterator[list[dict]]:
        """Yield each page's records as it arrives; stop on a short page or at the last page Xero reports."""
        page = 1
        while True:  # ends on a short or empty page, or at pageCount
            params_page = {**(params or {}), "page": page, "pageSize": page_size}
            data = self.get(endpoint, params=params_page, if_modified_since=if_modified_since)
            records = data.get(key) or []
            if records:
                yield records
            page_count = (data.get("pagination") or {}).get("pageCount")
            if len(records) < page_size or (page_count is not None and page >= page_count):
                return
            page += 1

    # -- writing ----------------------------------------------------------------------------------------------

    def put(
        self,
        endpoint: str,
        body: Any,
        *,
        params: dict | None = None,
        idempotency_key: str | None = None,
        summarize_errors: bool | None = None,
    ) -> dict:
        return self._write("PUT", endpoint, body, params, idempotency_key, summarize_errors)

    def post(
        self,
        endpoint: str,
        body: Any,
        *,
        params: dict | None = None,
        idempotency_key: str | None = None,
        summarize_errors: bool | None = None,
    ) -> dict:
        return self._write("POST", endpoint, body, params, idempotency_key, summarize_errors)

    def delete(self, endpoint: str, *, params: dict | None = None, idempotency_key: str | None = None) -> dict:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return self._request("DELETE", endpoint, params=params, headers=headers, retry_safe=bool(idempotency_key))

    def _write(
        self,
        method: str,
        endpoint: str,
        body: Any,
        params: dict | None,
        idempotency_key: str | None,
        summarize_errors: bool | None,
    ) -> dict:
        params = dict(params or {})
        if summarize_errors is None:
            # With the default, one bad element fails the answer while the good ones are still saved unseen.
            summarize_errors = not _is_batch(endpoint, body)
        if not summarize_errors:
            params.setdefault("summarizeErrors", "false")
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        # Without a key a retried write could be saved twice; with one, Xero replays the first answer.
        return self._request(
            method, endpoint, params=params, json=body, headers=headers, retry_safe=bool(idempotency_key)
        )

    # -- the wire ---------------------------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        endpoint: str,
        *,
        params: dict | None,
        headers: dict[str, str],
        retry_safe: bool,
        json: Any = None,
    ) -> dict:
        url = endpoint if endpoint.startswith(("http://", "https://")) else f"{self.api_url}/{endpoint.lstrip('/')}"
        log = {"tenant": self.tenant_id, "method": method, "endpoint": endpoint}
        failures = rate_limited = 0
        refreshed = False
        token = self._access_token()
        while True:  # bounded: MAX_ATTEMPTS failures, MAX_RATE_LIMITED_RETRIES 429s, one refresh
            try:
                response, resume_at = self._send(method, url, token, log, params=params, json=json, headers=headers)
            except DROPPED as exc:
                failures += 1
                logger.warning("xero.client.timeout", extra={**log, "attempt": failures, "error": type(exc).__name__})
                if retry_safe and failures < MAX_ATTEMPTS:
                    self._back_off(failures)
                    continue
                raise XeroTimeout(
                    f"Xero did not answer ({type(exc).__name__})", method=method, endpoint=endpoint
                ) from exc

            status = response.status_code
            if status < 300:
                return self._json(response, method=method, endpoint=endpoint)
            if status == 304:
                return {}
            if status == 401 and not refreshed:
                refreshed = True
                logger.info("xero.client.refresh", extra=log)
                token = self._refresh_access_token()
                continue
            if status == 429:
                rate_limited += 1
                problem, retry_after = _rate_limit(response)
                logger.warning(
                    "xero.client.rate_limited", extra={**log, "problem": problem, "retry_after": retry_after}
                )
                # Xero did not run the call, so any method may go again: the limiter waits out Retry-After
                # first, or raises when that is too long. A spent day is parked at once.
                if problem != "day" and rate_limited <= MAX_RATE_LIMITED_RETRIES:
                    continue
                raise XeroRateLimited(
                    f"Xero's {problem} limit was hit",
                    problem=problem,
                    retry_after=retry_after,
                    resume_at=resume_at,
                    response_excerpt=response.text,
                    method=method,
                    endpoint=endpoint,
                )
            if status >= 500 and retry_safe and failures + 1 < MAX_ATTEMPTS:
                failures += 1
                logger.warning("xero.client.retry", extra={**log, "status": status, "attempt": failures})
                self._back_off(failures)
                continue
            error = error_for_response(status_code=status, text=response.text, method=method, endpoint=endpoint)
            logger.warning("xero.client.error", extra={**log, "status": status, "error": type(error).__name__})
            raise error

    def _send(
        self, method: str, url: str, token: str, log: dict, **kwargs
    ) -> tuple[requests.Response, dt.datetime | None]:
        """One HTTP request inside a limiter slot; after a 429, when calls may resume (recorded before the slot
        is freed, so no other worker slips in)."""
        lease = self.limiter.acquire()
        self.calls += 1
        started = self.clock()
        headers = {
            "Authorization": f"Bearer {token}",
            "xero-tenant-id": self.tenant_id,
            "Accept": "application/json",
            **kwargs.pop("headers"),
        }
        try:
            response = self.session.request(method, url, headers=headers, timeout=self.timeout, **kwargs)
        except BaseException:
            self.limiter.release(lease)
            raise
        resume_at = None
        if response.status_code == 429:
            problem, retry_after = _rate_limit(response)
            resume_at = self.limiter.block(problem=problem, retry_after=retry_after)
        self.limiter.release(lease, response.headers)
        ms = round((self.clock() - started) * 1000)
        logger.info("xero.client.request", extra={**log, "status": response.status_code, "ms": ms})
        return response, resume_at

    @staticmethod
    def _json(response: requests.Response, *, method: str, endpoint: str) -> dict:
        if not response.content:
            return {}
        try:
            return response.json()
        except ValueError as exc:
            raise XeroError(
                "Xero's answer was not JSON",
                status_code=response.status_code,
                response_excerpt=response.text,
                method=method,
                endpoint=endpoint,
            ) from exc

    def _back_off(self, failures: int) -> None:
        # Full jitter: workers that failed together do not come back together.
        delay = random.uniform(0, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (failures - 1)))
        self.sleep(delay)
