"""The NCTS phase 5 CC015C message (IE015, declaration data): read into ``TransitData``, written from it.

- ``cc015c_validate(content)`` gives the schema errors of a message, with line numbers.
- ``cc015c_read(content)`` validates, maps the message to ``TransitData`` and applies the business checks
  the schema cannot express (LRN format, known countries in office references, references the holder and
  the guarantee need, masses); any problem raises ``TransitMessageInvalid`` listing every problem found.
- ``cc015c_write(data, ...)`` builds a CC015C that validates against the schema, or raises
  ``TransitMessageInvalid``.

Parsing goes through ``customs.xmlsafe`` (no entities, no DTD, no network, size and depth limits).

What the mapping keeps and loses, both ways, is stated where it happens. In short, a CC015C carries
more than ``TransitData`` holds: contact persons, the representative, authorisations, additional
declaration type, security, border means of transport, several guarantees, several previous documents
and several kinds of packages per item are not read; and ``TransitData`` holds what CC015C has no place
for: the carrier's name and address, item value and currency (phase 5 transit has no item value), the
MRN and issue time (given later, by the office of departure).

Office codes. Kerwen's offices have 5-character codes: the country (ISO 3166 alpha-2) and 3 characters,
e.g. ``TMA01``. NCTS customs office reference numbers have 8: the country and 6 characters. Kerwen's
code becomes ``country + "000" + the 3 characters`` (``TMA01`` -> ``TM000A01``), and an 8-character
reference of a national country (``TRANSIT_NATIONAL_COUNTRIES``, default ``TM``) with ``000`` in
positions 3-5 becomes a Kerwen code again. Every other reference, foreign ones in particular
(``GB000120``), is kept as it is, and an 8-character code is written as it is.
"""

import csv
import datetime
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from lxml import etree

from customs.xmlsafe import XmlProblem, XmlRefused, xml_parse, xml_schema, xml_validate
from transit.data import PartyData, TransitData, TransitItemData

NAMESPACE = "http://ncts.dgtaxud.ec"
MESSAGE_TYPE = "CC015C"
ROOT_TAG = f"{{{NAMESPACE}}}{MESSAGE_TYPE}"
PHASE_ID = "NCTS5.0"
SCHEMA_PATH = Path(__file__).resolve().parent / "xsd" / "cc015c.xsd"

OFFICE_REFERENCE = re.compile(r"[A-Z]{2}[A-Z0-9]{6}")
KERWEN_OFFICE_CODE = re.compile(r"[A-Z]{2}[A-Z0-9]{3}")
OFFICE_REFERENCE_FILLER = "000"

# The LRN is the declarant's own reference (an..22 in NCTS). The schema takes any 22 characters without
# leading or trailing space; Kerwen accepts letters, digits and . _ / - (starting with a letter or a
# digit), which keeps template leftovers such as "{{LRN}}" and stray punctuation out.
LRN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,21}")
GRN = re.compile(r"[0-9]{2}[A-Z]{2}[A-Z0-9]{12}[0-9]([A-Z][0-9]{6})?")
CARRIER_IDENTIFICATION = re.compile(r"[A-Z]{2}[!-~]{1,15}")
DIGITS = re.compile(r"[0-9]+")

# Country codes that NCTS uses besides ISO 3166: XI, Northern Ireland (code list CL070, in the sample
# messages); XK, Kosovo (user-assigned, used by customs services).
NCTS_EXTRA_COUNTRIES = frozenset({"XI", "XK"})

# Defaults for what the schema requires and TransitData does not hold.
DEFAULT_ADDITIONAL_DECLARATION_TYPE = "A"  # standard declaration (not pre-lodged)
DEFAULT_SECURITY = "0"  # no safety and security data: Kerwen's T1 carries none
DEFAULT_REDUCED_DATASET = "0"  # full dataset
DEFAULT_BINDING_ITINERARY = "0"  # the itinerary is declared, not binding
DEFAULT_GUARANTEE_TYPE = "1"  # comprehensive guarantee, the usual case for a principal's T1
DEFAULT_PREVIOUS_DOCUMENT_TYPE = "N830"  # goods declaration for exportation (CL214)


