"""Sandbox identity: organisations, apps, users and their roles, codes, tokens, connections, limits, faults, log."""

import uuid

from django.db import models
from encrypted_model_fields.fields import EncryptedCharField

__all__ = [
    "AuthCode",
    "Connection",
    "FaultKind",
    "FaultRule",
    "OrgRole",
    "Organisation",
    "RateCounter",
    "RequestLog",
    "SandboxAccessToken",
    "SandboxApp",
    "SandboxRefreshToken",
    "SandboxUser",
    "TokenFamily",
    "UserOrgRole",
    "WebhookDelivery",
    "WebhookDeliveryStatus",
    "WebhookEvent",
]


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


class SandboxApp(models.Model):
    """A developer app registered with the sandbox: client credentials, redirect URIs and its webhook."""

    name = models.CharField(max_length=255, default="Sandbox app")
    client_id = models.CharField(max_length=64, unique=True)
    client_secret_hash = models.CharField(max_length=255)  # django password hash, never the secret
    redirect_uris = models.JSONField(default=list, blank=True)
    # Apps created from March 2026 only get granular scopes; older apps may ask for the broad ones too.
    allow_broad_scopes = models.BooleanField(default=True)
    webhook_url = models.URLField(max_length=500, blank=True)
    # The key signs every delivery, so it must be readable again: encrypted at rest, never plain.
    webhook_key = EncryptedCharField(max_length=255, blank=True)
    webhook_intent_ok = models.BooleanField(null=True, blank=True)
    webhook_intent_checked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.client_id})"


class SandboxUser(models.Model):
    """A person who signs in to the sandbox's own login page (not a portal user)."""

    xero_userid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField(unique=True)
    password_hash = models.CharField(max_length=255)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email


class OrgRole(models.TextChoices):
    STANDARD = "standard", "Standard"
    ADVISOR = "advisor", "Adviser"
    INVOICE_ONLY = "invoice_only", "Invoice only"
    READ_ONLY = "read_only", "Read only"


class UserOrgRole(models.Model):
    """A sandbox user's role in one organisation; deleting it removes the user from the organisation."""

    user = models.ForeignKey(SandboxUser, on_delete=models.CASCADE, related_name="roles")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="user_roles")
    role = models.CharField(max_length=20, choices=OrgRole.choices, default=OrgRole.STANDARD)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "organisation"], name="xsb_user_org_unique")]

    def __str__(self) -> str:
        return f"{self.user} in {self.organisation} ({self.get_role_display()})"

    @property
    def can_connect_apps(self) -> bool:
        return self.role in (OrgRole.STANDARD, OrgRole.ADVISOR)


