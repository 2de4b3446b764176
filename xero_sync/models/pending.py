"""Short-lived rows of the connect and disconnect flows, holding tokens (encrypted) that are not a connection yet
or any more: an authorisation waiting for the merchant to pick an organisation, and a revocation to retry."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from encrypted_model_fields.fields import EncryptedTextField

from portal.models import Merchant

PENDING_AUTH_LIFETIME = dt.timedelta(minutes=20)


class XeroPendingAuthorisation(models.Model):
    """Tokens from a finished consent screen, kept until the merchant picks or confirms the organisation."""

    merchant = models.OneToOneField(Merchant, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    access_token = EncryptedTextField()
    refresh_token = EncryptedTextField()
    expires_in = models.PositiveIntegerField(default=1800)
    scope = models.TextField(blank=True)
    auth_event_id = models.CharField(max_length=64, blank=True)
    xero_user_id = models.CharField(max_length=64, blank=True)
    xero_user_name = models.CharField(max_length=255, blank=True)
    xero_user_email = models.CharField(max_length=255, blank=True)
    # [{"connection_id", "tenant_id", "tenant_name"}]: the organisations this consent authorised.
    tenants = models.JSONField(default=list)
    chosen_tenant_id = models.CharField(max_length=64, blank=True)  # set when only confirmation remains
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Pending Xero authorisation for {self.merchant}"

    @property
    def expired(self) -> bool:
        return timezone.now() - self.created_at > PENDING_AUTH_LIFETIME

    def tenant(self, tenant_id: str) -> dict | None:
        return next((t for t in self.tenants if t["tenant_id"] == tenant_id), None)


class XeroPendingRevocation(models.Model):
    """A refresh token to revoke with Xero, kept only until Xero confirms (a disconnect while Xero was down)."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    refresh_token = EncryptedTextField()
    access_token = EncryptedTextField(blank=True, default="")
    connection_id = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Revocation pending for {self.merchant}"
