"""The payments demo: a bank with its public key and secret, a guarantee, a funded account; once."""

from decimal import Decimal

import pytest
from django.utils import timezone

from customs.demo import demo_load
from customs.demo_secrets import DEMO_BANK_API_KEY
from customs.models import ApiClient, Trader
from payments.demo import TOP_UP, payments_demo_load
from payments.models import Guarantee, Receipt
from payments.services.ledger import account_balance, prepaid_account

pytestmark = pytest.mark.django_db


def test_the_payments_demo_loads_once(settings):
    demo_load(today=timezone.localdate())
    first = payments_demo_load()
    second = payments_demo_load()
    assert first == {"guarantees": 1, "top_ups": 1}
    assert second == {"guarantees": 0, "top_ups": 0}
    trader = Trader.objects.get(taxpayer_id="101012345678")
    assert account_balance(prepaid_account(trader)) == TOP_UP
    assert Guarantee.objects.get().amount == Decimal("1000000.00")
    assert Receipt.objects.get().amount == TOP_UP
    client = ApiClient.objects.get_from_key(DEMO_BANK_API_KEY)
    assert client.is_valid(DEMO_BANK_API_KEY) and client.user.username == "bank"
