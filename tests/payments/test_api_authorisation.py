"""Who may call each endpoint of /api/v1/payments/: the matrix of every side.

The scene is trader A's: declaration ``payable`` (lodged by broker BR-0001, whom A authorises for
declarations but not for payments), an open payment order for another declaration, a funded pre-paid
account (whose top-up gave receipt R 1 at TMA01) and guarantee GRN-0001. ``broker_payer`` is a broker
that A authorises for payments only. A refused request writes nothing: no order, payment, journal,
entry, receipt, reservation or callback, and no declaration or order changes status.
"""

import datetime

import pytest
from rest_framework.test import APIClient

from customs.services.users import user_upsert
from declarations.models import Declaration
from payments.models import (
    BankCallback,
    Entry,
    GuaranteeReservation,
    Journal,
    Payment,
    PaymentOrder,
    Receipt,
)
from payments.services.orders import payment_order_create
from tests.customs.factories import BrokerAuthorisationFactory, BrokerFactory
from tests.payments.conftest import assessed, fund, signed

pytestmark = pytest.mark.django_db
URL = "/api/v1/payments/"
WHO = [
    "anonymous",
    "trader_a",
    "trader_b",
    "broker_payer",
    "broker",
    "officer",
    "cashier",
    "officer_other",
    "bank_key",
]


def _codes(*codes):
    return dict(zip(WHO, codes, strict=True))


# Reads of lists: every signed-in user gets a list (empty unless it is the payer's side); API keys are
# refused outside the bank callback.
LIST = _codes(401, 200, 200, 200, 200, 200, 200, 200, 403)
# An object of trader A's: found by the payer's side only.
PAYER_OBJECT = _codes(401, 200, 404, 200, 404, 404, 404, 404, 403)
# Paying a declaration: the payer's side may; who sees the declaration without paying for it (the
# broker that lodged it, an officer of its office) is refused; the others do not find it.
PAY = _codes(401, 201, 404, 201, 403, 403, 404, 404, 403)

ENDPOINTS = {
    # name: (method, path, body, expected codes)
    "bank_callback": (
        "post",
        "bank-callbacks/",
        "callback",
        _codes(401, 403, 403, 403, 403, 403, 403, 403, 200),
    ),
    "orders_list": ("get", "payment-orders/", None, LIST),
    "order_retrieve": ("get", "payment-orders/{order}/", None, PAYER_OBJECT),
    # A declaration named in the body that the caller cannot see is a field error (400).
    "order_create": (
        "post",
        "payment-orders/",
        {"declarations": ["{payable}"]},
        _codes(401, 201, 400, 201, 403, 403, 400, 400, 403),
    ),
    "order_top_up": (
        "post",
        "payment-orders/top-up/",
        {"trader": "101012345678", "amount": "500.00", "office": "TMA01"},
        _codes(401, 201, 400, 201, 400, 400, 400, 400, 403),
    ),
    "order_cancel": ("post", "payment-orders/{order}/cancel/", None, PAYER_OBJECT),
    "pay_from_account": ("post", "declarations/{payable}/pay-from-account/", None, PAY),
    "defer": ("post", "declarations/{payable}/defer/", {"guarantee": "GRN-0001"}, PAY),
    "payable_declarations": ("get", "payable-declarations/", None, LIST),
    "accounts": ("get", "accounts/", None, LIST),
    "account_statement": ("get", "accounts/101012345678/statement/", None, PAYER_OBJECT),
    "receipts_list": ("get", "receipts/", None, LIST),
    # Staff of the receipt's office see it too.
    "receipt_retrieve": (
        "get",
        "receipts/{receipt}/",
        None,
        _codes(401, 200, 404, 200, 404, 200, 200, 404, 403),
    ),
    "guarantees": ("get", "guarantees/", None, LIST),
}
MATRIX = [(endpoint, who, codes[who]) for endpoint, (_m, _p, _b, codes) in ENDPOINTS.items() for who in WHO]

