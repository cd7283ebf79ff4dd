"""Forms of the officers' and supervisors' screens of the risk module. They parse what was typed; the
services decide (a missing reason, a discrepancy without its corrected values, a photo that is not the
image it says), and ``service_errors_apply`` puts what they say next to the field it names."""

import re
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from declarations.choices import Lane
from risk.choices import AuditOutcome, FindingResult
from risk.services.control import CORRECTIONS
from tariff.forms import commodity_code_field, origin_field

# The correction fields of the finding form, per result that takes them (as in ``CORRECTIONS``; the
# supplementary quantities are left to the declaration's own re-assessment).
CORRECTION_FIELDS = {
    result: tuple(name for name in CORRECTIONS[result] if name != "quantities")
    for result in FindingResult.values
    if CORRECTIONS[result]
}
PHOTO_TYPES = "image/jpeg,image/png,image/webp"
# A service error's path that names an item: ``findings[2].invoice_price``, ``items[0].net_mass``.
_ITEM_PATH = re.compile(r"^(?P<kind>findings|items)\[(?P<index>\d+)\](?:\.(?P<field>\w+))?")


def _text_area(rows=3):
    return forms.Textarea(attrs={"rows": rows, "cols": 60})


def _decimal(label, *, decimal_places):
    return forms.DecimalField(
        label=label,
        required=False,
        min_value=Decimal(0),
        max_digits=18,
        decimal_places=decimal_places,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 12, "autocomplete": "off"}),
    )


def error_add(form, field: str | None, message) -> None:
    """``form.add_error`` that also works on an unbound form (a page shown again after another
    form's service call failed)."""
    if not hasattr(form, "cleaned_data"):
        form.cleaned_data = {}
    form.add_error(field if field in form.fields else None, message)


def service_errors_apply(form, errors, *, rename: dict | None = None) -> None:
    """Each ``FieldError`` of a service next to its field in ``form`` (``rename``: the service's
    field name -> the form's), or on top of it."""
    for error in errors:
        error_add(form, (rename or {}).get(error.field, error.field), error.message)


class ReportForm(forms.Form):
    """An optional report: accepting the documents, completing the examination."""

    report = forms.CharField(
        label=_("Report (optional)"), required=False, max_length=4000, widget=_text_area()
    )


class QueryForm(forms.Form):
    """The question to the declarant (the service requires it)."""

    question = forms.CharField(
        label=_("Question to the declarant"),
        required=False,
        max_length=4000,
        help_text=_("Required; the declarant sees it and answers on the portal."),
        widget=_text_area(),
    )


class FindingForm(forms.Form):
    """What the examination found on one item: the result, the corrected values of its kind of
    discrepancy, a note and a photo."""

    result = forms.ChoiceField(label=_("Result"), required=False)
    commodity_code = commodity_code_field(required=False)
    invoice_price = _decimal(_("Corrected item price"), decimal_places=4)
    net_mass = _decimal(_("Corrected net mass (kg)"), decimal_places=6)
    gross_mass = _decimal(_("Corrected gross mass (kg)"), decimal_places=6)
    packages_number = forms.IntegerField(
        label=_("Corrected number of packages"),
        required=False,
        min_value=0,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "size": 6, "autocomplete": "off"}),
    )
    origin = origin_field(required=False)
    note = forms.CharField(label=_("Note"), required=False, max_length=4000, widget=_text_area(2))
    photo = forms.FileField(
        label=_("Photo (JPEG, PNG or WebP)"),
        required=False,
        widget=forms.FileInput(attrs={"accept": PHOTO_TYPES}),
    )

    def __init__(self, *args, item, finding=None, **kwargs):
        self.item, self.finding = item, finding
        kwargs.setdefault("prefix", f"finding-{item.number}")
        if finding is not None and "initial" not in kwargs:
            kwargs["initial"] = {"result": finding.result, "note": finding.note, **finding.corrections}
        super().__init__(*args, **kwargs)
        self.fields["result"].choices = [("", _("Choose the result"))] + list(FindingResult.choices)
        self.fields["result"].error_messages["required"] = _("Choose the result.")
        self.fields["commodity_code"].label = _("Corrected commodity code")
        self.fields["origin"].label = _("Corrected country of origin")
        declared = {
            "commodity_code": item.commodity_code,
            "invoice_price": item.invoice_price,
            "net_mass": item.net_mass,
            "gross_mass": item.gross_mass,
            "packages_number": item.packages_number,
            "origin": item.origin_id,
        }
        for name, value in declared.items():
            self.fields[name].help_text = _("Declared: %(value)s") % {
                "value": "—" if value in (None, "") else value
            }
        self.fields["photo"].widget.attrs["data-item"] = str(item.number)

    def clean_commodity_code(self):
        return (self.cleaned_data.get("commodity_code") or "").strip()

    def clean_origin(self):
        return (self.cleaned_data.get("origin") or "").strip().upper()

    def correction_groups(self) -> list[dict]:
        """The correction fields grouped by the result that takes them, for the page."""
        return [
            {
                "result": result,
                "label": FindingResult(result).label,
                "fields": [self[name] for name in names],
            }
            for result, names in CORRECTION_FIELDS.items()
        ]

    def corrections(self) -> dict:
        """The corrected values of the chosen result, as text (what ``finding_record`` takes)."""
        corrections = {}
        for name in CORRECTION_FIELDS.get(self.cleaned_data.get("result") or "", ()):
            value = self.cleaned_data.get(name)
            if value in (None, ""):
                continue
            corrections[name] = value if isinstance(value, int) else str(value)
        return corrections


