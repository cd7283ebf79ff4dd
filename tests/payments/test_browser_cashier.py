"""A real Chromium: the cashier signs in (password + TOTP), opens the desk from the menu, finds an
assessed declaration by its number, takes the amount due in cash, sees the change while typing and the
receipt number afterwards; the declaration is paid in the database."""

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from customs.services.users import user_upsert
from declarations.choices import Status
from declarations.models import Declaration
from payments.choices import PaymentRoute
from payments.models import Payment, Receipt
from tests.browser import STAFF_PASSWORD, sign_in_with_totp
from tests.payments.conftest import assessed

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_cashier_takes_cash_for_a_declaration_found_by_its_number(page, live_server, pay_world):
    cashier = user_upsert(
        actor=None,
        username="cashier",
        password=STAFF_PASSWORD,
        roles=["cashier"],
        offices=[pay_world["office"]],
        first_name="Aýna",
    )
    device = TOTPDevice.objects.create(user=cashier, name="phone", confirmed=True)
    declaration = assessed(pay_world)

    sign_in_with_totp(page, live_server.url, "cashier", device)
    page.locator("#cashier-link").click()
    page.wait_for_url("**/office/payments/cashier/")
    page.get_by_label("Declaration number").fill(declaration.number)
    page.get_by_label("Declaration number").press("Enter")
    page.wait_for_url("**/office/payments/cashier/?declaration=*")
    trader_shown = page.locator("#cashier-trader").inner_text()
    due_shown = page.locator("#amount-due").inner_text()
    cash_checked = page.get_by_label("Cash at the office").is_checked()
    page.get_by_label("Amount tendered").fill("11600")
    expect(page.locator("#payment-change")).to_have_text("41.25")
    page.locator("#payment-submit").click()
    page.wait_for_url("**/office/payments/cashier/payments/*/?tendered=11600.00")
    receipt_shown = page.locator("#receipt-number").inner_text()
    change_shown = page.locator("#payment-change").inner_text()
    print_link = page.get_by_role("link", name="Print receipt")

    receipt = Receipt.objects.get()
    payment = Payment.objects.get()
    assert trader_shown == "Altyn Asyr HJ (101012345678)"
    assert due_shown == "11,558.75 TMT"
    assert cash_checked is True
    assert receipt_shown == receipt.number == f"TMA01 {receipt.year} R 1"
    assert change_shown == "41.25 TMT"
    expect(print_link).to_have_attribute("href", f"/documents/receipts/{receipt.pk}/")
    assert (payment.route, payment.amount, payment.recorded_by) == (
        PaymentRoute.CASH,
        receipt.amount,
        cashier,
    )
    assert Declaration.objects.get(pk=declaration.pk).status == Status.PAID
    assert receipt.declaration_id == declaration.pk
