"""Sign-in: password (with lockout), then TOTP or a passkey for staff; enrolment on first sign-in."""

import base64

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from customs.auth.forms import LoginForm, TokenForm
from customs.codes import qr_svg_base64
from customs.selectors import user_has_second_factor
from customs.services.second_factor import (
    SecondFactorError,
    totp_device_get_or_create_unconfirmed,
    totp_enrol_confirm,
    totp_verify,
)


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


def _next_url(request) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()}):
        return candidate
    return "/"


@login_required
def second_factor_verify(request):
    """Ask for the authenticator code (or a passkey) of a staff member who signed in with a password."""
    if request.user.is_verified():
        return redirect(_next_url(request))
    if not user_has_second_factor(request.user):
        return redirect("second-factor-setup")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            totp_verify(request=request, user=request.user, token=form.cleaned_data["token"])
            return redirect(_next_url(request))
        except SecondFactorError as error:
            form.add_error("token", str(error))
    return render(request, "registration/second_factor.html", {"form": form, "next": _next_url(request)})


@login_required
def second_factor_setup(request):
    """First sign-in of a staff member: scan the QR code, type the first code to confirm."""
    if request.user.is_verified() and request.method == "GET" and "again" not in request.GET:
        return render(request, "registration/second_factor_manage.html", {})
    if user_has_second_factor(request.user) and not request.user.is_verified():
        return redirect("second-factor")
    device = totp_device_get_or_create_unconfirmed(user=request.user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            totp_enrol_confirm(
                request=request, user=request.user, device=device, token=form.cleaned_data["token"]
            )
            messages.success(request, _("Your authenticator is set up. You can also add a passkey."))
            return redirect("second-factor-setup")
        except SecondFactorError as error:
            form.add_error("token", str(error))
    secret = base64.b32encode(device.bin_key).decode()
    context = {
        "form": form,
        "qr_svg_base64": qr_svg_base64(device.config_url),
        "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "next": _next_url(request),
    }
    return render(request, "registration/second_factor_setup.html", context)