@dataclass(frozen=True)
class TransitProblem:
    """One reason to refuse a message: where (an element path such as
    ``Consignment/HouseConsignment[1]/ConsignmentItem[2]/Commodity/GoodsMeasure/netMass``, or a
    ``TransitData`` field when writing), a machine-readable code, a translated message, the line."""

    path: str
    code: str
    message: str
    line: int | None = None


class TransitMessageInvalid(Exception):
    """A CC015C message, read or written, was refused; ``problems`` lists every reason found."""

    def __init__(self, problems: Iterable[TransitProblem]):
        self.problems = list(problems)
        super().__init__("; ".join(f"{problem.path or '/'}: {problem.message}" for problem in self.problems))


# --- office codes -------------------------------------------------------------------------------------


def _national_countries() -> frozenset[str]:
    return frozenset(getattr(settings, "TRANSIT_NATIONAL_COUNTRIES", None) or ("TM",))


def office_reference(code: str) -> str:
    """The NCTS reference number (8 characters) of a Kerwen office code: ``TMA01`` -> ``TM000A01``.

    An 8-character reference is returned as it is. Raises ``ValueError`` for anything else.
    """
    code = (code or "").strip().upper()
    if OFFICE_REFERENCE.fullmatch(code):
        return code
    if KERWEN_OFFICE_CODE.fullmatch(code):
        return code[:2] + OFFICE_REFERENCE_FILLER + code[2:]
    raise ValueError(
        _("%(code)r is not an office code (2-letter country and 3 characters, or 8 characters).")
        % {"code": code}
    )


def office_code(reference: str) -> str:
    """The Kerwen office code of an NCTS reference number: ``TM000A01`` -> ``TMA01`` for a national
    country; any other reference (``GB000120``, ``TM123456``) is kept as it is."""
    reference = (reference or "").strip().upper()
    if (
        OFFICE_REFERENCE.fullmatch(reference)
        and reference[:2] in _national_countries()
        and reference[2:5] == OFFICE_REFERENCE_FILLER
    ):
        return reference[:2] + reference[5:]
    return reference


# --- reference data -------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def known_countries() -> frozenset[str]:
    """ISO 3166 alpha-2 codes from the shipped reference file, plus the codes NCTS adds."""
    path = Path(settings.REFERENCE_DATA_DIR) / "iso3166_country_codes.csv"
    with path.open(encoding="utf-8", newline="") as file:
        codes = {row["ISO3166-1-Alpha-2"].strip() for row in csv.DictReader(file)}
    return frozenset(code for code in codes if code) | NCTS_EXTRA_COUNTRIES


def cc015c_schema() -> etree.XMLSchema:
    return xml_schema(SCHEMA_PATH)


# --- validation -------------------------------------------------------------------------------------------


def _root_problem(tree: etree._ElementTree) -> XmlProblem | None:
    # The schema also declares documentation elements (doc.xsd) as global elements: without this check
    # a lone <ncts:description value="x"/> would be "valid".
    root = tree.getroot()
    if root.tag != ROOT_TAG:
        return XmlProblem(
            line=root.sourceline or 1,
            message=_("The message is not a CC015C: its root element is %(tag)s.") % {"tag": root.tag},
            path="/",
        )
    return None


def cc015c_validate(content: bytes) -> list[XmlProblem]:
    """The problems that make ``content`` an invalid CC015C message against the phase 5 schema; empty
    when it is valid. A file refused before parsing (too large, entities, not well-formed) gives one
    problem. Business rules are not checked here: ``cc015c_read`` does."""
    try:
        tree = xml_parse(content)
    except XmlRefused as refused:
        return [XmlProblem(line=refused.line or 0, message=refused.message)]
    root_problem = _root_problem(tree)
    if root_problem:
        return [root_problem]
    return xml_validate(tree, cc015c_schema())


def _relative_path(schema_path: str) -> str:
    # "/ncts:CC015C/Consignment/HouseConsignment" -> "Consignment/HouseConsignment"
    parts = [part for part in (schema_path or "").split("/") if part]
    return "/".join(parts[1:])


# --- reading ----------------------------------------------------------------------------------------------


def _text(element: etree._Element | None, path: str) -> str:
    if element is None:
        return ""
    found = element.find(path)
    if found is None or found.text is None:
        return ""
    return found.text.strip()


def _decimal(element: etree._Element | None, path: str) -> Decimal | None:
    text = _text(element, path)
    return Decimal(text) if text else None  # the schema has checked the decimal pattern


