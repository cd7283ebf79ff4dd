"""Sign-in: password, TOTP second factor for staff, enrolment, lockout."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from customs.models import AuditEvent
from tests.customs.factories import TraderFactory, UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"
LOGIN = "/accounts/login/"


def _code(device: TOTPDevice, offset: int = 0) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=offset):06d}"


def _sign_in(client, username, password=PASSWORD):
    return client.post(LOGIN, {"username": username, "password": password})


def test_trader_signs_in_with_a_password_and_lands_in_the_portal(client):
    UserFactory(username="aman", roles=["trader_user"], trader=TraderFactory(name="Altyn Asyr HJ"))

    response = _sign_in(client, "aman")
    home = client.get(response["Location"], follow=True)

    assert response.status_code == 302
    assert home.redirect_chain[-1][0] == "/portal/"
    assert "Altyn Asyr HJ" in home.content.decode()


def test_officer_must_give_a_totp_code_before_any_page(client):
    officer = UserFactory(username="merdan", roles=["officer"])
    device = TOTPDevice.objects.create(user=officer, name="phone", confirmed=True)
    wrong_code = "000000" if _code(device) != "000000" else "111111"

    _sign_in(client, "merdan")
    blocked = client.get("/office/")
    api_blocked = client.get("/api/v1/customs/countries/")
    wrong = client.post("/accounts/two-factor/?next=/office/", {"token": wrong_code})
    still_blocked = client.get("/office/")
    throttled = client.post("/accounts/two-factor/?next=/office/", {"token": _code(device)})
    # django-otp makes the next try wait after a failure; let that wait pass.
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=timezone.now() - datetime.timedelta(seconds=5)
    )
    right = client.post("/accounts/two-factor/?next=/office/", {"token": _code(device)})
    office = client.get("/office/")

    assert blocked.status_code == 302
    assert blocked["Location"] == "/accounts/two-factor/?next=/office/"
    assert api_blocked.status_code == 403
    assert api_blocked.json()["error"]["code"] == "second_factor_required"
    assert wrong.status_code == 200
    assert "That code is not valid" in wrong.content.decode()
    assert still_blocked.status_code == 302
    assert "Too many wrong codes" in throttled.content.decode()
    assert right.status_code == 302
    assert right["Location"] == "/office/"
    assert office.status_code == 200


def test_a_used_code_cannot_be_replayed(client):
    officer = UserFactory(username="merdan", roles=["officer"])
    device = TOTPDevice.objects.create(user=officer, name="phone", confirmed=True)
    code = _code(device)
    _sign_in(client, "merdan")
    client.post("/accounts/two-factor/", {"token": code})
    client.post(reverse("logout"))

    _sign_in(client, "merdan")
    replay = client.post("/accounts/two-factor/", {"token": code})

    assert replay.status_code == 200
    assert client.get("/office/").status_code == 302


def test_first_sign_in_enrols_an_authenticator(client):
    officer = UserFactory(username="jeren", roles=["officer"])

    _sign_in(client, "jeren")
    redirected = client.get("/office/")
    setup = client.get(redirected["Location"])
    device = TOTPDevice.objects.get(user=officer, confirmed=False)
    confirmed = client.post("/accounts/two-factor/setup/", {"token": _code(device)})

    assert redirected["Location"] == "/accounts/two-factor/setup/?next=/office/"
    assert setup.status_code == 200
    assert 'id="totp-secret"' in setup.content.decode()
    assert confirmed.status_code == 302
    assert TOTPDevice.objects.get(pk=device.pk).confirmed is True
    assert client.get("/office/").status_code == 200
    assert (
        AuditEvent.objects.filter(
            action="customs.user.second_factor_enrolled", object_id=str(officer.pk)
        ).count()
        == 1
    )


def test_five_wrong_passwords_lock_the_account_but_not_others(client):
    UserFactory(username="merdan", roles=["officer"])
    UserFactory(username="aman", roles=["trader_user"])

    failures = [_sign_in(client, "merdan", "wrong-password").status_code for _ in range(5)]
    locked = _sign_in(client, "merdan")
    other = _sign_in(client, "aman")

    assert failures == [200, 200, 200, 200, 429]
    assert locked.status_code == 429
    assert "Account locked" in locked.content.decode()
    assert "_auth_user_id" in client.session  # aman signed in
    assert other.status_code == 302


def test_wrong_password_shows_an_error_next_to_the_form(client):
    UserFactory(username="merdan", roles=["officer"])

    response = _sign_in(client, "merdan", "nope")

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_verified_officer_can_begin_registering_a_passkey(client, verified_login):
    officer = UserFactory(username="merdan", roles=["officer"])
    verified_login(client, officer)

    response = client.post("/webauthn/registration/begin/", content_type="application/json")

    assert response.status_code == 200
    options = response.json()
    assert options["rp"] == {"id": "localhost", "name": "Kerwen"}
    assert options["user"]["name"] == "merdan"
    assert len(options["challenge"]) >= 16


def test_an_unverified_officer_cannot_register_a_passkey(client):
    officer = UserFactory(username="merdan", roles=["officer"])
    TOTPDevice.objects.create(user=officer, name="phone", confirmed=True)
    _sign_in(client, "merdan")

    response = client.post("/webauthn/registration/begin/", content_type="application/json")

    assert response.status_code == 403
