"""The public verify page (/verify/, no sign-in): is the token of a transit accompanying document's QR
code genuine?

Anyone holding the document (a border post without the offline command, a carrier, a consignee) pastes
the scanned token, or opens ``/verify/?token=...``. The page says "Authentic", with the data the customs
service signed (nothing else: the token is all it shows), or "Not authentic", with the reason. When the
token is authentic and its MRN is known here, the movement's live status is added: its label alone, no
other data of the movement.

The page writes nothing (no session, no database row) and reads at most one row, so that a proxy can
rate-limit it cheaply and a flood of forged tokens costs only their signature checks.
"""

import datetime
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qs, urlsplit

from django import forms
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from transit.choices import MovementStatus
from transit.models import TransitMovement
from transit.signing import TokenInvalid, token_invalid_message, token_verify

# A TAD token is about 400 characters; anything much longer is not one, and is not worth checking.
MAX_TOKEN_LENGTH = 2000


def token_from_text(text: str) -> str:
    """The token in what was pasted or scanned: the token itself (line breaks a scanner or a copy added
    removed), or the ``token`` parameter of a pasted verify-page address."""
    text = (text or "").strip()
    if "token=" in text:
        values = parse_qs(urlsplit(text).query).get("token")
        if values:
            text = values[0]
    return "".join(text.split())


class VerifyForm(forms.Form):
    """The text of the QR code of a transit accompanying document."""

    token = forms.CharField(
        label=_("Text of the QR code"),
        max_length=MAX_TOKEN_LENGTH,
        help_text=_("Scan the QR code of the transit accompanying document, or paste its text."),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "spellcheck": "false",
                "autocapitalize": "off",
                "size": 60,
            }
        ),
    )

    def clean_token(self):
        return token_from_text(self.cleaned_data["token"])


def _list(value) -> list[str]:
    return [str(element) for element in value] if isinstance(value, list) else []


def _mass(value):
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _date(value):
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        return None


def _issued_at(value):
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.datetime.fromtimestamp(value, tz=datetime.UTC)
    except (OverflowError, OSError, ValueError):
        return None


def signed_data(claims: dict) -> dict:
    """The signed claims of a token as the page shows them (the short claim names of
    ``transit.signing`` spelled out)."""
    return {
        "mrn": str(claims.get("mrn", "")),
        "departure_office": str(claims.get("dep", "")),
        "destination_office": str(claims.get("dst", "")),
        "transit_offices": _list(claims.get("trn")),
        "principal": str(claims.get("prn", "")),
        "plate": str(claims.get("pla", "")),
        "seals": _list(claims.get("sea")),
        "items": claims.get("itm"),
        "gross_mass": _mass(claims.get("gms")),
        "guarantee": str(claims.get("grn", "")),
        "time_limit": _date(claims.get("tlm")),
        "issued_at": _issued_at(claims.get("iat")),
    }


def live_status_label(mrn: str) -> str:
    """The label of the status of the movement ``mrn`` here, or '' when no movement has it."""
    if not mrn:
        return ""
    status = TransitMovement.objects.filter(mrn=mrn).values_list("status", flat=True).first()
    return str(MovementStatus(status).label) if status else ""


@require_safe
def verify(request):
    """Check a TAD token (``?token=``): authentic with the signed data and the live status, or not
    authentic with the reason."""
    form = VerifyForm(request.GET if "token" in request.GET else None)
    result = None
    if form.is_valid():
        try:
            claims = token_verify(form.cleaned_data["token"])
        except TokenInvalid as error:
            result = {"authentic": False, "reason": token_invalid_message(error)}
        else:
            data = signed_data(claims)
            result = {"authentic": True, "data": data, "live_status": live_status_label(data["mrn"])}
    response = render(request, "transit/public/verify.html", {"form": form, "result": result})
    # The answer depends on the live status: never cached. The token is in the address: not sent on.
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return response
