"""Forms of the risk analysts' screens: a criterion with its conditions builder, the backtest period,
the random selection rates.

The forms only parse what was typed; the rules are the services' (``risk.services.criteria``,
``risk.services.backtest``). Fields the services check themselves (code, name, lane, dates) are optional
here, so that the service's own message is the one shown. ``attach_service_errors`` puts each
``FieldError`` of a refused write next to its field, or its row of the conditions.
"""

import datetime
import re
from decimal import Decimal, InvalidOperation

from django import forms
from django.forms import formset_factory
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from declarations.choices import Lane
from declarations.services.errors import DeclarationInvalid
from risk.choices import OPERATORS, TARGET_LANES, THRESHOLD_KINDS, ConditionKind, Operator
from risk.engine import ConditionError, conditions_parse
from risk.services.criteria import VersionData

ISO_DATE = "%Y-%m-%d"  # what <input type="date"> shows and sends, whatever the language
CONDITION_ROWS_EXTRA = 3
CONDITION_ROWS_MAX = 50
_CONDITION_PATH = re.compile(r"^conditions\[(\d+)\]\.(\w+)$")


def _date_field(label, **kwargs) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format=ISO_DATE),
        **kwargs,
    )


def lane_choices() -> list[tuple[str, str]]:
    return [(lane, Lane(lane).label) for lane in TARGET_LANES]


