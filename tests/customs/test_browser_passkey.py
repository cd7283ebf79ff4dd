"""Passkeys end to end: Chromium's virtual authenticator registers one, then signs in with it."""

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from customs.services.users import user_upsert

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "Border-post-2026"


def _virtual_authenticator(page):
    """A platform authenticator that says yes, as a fingerprint reader would (Chrome DevTools WebAuthn)."""
    session = page.context.new_cdp_session(page)
    session.send("WebAuthn.enable")
    session.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return session


def _password(page, base_url):
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("User name").fill("merdan")
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("#login-submit").click()
    page.wait_for_url("**/accounts/two-factor/**")


def test_officer_registers_a_passkey_and_then_signs_in_with_it(page, live_server, settings):
    # WebAuthn needs a host name: the live server is http://localhost:<port>.
    base_url = live_server.url.replace("127.0.0.1", "localhost")
    settings.OTP_WEBAUTHN_RP_ID = "localhost"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [base_url]
    officer = user_upsert(actor=None, username="merdan", password=PASSWORD, roles=["officer"])
    device = TOTPDevice.objects.create(user=officer, name="phone", confirmed=True)
    _virtual_authenticator(page)

    _password(page, base_url)
    page.get_by_label("Code from your authenticator app").fill(f"{totp(device.bin_key):06d}")
    page.locator("#token-submit").click()
    page.wait_for_url("**/office/")
    page.locator("#security-link").click()
    page.locator("#passkey-register-button").click()
    page.wait_for_function(
        "() => (document.querySelector('#passkey-register-status-message') || {}).textContent"
    )
    status = page.locator("#passkey-register-status-message").inner_text()
    registered = WebAuthnCredential.objects.filter(user=officer, confirmed=True).count()
    page.locator("#logout-button").click()

    _password(page, base_url)
    page.locator("#passkey-verification-button").click()
    page.wait_for_url("**/office/")

    assert status == "Registration successful!"
    assert registered == 1
    assert page.locator("h1").inner_text() == "Welcome, merdan"
