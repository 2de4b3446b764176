"""The add-on registry: which add-ons exist. An add-on only describes itself; an install is a row."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Category:
    key: str
    name: str
    exclusive: bool = False  # a merchant may install only one add-on of an exclusive category


ACCOUNTING = Category("accounting", "Accounting Software", exclusive=True)
CATEGORIES: tuple[Category, ...] = (ACCOUNTING,)


@dataclass(frozen=True)
class AddOn:
    key: str
    name: str
    category: Category
    summary: str
    logo: str  # static path
    keywords: tuple[str, ...] = field(default_factory=tuple)
    # Dotted path of the view that renders the add-on's page; the generic page when empty.
    page_view: str = ""
    # Dotted path of `f(*, merchant)` that lets go of the outside system before the install row is deleted.
    uninstall: str = ""

    def matches(self, query: str) -> bool:
        q = query.strip().lower()
        if not q:
            return True
        haystack = " ".join((self.key, self.name, self.summary, self.category.name, *self.keywords)).lower()
        return all(word in haystack for word in q.split())


_ADDONS: dict[str, AddOn] = {}


def register(addon: AddOn) -> None:
    if addon.category not in CATEGORIES:
        raise ValueError(f"Unknown category {addon.category.key!r} for add-on {addon.key!r}")
    _ADDONS[addon.key] = addon


def get(key: str) -> AddOn | None:
    return _ADDONS.get(key)


def all_addons() -> list[AddOn]:
    """Add-ons in registration order (the first registered is listed first)."""
    return list(_ADDONS.values())


def search(query: str = "", category: str = "") -> list[AddOn]:
    return [a for a in all_addons() if a.matches(query) and (not category or a.category.key == category)]
