"""Bank callbacks through the HTTP API, with the bank's API key: what an accepted callback books, and
every refusal (which writes no payment, no journal and no entry; an authenticated bank's refusal is
kept in the callback log, a bad signature or a replay is not)."""

import json
import time
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from customs.models import ApiClient
from customs.services.users import user_upsert
from declarations.choices import Status
from declarations.models import Declaration
from declarations.services.lifecycle import declaration_reassess
from payments.api import views
from payments.choices import AccountKind, CallbackOutcome, JournalKind, OrderStatus
from payments.models import Bank, BankCallback, Entry, Journal, Payment, PaymentOrder, Receipt
from payments.services.ledger import account_balance, clearing_account, prepaid_account
from payments.services.orders import (
    callback_signature,
    payment_order_cancel,
    payment_order_create,
    reference_make,
    top_up_order_create,
)
from tests.payments.conftest import BANK_SECRET, assessed, item_data, signed

D = Decimal
pytestmark = pytest.mark.django_db
URL = "/api/v1/payments/bank-callbacks/"


def _key_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


@pytest.fixture
def bank(pay_world):
    """The bank's client, signed in with its API key."""
    return _key_client(pay_world["bank_key"])


def _post(client, raw: bytes, stamp: str, signature: str):
    return client.post(
        URL,
        data=raw,
        content_type="application/json",
        HTTP_X_KERWEN_TIMESTAMP=stamp,
        HTTP_X_KERWEN_SIGNATURE=signature,
    )


def _deliver(client, body: dict, **signing):
    return _post(client, *signed(body, **signing))


def _body(order: PaymentOrder, transaction_id: str = "TX-1", **overrides) -> dict:
    return {
        "transaction_id": transaction_id,
        "reference": order.reference,
        "amount": str(order.amount),
        "currency": "TMT",
        **overrides,
    }


def _rows() -> dict:
    return {
        "payments": Payment.objects.count(),
        "journals": Journal.objects.count(),
        "entries": Entry.objects.count(),
        "receipts": Receipt.objects.count(),
    }


NOTHING = {"payments": 0, "journals": 0, "entries": 0, "receipts": 0}


def _receipt_number(serial: int) -> str:
    return f"TMA01 {timezone.localdate().year} R {serial}"


def _order_for(pay_world, *declarations) -> PaymentOrder:
    return payment_order_create(actor=pay_world["users"]["trader_a"], declarations=list(declarations))


