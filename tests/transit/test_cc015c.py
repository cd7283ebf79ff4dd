"""CC015C (NCTS phase 5 declaration data): validation, import into TransitData, export, round trips."""

import datetime
import zoneinfo
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from lxml import etree

from customs.xmlsafe import XmlProblem
from transit.data import PartyData, TransitData, TransitItemData
from transit.xml.cc015c import (
    TransitMessageInvalid,
    TransitProblem,
    cc015c_read,
    cc015c_validate,
    cc015c_write,
    office_code,
    office_reference,
)

NOT_EXPECTED = "Element 'messageRecipient': This element is not expected. Expected is ( messageSender )."
SAMPLES = Path(__file__).parent / "data" / "ncts-p5"
SCHEMA = Path(__file__).resolve().parents[2] / "transit" / "xml" / "xsd" / "cc015c.xsd"


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def problems_of(content: bytes) -> list[TransitProblem]:
    with pytest.raises(TransitMessageInvalid) as caught:
        cc015c_read(content)
    return caught.value.problems


def codes_at(content: bytes) -> list[tuple[str, str]]:
    return [(problem.path, problem.code) for problem in problems_of(content)]


def variant(name: str, *replacements: tuple[bytes, bytes]) -> bytes:
    content = sample(name)
    for old, new in replacements:
        assert old in content, old
        content = content.replace(old, new, 1)
    return content


VALID_2 = TransitData(
    lrn="MDTP-18",
    declaration_type="T1",
    departure_office="XI000081",
    destination_office="GB000120",
    transit_offices=["GB000060"],
    principal=PartyData(
        identification="XI985524247819",
        name="Trader 1",
        street="1 TRADER STREET",
        city="Belfast",
        postcode="BT12 5EE",
        country="BG",
    ),
    consignor=PartyData(
        identification="NL023111152",
        name="Klein Georg",
        street="Kapuzinergasse 3",
        city="Liege",
        postcode="45596-895",
        country="BG",
    ),
    consignee=PartyData(
        identification="NL023111152",
        name="Sofia Lemmens",
        street="Spastraat 7",
        city="Varna",
        postcode="20034-748",
        country="AE",
    ),
    carrier=PartyData(identification="NL023111152"),
    containers=["CSQU3054383"],
    seals=["F742"],
    time_limit=datetime.date(2023, 7, 30),
    guarantee_reference="20XI0000010000070",
    items=[
        TransitItemData(
            number=1,
            commodity_code="152000",
            description="Drum, steel",
            packages_number=10,
            package_kind="1A",
            gross_mass=Decimal("3340.102"),
            net_mass=Decimal("3340.102"),
            country_of_destination="GB",
        )
    ],
)


# --- the samples ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["cc015c-valid.xml", "cc015c-valid-2.xml"])
def test_valid_samples_pass_the_schema(name):
    assert cc015c_validate(sample(name)) == []


def test_valid_sample_2_imports_every_mapped_field():
    assert cc015c_read(sample("cc015c-valid-2.xml")) == VALID_2


def test_valid_sample_imports_a_minimal_declaration():
    data = cc015c_read(sample("cc015c-valid.xml"))

    assert data.lrn == "DHbrfgDQJRm"
    assert data.declaration_type == "gJ"
    assert (data.departure_office, data.destination_office, data.transit_offices) == (
        "GB3KMA8M",
        "BN3KMA8M",
        [],
    )
    assert data.principal == PartyData(identification="ezv3Z")
    assert (data.consignor, data.consignee, data.carrier) == (None, None, None)
    assert data.guarantee_reference == "iNkM2E"
    assert data.time_limit is None
    assert len(data.items) == 1
    item = data.items[0]
    assert (item.number, item.commodity_code, item.packages_number, item.package_kind) == (25, "", 0, "Nu")
    assert item.description.startswith("fds9YFrlk6DX7pnwQNgJ")
    # The item has no gross mass of its own: it is the only item, so it weighs its house consignment.
    assert item.gross_mass == Decimal("4380979244.527545")
    assert (item.net_mass, item.value, item.currency) == (None, None, "")


