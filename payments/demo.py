"""Demo of the payments module for ``make run``: the bank HALK (its integration user ``bank``, with a
public API key and signing secret, README), a comprehensive guarantee and a funded pre-paid account for
Altyn Asyr, so that the trader can pay the demo's assessed declaration from the account, defer it or
order it from the bank. The top-up goes through a real signed callback (and leaves a receipt). Idempotent.
"""

import time
from decimal import Decimal

from customs.demo import demo_api_key
from customs.demo_secrets import DEMO_BANK_API_KEY, DEMO_BANK_SECRET
from customs.models import CustomsOffice, Trader, User
from payments.models import Bank, Guarantee, Payment
from payments.services.guarantees import guarantee_create
from payments.services.orders import bank_callback_process, callback_signature, top_up_order_create

TRADER = "101012345678"
TOP_UP = Decimal("250000.00")


def _bank() -> Bank:
    user = User.objects.get(username="bank")
    bank, _created = Bank.objects.update_or_create(
        code="HALK", defaults={"name": "Halkbank", "user": user, "callback_secret": DEMO_BANK_SECRET}
    )
    demo_api_key(
        key=DEMO_BANK_API_KEY,
        name="Halkbank payment callbacks (demo)",
        user=user,
        scopes=["payments:callback"],
    )
    return bank


def payments_demo_load() -> dict:
    bank = _bank()
    trader = Trader.objects.get(taxpayer_id=TRADER)
    created = {"guarantees": 0, "top_ups": 0}
    if not Guarantee.objects.filter(reference="TM-GRN-2026-0001").exists():
        guarantee_create(
            actor=None,
            reference="TM-GRN-2026-0001",
            kind="comprehensive",
            trader=trader,
            issuer=bank,
            amount=Decimal("1000000.00"),
            valid_from="2026-01-01",
            valid_to="2027-12-31",
            allows_deferred_payment=True,
        )
        created["guarantees"] += 1
    trader_user = User.objects.get(username="trader")
    if not Payment.objects.filter(bank=bank, bank_transaction_id="HALK-DEMO-TOPUP-1").exists():
        order = top_up_order_create(
            actor=trader_user, trader=trader, amount=TOP_UP, office=CustomsOffice.objects.get(code="TMA01")
        )
        body = (
            f'{{"transaction_id": "HALK-DEMO-TOPUP-1", "reference": "{order.reference}", '
            f'"amount": "{order.amount}", "currency": "{order.currency}"}}'
        ).encode()
        stamp = str(int(time.time()))
        bank_callback_process(
            bank=bank, body=body, timestamp=stamp, signature=callback_signature(DEMO_BANK_SECRET, stamp, body)
        )
        created["top_ups"] += 1
    return created
