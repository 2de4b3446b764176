"""Shared fixtures: users with a role at a merchant, signed-in clients, and backend markers."""

import os

import pytest
from django.db import connection

from portal.models import Role
from tests.factories import MembershipFactory, MerchantFactory, UserFactory


def pytest_collection_modifyitems(config, items):
    on_postgres = os.environ.get("DATABASE_URL", "").startswith(("postgres", "postgresql"))
    has_redis = bool(os.environ.get("REDIS_URL"))
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (DATABASE_URL)"))
        if "redis" in item.keywords and not has_redis:
            item.add_marker(pytest.mark.skip(reason="needs Redis (REDIS_URL)"))


@pytest.fixture(autouse=True)
def _registries_restored():
    """Tests may register or unregister add-ons, retry handlers and links; each test starts from the app's own."""
    from integrations import links, registry, retry

    saved = [
        (m, name, dict(getattr(m, name)))
        for m, name in ((registry, "_ADDONS"), (retry, "_HANDLERS"), (links, "_ORG_CODES"), (links, "_RECORD_URLS"))
    ]
    from xero_sync import webhooks

    webhooks._connected_cache.clear()  # remembered for two seconds in production; never across tests
    yield
    for module, name, value in saved:
        getattr(module, name).clear()
        getattr(module, name).update(value)


@pytest.fixture
def merchant(db):
    return MerchantFactory(name="Acme Plumbing")


@pytest.fixture
def admin_user(merchant):
    user = UserFactory(email="admin@acme.example")
    MembershipFactory(user=user, merchant=merchant, role=Role.ADMIN)
    return user


@pytest.fixture
def member_user(merchant):
    user = UserFactory(email="member@acme.example")
    MembershipFactory(user=user, merchant=merchant, role=Role.MEMBER)
    return user


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def member_client(client, member_user):
    client.force_login(member_user)
    return client


@pytest.fixture
def on_postgres():
    return connection.vendor == "postgresql"
