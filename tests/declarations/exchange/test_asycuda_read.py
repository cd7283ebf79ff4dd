"""The ASYCUDA World reader on the eight real sample files, and on a few edits of them."""

import datetime
import re
from decimal import Decimal

import pytest
from lxml import etree

from declarations.exchange.asycuda import asycuda_read
from declarations.exchange.base import FileDocument, FileTaxLine, ImportUnreadable, PartyRef
from declarations.services.drafts import GENERAL_NUMBER_FIELDS, GENERAL_TEXT_FIELDS, ITEM_PLAIN_FIELDS
from declarations.services.validation import GENERAL_CODE_FIELDS, ITEM_CODE_FIELDS

D = Decimal

CAA = "albania_sc001cs_CAA_21_TETOR_KORE_8.xml"
ENERGO = "albania_sc001cs_ENERGO_IM4_TURQI.xml"
FORD = "albania_sc001cs_FORD_IM4_902.xml"
TENDENCA = "albania_sc001cs_TENDENCA_IM7_48228.xml"
APR2015 = "grenada_autobot_Apr2015-11971-F4a.xml"
SAMPLE5 = "grenada_autobot_Asycuda421Sample5.xml"
NEW3 = "grenada_autobot_new3_IM7_190items.xml"
NEPAL = "nepal_ushan7_sample_xml_format_IM4_119items.xml"
FILES = [CAA, ENERGO, FORD, TENDENCA, APR2015, SAMPLE5, NEW3, NEPAL]

# What each file says, checked by hand against the file:
# (items, type, office, invoice amount, invoice currency, sum of the items' gross mass, the header's
#  gross mass, first item's commodity code, origin, CPC)
EXPECTED = {
    CAA: (9, "IM4", "AL110000", D("14643"), "EUR", D("8110.853"), D("8110.853"), "4011100030", "KR", "4000"),
    ENERGO: (1, "IM4", "AL110000", D("6516"), "EUR", D("4110"), D("4110.0"), "7614100000", "TR", "4000"),
    FORD: (1, "IM4", "AL110000", D("21095"), "EUR", D("1908.0"), D("1908.0"), "8703321900", "ES", "4000"),
    TENDENCA: (1, "IM7", "AL110000", D("16131"), "EUR", D("1250"), D("1250.0"), "8703311000", "FR", "7100"),
    # EX9 (export from a warehouse, CPC 9370) is no Kerwen type: flagged, left for the declarant.
    APR2015: (1, None, "GDSGO", D("61.1"), "XCD", D("0.167"), D("0.167"), "3208905000", "QN", "9370"),
    SAMPLE5: (3, "IM7", "GDSGO", D("2079.5"), "USD", D("33.60"), D("33.6"), "8504400000", "CN", "7000"),
    NEW3: (190, "IM7", "GDSGO", D("152077.7"), "USD", D("9071.94"), D("9071.94"), "2207200000", "QN", "7000"),
    # The Nepal file gives no currency code in any amount block.
    NEPAL: (119, "IM4", "TIA00", D("2108.89"), None, D("199.00"), D("199.0000"), "8504409090", "CN", "4000"),
}

# Leaves the reader does not report one by one (paths without indices):
IGNORED_PATHS = {
    # names written next to a code: Kerwen names a code from its own code lists
    "Identification/Office_segment/Customs_Clearance_office_name",
    "General_information/Country/Export/Export_country_name",
    "General_information/Country/Destination/Destination_country_name",
    "Item/Packages/Kind_of_packages_name",
    "Item/Tarification/Supplementary_unit/Suppplementary_unit_name",
    "Item/Attached_documents/Attached_document_name",
}
# ... and the currency name of every amount block ("No foreign currency", "Ska monedhe te huaj"): a name
# of the block's currency code, often a placeholder that does not even match it.
IGNORED_SUFFIX = "/Currency_name"


def _read(asycuda_dir, name):
    return asycuda_read(etree.parse(str(asycuda_dir / name)))


