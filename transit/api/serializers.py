"""Serializers of the transit API. Masses and money travel as decimal strings; offices by code, principals
by taxpayer ID, movements by id (and MRN once released). Input serializers check formats only (types,
lengths, dates); the services check the rest and report every problem at once, field by field."""

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from transit.choices import MovementStatus
from transit.data import PartyData, TransitData, TransitItemData
from transit.models import ArrivalControl, TadPrint, TransitMovement
from transit.mrn import mrn_normalise, mrn_valid

MASS = {"max_digits": 18, "decimal_places": 6}
MONEY = {"max_digits": 18, "decimal_places": 2}


def _text(max_length: int, **extra) -> serializers.CharField:
    return serializers.CharField(max_length=max_length, required=False, allow_blank=True, default="", **extra)


def _choices_component(component_name: str, choices):
    """A choice field class whose values are one schema component of their own: several components of
    the API have a "status", and a shared field name would make the generated enum names collide."""

    @extend_schema_field(
        {"type": "string", "enum": [value for value, _label in choices]}, component_name=component_name
    )
    class ComponentChoiceField(serializers.ChoiceField):
        def __init__(self, **kwargs):
            super().__init__(choices=choices, **kwargs)

    return ComponentChoiceField


MovementStatusField = _choices_component("MovementStatus", MovementStatus.choices)
TadPrintStatusField = _choices_component("TadPrintStatus", TadPrint.Status.choices)


def _codes(max_length: int, *, max_items: int = 99, **extra) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(max_length=max_length, allow_blank=True),
        required=False,
        default=list,
        max_length=max_items,
        **extra,
    )


# --- The error envelope (customs.api.errors), as the transit API fills it ---------------------------


class TransitFieldErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    line = serializers.IntegerField(
        required=False, allow_null=True, help_text=_("CC015C import: the line of the message")
    )


class TransitErrorSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text=_("Machine-readable, e.g. validation_error, guarantee_insufficient, not_on_route")
    )
    message = serializers.CharField(help_text=_("In the language of the request"))
    fields = serializers.DictField(
        child=serializers.ListField(child=TransitFieldErrorSerializer()),
        required=False,
        help_text=_(
            "The problems of each field, by path (items[0].gross_mass); for a CC015C message, by element "
            "path (Consignment/HouseConsignment[1]/ConsignmentItem[1]/Commodity/GoodsMeasure/grossMass)"
        ),
    )
    shortfall = serializers.DecimalField(
        **MONEY, required=False, help_text=_("guarantee_insufficient: what the guarantee lacks")
    )
    amount_at_stake = serializers.DecimalField(
        **MONEY, required=False, help_text=_("guarantee_insufficient: the duties and taxes at stake")
    )


class TransitErrorEnvelopeSerializer(serializers.Serializer):
    error = TransitErrorSerializer()


# --- Lodging a T1 (transit.data.TransitData as JSON) --------------------------------------------------


class PartySerializer(serializers.Serializer):
    identification = _text(32, help_text=_("Taxpayer ID (the principal: of a registered trader)"))
    name = _text(255)
    street = _text(255)
    city = _text(100)
    postcode = _text(17)
    country = _text(2, help_text=_("ISO 3166 alpha-2"))

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        return PartyData(**{**values, "country": values["country"].upper()})


class TransitItemInputSerializer(serializers.Serializer):
    """One item; items are numbered 1, 2, ... in the order given."""

    commodity_code = _text(16, help_text=_("6, 8 or 10 digits of the tariff; dots and spaces are ignored"))
    description = _text(2000)
    packages_number = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=0, max_value=10**9
    )
    package_kind = _text(2, help_text=_("UN/ECE recommendation 21 code, e.g. CT"))
    gross_mass = serializers.DecimalField(
        **MASS, required=False, allow_null=True, default=None, help_text=_("kg, above zero")
    )
    net_mass = serializers.DecimalField(
        **MASS, required=False, allow_null=True, default=None, help_text=_("kg")
    )
    value = serializers.DecimalField(
        **MONEY,
        required=False,
        allow_null=True,
        default=None,
        min_value=0,
        help_text=_("Needed with its currency for the amount at stake"),
    )
    currency = _text(3, help_text=_("ISO 4217"))

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        return {
            **values,
            "package_kind": values["package_kind"].upper(),
            "currency": values["currency"].upper(),
        }