def _error(response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def test_an_accepted_callback_pays_an_order_of_one_declaration(pay_world, bank):
    declaration = assessed(pay_world)
    order = _order_for(pay_world, declaration)

    response = _deliver(bank, _body(order))

    payment = Payment.objects.get()
    assert response.status_code == 200
    assert response.json() == {
        "payment": payment.pk,
        "order": order.reference,
        "amount": "11558.75",
        "receipts": [_receipt_number(1)],
        "duplicate": False,
    }
    assert Declaration.objects.get(pk=declaration.pk).status == Status.PAID
    assert PaymentOrder.objects.get(pk=order.pk).status == OrderStatus.PAID
    assert (payment.route, payment.bank_transaction_id, payment.amount) == ("epayment", "TX-1", D("11558.75"))
    assert Receipt.objects.get().declaration_id == declaration.pk
    assert account_balance(clearing_account(pay_world["bank"])) == D("11558.75")
    revenue = Entry.objects.filter(journal=payment.journal, account__kind=AccountKind.REVENUE)
    assert -sum(entry.amount for entry in revenue) == D("11558.75")
    assert list(BankCallback.objects.values_list("outcome", "transaction_id", "payment")) == [
        (CallbackOutcome.ACCEPTED, "TX-1", payment.pk)
    ]


def test_an_accepted_callback_pays_an_order_of_two_declarations(pay_world, bank):
    first = assessed(pay_world)
    second = assessed(pay_world, items=[item_data(invoice_price=D("2000.00"))])
    order = _order_for(pay_world, first, second)
    assert order.amount == first.total_taxes + second.total_taxes

    response = _deliver(bank, _body(order))

    assert response.status_code == 200
    assert response.json()["amount"] == str(order.amount)
    assert response.json()["receipts"] == [_receipt_number(1), _receipt_number(2)]
    assert list(
        Declaration.objects.filter(pk__in=[first.pk, second.pk])
        .order_by("pk")
        .values_list("status", flat=True)
    ) == [Status.PAID, Status.PAID]
    assert {receipt.declaration_id: receipt.amount for receipt in Receipt.objects.all()} == {
        first.pk: first.total_taxes,
        second.pk: second.total_taxes,
    }
    assert (Payment.objects.count(), Journal.objects.count()) == (1, 1)


def test_a_top_up_order_credits_the_prepaid_account(pay_world, bank):
    order = top_up_order_create(
        actor=pay_world["users"]["trader_a"],
        trader=pay_world["trader_a"],
        amount="5000.00",
        office=pay_world["office"],
    )

    response = _deliver(bank, _body(order, transaction_id="TOPUP-1"))

    assert response.status_code == 200
    assert response.json()["receipts"] == [_receipt_number(1)]
    assert account_balance(prepaid_account(pay_world["trader_a"])) == D("5000.00")
    assert Payment.objects.get().journal.kind == JournalKind.TOP_UP
    assert Receipt.objects.get().declaration_id is None


def test_a_bad_signature_is_refused_with_401_and_neither_booked_nor_logged(pay_world, bank):
    order = _order_for(pay_world, assessed(pay_world))

    response = _deliver(bank, _body(order), secret="not-the-bank-secret")

    assert _error(response) == (401, "bad_signature")
    assert _rows() == NOTHING
    assert not BankCallback.objects.exists()
    assert PaymentOrder.objects.get(pk=order.pk).status == OrderStatus.OPEN


def test_a_body_changed_after_signing_is_refused(pay_world, bank):
    order = _order_for(pay_world, assessed(pay_world))
    raw, stamp, signature = signed(_body(order))

    response = _post(bank, raw.replace(b"TX-1", b"TX-2"), stamp, signature)

    assert _error(response) == (401, "bad_signature")
    assert _rows() == NOTHING
    assert not BankCallback.objects.exists()


@pytest.mark.parametrize("age", [301, -301], ids=["replayed", "from-the-future"])
def test_a_stale_timestamp_is_a_replay_refused_with_401(pay_world, bank, age):
    order = _order_for(pay_world, assessed(pay_world))

    response = _deliver(bank, _body(order), timestamp=int(time.time()) - age)

    assert _error(response) == (401, "stale_timestamp")
    assert _rows() == NOTHING
    assert not BankCallback.objects.exists()


def test_missing_signature_headers_are_refused_with_401(pay_world, bank):
    order = _order_for(pay_world, assessed(pay_world))

    response = bank.post(URL, data=json.dumps(_body(order)), content_type="application/json")

    assert _error(response) == (401, "bad_timestamp")
    assert _rows() == NOTHING


def test_a_wrong_amount_is_refused_with_422_and_logged_as_rejected(pay_world, bank):
    declaration = assessed(pay_world)
    order = _order_for(pay_world, declaration)

    response = _deliver(bank, _body(order, amount="11000.00"))

    assert _error(response) == (422, "amount_mismatch")
    assert response.json()["error"]["message"] == (
        f"The amount 11000.00 TMT is not the order's {order.amount} TMT."
    )
    assert _rows() == NOTHING
    assert list(
        BankCallback.objects.values_list("outcome", "error_code", "reference", "amount", "payment")
    ) == [(CallbackOutcome.REJECTED, "amount_mismatch", order.reference, "11000.00", None)]
    assert PaymentOrder.objects.get(pk=order.pk).status == OrderStatus.OPEN
    assert Declaration.objects.get(pk=declaration.pk).status == Status.ASSESSED


def test_another_currency_is_an_amount_mismatch(pay_world, bank):
    order = _order_for(pay_world, assessed(pay_world))

    response = _deliver(bank, _body(order, currency="USD"))

    assert _error(response) == (422, "amount_mismatch")
    assert _rows() == NOTHING


@pytest.mark.parametrize(
    "reference",
    [reference_make(999_999), "RF00NOTAREFERENCE"],
    ids=["well-formed-but-unknown", "malformed"],
)
def test_an_unknown_reference_is_refused_with_404_and_logged(pay_world, bank, reference):
    order = _order_for(pay_world, assessed(pay_world))

    response = _deliver(bank, _body(order, reference=reference))

    assert _error(response) == (404, "unknown_reference")
    assert _rows() == NOTHING
    assert list(BankCallback.objects.values_list("outcome", "error_code")) == [
        (CallbackOutcome.REJECTED, "unknown_reference")
    ]


def test_a_cancelled_order_is_refused_with_409(pay_world, bank):
    order = _order_for(pay_world, assessed(pay_world))
    payment_order_cancel(actor=pay_world["users"]["trader_a"], order=order)

    response = _deliver(bank, _body(order))

    assert _error(response) == (409, "order_closed")
    assert _rows() == NOTHING
    assert BankCallback.objects.get().error_code == "order_closed"


def test_the_same_callback_delivered_five_times_makes_one_payment(pay_world, bank):
    declaration = assessed(pay_world)
    order = _order_for(pay_world, declaration)
    raw, stamp, signature = signed(_body(order))

    responses = [_post(bank, raw, stamp, signature) for _ in range(5)]

    payment = Payment.objects.get()
    assert [response.status_code for response in responses] == [200] * 5
    assert [response.json()["duplicate"] for response in responses] == [False, True, True, True, True]
    assert {(r.json()["payment"], tuple(r.json()["receipts"])) for r in responses} == {
        (payment.pk, (_receipt_number(1),))
    }
    assert Journal.objects.count() == 1
    assert Receipt.objects.count() == 1
    assert sorted(BankCallback.objects.values_list("outcome", flat=True)) == [
        CallbackOutcome.ACCEPTED,
        *[CallbackOutcome.DUPLICATE] * 4,
    ]
    assert account_balance(clearing_account(pay_world["bank"])) == order.amount


def test_a_transaction_id_booked_for_another_reference_is_refused_with_409(pay_world, bank):
    first = _order_for(pay_world, assessed(pay_world))
    second = _order_for(pay_world, assessed(pay_world))
    assert _deliver(bank, _body(first, transaction_id="TX-9")).status_code == 200
    before = _rows()

    response = _deliver(bank, _body(second, transaction_id="TX-9"))

    assert _error(response) == (409, "duplicate_transaction")
    assert _rows() == before
    assert PaymentOrder.objects.get(pk=second.pk).status == OrderStatus.OPEN
    assert BankCallback.objects.filter(outcome=CallbackOutcome.REJECTED).get().reference == second.reference


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b'{"transaction_id": "TX-1", "reference": ', "invalid_body"),
        (b'["TX-1"]', "invalid_body"),
        (b'{"reference": "RF18KRW0000000042", "amount": "1.00", "currency": "TMT"}', "missing_fields"),
        (
            b'{"transaction_id": "  ", "reference": "RF1", "amount": "1.00", "currency": "TMT"}',
            "missing_fields",
        ),
        (
            b'{"transaction_id": "TX-1", "reference": "RF1", "amount": 1.5, "currency": "TMT"}',
            "invalid_amount",
        ),
        (
            b'{"transaction_id": "TX-1", "reference": "RF1", "amount": "-1.00", "currency": "TMT"}',
            "invalid_amount",
        ),
    ],
    ids=["not-json", "not-an-object", "no-transaction-id", "blank-transaction-id", "float", "negative"],
)
def test_a_malformed_body_is_refused_with_400(pay_world, bank, raw, code):
    stamp = str(int(time.time()))

    response = _post(bank, raw, stamp, callback_signature(BANK_SECRET, stamp, raw))

    assert _error(response) == (400, code)
    assert _rows() == NOTHING
    assert list(BankCallback.objects.values_list("outcome", "error_code")) == [
        (CallbackOutcome.REJECTED, code)
    ]


