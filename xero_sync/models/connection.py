"""A merchant's connection to one Xero organisation: who connected it, its tokens (encrypted), its settings."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from encrypted_model_fields.fields import EncryptedTextField

from portal.models import Merchant

# Refresh this long before the access token's stated expiry, so a call never starts with a token about to die.
REFRESH_MARGIN = dt.timedelta(minutes=2)


class ConnectionStatus(models.TextChoices):
    CONNECTED = "connected", "Connected"
    NEEDS_RECONNECT = "needs_reconnect", "Needs reconnect"
    DISCONNECTED = "disconnected", "Disconnected"


class RetentionInterval(models.IntegerChoices):
    DAILY = 1, "Every day"
    WEEKLY = 7, "Every week"
    FORTNIGHTLY = 14, "Every two weeks"
    MONTHLY = 30, "Every month"


class XeroConnection(models.Model):
    """One per merchant. Kept (tokens wiped) after a disconnect so a reconnect can tell same org from new."""

    merchant = models.OneToOneField(Merchant, on_delete=models.CASCADE, related_name="xero_connection")
    status = models.CharField(max_length=20, choices=ConnectionStatus.choices, default=ConnectionStatus.DISCONNECTED)
    status_message = models.TextField(blank=True)

    tenant_id = models.CharField("Xero tenant id", max_length=64, blank=True)
    tenant_name = models.CharField("organisation", max_length=255, blank=True)
    short_code = models.CharField(max_length=20, blank=True)
    base_currency = models.CharField(max_length=3, blank=True)
    timezone = models.CharField(max_length=64, blank=True)
    connection_id = models.CharField("Xero connection id", max_length=64, blank=True)
    auth_event_id = models.CharField(max_length=64, blank=True)
    scopes = models.TextField(blank=True)

    # Tokens: only ever stored encrypted; never shown in admin, logs, task arguments or error messages.
    access_token = EncryptedTextField(blank=True, default="")
    refresh_token = EncryptedTextField(blank=True, default="")
    # The refresh token used for the last rotation: Xero still accepts it for 30 minutes if our copy of the
    # rotated pair was lost with a response.
    previous_refresh_token = EncryptedTextField(blank=True, default="")
    access_expires_at = models.DateTimeField(null=True, blank=True)
    tokens_refreshed_at = models.DateTimeField(null=True, blank=True)

    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    xero_user_id = models.CharField(max_length=64, blank=True)
    xero_user_name = models.CharField("connected by (Xero user)", max_length=255, blank=True)
    xero_user_email = models.CharField(max_length=255, blank=True)
    connected_at = models.DateTimeField(null=True, blank=True)
    disconnected_at = models.DateTimeField(null=True, blank=True)

    # Settings on the add-on page.
    auto_sync = models.BooleanField("Auto-sync", default=True)
    default_payment_account_code = models.CharField("Default Payment Account", max_length=10, blank=True)
    default_commodity_code = models.CharField("Default Commodity Code", max_length=8, blank=True)
    retention_interval_days = models.PositiveSmallIntegerField(
        "Integration Retention Interval",
        choices=RetentionInterval.choices,
        default=RetentionInterval.WEEKLY,
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # One Xero organisation belongs to one merchant at a time.
            models.UniqueConstraint(
                fields=["tenant_id"],
                condition=Q(status__in=["connected", "needs_reconnect"]),
                name="xeroconnection_one_merchant_per_tenant",
            )
        ]

    def __str__(self) -> str:
        return f"{self.merchant} → {self.tenant_name or 'Xero'} ({self.status})"

    @property
    def is_connected(self) -> bool:
        return self.status == ConnectionStatus.CONNECTED

    @property
    def is_active(self) -> bool:
        """Background work runs only for a healthy connection."""
        return self.status == ConnectionStatus.CONNECTED

    def access_token_fresh(self, now: dt.datetime | None = None) -> bool:
        now = now or timezone.now()
        return bool(self.access_token) and (
            self.access_expires_at is not None and self.access_expires_at - REFRESH_MARGIN > now
        )
