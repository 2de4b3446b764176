"""Pages for fees, customers and invoices made in the portal, payments, and customers waiting to be matched to
Xero contacts."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from portal import billing
from portal.billing_forms import CustomerForm, FeeSettingsForm, InvoiceForm, ItemForm, LineFormSet, PaymentForm
from portal.models import Customer, FeeSettings, Invoice, InvoiceLine
from portal.permissions import admin_required, merchant_required


def _connection(merchant):
    from xero_sync.models import XeroConnection

    connection = XeroConnection.objects.filter(merchant=merchant).first()
    return connection if connection is not None and connection.is_connected else None


# --- fees -----------------------------------------------------------------------------------------------------


@merchant_required
def fees(request):
    settings, _ = FeeSettings.objects.get_or_create(merchant=request.merchant)
    if request.method == "POST":
        if not request.membership.is_admin:
            messages.error(request, "Only the merchant's admins can change fees.")
            return redirect("portal:fees")
        form = FeeSettingsForm(request.POST, instance=settings, merchant=request.merchant)
        if form.is_valid():
            form.save()
            messages.success(request, "Fee settings saved.")
            return redirect("portal:fees")
    else:
        form = FeeSettingsForm(instance=settings, merchant=request.merchant)
    from xero_sync.models import FeeKind, XeroWrite

    recent = (
        XeroWrite.objects.filter(merchant=request.merchant)
        .exclude(fee_kind=FeeKind.NONE)
        .select_related("invoice")[:20]
    )
    return render(
        request,
        "portal/fees.html",
        {"form": form, "connection": _connection(request.merchant), "recent_fees": recent},
        status=400 if form.errors else 200,
    )


@require_POST
@admin_required
def fees_apply_now(request):
    connection = _connection(request.merchant)
    if connection is None:
        messages.error(request, "Connect to Xero first: fees are added to the invoices in Xero.")
        return redirect("portal:fees")
    from xero_sync.tasks import enqueue_fees

    enqueue_fees(connection.pk)
    messages.info(request, "Applying due fees now. They appear on the invoices in a moment.")
    return redirect("portal:fees")


# --- customers and invoices -----------------------------------------------------------------------------------


@merchant_required
def customer_new(request):
    form = CustomerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        customer = billing.customer_create(merchant=request.merchant, **form.cleaned_data)
        messages.success(request, f"Customer “{customer.name}” created.")
        return redirect("portal:customer", pk=customer.pk)
    return render(request, "portal/customer_form.html", {"form": form}, status=400 if form.errors else 200)


@merchant_required
def item_new(request):
    form = ItemForm(request.POST or None, merchant=request.merchant)
    if request.method == "POST" and form.is_valid():
        item = billing.item_create(merchant=request.merchant, **form.cleaned_data)
        messages.success(request, f"Item {item.code} created: pick it on an invoice line.")
        return redirect("portal:invoice_new")
    return render(request, "portal/item_form.html", {"form": form}, status=400 if form.errors else 200)


def _line_inputs(formset) -> list[billing.LineInput]:
    return [
        billing.LineInput(
            description=f.cleaned_data["description"],
            quantity=f.cleaned_data["quantity"],
            unit_amount=f.cleaned_data["unit_amount"],
            item=f.cleaned_data.get("item"),
            tax_rate=f.cleaned_data.get("tax_rate"),
        )
        for f in formset.forms
        if f.cleaned_data and not f.is_blank
    ]


def _invoice_form(request, invoice: Invoice | None):
    merchant = request.merchant
    initial, lines = {}, []
    if invoice is not None:
        initial = {
            "customer": invoice.customer_id,
            "date": invoice.date,
            "due_date": invoice.due_date,
            "reference": invoice.reference,
        }
        lines = [
            {
                "description": line.description,
                "item": line.item_id,
                "quantity": line.quantity,
                "unit_amount": line.unit_amount,
            }
            for line in InvoiceLine.objects.filter(invoice=invoice)
        ]
    data = request.POST if request.method == "POST" else None
    form = InvoiceForm(data, initial=initial, merchant=merchant)
    formset = LineFormSet(data, initial=lines or None, prefix="lines", form_kwargs={"merchant": merchant})
    return form, formset


@merchant_required
def invoice_new(request):
    form, formset = _invoice_form(request, None)
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        lines = _line_inputs(formset)
        if not lines:
            messages.error(request, "Add at least one line.")
        else:
            invoice = billing.invoice_create(
                merchant=request.merchant,
                customer=form.cleaned_data["customer"],
                date=form.cleaned_data["date"],
                due_date=form.cleaned_data["due_date"],
                reference=form.cleaned_data["reference"],
                lines=lines,
            )
            messages.success(request, f"Invoice {invoice.number} created.")
            return redirect("portal:invoice", pk=invoice.pk)
    return render(
        request,
        "portal/invoice_form.html",
        {"form": form, "formset": formset, "invoice": None},
        status=400 if request.method == "POST" else 200,
    )


@merchant_required
def invoice_edit(request, pk: int):
    invoice = get_object_or_404(Invoice, pk=pk, merchant=request.merchant)
    editable, reason = billing.invoice_editable(invoice)
    if not editable:
        messages.error(request, reason)
        return redirect("portal:invoice", pk=invoice.pk)
    form, formset = _invoice_form(request, invoice)
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        lines = _line_inputs(formset)
        try:
            billing.invoice_update(
                invoice=invoice,
                customer=form.cleaned_data["customer"],
                date=form.cleaned_data["date"],
                due_date=form.cleaned_data["due_date"],
                reference=form.cleaned_data["reference"],
                lines=lines,
            )
        except billing.InvoiceLocked as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Invoice {invoice.number} saved.")
            return redirect("portal:invoice", pk=invoice.pk)
    return render(
        request,
        "portal/invoice_form.html",
        {"form": form, "formset": formset, "invoice": invoice},
        status=400 if request.method == "POST" else 200,
    )


# --- payments -------------------------------------------------------------------------------------------------


@merchant_required
def payment_new(request, pk: int):
    """Record payment (and Mark paid: the same form with the amount due filled in)."""
    from xero_sync.services.payments import PaymentRefused, payment_quote, payment_record

    invoice = get_object_or_404(Invoice, pk=pk, merchant=request.merchant)
    form = PaymentForm(request.POST or None, initial={"amount": invoice.amount_due})
    if request.method == "POST" and form.is_valid():
        try:
            payment = payment_record(invoice=invoice, **form.cleaned_data)
        except PaymentRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Payment of {payment.amount} recorded.")
            return redirect("portal:invoice", pk=invoice.pk)
    quote = payment_quote(invoice=invoice, method="card")
    return render(
        request,
        "portal/payment_form.html",
        {
            "form": form,
            "invoice": invoice,
            "card_fee": quote.technology_fee,
            "connection": _connection(request.merchant),
        },
        status=400 if form.errors else 200,
    )


# --- customers waiting for a match ----------------------------------------------------------------------------


@merchant_required
def unmatched(request):
    from xero_sync.models import WriteKind, WriteState, XeroWrite

    rows = list(
        XeroWrite.objects.filter(
            merchant=request.merchant, kind=WriteKind.CONTACT, state=WriteState.HELD
        ).select_related("customer")
    )
    ids = {pk for row in rows for pk in row.detail.get("candidates", [])}
    candidates = Customer.objects.in_bulk(list(ids))
    for row in rows:
        row.candidate_list = [candidates[pk] for pk in row.detail.get("candidates", []) if pk in candidates]
    return render(request, "portal/unmatched.html", {"rows": rows})


@require_POST
@admin_required
def unmatched_resolve(request, pk: int):
    from xero_sync.models import WriteKind, WriteState, XeroWrite
    from xero_sync.services.push import customer_create_anyway, customer_link, push_enqueue

    row = get_object_or_404(XeroWrite, pk=pk, merchant=request.merchant, kind=WriteKind.CONTACT, state=WriteState.HELD)
    if request.POST.get("action") == "create":
        customer_create_anyway(write=row)
        push_enqueue(merchant=request.merchant)
        messages.success(request, f"“{row.label}” will be created as a new Xero contact.")
    else:
        contact = get_object_or_404(
            Customer, pk=request.POST.get("contact") or 0, merchant=request.merchant, external_id__isnull=False
        )
        customer_link(write=row, contact=contact)
        push_enqueue(merchant=request.merchant)
        messages.success(request, f"“{row.label}” linked to the Xero contact “{contact.name}”.")
    return redirect("portal:unmatched")
