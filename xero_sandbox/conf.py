"""The sandbox's knobs, read from Django settings at call time (so tests can override them)."""

import hashlib
import hmac

from django.conf import settings

ACCESS_TOKEN_SECONDS = 30 * 60
REFRESH_GRACE_SECONDS = 30 * 60
REFRESH_IDLE_DAYS = 60
CODE_SECONDS = 5 * 60


def minute_seconds() -> int:
    """Length of a rate-limit "minute" (shortened in tests and benchmarks)."""
    return max(1, int(getattr(settings, "XERO_SANDBOX_MINUTE_SECONDS", 60)))


def day_seconds() -> int:
    """Length of a rate-limit "day"."""
    return max(1, int(getattr(settings, "XERO_SANDBOX_DAY_SECONDS", 86400)))


def minute_limit() -> int:
    return int(getattr(settings, "XERO_SANDBOX_MINUTE_LIMIT", 60))


def day_limit() -> int:
    return int(getattr(settings, "XERO_SANDBOX_DAY_LIMIT", 5000))


def concurrent_limit() -> int:
    return int(getattr(settings, "XERO_SANDBOX_CONCURRENT_LIMIT", 5))


def app_minute_limit() -> int:
    return int(getattr(settings, "XERO_SANDBOX_APP_MINUTE_LIMIT", 10000))


def signing_key() -> bytes:
    """Key that signs the sandbox's JWTs; derived from SECRET_KEY unless set explicitly."""
    explicit = getattr(settings, "XERO_SANDBOX_SIGNING_KEY", "")
    if explicit:
        return explicit.encode()
    return hmac.new(settings.SECRET_KEY.encode(), b"xero-sandbox.jwt", hashlib.sha256).digest()


def issuer() -> str:
    return getattr(settings, "XERO_SANDBOX_ISSUER", "http://127.0.0.1:8000/sandbox/xero/identity")


def provider_name() -> str:
    return getattr(settings, "XERO_SANDBOX_PROVIDER_NAME", "Xero sandbox")
