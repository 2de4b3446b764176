"""Marketplace rows: which merchant has installed which add-on, and in what state."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from portal.models import Merchant


class InstallationState(models.TextChoices):
    INSTALLED = "installed", "Installed"
    CONNECTED = "connected", "Connected"
    NEEDS_RECONNECT = "needs_reconnect", "Needs reconnect"


class Installation(models.Model):
    """One merchant's install of one add-on. Its state is kept current by the add-on itself."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="installations")
    addon_key = models.CharField(max_length=50)
    # Copied from the registry at install time so the database itself enforces the exclusive rule.
    category = models.CharField(max_length=50)
    exclusive = models.BooleanField(default=False)
    state = models.CharField(
        max_length=20, choices=InstallationState.choices, default=InstallationState.INSTALLED
    )
    installed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    installed_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["merchant", "addon_key"], name="installation_unique_addon"),
            models.UniqueConstraint(
                fields=["merchant", "category"],
                condition=Q(exclusive=True),
                name="installation_one_per_exclusive_category",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.addon_key} for {self.merchant}"

    @property
    def addon(self):
        from integrations import registry

        return registry.get(self.addon_key)
