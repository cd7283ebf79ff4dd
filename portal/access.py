"""The gate of the portal's screens: signed in as a portal user (a trader's or a broker's)."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.translation import gettext as _


def portal_refused(request, message: str):
    """The page that refuses a portal screen, with the reason (403)."""
    return render(request, "portal/refused.html", {"message": message}, status=403)


def portal_user_required(view):
    """Signed in as a portal user (a trader's or a broker's); staff use the office screens."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not (request.user.trader_id or request.user.broker_id):
            return portal_refused(
                request,
                _("The portal screens are for traders and customs brokers. Staff use the office screens."),
            )
        return view(request, *args, **kwargs)

    return login_required(wrapper)
