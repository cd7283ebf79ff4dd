"""Form fields of the tariff's codes, for every form that asks for them (simulator, officer screens)."""

from django import forms
from django.utils.translation import gettext_lazy as _


def commodity_code_field(**extra) -> forms.RegexField:
    """The 10-digit national commodity code (spaces around it allowed)."""
    return forms.RegexField(
        label=_("Commodity code"),
        regex=r"^\s*[0-9]{10}\s*$",
        error_messages={"invalid": _("Enter the 10-digit national commodity code.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "size": 12, "autocomplete": "off"}),
        **extra,
    )


def origin_field(**extra) -> forms.RegexField:
    """A two-letter country of origin."""
    return forms.RegexField(
        label=_("Country of origin"),
        regex=r"^\s*[A-Za-z]{2}\s*$",
        error_messages={"invalid": _("Enter the two-letter country code, e.g. CN.")},
        widget=forms.TextInput(attrs={"size": 4}),
        **extra,
    )
