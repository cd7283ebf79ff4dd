"""Forms of the officer screens: the finder, the actions on a declaration, the re-assessment per item."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from declarations.choices import OFFICER_VISIBLE_STATES, Lane, Status
from declarations.selectors import FinderQuery
from tariff.forms import commodity_code_field, origin_field


def _date_input():
    """A browser date picker. Its value is always ISO (``2026-11-27``), whatever the language: a date
    formatted for Russian or Turkmen (``27.11.2026``) would be thrown away by the browser."""
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class FinderForm(forms.Form):
    """The finder's filters (a GET form; every field optional)."""

    number = forms.CharField(
        label=_("Declaration number"),
        required=False,
        max_length=40,
        help_text=_("The full number (TMA01 2026 C 10452) or only its last part (10452)."),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    lrn = forms.CharField(label=_("LRN"), required=False, max_length=35)
    trader = forms.CharField(
        label=_("Trader"),
        required=False,
        max_length=255,
        help_text=_("Taxpayer ID or the start of the name."),
    )
    declarant = forms.CharField(
        label=_("Declarant"),
        required=False,
        max_length=255,
        help_text=_("Broker licence, taxpayer ID, or the start of the name."),
    )
    office = forms.ChoiceField(label=_("Office"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False)
    lane = forms.ChoiceField(label=_("Lane"), required=False)
    date_from = forms.DateField(label=_("Created from"), required=False, widget=_date_input())
    date_to = forms.DateField(label=_("Created until"), required=False, widget=_date_input())

    def __init__(self, *args, offices=(), **kwargs):
        super().__init__(*args, **kwargs)
        any_choice = [("", _("Any"))]
        self.fields["office"].choices = any_choice + [
            (office.code, f"{office.code} {office.name}") for office in offices
        ]
        self.fields["status"].choices = any_choice + [
            (value, label) for value, label in Status.choices if value in OFFICER_VISIBLE_STATES
        ]
        self.fields["lane"].choices = any_choice + list(Lane.choices)

    def clean(self):
        cleaned = super().clean()
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_from > date_to:
            self.add_error("date_to", _("The end of the period is before its start."))
        return cleaned

    def to_query(self) -> FinderQuery:
        data = self.cleaned_data
        return FinderQuery(
            number=data["number"],
            lrn=data["lrn"],
            trader=data["trader"],
            declarant=data["declarant"],
            office=data["office"],
            status=data["status"],
            lane=data["lane"],
            date_from=data["date_from"],
            date_to=data["date_to"],
        )


class ActionForm(forms.Form):
    """One move on a declaration: the reason (where the law needs one) and the version the officer saw."""

    version = forms.IntegerField(
        widget=forms.HiddenInput,
        min_value=1,
        error_messages={
            "required": _("The page is out of date. Reload it and try again."),
            "invalid": _("The page is out of date. Reload it and try again."),
        },
    )
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )

    def __init__(self, *args, transition, **kwargs):
        kwargs.setdefault("auto_id", f"id_{transition.name}_%s")
        super().__init__(*args, **kwargs)
        self.transition = transition
        self.fields["reason"].required = transition.reason_required
        if transition.reason_required:
            self.fields["reason"].error_messages["required"] = _(
                "Give the reason; it is kept in the history."
            )
            self.fields["reason"].help_text = _(
                "Required; it is kept in the history and shown to the declarant."
            )
        else:
            self.fields["reason"].label = _("Note (optional)")


def _as_decimal(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return None


def _decimal(label, *, decimal_places):
    return forms.DecimalField(
        label=label,
        required=False,
        min_value=Decimal(0),
        max_digits=18,
        decimal_places=decimal_places,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 12}),
    )


class ReassessGeneralForm(forms.Form):
    """The general figures an officer may correct with the items (the invoice total follows the prices)."""

    invoice_amount = forms.DecimalField(
        label=_("Invoice amount"),
        min_value=Decimal(0),
        max_digits=18,
        decimal_places=4,
        help_text=_("The sum of the item prices; correct it with them."),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 14}),
    )

    def __init__(self, *args, declaration, **kwargs):
        kwargs.setdefault("prefix", "general")
        kwargs.setdefault("initial", {"invoice_amount": declaration.invoice_amount})
        super().__init__(*args, **kwargs)

    def changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.changed_data}


class ReassessItemForm(forms.Form):
    """The corrections an officer may make to one item before re-assessing it."""

    commodity_code = commodity_code_field()
    origin = origin_field()
    invoice_price = _decimal(_("Item price"), decimal_places=4)
    net_mass = _decimal(_("Net mass (kg)"), decimal_places=6)
    gross_mass = _decimal(_("Gross mass (kg)"), decimal_places=6)
    quantity_item = _decimal(_("Supplementary quantity (items)"), decimal_places=6)

    def __init__(self, *args, item, **kwargs):
        self.item = item
        kwargs.setdefault("prefix", f"item-{item.number}")
        kwargs.setdefault(
            "initial",
            {
                "commodity_code": item.commodity_code,
                "origin": item.origin_id or "",
                "invoice_price": item.invoice_price,
                "net_mass": item.net_mass,
                "gross_mass": item.gross_mass,
                # Kept as text in JSON; a Decimal, so that an unchanged figure is not seen as changed.
                "quantity_item": _as_decimal((item.quantities or {}).get("item")),
            },
        )
        super().__init__(*args, **kwargs)

    def clean_commodity_code(self):
        return self.cleaned_data["commodity_code"].strip()

    def clean_origin(self):
        return self.cleaned_data["origin"].strip().upper()

    def changes(self) -> dict:
        """The fields the officer changed, in the shape of ``declaration_reassess``'s ``item_changes``."""
        row = {}
        for name in self.changed_data:
            value = self.cleaned_data[name]
            if name == "quantity_item":
                quantities = dict(self.item.quantities or {})
                if value is None:
                    quantities.pop("item", None)
                else:
                    quantities["item"] = value
                row["quantities"] = quantities
            else:
                row[name] = value
        return row


class TimeReleaseForm(forms.Form):
    """The period of the Time Release Study (released between the two dates)."""

    date_from = forms.DateField(label=_("Released from"), widget=_date_input())
    date_to = forms.DateField(label=_("Released until"), widget=_date_input())

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("date_from") and cleaned.get("date_to") and cleaned["date_to"] < cleaned["date_from"]:
            self.add_error("date_to", _("The end of the period is before its start."))
        return cleaned


class ReleaseCheckForm(forms.Form):
    """The text of a release order's QR code, scanned (a scanner types it) or typed at the gate."""

    token = forms.CharField(
        label=_("Text of the QR code"),
        max_length=300,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off", "spellcheck": "false"}),
        help_text=_("Scan the QR code of the release order, or type the line printed under it."),
    )
