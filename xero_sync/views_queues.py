"""The Xero Sync Queues: Payment and Outbound, each with what is waiting or stuck and its history; admins may Retry
an item or Dequeue it (with a reason) when they fixed it another way."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from portal.permissions import admin_required, merchant_required
from xero_sync.addon import XERO
from xero_sync.models import WriteKind, XeroWrite
from xero_sync.queues import (
    QUEUES,
    Queue,
    queue_counts,
    queue_history,
    queue_waiting,
    write_hint,
    write_portal_url,
    write_problem,
)
from xero_sync.services.connection import connection_for


class DequeueForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        max_length=1000,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "e.g. Entered by hand in Xero on 3 Dec"}),
        error_messages={"required": "Say why you are dequeuing it (e.g. entered by hand in Xero)."},
    )


def _queue(key: str) -> Queue:
    queue = QUEUES.get(key)
    if queue is None:
        raise Http404
    return queue


def _row(write: XeroWrite) -> dict:
    return {"write": write, "url": write_portal_url(write), "problem": write_problem(write), "hint": write_hint(write)}


@merchant_required
def queue_page(request, queue: str):
    """/addons/xero/queues/<payments|outbound>/: the Sync Queue and History panels."""
    current = _queue(queue)
    merchant = request.merchant
    waiting = [_row(w) for w in queue_waiting(merchant=merchant, queue=current)]
    history = [_row(w) for w in queue_history(merchant=merchant, queue=current)]
    counts = queue_counts(merchant=merchant)
    return render(
        request,
        "xero_sync/queues.html",
        {
            "addon": XERO,
            "queue": current,
            "tabs": [{"queue": q, **counts[key]} for key, q in QUEUES.items()],
            "connection": connection_for(merchant),
            "waiting": waiting,
            "history": history,
            "dequeue_form": DequeueForm(),
        },
    )


def _write_for(request, queue: Queue, pk: int) -> XeroWrite:
    # Another merchant's row, or a row of the other queue, is a 404.
    return get_object_or_404(XeroWrite, pk=pk, merchant=request.merchant, kind__in=queue.kinds)


@require_POST
@admin_required
def queue_dequeue(request, queue: str, pk: int):
    from xero_sync.services.writes import write_dequeue

    current = _queue(queue)
    write = _write_for(request, current, pk)
    form = DequeueForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors["reason"][0])
    elif not write.is_open:
        messages.info(request, f"{write.get_kind_display()} {write.label} is no longer waiting.")
    else:
        write_dequeue(write=write, reason=form.cleaned_data["reason"], user=request.user)
        messages.success(request, f"{write.get_kind_display()} {write.label} dequeued. It is kept in History.")
    return redirect("xero_sync:queue", queue=current.key)


@require_POST
@admin_required
def queue_retry(request, queue: str, pk: int):
    from xero_sync.services.writes import write_retry

    current = _queue(queue)
    write = _write_for(request, current, pk)
    if write.state not in ("failed", "held"):
        messages.info(request, f"{write.get_kind_display()} {write.label} is already in line.")
    else:
        write_retry(write=write)
        transaction.on_commit(lambda: _write_back_start(write))
        messages.info(request, f"{write.get_kind_display()} {write.label} is back in line and will be sent again now.")
    return redirect("xero_sync:queue", queue=current.key)


def _write_back_start(write: XeroWrite) -> None:
    """Start the run that sends the row (fees have their own run), as Retry in the error log does."""
    from xero_sync import tasks

    connection = connection_for(write.merchant)
    if connection is None or not connection.is_connected:
        return
    if write.kind in (WriteKind.FEE_LINE, WriteKind.FEE_INVOICE):
        tasks.enqueue_fees(connection.pk)
    else:
        tasks.enqueue_push(write.merchant_id)
