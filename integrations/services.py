"""Installing and uninstalling add-ons for a merchant."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.module_loading import import_string

from integrations import registry
from integrations.models import Installation
from portal.models import Merchant, User


class InstallError(Exception):
    """Raised with a message a merchant can read."""


def installation_create(*, merchant: Merchant, addon_key: str, user: User | None) -> Installation:
    addon = registry.get(addon_key)
    if addon is None:
        raise InstallError("That add-on does not exist.")
    with transaction.atomic():
        # Lock the merchant so two concurrent installs in one exclusive category cannot both pass the check.
        Merchant.objects.select_for_update().get(pk=merchant.pk)
        existing = Installation.objects.filter(merchant=merchant, addon_key=addon_key).first()
        if existing:
            return existing
        if addon.category.exclusive:
            other = Installation.objects.filter(merchant=merchant, category=addon.category.key).first()
            if other:
                other_name = other.addon.name if other.addon else other.addon_key
                raise InstallError(
                    f"{other_name} is already installed. Only one {addon.category.name} add-on can be "
                    f"installed at a time: uninstall {other_name} first."
                )
        try:
            with transaction.atomic():
                return Installation.objects.create(
                    merchant=merchant,
                    addon_key=addon.key,
                    category=addon.category.key,
                    exclusive=addon.category.exclusive,
                    installed_by=user,
                )
        except IntegrityError as exc:
            raise InstallError(f"Only one {addon.category.name} add-on can be installed at a time.") from exc


def installation_delete(*, installation: Installation) -> None:
    """Uninstall: the add-on first lets go of the outside system (e.g. disconnects), then the row goes."""
    addon = registry.get(installation.addon_key)
    if addon is not None and addon.uninstall:
        import_string(addon.uninstall)(merchant=installation.merchant)
    Installation.objects.filter(pk=installation.pk).delete()