PAYER_SIDE = {"trader_a", "broker_payer"}
RECEIPT_READERS = PAYER_SIDE | {"officer", "cashier"}


@pytest.fixture
def scene(pay_world):
    broker_payer = BrokerFactory(name="Pay Brokers", licence_number="BR-0003")
    BrokerAuthorisationFactory(
        broker=broker_payer,
        trader=pay_world["trader_a"],
        valid_from=datetime.date(2020, 1, 1),
        scope=["payment"],
    )
    pay_world["users"]["broker_payer"] = user_upsert(
        actor=None, username="broker_payer", roles=["broker_user"], broker=broker_payer
    )
    payable = assessed(pay_world, actor="broker")
    ordered = assessed(pay_world, actor="broker")
    order = payment_order_create(actor=pay_world["users"]["trader_a"], declarations=[ordered])
    fund(pay_world, payable.total_taxes)
    return {
        **pay_world,
        "payable": payable,
        "ordered": ordered,
        "order": order,
        "receipt": Receipt.objects.get(),
    }


def _client(scene, who) -> APIClient:
    client = APIClient()
    if who == "bank_key":
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {scene['bank_key']}")
    elif who != "anonymous":
        client.force_authenticate(scene["users"][who])
    return client


def _state(scene) -> dict:
    return {
        "orders": PaymentOrder.objects.count(),
        "payments": Payment.objects.count(),
        "journals": Journal.objects.count(),
        "entries": Entry.objects.count(),
        "receipts": Receipt.objects.count(),
        "reservations": GuaranteeReservation.objects.count(),
        "callbacks": BankCallback.objects.count(),
        "order_statuses": dict(PaymentOrder.objects.values_list("reference", "status")),
        "declaration_statuses": dict(
            Declaration.objects.filter(pk__in=[scene["payable"].pk, scene["ordered"].pk]).values_list(
                "pk", "status"
            )
        ),
    }


def _request(scene, who, method, path, body):
    client = _client(scene, who)
    url = URL + path.format(
        order=scene["order"].reference, payable=scene["payable"].pk, receipt=scene["receipt"].pk
    )
    if body == "callback":
        order = scene["order"]
        raw, stamp, signature = signed(
            {
                "transaction_id": "TX-MATRIX",
                "reference": order.reference,
                "amount": str(order.amount),
                "currency": "TMT",
            }
        )
        return client.post(
            url,
            raw,
            content_type="application/json",
            HTTP_X_KERWEN_TIMESTAMP=stamp,
            HTTP_X_KERWEN_SIGNATURE=signature,
        )
    if isinstance(body, dict):
        body = {
            key: [scene["payable"].pk if item == "{payable}" else item for item in value]
            if isinstance(value, list)
            else value
            for key, value in body.items()
        }
    return getattr(client, method)(url, body, format="json")


def _listed(endpoint, response) -> list:
    key = {
        "orders_list": "reference",
        "payable_declarations": "id",
        "accounts": "trader",
        "receipts_list": "number",
        "guarantees": "reference",
    }[endpoint]
    return [row[key] for row in response.json()["results"]]


def _expected_rows(scene, endpoint, who) -> list:
    if endpoint == "receipts_list":
        return [scene["receipt"].number] if who in RECEIPT_READERS else []
    if endpoint == "accounts" and who == "trader_b":
        return ["101098765432"]  # its own account, empty
    if who not in PAYER_SIDE:
        return []
    top_up = PaymentOrder.objects.get(kind="top_up")
    return {
        "orders_list": [top_up.reference, scene["order"].reference],
        "payable_declarations": [scene["payable"].pk, scene["ordered"].pk],
        "accounts": ["101012345678"],
        "guarantees": ["GRN-0001"],
    }[endpoint]