def _sequence(element: etree._Element) -> int:
    text = _text(element, "sequenceNumber")
    return int(text) if text.isdigit() else 0


def _by_sequence(elements: list[etree._Element]) -> list[etree._Element]:
    # Repeated elements carry a sequenceNumber; the order of the route is that number, not the document's.
    return sorted(elements, key=_sequence)


def _party(element: etree._Element | None) -> PartyData | None:
    if element is None:
        return None
    return PartyData(
        identification=_text(element, "identificationNumber"),
        name=_text(element, "name"),
        street=_text(element, "Address/streetAndNumber"),
        city=_text(element, "Address/city"),
        postcode=_text(element, "Address/postcode"),
        country=_text(element, "Address/country"),
    )


class _Reader:
    """Reads one schema-valid CC015C tree, collecting business problems instead of stopping at the first."""

    def __init__(self, root: etree._Element):
        self.root = root
        self.problems: list[TransitProblem] = []

    def problem(self, path: str, code: str, message: str, element: etree._Element | None = None) -> None:
        line = element.sourceline if element is not None else None
        self.problems.append(TransitProblem(path=path, code=code, message=message, line=line))

    def country(self, element: etree._Element | None, path: str, value: str) -> str:
        if value and value not in known_countries():
            self.problem(
                path,
                "unknown_country",
                _("%(country)s is not a known country code.") % {"country": value},
                element,
            )
        return value

    def office(self, element: etree._Element, path: str) -> str:
        reference = _text(element, "referenceNumber")
        country = reference[:2]
        if country not in known_countries():
            self.problem(
                f"{path}/referenceNumber",
                "unknown_office_country",
                _(
                    "The office reference number %(reference)s does not start with a known country code "
                    "(%(country)s)."
                )
                % {"reference": reference, "country": country},
                element.find("referenceNumber"),
            )
        return office_code(reference)

    def party(self, element: etree._Element | None, path: str) -> PartyData | None:
        party = _party(element)
        if party is not None and party.country:
            self.country(element.find("Address/country"), f"{path}/Address/country", party.country)
        return party

    def read(self) -> TransitData:
        root = self.root
        operation = root.find("TransitOperation")
        consignment = root.find("Consignment")
        houses = consignment.findall("HouseConsignment")

        message_type = _text(root, "messageType")
        if message_type != MESSAGE_TYPE:
            self.problem(
                "messageType",
                "wrong_message_type",
                _("The message type is %(type)s, not CC015C.") % {"type": message_type},
                root.find("messageType"),
            )

        lrn = _text(operation, "LRN")
        if not LRN.fullmatch(lrn):
            self.problem(
                "TransitOperation/LRN",
                "lrn_format",
                _(
                    "The LRN %(lrn)r is not valid: up to 22 letters, digits and . _ / -, starting with a "
                    "letter or a digit."
                )
                % {"lrn": lrn},
                operation.find("LRN"),
            )

        time_limit = None
        if limit_text := _text(operation, "limitDate"):
            time_limit = datetime.date.fromisoformat(limit_text)
            prepared_at = datetime.datetime.fromisoformat(_text(root, "preparationDateAndTime"))
            if time_limit < prepared_at.date():
                self.problem(
                    "TransitOperation/limitDate",
                    "time_limit_before_preparation",
                    _("The arrival date limit %(limit)s is before the message was prepared (%(prepared)s).")
                    % {"limit": time_limit.isoformat(), "prepared": prepared_at.date().isoformat()},
                    operation.find("limitDate"),
                )

        departure = self.office(root.find("CustomsOfficeOfDeparture"), "CustomsOfficeOfDeparture")
        destination = self.office(
            root.find("CustomsOfficeOfDestinationDeclared"), "CustomsOfficeOfDestinationDeclared"
        )
        transit_offices = [
            self.office(element, f"CustomsOfficeOfTransitDeclared[{index}]")
            for index, element in enumerate(_by_sequence(root.findall("CustomsOfficeOfTransitDeclared")), 1)
        ]

        holder_element = root.find("HolderOfTheTransitProcedure")
        principal = self.party(holder_element, "HolderOfTheTransitProcedure")
        if not principal.identification and not principal.name:
            self.problem(
                "HolderOfTheTransitProcedure",
                "required",
                _("The holder of the transit procedure needs an identification number or a name."),
                holder_element,
            )

        # The Representative (identification, status, contact) has no place in TransitData: not read.

        guarantee_reference = self.guarantee_reference()

        # Consignor and consignee: on the consignment, or else on the first house consignment that has one.
        consignor = self.party(*_on_consignment_or_house(consignment, houses, "Consignor"))
        consignee = self.party(*_on_consignment_or_house(consignment, houses, "Consignee"))
        carrier_element = consignment.find("Carrier")
        carrier = (
            PartyData(identification=_text(carrier_element, "identificationNumber"))
            if carrier_element is not None
            else None
        )

        # The means of transport at departure: the first on the consignment, else on a house consignment.
        # Further ones (a trailer) and the active border transport means are not read.
        transport, transport_path = _on_consignment_or_house(consignment, houses, "DepartureTransportMeans")
        transport_nationality = self.country(
            transport.find("nationality") if transport is not None else None,
            f"{transport_path}/nationality",
            _text(transport, "nationality"),
        )

        containers, seals = [], []
        for equipment in _by_sequence(consignment.findall("TransportEquipment")):
            if container := _text(equipment, "containerIdentificationNumber"):
                containers.append(container)
            seals.extend(_text(seal, "identifier") for seal in _by_sequence(equipment.findall("Seal")))

        itinerary = [
            self.country(
                element.find("country"),
                f"Consignment/CountryOfRoutingOfConsignment[{index}]/country",
                _text(element, "country"),
            )
            for index, element in enumerate(
                _by_sequence(consignment.findall("CountryOfRoutingOfConsignment")), 1
            )
        ]

        return TransitData(
            lrn=lrn,
            declaration_type=_text(operation, "declarationType"),
            departure_office=departure,
            destination_office=destination,
            transit_offices=transit_offices,
            principal=principal,
            consignor=consignor,
            consignee=consignee,
            carrier=carrier,
            transport_identity=_text(transport, "identificationNumber"),
            transport_nationality=transport_nationality,
            containers=containers,
            seals=seals,
            itinerary=itinerary,
            time_limit=time_limit,
            guarantee_reference=guarantee_reference,
            previous_document=self.previous_document(consignment, houses),
            items=self.items(consignment, houses),
        )

    def guarantee_reference(self) -> str:
        """The first GRN of any guarantee, else the first other guarantee reference. TransitData holds
        one reference: further guarantees, access codes and amounts to be covered are not read."""
        guarantees = _by_sequence(self.root.findall("Guarantee"))
        for guarantee in guarantees:
            for reference in _by_sequence(guarantee.findall("GuaranteeReference")):
                if grn := _text(reference, "GRN"):
                    return grn
        for guarantee in guarantees:
            if other := _text(guarantee, "otherGuaranteeReference"):
                return other
        self.problem(
            "Guarantee",
            "required",
            _("No guarantee reference: a guarantee needs a GRN or another guarantee reference."),
            guarantees[0] if guarantees else None,
        )
        return ""

    def previous_document(self, consignment: etree._Element, houses: list[etree._Element]) -> str:
        """The first previous document's reference: on the consignment, a house consignment or an item.
        TransitData holds one reference and no type."""
        candidates = consignment.findall("PreviousDocument")
        for house in houses:
            candidates += house.findall("PreviousDocument")
            for item in house.findall("ConsignmentItem"):
                candidates += item.findall("PreviousDocument")
        for document in candidates:
            if reference := _text(document, "referenceNumber"):
                return reference
        return ""

    def items(self, consignment: etree._Element, houses: list[etree._Element]) -> list[TransitItemData]:
        consignment_dispatch = _text(consignment, "countryOfDispatch")
        consignment_destination = _text(consignment, "countryOfDestination")
        items: list[TransitItemData] = []
        numbers: set[int] = set()
        houses_gross_mass = Decimal(0)
        for house_index, house in enumerate(houses, 1):
            house_path = f"Consignment/HouseConsignment[{house_index}]"
            house_gross_mass = Decimal(_text(house, "grossMass"))
            houses_gross_mass += house_gross_mass
            house_dispatch = _text(house, "countryOfDispatch") or consignment_dispatch
            house_destination = _text(house, "countryOfDestination") or consignment_destination
            elements = house.findall("ConsignmentItem")
            items_gross_mass = Decimal(0)
            for item_index, element in enumerate(elements, 1):
                path = f"{house_path}/ConsignmentItem[{item_index}]"
                item = self.item(element, path, house_dispatch, house_destination)
                if item.gross_mass is None:
                    if len(elements) == 1:
                        # A single item without its own gross mass weighs what its house consignment does.
                        item.gross_mass = house_gross_mass
                    else:
                        self.problem(
                            f"{path}/Commodity/GoodsMeasure/grossMass",
                            "required",
                            _("Item %(number)s has no gross mass.") % {"number": item.number},
                            element,
                        )
                        item.gross_mass = Decimal(0)
                items_gross_mass += item.gross_mass
                if item.number in numbers:
                    self.problem(
                        f"{path}/declarationGoodsItemNumber",
                        "duplicate_item_number",
                        _("Item number %(number)s is used twice.") % {"number": item.number},
                        element.find("declarationGoodsItemNumber"),
                    )
                numbers.add(item.number)
                items.append(item)
            if items_gross_mass > house_gross_mass:
                self.problem(
                    f"{house_path}/grossMass",
                    "gross_mass_exceeds_consignment",
                    _("The items weigh %(items)s kg, more than their house consignment (%(house)s kg).")
                    % {"items": items_gross_mass, "house": house_gross_mass},
                    house.find("grossMass"),
                )
        consignment_gross_mass = Decimal(_text(consignment, "grossMass"))
        if houses_gross_mass > consignment_gross_mass:
            self.problem(
                "Consignment/grossMass",
                "gross_mass_exceeds_consignment",
                _("The house consignments weigh %(houses)s kg, more than the consignment (%(total)s kg).")
                % {"houses": houses_gross_mass, "total": consignment_gross_mass},
                consignment.find("grossMass"),
            )
        return items

    def item(self, element: etree._Element, path: str, dispatch: str, destination: str) -> TransitItemData:
        commodity = element.find("Commodity")
        number = int(_text(element, "declarationGoodsItemNumber"))

        harmonized = _text(commodity, "CommodityCode/harmonizedSystemSubHeadingCode")
        combined = _text(commodity, "CommodityCode/combinedNomenclatureCode")
        commodity_code = harmonized + combined
        if commodity_code and not (DIGITS.fullmatch(commodity_code) and len(commodity_code) in (6, 8)):
            self.problem(
                f"{path}/Commodity/CommodityCode",
                "commodity_code_format",
                _("The commodity code %(code)r of item %(number)s is not 6 or 8 digits.")
                % {"code": commodity_code, "number": number},
                commodity.find("CommodityCode"),
            )

        # TransitItemData has one kind of packages: the number is the sum over all packagings, the kind
        # that of the first.
        packagings = _by_sequence(element.findall("Packaging"))
        packages_number = sum(int(_text(packaging, "numberOfPackages") or 0) for packaging in packagings)
        package_kind = _text(packagings[0], "typeOfPackages") if packagings else ""

        gross_mass = _decimal(commodity, "GoodsMeasure/grossMass")
        net_mass = _decimal(commodity, "GoodsMeasure/netMass")
        if gross_mass is not None and net_mass is not None and net_mass > gross_mass:
            self.problem(
                f"{path}/Commodity/GoodsMeasure/netMass",
                "net_mass_exceeds_gross",
                _("Item %(number)s: the net mass (%(net)s kg) is more than the gross mass (%(gross)s kg).")
                % {"number": number, "net": net_mass, "gross": gross_mass},
                commodity.find("GoodsMeasure/netMass"),
            )

        item_dispatch = _text(element, "countryOfDispatch") or dispatch
        item_destination = _text(element, "countryOfDestination") or destination
        return TransitItemData(
            number=number,
            commodity_code=commodity_code,
            description=_text(commodity, "descriptionOfGoods"),
            packages_number=packages_number,
            package_kind=package_kind,
            gross_mass=gross_mass,
            net_mass=net_mass,
            # Phase 5 CC015C has no item value: value and currency stay empty.
            country_of_dispatch=self.country(
                element.find("countryOfDispatch"), f"{path}/countryOfDispatch", item_dispatch
            ),
            country_of_destination=self.country(
                element.find("countryOfDestination"), f"{path}/countryOfDestination", item_destination
            ),
        )


