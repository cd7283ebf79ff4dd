"""The declarations world (tests/declarations/conftest.py) plus what payments needs: a cashier at
TMA01, a bank with its integration user and API key, a guarantee of trader A, and helpers to make
assessed declarations, to fund a pre-paid account and to sign bank callbacks."""

import datetime
import itertools
import json
import time
from decimal import Decimal

import pytest

from customs.models import ApiClient
from customs.services.users import user_upsert
from declarations.models import Declaration
from declarations.services.lifecycle import declaration_submit
from payments.models import Bank
from payments.services.guarantees import guarantee_create
from payments.services.orders import callback_signature, top_up_order_create
from tests.declarations.conftest import (  # noqa: F401 (fixtures and helpers for the payments tests)
    CAR,
    FISH,
    PISTOL,
    _fresh_reference_cache,
    control_cleared,
    declaration_data,
    item_data,
    world,
)
from tests.tariff.conftest import small_tariff  # noqa: F401 (the fixture ``world`` needs)

D = Decimal
BANK_SECRET = "bank-callback-secret-for-tests"
_counter = itertools.count(1)


@pytest.fixture
def pay_world(world):  # noqa: F811 (the imported fixture)
    """``world`` plus ``cashier`` (TMA01), ``cashier_other`` (TMT01), ``bank_user`` (the bank's
    integration user, with an API key in ``bank_key``), bank ``bank`` and ``guarantee`` of trader A
    (comprehensive, 100,000.00, covers deferred payment)."""
    users = world["users"]
    users["cashier"] = user_upsert(
        actor=None, username="cashier", roles=["cashier"], offices=[world["office"]]
    )
    users["cashier_other"] = user_upsert(
        actor=None, username="cashier_other", roles=["cashier"], offices=[world["other_office"]]
    )
    users["bank_user"] = user_upsert(actor=None, username="bank_user", roles=["bank_integration"])
    bank = Bank.objects.create(
        code="HALK", name="Halkbank", user=users["bank_user"], callback_secret=BANK_SECRET
    )
    _client, key = ApiClient.objects.create_key(
        name="Halkbank callbacks", user=users["bank_user"], scopes=["payments:callback"]
    )
    guarantee = guarantee_create(
        actor=None,
        reference="GRN-0001",
        kind="comprehensive",
        trader=world["trader_a"],
        issuer=bank,
        amount=D("100000.00"),
        valid_from=datetime.date(2020, 1, 1),
        valid_to=datetime.date(2099, 12, 31),
        allows_deferred_payment=True,
    )
    return {**world, "bank": bank, "bank_key": key, "guarantee": guarantee}


def assessed(pay_world, *, actor="trader_a", items=None, **overrides) -> Declaration:
    """A declaration of trader A lodged, registered and assessed at TMA01 (not scored: no lane)."""
    overrides.setdefault("lrn", f"PAY-{next(_counter):05d}")
    return declaration_submit(
        actor=pay_world["users"][actor], data=declaration_data(items=items, **overrides)
    )


def signed(body: dict, *, secret: str = BANK_SECRET, timestamp: int | None = None) -> tuple[bytes, str, str]:
    """The body, timestamp and signature of a bank callback."""
    raw = json.dumps(body).encode()
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return raw, stamp, callback_signature(secret, stamp, raw)


def fund(pay_world, amount, *, trader="trader_a", transaction_id=None):
    """Top up the trader's pre-paid account through a (signed) bank callback."""
    from payments.services.orders import bank_callback_process

    order = top_up_order_create(
        actor=pay_world["users"][trader],
        trader=pay_world[trader],
        amount=D(amount),
        office=pay_world["office"],
    )
    raw, stamp, signature = signed(
        {
            "transaction_id": transaction_id or f"TOPUP-{next(_counter)}",
            "reference": order.reference,
            "amount": str(order.amount),
            "currency": "TMT",
        }
    )
    return bank_callback_process(bank=pay_world["bank"], body=raw, timestamp=stamp, signature=signature)


def paid_in_cash(pay_world) -> Declaration:
    """An assessed declaration of trader A, paid in cash at TMA01 (not released: no lane)."""
    from payments.services.collection import cashier_pay

    declaration = assessed(pay_world)
    cashier_pay(
        actor=pay_world["users"]["cashier"],
        declaration=declaration,
        method="cash",
        amount=declaration.total_taxes,
    )
    return Declaration.objects.get(pk=declaration.pk)
