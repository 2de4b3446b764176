"""Marketplace rows: installs, sync runs, the sync error log and the audit trail of external writes."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

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
    state = models.CharField(max_length=20, choices=InstallationState.choices, default=InstallationState.INSTALLED)
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


# --- Sync runs, the error log and the audit trail (add-on agnostic) ---


class SyncRunKind(models.TextChoices):
    FIRST = "first", "First sync"
    WEBHOOK = "webhook", "Webhook"
    POLL = "poll", "Scheduled poll"
    MANUAL = "manual", "Sync Now"
    RECONCILE = "reconcile", "Full reconcile"
    FEES = "fees", "Fees"
    PUSH = "push", "Push"


class SyncRunState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    PARTIAL = "partial", "Partly synced"


class SyncRun(models.Model):
    """One sync (or write-back) run of an add-on for a merchant, with its live progress."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="sync_runs")
    addon_key = models.CharField(max_length=50)
    kind = models.CharField(max_length=16, choices=SyncRunKind.choices)
    state = models.CharField(max_length=16, choices=SyncRunState.choices, default=SyncRunState.QUEUED)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # {"contacts": {"done": 120, "total": 300}, ...} in the order the steps run.
    progress = models.JSONField(default=dict, blank=True)
    current_step = models.CharField(max_length=50, blank=True)
    # Rows stored per entity: {"contacts": 300, "invoices": 500}.
    counts = models.JSONField(default=dict, blank=True)
    api_calls = models.PositiveIntegerField(default=0)
    error_summary = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["merchant", "addon_key", "-created_at"], name="syncrun_merchant_recent")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} sync {self.pk} ({self.state})"

    @property
    def is_active(self) -> bool:
        return self.state in (SyncRunState.QUEUED, SyncRunState.RUNNING)

    @property
    def duration(self):
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None

    def ordered_progress(self) -> list[tuple[str, dict]]:
        """(step, progress) in the order the run does its steps."""
        return sorted(self.progress.items(), key=lambda item: item[1].get("n", len(self.progress)))

    @property
    def count_pairs(self) -> list[tuple[str, int]]:
        """(entity, count) pairs for templates (`counts.items` would look up an entity called "items")."""
        return list(self.counts.items())

    @property
    def steps(self) -> list[dict]:
        """Progress per step for templates: name, done, total and a percentage (None when unknown)."""
        rows = []
        for name, step in self.ordered_progress():
            done, total = step.get("done") or 0, step.get("total")
            percent = min(100, round(100 * done / total)) if total else (100 if total == 0 else None)
            rows.append({"name": name, "done": done, "total": total, "percent": percent})
        return rows


class SyncOperation(models.TextChoices):
    PULL = "pull", "Pull"
    PUSH = "push", "Push"
    FEE = "fee", "Fee"
    PAYMENT = "payment", "Payment"
    TOKEN = "token", "Token"
    WEBHOOK = "webhook", "Webhook"


class SyncErrorState(models.TextChoices):
    OPEN = "open", "Open"
    RETRYING = "retrying", "Retrying"
    RESOLVED = "resolved", "Resolved"
    DISMISSED = "dismissed", "Dismissed"


# States in which an error still needs attention (the navigation badge counts these).
UNRESOLVED_STATES = (SyncErrorState.OPEN, SyncErrorState.RETRYING)