def _on_consignment_or_house(
    consignment: etree._Element, houses: list[etree._Element], tag: str
) -> tuple[etree._Element | None, str]:
    """The first ``tag`` element on the consignment, else on the first house consignment that has one,
    with its path."""
    found = consignment.find(tag)
    if found is not None:
        return found, f"Consignment/{tag}"
    for index, house in enumerate(houses, 1):
        found = house.find(tag)
        if found is not None:
            return found, f"Consignment/HouseConsignment[{index}]/{tag}"
    return None, f"Consignment/{tag}"


def cc015c_read(content: bytes) -> TransitData:
    """The ``TransitData`` of a CC015C message, after schema validation and business checks.

    Raises ``TransitMessageInvalid`` with every problem: the file's refusal (too large, entities, not
    well-formed), else its schema errors, else the business problems.
    """
    try:
        tree = xml_parse(content)
    except XmlRefused as refused:
        raise TransitMessageInvalid(
            [TransitProblem(path="", code=refused.code, message=refused.message, line=refused.line)]
        ) from None
    if root_problem := _root_problem(tree):
        raise TransitMessageInvalid(
            [
                TransitProblem(
                    path="", code="wrong_message", message=root_problem.message, line=root_problem.line
                )
            ]
        )
    schema_problems = xml_validate(tree, cc015c_schema())
    if schema_problems:
        raise TransitMessageInvalid(
            TransitProblem(
                path=_relative_path(problem.path), code="schema", message=problem.message, line=problem.line
            )
            for problem in schema_problems
        )
    reader = _Reader(tree.getroot())
    data = reader.read()
    if reader.problems:
        raise TransitMessageInvalid(reader.problems)
    return data