@pytest.mark.parametrize(
    ("name", "prepared_at"),
    [
        ("cc015c-valid.xml", datetime.datetime(2022, 7, 2, 3, 11, 4)),
        ("cc015c-valid-2.xml", datetime.datetime(2023, 4, 3, 10, 18, 16)),
    ],
)
def test_round_trip_read_write_validate_read_gives_equal_data(name, prepared_at):
    data = cc015c_read(sample(name))

    written = cc015c_write(
        data, message_sender="KERWEN.TM", message_recipient="NTA.GB", prepared_at=prepared_at
    )

    assert cc015c_validate(written) == []
    assert etree.XMLSchema(etree.parse(str(SCHEMA))).validate(etree.fromstring(written))  # independently
    assert cc015c_read(written) == data


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "cc015c-invalid.xml",
            TransitProblem(
                path="messageRecipient",
                code="schema",
                message=NOT_EXPECTED,
                line=2,
            ),
        ),
        (
            "cc015c-invalid-message-sender.xml",
            TransitProblem(
                path="messageSender",
                code="schema",
                message="Element 'messageSender': [facet 'pattern'] The value '' is not accepted by the "
                "pattern '.{1,35}'.",
                line=2,
            ),
        ),
        (
            "cc015c-invalid-lrn.xml",
            TransitProblem(
                path="TransitOperation/LRN",
                code="lrn_format",
                message="The LRN '{{LRN}}' is not valid: up to 22 letters, digits and . _ / -, starting with "
                "a letter or a digit.",
                line=8,
            ),
        ),
        (
            "cc015c-invalid-reference-departure.xml",
            TransitProblem(
                path="CustomsOfficeOfDeparture/referenceNumber",
                code="unknown_office_country",
                message="The office reference number XB3KMA8M does not start with a known country code (XB).",
                line=16,
            ),
        ),
    ],
)
def test_invalid_samples_are_refused_with_the_reason(name, expected):
    assert problems_of(sample(name)) == [expected]


def test_schema_errors_come_from_validate_with_line_numbers():
    assert cc015c_validate(sample("cc015c-invalid.xml")) == [
        XmlProblem(
            line=2,
            message=NOT_EXPECTED,
            path="/ncts:CC015C/messageRecipient",
        )
    ]


@pytest.mark.parametrize("name", ["cc015c-invalid-lrn.xml", "cc015c-invalid-reference-departure.xml"])
def test_business_rule_samples_pass_the_schema_and_fail_only_on_import(name):
    assert cc015c_validate(sample(name)) == []
    assert [problem.code for problem in problems_of(sample(name))] != ["schema"]


# --- business checks on variants of the valid samples -----------------------------------------------------


def test_net_mass_above_gross_mass_is_refused():
    content = variant("cc015c-valid-2.xml", (b"<netMass>3340.102</netMass>", b"<netMass>3340.2</netMass>"))

    (problem,) = problems_of(content)

    assert (problem.path, problem.code) == (
        "Consignment/HouseConsignment[1]/ConsignmentItem[1]/Commodity/GoodsMeasure/netMass",
        "net_mass_exceeds_gross",
    )
    assert problem.message == "Item 1: the net mass (3340.2 kg) is more than the gross mass (3340.102 kg)."
    assert problem.line == 162


@pytest.mark.parametrize(
    ("lrn", "valid"),
    [
        (b"MDTP-18", True),
        (b"TM2026/000123.a_b", True),
        (b"A" * 22, True),
        (b"{{LRN}}", False),
        (b"-18", False),
        (b"LRN 18", False),
        (b"LRN#18", False),
    ],
)
def test_lrn_format(lrn, valid):
    content = variant("cc015c-valid-2.xml", (b"<LRN>MDTP-18</LRN>", b"<LRN>" + lrn + b"</LRN>"))

    if valid:
        assert cc015c_read(content).lrn == lrn.decode()
    else:
        assert codes_at(content) == [("TransitOperation/LRN", "lrn_format")]


def test_an_lrn_longer_than_22_characters_breaks_the_schema():
    content = variant("cc015c-valid-2.xml", (b"<LRN>MDTP-18</LRN>", b"<LRN>" + b"A" * 23 + b"</LRN>"))

    assert codes_at(content) == [("TransitOperation/LRN", "schema")]


