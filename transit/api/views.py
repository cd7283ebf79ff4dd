"""The transit API: the finder, a movement in full, lodging a T1 (as JSON or as a CC015C message), one POST
per command, the CC015C export, and the public check of a TAD's signed token. Thin: each endpoint
validates its input with a serializer and calls one service; every movement comes from a user-scoped
selector of ``transit.selectors``.

- The principal's side (its users, brokers it authorises for transit) lodges and reads its movements; an
  officer reads the movements its offices take part in and makes the moves of its office (the services
  decide). A movement the caller may not see is not found (404); one it sees but may not move is 403.
- API keys need ``transit:read`` to read and ``transit:write`` for everything else.
- ``Idempotency-Key`` on the POSTs that create (lodgement, import, a TAD reprint): a retry gets the first
  response. ``ETag: "<id>-<version>"`` on a movement; ``If-Match`` on the commands (optional; 412 stale).
- Errors in the one envelope of ``customs.api.errors``: 400 with every field's problems (by path, e.g.
  ``items[0].gross_mass``; for a CC015C message by element path with the line), 403, 404, 409 with the
  code of the refusal (``guarantee_insufficient`` adds ``shortfall`` and ``amount_at_stake``), 412.
"""

import functools
import hashlib
import types

from django.db import transaction
from django.db.models import Prefetch
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from customs.api.authentication import HasApiScope, ReadWriteScopes
from customs.api.errors import ApiConflict
from customs.api.parsers import TextXmlParser, XmlParser
from customs.choices import ApiScope
from customs.selectors import office_list_for_user
from customs.xmlsafe import DEFAULT_MAX_BYTES, xml_parse
from declarations.api.idempotency import IDEMPOTENCY_KEY, idempotent
from declarations.print_views import document_language
from declarations.services.errors import DeclarationInvalid, NotAuthorised, StaleVersion, TransitionNotAllowed
from transit.api import serializers
from transit.choices import TRANSITIONS, MovementStatus
from transit.models import TransitMovement, TransitOffice, TransitStatusChange
from transit.selectors import MovementQuery, movement_by_mrn_for_user, movement_find, movement_list_for_user
from transit.services import lifecycle
from transit.services.documents import movement_data, tad_reprint_request
from transit.services.lifecycle import GuaranteeShort
from transit.services.permissions import is_officer_at
from transit.signing import TokenInvalid, token_invalid_message, token_verify
from transit.xml.cc015c import TransitMessageInvalid, cc015c_read, cc015c_write

MESSAGE_SENDER = "KERWEN"
# A movement exported as CC015C: released, whatever happened since, unless it was cancelled.
EXPORTABLE = frozenset(MovementStatus) - {MovementStatus.REGISTERED, MovementStatus.CANCELLED}


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_code = "stale_version"


def _errors(*codes: int) -> dict:
    descriptions = {  # the schema's words, in English like the rest of it
        400: "The request is not valid: every problem, field by field",
        401: "Not authenticated",
        403: "Not allowed (or the API key lacks the scope)",
        404: "Not found, or not one the caller may see",
        409: "Not possible in the current state (the code says why)",
        412: "The If-Match version is stale",
    }
    return {
        code: OpenApiResponse(serializers.TransitErrorEnvelopeSerializer, description=descriptions[code])
        for code in codes
    }


def _field_errors(errors) -> exceptions.ValidationError:
    """``FieldError``s of a service as the envelope's fields (their paths kept: ``items[0].gross_mass``)."""
    detail: dict[str, list] = {}
    for error in errors:
        detail.setdefault(error.field, []).append(exceptions.ErrorDetail(error.message, code=error.code))
    return exceptions.ValidationError(detail)


def _paths(detail, prefix: str = "") -> dict[str, list]:
    """DRF's nested errors (``{"items": [{}, {"gross_mass": [...]}]}``, ``{"seals": {1: [...]}}``) as one
    level of paths, the form the services use: ``items[1].gross_mass``, ``seals[1]``."""
    if isinstance(detail, dict):
        flat = {}
        for key, value in detail.items():
            if isinstance(key, int):
                path = f"{prefix}[{key}]"
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            flat.update(_paths(value, path))
        return flat
    if isinstance(detail, list) and any(isinstance(element, dict | list) for element in detail):
        flat = {}
        for index, element in enumerate(detail):
            if element:
                flat.update(_paths(element, f"{prefix}[{index}]"))
        return flat
    return {prefix or "non_field_errors": detail if isinstance(detail, list) else [detail]}