def _source(tree, element) -> str:
    path = tree.getpath(element)[len("/ASYCUDA/") :]
    return "Item[1]" + path[4:] if path == "Item" or path.startswith("Item/") else path


@pytest.mark.parametrize("name", FILES)
def test_read_the_header_and_the_first_item(asycuda_dir, name):
    items, kind, office, amount, currency, items_mass, header_mass, code, origin, cpc = EXPECTED[name]
    tree = etree.parse(str(asycuda_dir / name))
    imported = asycuda_read(tree)
    data = imported.data

    assert imported.format == "asycuda"
    assert len(data["items"]) == items
    assert len(tree.getroot().findall("Item")) == items
    assert imported.totals["items"] == items
    assert data.get("declaration_type") == kind
    assert imported.office_code == office
    assert data["invoice_amount"] == amount
    assert data.get("invoice_currency") == currency
    assert imported.totals["invoice_amount"] == amount
    assert sum(item["gross_mass"] for item in data["items"]) == items_mass
    assert imported.totals["gross_mass"] == header_mass
    first = data["items"][0]
    assert (first["commodity_code"], first["origin"], first["procedure_code"]) == (code, origin, cpc)


@pytest.mark.parametrize("name", FILES)
def test_every_value_of_the_file_is_mapped_or_left_out(asycuda_dir, name):
    tree = etree.parse(str(asycuda_dir / name))
    report = asycuda_read(tree).report
    reported: dict[str, set[str]] = {}
    for entry in [*report.mapped, *report.left_out]:
        reported.setdefault(entry.source, set()).add(entry.value)

    missing = []
    for element in tree.getroot().iter(etree.Element):
        value = (element.text or "").strip()
        if len(element) or not value:  # <null/> children and empty elements are no value
            continue
        source = _source(tree, element)
        path = re.sub(r"\[\d+\]", "", source)
        if path in IGNORED_PATHS or path.endswith(IGNORED_SUFFIX):
            continue
        if value not in reported.get(source, set()):
            missing.append((source, value))
    assert missing == []


@pytest.mark.parametrize("name", FILES)
def test_the_data_has_only_the_drafts_fields(asycuda_dir, name):
    data = _read(asycuda_dir, name).data
    general = {
        "declaration_type",
        "lrn",
        "items",
        *GENERAL_TEXT_FIELDS,
        *GENERAL_NUMBER_FIELDS,
        *GENERAL_CODE_FIELDS,
    }
    item_fields = {"quantities", *ITEM_PLAIN_FIELDS, *ITEM_CODE_FIELDS}
    assert set(data) - general == set()
    assert set().union(*(set(item) for item in data["items"])) - item_fields == set()


