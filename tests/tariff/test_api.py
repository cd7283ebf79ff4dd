"""The public duty simulator API."""

import pytest
from rest_framework.test import APIClient

from tests.tariff.conftest import CAR, FISH

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("small_tariff")]
URL = "/api/v1/tariff/simulate/"


def _body(**item):
    fish = {
        "commodity_code": FISH,
        "origin": "CN",
        "invoice_price": "1000",
        "gross_mass": "1000",
        "net_mass": "900",
    }
    fish.update(item)
    return {
        "day": "2026-11-30",
        "incoterm": "FOB",
        "invoice_currency": "USD",
        "freight": {"amount": "100", "currency": "USD"},
        "insurance": {"amount": "10", "currency": "USD"},
        "items": [fish],
    }


def test_anyone_can_simulate_and_gets_every_figure_as_a_decimal_string():
    response = APIClient().post(URL, _body(), format="json")

    assert response.status_code == 200
    body = response.json()
    item = body["items"][0]
    assert body["customs_value"] == "3885.00"
    assert [
        (tax["measure_type"], tax["base"], tax["expression"], tax["amount"]) for tax in item["taxes"]
    ] == [
        ("import_duty", "3885.00", "7%", "271.95"),
        ("vat", "4156.95", "15%", "623.54"),
    ]
    assert item["taxes"][1]["unrounded"] == "623.542500"
    assert [(step["label"], step["amount"]) for step in item["valuation"]] == [
        ("Invoice price", "3500.00"),
        ("Freight to the border", "350.00"),
        ("Insurance", "35.00"),
    ]
    assert body["totals"] == {"import_duty": "271.95", "vat": "623.54", "customs_fee": "20.00"}
    assert body["total"] == "915.49"
    assert body["rates"] == {"USD": "3.5000000000"}


def test_specific_quantities_travel_by_unit():
    body = _body(
        commodity_code=CAR, origin="DE", gross_mass="1500", net_mass="1400", quantities={"item": "1"}
    )

    response = APIClient().post(URL, body, format="json")

    assert response.status_code == 200
    # 10% × 3885.00 = 388.50 is below the minimum 100 EUR/item × 1 item × 4.0 = 400.00
    assert response.json()["items"][0]["taxes"][0]["amount"] == "400.00"


@pytest.mark.parametrize(
    ("item", "field", "message"),
    [
        ({"commodity_code": "0101999999"}, "items[0].commodity_code", None),
        ({"commodity_code": "0303"}, "items", "Enter the 10-digit national commodity code."),
        ({"invoice_price": "-5"}, "items", "Ensure this value is greater than or equal to 0."),
        (
            {"invoice_price": "5000000000000"},
            "items",
            "Ensure this value is less than or equal to 1000000000000.",
        ),
        ({"quantities": {"barrels": "3"}}, "items", "Unknown unit(s): barrels."),
    ],
)
def test_bad_input_is_refused_field_by_field(item, field, message):
    response = APIClient().post(URL, _body(**item), format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["fields"]
    if message:
        assert message in str(error["fields"][field])


def test_a_currency_without_a_rate_is_named():
    body = _body()
    body["invoice_currency"] = "GBP"

    response = APIClient().post(URL, body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"]["invoice_currency"] == [
        {"code": "invalid", "message": "No exchange rate for GBP is in force on 2026-11-30."}
    ]


def test_the_simulator_is_in_the_openapi_schema(client):
    schema = client.get("/api/schema/")

    assert b"/api/v1/tariff/simulate/" in schema.content
    assert b"tariff_simulate" in schema.content
