"""Duty expressions: parsing, canonical text, evaluation (every figure computed by hand), rejections,
and the whole shipped UK Global Tariff CSV. Pure Python: no database."""

import csv
from collections import Counter
from datetime import date
from decimal import Decimal as D
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from tariff.expressions import (
    AdValorem,
    DutyExpression,
    DutyExpressionError,
    MissingQuantityError,
    SeasonalExpression,
    Specific,
    Sum,
    Unit,
    evaluate,
    parse_duty_expression,
)

CSV_PATH = Path(__file__).resolve().parents[2] / "tariff" / "reference_data" / "ukgt_2021_vs_eu_cet.csv"
RATES = {"EUR": D("3.85"), "GBP": D("4.5")}  # TMT per unit


def run(text, value="1000.00", **quantities):
    """Evaluate ``text`` in TMT at EUR 3.85 and GBP 4.5; quantities by Unit name: kg="250"."""
    expression = parse_duty_expression(text)
    return evaluate(
        expression,
        value=D(value),
        quantities={Unit[name.upper()]: D(amount) for name, amount in quantities.items()},
        rate_of=RATES.__getitem__,
        national_currency="TMT",
    )


def specific(amount, currency, per, unit):
    return Specific(D(amount), currency, D(per), unit)


# --- parsing --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, term",
    [
        ("12%", AdValorem(D("12"))),
        ("6.00%", AdValorem(D("6"))),
        ("0.50 EUR/kg", specific("0.50", "EUR", 1, Unit.KG)),
        ("34.00 GBP/100kg", specific("34", "GBP", 100, Unit.KG)),
        ("41.20 EUR / 100 kg", specific("41.2", "EUR", 100, Unit.KG)),
        ("1.1\xa0€/100\xa0kg/net", specific("1.1", "EUR", 100, Unit.KG)),
        ("2€/100kg/br", specific("2", "EUR", 100, Unit.KG_GROSS)),
        ("0.60 EUR / 100 kg / gross", specific("0.6", "EUR", 100, Unit.KG_GROSS)),
        ("32.00 EUR / hl", specific("32", "EUR", 100, Unit.LITRE)),
        ("26.00 GBP/hl", specific("26", "GBP", 100, Unit.LITRE)),
        ("114.00 EUR / tonne", specific("114", "EUR", 1000, Unit.KG)),
        ("1,024.00 EUR / tonne", specific("1024", "EUR", 1000, Unit.KG)),
        ("0.20 GBP/ item", specific("0.2", "GBP", 1, Unit.ITEM)),
        ("52.00 EUR / 1,000 items", specific("52", "EUR", 1000, Unit.ITEM)),
        ("43.00 GBP/1000 items", specific("43", "GBP", 1000, Unit.ITEM)),
        ("127.00 GBP/ 1000 items", specific("127", "GBP", 1000, Unit.ITEM)),
        ("5.00 EUR / 100 m", specific("5", "EUR", 100, Unit.METRE)),
        ("2.80 EUR / m2", specific("2.8", "EUR", 1, Unit.SQUARE_METRE)),
        ("3 EUR / m³", specific("3", "EUR", 1, Unit.CUBIC_METRE)),
        ("1.40 GBP / % vol / hl", specific("1.4", "GBP", 1, Unit.LITRE_PURE_ALCOHOL)),
        ("1.00 GBP/%vol/hl", specific("1", "GBP", 1, Unit.LITRE_PURE_ALCOHOL)),
        ("2 GBP/l", specific("2", "GBP", 1, Unit.LITRE)),
        ("2 GBP/lpa", specific("2", "GBP", 1, Unit.LITRE_PURE_ALCOHOL)),
        ("3 EUR/pair", specific("3", "EUR", 1, Unit.PAIR)),
        ("30 EUR/100 pa", specific("30", "EUR", 100, Unit.PAIR)),
        ("7 EUR/head", specific("7", "EUR", 1, Unit.HEAD)),
        ("1.20 EUR / 1000 kWh", specific("1.2", "EUR", 1000, Unit.KWH)),
    ],
)
def test_single_terms(text, term):
    assert parse_duty_expression(text) == DutyExpression(Sum((term,)))


