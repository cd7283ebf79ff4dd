"""Forms of the transit officer screens: the finder, the MRN entry of the border post and the destination,
and the moves on a movement (release, cancel, border passage, arrival with its control, discharge)."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from transit.choices import MovementStatus
from transit.mrn import MRN_LENGTH, mrn_check_character, mrn_normalise, mrn_valid
from transit.selectors import MovementQuery

_OFFICE_CODE = re.compile(r"^[A-Z0-9]{2,8}$")
REASON_MAX = 4000


def _date_input():
    """A browser date picker; its value is always ISO (``2026-11-27``), whatever the language."""
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def mrn_clean(text: str) -> str:
    """``text`` as an MRN (upper case, no spaces), or ``ValidationError`` saying what is wrong with it:
    its shape, or its check character (the last one), which catches a mistyped character."""
    mrn = mrn_normalise(text or "")
    try:
        mrn_check_character(mrn[:17])
        well_formed = len(mrn) == MRN_LENGTH and mrn[17].isdigit()
    except ValueError:
        well_formed = False
    if not well_formed:
        raise forms.ValidationError(
            _(
                "This is not an MRN: an MRN has 18 characters, two digits of the year, two letters of "
                "the country, 13 letters or digits and a check digit (for example 26TMTMA010000014J9)."
            ),
            code="malformed",
        )
    if not mrn_valid(mrn):
        raise forms.ValidationError(
            _(
                "The check character (the last one) does not match the rest of the MRN: a character is "
                "mistyped, or the document is not genuine. Type it again or scan the barcode."
            ),
            code="check_character",
        )
    return mrn


class MrnEntryForm(forms.Form):
    """The MRN, scanned from the barcode of the transit accompanying document (the scanner types it and
    presses Enter) or typed from it."""

    mrn = forms.CharField(
        label=_("MRN"),
        max_length=40,
        help_text=_("Scan the barcode of the transit accompanying document, or type the MRN printed on it."),
        error_messages={"required": _("Scan or type the MRN.")},
        widget=forms.TextInput(
            attrs={
                "autofocus": True,
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "size": 24,
            }
        ),
    )

    def clean_mrn(self):
        return mrn_clean(self.cleaned_data["mrn"])


class MovementFinderForm(forms.Form):
    """The finder's filters (a GET form; every field optional)."""

    mrn = forms.CharField(
        label=_("MRN"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off", "spellcheck": "false"}),
    )
    office = forms.CharField(
        label=_("Office"),
        required=False,
        max_length=8,
        help_text=_("Code of the office of departure, of transit or of destination (TMT01)."),
    )
    principal = forms.CharField(
        label=_("Principal"),
        required=False,
        max_length=255,
        help_text=_("Taxpayer ID or a part of the name."),
    )
    plate = forms.CharField(label=_("Plate"), required=False, max_length=35)
    status = forms.ChoiceField(label=_("Status"), required=False)
    date_from = forms.DateField(label=_("Registered from"), required=False, widget=_date_input())
    date_to = forms.DateField(label=_("Registered until"), required=False, widget=_date_input())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("Any")), *MovementStatus.choices]

    def clean_mrn(self):
        text = self.cleaned_data["mrn"]
        return mrn_clean(text) if text.strip() else ""

    def clean_office(self):
        code = self.cleaned_data["office"].strip().upper()
        if code and not _OFFICE_CODE.match(code):
            raise forms.ValidationError(_("An office code has 2 to 8 letters or digits."), code="invalid")
        return code

    def clean(self):
        cleaned = super().clean()
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_from > date_to:
            self.add_error("date_to", _("The end of the period is before its start."))
        return cleaned

    def to_query(self) -> MovementQuery:
        data = self.cleaned_data
        return MovementQuery(
            office=data["office"],
            principal=data["principal"].strip(),
            plate=data["plate"].strip(),
            status=data["status"],
            mrn=data["mrn"],
            date_from=data["date_from"],
            date_to=data["date_to"],
        )