def test_an_import_of_the_ford(asycuda_dir):
    imported = _read(asycuda_dir, FORD)
    data = imported.data

    assert {key: value for key, value in data.items() if key != "items"} == {
        "declaration_type": "IM4",
        "counterparty_name": "Exporter 707CB0, 1 Sample Street, Sample City",
        "counterparty_country": "CY",
        "dispatch_country": "SI",
        "destination_country": "AL",
        "transport_mode": "31",
        "transport_identity": "REF44D1A8",
        "transport_nationality": "ME",
        "incoterm": "CIF",
        "delivery_place": "KOPER/SLLOVENI",
        "invoice_amount": D("21095"),
        "invoice_currency": "EUR",
        "freight_amount": D("383.34"),
        "freight_currency": "EUR",
        "total_packages": 1,
    }
    assert data["items"] == [
        {
            "commodity_code": "8703321900",
            "description": 'AUTOVETURE E RE: "FORD MONDEO PSA 2.0",1997CC,VITI 2016,NAFTE',
            "origin": "ES",
            "procedure_code": "4000",
            "additional_procedure_code": "000",
            "packages_number": 1,
            "package_kind": "09",
            "gross_mass": D("1908.0"),
            "net_mass": D("1908"),
            "quantities": {"C62": D("1.0")},
            "invoice_price": D("21095"),
        }
    ]
    assert imported.parties == [
        PartyRef(role="trader", code="XB53AED", name="Consignee 0BFCBD, 1 Sample Street, Sample City"),
        PartyRef(role="declarant", code="XE1A622", name="Declarant 1A682B, 1 Sample Street, Sample City"),
        PartyRef(
            role="counterparty", code="", name="Exporter 707CB0, 1 Sample Street, Sample City", country="CY"
        ),
    ]
    assert imported.exchange_rates == {"EUR": D("137.33")}
    assert len(imported.documents) == 8
    assert imported.documents[0] == FileDocument(
        item_number=1, document_type="380", reference="REFBC1278", issued_on=datetime.date(2016, 10, 25)
    )
    assert imported.documents[3] == FileDocument(
        item_number=1, document_type="382", reference="REF1F4C16", issued_on=None
    )
    assert [(flag.field, flag.code) for flag in imported.report.flagged] == [
        ("items[1].commodity_code", "commodity_code_too_long")  # 87033219 + national 000: 11 digits
    ]
    office = imported.report.mapped[0]
    assert (office.field, office.source, office.value) == (
        "office",
        "Identification/Office_segment/Customs_clearance_office_code",
        "AL110000",
    )


def test_the_taxation_lines_of_the_file(asycuda_dir):
    imported = _read(asycuda_dir, FORD)

    assert imported.file_taxes == [
        FileTaxLine(
            item_number=1, tax_code="DOG", base=D("2405243"), rate="0.0", amount=D("0"), payment_mode="1"
        ),
        FileTaxLine(
            item_number=1, tax_code="TVS", base=D("2405236"), rate="0.2", amount=D("481047"), payment_mode="1"
        ),
    ]
    assert imported.totals["taxes"] == D("484069.0")


def test_the_taxation_lines_of_many_items(asycuda_dir):
    imported = _read(asycuda_dir, NEW3)

    assert len(imported.file_taxes) == 751
    assert imported.file_taxes[0] == FileTaxLine(
        item_number=1, tax_code="CET", base=D("212.27"), rate="25", amount=D("53.07"), payment_mode="0"
    )
    assert imported.file_taxes[-1].item_number == 190


def test_several_supplementary_units_and_the_suppliers_invoice(asycuda_dir):
    imported = _read(asycuda_dir, NEW3)

    assert imported.data["items"][0]["quantities"] == {"NMB": D("14"), "LTR": D("67.99")}
    assert imported.data["lrn"] == "05"
    assert imported.data["freight_amount"] == D("2597.46")  # Gs_External_freight, with a capital E
    assert imported.documents[-1] == FileDocument(
        item_number=None, document_type="IV05", reference="21000255", issued_on=datetime.date(2012, 3, 30)
    )


def test_an_unknown_type_is_flagged_and_the_export_trader_is_the_exporter(asycuda_dir):
    imported = _read(asycuda_dir, APR2015)

    assert "declaration_type" not in imported.data
    assert [(flag.field, flag.value, flag.code) for flag in imported.report.flagged] == [
        ("declaration_type", "EX9", "unknown_type")
    ]
    assert imported.parties == [
        PartyRef(role="trader", code="X010BA5", name="Exporter 5DCC0E, 1 Sample Street, Sample City"),
        PartyRef(role="declarant", code="XBE1852", name="Declarant 02654E, 1 Sample Street, Sample City"),
    ]
    left_out = {entry.source: entry.value for entry in imported.report.left_out}
    assert left_out["Identification/Type/Type_of_declaration"] == "EX"
    assert left_out["Prev_decl/Prev_decl_reg_number"] == "11971"