def test_spacing_variants_parse_alike():
    forms = ["34.00 GBP/100kg", "34 GBP / 100 kg", "34\xa0GBP\u202f/\u2009100\xa0kg", "  34.0 gbp/100 KG "]
    assert {parse_duty_expression(form) for form in forms} == {
        DutyExpression(Sum((specific("34", "GBP", 100, Unit.KG),)))
    }


def test_bare_first_number_is_a_percentage():
    assert parse_duty_expression("6.4 + 24.6 EUR/100 kg") == DutyExpression(
        Sum((AdValorem(D("6.4")), specific("24.6", "EUR", 100, Unit.KG)))
    )
    assert parse_duty_expression("7.2 MIN 0.36 EUR/100 kg") == DutyExpression(
        Sum((AdValorem(D("7.2")),)), minimum=Sum((specific("0.36", "EUR", 100, Unit.KG),))
    )


def test_min_and_max_bind_to_the_whole_sum_after_them():
    expression = parse_duty_expression("9.10% + 45.10 EUR / 100 kg MAX 18.90% + 16.50 EUR / 100 kg")
    assert expression == DutyExpression(
        Sum((AdValorem(D("9.1")), specific("45.1", "EUR", 100, Unit.KG))),
        maximum=Sum((AdValorem(D("18.9")), specific("16.5", "EUR", 100, Unit.KG))),
    )
    assert expression.text == "9.10% + 45.10 EUR / 100 kg MAX 18.90% + 16.50 EUR / 100 kg"
    both = parse_duty_expression("0.50 EUR / item MIN 2.70% MAX 4.60%")
    assert both.minimum == Sum((AdValorem(D("2.7")),))
    assert both.maximum == Sum((AdValorem(D("4.6")),))


def test_currencies_and_units():
    expression = parse_duty_expression("40.00% + 121.00 EUR / hl + 20.60 EUR / 100 kg MIN 1 GBP/% vol/hl")
    assert expression.currencies == {"EUR", "GBP"}
    assert expression.units == {Unit.LITRE, Unit.KG, Unit.LITRE_PURE_ALCOHOL}
    assert parse_duty_expression("12%").units == set()


@pytest.mark.parametrize(
    "text, canonical",
    [
        ("10.00% + 77.00 GBP/100kg MIN 0.20 EUR / kg", "10% + 77 GBP/100 kg MIN 0.2 EUR/kg"),
        ("4.50% MIN 0.30 EUR / item MAX 0.80 EUR / item", "4.5% MIN 0.3 EUR/item MAX 0.8 EUR/item"),
        ("114.00 EUR / tonne", "114 EUR/1000 kg"),
        ("32.00 EUR / hl", "32 EUR/hl"),
        ("1.40 GBP / % vol / hl", "1.4 GBP/% vol/hl"),
        ("3.80% MIN 0.60 EUR / 100 kg / gross", "3.8% MIN 0.6 EUR/100 kg/gross"),
        ("52.00 EUR / 1,000 items", "52 EUR/1000 items"),
        ("6.4 + 24.6 EUR/100 kg", "6.4% + 24.6 EUR/100 kg"),
        (
            "15.00% (01 JAN-14 FEB, 16 JUN-31 DEC), 0.00% (15 FEB-15 JUN)",
            "15% (01 JAN-14 FEB, 16 JUN-31 DEC), 0% (15 FEB-15 JUN)",
        ),
        ("14.00% (01 JUL - 31 JAN), 0.00% (01 FEB - 30 JUN)", "14% (01 JUL-31 JAN), 0% (01 FEB-30 JUN)"),
    ],
)
def test_canonical_text(text, canonical):
    expression = parse_duty_expression(text)
    assert expression.to_text() == canonical
    assert parse_duty_expression(canonical) == expression


