"""Writes in the merchant's world: creating merchants and managing who belongs to them."""

from __future__ import annotations

from django.db import transaction
from django.utils.text import slugify

from portal.models import Membership, Merchant, Role, User


def _unique_slug(name: str) -> str:
    base = slugify(name)[:60] or "merchant"
    slug, n = base, 2
    while Merchant.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def merchant_create(*, name: str, admin: User, slug: str | None = None) -> Merchant:
    merchant = Merchant.objects.create(name=name, slug=slug or _unique_slug(name))
    Membership.objects.create(user=admin, merchant=merchant, role=Role.ADMIN)
    return merchant


def membership_add(*, merchant: Merchant, user: User, role: str = Role.MEMBER) -> Membership:
    membership, _ = Membership.objects.update_or_create(merchant=merchant, user=user, defaults={"role": role})
    return membership
