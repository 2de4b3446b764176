"""Unsynced data reminders: records that have not reached Xero are emailed to the merchant's admins every
Integration Retention Interval while any remain, and never when nothing is unsynced."""

import datetime as dt
import itertools

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from integrations import reminders
from integrations.models import UnsyncedReminder
from integrations.reminders import UnsyncedItem, unsynced_items, unsynced_reminders_send
from integrations.schedules import schedules_ensure
from integrations.services import installation_create
from integrations.tasks import unsynced_reminders
from tests.factories import InvoiceFactory
from xero_sync.models import ConnectionStatus, RetentionInterval, WriteKind, WriteState, XeroConnection, XeroWrite

pytestmark = pytest.mark.django_db
_keys = itertools.count(1)
NOW = timezone.now()


@pytest.fixture
def connected(merchant, admin_user, member_user):
    installation_create(merchant=merchant, addon_key="xero", user=None)
    return XeroConnection.objects.create(
        merchant=merchant, status=ConnectionStatus.CONNECTED, tenant_id="t-1", tenant_name="Harbour Plumbing Ltd"
    )


def failed_write(merchant, label="INV-0042", state=WriteState.FAILED, age=dt.timedelta(days=2), **fields):
    return XeroWrite.objects.create(
        merchant=merchant,
        kind=WriteKind.INVOICE,
        state=state,
        invoice=InvoiceFactory(merchant=merchant),
        label=label,
        amount="120.00",
        idempotency_key=f"k-{next(_keys)}",
        error_message=fields.pop("error_message", "Invoice # must be unique."),
        created_at=NOW - age,
        **fields,
    )


def test_no_email_when_nothing_is_unsynced(connected):
    assert unsynced_reminders_send(now=NOW) == 0
    assert mail.outbox == []
    assert not UnsyncedReminder.objects.exists()


def test_admins_get_a_reminder_listing_what_has_not_reached_xero(connected, merchant):
    failed_write(merchant, "INV-0042")
    failed_write(merchant, "Bob's Pipes", state=WriteState.HELD, error_message="", reason="Two Xero contacts match.")
    assert unsynced_reminders_send(now=NOW) == 1
    [email] = mail.outbox
    assert email.to == ["admin@acme.example"]  # members are not emailed
    assert email.subject == "2 records not yet in Xero for Acme Plumbing"
    assert "INV-0042 (120.00): Invoice # must be unique." in email.body
    assert "Two Xero contacts match." in email.body
    assert reverse("integrations:addon", args=["xero"]) in email.body
    assert "every 7 days" in email.body
    reminder = UnsyncedReminder.objects.get(merchant=merchant, addon_key="xero")
    assert (reminder.last_sent_at, reminder.items, reminder.recipients) == (NOW, 2, 1)


def test_the_next_reminder_waits_for_the_retention_interval(connected, merchant):
    failed_write(merchant)
    assert unsynced_reminders_send(now=NOW) == 1
    for day in range(1, 7):
        assert unsynced_reminders_send(now=NOW + dt.timedelta(days=day)) == 0
    assert unsynced_reminders_send(now=NOW + dt.timedelta(days=7)) == 1
    assert len(mail.outbox) == 2


def test_a_daily_job_running_a_little_early_does_not_skip_a_day(connected, merchant):
    connected.retention_interval_days = RetentionInterval.DAILY
    connected.save()
    failed_write(merchant)
    assert unsynced_reminders_send(now=NOW) == 1
    assert unsynced_reminders_send(now=NOW + dt.timedelta(hours=23, minutes=50)) == 1


def test_the_interval_is_the_merchants_integration_retention_interval(connected, merchant):
    connected.retention_interval_days = RetentionInterval.MONTHLY
    connected.save()
    failed_write(merchant)
    unsynced_reminders_send(now=NOW)
    assert unsynced_reminders_send(now=NOW + dt.timedelta(days=14)) == 0
    assert unsynced_reminders_send(now=NOW + dt.timedelta(days=30)) == 1


def test_reminders_stop_once_everything_has_synced(connected, merchant):
    row = failed_write(merchant)
    unsynced_reminders_send(now=NOW)
    XeroWrite.objects.filter(pk=row.pk).update(state=WriteState.SYNCED, synced_at=NOW)
    assert unsynced_reminders_send(now=NOW + dt.timedelta(days=8)) == 0
    assert len(mail.outbox) == 1


def test_items_just_put_in_line_are_not_unsynced_yet(connected, merchant):
    failed_write(merchant, "INV-NEW", state=WriteState.PENDING, error_message="", age=dt.timedelta(minutes=5))
    failed_write(merchant, "INV-OLD", state=WriteState.PENDING, error_message="", age=dt.timedelta(hours=3))
    assert [item.label for item in unsynced_items(merchant=merchant, addon_key="xero")] == ["INV-OLD"]


def test_no_reminder_without_a_connection(connected, merchant):
    failed_write(merchant)
    connected.status = ConnectionStatus.DISCONNECTED
    connected.save()
    assert unsynced_reminders_send(now=NOW) == 0
    assert mail.outbox == []


def test_a_second_run_the_same_day_sends_nothing(connected, merchant):
    failed_write(merchant)
    assert unsynced_reminders_send(now=NOW) + unsynced_reminders_send(now=NOW) == 1


def test_another_add_on_registers_its_own_unsynced_records(connected, merchant):
    reminders.register(
        addon_key="other",
        unsynced=lambda m: [UnsyncedItem(kind="Invoice", label="X-1", reason="Refused")],
        interval_days=lambda m: 1,
    )
    try:
        assert [i.label for i in unsynced_items(merchant=merchant, addon_key="other")] == ["X-1"]
        assert unsynced_items(merchant=merchant, addon_key="nobody") == []
    finally:
        reminders.unregister(addon_key="other")


def test_the_daily_schedule_is_created_once_and_runs_the_task(connected, merchant):
    assert dict(schedules_ensure())["integrations-unsynced-reminders"] is True
    assert dict(schedules_ensure())["integrations-unsynced-reminders"] is False
    schedule = Schedule.objects.get(name="integrations-unsynced-reminders")
    assert schedule.func == "integrations.tasks.unsynced_reminders" and schedule.schedule_type == Schedule.CRON
    failed_write(merchant)
    assert unsynced_reminders() == 1


def test_the_add_on_page_lists_unsynced_records_and_links_the_queues(admin_client, connected, merchant):
    failed_write(merchant, "INV-0077", error_message="Tax rate must be valid.")
    html = admin_client.get(reverse("integrations:addon", args=["xero"])).content.decode()
    assert 'data-testid="unsynced"' in html
    assert "INV-0077" in html and "Tax rate must be valid." in html
    assert reverse("xero_sync:queue", args=["payments"]) in html
    assert reverse("xero_sync:queue", args=["outbound"]) in html


def test_the_schedules_command_is_idempotent():
    from django.core.management import call_command

    call_command("integration_schedules", stdout=open("/dev/null", "w"))  # noqa: SIM115
    call_command("integration_schedules", stdout=open("/dev/null", "w"))  # noqa: SIM115
    names = set(Schedule.objects.values_list("name", flat=True))
    assert {"integrations-unsynced-reminders", "integrations-interrupted-runs"} <= names
    assert Schedule.objects.filter(name__startswith="integrations-").count() == 2