class MovementLodgeSerializer(serializers.Serializer):
    """A transit declaration (T1) to lodge, the JSON form of ``transit.data.TransitData``."""

    lrn = _text(22, help_text=_("Your local reference number, unique per principal"))
    declaration_type = serializers.CharField(max_length=4, required=False, default="T1")
    departure_office = _text(16, help_text=_("Code of the office of departure, e.g. TMA01"))
    destination_office = _text(16, help_text=_("Code of the office of destination"))
    transit_offices = _codes(16, max_items=9, help_text=_("Codes of the offices of transit, in route order"))
    principal = PartySerializer(required=False, help_text=_("The holder of the procedure"))
    consignor = PartySerializer(required=False, allow_null=True, default=None)
    consignee = PartySerializer(required=False, allow_null=True, default=None)
    carrier = PartySerializer(required=False, allow_null=True, default=None)
    transport_identity = _text(35, help_text=_("Plate of the means of transport at departure"))
    transport_nationality = _text(2, help_text=_("ISO 3166 alpha-2"))
    containers = _codes(17)
    seals = _codes(35)
    itinerary = _codes(2, help_text=_("Countries of routing, ISO 3166 alpha-2, in order"))
    time_limit = serializers.DateField(required=False, allow_null=True, default=None)
    guarantee_reference = _text(24)
    previous_document = _text(70, help_text=_("An export declaration or manifest reference"))
    items = TransitItemInputSerializer(many=True, required=False, default=list, max_length=999)

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        codes = {name: [code.upper() for code in values[name]] for name in ("transit_offices", "itinerary")}
        return {
            **values,
            **codes,
            "departure_office": values["departure_office"].upper(),
            "destination_office": values["destination_office"].upper(),
            "transport_nationality": values["transport_nationality"].upper(),
        }

    def transit_data(self) -> TransitData:
        """The validated input as the lodgement service takes it."""
        values = dict(self.validated_data)
        items = values.pop("items")
        return TransitData(
            **{**values, "principal": values.get("principal") or PartyData()},
            items=[TransitItemData(number=index, **item) for index, item in enumerate(items, 1)],
        )


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=_("A CC015C message (XML)"))


# --- Commands -----------------------------------------------------------------------------------------


class BorderPassageSerializer(serializers.Serializer):
    office = _text(
        16,
        help_text=_("The office of transit; by default the caller's office on the route not yet passed"),
    )


class MrnField(serializers.CharField):
    """An MRN as printed, typed or scanned (spaces and case ignored); its check character is verified."""

    default_error_messages = {
        "invalid_mrn": _(
            "This is not a valid MRN: 18 characters whose last one is the check character. Check what was "
            "typed or scanned."
        )
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 40)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        text = super().to_internal_value(data)
        if not mrn_valid(text):
            self.fail("invalid_mrn")
        return mrn_normalise(text)


class BorderPassageByMrnSerializer(serializers.Serializer):
    mrn = MrnField(help_text=_("The MRN scanned from the barcode of the TAD, or typed"))


class ArrivalSerializer(serializers.Serializer):
    seals_intact = serializers.BooleanField()
    goods_conform = serializers.BooleanField()
    seals_found = _codes(35, help_text=_("The seals found on the means of transport"))
    discrepancies = _text(4000, help_text=_("Required unless the seals are intact and the goods conform"))


class MovementReasonSerializer(serializers.Serializer):
    reason = _text(2000)


class TadReprintSerializer(serializers.Serializer):
    language = serializers.ChoiceField(
        choices=settings.LANGUAGES,
        required=False,
        help_text=_("The language of the document; by default that of the request"),
    )


# --- Finding movements ----------------------------------------------------------------------------------


class MovementFilterSerializer(serializers.Serializer):
    """The finder's filters (query parameters); empty ones are ignored."""

    office = serializers.CharField(
        required=False, max_length=16, help_text=_("Departure, destination or transit office")
    )
    principal = serializers.CharField(
        required=False, max_length=255, help_text=_("Taxpayer ID, or a part of the name")
    )
    plate = serializers.CharField(required=False, max_length=35, help_text=_("A part of the plate"))
    status = MovementStatusField(required=False)
    mrn = MrnField(required=False)
    date_from = serializers.DateField(required=False, help_text=_("Registered on or after"))
    date_to = serializers.DateField(required=False, help_text=_("Registered on or before"))


