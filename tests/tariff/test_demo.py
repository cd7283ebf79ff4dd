"""The demo tariff: reproducible from the UK file, loads idempotently, assesses real lines."""

import datetime
from decimal import Decimal

import pytest

from customs.demo import demo_load
from tariff.demo import DEMO_MEASURES_FILE, demo_measures_make, tariff_demo_load
from tariff.engine import AssessmentInput, ItemInput, assess, tariff_cache_clear
from tariff.expressions import Unit
from tariff.models import CommodityCode, Measure, NonTariffMeasure

TODAY = datetime.date(2026, 11, 23)


def test_demo_measures_file_is_what_the_generator_makes(tmp_path):
    counts = demo_measures_make(target=tmp_path / "demo_measures.csv")

    assert (tmp_path / "demo_measures.csv").read_bytes() == DEMO_MEASURES_FILE.read_bytes()
    assert counts == {"uk_rows": 11830, "written": 11451, "unparsed": 54, "no_national_line": 334}


@pytest.mark.django_db
def test_demo_tariff_loads_once_and_assesses_wine_with_excise_per_litre_of_pure_alcohol():
    demo_load(today=TODAY)
    tariff_demo_load()
    counts = (CommodityCode.objects.count(), Measure.objects.count(), NonTariffMeasure.objects.count())
    tariff_demo_load()
    tariff_cache_clear()

    wine = CommodityCode.objects.filter(code__startswith="220421", declarable=True).order_by("code").first()
    assessment = assess(
        AssessmentInput(
            day=TODAY,
            direction="IM",
            procedure_code="4000",
            incoterm="CIF",
            invoice_currency="USD",
            items=[
                ItemInput(
                    wine.code,
                    "FR",
                    Decimal("1000"),
                    Decimal("130"),
                    Decimal("100"),
                    quantities={Unit.LITRE: Decimal("100"), Unit.LITRE_PURE_ALCOHOL: Decimal("12.5")},
                )
            ],
        )
    )
    taxes = {tax.measure_type: tax for tax in assessment.items[0].taxes}

    assert (
        CommodityCode.objects.count(),
        Measure.objects.count(),
        NonTariffMeasure.objects.count(),
    ) == counts
    assert counts[1] == 11451
    assert wine.supplementary_unit.code == "LTR"  # its demo duty is charged per hectolitre
    # 0.60 USD per litre of pure alcohol × 12.5 l × 3.5 TMT/USD = 26.25 TMT
    assert taxes["excise"].expression == "0.60 USD / % vol / hl"
    assert taxes["excise"].amount == Decimal("26.25")
    assert taxes["vat"].expression == "15%"
    assert taxes["vat"].base == assessment.items[0].customs_value + taxes["import_duty"].amount + Decimal(
        "26.25"
    )
