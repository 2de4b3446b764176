"""Sync bookkeeping per connection: watermarks per entity (Xero's clock), the first sync's resume point, the
lease that keeps two syncs of one merchant from running at once, and webhook events waiting to be fetched."""

from __future__ import annotations

from django.db import models

from xero_sync.models.connection import XeroConnection


class XeroSyncState(models.Model):
    connection = models.OneToOneField(XeroConnection, on_delete=models.CASCADE, related_name="sync_state")
    # {"accounts": "2026-11-20T10:00:00+00:00", ...}: the Xero time each entity was last read completely.
    watermarks = models.JSONField(default=dict, blank=True)
    first_sync_done_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_reconcile_at = models.DateTimeField(null=True, blank=True)
    # Where an interrupted first sync picks up: {"step": "invoices", "page": 7}.
    checkpoint = models.JSONField(default=dict, blank=True)
    # A sync holds the lease while it runs and renews it page by page; a killed worker's lease just runs out.
    lease_owner = models.CharField(max_length=64, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    # The run a Sync Now click queued, so a second click joins it instead of queueing another.
    queued_run_id = models.BigIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Sync state of {self.connection}"


class XeroWebhookEvent(models.Model):
    """One event from Xero's webhook, stored as received and fetched later in batches by a worker."""

    tenant_id = models.CharField(max_length=64)
    category = models.CharField(max_length=20)  # INVOICE, CONTACT, …
    event_type = models.CharField(max_length=20)  # CREATE, UPDATE
    resource_id = models.CharField(max_length=64)
    event_date = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["tenant_id", "processed_at"], name="xerowebhookevent_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.category} {self.event_type} {self.resource_id}"