def test_a_type_kerwen_lacks_is_taken_from_the_procedure_code(asycuda_dir):
    tree = etree.parse(str(asycuda_dir / FORD))
    tree.getroot().find("Identification/Type/Declaration_gen_procedure_code").text = "9"

    imported = asycuda_read(tree)

    assert imported.data["declaration_type"] == "IM4"  # CPC 4000
    assert [
        entry.field for entry in imported.report.mapped if entry.source.endswith("Extended_customs_procedure")
    ] == [
        "declaration_type",
        "items[1].procedure_code",
    ]


def test_amounts_without_currency_and_packages_in_fractions(asycuda_dir):
    imported = _read(asycuda_dir, NEPAL)
    data = imported.data

    assert "freight_amount" not in data
    assert "insurance_amount" not in data
    assert "packages_number" not in data["items"][0]
    assert imported.exchange_rates == {}
    flags = [(flag.field, flag.value, flag.code) for flag in imported.report.flagged]
    assert flags[:3] == [
        ("invoice_currency", "", "missing_currency"),
        ("freight_amount", "1135.55", "missing_currency"),
        ("insurance_amount", "1665.49", "missing_currency"),
    ]
    assert ("items[1].packages_number", "0.06", "not_a_whole_number") in flags
    left_out = {entry.source: entry.value for entry in imported.report.left_out}
    assert left_out["Valuation/Gs_external_freight/Amount_foreign_currency"] == "1135.55"
    assert left_out["Item[1]/Packages/Number_of_packages"] == "0.06"


def test_the_internal_freight_is_flagged_and_the_rates_are_kept(asycuda_dir):
    imported = _read(asycuda_dir, SAMPLE5)

    assert imported.exchange_rates == {"USD": D("2.7169")}
    assert [(flag.field, flag.value, flag.code) for flag in imported.report.flagged] == [
        ("other_costs_amount", "49.29", "internal_freight")
    ]
    assert imported.data["lrn"] == "715557"


def test_the_rates_of_two_currencies(asycuda_dir):
    imported = _read(asycuda_dir, CAA)

    assert imported.exchange_rates == {"EUR": D("137.33"), "USD": D("122.74")}
    assert (imported.data["freight_amount"], imported.data["freight_currency"]) == (D("1608.0"), "USD")


def test_without_a_declarant_reference_the_lrn_is_the_registration(asycuda_dir):
    tree = etree.parse(str(asycuda_dir / SAMPLE5))
    reference = tree.getroot().find("Declarant/Reference/Number")
    reference.getparent().remove(reference)

    imported = asycuda_read(tree)

    assert imported.data["lrn"] == "GDSGO 2015 C 9998"
    assert [entry.source for entry in imported.report.mapped if entry.field == "lrn"] == [
        "Identification/Registration/Number",
        "Identification/Registration/Serial_number",
        "Identification/Registration/Date",
    ]


def test_global_taxes(asycuda_dir):
    tree = etree.parse(str(asycuda_dir / FORD))
    line = tree.getroot().find("Global_taxes/Global_tax_item")
    for tag, text in [("Global_tax_code", "FEE"), ("Global_tax_base", "100"), ("Global_tax_amount", "3022")]:
        etree.SubElement(line, tag).text = text

    imported = asycuda_read(tree)

    assert imported.file_taxes[-1] == FileTaxLine(
        item_number=None, tax_code="FEE", base=D("100"), rate="", amount=D("3022"), payment_mode=""
    )


def test_a_tree_that_is_not_asycuda_is_refused():
    tree = etree.ElementTree(etree.fromstring(b"<Declaration><Item/></Declaration>"))

    with pytest.raises(ImportUnreadable) as raised:
        asycuda_read(tree)

    assert raised.value.code == "wrong_format"
    assert raised.value.message == (
        "This is not an ASYCUDA declaration: its root element is Declaration, not ASYCUDA."
    )


def test_a_declaration_without_items_is_refused(asycuda_dir):
    tree = etree.parse(str(asycuda_dir / FORD))
    root = tree.getroot()
    for item in root.findall("Item"):
        root.remove(item)

    with pytest.raises(ImportUnreadable) as raised:
        asycuda_read(tree)

    assert raised.value.code == "no_items"
