"""Write a local .env for `make run` (demo mode) the first time, with fresh secrets; keep it afterwards.

Run as `python -m portal.devenv`. It imports nothing from Django, because settings need this file first.
"""

import secrets
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ENV_FILE = Path(__file__).resolve().parent.parent / ".env"
BASE = "http://127.0.0.1:8000"


def render() -> str:
    sandbox = f"{BASE}/sandbox/xero"
    return "\n".join(
        [
            "# Written by `make run` for local demo mode. Not committed; delete it to start afresh.",
            "DEBUG=true",
            f"SECRET_KEY={secrets.token_urlsafe(50)}",
            f"FIELD_ENCRYPTION_KEY={Fernet.generate_key().decode()}",
            "XERO_SANDBOX=true",
            f"XERO_LOGIN_URL={sandbox}/identity",
            f"XERO_IDENTITY_URL={sandbox}/identity",
            f"XERO_API_URL={sandbox}/api.xro/2.0",
            f"XERO_CONNECTIONS_URL={sandbox}/connections",
            "XERO_CLIENT_ID=demo-portal-client",
            f"XERO_CLIENT_SECRET={secrets.token_urlsafe(32)}",
            f"XERO_REDIRECT_URI={BASE}/addons/xero/callback/",
            f"XERO_WEBHOOK_KEY={secrets.token_urlsafe(48)}",
            "",
        ]
    )


def main() -> int:
    if ENV_FILE.exists():
        return 0
    ENV_FILE.write_text(render())
    ENV_FILE.chmod(0o600)
    print(f"Wrote {ENV_FILE.name} with fresh local secrets.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
