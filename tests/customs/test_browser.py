"""A real Chromium signs in as an officer (password + TOTP) and as a trader, and switches language."""

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from customs.services.users import user_upsert
from tests.customs.factories import OfficeFactory, TraderFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "Border-post-2026"


def _sign_in(page, base_url, username):
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("#login-submit").click()


def _switch_language(page, code):
    page.locator("#language-select").select_option(code)
    page.locator("#language-submit").click()


def test_officer_signs_in_with_totp_and_switches_to_russian(page, live_server):
    office = OfficeFactory(code="TMA01", name_en="Ashgabat", name_ru="Ашхабад")
    officer = user_upsert(
        actor=None,
        username="merdan",
        password=PASSWORD,
        roles=["officer"],
        offices=[office],
        first_name="Merdan",
    )
    device = TOTPDevice.objects.create(user=officer, name="phone", confirmed=True)

    _sign_in(page, live_server.url, "merdan")
    page.wait_for_url("**/accounts/two-factor/**")
    page.get_by_label("Code from your authenticator app").fill(f"{totp(device.bin_key):06d}")
    page.locator("#token-submit").click()
    page.wait_for_url("**/office/")
    english_heading = page.locator("h1").inner_text()
    english_office = page.get_by_role("cell", name="Ashgabat").count()
    _switch_language(page, "ru")
    page.wait_for_load_state()

    assert english_heading == "Welcome, Merdan"
    assert english_office == 1
    assert page.locator("html").get_attribute("lang") == "ru"
    assert page.locator("h1").inner_text() == "Добро пожаловать, Merdan"
    assert page.get_by_role("cell", name="Ашхабад").count() == 1


def test_trader_signs_in_without_a_second_factor_and_switches_to_turkmen(page, live_server):
    trader = TraderFactory(name="Altyn Asyr HJ", taxpayer_id="101012345678")
    user_upsert(actor=None, username="aman", password=PASSWORD, roles=["trader_user"], trader=trader)

    _sign_in(page, live_server.url, "aman")
    page.wait_for_url("**/portal/")
    english_heading = page.locator("h1").inner_text()
    _switch_language(page, "tk")
    page.wait_for_load_state()

    assert english_heading == "Trader portal"
    assert page.locator("html").get_attribute("lang") == "tk"
    assert page.locator("h1").inner_text() == "Söwdagär portaly"
    assert page.get_by_role("cell", name="101012345678").count() == 1


def test_wrong_password_shows_the_error_and_stays_on_the_login_page(page, live_server):
    user_upsert(actor=None, username="aman", password=PASSWORD, roles=["trader_user"])

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("User name").fill("aman")
    page.get_by_label("Password").fill("not-the-password")
    page.locator("#login-submit").click()

    assert page.get_by_role("alert").inner_text().startswith("Please enter a correct username and password")
    assert "/accounts/login/" in page.url
