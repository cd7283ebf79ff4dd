"""Reading the nomenclature: one line on a day, search by code and words, the tree."""

import datetime

import pytest

from customs.services.reference import reference_load
from tariff.models import CommodityCode
from tariff.selectors import (
    CommodityCodeNotFound,
    commodity_code_ancestors,
    commodity_code_children,
    commodity_code_get,
    commodity_code_search,
    tariff_section_chapters,
    tariff_sections,
)
from tariff.services.nomenclature import HS_DIRECTORY, NATIONAL_LINES_FILE, nomenclature_import
from tests.tariff.factories import CommodityCodeFactory, TariffSectionFactory

pytestmark = pytest.mark.django_db

START = datetime.date(2022, 1, 1)
TODAY = datetime.date(2024, 5, 1)
LATER = datetime.date(2025, 1, 1)


@pytest.fixture
def lines():
    fish = TariffSectionFactory(code="I", position=1, name_en="Live animals; animal products")
    vehicles = TariffSectionFactory(code="XVII", position=17, name_en="Vehicles, aircraft, vessels")
    for code, description, extra in (
        ("03", "Fish and crustaceans, molluscs and other aquatic invertebrates", {}),
        ("0303", "Fish, frozen, excluding fish fillets and other fish meat of heading 0304", {}),
        ("030389", "Fish; frozen, n.e.c. in heading 0303", {}),
        (
            "0303891000",
            "Other frozen fish",
            {
                "declarable": True,
                "description_ru": "Прочая мороженая рыба",
                "description_tk": "Doňdurylan balyk",
            },
        ),
        ("0303892000", "Frozen tilapia, from next year", {"declarable": True, "valid_from": LATER}),
        (
            "0303899000",
            "Frozen carp, no longer listed",
            {"declarable": True, "valid_to": datetime.date(2023, 12, 31)},
        ),
    ):
        CommodityCodeFactory(code=code, section=fish, description_en=description, **extra)
    for code, description, declarable in (
        ("87", "Vehicles other than railway or tramway rolling stock", False),
        (
            "8703",
            "Motor cars and other motor vehicles principally designed for the transport of persons",
            False,
        ),
        ("870323", "Vehicles; spark-ignition engine, over 1500cc but not over 3000cc", False),
        ("8703231900", "Other new motor cars, 1500-3000cc", True),
        ("870324", "Vehicles; spark-ignition engine, over 3000cc", True),
        ("8704", "Motor vehicles for the transport of goods", True),
    ):
        CommodityCodeFactory(code=code, section=vehicles, description_en=description, declarable=declarable)


def codes(found):
    return [line.code for line in found]


def test_get_finds_the_line_in_force_whatever_the_separators(lines):
    assert (
        commodity_code_get("8703231900", on_day=TODAY).description_en == "Other new motor cars, 1500-3000cc"
    )
    assert commodity_code_get("8703.23.19 00", on_day=TODAY).code == "8703231900"
    assert commodity_code_get(" 870323 ", on_day=START).code == "870323"


def test_get_says_when_a_code_is_valid(lines):
    with pytest.raises(CommodityCodeNotFound) as before:
        commodity_code_get("8703231900", on_day=datetime.date(2019, 1, 1))
    with pytest.raises(CommodityCodeNotFound) as ended:
        commodity_code_get("0303899000", on_day=TODAY)
    with pytest.raises(CommodityCodeNotFound) as unknown:
        commodity_code_get("9999999999", on_day=TODAY)
    CommodityCode.objects.filter(code="0303892000").update(valid_to=datetime.date(2025, 6, 30))
    with pytest.raises(CommodityCodeNotFound) as bounded:
        commodity_code_get("0303892000", on_day=TODAY)

    assert str(before.value) == "8703231900 is not valid on 2019-01-01; it is valid from 2022-01-01"
    assert (
        str(ended.value)
        == "0303899000 is not valid on 2024-05-01; it was valid from 2022-01-01 to 2023-12-31"
    )
    assert str(unknown.value) == "There is no commodity code 9999999999 in the tariff"
    assert str(bounded.value) == (
        "0303892000 is not valid on 2024-05-01; it is valid from 2025-01-01 to 2025-06-30"
    )
    assert isinstance(unknown.value, CommodityCode.DoesNotExist)


