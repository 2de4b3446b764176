"""Marketplace pages: browse and search add-ons, install, open an add-on's page, uninstall."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.module_loading import import_string
from django.views.decorators.http import require_POST

from integrations import registry
from integrations.models import Installation
from integrations.services import InstallError, installation_create, installation_delete
from portal.permissions import admin_required, merchant_required


def _addon_or_404(key: str) -> registry.AddOn:
    addon = registry.get(key)
    if addon is None:
        raise Http404
    return addon


@merchant_required
def marketplace(request):
    query = request.GET.get("q", "").strip()
    category = request.GET.get("category", "")
    installs = {i.addon_key: i for i in Installation.objects.filter(merchant=request.merchant)}
    sections = []
    for cat in registry.CATEGORIES:
        if category and cat.key != category:
            continue
        tiles = [{"addon": a, "installation": installs.get(a.key)} for a in registry.search(query, category=cat.key)]
        sections.append({"category": cat, "tiles": tiles})
    return render(
        request,
        "integrations/marketplace.html",
        {
            "sections": sections,
            "q": query,
            "category": category,
            "categories": registry.CATEGORIES,
            "has_results": any(s["tiles"] for s in sections),
        },
    )


@require_POST
@admin_required
def install(request, key: str):
    addon = _addon_or_404(key)
    try:
        installation_create(merchant=request.merchant, addon_key=addon.key, user=request.user)
    except InstallError as exc:
        messages.error(request, str(exc))
        return redirect("integrations:marketplace")
    messages.success(request, f"{addon.name} is installed.")
    return redirect("integrations:addon", key=addon.key)


@merchant_required
def addon_page(request, key: str):
    addon = _addon_or_404(key)
    if addon.page_view:
        return import_string(addon.page_view)(request, addon)
    installation = Installation.objects.filter(merchant=request.merchant, addon_key=addon.key).first()
    return render(request, "integrations/addon.html", {"addon": addon, "installation": installation})


@require_POST
@admin_required
def uninstall(request, key: str):
    addon = _addon_or_404(key)
    installation = Installation.objects.filter(merchant=request.merchant, addon_key=addon.key).first()
    if installation is None:
        messages.info(request, f"{addon.name} is not installed.")
    else:
        installation_delete(installation=installation)
        messages.success(request, f"{addon.name} was uninstalled.")
    return redirect("integrations:marketplace")