# --- Reading movements ----------------------------------------------------------------------------------


class OfficeSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField(help_text=_("In the language of the request"))


class PrincipalSerializer(serializers.Serializer):
    taxpayer_id = serializers.CharField()
    name = serializers.CharField()


class CarrierSerializer(serializers.Serializer):
    identification = serializers.CharField()
    name = serializers.CharField()


class RouteStopSerializer(serializers.Serializer):
    sequence = serializers.IntegerField()
    office = OfficeSerializer()
    passed_at = serializers.DateTimeField(allow_null=True)
    passed_by = serializers.CharField(source="passed_by.username", allow_null=True, default=None)


class TransitItemSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    commodity_code = serializers.CharField()
    description = serializers.CharField()
    packages_number = serializers.IntegerField()
    package_kind = serializers.CharField()
    gross_mass = serializers.DecimalField(**MASS, help_text=_("kg"))
    net_mass = serializers.DecimalField(**MASS, allow_null=True, help_text=_("kg"))
    value = serializers.DecimalField(**MONEY, allow_null=True)
    currency = serializers.CharField()


class StakeTaxSerializer(serializers.Serializer):
    tax = serializers.CharField(help_text=_("Measure type"))
    base = serializers.CharField(help_text=_("Decimal string"))
    rate = serializers.CharField(help_text=_("The duty expression applied"))
    amount = serializers.CharField(help_text=_("Decimal string"))


class StakeLineSerializer(serializers.Serializer):
    """How one item's share of the amount at stake was computed (the highest line under its code)."""

    item = serializers.IntegerField()
    commodity_code = serializers.CharField(help_text=_("The tariff line assessed"))
    customs_value = serializers.CharField(help_text=_("Decimal string, national currency"))
    amount = serializers.CharField(help_text=_("Decimal string, national currency"))
    taxes = StakeTaxSerializer(many=True)
    lines_considered = serializers.IntegerField()


class MovementStatusChangeSerializer(serializers.Serializer):
    action = serializers.CharField()
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    office = serializers.CharField(source="office_code")
    actor = serializers.CharField(source="actor.username", allow_null=True, default=None)
    reason = serializers.CharField()
    occurred_at = serializers.DateTimeField()


class ArrivalControlSerializer(serializers.Serializer):
    seals_intact = serializers.BooleanField()
    seals_found = serializers.ListField(child=serializers.CharField())
    goods_conform = serializers.BooleanField()
    conform = serializers.BooleanField()
    discrepancies = serializers.CharField()
    recorded_by = serializers.CharField(source="recorded_by.username")
    recorded_at = serializers.DateTimeField()


def _absolute(context, path: str) -> str:
    request = context.get("request")
    return request.build_absolute_uri(path) if request is not None else path


class TadPrintSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    language = serializers.CharField()
    duplicate = serializers.BooleanField()
    status = TadPrintStatusField()
    requested_at = serializers.DateTimeField()
    rendered_at = serializers.DateTimeField(allow_null=True)
    url = serializers.SerializerMethodField(
        help_text=_("The PDF (for a signed-in user); waits while pending")
    )

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, document: TadPrint) -> str:
        return _absolute(
            self.context, reverse("transit-prints:print", args=[document.movement_id, document.pk])
        )


class TadLinksSerializer(serializers.Serializer):
    original = serializers.URLField(
        allow_null=True, help_text=_("The original TAD (PDF), once the movement is released")
    )
    prints = TadPrintSerializer(many=True, help_text=_("The original and the duplicates printed"))


class MovementListSerializer(serializers.Serializer):
    """A movement as the finder lists it."""

    id = serializers.IntegerField()
    lrn = serializers.CharField()
    mrn = serializers.CharField(allow_null=True)
    declaration_type = serializers.CharField()
    status = MovementStatusField()
    status_label = serializers.CharField(source="get_status_display")
    departure_office = OfficeSerializer()
    destination_office = OfficeSerializer()
    principal = PrincipalSerializer()
    transport_identity = serializers.CharField()
    time_limit = serializers.DateField()
    guarantee_reference = serializers.CharField(source="guarantee.reference")
    amount_at_stake = serializers.DecimalField(**MONEY, allow_null=True)
    registered_at = serializers.DateTimeField()
    released_at = serializers.DateTimeField(allow_null=True)
    version = serializers.IntegerField()


