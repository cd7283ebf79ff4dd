"""Valuation (transaction value): Incoterms, apportionment with remainders, conversion. Hand-computed."""

from decimal import Decimal

import pytest

from tariff.valuation import Cost, DeclaredCosts, IncotermTerms, ValuationError, apportion, value_items

D = Decimal
RATES = {"TMT": D(1), "USD": D("3.5"), "EUR": D("3.85175")}
TERMS = {
    "EXW": IncotermTerms("EXW", False, False, False),
    "FOB": IncotermTerms("FOB", False, False, False),
    "CFR": IncotermTerms("CFR", True, False, False),
    "CIF": IncotermTerms("CIF", True, True, False),
    "DAP": IncotermTerms("DAP", True, True, True),
}
COSTS = DeclaredCosts(
    freight=Cost(D("300"), "USD"),
    insurance=Cost(D("20"), "EUR"),
    loading=Cost(D("35"), "TMT"),
    other=Cost(D("10"), "USD"),
    beyond_border=Cost(D("50"), "USD"),
)


def _value(
    incoterm, prices=("1000", "3000"), masses=("100", "300"), costs=COSTS, split="price", currency="USD"
):
    return value_items(
        incoterm=TERMS[incoterm],
        invoice_currency=currency,
        invoice_prices=[D(p) for p in prices],
        gross_masses=[D(m) for m in masses],
        costs=costs,
        freight_split=split,
        rate_of=RATES.__getitem__,
        national_currency="TMT",
    )


def test_apportion_gives_left_over_cents_to_the_largest_remainders():
    assert apportion(D("100.00"), [D(1), D(1), D(1)]) == [D("33.34"), D("33.33"), D("33.33")]
    # exact 0.005, 0.01, 0.015, 0.02: one cent left over; remainders tie, the earlier item takes it
    assert apportion(D("0.05"), [D(1), D(2), D(3), D(4)]) == [D("0.01"), D("0.01"), D("0.01"), D("0.02")]
    assert sum(apportion(D("1234.57"), [D("3"), D("7"), D("11")])) == D("1234.57")
    assert apportion(D("10"), [D(1)], 0) == [D("10")]


def test_apportion_refuses_zero_weights():
    with pytest.raises(ValueError):
        apportion(D("10"), [D(0), D(0)])


@pytest.mark.parametrize(
    ("incoterm", "expected"),
    [
        # price 3500/10500 TMT; freight 1050 TMT, insurance 77.04 TMT (20 × 3.85175 = 77.035),
        # loading 35, other 35 TMT (10 USD), split 1:3 by price.
        (
            "EXW",
            [
                D("3500.00") + D("262.50") + D("19.26") + D("8.75") + D("8.75"),
                D("10500.00") + D("787.50") + D("57.78") + D("26.25") + D("26.25"),
            ],
        ),
        ("FOB", [D("3799.26"), D("11397.78")]),
        ("CFR", [D("3500.00") + D("19.26") + D("8.75"), D("10500.00") + D("57.78") + D("26.25")]),
        ("CIF", [D("3508.75"), D("10526.25")]),
        # DAP: costs after the border (50 USD = 175 TMT) are deducted: 43.75 and 131.25.
        ("DAP", [D("3508.75") - D("43.75"), D("10526.25") - D("131.25")]),
    ],
)
def test_each_incoterm_adds_what_its_price_lacks(incoterm, expected):
    values = [valuation.customs_value for valuation in _value(incoterm)]

    assert values == expected


def test_steps_explain_conversion_and_what_was_not_added():
    first = _value("CIF")[0]

    assert [(step.label, step.amount) for step in first.steps] == [
        ("Invoice price", D("3500.00")),
        ("Freight to the border", D("0")),
        ("Insurance", D("0")),
        ("Loading and handling", D("0")),
        ("Other dutiable costs", D("8.75")),
        ("Costs after the border (deducted)", D("0")),
    ]
    assert first.steps[0].detail == "1,000.00 USD × 3.5 = 3,500.00 TMT"
    assert first.steps[1].detail == "included in the CIF price, not added"
    assert first.steps[4].detail == "share by invoice price of 10.00 USD = 35.00 TMT"


def test_freight_split_by_gross_mass_with_a_remainder():
    costs = DeclaredCosts(freight=Cost(D("100"), "TMT"))

    values = _value(
        "FOB",
        prices=("10", "10", "10"),
        masses=("1", "1", "1"),
        costs=costs,
        split="gross_mass",
        currency="TMT",
    )

    assert [v.steps[1].amount for v in values] == [D("33.34"), D("33.33"), D("33.33")]
    assert sum(v.customs_value for v in values) == D("130.00")


def test_bad_input_names_the_field():
    with pytest.raises(ValuationError) as zero_price:
        _value("FOB", prices=("1000", "0"))
    with pytest.raises(ValuationError) as negative_cost:
        _value("FOB", costs=DeclaredCosts(freight=Cost(D("-5"), "USD")))
    with pytest.raises(ValuationError) as no_mass:
        _value("FOB", masses=("0", "0"), split="gross_mass")

    assert zero_price.value.field == "items[1].invoice_price"
    assert str(zero_price.value) == "The item price must be more than zero."
    assert negative_cost.value.field == "costs.freight"
    assert no_mass.value.field == "freight_split"
