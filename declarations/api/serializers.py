"""Serializers of the declarations API. Money, masses and rates travel as decimal strings; codes as
strings. Input serializers check formats only; the services check the rest."""

import copy
import threading
from collections.abc import Mapping
from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.fields import SkipField, get_error_detail

from declarations.choices import DeclarationType, FreightSplit, ValuationMethod
from declarations.models import Declaration, DeclarationDocument, DeclarationItem, StatusChange, TaxLine
from tariff.api.serializers import quantities_units_check
from tariff.engine import ABSURD_AMOUNT

MONEY = {"max_digits": 18, "decimal_places": 4, "min_value": Decimal(0), "max_value": ABSURD_AMOUNT}
MASS = {"max_digits": 18, "decimal_places": 6, "min_value": Decimal(0), "max_value": ABSURD_AMOUNT}


def _code(max_length=16, **extra):
    return serializers.CharField(max_length=max_length, required=False, allow_blank=True, **extra)


def _money(**extra):
    return serializers.DecimalField(**MONEY, required=False, allow_null=True, **extra)


class FreshFieldsSerializer(serializers.Serializer):
    """A serializer that validates input through fields made once per class and thread.

    DRF makes and binds every declared field anew for each serializer instance: for a declaration
    that is some sixty fields, and sixteen more for the items, on every lodgement, about half of what
    validating the request costs. Here a full (not partial) validation runs the fields of a template
    instance kept per thread, with DRF's own loop of ``Serializer.to_internal_value``: the same values
    and the same errors. The template's fields know no request context, which these fields never
    read. Partial updates, the OpenAPI schema and everything else use the instance's own fields, made
    by calling each field's class again with its arguments (cheaper than DRF's deep copy); fields that
    hold another field or serializer (``child``, nested serializers) are deep-copied, so nothing bound
    is shared.
    """

    _templates = threading.local()

    def get_fields(self):
        fields = {}
        for name, field in self._declared_fields.items():
            if isinstance(field, serializers.BaseSerializer) or "child" in field._kwargs:
                fields[name] = copy.deepcopy(field)
            else:
                fields[name] = field.__class__(*field._args, **field._kwargs)
        return fields

    @classmethod
    def _template(cls):
        templates = cls._templates.__dict__
        template = templates.get(cls)
        if template is None:
            template = templates[cls] = cls()
            template.writable = [field for field in template.fields.values() if not field.read_only]
        return template

    def _full(self) -> bool:
        return not getattr(self.root, "partial", False)

    def _read_only_defaults(self):
        # DRF reads every field here, which would make them all; a full validation reads the template's.
        owner = self._template() if self._full() else self
        return super(FreshFieldsSerializer, owner)._read_only_defaults()

    def to_internal_value(self, data):
        if not self._full() or not isinstance(data, Mapping):
            return super().to_internal_value(data)
        values, errors = {}, {}
        for field in self._template().writable:
            check = getattr(self, f"validate_{field.field_name}", None)
            try:
                value = field.run_validation(field.get_value(data))
                if check is not None:
                    value = check(value)
            except ValidationError as error:
                errors[field.field_name] = error.detail
            except DjangoValidationError as error:
                errors[field.field_name] = get_error_detail(error)
            except SkipField:
                pass
            else:
                self.set_value(values, field.source_attrs, value)
        if errors:
            raise ValidationError(errors)
        return values


