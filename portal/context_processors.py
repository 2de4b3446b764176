"""Template context every portal page needs: the current merchant, the user's role, the nav badges."""


def portal(request):
    membership = getattr(request, "membership", None)
    return {
        "current_merchant": getattr(request, "merchant", None),
        "current_membership": membership,
        "is_merchant_admin": bool(membership and membership.is_admin),
        "user_memberships": getattr(request, "memberships", []),
    }