@pytest.mark.parametrize(("endpoint", "who", "expected"), MATRIX)
def test_authorisation_matrix(scene, endpoint, who, expected):
    method, path, body, _codes_of = ENDPOINTS[endpoint]
    before = _state(scene)

    response = _request(scene, who, method, path, body)

    assert response.status_code == expected, response.content
    after = _state(scene)
    if method == "get" or expected >= 400:
        assert after == before
    if expected >= 400:
        assert set(response.json()) == {"error"}
        if expected in (401, 404):
            assert response.json()["error"]["code"] == {401: "not_authenticated", 404: "not_found"}[expected]
        if expected == 403:
            assert response.json()["error"]["code"] in {"permission_denied", "not_authorised"}
    if (
        endpoint in ("orders_list", "payable_declarations", "accounts", "receipts_list", "guarantees")
        and expected == 200
    ):
        assert _listed(endpoint, response) == _expected_rows(scene, endpoint, who)
    if expected == 200 and endpoint == "bank_callback":
        assert after["payments"] == before["payments"] + 1
        assert after["order_statuses"][scene["order"].reference] == "paid"
    if expected == 201 and endpoint in ("order_create", "order_top_up"):
        assert after["orders"] == before["orders"] + 1
        assert after["payments"] == before["payments"]
    if expected == 201 and endpoint in ("pay_from_account", "defer"):
        assert after["payments"] == before["payments"] + 1
        assert after["declaration_statuses"][scene["payable"].pk] == "paid"
    if expected == 200 and endpoint == "order_cancel":
        assert after["order_statuses"][scene["order"].reference] == "cancelled"


def test_a_broker_whose_payment_authorisation_is_revoked_no_longer_sees_or_pays(scene):
    from customs.models import BrokerAuthorisation

    BrokerAuthorisation.objects.filter(broker__licence_number="BR-0003").update(revoked=True)
    before = _state(scene)
    client = _client(scene, "broker_payer")

    orders = client.get(f"{URL}payment-orders/")
    paid = client.post(f"{URL}declarations/{scene['payable'].pk}/pay-from-account/")

    assert orders.status_code == 200
    assert orders.json()["results"] == []
    assert paid.status_code == 404
    assert _state(scene) == before


def test_a_payers_api_key_needs_the_payments_scopes(scene):
    from customs.models import ApiClient

    _row, declarations_only = ApiClient.objects.create_key(
        name="Trader software",
        user=scene["users"]["trader_a"],
        scopes=["declarations:read", "declarations:write"],
    )
    _row, read_only = ApiClient.objects.create_key(
        name="Trader accounting", user=scene["users"]["trader_a"], scopes=["payments:read"]
    )
    _row, read_write = ApiClient.objects.create_key(
        name="Trader payments", user=scene["users"]["trader_a"], scopes=["payments:read", "payments:write"]
    )

    def client_with(key):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
        return client

    before = _state(scene)
    url = f"{URL}declarations/{scene['payable'].pk}/pay-from-account/"
    listed = client_with(declarations_only).get(f"{URL}payment-orders/")
    paid = client_with(read_only).post(url)
    assert (listed.status_code, paid.status_code) == (403, 403)
    assert paid.json()["error"] == {
        "code": "permission_denied",
        "message": "This API key does not have the scope this endpoint needs.",
    }
    assert _state(scene) == before
    assert client_with(read_only).get(f"{URL}payment-orders/").status_code == 200
    assert client_with(read_write).post(url).status_code == 201


def test_a_payer_broker_retrying_a_payment_gets_it_back_though_the_declaration_is_paid_now(scene):
    client = _client(scene, "broker_payer")
    url = f"{URL}declarations/{scene['payable'].pk}/pay-from-account/"

    first = client.post(url, HTTP_IDEMPOTENCY_KEY="pay-1")
    again = client.post(url, HTTP_IDEMPOTENCY_KEY="pay-1")
    without_key = client.post(url)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert without_key.status_code == 404  # paid, and not lodged by this broker: no longer found
    assert Payment.objects.filter(route="prepaid").count() == 1
