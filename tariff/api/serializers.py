"""Serializers of the duty simulator: money and quantities travel as decimal strings."""

import datetime
from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from tariff.choices import FreightApportionment
from tariff.engine import ABSURD_AMOUNT, AssessmentInput, ItemInput
from tariff.expressions import Unit
from tariff.valuation import Cost, DeclaredCosts

MONEY = {"max_digits": 18, "decimal_places": 4, "min_value": Decimal(0), "max_value": ABSURD_AMOUNT}
QUANTITY = {"max_digits": 18, "decimal_places": 6, "min_value": Decimal(0), "max_value": ABSURD_AMOUNT}


def quantities_units_check(value: dict) -> dict:
    """``value`` (supplementary quantities by unit name) when every unit is known, else the error."""
    known = {unit.value for unit in Unit}
    unknown = sorted(set(value) - known)
    if unknown:
        raise serializers.ValidationError(
            _("Unknown unit(s): %(units)s. Use: %(known)s.")
            % {"units": ", ".join(unknown), "known": ", ".join(sorted(known))}
        )
    return value


class CostSerializer(serializers.Serializer):
    amount = serializers.DecimalField(**MONEY)
    currency = serializers.CharField(min_length=3, max_length=3)

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        return Cost(values["amount"], values["currency"].upper())


class ItemSerializer(serializers.Serializer):
    commodity_code = serializers.RegexField(
        r"^[0-9]{10}$", error_messages={"invalid": _("Enter the 10-digit national commodity code.")}
    )
    origin = serializers.CharField(
        min_length=2, max_length=2, help_text=_("ISO 3166 alpha-2 country of origin")
    )
    invoice_price = serializers.DecimalField(**MONEY)
    gross_mass = serializers.DecimalField(**QUANTITY, help_text=_("kg"))
    net_mass = serializers.DecimalField(**QUANTITY, help_text=_("kg"))
    preference_requested = serializers.BooleanField(default=False)
    documents = serializers.ListField(child=serializers.CharField(max_length=16), default=list)
    quantities = serializers.DictField(
        child=serializers.DecimalField(**QUANTITY),
        default=dict,
        help_text=_("Supplementary quantities by unit: l, lpa, item, pair, head, m, m2, m3, kwh"),
    )

    def validate_quantities(self, value):
        return {Unit(unit): quantity for unit, quantity in quantities_units_check(value).items()}


class SimulationSerializer(serializers.Serializer):
    day = serializers.DateField(default=datetime.date.today, help_text=_("Date of the tariff and rates"))
    direction = serializers.ChoiceField(choices=[("IM", _("Import")), ("EX", _("Export"))], default="IM")
    procedure_code = serializers.RegexField(r"^[0-9]{4}$", default="4000")
    incoterm = serializers.CharField(max_length=3)
    invoice_currency = serializers.CharField(min_length=3, max_length=3)
    freight = CostSerializer(required=False)
    insurance = CostSerializer(required=False)
    loading = CostSerializer(required=False)
    other = CostSerializer(required=False)
    beyond_border = CostSerializer(required=False)
    freight_split = serializers.ChoiceField(
        choices=FreightApportionment.choices, default=FreightApportionment.BY_PRICE
    )
    items = ItemSerializer(many=True, min_length=1, max_length=999)

    def to_assessment_input(self) -> AssessmentInput:
        data = self.validated_data
        return AssessmentInput(
            day=data["day"],
            direction=data["direction"],
            procedure_code=data["procedure_code"],
            incoterm=data["incoterm"].upper(),
            invoice_currency=data["invoice_currency"].upper(),
            items=[
                ItemInput(
                    commodity_code=item["commodity_code"],
                    origin=item["origin"].upper(),
                    invoice_price=item["invoice_price"],
                    gross_mass=item["gross_mass"],
                    net_mass=item["net_mass"],
                    preference_requested=item["preference_requested"],
                    documents=frozenset(code.upper() for code in item["documents"]),
                    quantities=item["quantities"],
                )
                for item in data["items"]
            ],
            costs=DeclaredCosts(
                **{
                    name: data[name]
                    for name in ("freight", "insurance", "loading", "other", "beyond_border")
                    if name in data
                }
            ),
            freight_split=data["freight_split"],
        )


class TaxLineSerializer(serializers.Serializer):
    measure_type = serializers.CharField()
    label = serializers.CharField()
    base = serializers.DecimalField(max_digits=20, decimal_places=2)
    expression = serializers.CharField()
    formula = serializers.CharField()
    unrounded = serializers.DecimalField(max_digits=24, decimal_places=6)
    amount = serializers.DecimalField(max_digits=20, decimal_places=2)
    note = serializers.CharField()


class ValuationStepSerializer(serializers.Serializer):
    label = serializers.CharField()
    amount = serializers.DecimalField(max_digits=20, decimal_places=2)
    detail = serializers.CharField()


class RestrictionSerializer(serializers.Serializer):
    kind = serializers.CharField()
    document_type = serializers.CharField()
    satisfied = serializers.BooleanField()
    description = serializers.CharField()


class ItemAssessmentSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    commodity_code = serializers.CharField()
    description = serializers.CharField()
    origin = serializers.CharField()
    customs_value = serializers.DecimalField(max_digits=20, decimal_places=2)
    valuation = ValuationStepSerializer(source="valuation.steps", many=True)
    taxes = TaxLineSerializer(many=True)
    total = serializers.DecimalField(max_digits=20, decimal_places=2)
    restrictions = RestrictionSerializer(many=True)
    warnings = serializers.ListField(child=serializers.CharField())


class AssessmentSerializer(serializers.Serializer):
    day = serializers.DateField()
    national_currency = serializers.CharField()
    rates = serializers.DictField(child=serializers.DecimalField(max_digits=24, decimal_places=10))
    customs_value = serializers.DecimalField(max_digits=20, decimal_places=2)
    items = ItemAssessmentSerializer(many=True)
    fees = TaxLineSerializer(many=True)
    totals = serializers.DictField(child=serializers.DecimalField(max_digits=20, decimal_places=2))
    total = serializers.DecimalField(max_digits=20, decimal_places=2)