class DeclarationItemSerializer(FreshFieldsSerializer):
    """One item, as written and as read back (with its customs value once assessed)."""

    number = serializers.IntegerField(read_only=True)
    commodity_code = serializers.RegexField(
        r"^[0-9]{0,10}$",
        required=False,
        allow_blank=True,
        error_messages={"invalid": _("Enter the 10-digit national commodity code.")},
    )
    description = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    origin = _code(2)
    preference_requested = serializers.BooleanField(required=False, default=False)
    procedure_code = _code(4)
    additional_procedure_code = _code(16)
    packages_number = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=10**9)
    package_kind = _code(16)
    marks = serializers.CharField(required=False, allow_blank=True, max_length=255)
    gross_mass = serializers.DecimalField(**MASS, required=False, allow_null=True, help_text=_("kg"))
    net_mass = serializers.DecimalField(**MASS, required=False, allow_null=True, help_text=_("kg"))
    quantities = serializers.DictField(
        child=serializers.DecimalField(**MASS),
        required=False,
        default=dict,
        help_text=_("Supplementary quantities by unit: l, lpa, item, pair, head, m, m2, m3, kwh"),
    )
    invoice_price = _money()
    valuation_method = serializers.ChoiceField(
        choices=ValuationMethod.choices, required=False, default=ValuationMethod.TRANSACTION_VALUE
    )
    valuation_justification = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    customs_value = serializers.DecimalField(max_digits=18, decimal_places=2, read_only=True)

    def validate_quantities(self, value):
        return quantities_units_check(value)

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        for name in ("origin", "package_kind"):
            if values.get(name):
                values[name] = values[name].upper()
        return values

    def to_representation(self, item: DeclarationItem):
        return {
            "number": item.number,
            "commodity_code": item.commodity_code,
            "description": item.description,
            "origin": item.origin_id or "",
            "preference_requested": item.preference_requested,
            "procedure_code": item.procedure_code_id or "",
            "additional_procedure_code": item.additional_procedure_code_id or "",
            "packages_number": item.packages_number,
            "package_kind": item.package_kind_id or "",
            "marks": item.marks,
            "gross_mass": _decimal(item.gross_mass),
            "net_mass": _decimal(item.net_mass),
            "quantities": dict(item.quantities or {}),
            "invoice_price": _decimal(item.invoice_price),
            "valuation_method": item.valuation_method,
            "valuation_justification": item.valuation_justification,
            "customs_value": _decimal(item.customs_value),
        }


def _decimal(value):
    return None if value is None else str(value)


GENERAL_CODES = [
    "counterparty_country",
    "dispatch_country",
    "destination_country",
    "incoterm",
    "transport_mode",
    "transport_nationality",
    "invoice_currency",
    "freight_currency",
    "insurance_currency",
    "other_costs_currency",
    "deductions_currency",
]


class DeclarationTaxLineSerializer(serializers.ModelSerializer):
    base = serializers.DecimalField(max_digits=18, decimal_places=2)
    unrounded = serializers.DecimalField(max_digits=28, decimal_places=10)
    amount = serializers.DecimalField(max_digits=18, decimal_places=2)

    class Meta:
        model = TaxLine
        fields = [
            "item_number",
            "measure_type",
            "label",
            "base",
            "expression",
            "formula",
            "unrounded",
            "amount",
            "note",
        ]


class DeclarationDocumentSerializer(serializers.ModelSerializer):
    document_type = serializers.CharField(source="document_type_id")
    has_file = serializers.SerializerMethodField()

    class Meta:
        model = DeclarationDocument
        fields = ["id", "item_number", "document_type", "reference", "issued_on", "has_file", "uploaded_at"]

    def get_has_file(self, document) -> bool:
        return bool(document.file)


class DocumentUploadSerializer(serializers.Serializer):
    document_type = serializers.CharField(max_length=16)
    reference = serializers.CharField(max_length=64)
    issued_on = serializers.DateField(required=False, allow_null=True)
    item_number = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    file = serializers.FileField(required=False, allow_null=True)


class StatusChangeSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", default="")
    from_status = serializers.CharField()
    to_status = serializers.CharField()

    class Meta:
        model = StatusChange
        fields = ["action", "from_status", "to_status", "actor", "reason", "occurred_at"]