def _valid(serializer_class, data, **kwargs):
    """The serializer, valid, or the envelope's 400 with every problem by path."""
    given = serializer_class(data=data, **kwargs)
    if not given.is_valid():
        raise exceptions.ValidationError(_paths(given.errors))
    return given


def _etag(movement: TransitMovement) -> str:
    return f'"{movement.pk}-{movement.version}"'


def _expected_version(request, movement: TransitMovement) -> int | None:
    """The version named by ``If-Match: "<id>-<version>"`` (the ETag), or None without the header."""
    header = request.headers.get("If-Match", "").strip()
    if not header or header == "*":
        return None
    movement_id, _dash, version = header.removeprefix("W/").strip('"').rpartition("-")
    if movement_id != str(movement.pk) or not version.isdigit():
        raise PreconditionFailed(_("If-Match must be the ETag of this movement."))
    return int(version)


def _stale(current_version: int) -> PreconditionFailed:
    return PreconditionFailed(
        _(
            "The movement was changed by someone else in the meantime (now version %(version)s). Reload it "
            "and try again."
        )
        % {"version": current_version}
    )


def _allowed_actions(user, movement: TransitMovement) -> list[str]:
    """The commands of this API that ``user`` may make on ``movement`` now."""
    officer_at = functools.cache(lambda office_id: is_officer_at(user, office_id))
    state = movement.status
    departure, destination = movement.departure_office_id, movement.destination_office_id
    checks = [
        ("release", state in TRANSITIONS["release"].sources and officer_at(departure)),
        (
            "border_passage",
            state in TRANSITIONS["pass_border"].sources
            and any(
                stop.passed_at is None and officer_at(stop.office_id)
                for stop in movement.transit_offices.all()
            ),
        ),
        ("arrival", state in TRANSITIONS["arrive"].sources and officer_at(destination)),
        ("discharge", state in TRANSITIONS["discharge"].sources and officer_at(destination)),
        ("cancel", state in TRANSITIONS["cancel"].sources and officer_at(departure)),
        ("tad_reprint", bool(movement.mrn) and officer_at(departure)),
    ]
    return [name for name, allowed in checks if allowed]


def _passage_office(user, movement: TransitMovement, code: str):
    """The office at which ``user`` records the passage of ``movement``: the one named by ``code``, else
    its first office on the route not yet passed (else passed: the service then says so). An officer none
    of whose offices is on the route gets one of them, for the service to refuse as not on the route."""
    stops = list(movement.transit_offices.select_related("office").order_by("sequence"))
    if code:
        named = [stop.office for stop in stops if stop.office.code == code.upper()]
        office = named[0] if named else office_list_for_user(user).filter(code=code.upper()).first()
        if office is None:
            raise NotAuthorised(
                _("Only an officer of office %(office)s may do this.") % {"office": code.upper()}
            )
        return office
    mine = [stop for stop in stops if is_officer_at(user, stop.office)]
    if mine:
        return sorted(mine, key=lambda stop: stop.passed_at is not None)[0].office
    if not user.is_authenticated or user.trader_id or user.broker_id:
        raise NotAuthorised(_("Only an officer of an office of transit of this movement may do this."))
    office = office_list_for_user(user).order_by("code").first()
    if office is None:
        raise NotAuthorised(_("Only an officer of an office of transit of this movement may do this."))
    return office


# --- CC015C import: where a lodgement's problems are in the message -----------------------------------

ITEM_ELEMENTS = {
    "commodity_code": "Commodity/CommodityCode",
    "description": "Commodity/descriptionOfGoods",
    "gross_mass": "Commodity/GoodsMeasure/grossMass",
    "net_mass": "Commodity/GoodsMeasure/netMass",
    "packages_number": "Packaging",
    "package_kind": "Packaging/typeOfPackages",
}


def _by_sequence(elements):
    def sequence(element):
        text = (element.findtext("sequenceNumber") or "").strip()
        return int(text) if text.isdigit() else 0

    return sorted(elements, key=sequence)


