"""A real Chromium: a trader enters a three-item declaration in the grid (copying a row), attaches a
document, lodges it and sees the assessment total."""

from decimal import Decimal

import pytest

from customs.services.users import user_upsert
from declarations.choices import Status
from declarations.models import Declaration
from tests.declarations.conftest import CAR, FISH

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "Border-post-2026"
D = Decimal
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Count 0/Kids[]>>endobj\n%%EOF\n"
)


def _sign_in(page, base_url, username):
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("#login-submit").click()
    page.wait_for_url("**/portal/")


def _fill_row(page, index, **values):
    for name, value in values.items():
        field = page.locator(f"#id_items-{index}-{name}")
        if name in ("package_kind", "quantity_unit", "valuation_method"):
            field.select_option(value)
        else:
            field.fill(value)


def test_trader_enters_three_items_attaches_a_document_lodges_and_sees_the_total(page, live_server, world):
    user_upsert(
        actor=None, username="aman", password=PASSWORD, roles=["trader_user"], trader=world["trader_a"]
    )
    _sign_in(page, live_server.url, "aman")
    page.locator("#home-new-declaration").click()
    page.wait_for_url("**/portal/declarations/new/")

    page.get_by_label("Type of declaration").select_option("IM4")
    page.get_by_label("Customs office").select_option("TMA01")
    page.get_by_label("Your reference (LRN)").fill("INV-2026-0042")
    page.get_by_label("Foreign party name").fill("Shanghai Motors Ltd")
    page.get_by_label("Foreign party address").fill("1 Harbour Road, Shanghai")
    page.get_by_label("Foreign party country").fill("CN")
    page.get_by_label("Country of dispatch").fill("CN")
    page.get_by_label("Delivery terms (Incoterm)").select_option("CIF")
    page.get_by_label("Delivery place").fill("Ashgabat")
    page.get_by_label("Mode of transport at the border").select_option("3")
    page.get_by_label("Identity of the means of transport").fill("AG 1234")
    page.get_by_label("Invoice amount").fill("17000")
    page.get_by_label("Invoice currency").select_option("USD")
    page.get_by_label("Total packages").fill("12")
    _fill_row(
        page,
        0,
        commodity_code=CAR,
        description="Passenger car",
        origin="CN",
        procedure_code="4000",
        packages_number="1",
        package_kind="PK",
        gross_mass="1200",
        net_mass="1100",
        quantity="1",
        quantity_unit="item",
        invoice_price="10000",
    )
    page.locator("#item-grid tr[data-item-row]").nth(0).get_by_role("button", name="Copy item").click()
    copied_code = page.locator("#id_items-1-commodity_code").input_value()
    copied_kind = page.locator("#id_items-1-package_kind").input_value()
    _fill_row(page, 1, description="Second car", invoice_price="5000")
    # Enter in the grid moves down the column; it does not submit the form.
    page.locator("#id_items-0-description").press("Enter")
    focused = page.evaluate("document.activeElement.id")
    page.locator("#add-item").click()
    _fill_row(
        page,
        2,
        commodity_code=FISH,
        description="Frozen fish",
        origin="CN",
        procedure_code="4000",
        packages_number="10",
        package_kind="CT",
        gross_mass="1100",
        net_mass="1000",
        invoice_price="2000",
    )
    page.locator("#save-draft").click()
    page.wait_for_url("**/portal/declarations/*/")

    page.locator("#document-form").get_by_label("Document type").select_option("ST1")
    page.locator("#document-form").get_by_label("Document reference").fill("INV-2026-0042")
    page.locator("#document-form").get_by_label("Date of issue").fill("2026-11-30")
    page.locator("#document-form").get_by_label("Scanned document (PDF or image)").set_input_files(
        {"name": "invoice.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    page.locator("#attach-document").click()
    page.locator("#document-list").wait_for()
    document_row = page.locator("#document-list tbody tr").nth(0).inner_text()
    page.locator("#lodge").click()
    page.locator("#assessment-total").wait_for()

    declaration = Declaration.objects.get()
    assert copied_code == CAR
    assert copied_kind == "PK"
    assert focused == "id_items-1-description"
    assert "ST1" in document_row and "INV-2026-0042" in document_row
    assert declaration.status == Status.ASSESSED
    assert list(declaration.items.order_by("number").values_list("commodity_code", flat=True)) == [
        CAR,
        CAR,
        FISH,
    ]
    assert declaration.documents.get().content_type == "application/pdf"
    # By hand (1 USD = 3.5, 1 EUR = 4.0 TMT; CIF, so the price is the customs value):
    # car 1: value 35,000; duty 10% = 3,500; excise 5% of 38,500 = 1,925; VAT 15% of 40,425 = 6,063.75
    # car 2: value 17,500; duty 1,750; excise 962.50; VAT 15% of 20,212.50 = 3,031.88
    # fish: value 7,000; duty 8% = 560 < MIN 0.50 EUR x 1,000 kg = 2,000; VAT 15% of 9,000 = 1,350
    # fee 0.2% of 59,500 = 119
    assert declaration.total_taxes == D("20702.13")
    assert page.locator("#assessment-total").inner_text() == "20,702.13 TMT"
    assert page.locator("#declaration-status").inner_text() == "Assessed"