def test_the_key_of_a_user_who_is_not_a_bank_is_refused_with_403(pay_world):
    order = _order_for(pay_world, assessed(pay_world))
    user = user_upsert(actor=None, username="not_a_bank", roles=["bank_integration"])
    _row, key = ApiClient.objects.create_key(name="Not a bank", user=user, scopes=["payments:callback"])

    response = _deliver(_key_client(key), _body(order))

    assert _error(response) == (403, "permission_denied")
    assert _rows() == NOTHING
    assert not BankCallback.objects.exists()


def test_a_bank_key_without_the_callback_scope_is_refused_with_403(pay_world):
    order = _order_for(pay_world, assessed(pay_world))
    _row, key = ApiClient.objects.create_key(
        name="Halkbank reader", user=pay_world["users"]["bank_user"], scopes=["reference:read"]
    )

    response = _deliver(_key_client(key), _body(order))

    assert _error(response) == (403, "permission_denied")
    assert _rows() == NOTHING
    assert not BankCallback.objects.exists()


def test_an_inactive_bank_is_refused_with_403(pay_world, bank):
    order = _order_for(pay_world, assessed(pay_world))
    Bank.objects.filter(pk=pay_world["bank"].pk).update(active=False)

    response = _deliver(bank, _body(order))

    assert _error(response) == (403, "permission_denied")
    assert _rows() == NOTHING