class ReleaseForm(forms.Form):
    """Release for transit: only the version the officer saw (refused if the movement changed since)."""

    version = forms.IntegerField(
        widget=forms.HiddenInput,
        min_value=1,
        error_messages={
            "required": _("The page is out of date. Reload it and try again."),
            "invalid": _("The page is out of date. Reload it and try again."),
        },
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_release_%s")
        super().__init__(*args, **kwargs)


class ReasonForm(forms.Form):
    """A move that needs a reason, kept in the history: the cancellation, the discharge at the end of an
    enquiry."""

    reason = forms.CharField(
        label=_("Reason"),
        max_length=REASON_MAX,
        help_text=_("Required; it is kept in the history."),
        error_messages={"required": _("Give the reason; it is kept in the history.")},
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )

    def __init__(self, *args, name: str, **kwargs):
        kwargs.setdefault("auto_id", f"id_{name}_%s")
        super().__init__(*args, **kwargs)
        self.name = name

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(self.fields["reason"].error_messages["required"], code="required")
        return reason


class Screen(forms.Form):
    """Which screen a move was made from, to go back to it (the border post, the destination) or to the
    movement's page."""

    screen = forms.ChoiceField(
        required=False,
        choices=[("", ""), ("border", "border"), ("destination", "destination")],
        widget=forms.HiddenInput,
    )


class PassageForm(Screen):
    """The border passage, at one of the officer's offices (the service checks that it is on the
    route)."""

    office = forms.CharField(
        label=_("Office of transit"),
        max_length=8,
        error_messages={"required": _("Choose the office where the goods pass.")},
    )

    def __init__(self, *args, offices=(), **kwargs):
        kwargs.setdefault("auto_id", "id_passage_%s")
        super().__init__(*args, **kwargs)
        self.offices = {office.code: office for office in offices}

    def clean_office(self):
        code = self.cleaned_data["office"].strip().upper()
        if code not in self.offices:
            raise forms.ValidationError(
                _("You are not posted at office %(office)s.") % {"office": code}, code="not_your_office"
            )
        return self.offices[code]


GOODS_CONFORM, GOODS_DISCREPANCIES = "conform", "discrepancies"
_SEAL_SEPARATORS = re.compile(r"[\s,;]+")


class ArrivalForm(Screen):
    """The arrival at the office of destination and its control.

    Seals: each seal declared at departure is ticked when the officer finds it intact; seals found that
    were not declared are typed. The seals are intact when every declared seal is ticked and no other
    seal is found. Goods: conform, or discrepancies. Anything not intact or not conform needs the
    discrepancies described (the movement then goes under enquiry, its guarantee kept).
    """

    seals_intact_found = forms.MultipleChoiceField(
        label=_("Seals found intact"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Tick each seal you found in place and unbroken."),
    )
    other_seals = forms.CharField(
        label=_("Other seals found"),
        required=False,
        max_length=1000,
        help_text=_(
            "Seals on the vehicle that the declaration does not list, separated by spaces or commas."
        ),
    )
    goods = forms.ChoiceField(
        label=_("Goods check"),
        choices=[
            (GOODS_CONFORM, _("The goods conform to the declaration")),
            (GOODS_DISCREPANCIES, _("Discrepancies found in the goods")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Say whether the goods conform to the declaration.")},
    )
    discrepancies = forms.CharField(
        label=_("Discrepancies"),
        required=False,
        max_length=REASON_MAX,
        help_text=_("Required when a seal is missing, broken or not declared, or the goods do not conform."),
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
    )

    def __init__(self, *args, seals=(), **kwargs):
        kwargs.setdefault("auto_id", "id_arrival_%s")
        super().__init__(*args, **kwargs)
        self.expected_seals = list(seals)
        self.fields["seals_intact_found"].choices = [(seal, seal) for seal in self.expected_seals]
        if not self.expected_seals:
            self.fields["seals_intact_found"].help_text = _("The declaration lists no seal.")

    def clean_other_seals(self):
        text = self.cleaned_data["other_seals"]
        seen, seals = set(self.expected_seals), []
        for seal in _SEAL_SEPARATORS.split(text.strip()):
            if seal and seal not in seen:
                seen.add(seal)
                seals.append(seal)
        return seals

    def clean(self):
        cleaned = super().clean()
        intact = cleaned.get("seals_intact_found") or []
        others = cleaned.get("other_seals") or []
        cleaned["seals_intact"] = set(intact) == set(self.expected_seals) and not others
        cleaned["seals_found"] = [seal for seal in self.expected_seals if seal in intact] + others
        cleaned["goods_conform"] = cleaned.get("goods") == GOODS_CONFORM
        cleaned["discrepancies"] = (cleaned.get("discrepancies") or "").strip()
        conform = cleaned["seals_intact"] and cleaned["goods_conform"]
        if "goods" in cleaned and not conform and not cleaned["discrepancies"]:
            self.add_error(
                "discrepancies",
                forms.ValidationError(
                    _("Describe the discrepancies: what is missing, broken or different."), code="required"
                ),
            )
        return cleaned
