"""View decorators: every portal page needs a merchant; changes need the merchant's admin role."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import render


def merchant_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if request.merchant is None:
            return render(request, "portal/no_merchant.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper


def admin_required(view):
    @merchant_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.membership.is_admin:
            raise PermissionDenied("Only the merchant's admins can do this.")
        return view(request, *args, **kwargs)

    return wrapper