def test_a_signed_in_user_without_a_key_cannot_call_back(pay_world):
    order = _order_for(pay_world, assessed(pay_world))
    anonymous, session = APIClient(), APIClient()
    session.force_login(pay_world["users"]["bank_user"])

    refused = [_deliver(client, _body(order)) for client in (anonymous, session)]

    assert [_error(response) for response in refused] == [(401, "not_authenticated")] * 2
    assert refused[0]["WWW-Authenticate"] == "Api-Key"
    assert _rows() == NOTHING


def test_an_unknown_key_is_refused_with_401(pay_world):
    order = _order_for(pay_world, assessed(pay_world))

    response = _deliver(_key_client("not.a-key"), _body(order))

    assert _error(response) == (401, "authentication_failed")
    assert _rows() == NOTHING


def test_a_declaration_reassessed_between_order_and_callback_credits_the_prepaid_account(pay_world, bank):
    declaration = assessed(pay_world)
    order = _order_for(pay_world, declaration)
    reassessed = declaration_reassess(
        actor=pay_world["users"]["officer"],
        declaration=declaration,
        changes={"invoice_amount": D("12000.00"), "item_changes": {"1": {"invoice_price": D("12000.00")}}},
        reason="Invoice checked",
    )
    assert reassessed.total_taxes != order.amount

    response = _deliver(bank, _body(order))

    receipt = Receipt.objects.get()
    assert response.status_code == 200
    assert response.json()["receipts"] == [receipt.number]
    assert (receipt.declaration_id, receipt.amount, receipt.office) == (
        None,
        order.amount,
        pay_world["office"],
    )
    assert account_balance(prepaid_account(pay_world["trader_a"])) == order.amount
    assert Declaration.objects.get(pk=declaration.pk).status == Status.ASSESSED
    assert not Entry.objects.filter(declaration=declaration, account__kind=AccountKind.REVENUE).exists()
    assert PaymentOrder.objects.get(pk=order.pk).status == OrderStatus.PAID


def test_of_two_declarations_only_the_reassessed_one_goes_to_the_prepaid_account(pay_world, bank):
    kept = assessed(pay_world)
    changed = assessed(pay_world)
    order = _order_for(pay_world, kept, changed)
    ordered = dict(order.lines.values_list("declaration_id", "amount"))
    declaration_reassess(
        actor=pay_world["users"]["officer"],
        declaration=changed,
        changes={"invoice_amount": D("9000.00"), "item_changes": {"1": {"invoice_price": D("9000.00")}}},
        reason="Invoice checked",
    )

    response = _deliver(bank, _body(order))

    assert response.status_code == 200
    assert Declaration.objects.get(pk=kept.pk).status == Status.PAID
    assert Declaration.objects.get(pk=changed.pk).status == Status.ASSESSED
    assert account_balance(prepaid_account(pay_world["trader_a"])) == ordered[changed.pk]
    assert {receipt.declaration_id: receipt.amount for receipt in Receipt.objects.all()} == {
        kept.pk: ordered[kept.pk],
        None: ordered[changed.pk],
    }


@pytest.mark.django_db(transaction=True)
def test_with_atomic_requests_the_callback_still_runs_outside_a_request_transaction(
    pay_world, bank, monkeypatch
):
    """The service books in its own transaction and logs a refusal in another, which must outlive the
    refusal: the view opts out of ATOMIC_REQUESTS."""
    order = _order_for(pay_world, assessed(pay_world))
    monkeypatch.setitem(connection.settings_dict, "ATOMIC_REQUESTS", True)
    in_transaction = []
    process = views.orders.bank_callback_process

    def spy(**arguments):
        in_transaction.append(connection.in_atomic_block)
        return process(**arguments)

    monkeypatch.setattr(views.orders, "bank_callback_process", spy)

    response = _deliver(bank, _body(order, amount="1.00"))

    assert _error(response) == (422, "amount_mismatch")
    assert in_transaction == [False]
    assert BankCallback.objects.get().error_code == "amount_mismatch"
    assert _rows() == NOTHING