def csv_rows():
    with CSV_PATH.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def test_canonical_text_round_trips_for_every_parsed_uk_rate():
    checked = 0
    for row in csv_rows():
        try:
            expression = parse_duty_expression(row["ukgt_duty_rate"])
        except DutyExpressionError:
            continue
        assert parse_duty_expression(expression.to_text()) == expression, row["ukgt_duty_rate"]
        checked += 1
    assert checked == 11773


# --- seasons --------------------------------------------------------------------------------------

FEB_JUN = "15.00% (01 JAN-14 FEB, 16 JUN-31 DEC), 0.00% (15 FEB-15 JUN)"
ACROSS_YEAR_END = "14.00% (01 JUL - 31 JAN), 0.00% (01 FEB - 30 JUN)"


def test_seasonal_structure():
    seasonal = parse_duty_expression(FEB_JUN)
    assert seasonal == SeasonalExpression(
        (
            ((((1, 1), (14, 2)), ((16, 6), (31, 12))), DutyExpression(Sum((AdValorem(D("15")),)))),
            ((((15, 2), (15, 6)),), DutyExpression(Sum((AdValorem(D("0")),)))),
        )
    )
    assert seasonal.text == FEB_JUN


@pytest.mark.parametrize(
    "text, day, rate",
    [
        (FEB_JUN, date(2025, 1, 1), "15"),
        (FEB_JUN, date(2025, 2, 14), "15"),  # last day of the season
        (FEB_JUN, date(2025, 2, 15), "0"),  # first day of the next
        (FEB_JUN, date(2024, 2, 29), "0"),
        (FEB_JUN, date(2025, 6, 15), "0"),
        (FEB_JUN, date(2025, 6, 16), "15"),
        (FEB_JUN, date(2025, 12, 31), "15"),
        (ACROSS_YEAR_END, date(2025, 6, 30), "0"),
        (ACROSS_YEAR_END, date(2025, 7, 1), "14"),
        (ACROSS_YEAR_END, date(2025, 12, 31), "14"),
        (ACROSS_YEAR_END, date(2026, 1, 1), "14"),
        (ACROSS_YEAR_END, date(2026, 1, 31), "14"),
        (ACROSS_YEAR_END, date(2026, 2, 1), "0"),
    ],
)
def test_season_on_a_day(text, day, rate):
    assert parse_duty_expression(text).on(day).terms == Sum((AdValorem(D(rate)),))


def test_seasonal_with_specific_terms_and_evaluation():
    text = "10.40% MIN 1.3€/100kg/br (01 JAN-31 MAR, 01 DEC-31 DEC), 12.00% MIN 2€/100kg/br (01 APR-30 NOV)"
    seasonal = parse_duty_expression(text)
    assert seasonal.units == {Unit.KG_GROSS}
    assert seasonal.currencies == {"EUR"}
    quantities = {Unit.KG: D("900"), Unit.KG_GROSS: D("1000")}
    winter = evaluate(
        seasonal.on(date(2025, 3, 31)),
        value=D("100"),
        quantities=quantities,
        rate_of=RATES.__getitem__,
        national_currency="TMT",
    )
    # 10.40% × 100 = 10.40 < 1.3 EUR × 1000/100 = 13 EUR × 3.85 = 50.05
    assert (winter.amount, winter.applied) == (D("50.05"), "minimum")
    spring = evaluate(
        seasonal.on(date(2025, 4, 1)),
        value=D("100"),
        quantities=quantities,
        rate_of=RATES.__getitem__,
        national_currency="TMT",
    )
    assert (spring.amount, spring.applied) == (D("77"), "minimum")  # 2 EUR × 10 × 3.85


def test_a_day_in_no_season_is_an_error():
    seasonal = parse_duty_expression("9.60% (01 JAN-15 MAY), 13.40% (16 MAY-30 JUNE)")
    assert seasonal.on(date(2025, 6, 30)).terms == Sum((AdValorem(D("13.4")),))
    with pytest.raises(DutyExpressionError) as error:
        seasonal.on(date(2025, 7, 1))
    assert str(error.value) == (
        "no season of this rate covers 01 JUL in '9.60% (01 JAN-15 MAY), 13.40% (16 MAY-30 JUNE)'"
    )


