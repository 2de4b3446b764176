"""Shared set-up for the Xero benchmarks: a throw-away database, the sandbox served over real HTTP by a separate
server process with Xero's limits, a seeded organisation, and a merchant connected to it.

    from bench import _xero
    env = _xero.start("first_sync", contacts=300, invoices=500, minute_seconds=2)
    ... env.connection, env.org_tenant_id, env.base_url ...

The minute can be shortened (the sandbox and the client's pacing use the same length), so a run with many
calls does not wait real minutes; `real_limit_s()` says what the same calls would take under Xero's real minute.
"""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench import _django

ROOT = Path(__file__).resolve().parent.parent
CLIENT_ID = "bench-client"
CLIENT_SECRET = "bench-secret-0123456789abcdef"
WEBHOOK_KEY = "bench-webhook-key-0123456789abcdef"


@dataclass
class XeroBench:
    base_url: str
    tenant_id: str
    connection: object
    server: subprocess.Popen
    minute_seconds: float

    def stop(self) -> None:
        self.server.terminate()
        try:
            self.server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.server.kill()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url: str, timeout: float = 30) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:  # bounded by the deadline
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"the sandbox server did not start at {url}")


def start(
    name: str,
    *,
    contacts: int,
    invoices: int,
    minute_seconds: float = 60,
    seed: int = 1,
    webhook_url: str = "",
    workers: int = 2,
) -> XeroBench:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    sandbox = f"{base}/sandbox/xero"
    os.environ.update(
        {
            "XERO_CLIENT_ID": CLIENT_ID,
            "XERO_CLIENT_SECRET": CLIENT_SECRET,
            "XERO_WEBHOOK_KEY": WEBHOOK_KEY,
            "XERO_REDIRECT_URI": f"{base}/addons/xero/callback/",
            "XERO_LOGIN_URL": f"{sandbox}/identity",
            "XERO_IDENTITY_URL": f"{sandbox}/identity",
            "XERO_API_URL": f"{sandbox}/api.xro/2.0",
            "XERO_CONNECTIONS_URL": f"{sandbox}/connections",
        }
    )
    db = _django.setup(name, sandbox_database=True)
    from django.conf import settings

    # The client paces itself on the same (shortened) minute the sandbox enforces.
    settings.XERO_RATE_MINUTE_SECONDS = minute_seconds

    server_env = {
        **os.environ,
        # Xero keeps its own books: the sandbox server's database is not the portal's.
        "DATABASE_URL": db.sandbox_url,
        "XERO_SANDBOX": "true",
        "XERO_SANDBOX_ALLOW_PRODUCTION": "true",
        "XERO_SANDBOX_MINUTE_SECONDS": str(max(1, round(minute_seconds))),
        "XERO_SANDBOX_API_BASE": f"{sandbox}/api.xro/2.0",
    }
    _django.log(f"seeding {contacts} contacts and {invoices} invoices in the sandbox …")
    seeded = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "xero_sandbox",
            "seed",
            "--org",
            "Bench Org",
            "--contacts",
            str(contacts),
            "--invoices",
            str(invoices),
            "--seed",
            str(seed),
        ],
        cwd=ROOT,
        env=server_env,
        capture_output=True,
        text=True,
        check=True,
    )
    tenant_id = json.loads(seeded.stdout)["tenantId"]
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "portal.wsgi",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            str(workers),
            "--threads",
            "4",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=server_env,
    )
    _wait_for(f"{sandbox}/identity/.well-known/openid-configuration")

    connection = _connect(tenant_id, webhook_url or f"{base}/addons/xero/webhooks/")
    return XeroBench(
        base_url=base, tenant_id=tenant_id, connection=connection, server=server, minute_seconds=minute_seconds
    )


def _connect(tenant_id: str, webhook_url: str):
    """A merchant connected to the seeded organisation, with tokens the sandbox issued."""
    import datetime as dt

    from django.utils import timezone

    from integrations.services import installation_create
    from portal.models import User
    from portal.services import merchant_create
    from xero_sandbox import testing as sandbox
    from xero_sandbox.models import Organisation
    from xero_sync.models import ConnectionStatus, XeroConnection

    org = Organisation.objects.get(tenant_id=tenant_id)
    app = sandbox.sandbox_app(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, webhook_url=webhook_url, webhook_key=WEBHOOK_KEY
    )
    tokens = sandbox.sandbox_token(org, app=app)
    admin = User.objects.create_user(email="bench@example.com", password="bench-pass-123")
    merchant = merchant_create(name="Bench Merchant", admin=admin)
    installation_create(merchant=merchant, addon_key="xero", user=admin)
    return XeroConnection.objects.create(
        merchant=merchant,
        status=ConnectionStatus.CONNECTED,
        tenant_id=tenant_id,
        tenant_name=org.name,
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
        access_expires_at=timezone.now() + dt.timedelta(seconds=tokens["expires_in"]),
        scopes=tokens.get("scope", ""),
        connected_at=timezone.now(),
    )


def real_limit_s(*, calls: int, wall_s: float, minute_seconds: float, per_minute: int = 60) -> float:
    """The wall time the same calls would take under Xero's real 60-calls-per-minute windows: every window the
    run had to roll over would have lasted a real minute instead of the shortened one."""
    rollovers = max(0, math.ceil(calls / per_minute) - 1)
    return round(wall_s + rollovers * max(0.0, 60 - minute_seconds), 2)


def peak_rss_mb() -> float:
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