def _message_places(content: bytes) -> dict[str, tuple[str, int | None]]:
    """For each ``TransitData`` field path that ``cc015c_read`` fills, the element of the message it comes
    from (its path, as the reader names paths, indexes from 1) and its line: so that what the lodgement
    service finds wrong in an imported message is shown where it is in the message."""
    root = xml_parse(content).getroot()
    places: dict[str, tuple[str, int | None]] = {}

    def place(field: str, path: str, element=None, *, near: tuple[str, ...] = ()) -> None:
        # An element the message lacks is shown at the nearest one there is.
        for candidate in (path, *near):
            if element is None:
                element = root.find(candidate)
        places[field] = (path, element.sourceline if element is not None else None)

    place("lrn", "TransitOperation/LRN")
    place("declaration_type", "TransitOperation/declarationType")
    place("time_limit", "TransitOperation/limitDate", near=("TransitOperation",))
    place("departure_office", "CustomsOfficeOfDeparture/referenceNumber")
    place("destination_office", "CustomsOfficeOfDestinationDeclared/referenceNumber")
    place(
        "principal", "HolderOfTheTransitProcedure/identificationNumber", near=("HolderOfTheTransitProcedure",)
    )
    place("guarantee_reference", "Guarantee")
    place("items", "Consignment")
    for index, office in enumerate(_by_sequence(root.findall("CustomsOfficeOfTransitDeclared"))):
        place(
            f"transit_offices[{index}]",
            f"CustomsOfficeOfTransitDeclared[{index + 1}]/referenceNumber",
            office.find("referenceNumber"),
        )
    houses = root.findall("Consignment/HouseConsignment")
    transport = "Consignment/DepartureTransportMeans"
    if root.find(transport) is None:
        transport = next(
            (
                f"Consignment/HouseConsignment[{index}]/DepartureTransportMeans"
                for index, house in enumerate(houses, 1)
                if house.find("DepartureTransportMeans") is not None
            ),
            transport,
        )
    place("transport_identity", f"{transport}/identificationNumber", near=(transport, "Consignment"))
    place("transport_nationality", f"{transport}/nationality", near=(transport, "Consignment"))
    for index, routing in enumerate(_by_sequence(root.findall("Consignment/CountryOfRoutingOfConsignment"))):
        place(
            f"itinerary[{index}]",
            f"Consignment/CountryOfRoutingOfConsignment[{index + 1}]/country",
            routing.find("country"),
        )
    seals = [
        (f"Consignment/TransportEquipment[{equipment_index}]/Seal[{index}]/identifier", seal)
        for equipment_index, equipment in enumerate(
            _by_sequence(root.findall("Consignment/TransportEquipment")), 1
        )
        for index, seal in enumerate(_by_sequence(equipment.findall("Seal")), 1)
    ]
    for index, (path, seal) in enumerate(seals):
        place(f"seals[{index}]", path, seal)
    items = [
        (f"Consignment/HouseConsignment[{house_index}]/ConsignmentItem[{index}]", item)
        for house_index, house in enumerate(houses, 1)
        for index, item in enumerate(house.findall("ConsignmentItem"), 1)
    ]
    for index, (base, item) in enumerate(items):
        for field, sub_path in ITEM_ELEMENTS.items():
            found = item.find(sub_path)
            place(f"items[{index}].{field}", f"{base}/{sub_path}", found if found is not None else item)
    return places


def _message_refused(problems) -> exceptions.ValidationError:
    """A refused CC015C message in the envelope: each problem under its element path, with its line."""
    detail: dict[str, list] = {}
    lines: dict[str, list] = {}
    for path, code, message, line in problems:
        key = path or "non_field_errors"
        detail.setdefault(key, []).append(exceptions.ErrorDetail(message, code=code))
        lines.setdefault(key, []).append(line)
    refusal = exceptions.ValidationError(detail)
    refusal.lines = lines
    return refusal


# --- The movements -------------------------------------------------------------------------------------

