"""The few typed errors every failed Xero API call becomes, each with what a person needs to act and no secrets."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from integrations.redact import redact_text

EXCERPT_CHARS = 500


def redact(text: str) -> str:
    """Text with anything that looks like a token or secret replaced, cut to a loggable excerpt."""
    return redact_text(text or "")[:EXCERPT_CHARS]


class XeroError(Exception):
    """Base of every Xero API failure."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        detail: str = "",
        response_excerpt: str = "",
        method: str = "",
        endpoint: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.detail = detail
        self.response_excerpt = redact(response_excerpt)
        self.method = method
        self.endpoint = endpoint

    def __str__(self) -> str:
        where = f" ({self.method} {self.endpoint})" if self.endpoint else ""
        status = f"{self.status_code} " if self.status_code else ""
        return f"{status}{self.message}{where}"


class XeroUnauthorized(XeroError):
    """401 even after refreshing the access token once."""


class XeroForbidden(XeroError):
    """403: a removed user, a disconnected organisation, a wrong tenant or a missing scope."""

    @property
    def needs_reconnect(self) -> bool:
        return self.detail.startswith("AuthenticationUnsuccessful")


class XeroNotFound(XeroError):
    """404 (also what Xero answers when a URL is too long, e.g. too many IDs)."""


class XeroValidationError(XeroError):
    """400: `elements` pairs each rejected element with its messages; `messages` lists every message once."""

    def __init__(self, message: str, *, elements: list[tuple[dict, list[str]]] | None = None, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.elements = elements or []
        messages = [m for _, element_messages in self.elements for m in element_messages]
        if not messages and self.detail:
            messages = [self.detail]
        self.messages = list(dict.fromkeys(messages))

    def __str__(self) -> str:
        return f"{super().__str__()}: {'; '.join(self.messages)}" if self.messages else super().__str__()


class XeroRateLimited(XeroError):
    """Over (or about to go over) a limit: `problem` is minute, day, concurrent or appminute.

    Work that gets this should be parked until `resume_at`, not retried in a loop.
    """

    def __init__(self, message: str, *, problem: str, retry_after: float, resume_at: dt.datetime, **kwargs) -> None:
        kwargs.setdefault("status_code", 429)
        super().__init__(message, **kwargs)
        self.problem = problem
        self.retry_after = retry_after
        self.resume_at = resume_at


class XeroServerError(XeroError):
    """5xx from Xero (503: the organisation or Xero is unavailable for a while)."""


class XeroTimeout(XeroError):
    """No answer in time, or the connection dropped: the call may or may not have happened."""


def _validation_messages(node: Any) -> list[str]:
    # Messages sit on the element and sometimes on its nested parts (line items, contact).
    found: list[str] = []
    if isinstance(node, dict):
        for error in node.get("ValidationErrors") or []:
            if isinstance(error, dict) and error.get("Message"):
                found.append(error["Message"])
        for key, value in node.items():
            if key != "ValidationErrors" and isinstance(value, list | dict):
                found.extend(_validation_messages(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_validation_messages(item))
    return found


def _json(text: str) -> dict:
    try:
        body = json.loads(text)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def error_for_response(*, status_code: int, text: str, method: str = "", endpoint: str = "") -> XeroError:
    """The typed error for a failed answer (not for 429: the limiter builds those with their timing)."""
    body = _json(text)
    # 401/403 are problem details (Title/Detail); 400 has Message; 404/503 are plain text.
    detail = str(body.get("Detail") or body.get("Message") or ("" if body else text.strip()))[:EXCERPT_CHARS]
    common = {
        "status_code": status_code,
        "detail": redact(detail),
        "response_excerpt": text,
        "method": method,
        "endpoint": endpoint,
    }
    if status_code == 400:
        elements = [
            ({k: v for k, v in element.items() if k != "ValidationErrors"}, _validation_messages(element))
            for element in body.get("Elements") or []
            if isinstance(element, dict)
        ]
        message = body.get("Message") or "Xero rejected the request"
        return XeroValidationError(str(message), elements=elements, **common)
    if status_code == 401:
        return XeroUnauthorized("Xero did not accept the access token", **common)
    if status_code == 403:
        return XeroForbidden("Xero refused access to the organisation", **common)
    if status_code == 404:
        return XeroNotFound("Xero could not find that resource", **common)
    if status_code >= 500:
        return XeroServerError("Xero had a server error", **common)
    return XeroError(f"Xero answered {status_code}", **common)