class ReassignForm(forms.Form):
    """A supervisor gives an open examination to another officer of its office, with the reason.
    ``officers``: the eligible officers, read once per office for the whole board."""

    officer = forms.ChoiceField(label=_("New officer"))
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=4000,
        help_text=_("Required; it is kept in the history."),
        widget=_text_area(2),
    )

    def __init__(self, *args, examination, officers, **kwargs):
        self.examination = examination
        kwargs.setdefault("prefix", f"reassign-{examination.pk}")
        super().__init__(*args, **kwargs)
        self.officers = {str(user.pk): user for user in officers}
        field = self.fields["officer"]
        field.choices = [("", _("Choose an officer"))] + [
            (pk, _officer_label(user)) for pk, user in self.officers.items()
        ]
        field.error_messages["invalid_choice"] = _("Choose an officer posted at this office.")
        field.error_messages["required"] = _("Choose an officer posted at this office.")

    def clean_officer(self):
        return self.officers[self.cleaned_data["officer"]]


def _officer_label(user) -> str:
    name = user.get_full_name() or user.username
    open_count = getattr(user, "open_count", None)
    if open_count is None:
        return name
    return _("%(name)s (%(count)s open)") % {"name": name, "count": open_count}


class LaneChangeForm(forms.Form):
    """A supervisor changes the declaration's lane, with the reason."""

    lane = forms.ChoiceField(label=_("New lane"), choices=[("", _("Choose a lane")), *Lane.choices])
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=4000,
        help_text=_("Required; it is kept in the history."),
        widget=_text_area(2),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "lane")
        super().__init__(*args, **kwargs)
        self.fields["lane"].error_messages["required"] = _("Choose a lane.")


class AuditOutcomeForm(forms.Form):
    """The outcome of a post-clearance audit (a discrepancy needs a note: the service says so)."""

    outcome = forms.ChoiceField(label=_("Outcome"), choices=AuditOutcome.choices, widget=forms.RadioSelect)
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=4000,
        help_text=_("Required for a discrepancy: say what was found."),
        widget=_text_area(),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["outcome"].error_messages["required"] = _("Choose the outcome.")


def item_error_target(path: str) -> tuple[int, str | None] | None:
    """The item number and field a service error names: ``findings[2].invoice_price`` (item numbers,
    from the risk services) or ``items[1].net_mass`` (item indexes from 0, from the declaration's
    re-assessment); ``None`` when it names no item."""
    match = _ITEM_PATH.match(path or "")
    if match is None:
        return None
    number = int(match.group("index")) + (1 if match.group("kind") == "items" else 0)
    name = match.group("field") or None
    return number, None if name == "corrections" else name