class SyncError(models.Model):
    """One problem with one record: repeats bump `count` and `last_seen` instead of adding rows."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="sync_errors")
    addon_key = models.CharField(max_length=50)
    # sha256 of (merchant, add-on, operation, record, problem): the identity of the row.
    fingerprint = models.CharField(max_length=64, editable=False)
    record_kind = models.CharField(max_length=30)  # invoice, contact, payment, item, account, fee, connection…
    record_id = models.BigIntegerField(null=True, blank=True)  # the portal's id
    external_id = models.CharField(max_length=64, blank=True)  # the add-on system's id
    record_label = models.CharField(max_length=255, blank=True)  # invoice number, contact name
    operation = models.CharField(max_length=16, choices=SyncOperation.choices)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    message = models.TextField()  # the other system's own words
    hint_key = models.CharField(max_length=64)
    # Values the hint's fix text needs, e.g. {"resume_at": "..."} for rate limits.
    hint_params = models.JSONField(default=dict, blank=True)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    count = models.PositiveIntegerField(default=1)
    state = models.CharField(max_length=16, choices=SyncErrorState.choices, default=SyncErrorState.OPEN)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.CharField(max_length=255, blank=True)
    request_excerpt = models.TextField(blank=True)  # redacted
    response_excerpt = models.TextField(blank=True)  # redacted
    retry_payload = models.JSONField(default=dict, blank=True)  # ids only, never tokens

    class Meta:
        ordering = ["-last_seen", "-id"]
        constraints = [models.UniqueConstraint(fields=["fingerprint"], name="syncerror_unique_fingerprint")]
        indexes = [
            models.Index(fields=["merchant", "state"], name="syncerror_merchant_state"),
            models.Index(fields=["merchant", "record_kind", "record_id"], name="syncerror_merchant_record"),
            models.Index(fields=["hint_key"], name="syncerror_hint"),
        ]

    def __str__(self) -> str:
        record = self.record_label or self.record_id or self.external_id
        return f"{self.record_kind} {record}: {self.message[:60]}"

    @property
    def is_unresolved(self) -> bool:
        return self.state in UNRESOLVED_STATES

    @property
    def hint(self):
        from integrations import hints

        return hints.get(self.hint_key)

    @property
    def fix(self) -> str:
        """The hint's fix text, filled in with this error's parameters."""
        return self.hint.render_fix(**self.hint_params)

    @property
    def portal_url(self) -> str:
        from integrations import links

        return links.portal_record_url(record_kind=self.record_kind, record_id=self.record_id)


class AuditOutcome(models.TextChoices):
    OK = "ok", "OK"
    ERROR = "error", "Error"
    LOST = "lost", "Response lost"  # sent, but no answer came back: reconcile by reading back


class AuditEntry(models.Model):
    """One write to an external system: what was sent for which record, and what came back."""

    created_at = models.DateTimeField(default=timezone.now)
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="audit_entries")
    addon_key = models.CharField(max_length=50)
    operation = models.CharField(max_length=16, choices=SyncOperation.choices)
    endpoint = models.CharField(max_length=120, blank=True)  # e.g. "POST /Invoices"
    record_kind = models.CharField(max_length=30)
    record_id = models.BigIntegerField(null=True, blank=True)
    record_label = models.CharField(max_length=255, blank=True)
    idempotency_key = models.CharField(max_length=128, blank=True)
    outcome = models.CharField(max_length=8, choices=AuditOutcome.choices)
    external_ids = models.JSONField(default=dict, blank=True)  # e.g. {"InvoiceID": "…", "LineItemIDs": […]}
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [
            models.Index(fields=["merchant", "record_kind", "record_id"], name="audit_merchant_record"),
            models.Index(fields=["merchant", "-created_at"], name="audit_merchant_recent"),
            models.Index(fields=["idempotency_key"], name="audit_idempotency_key"),
        ]

    def __str__(self) -> str:
        return f"{self.operation} {self.record_kind} {self.record_label or self.record_id} ({self.outcome})"


class UnsyncedReminder(models.Model):
    """When a merchant's admins were last reminded of records that have not reached an add-on's system."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    addon_key = models.CharField(max_length=50)
    last_sent_at = models.DateTimeField()
    items = models.PositiveIntegerField(default=0)  # how many were listed in that reminder
    recipients = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["merchant", "addon_key"], name="unsyncedreminder_unique")]

    def __str__(self) -> str:
        return f"{self.addon_key} reminder for {self.merchant} at {self.last_sent_at:%Y-%m-%d %H:%M}"
