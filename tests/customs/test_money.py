"""Money: Decimal only, one rounding rule (ROUND_HALF_UP to the currency's minor unit)."""

from decimal import Decimal

import pytest

from customs.money import Money, round_money, to_decimal


@pytest.mark.parametrize(
    ("amount", "minor_unit", "expected"),
    [
        ("2.675", 2, "2.68"),  # half up, where binary floats would give 2.67
        ("2.665", 2, "2.67"),  # half up, not banker's rounding (2.66)
        ("-2.675", 2, "-2.68"),  # away from zero for negatives
        ("1234.5", 0, "1235"),  # JPY has no minor unit
        ("0.0005", 3, "0.001"),  # KWD-like three decimals
        ("10", 2, "10.00"),
    ],
)
def test_round_money_half_up(amount, minor_unit, expected):
    assert str(round_money(Decimal(amount), minor_unit)) == expected


def test_floats_are_refused():
    with pytest.raises(TypeError):
        to_decimal(0.1)
    with pytest.raises(TypeError):
        Money(0.1, "USD")


def test_strings_that_are_not_numbers_are_refused():
    with pytest.raises(ValueError):
        to_decimal("12,50")


def test_money_adds_only_the_same_currency():
    total = Money("10.005", "TMT") + Money("0.5", "TMT")

    assert total == Money(Decimal("10.505"), "TMT")
    assert total.rounded() == Money(Decimal("10.51"), "TMT")
    with pytest.raises(ValueError):
        total + Money("1", "USD")


def test_request_id_is_echoed_or_made(client, db):
    given = client.get("/accounts/login/", HTTP_X_REQUEST_ID="border-42")
    made = client.get("/accounts/login/", HTTP_X_REQUEST_ID="bad id with spaces")

    assert given["X-Request-ID"] == "border-42"
    assert len(made["X-Request-ID"]) == 32
