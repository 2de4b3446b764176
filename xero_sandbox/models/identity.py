"""Sandbox identity: organisations (tenants); apps, users, tokens and connections are added here too."""

import uuid

from django.db import models

__all__ = ["Organisation"]


class Organisation(models.Model):
    """A Xero organisation (a tenant). Accounting data hangs off it."""

    tenant_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=255)
    short_code = models.CharField(max_length=20, unique=True)
    base_currency = models.CharField(max_length=3, default="USD")
    country_code = models.CharField(max_length=2, default="US")
    timezone = models.CharField(max_length=64, default="America/New_York")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
