"""Boot Django for a benchmark against a throw-away database, and the small timing helpers benchmarks share.

    from bench import _django
    db = _django.setup("invoice_list")      # before importing any model
    ...
    _django.emit({"page_ms": 12.3})         # the one JSON line, printed last

The database is SQLite in a temporary directory, unless DATABASE_URL already points at PostgreSQL: then a
fresh database is created on that server for the run and dropped afterwards (your data is never touched).
Settings are production-like (DEBUG off) so timings reflect what a user would see.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit


@dataclass
class BenchDatabase:
    url: str
    vendor: str  # "sqlite" or "postgresql"
    description: str


def _postgres_scratch(base_url: str, name: str) -> tuple[str, Callable[[], None]]:
    """Create an empty database next to the one in base_url; return its URL and a function dropping it."""
    import psycopg

    parts = urlsplit(base_url)
    scratch = f"bench_{name}_{os.getpid()}"
    admin_url = urlunsplit(parts._replace(scheme="postgresql"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{scratch}"')
        conn.execute(f'CREATE DATABASE "{scratch}"')

    def drop() -> None:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')

    return urlunsplit(parts._replace(path=f"/{scratch}")), drop


def setup(name: str, *, use_env_database: bool = True, migrate: bool = True) -> BenchDatabase:
    """Point Django at a throw-away database, call django.setup() and (by default) migrate it."""
    from cryptography.fernet import Fernet
    from django.core.management.utils import get_random_secret_key

    existing = os.environ.get("DATABASE_URL", "")
    if use_env_database and existing.startswith(("postgres://", "postgresql://")):
        url, cleanup = _postgres_scratch(existing, name)
        db = BenchDatabase(url=url, vendor="postgresql", description=f"PostgreSQL scratch database for {name}")
    else:
        tmp = tempfile.mkdtemp(prefix=f"bench-{name}-")
        url = f"sqlite:///{tmp}/bench.sqlite3"

        def cleanup() -> None:
            shutil.rmtree(tmp, ignore_errors=True)

        db = BenchDatabase(url=url, vendor="sqlite", description=f"SQLite in {tmp}")
    atexit.register(cleanup)
    # A polite kill (SIGTERM) should clean up too: exiting through sys.exit runs the atexit hooks.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    # Explicit values win over a developer's .env (portal.settings reads it without overwriting).
    os.environ["DATABASE_URL"] = url
    os.environ["DEBUG"] = "false"
    os.environ["SECRET_KEY"] = get_random_secret_key()
    os.environ["FIELD_ENCRYPTION_KEY"] = Fernet.generate_key().decode()
    os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
    os.environ["SECURE_SSL_REDIRECT"] = "false"
    os.environ["SESSION_COOKIE_SECURE"] = "false"
    os.environ["CSRF_COOKIE_SECURE"] = "false"
    os.environ["XERO_SANDBOX"] = "false"
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings"

    # No collectstatic in a scratch run, so whitenoise has no STATIC_ROOT to index; that is expected here.
    warnings.filterwarnings("ignore", message="No directory at")

    import django
    from django.test.utils import override_settings

    django.setup()
    from django.conf import settings

    # No collectstatic in a scratch run: resolve {% static %} without the manifest (a dict lookup in
    # production, so this does not flatter the timings).
    storages = {**settings.STORAGES}
    storages["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    override_settings(STORAGES=storages).enable()

    if migrate:
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
    return db


def refresh_statistics() -> None:
    """After a bulk load, let the database planner see the new rows, as autovacuum would in production.

    PostgreSQL plans with stale row estimates until (auto)ANALYZE runs; without this a freshly seeded table
    looks empty and gets hash joins over every row. SQLite keeps no statistics unless asked, so it is left as
    a real SQLite deployment would be.
    """
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def log(message: str) -> None:
    """Progress for humans on stderr; stdout ends with the JSON line."""
    print(message, file=sys.stderr, flush=True)


def median_ms(fn: Callable[[], object], *, repeat: int = 15, warmup: int = 2) -> float:
    """Median wall time of fn() in milliseconds, after a few warm-up calls."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(samples), 1)


def query_count(fn: Callable[[], object]) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx)


def emit(result: dict) -> None:
    print(json.dumps(result), flush=True)
