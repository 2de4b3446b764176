"""Template context from the marketplace: the open sync error count shown as a badge in the navigation."""

from integrations.selectors import sync_errors_open_count


def sync_errors(request):
    return {"nav_open_errors": sync_errors_open_count(getattr(request, "merchant", None))}