def test_evaluate_refuses_a_seasonal_expression():
    with pytest.raises(TypeError):
        evaluate(
            parse_duty_expression(FEB_JUN),
            value=D("1"),
            quantities={},
            rate_of=RATES.__getitem__,
            national_currency="TMT",
        )


# --- evaluation: every figure by hand (TMT; EUR 3.85, GBP 4.5) -------------------------------------


def test_ad_valorem():
    result = run("12%", value="1000.00")
    assert result.amount == D("120")
    assert result.applied == "terms"
    assert result.formula == "12% × 1,000.00 = 120.00"
    assert [(line.description, line.amount) for line in result.lines] == [("12% of 1,000.00 TMT", D("120"))]


@pytest.mark.parametrize(
    "text, quantities, amount, description",
    [
        # 0.50 × 200 = 100 EUR × 3.85
        ("0.50 EUR/kg", {"kg": "200"}, "385", "0.5 EUR/kg × 200 kg = 100.00 EUR × 3.85 TMT/EUR"),
        # 34 × 250 / 100 = 85 GBP × 4.5
        ("34.00 GBP/100kg", {"kg": "250"}, "382.5", "34 GBP/100 kg × 250 kg = 85.00 GBP × 4.5 TMT/GBP"),
        # 32 × 150 / 100 = 48 EUR × 3.85
        ("32.00 EUR / hl", {"litre": "150"}, "184.8", "32 EUR/hl × 150 l = 48.00 EUR × 3.85 TMT/EUR"),
        # 1024 × 2500 / 1000 = 2560 EUR × 3.85
        (
            "1,024.00 EUR / tonne",
            {"kg": "2500"},
            "9856",
            "1024 EUR/1000 kg × 2500 kg = 2,560.00 EUR × 3.85 TMT/EUR",
        ),
        # 52 × 12500 / 1000 = 650 EUR × 3.85
        (
            "52.00 EUR / 1,000 items",
            {"item": "12500"},
            "2502.5",
            "52 EUR/1000 items × 12500 items = 650.00 EUR × 3.85 TMT/EUR",
        ),
        # 70 l at 40 % vol = 28 lpa; 1.40 × 28 = 39.20 GBP × 4.5
        (
            "1.40 GBP / % vol / hl",
            {"litre_pure_alcohol": "28", "litre": "70"},
            "176.4",
            "1.4 GBP/% vol/hl × 28 lpa = 39.20 GBP × 4.5 TMT/GBP",
        ),
        # gross, not net: 0.60 × 1000 / 100 = 6 EUR × 3.85
        (
            "0.60 EUR / 100 kg / gross",
            {"kg": "900", "kg_gross": "1000"},
            "23.1",
            "0.6 EUR/100 kg/gross × 1000 kg gross = 6.00 EUR × 3.85 TMT/EUR",
        ),
        # 5 × 250 / 100 = 12.50 EUR × 3.85
        ("5.00 EUR / 100 m", {"metre": "250"}, "48.125", "5 EUR/100 m × 250 m = 12.50 EUR × 3.85 TMT/EUR"),
    ],
)
def test_specific(text, quantities, amount, description):
    result = run(text, **quantities)
    assert result.amount == D(amount)
    assert [(line.description, line.amount) for line in result.lines] == [(description, D(amount))]


def test_specific_in_national_currency_is_not_converted():
    calls = []

    def rate_of(currency):
        calls.append(currency)
        return RATES[currency]

    result = evaluate(
        parse_duty_expression("2.50 TMT/kg"),
        value=D("0"),
        quantities={Unit.KG: D("10")},
        rate_of=rate_of,
        national_currency="TMT",
    )
    assert result.amount == D("25")
    assert result.lines[0].description == "2.5 TMT/kg × 10 kg = 25.00 TMT"
    assert calls == []