MOVEMENT_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Movement id")
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description='The ETag read ("<id>-<version>"); 412 if it is stale. Optional',
)
T1_EXAMPLE = OpenApiExample(
    "A T1 of one car, Ashgabat to Türkmenbaşy via Farap",
    value={
        "lrn": "T1-0001",
        "departure_office": "TMA01",
        "destination_office": "TMT01",
        "transit_offices": ["TMF01"],
        "principal": {"identification": "101012345678", "name": "Altyn Asyr HJ", "country": "TM"},
        "carrier": {"identification": "CARR-1", "name": "Ak Ýol Logistics"},
        "transport_identity": "AG 1234 TM",
        "transport_nationality": "TM",
        "containers": ["MSCU1234565"],
        "seals": ["TM-S-0001", "TM-S-0002"],
        "itinerary": ["TM"],
        "time_limit": "2026-12-05",
        "guarantee_reference": "GRN-0001",
        "items": [
            {
                "commodity_code": "8703231900",
                "description": "Passenger car, petrol, 1,500 cc",
                "packages_number": 1,
                "package_kind": "PK",
                "gross_mass": "1200",
                "net_mass": "1100",
                "value": "10000.00",
                "currency": "USD",
            }
        ],
    },
    request_only=True,
)


class TransitErrorsMixin:
    """The services' refusals in the envelope, and a movement answered in full with its ETag."""

    def handle_exception(self, exc):
        extra, lines = {}, None
        if isinstance(exc, TransitMessageInvalid):
            exc = _message_refused(
                (problem.path, problem.code, problem.message, problem.line) for problem in exc.problems
            )
        if isinstance(exc, exceptions.ValidationError):
            lines = getattr(exc, "lines", None)
        elif isinstance(exc, DeclarationInvalid):
            exc = _field_errors(exc.errors)
        elif isinstance(exc, StaleVersion):
            exc = _stale(exc.current_version)
        elif isinstance(exc, GuaranteeShort):
            extra = {"shortfall": str(exc.shortfall), "amount_at_stake": str(exc.amount_at_stake)}
            exc = ApiConflict(str(exc), code=exc.code)
        elif isinstance(exc, TransitionNotAllowed):
            exc = ApiConflict(str(exc), code=exc.code)
        elif isinstance(exc, NotAuthorised):
            exc = exceptions.PermissionDenied(str(exc))
        response = super().handle_exception(exc)
        body = response.data.get("error") if isinstance(response.data, dict) else None
        if body is not None:
            body.update(extra)
            if lines:
                body["message"] = _("The CC015C message is refused.")
                for key, entries in body["fields"].items():
                    for entry, line in zip(entries, lines[key], strict=True):
                        entry["line"] = line
        return response

    def detail_queryset(self):
        return (
            movement_list_for_user(self.request.user)
            .select_related("arrival_control__recorded_by")
            .prefetch_related(
                Prefetch(
                    "transit_offices",
                    queryset=TransitOffice.objects.select_related("office", "passed_by").order_by("sequence"),
                ),
                "items",
                Prefetch("status_changes", queryset=TransitStatusChange.objects.select_related("actor")),
                "prints",
            )
        )

    def respond(self, movement: TransitMovement, status_code=status.HTTP_200_OK) -> Response:
        """The movement as it is now, in full, with its ETag."""
        movement = self.detail_queryset().get(pk=movement.pk)
        context = {"request": self.request, "allowed_actions": _allowed_actions(self.request.user, movement)}
        data = serializers.MovementSerializer(movement, context=context).data
        return Response(data, status=status_code, headers={"ETag": _etag(movement)})


class TransitScopeMixin(ReadWriteScopes):
    permission_classes = [permissions.IsAuthenticated, HasApiScope]
    read_scope, write_scope = ApiScope.TRANSIT_READ, ApiScope.TRANSIT_WRITE