# --- writing ----------------------------------------------------------------------------------------------


def _add(parent: etree._Element, tag: str, text: object | None = None) -> etree._Element:
    element = etree.SubElement(parent, tag)
    if text is not None:
        element.text = text if isinstance(text, str) else str(text)
    return element


def _decimal_text(value: Decimal) -> str:
    # Fixed notation: the schema's decimal patterns refuse exponents ("1E+3").
    return format(value, "f")


def _add_party(parent: etree._Element, tag: str, party: PartyData) -> etree._Element:
    """A holder, consignor or consignee: identification, name, and the address when it is complete (the
    schema needs street, city and country together; a partial address cannot be written)."""
    element = _add(parent, tag)
    if party.identification:
        _add(element, "identificationNumber", party.identification)
    if party.name:
        _add(element, "name", party.name)
    if party.street and party.city and party.country:
        address = _add(element, "Address")
        _add(address, "streetAndNumber", party.street)
        if party.postcode:
            _add(address, "postcode", party.postcode)
        _add(address, "city", party.city)
        _add(address, "country", party.country)
    return element


def _common(values: Iterable[str]) -> str:
    """The one value all items share, or "" when they differ or are all empty."""
    distinct = set(values)
    return distinct.pop() if len(distinct) == 1 else ""


def _write_problems(data: TransitData) -> list[TransitProblem]:
    problems = []
    for path, code in [
        ("departure_office", data.departure_office),
        ("destination_office", data.destination_office),
    ]:
        try:
            office_reference(code)
        except ValueError as error:
            problems.append(TransitProblem(path=path, code="office_code_format", message=str(error)))
    for index, code in enumerate(data.transit_offices):
        try:
            office_reference(code)
        except ValueError as error:
            problems.append(
                TransitProblem(
                    path=f"transit_offices[{index}]", code="office_code_format", message=str(error)
                )
            )
    if not data.principal.identification and not data.principal.name:
        problems.append(
            TransitProblem(
                path="principal",
                code="required",
                message=_("The principal needs an identification or a name."),
            )
        )
    if not data.guarantee_reference:
        problems.append(
            TransitProblem(path="guarantee_reference", code="required", message=_("No guarantee reference."))
        )
    if not data.items:
        problems.append(
            TransitProblem(path="items", code="required", message=_("The movement has no items."))
        )
    return problems