def test_offices_of_destination_and_transit_need_a_known_country():
    content = variant(
        "cc015c-valid-2.xml",
        (b"<referenceNumber>GB000120</referenceNumber>", b"<referenceNumber>QQ000120</referenceNumber>"),
        (b"<referenceNumber>GB000060</referenceNumber>", b"<referenceNumber>ZZ000060</referenceNumber>"),
    )

    assert codes_at(content) == [
        ("CustomsOfficeOfDestinationDeclared/referenceNumber", "unknown_office_country"),
        ("CustomsOfficeOfTransitDeclared[1]/referenceNumber", "unknown_office_country"),
    ]


def test_an_office_reference_of_the_wrong_shape_breaks_the_schema():
    content = variant(
        "cc015c-valid-2.xml",
        (b"<referenceNumber>XI000081</referenceNumber>", b"<referenceNumber>TMA01</referenceNumber>"),
    )

    # Two facets fail: the length (8) and the pattern.
    assert codes_at(content) == [("CustomsOfficeOfDeparture/referenceNumber", "schema")] * 2


def test_unknown_countries_in_parties_are_refused():
    content = variant(
        "cc015c-valid-2.xml",
        (b"<country>AE</country>", b"<country>QQ</country>"),
        (
            b"<countryOfDestination>GB</countryOfDestination>",
            b"<countryOfDestination>QZ</countryOfDestination>",
        ),
    )

    assert codes_at(content) == [
        ("Consignment/Consignee/Address/country", "unknown_country"),
        ("Consignment/HouseConsignment[1]/ConsignmentItem[1]/countryOfDestination", "unknown_country"),
    ]


def test_a_holder_without_identification_or_name_is_refused():
    content = variant(
        "cc015c-valid.xml",
        (b"<identificationNumber>ezv3Z</identificationNumber>", b""),
    )

    assert codes_at(content) == [("HolderOfTheTransitProcedure", "required")]


def test_a_guarantee_without_any_reference_is_refused():
    content = variant("cc015c-valid.xml", (b"<otherGuaranteeReference>iNkM2E</otherGuaranteeReference>", b""))

    assert codes_at(content) == [("Guarantee", "required")]


def test_an_arrival_date_limit_before_the_preparation_is_refused():
    content = variant(
        "cc015c-valid-2.xml", (b"<limitDate>2023-07-30</limitDate>", b"<limitDate>2023-04-02</limitDate>")
    )

    (problem,) = problems_of(content)

    assert (problem.path, problem.code) == ("TransitOperation/limitDate", "time_limit_before_preparation")
    assert (
        problem.message
        == "The arrival date limit 2023-04-02 is before the message was prepared (2023-04-03)."
    )


def test_items_heavier_than_their_house_consignment_are_refused():
    content = variant(
        "cc015c-valid-2.xml", (b"<grossMass>6000.204</grossMass>", b"<grossMass>3000</grossMass>")
    )

    assert codes_at(content) == [
        ("Consignment/HouseConsignment[1]/grossMass", "gross_mass_exceeds_consignment")
    ]


def test_house_consignments_heavier_than_the_consignment_are_refused():
    content = variant(
        "cc015c-valid-2.xml", (b"<grossMass>60000.204</grossMass>", b"<grossMass>5000</grossMass>")
    )

    assert codes_at(content) == [("Consignment/grossMass", "gross_mass_exceeds_consignment")]


def test_a_commodity_code_that_is_not_digits_is_refused():
    content = variant(
        "cc015c-valid-2.xml",
        (b"<harmonizedSystemSubHeadingCode>152000", b"<harmonizedSystemSubHeadingCode>15200X"),
    )

    assert codes_at(content) == [
        (
            "Consignment/HouseConsignment[1]/ConsignmentItem[1]/Commodity/CommodityCode",
            "commodity_code_format",
        )
    ]


