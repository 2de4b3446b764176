"""Template filters for showing quantities and prices without noise: 1 not 1.0000, 36.75 not 36.7500."""

from decimal import Decimal, InvalidOperation

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma

register = template.Library()


@register.filter
def trimmed(value, min_places: int = 0) -> str:
    """A decimal with trailing zeros dropped but at least `min_places` decimals, grouped by thousands."""
    if value in (None, ""):
        return ""
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return str(value)
    exponent = number.normalize().as_tuple().exponent
    places = max(int(min_places), -exponent if isinstance(exponent, int) and exponent < 0 else 0)
    return intcomma(f"{number:.{places}f}")