def test_currency_conversion_asks_each_rate_once():
    calls = []

    def rate_of(currency):
        calls.append(currency)
        return {"EUR": D("3.8512"), "GBP": D("4.4321")}[currency]

    result = evaluate(
        parse_duty_expression("1 EUR/kg + 2 EUR/item + 3 GBP/hl"),
        value=D("0"),
        quantities={Unit.KG: D("10"), Unit.ITEM: D("4"), Unit.LITRE: D("50")},
        rate_of=rate_of,
        national_currency="TMT",
    )
    # 10 EUR × 3.8512 = 38.512; 8 EUR × 3.8512 = 30.8096; 1.5 GBP × 4.4321 = 6.64815 (unrounded)
    assert result.amount == D("75.96975")
    assert [line.amount for line in result.lines] == [D("38.512"), D("30.8096"), D("6.64815")]
    assert result.formula == (
        "1 EUR/kg × 10 kg × 3.8512 + 2 EUR/item × 4 items × 3.8512 + 3 GBP/hl × 50 l × 4.4321 = 75.97"
    )
    assert calls == ["EUR", "GBP"]


def test_compound_sums():
    # 10% × 1000 = 100; 77 × 50 / 100 = 38.50 GBP × 4.5 = 173.25
    result = run("10% + 77 GBP/100 kg", value="1000", kg="50")
    assert result.amount == D("273.25")
    assert result.formula == "10% × 1,000.00 + 77 GBP/100 kg × 50 kg × 4.5 = 273.25"
    # 40% × 500 = 200; 121 × 20 / 100 = 24.20 EUR × 3.85 = 93.17; 20.60 × 25 / 100 = 5.15 EUR × 3.85 = 19.8275
    result = run("40.00% + 121.00 EUR / hl + 20.60 EUR / 100 kg", value="500", litre="20", kg="25")
    assert result.amount == D("312.9975")  # unrounded
    assert [line.amount for line in result.lines] == [D("200"), D("93.17"), D("19.8275")]


def test_minimum_not_binding():
    # 10% × 1000 = 100; minimum 0.20 × 100 = 20 EUR × 3.85 = 77
    result = run("10% MIN 0.20 EUR/kg", value="1000.00", kg="100")
    assert (result.amount, result.applied) == (D("100"), "terms")
    assert result.formula == "max(10% × 1,000.00; 0.2 EUR/kg × 100 kg × 3.85) = 100.00"
    assert [(line.description, line.amount) for line in result.lines] == [
        ("10% of 1,000.00 TMT", D("100")),
        ("minimum: 0.2 EUR/kg × 100 kg = 20.00 EUR × 3.85 TMT/EUR", D("77")),
    ]


def test_minimum_binding():
    # 10% × 100 = 10 < 77
    result = run("10% MIN 0.20 EUR/kg", value="100.00", kg="100")
    assert (result.amount, result.applied) == (D("77"), "minimum")
    assert result.formula == "max(10% × 100.00; 0.2 EUR/kg × 100 kg × 3.85) = 77.00"


def test_maximum_binding_and_not():
    # 6.20% × 1000 = 62; 27.10 × 200 / 100 = 54.20 EUR × 3.85 = 208.67; 270.67 > 17.90% × 1000 = 179
    result = run("6.20% + 27.10 EUR / 100 kg MAX 17.90%", value="1000", kg="200")
    assert (result.amount, result.applied) == (D("179"), "maximum")
    assert (
        result.formula == "min(6.2% × 1,000.00 + 27.1 EUR/100 kg × 200 kg × 3.85; 17.9% × 1,000.00) = 179.00"
    )
    # 62 + 2.71 EUR × 3.85 = 62 + 10.4335 = 72.4335 < 179
    result = run("6.20% + 27.10 EUR / 100 kg MAX 17.90%", value="1000", kg="10")
    assert (result.amount, result.applied) == (D("72.4335"), "terms")