class AuthCode(models.Model):
    """A one-time authorization code (stored hashed) waiting to be exchanged at the token endpoint."""

    code_hash = models.CharField(max_length=64, unique=True)
    app = models.ForeignKey(SandboxApp, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(SandboxUser, on_delete=models.CASCADE, related_name="+")
    redirect_uri = models.CharField(max_length=500)
    scope = models.CharField(max_length=1000)
    auth_event_id = models.UUIDField(default=uuid.uuid4)
    code_challenge = models.CharField(max_length=128, blank=True)
    code_challenge_method = models.CharField(max_length=10, blank=True)
    nonce = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"code issued {self.created_at:%Y-%m-%d %H:%M:%S}"


class TokenFamily(models.Model):
    """Every token issued from one consent (its access tokens and its chain of rotated refresh tokens)."""

    app = models.ForeignKey(SandboxApp, on_delete=models.CASCADE, related_name="token_families")
    user = models.ForeignKey(SandboxUser, on_delete=models.CASCADE, related_name="token_families")
    scope = models.CharField(max_length=1000)
    auth_event_id = models.UUIDField()
    # Consented with PKCE and no secret: may refresh with its client id alone, as Xero's PKCE apps do.
    public_client = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "token families"

    def __str__(self) -> str:
        return f"{self.user} → {self.app.name} ({self.created_at:%Y-%m-%d %H:%M})"


class SandboxAccessToken(models.Model):
    """An issued access token: its JWT claims (re-signable) and a hash; never the token itself."""

    family = models.ForeignKey(TokenFamily, on_delete=models.CASCADE, related_name="access_tokens")
    jti = models.CharField(max_length=64, unique=True)
    token_hash = models.CharField(max_length=64, unique=True)
    claims = models.JSONField()
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"access token expiring {self.expires_at:%Y-%m-%d %H:%M:%S}"


class SandboxRefreshToken(models.Model):
    """A refresh token (hashed). Once used it points at the pair it was rotated into, for the grace period."""

    family = models.ForeignKey(TokenFamily, on_delete=models.CASCADE, related_name="refresh_tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    # The pair this token was rotated into; replaying within the grace period gets the same pair back.
    next_refresh = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="previous"
    )
    next_access = models.ForeignKey(
        SandboxAccessToken, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        state = "used" if self.used_at else "unused"
        return f"refresh token issued {self.created_at:%Y-%m-%d %H:%M:%S} ({state})"


class Connection(models.Model):
    """An organisation a user connected to an app; what GET /connections lists."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    app = models.ForeignKey(SandboxApp, on_delete=models.CASCADE, related_name="connections")
    user = models.ForeignKey(SandboxUser, on_delete=models.CASCADE, related_name="connections")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="connections")
    auth_event_id = models.UUIDField()
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["app", "user", "organisation"], name="xsb_connection_unique")]

    def __str__(self) -> str:
        return f"{self.organisation} ↔ {self.app.name} (by {self.user})"


class RateCounter(models.Model):
    """One fixed window's call count for one key (org minute/day/concurrency, app minute)."""

    key = models.CharField(max_length=100)
    window = models.BigIntegerField()
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "window"], name="xsb_rate_counter_unique")]

    def __str__(self) -> str:
        return f"{self.key}@{self.window}: {self.count}"


class FaultKind(models.TextChoices):
    FAIL = "fail", "Fail with 500/503"
    DELAY = "delay", "Delay the response"
    DROP = "drop", "Drop the connection after the write"
    RATE_LIMIT = "rate_limit", "Force 429"


class FaultRule(models.Model):
    """An injected fault for one organisation's API calls; `remaining` null means until cleared."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="fault_rules")
    kind = models.CharField(max_length=20, choices=FaultKind.choices)
    remaining = models.IntegerField(null=True, blank=True)
    status = models.IntegerField(default=503)
    delay_ms = models.IntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        left = "until cleared" if self.remaining is None else f"{self.remaining} left"
        return f"{self.get_kind_display()} ({left})"


class RequestLog(models.Model):
    """Every Accounting API call the sandbox answered."""

    at = models.DateTimeField(db_index=True)
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="request_logs"
    )
    app = models.ForeignKey(SandboxApp, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    query = models.TextField(blank=True)
    status = models.IntegerField()
    limit_headers = models.JSONField(default=dict, blank=True)
    rate_limit_problem = models.CharField(max_length=20, blank=True)
    fault = models.CharField(max_length=20, blank=True)
    duration_ms = models.IntegerField(default=0)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.method} {self.path} → {self.status}"


class WebhookEvent(models.Model):
    """A change to an invoice or contact, waiting for (or included in) a webhook delivery."""

    app = models.ForeignKey(SandboxApp, on_delete=models.CASCADE, related_name="webhook_events")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="webhook_events")
    category = models.CharField(max_length=20)
    event_type = models.CharField(max_length=10)
    resource_id = models.UUIDField()
    event_date = models.DateTimeField()
    delivery = models.ForeignKey(
        "WebhookDelivery", null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.category} {self.event_type} {self.resource_id}"


class WebhookDeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    RETRYING = "retrying", "Retrying"
    FAILED = "failed", "Failed"


class WebhookDelivery(models.Model):
    """One batched, signed POST to an app's webhook URL and its attempts."""

    app = models.ForeignKey(SandboxApp, on_delete=models.CASCADE, related_name="webhook_deliveries")
    body = models.TextField()
    status = models.CharField(
        max_length=20, choices=WebhookDeliveryStatus.choices, default=WebhookDeliveryStatus.PENDING
    )
    attempts = models.IntegerField(default=0)
    last_status_code = models.IntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"delivery {self.pk} ({self.get_status_display()}, {self.attempts} attempts)"