def second_item(number: bytes, *, gross_mass: bool = True) -> bytes:
    measure = b"<GoodsMeasure><grossMass>100</grossMass></GoodsMeasure>" if gross_mass else b""
    return (
        b"<ConsignmentItem><goodsItemNumber>2</goodsItemNumber><declarationGoodsItemNumber>"
        + number
        + b"</declarationGoodsItemNumber><Commodity><descriptionOfGoods>Bolts</descriptionOfGoods>"
        + measure
        + b"</Commodity><Packaging><sequenceNumber>1</sequenceNumber><typeOfPackages>CT</typeOfPackages>"
        b"<numberOfPackages>3</numberOfPackages></Packaging></ConsignmentItem>\n        </HouseConsignment>"
    )


def test_a_second_item_with_its_own_country_and_mass_is_read():
    content = variant("cc015c-valid-2.xml", (b"</HouseConsignment>", second_item(b"2")))

    items = cc015c_read(content).items

    assert [(item.number, item.gross_mass, item.packages_number, item.package_kind) for item in items] == [
        (1, Decimal("3340.102"), 10, "1A"),
        (2, Decimal("100"), 3, "CT"),
    ]
    assert [item.country_of_destination for item in items] == ["GB", "GB"]  # from the consignment


def test_a_duplicate_item_number_is_refused():
    content = variant("cc015c-valid-2.xml", (b"</HouseConsignment>", second_item(b"1")))

    assert codes_at(content) == [
        (
            "Consignment/HouseConsignment[1]/ConsignmentItem[2]/declarationGoodsItemNumber",
            "duplicate_item_number",
        )
    ]


def test_an_item_without_gross_mass_among_several_is_refused():
    content = variant("cc015c-valid-2.xml", (b"</HouseConsignment>", second_item(b"2", gross_mass=False)))

    assert codes_at(content) == [
        ("Consignment/HouseConsignment[1]/ConsignmentItem[2]/Commodity/GoodsMeasure/grossMass", "required")
    ]


def test_every_business_problem_is_reported_at_once():
    content = variant(
        "cc015c-invalid-lrn.xml",
        (b"<referenceNumber>GB3KMA8M</referenceNumber>", b"<referenceNumber>XB3KMA8M</referenceNumber>"),
        (b"<otherGuaranteeReference>iNkM2E</otherGuaranteeReference>", b""),
    )

    assert codes_at(content) == [
        ("TransitOperation/LRN", "lrn_format"),
        ("CustomsOfficeOfDeparture/referenceNumber", "unknown_office_country"),
        ("Guarantee", "required"),
    ]


def test_a_message_that_is_not_a_cc015c_is_refused():
    # The CC015C schema declares its documentation elements globally: only the root check catches this.
    content = b'<ncts:description xmlns:ncts="http://ncts.dgtaxud.ec" value="x"/>'

    assert [problem.path for problem in cc015c_validate(content)] == ["/"]
    assert codes_at(content) == [("", "wrong_message")]


def test_hostile_xml_is_refused_before_reading(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("password")
    content = sample("cc015c-valid.xml").replace(
        b"<ncts:CC015C", f'<!DOCTYPE x [<!ENTITY x SYSTEM "file://{secret}">]>\n<ncts:CC015C'.encode(), 1
    )
    content = content.replace(b"<LRN>DHbrfgDQJRm</LRN>", b"<LRN>&x;</LRN>")

    assert codes_at(content) == [("", "entities_forbidden")]
    assert cc015c_validate(content)[0].message.startswith("The file declares XML entities")


def test_malformed_xml_is_refused_with_its_line():
    content = sample("cc015c-valid.xml").replace(b"</LRN>", b"</LRM>")

    (problem,) = problems_of(content)

    assert (problem.code, problem.line) == ("not_well_formed", 8)


# --- office codes -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "reference"),
    [("TMA01", "TM000A01"), ("TM001", "TM000001"), ("TM000", "TM000000"), ("TMZZZ", "TM000ZZZ")],
)
def test_our_office_codes_map_to_references_and_back(code, reference):
    assert office_reference(code) == reference
    assert office_code(reference) == code


@pytest.mark.parametrize("reference", ["GB000120", "XI000081", "TM123456", "TM00A001", "BN3KMA8M"])
def test_other_references_are_kept_as_they_are(reference):
    assert office_code(reference) == reference
    assert office_reference(reference) == reference