def test_maximum_of_a_sum():
    # terms 9.10% × 1000 = 91 + 45.10 × 250 / 100 = 112.75 EUR × 3.85 = 434.0875 -> 525.0875
    # maximum 18.90% × 1000 = 189 + 16.50 × 2.5 = 41.25 EUR × 3.85 = 158.8125 -> 347.8125
    result = run("9.10% + 45.10 EUR / 100 kg MAX 18.90% + 16.50 EUR / 100 kg", value="1000", kg="250")
    assert (result.amount, result.applied) == (D("347.8125"), "maximum")
    assert [line.description for line in result.lines] == [
        "9.1% of 1,000.00 TMT",
        "45.1 EUR/100 kg × 250 kg = 112.75 EUR × 3.85 TMT/EUR",
        "maximum: 18.9% of 1,000.00 TMT",
        "maximum: 16.5 EUR/100 kg × 250 kg = 41.25 EUR × 3.85 TMT/EUR",
    ]


@pytest.mark.parametrize(
    "value, amount, applied",
    [
        ("100", "11.55", "minimum"),  # 4.5 < 0.30 × 10 = 3 EUR × 3.85 = 11.55
        ("500", "22.5", "terms"),  # 11.55 <= 22.5 <= 30.8
        ("1000", "30.8", "maximum"),  # 45 > 0.80 × 10 = 8 EUR × 3.85 = 30.8
    ],
)
def test_minimum_and_maximum(value, amount, applied):
    result = run("4.50% MIN 0.30 EUR / item MAX 0.80 EUR / item", value=value, item="10")
    assert (result.amount, result.applied) == (D(amount), applied)


@pytest.mark.parametrize(
    "value, amount, applied",
    [
        ("1000", "27", "minimum"),  # 0.50 × 10 = 5 EUR × 3.85 = 19.25 < 2.70% × 1000 = 27
        ("300", "13.8", "maximum"),  # 19.25 > 4.60% × 300 = 13.8 (and >= 2.70% × 300 = 8.1)
        ("500", "19.25", "terms"),  # 13.5 <= 19.25 <= 23
    ],
)
def test_specific_with_ad_valorem_bounds(value, amount, applied):
    result = run("0.50 EUR / item MIN 2.70% MAX 4.60%", value=value, item="10")
    assert (result.amount, result.applied) == (D(amount), applied)


def test_amounts_are_not_rounded():
    result = run("3.33%", value="100.01")  # 3.330333
    assert result.amount == D("3.330333")
    assert result.formula == "3.33% × 100.01 = 3.33"


def test_missing_quantity():
    with pytest.raises(MissingQuantityError) as error:
        run("1.40 GBP / % vol / hl", kg="10", litre="70")
    assert str(error.value) == "this rate is charged per litre of pure alcohol: declare the quantity in lpa"
    assert error.value.unit is Unit.LITRE_PURE_ALCOHOL
    assert isinstance(error.value, DutyExpressionError)
    with pytest.raises(
        MissingQuantityError, match="per kilogram of gross mass: declare the quantity in kg_gross"
    ):
        run("3.80% MIN 0.60 EUR / 100 kg / gross", kg="10")
    with pytest.raises(MissingQuantityError, match="declare the quantity in kg$"):  # None: not declared
        evaluate(
            parse_duty_expression("1 EUR/kg"),
            value=D("1"),
            quantities={Unit.KG: None},
            rate_of=RATES.__getitem__,
            national_currency="TMT",
        )


@pytest.mark.parametrize(
    "value, quantities, error",
    [
        (D("-1"), {}, ValueError),
        (D("1"), {Unit.KG: D("-0.001")}, ValueError),
        (D("NaN"), {}, ValueError),
        (1.5, {}, TypeError),
        (D("1"), {Unit.KG: 2.0}, TypeError),
    ],
)
def test_bad_inputs(value, quantities, error):
    with pytest.raises(error):
        evaluate(
            parse_duty_expression("1 EUR/kg"),
            value=value,
            quantities=quantities,
            rate_of=RATES.__getitem__,
            national_currency="TMT",
        )