class MovementViewSet(TransitErrorsMixin, TransitScopeMixin, viewsets.GenericViewSet):
    """Transit movements (T1): the principal's side lodges and reads them, the offices on their way move
    them. A movement the caller may not see is not found (404); one it sees but may not move is 403."""

    serializer_class = serializers.MovementSerializer
    parser_classes = [JSONParser]
    filter_backends = []  # the finder's filters are movement_find's
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        return movement_list_for_user(self.request.user)

    def perform_content_negotiation(self, request, force=False):
        # The CC015C export answers XML whatever Accept asks; its errors are the JSON envelope.
        return super().perform_content_negotiation(request, force=force or self.action == "cc015c")

    # --- reading ---------------------------------------------------------------------------------------

    @extend_schema(
        summary="The finder: the movements the caller may see, newest first, filtered",
        parameters=[serializers.MovementFilterSerializer],
        responses={200: serializers.MovementListSerializer(many=True), **_errors(400, 401, 403)},
    )
    def list(self, request):
        given = _valid(serializers.MovementFilterSerializer, request.query_params)
        movements = movement_find(request.user, MovementQuery(**given.validated_data))
        page = self.paginate_queryset(movements)
        return self.get_paginated_response(serializers.MovementListSerializer(page, many=True).data)

    @extend_schema(
        summary="One movement in full: route and passages, items, seals, guarantee and amount at stake, "
        "history, arrival control, TAD links",
        parameters=[MOVEMENT_ID],
        responses={200: serializers.MovementSerializer, **_errors(401, 403, 404)},
    )
    def retrieve(self, request, pk=None):
        return self.respond(self.get_object())

    # --- lodging -------------------------------------------------------------------------------------

    @extend_schema(
        summary="Lodge a T1: registered, or every problem listed and nothing stored",
        request=serializers.MovementLodgeSerializer,
        parameters=[IDEMPOTENCY_KEY],
        examples=[T1_EXAMPLE],
        responses={201: serializers.MovementSerializer, **_errors(400, 401, 403, 409)},
    )
    def create(self, request):
        def run():
            given = _valid(serializers.MovementLodgeSerializer, request.data)
            movement = lifecycle.transit_lodge(actor=request.user, data=given.transit_data())
            return self.respond(movement, status.HTTP_201_CREATED)

        return idempotent(request, "transit.lodge", run)

    @extend_schema(
        summary="Lodge a T1 from an NCTS phase 5 CC015C message (the XML as the body, or a file)",
        description=(
            "The message is validated against the phase 5 schema, read, and lodged as a T1. Schema and "
            "business problems are field errors under the element's path, each with its `line`. CC015C has "
            "no item values: give them before release (the amount at stake needs them)."
        ),
        request={
            "application/xml": OpenApiTypes.BINARY,
            "text/xml": OpenApiTypes.BINARY,
            "multipart/form-data": serializers.ImportUploadSerializer,
        },
        parameters=[IDEMPOTENCY_KEY],
        responses={201: serializers.MovementSerializer, **_errors(400, 401, 403, 409)},
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import-cc015c",
        parser_classes=[XmlParser, TextXmlParser, MultiPartParser],
    )
    def import_cc015c(self, request):
        content = self._message_content(request)
        # The idempotency key's request hash is of the message's bytes (request.data is the bytes, or an
        # uploaded file whose name alone would be hashed).
        keyed = types.SimpleNamespace(
            headers=request.headers,
            user=request.user,
            data={"cc015c_sha256": hashlib.sha256(content).hexdigest()},
        )

        def run():
            data = cc015c_read(content)
            try:
                movement = lifecycle.transit_lodge(actor=request.user, data=data)
            except DeclarationInvalid as invalid:
                # Shown where they are in the message, as the reader's own problems are.
                places = _message_places(content)
                problems = []
                for error in invalid.errors:
                    path, line = places.get(error.field, (error.field, None))
                    problems.append((path, error.code, error.message, line))
                raise _message_refused(problems) from invalid
            return self.respond(movement, status.HTTP_201_CREATED)

        return idempotent(keyed, "transit.import_cc015c", run)

    @staticmethod
    def _message_content(request) -> bytes:
        data = request.data
        if isinstance(data, bytes | bytearray):
            content = bytes(data)
        else:
            upload = data.get("file") if hasattr(data, "get") else None
            if upload is None or not hasattr(upload, "read"):
                raise exceptions.ValidationError(
                    {"file": [exceptions.ErrorDetail(_("Send the CC015C message."), code="required")]}
                )
            content = upload.read(DEFAULT_MAX_BYTES + 1)
        if not content.strip():
            raise exceptions.ValidationError(
                {"file": [exceptions.ErrorDetail(_("The message is empty."), code="required")]}
            )
        return content

    # --- commands ------------------------------------------------------------------------------------

    def _command(self, request, move, input_serializer=None) -> Response:
        """``move(movement, expected_version, **input)`` on the movement, at the If-Match version if given:
        the row is locked for the check, in the service's transaction, so no write slips in between."""
        movement = self.get_object()
        expected = _expected_version(request, movement)
        arguments = _valid(input_serializer, request.data).validated_data if input_serializer else {}
        with transaction.atomic():
            if expected is not None:
                current = (
                    self.get_queryset()
                    .select_for_update(of=("self",))
                    .filter(pk=movement.pk)
                    .values_list("version", flat=True)
                    .get()
                )
                if current != expected:
                    raise _stale(current)
            moved = move(movement, expected, **arguments)
        return self.respond(moved)

    @extend_schema(
        summary="Departure office: release for transit (the amount at stake reserved on the guarantee, the "
        "MRN given, the TAD printed)",
        request=None,
        parameters=[MOVEMENT_ID, IF_MATCH],
        responses={200: serializers.MovementSerializer, **_errors(400, 401, 403, 404, 409, 412)},
        examples=[
            OpenApiExample(
                "The guarantee does not cover the amount at stake",
                value={
                    "error": {
                        "code": "guarantee_insufficient",
                        "message": "The guarantee GRN-SMALL does not cover the 6,063.75 at stake: short by "
                        "5,963.75.",
                        "shortfall": "5963.75",
                        "amount_at_stake": "6063.75",
                    }
                },
                response_only=True,
                status_codes=["409"],
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        return self._command(
            request,
            lambda movement, expected: lifecycle.transit_release(
                actor=request.user, movement=movement, expected_version=expected
            ),
        )

    @extend_schema(
        summary="Office of transit: record the border passage",
        request=serializers.BorderPassageSerializer,
        parameters=[MOVEMENT_ID, IF_MATCH],
        responses={200: serializers.MovementSerializer, **_errors(400, 401, 403, 404, 409, 412)},
    )
    @action(detail=True, methods=["post"], url_path="border-passage")
    def border_passage(self, request, pk=None):
        def move(movement, expected, office):
            return lifecycle.transit_border_passage(
                actor=request.user, movement=movement, office=_passage_office(request.user, movement, office)
            )

        return self._command(request, move, serializers.BorderPassageSerializer)

    @extend_schema(
        summary="Office of destination: record the arrival and its control; conform: discharged, else under "
        "enquiry",
        request=serializers.ArrivalSerializer,
        parameters=[MOVEMENT_ID, IF_MATCH],
        responses={200: serializers.MovementSerializer, **_errors(400, 401, 403, 404, 409, 412)},
    )
    @action(detail=True, methods=["post"])
    def arrival(self, request, pk=None):
        def move(movement, expected, **control):
            return lifecycle.transit_arrival(actor=request.user, movement=movement, **control)

        return self._command(request, move, serializers.ArrivalSerializer)

    @extend_schema(
        summary="Office of destination: discharge (the end of an enquiry; the guarantee released)",
        request=serializers.MovementReasonSerializer,
        parameters=[MOVEMENT_ID, IF_MATCH],
        responses={200: serializers.MovementSerializer, **_errors(400, 401, 403, 404, 409, 412)},
    )
    @action(detail=True, methods=["post"])
    def discharge(self, request, pk=None):
        def move(movement, expected, reason):
            return lifecycle.transit_discharge(actor=request.user, movement=movement, reason=reason)

        return self._command(request, move, serializers.MovementReasonSerializer)

    @extend_schema(
        summary="Departure office: cancel before the goods leave (a reason is needed)",
        request=serializers.MovementReasonSerializer,
        parameters=[MOVEMENT_ID, IF_MATCH],
        responses={200: serializers.MovementSerializer, **_errors(400, 401, 403, 404, 409, 412)},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        def move(movement, expected, reason):
            return lifecycle.transit_cancel(actor=request.user, movement=movement, reason=reason)

        return self._command(request, move, serializers.MovementReasonSerializer)

    @extend_schema(
        summary="Departure office: reprint the TAD (a duplicate, audited); poll its url until ready",
        request=serializers.TadReprintSerializer,
        parameters=[MOVEMENT_ID, IDEMPOTENCY_KEY],
        responses={201: serializers.TadPrintSerializer, **_errors(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"], url_path="tad/reprint")
    def tad_reprint(self, request, pk=None):
        def run():
            movement = self.get_object()
            given = _valid(serializers.TadReprintSerializer, request.data)
            if not movement.mrn:
                raise ApiConflict(
                    _("This movement is not released: it has no transit accompanying document."),
                    code="not_released",
                )
            document = tad_reprint_request(
                actor=request.user,
                movement=movement,
                language=given.validated_data.get("language") or document_language(request),
            )
            data = serializers.TadPrintSerializer(document, context={"request": request}).data
            return Response(data, status=status.HTTP_201_CREATED)

        return idempotent(request, f"transit.tad_reprint:{pk}", run)

    @extend_schema(
        summary="The released movement as an NCTS phase 5 CC015C message",
        parameters=[MOVEMENT_ID],
        responses={
            (200, "application/xml"): OpenApiResponse(OpenApiTypes.BINARY, description="The CC015C message"),
            **_errors(401, 403, 404, 409),
        },
    )
    @action(detail=True, methods=["get"])
    def cc015c(self, request, pk=None):
        movement = self.get_object()
        if movement.status not in EXPORTABLE:
            raise ApiConflict(_("Only a released movement can be exported as CC015C."), code="not_released")
        movement = (
            self.get_queryset()
            .select_related("departure_office__country", "destination_office__country", "principal__country")
            .get(pk=movement.pk)
        )
        try:
            content = cc015c_write(
                movement_data(movement),
                message_sender=MESSAGE_SENDER,
                message_recipient=f"NTA.{movement.destination_office.country.code}",
                prepared_at=timezone.now(),
            )
        except TransitMessageInvalid as refused:  # our own data, not the caller's request
            raise ApiConflict(
                _("This movement cannot be written as CC015C: %(problems)s") % {"problems": refused},
                code="not_exportable",
            ) from refused
        response = HttpResponse(content, content_type="application/xml; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="cc015c-{movement.mrn}.xml"'
        return response


class BorderPassageView(TransitErrorsMixin, TransitScopeMixin, APIView):
    """A border post records a passage by the MRN it scanned from the TAD's barcode, or typed."""

    parser_classes = [JSONParser]

    @extend_schema(
        summary="Office of transit: record the border passage by MRN, at the caller's office on the route",
        request=serializers.BorderPassageByMrnSerializer,
        responses={200: serializers.MovementSerializer, **_errors(400, 401, 403, 404, 409)},
        examples=[OpenApiExample("Scanned", value={"mrn": "26TMTMA010000001J5"}, request_only=True)],
    )
    def post(self, request):
        given = _valid(serializers.BorderPassageByMrnSerializer, request.data)
        movement = movement_by_mrn_for_user(request.user, given.validated_data["mrn"])
        if movement is None:
            raise exceptions.NotFound(_("No movement with this MRN that you may see."))
        moved = lifecycle.transit_border_passage(
            actor=request.user, movement=movement, office=_passage_office(request.user, movement, "")
        )
        return self.respond(moved)


class VerifyView(APIView):
    """Public: whether a TAD's token is authentic, and the movement's status now when it is known here."""

    authentication_classes = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        summary="Public, no sign-in: is this TAD token authentic? With the live status when known here",
        parameters=[serializers.VerifyQuerySerializer],
        responses={200: serializers.VerifyResultSerializer, **_errors(400)},
        auth=[],
    )
    def get(self, request):
        given = _valid(serializers.VerifyQuerySerializer, request.query_params)
        token = "".join(given.validated_data["token"].split())  # a scanner or a copy may add line breaks
        try:
            claims = token_verify(token)
        except TokenInvalid as error:
            body = {
                "authentic": False,
                "reason": token_invalid_message(error),
                "reason_code": error.reason,
                "claims": None,
            }
        else:
            body = {"authentic": True, "reason": None, "reason_code": None, "claims": claims}
            state = _public_status(claims.get("mrn"))
            if state is not None:
                body["status"] = MovementStatus(state).label
        response = Response(serializers.VerifyResultSerializer(body).data)
        response["Cache-Control"] = "no-store"
        return response


def _public_status(mrn) -> str | None:
    """The status of the movement ``mrn``, for the public check: nothing else of it is read."""
    if not isinstance(mrn, str) or not mrn:
        return None
    return TransitMovement.objects.filter(mrn=mrn).values_list("status", flat=True).first()
