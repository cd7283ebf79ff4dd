"""Officer-side pages of the kernel: the home page per role."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from customs.choices import Role
from customs.selectors import notification_list_for_user, office_list_for_user
from customs.services.notifications import notification_mark_read


@login_required
def home(request):
    """Send each user to the home of their side: the portal for brokers and traders, else the office."""
    if request.user.is_portal_user and not request.user.is_staff:
        return redirect("portal:home")
    return redirect("officer-home")


@login_required
def officer_home(request):
    """The officer-side home, with one panel per role the user holds."""
    user = request.user
    if user.is_portal_user and not user.is_staff:
        return redirect("portal:home")
    roles = [role for role in Role if user.has_role(role)]
    context = {
        "roles": roles,
        "role_values": {role.value for role in roles},
        "offices": office_list_for_user(user),
        "notifications": list(notification_list_for_user(user, unread_only=True, limit=20)),
    }
    return render(request, "customs/officer_home.html", context)


@login_required
@require_POST
def notification_read(request, pk: int):
    """Mark one of the user's notifications read (from the office home page)."""
    notification_mark_read(user=request.user, notification_id=pk)
    return redirect("officer-home")
