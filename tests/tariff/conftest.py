"""A small hand-made tariff shared by the engine, API and browser tests."""

import datetime
from decimal import Decimal

import pytest

from customs.models import (
    Country,
    CountryGroup,
    Currency,
    DocumentType,
    ExchangeRate,
    Incoterm,
    ProcedureCode,
)
from tariff.choices import FeeKind, MeasureType, NonTariffKind
from tariff.engine import tariff_cache_clear
from tariff.models import CommodityCode, CustomsFee, Measure, NonTariffMeasure, TariffSection

D = Decimal
BEFORE_CHANGE = datetime.date(2026, 11, 30)
CHANGE = datetime.date(2026, 12, 1)
FISH, CAR, PISTOL = "0303891000", "8703231900", "9302000000"


@pytest.fixture
def small_tariff(db):
    """Fish, a car and a pistol; rates of 2026-11-27 (1 USD = 3.5, 1 EUR = 4.0 TMT);
    a duty change on 2026-12-01."""
    tariff_cache_clear()
    for code, minor in (("TMT", 2), ("USD", 2), ("EUR", 2), ("GBP", 2)):
        Currency.objects.create(code=code, name_en=code, minor_unit=minor)
    for code, rate in (("USD", "3.5"), ("EUR", "4.0")):
        ExchangeRate.objects.create(
            currency_id=Currency.objects.get(code=code).pk,
            valid_from=datetime.date(2026, 11, 27),
            rate=D(rate),
        )
    Incoterm.objects.create(code="FOB", name_en="Free on board")
    Incoterm.objects.create(
        code="CIF",
        name_en="Cost, insurance and freight",
        includes_main_carriage=True,
        includes_insurance=True,
    )
    countries = {
        code: Country.objects.create(code=code, name_en=code) for code in ("CN", "KZ", "RU", "DE", "TM")
    }
    cis = CountryGroup.objects.create(code="CIS_FTA", name_en="CIS free trade area")
    cis.countries.set([countries["KZ"], countries["RU"]])
    documents = {code: DocumentType.objects.create(code=code, name_en=code) for code in ("ST1", "DIP", "LIC")}
    ProcedureCode.objects.create(code="4000", name_en="Release for free circulation", direction="IM")
    relief = ProcedureCode.objects.create(code="4091", name_en="Diplomatic relief", direction="IM")
    section = TariffSection.objects.create(code="I", position=1, name_en="Animals")
    start = datetime.date(2026, 1, 1)
    for code, level, declarable in (
        ("03", 2, False),
        ("0303", 4, False),
        (FISH, 10, True),
        (CAR, 10, True),
        (PISTOL, 10, True),
    ):
        CommodityCode.objects.create(
            code=code,
            level=level,
            section=section,
            description_en=f"line {code}",
            declarable=declarable,
            valid_from=start,
        )

    def measure(measure_type, prefix, expression, **extra):
        Measure.objects.create(
            measure_type=measure_type,
            commodity_prefix=prefix,
            expression=expression,
            valid_from=extra.pop("valid_from", start),
            **extra,
        )

    measure(MeasureType.IMPORT_DUTY, "03", "10%")
    measure(MeasureType.IMPORT_DUTY, "0303", "7%", valid_to=datetime.date(2026, 11, 30))
    measure(MeasureType.IMPORT_DUTY, "0303", "8% MIN 0.50 EUR/kg", valid_from=CHANGE)
    measure(MeasureType.IMPORT_DUTY, "03", "0%", origin_group=cis, required_document=documents["ST1"])
    measure(MeasureType.IMPORT_DUTY, "", "0%", procedure_code=relief, required_document=documents["DIP"])
    measure(MeasureType.VAT, "", "0%", procedure_code=relief, required_document=documents["DIP"])
    measure(MeasureType.IMPORT_DUTY, "87", "10% MIN 100 EUR / item")
    measure(MeasureType.EXCISE, "8703", "5%")
    measure(MeasureType.IMPORT_DUTY, "93", "20%")
    measure(MeasureType.VAT, "", "15%")
    CustomsFee.objects.create(
        code="CF",
        name_en="Customs fee",
        kind=FeeKind.PERCENT,
        direction="IM",
        percent=D("0.2"),
        minimum=D("20"),
        maximum=D("1000"),
        valid_from=start,
    )
    NonTariffMeasure.objects.create(
        kind=NonTariffKind.LICENCE, commodity_prefix="93", document_type=documents["LIC"], valid_from=start
    )
    yield
    tariff_cache_clear()