def _prepared_text(prepared_at: datetime.datetime) -> str:
    # The schema's dateTime has no zone: an aware time is written in the service's local time zone.
    if timezone.is_aware(prepared_at):
        prepared_at = timezone.localtime(prepared_at)
    return prepared_at.strftime("%Y-%m-%dT%H:%M:%S")


def _build_message(
    data: TransitData,
    *,
    message_sender: str,
    message_recipient: str,
    prepared_at: datetime.datetime,
    message_identification: str = "",
) -> etree._Element:
    """The CC015C element tree of ``data``, not yet validated (``cc015c_write`` validates)."""
    root = etree.Element(ROOT_TAG, nsmap={"ncts": NAMESPACE})
    root.set("PhaseID", PHASE_ID)
    _add(root, "messageSender", message_sender)
    _add(root, "messageRecipient", message_recipient)
    _add(root, "preparationDateAndTime", _prepared_text(prepared_at))
    _add(root, "messageIdentification", message_identification or uuid.uuid4().hex)
    _add(root, "messageType", MESSAGE_TYPE)

    operation = _add(root, "TransitOperation")
    _add(operation, "LRN", data.lrn)
    _add(operation, "declarationType", data.declaration_type)
    # Required by the schema, not held by TransitData: documented defaults (see the constants).
    _add(operation, "additionalDeclarationType", DEFAULT_ADDITIONAL_DECLARATION_TYPE)
    _add(operation, "security", DEFAULT_SECURITY)
    _add(operation, "reducedDatasetIndicator", DEFAULT_REDUCED_DATASET)
    _add(operation, "bindingItinerary", DEFAULT_BINDING_ITINERARY)
    if data.time_limit:
        _add(operation, "limitDate", data.time_limit.isoformat())

    _add(_add(root, "CustomsOfficeOfDeparture"), "referenceNumber", office_reference(data.departure_office))
    _add(
        _add(root, "CustomsOfficeOfDestinationDeclared"),
        "referenceNumber",
        office_reference(data.destination_office),
    )
    for sequence, code in enumerate(data.transit_offices, 1):
        office = _add(root, "CustomsOfficeOfTransitDeclared")
        _add(office, "sequenceNumber", sequence)
        _add(office, "referenceNumber", office_reference(code))

    _add_party(root, "HolderOfTheTransitProcedure", data.principal)

    guarantee = _add(root, "Guarantee")
    _add(guarantee, "sequenceNumber", 1)
    # The guarantee type is required and not in TransitData: DEFAULT_GUARANTEE_TYPE. A reference shaped
    # like a GRN goes in GuaranteeReference/GRN, any other (a national guarantee number) in
    # otherGuaranteeReference.
    _add(guarantee, "guaranteeType", DEFAULT_GUARANTEE_TYPE)
    if GRN.fullmatch(data.guarantee_reference):
        reference = _add(guarantee, "GuaranteeReference")
        _add(reference, "sequenceNumber", 1)
        _add(reference, "GRN", data.guarantee_reference)
    else:
        _add(guarantee, "otherGuaranteeReference", data.guarantee_reference)

    consignment = _add(root, "Consignment")
    dispatch = _common(item.country_of_dispatch for item in data.items)
    destination = _common(item.country_of_destination for item in data.items)
    if dispatch:
        _add(consignment, "countryOfDispatch", dispatch)
    if destination:
        _add(consignment, "countryOfDestination", destination)
    _add(consignment, "containerIndicator", "1" if data.containers else "0")
    _add(consignment, "grossMass", _decimal_text(data.total_gross_mass))
    # Carrier: CC015C carries only its identification, and only in the TIN form (2 letters first); a
    # carrier identified otherwise is left out. Its name and address have no place in CC015C.
    if data.carrier and CARRIER_IDENTIFICATION.fullmatch(data.carrier.identification):
        _add(_add(consignment, "Carrier"), "identificationNumber", data.carrier.identification)
    if data.consignor:
        _add_party(consignment, "Consignor", data.consignor)
    if data.consignee:
        _add_party(consignment, "Consignee", data.consignee)

    # TransitData does not say which seal closes which container: one transport equipment per container,
    # all seals on the first one (or on an equipment without container when there is none).
    equipments = list(data.containers) or ([""] if data.seals else [])
    for sequence, container in enumerate(equipments, 1):
        equipment = _add(consignment, "TransportEquipment")
        _add(equipment, "sequenceNumber", sequence)
        if container:
            _add(equipment, "containerIdentificationNumber", container)
        equipment_seals = data.seals if sequence == 1 else []
        _add(equipment, "numberOfSeals", len(equipment_seals))
        for seal_sequence, identifier in enumerate(equipment_seals, 1):
            seal = _add(equipment, "Seal")
            _add(seal, "sequenceNumber", seal_sequence)
            _add(seal, "identifier", identifier)

    if data.transport_identity or data.transport_nationality:
        # The type of identification is optional and TransitData does not hold it: left out.
        transport = _add(consignment, "DepartureTransportMeans")
        _add(transport, "sequenceNumber", 1)
        if data.transport_identity:
            _add(transport, "identificationNumber", data.transport_identity)
        if data.transport_nationality:
            _add(transport, "nationality", data.transport_nationality)

    for sequence, country in enumerate(data.itinerary, 1):
        routing = _add(consignment, "CountryOfRoutingOfConsignment")
        _add(routing, "sequenceNumber", sequence)
        _add(routing, "country", country)

    if data.previous_document:
        document = _add(consignment, "PreviousDocument")
        _add(document, "sequenceNumber", 1)
        _add(document, "type", DEFAULT_PREVIOUS_DOCUMENT_TYPE)  # required; TransitData holds no type
        _add(document, "referenceNumber", data.previous_document)

    # All items in one house consignment.
    house = _add(consignment, "HouseConsignment")
    _add(house, "sequenceNumber", 1)
    _add(house, "grossMass", _decimal_text(data.total_gross_mass))
    for item in data.items:
        _add_item(house, item, dispatch=dispatch, destination=destination)
    return root