class CriterionForm(forms.Form):
    """The criterion and the version the analyst writes (a new criterion, or the next version)."""

    code = forms.CharField(
        label=_("Code"),
        required=False,
        max_length=16,
        help_text=_("Short and unique, such as VEH-01. It cannot be changed later."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "aria-required": "true"}),
    )
    name = forms.CharField(
        label=_("Name"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"aria-required": "true"}),
    )
    lane = forms.ChoiceField(
        label=_("Target lane"),
        required=False,
        help_text=_("Red: physical examination. Yellow: documentary check. Blue: audit after release."),
        widget=forms.Select(attrs={"aria-required": "true"}),
    )
    valid_from = _date_field(_("Valid from"))
    valid_to = _date_field(_("Valid to"), help_text=_("Leave empty: no end."))
    offices = forms.MultipleChoiceField(
        label=_("Offices"),
        required=False,
        help_text=_("Where it applies; none chosen: every office. Hold Ctrl to choose several."),
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    officer_note = forms.CharField(
        label=_("Note for the officer"),
        required=False,
        max_length=4000,
        help_text=_("Shown to the officer who examines a declaration it hit."),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )
    internal_note = forms.CharField(
        label=_("Internal note"),
        required=False,
        max_length=4000,
        help_text=_("For the analysts only; never shown to the trader."),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )

    def __init__(self, *args, offices=(), editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lane"].choices = [("", _("Choose the lane"))] + lane_choices()
        self.fields["offices"].choices = [(office.code, f"{office.code} {office.name}") for office in offices]
        if editing:
            self.fields["code"].disabled = True
            self.fields["code"].help_text = ""

    def version_data(self, conditions: list[dict]) -> VersionData:
        data = self.cleaned_data
        return VersionData(
            lane=data["lane"],
            conditions=conditions,
            valid_from=data["valid_from"],
            valid_to=data["valid_to"],
            offices=list(data["offices"]),
            officer_note=data["officer_note"],
            internal_note=data["internal_note"],
        )


def _values_split(kind: str, text: str) -> list[str]:
    """The typed values: one threshold as typed (``1,5`` is a number), else codes between commas."""
    text = (text or "").strip()
    if not text:
        return []
    if kind in THRESHOLD_KINDS:
        return [text]
    return [value.strip() for value in re.split(r"[,;\n]", text) if value.strip()]


class ConditionForm(forms.Form):
    """One row of the conditions builder: what is looked at, the comparison, the values."""

    kind = forms.ChoiceField(label=_("What"), required=False)
    operator = forms.ChoiceField(label=_("Comparison"), required=False)
    values = forms.CharField(
        label=_("Values"),
        required=False,
        max_length=2000,
        widget=forms.TextInput(attrs={"autocomplete": "off", "size": 24}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", "—")] + list(ConditionKind.choices)
        self.fields["operator"].choices = [("", "—")] + list(Operator.choices)

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {}) or {}
        return not (data.get("kind") or data.get("operator") or data.get("values", "").strip())

    def condition(self) -> dict:
        data = self.cleaned_data
        return {
            "kind": data["kind"],
            "operator": data["operator"],
            "values": _values_split(data["kind"], data["values"]),
        }


def condition_initial(condition: dict) -> dict:
    """A stored condition as the row shows it."""
    return {
        "kind": condition.get("kind", ""),
        "operator": condition.get("operator", ""),
        "values": ", ".join(condition.get("values") or []),
    }


class BaseConditionFormSet(forms.BaseFormSet):
    """The conditions builder: a few empty rows more than there are conditions, so that it works without
    JavaScript. Blank rows and rows ticked "Remove" are left out."""

    def rows(self) -> list[ConditionForm]:
        """The rows that make conditions, in order: their index is the service's ``conditions[i]``."""
        return [
            form
            for form in self.forms
            if hasattr(form, "cleaned_data") and not self._should_delete_form(form) and not form.is_blank()
        ]

    def conditions(self) -> list[dict]:
        return [form.condition() for form in self.rows()]

    def add_non_form_error(self, message) -> None:
        self.non_form_errors()  # makes sure the formset is cleaned and the list exists
        self._non_form_errors.append(message)

    def check_each_row(self) -> None:
        """Put the engine's verdict on every row that has no error yet: the service stops at the first
        bad condition, the analyst should see them all at once."""
        for form in self.rows():
            if form.errors:
                continue
            try:
                conditions_parse([form.condition()])
            except ConditionError as error:
                form.add_error(error.field_name if error.field_name in form.fields else None, error.message)


ConditionFormSet = formset_factory(
    ConditionForm,
    formset=BaseConditionFormSet,
    extra=CONDITION_ROWS_EXTRA,
    can_delete=True,
    max_num=CONDITION_ROWS_MAX,
    validate_max=True,
)


def operators_by_kind() -> dict[str, list[str]]:
    """The comparisons each kind admits (the builder's script greys out the others)."""
    return {str(kind): [str(operator) for operator in operators] for kind, operators in OPERATORS.items()}


def attach_service_errors(error: DeclarationInvalid, form: forms.Form, formset: BaseConditionFormSet) -> None:
    """Each ``FieldError`` next to its field: ``conditions[i].values`` on the field of the i-th condition
    row, ``lane``, ``valid_to``, ``offices``, ``code`` ... on the form, anything else on top of it."""
    rows = formset.rows()
    for field_error in error.errors:
        match = _CONDITION_PATH.match(field_error.field)
        if match:
            index, name = int(match.group(1)), match.group(2)
            if index < len(rows):
                row = rows[index]
                row.add_error(name if name in row.fields else None, field_error.message)
            else:  # "a criterion needs at least one condition": no row to put it on
                formset.add_non_form_error(field_error.message)
        elif field_error.field in form.fields and not form.fields[field_error.field].disabled:
            form.add_error(field_error.field, field_error.message)
        else:
            form.add_error(None, field_error.message)


class LiveForm(forms.Form):
    """Put a criterion live, or take it down."""

    live = forms.TypedChoiceField(choices=[("1", "1"), ("0", "0")], coerce=lambda value: value == "1")


class BacktestForm(forms.Form):
    """The period a backtest looks at (declarations registered from the first to the last day)."""

    date_from = _date_field(_("First day"))
    date_to = _date_field(_("Last day"))

    def __init__(self, *args, **kwargs):
        today = timezone.localdate()
        kwargs.setdefault("initial", {"date_from": today - datetime.timedelta(days=90), "date_to": today})
        kwargs.setdefault("prefix", "backtest")
        super().__init__(*args, **kwargs)


class RandomRatesForm(forms.Form):
    """The random selection rates: one percent field per office and target lane."""

    def __init__(self, *args, table, **kwargs):
        super().__init__(*args, **kwargs)
        self.table = table
        self.cells: list[tuple[str, object, str]] = []  # (field name, office, lane)
        for row in table:
            for lane, label in lane_choices():
                name = self.field_name(row.office.code, lane)
                current = row.rates[lane]
                self.fields[name] = forms.CharField(
                    label=_("%(office)s, %(lane)s lane (percent)")
                    % {"office": row.office.code, "lane": label},
                    required=False,
                    max_length=12,
                    initial="" if current is None else str(current),
                    widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 6, "autocomplete": "off"}),
                )
                self.cells.append((name, row.office, lane))

    @staticmethod
    def field_name(office_code: str, lane: str) -> str:
        return f"rate-{office_code}-{lane}"

    def rows(self):
        """The table as the template shows it: per office, the bound field of each lane."""
        return [
            (row.office, [self[self.field_name(row.office.code, lane)] for lane in TARGET_LANES])
            for row in self.table
        ]

    def changed_cells(self) -> list[tuple[str, object, str, str]]:
        """``(field name, office, lane, typed percent)`` of each cell whose figure changed. A decimal comma
        is read as a point; a cell emptied where a rate was set counts as changed (and is refused)."""
        changed = []
        for name, office, lane in self.cells:
            typed = self.cleaned_data.get(name, "").strip().replace(",", ".")
            initial = self.fields[name].initial
            if typed == initial:
                continue
            if typed and initial:
                try:
                    if Decimal(typed) == Decimal(initial):
                        continue
                except InvalidOperation:
                    pass
            changed.append((name, office, lane, typed))
        return changed