def test_evaluate_is_fast():
    """A 100-item declaration evaluates well under 1 ms per item (measured here in bulk)."""
    import time

    expression = parse_duty_expression("40.00% + 121.00 EUR / hl + 20.60 EUR / 100 kg MAX 60%")
    quantities = {Unit.KG: D("25"), Unit.LITRE: D("20"), Unit.KG_GROSS: D("30")}
    start = time.perf_counter()
    for _ in range(1000):
        evaluate(
            expression,
            value=D("500"),
            quantities=quantities,
            rate_of=RATES.__getitem__,
            national_currency="TMT",
        )
    assert (time.perf_counter() - start) / 1000 < 0.0005


# --- rejections -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, kind, message",
    [
        ("", "empty", "empty duty expression in ''"),
        (" \xa0 ", "empty", "empty duty expression in ' \\xa0 '"),
        ("9.00% +  EA", "agricultural", "unsupported agricultural component 'EA' in '9.00% +  EA'"),
        (
            "9.00% +  EA MAX 18.70%  + ADSZ",
            "agricultural",
            "unsupported agricultural components 'EA', 'ADSZ' in '9.00% +  EA MAX 18.70%  + ADSZ'",
        ),
        (
            "9.00% + EAR MAX 20.70% + ADFMR",
            "agricultural",
            "unsupported agricultural components 'EAR', 'ADFMR'",
        ),
        ("Entry Price", "agricultural", "unsupported agricultural component 'Entry Price' in 'Entry Price'"),
        (
            "1.00 GBP/kg/lactic matter + 23.00 GBP/100kg",
            "qualifier",
            "unsupported quantity qualifier 'lactic matter' (kilogram of lactic matter)",
        ),
        ("0.07 EUR / kg / dry lactic matter", "qualifier", "qualifier 'dry lactic matter'"),
        ("5.10% + 9.40 EUR / 100 kg / net drained wt", "qualifier", "qualifier 'net drained wt'"),
        ("4.00% + 7.80 GBP/100kg eda", "qualifier", "qualifier 'eda' (drained net weight)"),
        ("42.00 GBP/100kg mas", "qualifier", "qualifier 'mas' (net mass of dry matter)"),
        ("50.70 EUR / 100 kg / net dry", "qualifier", "qualifier 'net dry'"),
        ("0.30 GBP/100kg/net/%sacchar.", "qualifier", "qualifier '% sacchar.'"),
        ("0.40 EUR / 100 kg /net/ % sacchar.", "qualifier", "qualifier '% sacchar.'"),
        ("28.00 GBP/100kg std qual", "qualifier", "qualifier 'std qual'"),
        ("1.62 EUR / kg / tot alc", "qualifier", "qualifier 'tot alc'"),
        ("1 EUR / % vol", "unit", "unrecognised unit '% vol' (only '% vol / hl' is supported)"),
        ("1 EUR / furlong", "unit", "unrecognised unit 'furlong'"),
        ("1 EUR / hl / gross", "unit", "unrecognised unit 'hl / gross'"),
        ("12", "syntax", "number '12' without % or a currency"),
        ("5% + 6", "syntax", "number '6' without % or a currency"),
        ("5% +", "syntax", "missing amount after '+'"),
        ("MIN 5%", "syntax", "missing amount before 'MIN'"),
        ("5% MIN 1 EUR/kg MIN 2 EUR/kg", "syntax", "MIN given twice"),
        ("0,50 EUR/kg", "syntax", "unrecognised term '0,50 EUR/kg'"),
        ("-5%", "syntax", "unrecognised term '-5%'"),
        ("free", "syntax", "unrecognised term 'free'"),
        ("5% (01 JAN-31 DEC", "syntax", "unbalanced parentheses"),
        ("5% (01 JAN-31 DEC) 6%", "syntax", "unexpected text '6%' after the last season"),
        ("5% (01 JAN-31 MAR), 6% (01 MAR-31 DEC)", "season", "seasons overlap on 01 MAR"),
        ("11.20% (01 JAN-31 APR, 01 AUG-31 DEC), 12% (01 MAY-31 JUL)", "season", "invalid date '31 APR'"),
        (
            "4.00% (01 JAN-31 MAR, 01-31 DEC), 5.10% (01 JUN-30 NOV)",
            "season",
            "period '01-31 DEC' has no start month",
        ),
        ("5% (01 FOO-31 DEC)", "season", "unknown month 'FOO'"),
        (
            "5% (01 JAN-14 APR), 6% MIN 1.6€/100kg/net",
            "season",
            "season '6% MIN 1.6 EUR/100kg/net' has no date period",
        ),
    ],
)
def test_rejections(text, kind, message):
    with pytest.raises(DutyExpressionError) as error:
        parse_duty_expression(text)
    assert error.value.kind == kind
    assert message in str(error.value)
    assert error.value.text == text


