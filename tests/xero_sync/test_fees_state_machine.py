"""A state machine over the fee write-back against the sandbox: fee settings edited, days passing, runs (one at a
time or two at once), workers killed after Xero accepted, answers lost, 429s and duplicate webhooks — after every
step no invoice carries a fee twice, and once things settle every due fee is on its invoice exactly once."""

import datetime as dt
import itertools
import re
from collections import Counter
from decimal import Decimal
from unittest import mock

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from integrations.services import installation_create
from portal.fees import late_fees_due
from portal.models import FeeSettings, Invoice, InvoiceStatus
from tests.factories import MerchantFactory
from xero_sandbox import testing as sandbox
from xero_sandbox.models import IdempotencyRecord
from xero_sandbox.models import Invoice as XInvoice
from xero_sandbox.seed import seed_organisation
from xero_sync.limits import Limiter
from xero_sync.models import (
    ConnectionStatus,
    FeeKind,
    WriteKind,
    WriteState,
    XeroConnection,
    XeroRateState,
    XeroWebhookEvent,
    XeroWrite,
)
from xero_sync.services import fees as fee_services
from xero_sync.services import pull
from xero_sync.services.api import client_for
from xero_sync.services.fees import late_rule
from xero_sync.services.sync import sync_execute, sync_request

pytestmark = pytest.mark.django_db
MARKER = re.compile(r"\[LF(\d+)\]")
_orgs = itertools.count(1)


def no_sleep(_seconds):
    return None


