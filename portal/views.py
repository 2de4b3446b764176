"""The portal's pages: dashboard, customers, invoices, payments, and switching merchant."""

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from portal import selectors
from portal.middleware import SESSION_KEY
from portal.models import Customer, CustomerStatus, Invoice, InvoiceStatus
from portal.permissions import merchant_required

PAGE_SIZE = 25


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


@merchant_required
def dashboard(request):
    figures = selectors.dashboard_figures(merchant=request.merchant)
    recent = selectors.invoice_list(merchant=request.merchant)[:8]
    return render(request, "portal/dashboard.html", {"figures": figures, "recent_invoices": recent})


@merchant_required
def customer_list(request):
    query = request.GET.get("q", "").strip()
    status = request.GET.get("status", "")
    if status not in CustomerStatus.values:
        status = ""
    page = _page(request, selectors.customer_list(merchant=request.merchant, query=query, status=status))
    return render(
        request,
        "portal/customer_list.html",
        {"page": page, "q": query, "status": status, "statuses": CustomerStatus.choices},
    )


@merchant_required
def customer_detail(request, pk: int):
    customer = get_object_or_404(Customer.objects.prefetch_related("types"), pk=pk, merchant=request.merchant)
    page = _page(request, selectors.invoice_list(merchant=request.merchant, customer_id=customer.pk))
    return render(request, "portal/customer_detail.html", {"customer": customer, "page": page})


@merchant_required
def invoice_list(request):
    status = request.GET.get("status", "")
    if status not in InvoiceStatus.values:
        status = ""
    number = request.GET.get("q", "").strip()
    customer = None
    customer_id = request.GET.get("customer", "")
    if customer_id:
        if not customer_id.isdigit():
            raise Http404
        customer = get_object_or_404(Customer, pk=customer_id, merchant=request.merchant)
    qs = selectors.invoice_list(
        merchant=request.merchant,
        status=status,
        customer_id=customer.pk if customer else None,
        number=number,
    )
    return render(
        request,
        "portal/invoice_list.html",
        {
            "page": _page(request, qs),
            "status": status,
            "statuses": InvoiceStatus.choices,
            "q": number,
            "customer": customer,
        },
    )


@merchant_required
def invoice_detail(request, pk: int):
    invoice = get_object_or_404(Invoice.objects.select_related("customer"), pk=pk, merchant=request.merchant)
    lines = invoice.lines.all()
    payments = invoice.payments.select_related("account")
    return render(
        request,
        "portal/invoice_detail.html",
        {"invoice": invoice, "lines": lines, "payments": payments},
    )


@merchant_required
def payment_list(request):
    page = _page(request, selectors.payment_list(merchant=request.merchant))
    return render(request, "portal/payment_list.html", {"page": page})


@require_POST
@merchant_required
def merchant_switch(request):
    wanted = request.POST.get("merchant", "")
    membership = next((m for m in request.memberships if str(m.merchant_id) == wanted), None)
    if membership is None:
        raise Http404
    request.session[SESSION_KEY] = membership.merchant_id
    # Back to the dashboard, not the page we came from: that page belongs to the other merchant.
    return redirect("portal:dashboard")
