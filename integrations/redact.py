"""Strip tokens, secrets and credentials from request/response excerpts before they are stored or shown."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable
from typing import Any

REDACTED = "[redacted]"
MAX_EXCERPT_CHARS = 4000

# Keys whose values are secrets wherever they appear (JSON keys, form fields, query parameters, headers).
_SECRET_KEY = re.compile(
    r"token|secret|passw(or)?d|authori[sz]ation|api[-_]?key|cookie|signature|assertion|code[-_]?verifier"
    r"|credential|private[-_]?key",
    re.IGNORECASE,
)
# The OAuth authorisation code is sent as a lowercase "code"; Xero's own "Code" fields (account and item
# codes) are PascalCase and worth keeping for troubleshooting.
_CODE_KEYS = {"code", "auth_code", "authorization_code"}

_KEY_NAMES = r"[\w.-]*(?:token|secret|passw(?:or)?d|api[-_]?key|signature|assertion|code[-_]?verifier)[\w.-]*"
_TEXT_RULES: tuple[tuple[re.Pattern, str], ...] = (
    # Header lines: "Authorization: Bearer …", "Cookie: …", "X-Xero-Signature: …".
    (
        re.compile(
            r"(?im)^(\s*(?:proxy-)?(?:authorization|cookie|set-cookie|[\w-]*signature|[\w-]*api-key)\s*:\s*).*$",
        ),
        r"\1" + REDACTED,
    ),
    # Quoted JSON-ish pairs inside text: "refresh_token": "…", 'client_secret': '…'.
    (
        re.compile(rf"""(?i)(["']({_KEY_NAMES}|(?-i:code)|authorization)["']\s*:\s*)(["'])(?:\\.|(?!\3).)*\3"""),
        r"\1\3" + REDACTED + r"\3",
    ),
    # Form fields and query parameters: refresh_token=…&code=…
    (re.compile(rf"(?i)\b({_KEY_NAMES}|(?-i:code))=([^&\s\"',;]+)"), r"\1=" + REDACTED),
    # Authorization schemes wherever they appear.
    (re.compile(r"(?i)\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 " + REDACTED),
    # JWTs (access and id tokens): three base64url segments, the first one a JSON header.
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), REDACTED),
    # Credentials in URLs: https://user:password@host
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@"), r"\1" + REDACTED + "@"),
    # Long opaque strings (refresh tokens are 64 hex characters); GUIDs are shorter and keep their dashes.
    (re.compile(r"\b[A-Fa-f0-9]{40,}\b"), REDACTED),
    (
        re.compile(r"(?<![\w/+=-])(?=[A-Za-z0-9+/_-]*\d)(?=[A-Za-z0-9+/_-]*[A-Za-z])[A-Za-z0-9+/_-]{48,}={0,2}"),
        REDACTED,
    ),
)


def is_secret_key(key: Any) -> bool:
    return isinstance(key, str) and (key in _CODE_KEYS or bool(_SECRET_KEY.search(key)))


def redact_data(value: Any) -> Any:
    """A copy of JSON-like data with the values of secret-looking keys replaced and strings scrubbed."""
    if isinstance(value, dict):
        return {k: (REDACTED if is_secret_key(k) else redact_data(v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_data(v) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


def redact_text(text: str, *, secrets: Iterable[str] = ()) -> str:
    """Text with known secret values and everything that looks like a credential replaced."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    for pattern, replacement in _TEXT_RULES:
        text = pattern.sub(replacement, text)
    return text


def redact(value: Any, *, secrets: Iterable[str] = (), limit: int = MAX_EXCERPT_CHARS) -> str:
    """An excerpt safe to store: JSON (dict, list or JSON text), bytes or text, redacted then truncated.

    Redaction runs before truncation so a cut can never leave part of a secret behind.
    """
    if value is None or value == "" or value == b"":
        return ""
    if isinstance(value, bytes | bytearray):
        value = bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
        with contextlib.suppress(ValueError):  # not JSON after all: redact it as text
            value = json.loads(value)
    if isinstance(value, str):
        text = value
    else:
        text = json.dumps(redact_data(value), indent=1, default=str, ensure_ascii=False)
    text = redact_text(text, secrets=secrets)
    return truncate(text, limit=limit)


def truncate(text: str, *, limit: int = MAX_EXCERPT_CHARS) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n… [truncated {len(text) - limit} characters]"


def http_excerpt(
    *,
    method: str = "",
    url: str = "",
    status: int | None = None,
    headers: dict | None = None,
    body: Any = None,
    limit: int = MAX_EXCERPT_CHARS,
) -> str:
    """One request or response as a stored excerpt: first line, headers, then the body, all redacted.

    For a request pass method and url; for a response pass status (and the headers worth keeping).
    """
    first = " ".join(part for part in (method.upper(), url, str(status) if status is not None else "") if part)
    header_lines = [f"{name}: {value}" for name, value in redact_data(dict(headers or {})).items()]
    parts = [first, *header_lines]
    body_text = redact(body, limit=limit)
    if body_text:
        parts += ["", body_text]
    return truncate(redact_text("\n".join(p for p in parts if p is not None)), limit=limit)