class FeeMachine(RuleBasedStateMachine):
    app = None  # the sandbox app, set by the test

    def __init__(self):
        super().__init__()
        n = next(_orgs)
        self.org = seed_organisation(f"Machine Org {n}", contacts=6, invoices=20, seed=n)
        user = sandbox.sandbox_user(email=f"machine{n}@example.com", orgs={self.org: "standard"})
        tokens = sandbox.sandbox_token(self.org, app=self.app, user=user)
        merchant = MerchantFactory(name=f"Machine {n}")
        installation_create(merchant=merchant, addon_key="xero", user=None)
        self.connection = XeroConnection.objects.create(
            merchant=merchant,
            status=ConnectionStatus.CONNECTED,
            tenant_id=str(self.org.tenant_id),
            tenant_name=self.org.name,
            access_token=tokens["access_token"],
            refresh_token=tokens["refresh_token"],
            access_expires_at=timezone.now() + dt.timedelta(seconds=tokens["expires_in"]),
            scopes=tokens.get("scope", ""),
            connected_at=timezone.now(),
        )
        run = sync_request(connection=self.connection, enqueue=False)
        sync_execute(run_id=run.pk)
        self.settings = FeeSettings.objects.create(
            merchant=merchant, late_enabled=True, late_type="flat", late_value=Decimal("20"), late_max_times=2
        )
        due_dates = XInvoice.objects.filter(org=self.org).exclude(due_date=None).values_list("due_date", flat=True)
        self.today = max(due_dates) + dt.timedelta(days=31)

    def client(self):
        limiter = Limiter(self.connection.tenant_id, sleep=no_sleep, max_wait=0)
        return client_for(self.connection, sleep=no_sleep, limiter=limiter)

    def run_fees(self):
        return fee_services.fees_apply(connection=self.connection, client=self.client(), today=self.today)

    def time_passes(self):
        """Claims of dead workers, Xero's rate-limit block and its idempotency replay window run out."""
        IdempotencyRecord.objects.filter(org=self.org).delete()
        XeroWrite.objects.filter(merchant=self.connection.merchant).update(claimed_until=None, claimed_by="")
        XeroRateState.objects.all().delete()
        sandbox.fault_clear(self.org)

    # --- rules ------------------------------------------------------------------------------------------------

    @rule(value=st.sampled_from(["5", "20", "12.50"]), times=st.integers(1, 3), repeat=st.sampled_from([7, 30]))
    def edit_fee_settings(self, value, times, repeat):
        FeeSettings.objects.filter(pk=self.settings.pk).update(
            late_value=Decimal(value), late_max_times=times, late_repeat_days=repeat
        )

    @rule(policy=st.sampled_from(["separate_invoice", "queue"]))
    def edit_policy(self, policy):
        FeeSettings.objects.filter(pk=self.settings.pk).update(paid_invoice_policy=policy)

    @rule(days=st.sampled_from([1, 8, 31]))
    def days_pass(self, days):
        self.today += dt.timedelta(days=days)

    @rule()
    def run(self):
        self.time_passes()
        self.run_fees()

    @rule()
    def two_runs_at_once(self):
        """A second run starts while the first is between claiming and sending: it finds nothing to claim."""
        self.time_passes()
        real = fee_services.fees_send
        second = {}

        def first_send(**kwargs):
            if not second:
                second["outcome"] = fee_services.fees_apply(
                    connection=self.connection, client=self.client(), today=self.today
                )
            return real(**kwargs)

        with mock.patch.object(fee_services, "fees_send", first_send):
            self.run_fees()

    @rule()
    def worker_killed_after_xero_accepted(self):
        self.time_passes()
        real = pull.invoices_store

        def die(ctx, invoices):
            if invoices:
                raise KeyboardInterrupt("worker killed")
            return real(ctx, invoices)

        with mock.patch.object(pull, "invoices_store", die), pytest.raises(KeyboardInterrupt):
            self.run_fees()
            raise KeyboardInterrupt("nothing to send")  # the run had nothing to do: same outcome for the test

    @rule(count=st.integers(1, 6))
    def answers_lost(self, count):
        self.time_passes()
        sandbox.fault_set(self.org, "drop", count=count)
        self.run_fees()

    @rule()
    def rate_limited(self):
        self.time_passes()
        sandbox.fault_set(self.org, "rate_limit", count=1)
        self.run_fees()

    @rule()
    def duplicate_webhooks(self):
        ids = [str(i) for i in XInvoice.objects.filter(org=self.org).values_list("id", flat=True)[:5]]
        for resource_id in ids + ids:
            XeroWebhookEvent.objects.create(
                tenant_id=self.connection.tenant_id, category="INVOICE", event_type="UPDATE", resource_id=resource_id
            )
        run = sync_request(connection=self.connection, kind="webhook", enqueue=False)
        sync_execute(run_id=run.pk, client_kwargs={"sleep": no_sleep})

    @precondition(lambda self: True)
    @rule()
    def settle_and_check_every_due_fee_landed_once(self):
        for _ in range(3):  # bounded: faults cleared, each run finishes what the last left
            self.time_passes()
            self.run_fees()
        rows = XeroWrite.objects.filter(merchant=self.connection.merchant, fee_kind=FeeKind.LATE)
        assert not rows.filter(state__in=[WriteState.PENDING, WriteState.SENT]).exists()
        # Every fee due under today's settings is recorded: planning again finds nothing new.
        assert fee_services.late_fees_plan(connection=self.connection, today=self.today) == 0
        rule_now = late_rule(FeeSettings.objects.get(pk=self.settings.pk))
        for invoice in (
            Invoice.objects.filter(
                merchant=self.connection.merchant,
                type="ACCREC",
                status=InvoiceStatus.AUTHORISED,
                amount_due__gt=0,
                amount_paid=0,
            )
            .exclude(external_id=None)
            .exclude(number__regex=r"-LF\d+$")
        ):
            charged = {int(p): a for p, a in rows.filter(invoice=invoice).values_list("fee_period", "amount")}
            assert late_fees_due(
                rule=rule_now,
                due_date=invoice.due_date,
                today=self.today,
                amount_due=invoice.amount_due,
                charged=charged,
            ) == [] or invoice.number.endswith(("LF1", "LF2", "LF3"))
        for row in rows.filter(kind=WriteKind.FEE_LINE, state=WriteState.SYNCED).select_related("invoice"):
            xinv = XInvoice.objects.get(id=row.invoice.external_id)
            markers = [m for line in xinv.lines.all() for m in MARKER.findall(line.description)]
            assert markers.count(row.fee_period) == 1

    # --- after every step -------------------------------------------------------------------------------------

    @invariant()
    def no_fee_twice_on_any_invoice(self):
        for xinv in XInvoice.objects.filter(org=self.org).prefetch_related("lines"):
            markers = Counter(
                m for line in xinv.lines.all() if line.item_code == "LATE-FEE" for m in MARKER.findall(line.description)
            )
            assert all(count == 1 for count in markers.values()), (xinv.number, markers)
        numbers = Counter(
            XInvoice.objects.filter(org=self.org, number__regex=r"-LF\d+$").values_list("number", flat=True)
        )
        assert all(count == 1 for count in numbers.values())

    @invariant()
    def one_row_per_invoice_fee_and_period(self):
        keys = Counter(
            XeroWrite.objects.filter(merchant=self.connection.merchant, fee_kind=FeeKind.LATE).values_list(
                "invoice_id", "fee_period"
            )
        )
        assert all(count == 1 for count in keys.values())


def test_fees_land_exactly_once_whatever_happens(xero_wire):
    FeeMachine.app = xero_wire
    run_state_machine_as_test(
        FeeMachine,
        settings=settings(
            max_examples=10,
            stateful_step_count=10,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        ),
    )