@pytest.mark.parametrize("code", ["", "TM", "TMA0", "TMA001", "TMA0001", "TM-01", "T1A01", "TMA01234X"])
def test_a_code_that_fits_neither_shape_cannot_be_mapped(code):
    with pytest.raises(ValueError):
        office_reference(code)


def test_the_national_countries_are_a_setting(settings):
    settings.TRANSIT_NATIONAL_COUNTRIES = ["KZ", "TM"]

    assert office_code("KZ000A01") == "KZA01"
    assert office_code("GB000120") == "GB000120"


# --- writing Kerwen's own movements -----------------------------------------------------------------------


def kerwen_movement(**changes) -> TransitData:
    data = TransitData(
        lrn="TM2026-000123",
        departure_office="TMA01",
        destination_office="KZ000123",
        transit_offices=["TMF01", "UZ000456"],
        principal=PartyData(
            identification="101012345678",
            name="Altyn Ýol Logistics",
            street="Magtymguly şaýoly 12",
            city="Aşgabat",
            postcode="744000",
            country="TM",
        ),
        consignor=PartyData(name="Gurbansoltan Textiles", street="Oguzhan 5", city="Mary", country="TM"),
        consignee=PartyData(identification="KZ123456789012", name="Almaty Trade"),
        carrier=PartyData(identification="TM101012345678", name="Altyn Ýol"),
        transport_identity="AG 1234 AG",
        transport_nationality="TM",
        containers=["MSCU1234565", "MSCU7654321"],
        seals=["TM001", "TM002", "TM003"],
        itinerary=["TM", "UZ", "KZ"],
        time_limit=datetime.date(2026, 3, 20),
        guarantee_reference="TM-G-2026-0042",
        previous_document="TMA01 2026 E 10452",
        items=[
            TransitItemData(
                number=1,
                commodity_code="52081200",
                description="Cotton fabric, woven, bleached",
                packages_number=40,
                package_kind="BL",
                gross_mass=Decimal("12000.500"),
                net_mass=Decimal("11800"),
                country_of_dispatch="TM",
                country_of_destination="KZ",
            ),
            TransitItemData(
                number=2,
                commodity_code="630260",
                description="Terry towels",
                packages_number=120,
                package_kind="CT",
                gross_mass=Decimal("2400.25"),
                country_of_dispatch="TM",
                country_of_destination="RU",
            ),
        ],
    )
    for name, value in changes.items():
        setattr(data, name, value)
    return data


def write(data: TransitData, **options) -> bytes:
    options = {
        "message_sender": "KERWEN.TM",
        "message_recipient": "NTA.KZ",
        "prepared_at": datetime.datetime(2026, 3, 10, 9, 30),
        "message_identification": "TM-MSG-1",
    } | options
    return cc015c_write(data, **options)


def test_a_kerwen_movement_is_written_valid_and_read_back_equal():
    data = kerwen_movement()

    written = write(data)

    assert cc015c_validate(written) == []
    back = cc015c_read(written)
    # The carrier's name has no place in CC015C (only its identification does).
    assert back.carrier == PartyData(identification="TM101012345678")
    back.carrier = data.carrier
    assert back == data


def test_the_written_message_carries_offices_transport_seals_and_defaults():
    root = etree.fromstring(write(kerwen_movement()))

    assert root.tag == "{http://ncts.dgtaxud.ec}CC015C"
    assert root.get("PhaseID") == "NCTS5.0"
    assert [
        root.findtext(tag) for tag in ("messageSender", "preparationDateAndTime", "messageIdentification")
    ] == [
        "KERWEN.TM",
        "2026-03-10T09:30:00",
        "TM-MSG-1",
    ]
    assert root.findtext("CustomsOfficeOfDeparture/referenceNumber") == "TM000A01"
    assert [
        element.findtext("referenceNumber") for element in root.findall("CustomsOfficeOfTransitDeclared")
    ] == [
        "TM000F01",
        "UZ000456",
    ]
    assert root.findtext("TransitOperation/additionalDeclarationType") == "A"
    assert root.findtext("TransitOperation/security") == "0"
    assert root.findtext("Guarantee/guaranteeType") == "1"
    assert root.findtext("Guarantee/otherGuaranteeReference") == "TM-G-2026-0042"
    assert root.findtext("Consignment/grossMass") == "14400.750"
    assert root.findtext("Consignment/countryOfDispatch") == "TM"
    assert root.findtext("Consignment/countryOfDestination") is None  # the items differ
    assert [
        e.text for e in root.iterfind("Consignment/HouseConsignment/ConsignmentItem/countryOfDestination")
    ] == [
        "KZ",
        "RU",
    ]
    equipments = root.findall("Consignment/TransportEquipment")
    assert [
        (e.findtext("containerIdentificationNumber"), e.findtext("numberOfSeals")) for e in equipments
    ] == [
        ("MSCU1234565", "3"),
        ("MSCU7654321", "0"),
    ]
    assert root.findtext("Consignment/DepartureTransportMeans/identificationNumber") == "AG 1234 AG"
    assert root.findtext("Consignment/PreviousDocument/type") == "N830"
    assert (
        root.findtext(
            "Consignment/HouseConsignment/ConsignmentItem/Commodity/CommodityCode/combinedNomenclatureCode"
        )
        == "00"
    )


