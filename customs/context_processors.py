"""Template context shared by every page."""

from django.conf import settings


def kerwen(request):
    user = getattr(request, "user", None)
    return {
        "KERWEN_NATIONAL_CURRENCY": settings.NATIONAL_CURRENCY,
        "request_id": getattr(request, "request_id", ""),
        # Role names of the signed-in user, for the menus (``"officer" in user_roles``); lazy: a page
        # that shows no menu asks nothing.
        "user_roles": _LazyRoles(user),
    }


class _LazyRoles:
    def __init__(self, user):
        self.user = user

    def __contains__(self, role: str) -> bool:
        user = self.user
        if user is None or not user.is_authenticated:
            return False
        return user.is_superuser or user.has_role(role)