def _add_item(house: etree._Element, item: TransitItemData, *, dispatch: str, destination: str) -> None:
    element = _add(house, "ConsignmentItem")
    _add(element, "goodsItemNumber", item.number)
    _add(element, "declarationGoodsItemNumber", item.number)
    if item.country_of_dispatch and not dispatch:
        _add(element, "countryOfDispatch", item.country_of_dispatch)
    if item.country_of_destination and not destination:
        _add(element, "countryOfDestination", item.country_of_destination)
    commodity = _add(element, "Commodity")
    _add(commodity, "descriptionOfGoods", item.description)
    if item.commodity_code:
        # CC015C carries the HS subheading (6 digits) and the combined nomenclature (2 more): national
        # digits beyond the 8th have no place in the message.
        code = _add(commodity, "CommodityCode")
        _add(code, "harmonizedSystemSubHeadingCode", item.commodity_code[:6])
        if len(item.commodity_code) >= 8:
            _add(code, "combinedNomenclatureCode", item.commodity_code[6:8])
    measure = _add(commodity, "GoodsMeasure")
    _add(measure, "grossMass", _decimal_text(item.gross_mass))
    if item.net_mass is not None:
        _add(measure, "netMass", _decimal_text(item.net_mass))
    packaging = _add(element, "Packaging")
    _add(packaging, "sequenceNumber", 1)
    _add(packaging, "typeOfPackages", item.package_kind)
    _add(packaging, "numberOfPackages", item.packages_number)
    # Item value and currency: CC015C (phase 5) has no item value; not written.


def cc015c_write(
    data: TransitData,
    *,
    message_sender: str,
    message_recipient: str,
    prepared_at: datetime.datetime,
    message_identification: str = "",
) -> bytes:
    """A CC015C message (UTF-8 XML) for ``data``, validated against the phase 5 schema.

    ``message_identification`` defaults to a random identifier. Raises ``TransitMessageInvalid`` when
    ``data`` cannot be written (paths are TransitData fields) or the result breaks the schema (paths
    are element paths). Business rules of import (LRN format, ...) are not applied to our own data.
    """
    problems = _write_problems(data)
    if problems:
        raise TransitMessageInvalid(problems)
    root = _build_message(
        data,
        message_sender=message_sender,
        message_recipient=message_recipient,
        prepared_at=prepared_at,
        message_identification=message_identification,
    )
    schema_problems = xml_validate(root, cc015c_schema())
    if schema_problems:
        raise TransitMessageInvalid(
            TransitProblem(
                path=_relative_path(problem.path), code="schema", message=problem.message, line=problem.line
            )
            for problem in schema_problems
        )
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