class DeclarationSerializer(FreshFieldsSerializer):
    """A declaration: the general segment and items (writable while a draft), and its state, numbers,
    assessment, documents and history (read only)."""

    id = serializers.IntegerField(read_only=True)
    declaration_type = serializers.ChoiceField(choices=DeclarationType.choices)
    office = serializers.CharField(max_length=8, help_text=_("Customs office code, e.g. TMA01"))
    trader = serializers.CharField(
        max_length=32, help_text=_("Taxpayer ID of the importer (IM) or exporter (EX) declared for")
    )
    lrn = serializers.CharField(max_length=35, help_text=_("Your own reference, unique per declarant"))
    counterparty_name = serializers.CharField(required=False, allow_blank=True, max_length=255)
    counterparty_address = serializers.CharField(required=False, allow_blank=True, max_length=255)
    counterparty_country = _code(2)
    dispatch_country = _code(2)
    destination_country = _code(2)
    incoterm = _code(3)
    delivery_place = serializers.CharField(required=False, allow_blank=True, max_length=100)
    transport_mode = _code(2)
    transport_identity = serializers.CharField(required=False, allow_blank=True, max_length=64)
    transport_nationality = _code(2)
    goods_location = serializers.CharField(required=False, allow_blank=True, max_length=100)
    invoice_amount = _money()
    invoice_currency = _code(3)
    freight_amount = _money()
    freight_currency = _code(3)
    insurance_amount = _money()
    insurance_currency = _code(3)
    other_costs_amount = _money()
    other_costs_currency = _code(3)
    deductions_amount = _money(help_text=_("Costs beyond the border included in the price (DAP, DDP)"))
    deductions_currency = _code(3)
    freight_split = serializers.ChoiceField(
        choices=FreightSplit.choices, required=False, default=FreightSplit.PRICE
    )
    total_packages = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=10**9)
    items = DeclarationItemSerializer(many=True, required=False, max_length=999)

    status = serializers.CharField(read_only=True)
    lane = serializers.CharField(read_only=True)
    version = serializers.IntegerField(read_only=True)
    number = serializers.CharField(read_only=True)
    assessment_reference = serializers.CharField(read_only=True)
    declarant = serializers.CharField(read_only=True)
    reference_date = serializers.DateField(read_only=True)
    exchange_rates = serializers.DictField(child=serializers.CharField(), read_only=True)
    customs_value = serializers.DecimalField(max_digits=18, decimal_places=2, read_only=True)
    total_taxes = serializers.DecimalField(max_digits=18, decimal_places=2, read_only=True)
    tax_lines = DeclarationTaxLineSerializer(many=True, read_only=True)
    documents = DeclarationDocumentSerializer(many=True, read_only=True)
    history = StatusChangeSerializer(many=True, read_only=True)
    allowed_actions = serializers.ListField(child=serializers.CharField(), read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    registered_at = serializers.DateTimeField(read_only=True)
    released_at = serializers.DateTimeField(read_only=True)
    lane_assigned_at = serializers.DateTimeField(read_only=True)
    control_done_at = serializers.DateTimeField(
        read_only=True, help_text=_("When the lane's control was done (or the lane needed none)")
    )

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        for name in GENERAL_CODES:
            if values.get(name):
                values[name] = values[name].upper()
        if "office" in values:
            values["office"] = values["office"].upper()
        return values

    def to_representation(self, declaration: Declaration):
        detail = self.context.get("detail", True)
        data = {
            "id": declaration.pk,
            "declaration_type": declaration.declaration_type,
            "office": declaration.office.code,
            "trader": declaration.trader.taxpayer_id,
            "lrn": declaration.lrn,
            "status": declaration.status,
            "lane": declaration.lane,
            "version": declaration.version,
            "number": declaration.number,
            "assessment_reference": declaration.assessment_reference,
            "declarant": declaration.declarant_name,
            "customs_value": _decimal(declaration.customs_value),
            "total_taxes": _decimal(declaration.total_taxes),
            "created_at": _datetime(declaration.created_at),
            "registered_at": _datetime(declaration.registered_at),
            "released_at": _datetime(declaration.released_at),
            "lane_assigned_at": _datetime(declaration.lane_assigned_at),
            "control_done_at": _datetime(declaration.control_done_at),
        }
        if not detail:
            return data
        for name in (
            "counterparty_name",
            "counterparty_address",
            "delivery_place",
            "transport_identity",
            "goods_location",
            "freight_split",
        ):
            data[name] = getattr(declaration, name)
        for name in GENERAL_CODES:
            data[name] = getattr(declaration, f"{name}_id") or ""
        for name in (
            "invoice_amount",
            "freight_amount",
            "insurance_amount",
            "other_costs_amount",
            "deductions_amount",
        ):
            data[name] = _decimal(getattr(declaration, name))
        data["total_packages"] = declaration.total_packages
        data["reference_date"] = (
            declaration.reference_date.isoformat() if declaration.reference_date else None
        )
        data["exchange_rates"] = declaration.exchange_rates
        # The rows are written out by hand, not through nested serializers: the response of every
        # lodgement carries them, and DRF's per-row machinery would cost more than the lodgement.
        # The nested serializers above still describe them in the OpenAPI schema. ``.all()`` (sorted
        # here) uses the rows a service just wrote or a prefetch, else one query per relation.
        item_serializer = DeclarationItemSerializer()
        data["items"] = [
            item_serializer.to_representation(item)
            for item in sorted(declaration.items.all(), key=lambda item: item.number)
        ]
        data["tax_lines"] = [
            {
                "item_number": line.item_number,
                "measure_type": line.measure_type,
                "label": line.label,
                "base": _decimal(line.base),
                "expression": line.expression,
                "formula": line.formula,
                "unrounded": _decimal(line.unrounded),
                "amount": _decimal(line.amount),
                "note": line.note,
            }
            for line in sorted(declaration.tax_lines.all(), key=lambda line: line.position)
        ]
        data["documents"] = [
            {
                "id": document.pk,
                "item_number": document.item_number,
                "document_type": document.document_type_id,
                "reference": document.reference,
                "issued_on": document.issued_on.isoformat() if document.issued_on else None,
                "has_file": bool(document.file),
                "uploaded_at": _datetime(document.uploaded_at),
            }
            for document in sorted(declaration.documents.all(), key=lambda document: document.pk)
        ]
        data["history"] = [
            {
                "action": change.action,
                "from_status": change.from_status,
                "to_status": change.to_status,
                "actor": change.actor.username if change.actor_id else "",
                "reason": change.reason,
                "occurred_at": _datetime(change.occurred_at),
            }
            for change in sorted(
                declaration.status_changes.all(), key=lambda change: (change.occurred_at, change.pk)
            )
        ]
        data["allowed_actions"] = self.context.get("allowed_actions", [])
        return data


_DATETIME = serializers.DateTimeField()


def _datetime(value):
    return None if value is None else _DATETIME.to_representation(value)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=4000, help_text=_("The reason, question or answer; kept in the history")
    )


class OptionalReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")


@extend_schema_field(DeclarationSerializer)
class ChangesField(serializers.JSONField):
    """Fields of a declaration to change, checked by ``DeclarationSerializer`` as a partial update."""

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError(_("Give the fields to change as an object."))
        changes = DeclarationSerializer(data=data, partial=True)
        changes.is_valid(raise_exception=True)
        return {key: value for key, value in changes.validated_data.items() if key in data}


class AmendmentSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=4000)
    changes = ChangesField(help_text=_("The fields to change; items replace the item list"))


class ReassessmentSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=4000)
    changes = ChangesField(
        required=False,
        default=dict,
        help_text=_("General fields the officer corrects (the invoice amount with an item's price)"),
    )
    item_changes = serializers.DictField(
        child=DeclarationItemSerializer(partial=True),
        required=False,
        default=dict,
        help_text=_("Per item number, the fields the officer corrects"),
    )

    def validate_changes(self, value):
        if "items" in value:
            raise serializers.ValidationError(_("Correct items one by one in item_changes."))
        return value


class PreviewSerializer(serializers.Serializer):
    errors = serializers.ListField(child=serializers.DictField(child=serializers.CharField()))
    customs_value = serializers.DecimalField(max_digits=18, decimal_places=2, allow_null=True)
    total = serializers.DecimalField(max_digits=18, decimal_places=2, allow_null=True)
    totals = serializers.DictField(child=serializers.DecimalField(max_digits=18, decimal_places=2))
    warnings = serializers.ListField(child=serializers.CharField())
