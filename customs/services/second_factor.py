"""Second-factor enrolment and verification (TOTP through django-otp)."""

from django.db import transaction
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from customs.models import User
from customs.services.audit import audit_record

TOTP_DEVICE_NAME = "authenticator"


class SecondFactorError(Exception):
    """A code was refused; the message is translated and safe to show."""


def totp_device_get_or_create_unconfirmed(*, user: User) -> TOTPDevice:
    """The user's pending authenticator enrolment, created if there is none."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def _check_token(device: TOTPDevice, token: str) -> None:
    allowed, details = device.verify_is_allowed()
    if not allowed:
        raise SecondFactorError(_("Too many wrong codes. Wait a moment and try again."))
    if not device.verify_token(token):
        raise SecondFactorError(_("That code is not valid. Check the time on your phone and try again."))


def totp_enrol_confirm(*, request, user: User, device: TOTPDevice, token: str) -> None:
    """Confirm a pending authenticator with its first code and mark the session as verified."""
    _check_token(device, token)
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user, confirmed=False).exclude(pk=device.pk).delete()
        audit_record(
            action="customs.user.second_factor_enrolled", actor=user, obj=user, after={"kind": "totp"}
        )
    otp_login(request, device)


def totp_verify(*, request, user: User, token: str) -> None:
    """Check a code against the user's confirmed authenticators and mark the session as verified."""
    devices = list(TOTPDevice.objects.filter(user=user, confirmed=True))
    if not devices:
        raise SecondFactorError(_("No authenticator is set up for this account."))
    last_error = None
    for device in devices:
        try:
            _check_token(device, token)
        except SecondFactorError as error:
            last_error = error
            continue
        otp_login(request, device)
        return
    raise last_error
