"""A real Chromium uses the public tariff pages: browse, open a line, simulate duties."""

import pytest

from tests.tariff.conftest import FISH

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("small_tariff"),
]


def _fill_fish(page, code=FISH):
    page.get_by_label("Commodity code").fill(code)
    page.get_by_label("Country of origin").fill("KZ")
    page.get_by_label("Ask for a preferential rate").check()
    page.get_by_label("Documents attached").fill("ST1")
    page.get_by_label("Date").fill("2026-11-30")
    page.get_by_label("Invoice amount").fill("1000")
    page.get_by_label("Invoice currency").select_option("USD")
    page.get_by_label("Delivery terms (Incoterm)").select_option("FOB")
    page.get_by_label("Freight to the border").fill("100")
    page.get_by_label("Insurance").fill("10")
    page.get_by_label("Gross mass (kg)").fill("1000")
    page.get_by_label("Net mass (kg)").fill("900")


def test_simulator_shows_each_tax_with_its_formula_without_signing_in(page, live_server):
    page.goto(f"{live_server.url}/portal/tariff/simulator/")
    _fill_fish(page)
    page.locator("#simulate-submit").click()
    page.locator("#simulation-result").wait_for()

    rows = page.locator("#tax-lines tbody tr")
    import_duty = page.locator('#tax-lines tr[data-tax="import_duty"] td')
    vat = page.locator('#tax-lines tr[data-tax="vat"] td')

    assert page.locator("#customs-value").inner_text() == "3,885.00"
    assert import_duty.nth(0).inner_text().startswith("Import duty")
    assert "preferential rate for origin KZ (CIS_FTA)" in import_duty.nth(0).inner_text()
    assert import_duty.nth(5).inner_text() == "0.00"
    assert vat.nth(1).inner_text() == "3,885.00"
    assert vat.nth(5).inner_text() == "582.75"
    assert rows.count() == 4  # duty, VAT, fee, total
    assert page.locator("#total").inner_text() == "602.75 TMT"


def test_simulator_puts_an_engine_error_next_to_the_field(page, live_server):
    page.goto(f"{live_server.url}/portal/tariff/simulator/")
    _fill_fish(page, code="0101999999")
    page.locator("#simulate-submit").click()

    field = page.locator(".field--error")

    assert field.count() == 1
    assert "0101999999" in field.inner_text()
    assert field.locator("input").get_attribute("name") == "commodity_code"
    assert page.locator("#simulation-result").count() == 0


def test_search_by_code_then_open_the_line_and_its_measures(page, live_server):
    page.goto(f"{live_server.url}/portal/tariff/?date=2026-11-30")
    page.get_by_label("Search by words or code").fill("0303")
    page.locator("#tariff-search").click()
    page.locator("#tariff-results").get_by_role("link", name=FISH).click()

    measures = page.locator("#line-measures tbody tr")

    assert page.locator("h1").inner_text().startswith(FISH)
    assert [measures.nth(i).locator("td").nth(1).inner_text() for i in range(measures.count())] == [
        "7%",
        "15%",
        "0%",
        "0%",
        "0%",
    ]
