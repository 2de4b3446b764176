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
    sandbox_url: str = ""


def _scratch(name: str, postgres_url: str) -> BenchDatabase:
    """A throw-away database (PostgreSQL next to postgres_url, else SQLite in a temp folder), dropped at exit."""
    if postgres_url:
        url, cleanup = _postgres_scratch(postgres_url, name)
        db = BenchDatabase(url=url, vendor="postgresql", description=f"PostgreSQL scratch database for {name}")
    else:
        tmp = tempfile.mkdtemp(prefix=f"bench-{name}-")
        url = f"sqlite:///{tmp}/bench.sqlite3"

        def cleanup() -> None:
            shutil.rmtree(tmp, ignore_errors=True)

        db = BenchDatabase(url=url, vendor="sqlite", description=f"SQLite in {tmp}")
    atexit.register(cleanup)
    return db


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


def setup(
    name: str, *, use_env_database: bool = True, migrate: bool = True, sandbox_database: bool = False
) -> BenchDatabase:
    """Point Django at a throw-away database, call django.setup() and (by default) migrate it.

    With `sandbox_database`, the Xero sandbox gets a throw-away database of its own (alias "xero", on the same
    kind of server), as the real Xero has: the sandbox's models are routed there, and `db.sandbox_url` is what a
    sandbox server process should use as its DATABASE_URL."""
    from cryptography.fernet import Fernet
    from django.core.management.utils import get_random_secret_key

    existing = os.environ.get("DATABASE_URL", "")
    on_postgres = use_env_database and existing.startswith(("postgres://", "postgresql://"))
    db = _scratch(name, existing if on_postgres else "")
    if sandbox_database:
        db.sandbox_url = _scratch(f"{name}_xero", existing if on_postgres else "").url
    # A polite kill (SIGTERM) should clean up too: exiting through sys.exit runs the atexit hooks.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    # Explicit values win over a developer's .env (portal.settings reads it without overwriting).
    os.environ["DATABASE_URL"] = db.url
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

    if db.sandbox_url:
        import environ
        from django.conf import settings as lazy_settings

        # Configured before django.setup(), so no connection has been opened yet.
        lazy_settings.DATABASES["xero"] = environ.Env.db_url_config(db.sandbox_url)
        if db.vendor == "sqlite":
            lazy_settings.DATABASES["xero"]["OPTIONS"] = dict(lazy_settings.DATABASES["default"].get("OPTIONS", {}))
        lazy_settings.DATABASE_ROUTERS = ["bench._django.SandboxRouter"]
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
        if db.sandbox_url:
            call_command("migrate", database="xero", verbosity=0, interactive=False)
    return db


class SandboxRouter:
    """Benchmarks only: the sandbox's rows live in Xero's own database ("xero"), the portal's in "default". The
    sandbox server process uses the "xero" database as its default, so it gets every table."""

    def db_for_read(self, model, **hints):
        return "xero" if model._meta.app_label == "xero_sandbox" else None

    db_for_write = db_for_read

    def allow_relation(self, obj1, obj2, **hints):
        return None

    def allow_migrate(self, db, app_label, **hints):
        if app_label == "xero_sandbox":
            return db == "xero"
        return True


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