def test_a_grn_is_written_as_a_guarantee_reference():
    root = etree.fromstring(write(kerwen_movement(guarantee_reference="26TM0000010000070")))

    assert root.findtext("Guarantee/GuaranteeReference/GRN") == "26TM0000010000070"
    assert root.find("Guarantee/otherGuaranteeReference") is None


def test_seals_without_containers_go_on_one_equipment():
    root = etree.fromstring(write(kerwen_movement(containers=[])))

    (equipment,) = root.findall("Consignment/TransportEquipment")
    assert equipment.find("containerIdentificationNumber") is None
    assert [seal.findtext("identifier") for seal in equipment.findall("Seal")] == ["TM001", "TM002", "TM003"]
    assert root.findtext("Consignment/containerIndicator") == "0"


def test_what_cc015c_cannot_carry_is_left_out():
    data = kerwen_movement(
        carrier=PartyData(identification="101012345678", name="Numeric id carrier"),
        mrn="26TMA01000012345X",
    )
    data.items[0].commodity_code = "5208120010"
    data.items[0].value = Decimal("15000.00")
    data.items[0].currency = "USD"

    back = cc015c_read(write(data))

    assert back.carrier is None  # CC015C takes only TIN-shaped carrier identifications
    assert back.mrn == ""
    assert back.items[0].commodity_code == "52081200"  # digits beyond the 8th have no place
    assert (back.items[0].value, back.items[0].currency) == (None, "")


def test_an_aware_preparation_time_is_written_in_local_time():
    prepared_at = datetime.datetime(2026, 3, 10, 4, 30, tzinfo=zoneinfo.ZoneInfo("UTC"))

    with timezone.override(zoneinfo.ZoneInfo("Asia/Ashgabat")):
        root = etree.fromstring(write(kerwen_movement(), prepared_at=prepared_at))

    assert root.findtext("preparationDateAndTime") == "2026-03-10T09:30:00"  # UTC+5


def test_a_random_message_identification_by_default():
    first = etree.fromstring(write(kerwen_movement(), message_identification=""))
    second = etree.fromstring(write(kerwen_movement(), message_identification=""))

    assert first.findtext("messageIdentification") != second.findtext("messageIdentification")


def test_a_movement_that_cannot_be_written_is_refused_field_by_field():
    data = kerwen_movement(
        departure_office="TMA0001",
        transit_offices=["TMF01", "??"],
        principal=PartyData(),
        guarantee_reference="",
        items=[],
    )

    with pytest.raises(TransitMessageInvalid) as caught:
        write(data)

    assert [(problem.path, problem.code) for problem in caught.value.problems] == [
        ("departure_office", "office_code_format"),
        ("transit_offices[1]", "office_code_format"),
        ("principal", "required"),
        ("guarantee_reference", "required"),
        ("items", "required"),
    ]


def test_a_movement_breaking_the_schema_is_refused_with_the_element():
    data = kerwen_movement(seals=["S" * 21])

    with pytest.raises(TransitMessageInvalid) as caught:
        write(data)

    assert [(problem.path, problem.code) for problem in caught.value.problems] == [
        ("Consignment/TransportEquipment[1]/Seal/identifier", "schema")
    ]