class MovementSerializer(MovementListSerializer):
    """A movement in full: route and passages, transport, items, the guarantee and the amount at stake
    with its computation, the history, the control at destination and the printed documents."""

    route = RouteStopSerializer(
        many=True, source="transit_offices.all", help_text=_("The offices of transit, in order")
    )
    itinerary = serializers.ListField(child=serializers.CharField())
    carrier = serializers.SerializerMethodField()
    parties = serializers.DictField(
        child=PartySerializer(), help_text=_("consignor and consignee, when declared")
    )
    transport_nationality = serializers.CharField(source="transport_nationality.code", default="")
    containers = serializers.ListField(child=serializers.CharField())
    seals = serializers.ListField(child=serializers.CharField())
    previous_document = serializers.CharField()
    amount_at_stake_currency = serializers.SerializerMethodField(
        help_text=_("The currency of the amount at stake (the national currency), once computed")
    )
    stake_lines = StakeLineSerializer(many=True)
    items = TransitItemSerializer(many=True, source="items.all")
    total_packages = serializers.SerializerMethodField()
    total_gross_mass = serializers.SerializerMethodField(help_text=_("kg"))
    arrived_at = serializers.DateTimeField(allow_null=True)
    overdue_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    history = MovementStatusChangeSerializer(many=True, source="status_changes.all")
    arrival_control = serializers.SerializerMethodField()
    tad = serializers.SerializerMethodField(help_text=_("The transit accompanying documents"))
    allowed_actions = serializers.SerializerMethodField(
        help_text=_(
            "The commands the caller may make now: release, border_passage, arrival, discharge, cancel, "
            "tad_reprint"
        )
    )

    @extend_schema_field(CarrierSerializer(allow_null=True))
    def get_carrier(self, movement: TransitMovement):
        if not (movement.carrier_name or movement.carrier_identification):
            return None
        return {"identification": movement.carrier_identification, "name": movement.carrier_name}

    def get_amount_at_stake_currency(self, movement: TransitMovement) -> str | None:
        return None if movement.amount_at_stake is None else settings.NATIONAL_CURRENCY

    def get_total_packages(self, movement: TransitMovement) -> int:
        return sum(item.packages_number for item in movement.items.all())

    @extend_schema_field(serializers.DecimalField(**MASS))
    def get_total_gross_mass(self, movement: TransitMovement) -> str:
        total = sum((item.gross_mass for item in movement.items.all()), 0)
        return serializers.DecimalField(**MASS).to_representation(total)

    @extend_schema_field(ArrivalControlSerializer(allow_null=True))
    def get_arrival_control(self, movement: TransitMovement):
        control: ArrivalControl | None = getattr(movement, "arrival_control", None)
        return None if control is None else ArrivalControlSerializer(control).data

    @extend_schema_field(TadLinksSerializer)
    def get_tad(self, movement: TransitMovement):
        original = (
            _absolute(self.context, reverse("transit-prints:tad", args=[movement.pk]))
            if movement.mrn
            else None
        )
        prints = TadPrintSerializer(movement.prints.all(), many=True, context=self.context).data
        return {"original": original, "prints": prints}

    def get_allowed_actions(self, movement: TransitMovement) -> list[str]:
        return list(self.context.get("allowed_actions", []))


# --- Verifying a TAD's token ------------------------------------------------------------------------------


class VerifyQuerySerializer(serializers.Serializer):
    token = serializers.CharField(max_length=4096, help_text=_("The token read from the TAD's QR code"))


class VerifyResultSerializer(serializers.Serializer):
    authentic = serializers.BooleanField(help_text=_("Whether the customs service signed these data"))
    reason = serializers.CharField(allow_null=True, help_text=_("Why the token is not authentic"))
    reason_code = serializers.ChoiceField(
        choices=["malformed", "wrong algorithm", "unknown kid", "bad signature"], allow_null=True
    )
    claims = serializers.DictField(
        allow_null=True,
        help_text=_(
            "The signed data when authentic: mrn, dep, dst, trn, prn, pla, sea, itm, gms, grn, tlm, iat"
        ),
    )
    status = serializers.CharField(
        required=False,
        help_text=_("Authentic and known here: the movement's status now (its label, nothing else)"),
    )
