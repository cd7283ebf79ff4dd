"""The demo data that ``make run`` loads: complete and idempotent."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django_otp.plugins.otp_totp.models import TOTPDevice

from customs.demo import demo_load
from customs.demo_secrets import DEMO_PASSWORD, DEMO_TOTP_KEY
from customs.models import AuditEvent, BrokerAuthorisation, CustomsOffice, ExchangeRate, Trader, User
from customs.services.audit import audit_verify
from customs.services.exchange_rates import exchange_rate_on

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 11, 23)


def _counts():
    models = (CustomsOffice, Trader, BrokerAuthorisation, User, ExchangeRate, TOTPDevice)
    return {model.__name__: model.objects.count() for model in models}


def test_demo_loads_offices_parties_users_and_rates_once():
    demo_load(today=TODAY)
    first = _counts()
    events = AuditEvent.objects.count()
    demo_load(today=TODAY)

    assert _counts() == first
    assert AuditEvent.objects.count() == events  # the second load changed nothing, so audited nothing
    assert first["CustomsOffice"] == 8
    assert first["Trader"] == 3
    assert first["BrokerAuthorisation"] == 2
    assert first["User"] == 9
    assert CustomsOffice.objects.get(code="TMT01").name_tk == "Türkmenbaşy porty"
    assert exchange_rate_on("USD", TODAY).rate == Decimal("3.5000000000")
    assert exchange_rate_on("EUR", TODAY).rate == Decimal("3.8517500000")  # 3.5 * 1.1005 (ECB, 2020-01-28)
    assert audit_verify() == []


def test_demo_users_have_their_roles_links_and_second_factor():
    demo_load(today=TODAY)

    officer = User.objects.get(username="officer")
    trader = User.objects.get(username="trader")
    broker = User.objects.get(username="broker")

    assert officer.check_password(DEMO_PASSWORD)
    assert officer.role_names == {"officer"}
    assert list(officer.offices.values_list("code", flat=True)) == ["TMA01"]
    assert TOTPDevice.objects.get(user=officer).key == DEMO_TOTP_KEY
    assert trader.trader.taxpayer_id == "101012345678"
    assert not TOTPDevice.objects.filter(user=trader).exists()
    assert broker.broker.licence_number == "BR-0001"
    assert User.objects.get(username="admin").is_superuser is True
    assert AuditEvent.objects.filter(action="customs.user.created").count() == 9


def test_load_demo_command_prints_the_logins(capsys):
    call_command("load_demo")

    output = capsys.readouterr().out
    assert "Demo logins (password for all: Kerwen-demo-2026)" in output
    assert "officer     Customs officer at TMA01" in output