def test_search_by_code_prefix_returns_the_line_and_its_descendants(lines, django_assert_num_queries):
    with django_assert_num_queries(1):
        found = commodity_code_search("8703", on_day=TODAY)

    assert codes(found) == ["8703", "870323", "8703231900", "870324"]
    assert codes(commodity_code_search("8703.23", on_day=TODAY)) == ["870323", "8703231900"]
    assert codes(commodity_code_search(" 8703 23 19 ", on_day=TODAY)) == ["8703231900"]
    assert codes(commodity_code_search("87", on_day=TODAY, limit=2)) == ["87", "8703"]


def test_search_only_finds_lines_in_force_on_the_day(lines):
    assert codes(commodity_code_search("030389", on_day=TODAY)) == ["030389", "0303891000"]
    assert codes(commodity_code_search("030389", on_day=LATER)) == ["030389", "0303891000", "0303892000"]
    assert codes(commodity_code_search("030389", on_day=START)) == ["030389", "0303891000", "0303899000"]
    assert codes(commodity_code_search("tilapia", on_day=TODAY)) == []
    assert codes(commodity_code_search("tilapia", on_day=LATER)) == ["0303892000"]


def test_search_by_words_ranks_matches_then_orders_by_code(lines):
    found = commodity_code_search("frozen fish", on_day=TODAY)

    assert codes(found) == ["0303", "030389", "0303891000"]
    assert codes(commodity_code_search("motor vehicles", on_day=TODAY)) == ["8703", "8704"]
    assert codes(commodity_code_search('"motor cars"', on_day=TODAY)) == ["8703", "8703231900"]
    assert codes(commodity_code_search("fish -frozen", on_day=TODAY)) == ["03"]


def test_search_in_russian_and_turkmen(lines):
    assert codes(commodity_code_search("рыба", on_day=TODAY)) == ["0303891000"]
    assert codes(commodity_code_search("мороженой рыбы", on_day=TODAY)) == ["0303891000"]
    assert codes(commodity_code_search("balyk", on_day=TODAY)) == ["0303891000"]
    assert codes(commodity_code_search("автомобили", on_day=TODAY)) == []


def test_search_of_nothing_finds_nothing(lines):
    assert commodity_code_search("", on_day=TODAY) == []
    assert commodity_code_search("   ", on_day=TODAY) == []
    assert commodity_code_search("fish", on_day=TODAY, limit=0) == []
    assert commodity_code_search("the of and", on_day=TODAY) == []
    assert commodity_code_search("!!! & | :*", on_day=TODAY) == []


def test_tree_children_ancestors_sections_and_chapters(lines):
    assert codes(commodity_code_children("8703", on_day=TODAY)) == ["870323", "870324"]
    assert codes(commodity_code_children("", on_day=TODAY)) == ["03", "87"]
    assert codes(commodity_code_children("030389", on_day=LATER)) == ["0303891000", "0303892000"]
    assert codes(commodity_code_ancestors("8703.23.19.00", on_day=TODAY)) == ["87", "8703", "870323"]
    assert codes(commodity_code_ancestors("87", on_day=TODAY)) == []
    assert codes(commodity_code_ancestors("1234567890", on_day=TODAY)) == []
    assert [section.code for section in tariff_sections()] == ["I", "XVII"]
    assert codes(tariff_section_chapters("XVII", on_day=TODAY)) == ["87"]


def test_search_over_the_shipped_tariff():
    reference_load(only=["units_of_measure"])
    nomenclature_import(hs_directory=HS_DIRECTORY, national_path=NATIONAL_LINES_FILE, valid_from=START)

    frozen_fish = codes(commodity_code_search("frozen fish", on_day=TODAY))
    cars = codes(commodity_code_search("8703", on_day=TODAY, limit=200))

    assert len(frozen_fish) == 50
    assert all(code.startswith("03") for code in frozen_fish[:20])
    assert cars[:3] == ["8703", "870310", "8703101100"]
    assert len(cars) == 43
    assert all(code.startswith("8703") for code in cars)
    assert codes(commodity_code_search("8703.23", on_day=TODAY)) == [
        "870323",
        "8703231100",
        "8703231900",
        "8703239000",
    ]
    assert commodity_code_search("8703", on_day=datetime.date(2021, 12, 31)) == []