# --- the whole shipped CSV ------------------------------------------------------------------------

QUALIFIER = "unsupported quantity qualifier '{}' ({}): Kerwen does not declare this quantity"
EXPECTED = {
    "ukgt_duty_rate": (
        11773,
        {
            QUALIFIER.format("lactic matter", "kilogram of lactic matter"): 33,
            QUALIFIER.format("eda", "drained net weight"): 8,
            QUALIFIER.format("% sacchar.", "per 1% by weight of sucrose"): 7,
            QUALIFIER.format("mas", "net mass of dry matter"): 6,
            QUALIFIER.format("std qual", "mass of the standard quality"): 3,
        },
    ),
    "cet_duty_rate": (
        11673,
        {
            QUALIFIER.format("lactic matter", "kilogram of lactic matter"): 34,
            "unsupported agricultural components 'EA', 'ADSZ'": 33,
            "unsupported agricultural component 'Entry Price'": 29,
            "unsupported agricultural component 'EA'": 21,
            QUALIFIER.format("net drained wt", "drained net weight"): 11,
            QUALIFIER.format("% sacchar.", "per 1% by weight of sucrose"): 7,
            QUALIFIER.format("net dry", "net mass of dry matter"): 6,
            "unsupported agricultural components 'EA', 'ADFM'": 5,
            QUALIFIER.format("std qual", "mass of the standard quality"): 3,
            QUALIFIER.format("dry lactic matter", "kilogram of dry lactic matter"): 2,
            QUALIFIER.format("tot alc", "kilogram of total alcohol"): 2,
            QUALIFIER.format("eda", "drained net weight"): 1,
            # errors in the source: we do not guess what was meant
            "invalid date '31 APR'": 1,
            "period '01-31 DEC' has no start month": 1,
            "season '13.60% MIN 1.6 EUR/100kg/net' has no date period": 1,
        },
    ),
}


@pytest.mark.parametrize("column", ["ukgt_duty_rate", "cet_duty_rate"])
def test_every_rate_of_the_shipped_csv(column):
    rows = csv_rows()
    assert len(rows) == 11830
    parsed = 0
    reasons = Counter()
    kinds = Counter()
    for row in rows:
        try:
            parse_duty_expression(row[column])
        except DutyExpressionError as error:
            reasons[error.reason] += 1
            kinds[error.kind] += 1
        else:
            parsed += 1
    expected_parsed, expected_reasons = EXPECTED[column]
    assert (parsed, dict(reasons)) == (expected_parsed, expected_reasons)
    assert parsed + sum(expected_reasons.values()) == 11830
    # every rejection has a documented reason: nothing falls into "unrecognised" (kinds unit/syntax)
    assert set(kinds) <= {"agricultural", "qualifier", "season"}


def test_report_command():
    out = StringIO()
    call_command("tariff_parse_report", "--column", "ukgt", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "ukgt_duty_rate: 11773 parsed, 57 rejected"
    assert lines[1].split() == [
        "33",
        "[qualifier]",
        *QUALIFIER.format("lactic matter", "kilogram of lactic matter").split(),
    ]
    assert lines[2] == "          e.g. '1.00 GBP/kg/lactic matter + 23.00 GBP/100kg'"
    out = StringIO()
    call_command("tariff_parse_report", stdout=out)
    assert [line for line in out.getvalue().splitlines() if not line.startswith(" ")] == [
        "ukgt_duty_rate: 11773 parsed, 57 rejected",
        "cet_duty_rate: 11673 parsed, 157 rejected",
    ]
