"""Redaction: no token, secret or credential survives in an excerpt; useful troubleshooting details do."""

import json

import pytest

from integrations.redact import MAX_EXCERPT_CHARS, REDACTED, redact

JWT = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ.SflKxwRJSMeKKF2QT4fwpM"
REFRESH = "5d8f3c2a9b1e4f7a6c0d2e8b4a9f1c3e5d7b2a4c6e8f0a1b3c5d7e9f2a4b6c8d"  # 64 hex chars, as Xero's
SECRET = "Zx9-client-secret-value"
GUID = "3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"


@pytest.mark.parametrize(
    "excerpt",
    [
        f"Authorization: Bearer {JWT}\nxero-tenant-id: {GUID}",
        f"authorization: Basic {'Y2xpZW50OnNlY3JldA' * 3}==",
        {"headers": {"Authorization": f"Bearer {JWT}"}},
        {"access_token": JWT, "refresh_token": REFRESH, "expires_in": 1800},
        json.dumps({"token_set": {"id_token": JWT, "refresh_token": REFRESH}}),
        f"grant_type=refresh_token&refresh_token={REFRESH}&client_secret={SECRET}",
        f"grant_type=authorization_code&code=one-time-auth-code-123&code_verifier={SECRET}",
        {"client_secret": SECRET, "password": SECRET, "nested": [{"api_key": SECRET}]},
        f"POST https://client:{SECRET}@identity.xero.com/connect/token",
        f"something went wrong with {JWT} in the middle",
        f"token was {REFRESH}",
        f'{{"refresh_token": "{REFRESH}", "truncated json',  # not valid JSON: redacted as text
        f"{{'client_secret': '{SECRET}'}}",
        f"X-Xero-Signature: {SECRET}",
        b'{"access_token": "' + JWT.encode() + b'"}',
    ],
    ids=[
        "bearer-header",
        "basic-header",
        "header-dict",
        "token-response",
        "nested-json-text",
        "refresh-form",
        "auth-code-form",
        "secret-keys",
        "url-credentials",
        "bare-jwt",
        "bare-refresh-token",
        "broken-json",
        "python-repr",
        "webhook-signature",
        "bytes",
    ],
)
def test_no_secret_survives(excerpt):
    cleaned = redact(excerpt)
    for secret in (JWT, REFRESH, SECRET, "one-time-auth-code-123", "Y2xpZW50OnNlY3JldA"):
        assert secret not in cleaned
    assert REDACTED in cleaned


def test_troubleshooting_details_survive():
    body = {
        "Invoices": [
            {
                "InvoiceID": GUID,
                "InvoiceNumber": "INV-0042",
                "LineItems": [{"AccountCode": "200", "ItemCode": "LATE-FEE", "TaxType": "OUTPUT2"}],
                "ValidationErrors": [{"Message": "Invoice # must be unique."}],
            }
        ],
        "Account": {"Code": "090"},
    }
    cleaned = redact(body)
    for kept in (GUID, "INV-0042", '"200"', "LATE-FEE", "OUTPUT2", "Invoice # must be unique.", '"090"'):
        assert kept in cleaned


def test_known_secrets_are_removed_wherever_they_appear():
    assert "hunter2-long" not in redact("the value hunter2-long leaked", secrets=["hunter2-long"])


def test_long_excerpts_are_truncated_after_redaction():
    cleaned = redact("x" * 10 + f" Bearer {JWT} " + "y" * (MAX_EXCERPT_CHARS * 2))
    assert len(cleaned) < MAX_EXCERPT_CHARS + 100
    assert "truncated" in cleaned
    assert JWT[:20] not in cleaned


def test_empty_values_stay_empty():
    assert redact("") == redact(None) == redact(b"") == ""


def test_http_excerpt_keeps_the_shape_and_drops_the_credentials():
    from integrations.redact import http_excerpt

    text = http_excerpt(
        method="post",
        url="https://api.xero.com/api.xro/2.0/Invoices?summarizeErrors=false",
        headers={"Authorization": f"Bearer {JWT}", "xero-tenant-id": GUID, "Idempotency-Key": "fee:7:2026-11"},
        body={"Invoices": [{"InvoiceNumber": "INV-7"}]},
    )
    assert text.startswith("POST https://api.xero.com/api.xro/2.0/Invoices?summarizeErrors=false")
    assert f"xero-tenant-id: {GUID}" in text and "Idempotency-Key: fee:7:2026-11" in text
    assert "INV-7" in text
    assert JWT not in text
    assert http_excerpt(status=429, headers={"Retry-After": "30"}) == "429\nRetry-After: 30"
