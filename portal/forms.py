"""Portal forms."""

import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from customs.models import Currency, Incoterm
from tariff.engine import ABSURD_AMOUNT, AssessmentInput, ItemInput
from tariff.expressions import Unit
from tariff.forms import commodity_code_field, origin_field
from tariff.valuation import Cost, DeclaredCosts


def _money(label, required=True, help_text=""):
    return forms.DecimalField(
        label=label,
        required=required,
        min_value=0,
        max_value=ABSURD_AMOUNT,
        max_digits=18,
        decimal_places=4,
        help_text=help_text,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 14}),
    )


class SimulatorForm(forms.Form):
    """One item of a would-be import, for the public duty simulator."""

    commodity_code = commodity_code_field()
    origin = origin_field()
    preference_requested = forms.BooleanField(label=_("Ask for a preferential rate"), required=False)
    documents = forms.CharField(
        label=_("Documents attached"),
        required=False,
        help_text=_("Document type codes separated by spaces, e.g. ST1 for a certificate of origin."),
    )
    procedure_code = forms.RegexField(
        label=_("Procedure (CPC)"),
        regex=r"^[0-9]{4}$",
        initial="4000",
        widget=forms.TextInput(attrs={"size": 6}),
    )
    day = forms.DateField(
        label=_("Date"), initial=datetime.date.today, widget=forms.DateInput(attrs={"type": "date"})
    )
    invoice_amount = _money(_("Invoice amount"))
    invoice_currency = forms.ChoiceField(label=_("Invoice currency"))
    incoterm = forms.ChoiceField(label=_("Delivery terms (Incoterm)"))
    freight = _money(_("Freight to the border"), required=False)
    insurance = _money(_("Insurance"), required=False)
    gross_mass = _money(_("Gross mass (kg)"))
    net_mass = _money(_("Net mass (kg)"))
    litres = _money(_("Litres"), required=False)
    litres_pure_alcohol = _money(_("Litres of pure alcohol"), required=False)
    items = _money(_("Number of items (pieces)"), required=False)

    QUANTITY_FIELDS = {
        "litres": Unit.LITRE,
        "litres_pure_alcohol": Unit.LITRE_PURE_ALCOHOL,
        "items": Unit.ITEM,
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        currencies = Currency.objects.filter(active=True).order_by("code").values_list("code", flat=True)
        self.fields["invoice_currency"].choices = [(code, code) for code in currencies]
        self.fields["invoice_currency"].initial = "USD"
        self.fields["incoterm"].choices = [
            (term.code, str(term)) for term in Incoterm.objects.filter(active=True)
        ]
        self.fields["incoterm"].initial = "FOB"

    FIELDSETS = [
        (
            _("Goods"),
            ["commodity_code", "origin", "preference_requested", "documents", "procedure_code", "day"],
        ),
        (_("Price and costs"), ["invoice_amount", "invoice_currency", "incoterm", "freight", "insurance"]),
        (_("Masses and quantities"), ["gross_mass", "net_mass", "litres", "litres_pure_alcohol", "items"]),
    ]

    def fieldsets(self):
        """(legend, bound fields) in the order the page shows them."""
        return [(legend, [self[name] for name in names]) for legend, names in self.FIELDSETS]

    def clean(self):
        data = super().clean()
        if data.get("net_mass") is not None and data.get("gross_mass") is not None:
            if data["net_mass"] > data["gross_mass"]:
                self.add_error("net_mass", _("The net mass cannot exceed the gross mass."))
        return data

    def to_assessment_input(self) -> AssessmentInput:
        data = self.cleaned_data
        currency = data["invoice_currency"]
        costs = DeclaredCosts(
            freight=Cost(data["freight"], currency) if data.get("freight") else None,
            insurance=Cost(data["insurance"], currency) if data.get("insurance") else None,
        )
        quantities = {
            unit: data[name] for name, unit in self.QUANTITY_FIELDS.items() if data.get(name) is not None
        }
        item = ItemInput(
            commodity_code=data["commodity_code"].strip(),
            origin=data["origin"].strip().upper(),
            invoice_price=data["invoice_amount"],
            gross_mass=data["gross_mass"],
            net_mass=data["net_mass"],
            preference_requested=data["preference_requested"],
            documents=frozenset(code.upper() for code in data["documents"].split()),
            quantities=quantities,
        )
        return AssessmentInput(
            day=data["day"],
            direction="IM",
            procedure_code=data["procedure_code"],
            incoterm=data["incoterm"],
            invoice_currency=currency,
            items=[item],
            costs=costs,
        )

    # Engine field paths -> form fields, so an engine error shows next to the right input.
    ENGINE_FIELDS = {
        "items[0].commodity_code": "commodity_code",
        "items[0].origin": "origin",
        "items[0].invoice_price": "invoice_amount",
        "items[0].net_mass": "net_mass",
        "items[0].gross_mass": "gross_mass",
        "items[0].quantities": "items",
        "invoice_currency": "invoice_currency",
        "incoterm": "incoterm",
        "costs.freight": "freight",
        "costs.insurance": "insurance",
    }

    def add_engine_error(self, field_path: str, message: str) -> None:
        self.add_error(self.ENGINE_FIELDS.get(field_path), message)
