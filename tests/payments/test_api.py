"""The payments API as a payer uses it: payment orders (with Idempotency-Key, ETag / If-Match), paying
from the pre-paid account or against a guarantee, and the reads. Every refusal comes in the one error
envelope and writes nothing."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from declarations.choices import Status
from declarations.models import Declaration, IdempotencyKey
from declarations.services.lifecycle import declaration_reassess
from payments.models import Entry, GuaranteeReservation, Journal, Payment, PaymentOrder, Receipt
from payments.services.collection import cashier_pay, prepaid_pay
from payments.services.errors import PaymentInvalid
from payments.services.guarantees import guarantee_create
from payments.services.ledger import account_balance, prepaid_account
from payments.services.orders import payment_order_create, top_up_order_create
from tests.payments.conftest import assessed, fund, item_data

D = Decimal
pytestmark = pytest.mark.django_db
URL = "/api/v1/payments/"


def _client(pay_world, who="trader_a") -> APIClient:
    client = APIClient()
    client.force_authenticate(pay_world["users"][who])
    return client


@pytest.fixture
def api(pay_world):
    """Trader A's client."""
    return _client(pay_world)


def _rows() -> dict:
    return {
        "payments": Payment.objects.count(),
        "journals": Journal.objects.count(),
        "entries": Entry.objects.count(),
        "receipts": Receipt.objects.count(),
        "orders": PaymentOrder.objects.count(),
        "reservations": GuaranteeReservation.objects.count(),
    }


def _error(response) -> dict:
    return response.json()["error"]


def _receipt_number(serial: int) -> str:
    return f"TMA01 {timezone.localdate().year} R {serial}"


def _paid(pay_world, declaration):
    return cashier_pay(
        actor=pay_world["users"]["cashier"],
        declaration=declaration,
        method="cash",
        amount=declaration.total_taxes,
    )


def _settled_and_reassessed(pay_world):
    """A paid declaration re-assessed to the same figures: assessed again, with nothing to pay (until the
    reconciliation task marks it paid)."""
    declaration = assessed(pay_world)
    _paid(pay_world, declaration)
    return declaration_reassess(
        actor=pay_world["users"]["officer"],
        declaration=Declaration.objects.get(pk=declaration.pk),
        changes={},
        reason="Checked again",
    )


# --- Payment orders ----------------------------------------------------------------------------


def test_an_order_for_two_declarations_is_made_with_their_amounts_due(pay_world, api):
    first = assessed(pay_world)
    second = assessed(pay_world, items=[item_data(invoice_price=D("2000.00"))])

    response = api.post(f"{URL}payment-orders/", {"declarations": [first.pk, second.pk]}, format="json")

    order = PaymentOrder.objects.get()
    body = response.json()
    assert response.status_code == 201
    assert response["ETag"] == f'"{order.reference}-open"'
    assert body == {
        "reference": order.reference,
        "kind": "duties",
        "status": "open",
        "trader": "101012345678",
        "trader_name": "Altyn Asyr HJ",
        "office": None,
        "amount": str(first.total_taxes + second.total_taxes),
        "currency": "TMT",
        "created_at": body["created_at"],
        "paid_at": None,
        "lines": [
            {
                "declaration": first.pk,
                "number": first.number,
                "lrn": first.lrn,
                "amount": str(first.total_taxes),
            },
            {
                "declaration": second.pk,
                "number": second.number,
                "lrn": second.lrn,
                "amount": str(second.total_taxes),
            },
        ],
    }
    assert order.reference.startswith("RF") and order.created_by == pay_world["users"]["trader_a"]


def test_a_retried_order_with_the_same_idempotency_key_makes_one_order(pay_world, api):
    declaration = assessed(pay_world)
    body = {"declarations": [declaration.pk]}

    first = api.post(f"{URL}payment-orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="order-1")
    second = api.post(f"{URL}payment-orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="order-1")

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replay"] == "true"
    assert PaymentOrder.objects.count() == 1


def test_an_idempotency_key_reused_for_another_request_is_a_409(pay_world, api):
    first, other = assessed(pay_world), assessed(pay_world)
    api.post(f"{URL}payment-orders/", {"declarations": [first.pk]}, format="json", HTTP_IDEMPOTENCY_KEY="k")

    reused = api.post(
        f"{URL}payment-orders/", {"declarations": [other.pk]}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )

    assert reused.status_code == 409
    assert _error(reused)["code"] == "idempotency_key_reused"
    assert PaymentOrder.objects.count() == 1


def test_a_refused_order_keeps_no_idempotency_key_so_it_may_be_retried(pay_world, api):
    declaration = assessed(pay_world)
    payment_order_create(actor=pay_world["users"]["trader_a"], declarations=[declaration])

    refused = api.post(
        f"{URL}payment-orders/", {"declarations": [declaration.pk]}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )

    assert refused.status_code == 409
    assert not IdempotencyKey.objects.exists()


def test_a_declaration_already_in_an_open_order_is_refused(pay_world, api):
    declaration = assessed(pay_world)
    order = payment_order_create(actor=pay_world["users"]["trader_a"], declarations=[declaration])
    before = _rows()

    refused = api.post(f"{URL}payment-orders/", {"declarations": [declaration.pk]}, format="json")

    message = (
        f"Declaration {declaration.number} is already in payment order {order.reference}; pay or cancel it."
    )
    assert refused.status_code == 409
    assert _error(refused) == {
        "code": "already_ordered",
        "message": message,
        "fields": {"declarations": [{"code": "already_ordered", "message": message}]},
    }
    assert _rows() == before


def test_a_paid_declaration_is_not_payable(pay_world, api):
    declaration = assessed(pay_world)
    _paid(pay_world, declaration)
    before = _rows()

    refused = api.post(f"{URL}payment-orders/", {"declarations": [declaration.pk]}, format="json")

    assert refused.status_code == 409
    assert _error(refused)["code"] == "not_payable"
    assert (
        _error(refused)["message"] == f"Declaration {declaration.number} cannot be paid now (status: Paid)."
    )
    assert _rows() == before


def test_a_declaration_with_nothing_due_is_refused(pay_world, api):
    declaration = _settled_and_reassessed(pay_world)
    assert declaration.status == Status.ASSESSED
    before = _rows()

    refused = api.post(f"{URL}payment-orders/", {"declarations": [declaration.pk]}, format="json")

    assert refused.status_code == 409
    assert _error(refused)["code"] == "nothing_due"
    assert _error(refused)["fields"]["declarations"][0]["code"] == "nothing_due"
    assert _rows() == before


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "required"),
        ({"declarations": []}, "min_length"),
        ({"declarations": ["one"]}, "invalid"),
        ({"declarations": [999_999]}, "does_not_exist"),
    ],
    ids=["missing", "empty", "not-ids", "unknown"],
)
def test_an_order_with_bad_declarations_is_a_400(pay_world, api, body, code):
    refused = api.post(f"{URL}payment-orders/", body, format="json")

    assert refused.status_code == 400
    assert _error(refused)["code"] == "validation_error"
    assert [problem["code"] for problem in _flat(_error(refused)["fields"]["declarations"])] == [code]
    assert PaymentOrder.objects.count() == 0


def _flat(problems):
    """DRF nests a list item's problems under its index: flatten them to the list of problems."""
    if isinstance(problems, dict):
        return [problem for nested in problems.values() for problem in _flat(nested)]
    return problems


def test_another_traders_declaration_cannot_be_ordered(pay_world):
    theirs = assessed(pay_world, trader="101098765432", actor="trader_b")

    refused = _client(pay_world).post(f"{URL}payment-orders/", {"declarations": [theirs.pk]}, format="json")

    assert refused.status_code == 400
    assert _error(refused)["fields"]["declarations"] == [
        {"code": "does_not_exist", "message": f"No declaration {theirs.pk} that you may pay for."}
    ]
    assert PaymentOrder.objects.count() == 0


def test_declarations_of_two_traders_are_two_orders(pay_world):
    from customs.models import BrokerAuthorisation

    for trader in (pay_world["trader_a"], pay_world["trader_b"]):
        BrokerAuthorisation.objects.create(
            broker=pay_world["broker"], trader=trader, valid_from=datetime.date(2020, 1, 1), scope=["payment"]
        )
    ours, theirs = assessed(pay_world), assessed(pay_world, trader="101098765432", actor="trader_b")

    refused = _client(pay_world, "broker").post(
        f"{URL}payment-orders/", {"declarations": [ours.pk, theirs.pk]}, format="json"
    )

    assert refused.status_code == 400
    assert _error(refused)["code"] == "invalid"
    assert _error(refused)["fields"]["declarations"][0]["message"] == (
        "One payment order pays the declarations of one trader."
    )
    assert PaymentOrder.objects.count() == 0


def test_the_list_and_one_order(pay_world, api):
    older = payment_order_create(actor=pay_world["users"]["trader_a"], declarations=[assessed(pay_world)])
    newer = payment_order_create(actor=pay_world["users"]["trader_a"], declarations=[assessed(pay_world)])

    listed = api.get(f"{URL}payment-orders/")
    one = api.get(f"{URL}payment-orders/{older.reference.lower()}/")

    assert listed.status_code == 200
    assert listed.json()["count"] == 2
    assert [row["reference"] for row in listed.json()["results"]] == [newer.reference, older.reference]
    assert one.status_code == 200
    assert one.json()["reference"] == older.reference
    assert one["ETag"] == f'"{older.reference}-open"'
    assert api.get(f"{URL}payment-orders/RF00KRW0000999999/").status_code == 404


def test_cancel_an_open_order_once(pay_world, api):
    order = payment_order_create(actor=pay_world["users"]["trader_a"], declarations=[assessed(pay_world)])

    cancelled = api.post(
        f"{URL}payment-orders/{order.reference}/cancel/", HTTP_IF_MATCH=f'"{order.reference}-open"'
    )
    again = api.post(f"{URL}payment-orders/{order.reference}/cancel/")

    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled["ETag"] == f'"{order.reference}-cancelled"'
    assert again.status_code == 409
    assert _error(again) == {
        "code": "order_closed",
        "message": f"Payment order {order.reference} is cancelled: it cannot be cancelled.",
    }


def test_cancel_with_a_stale_if_match_is_a_412(pay_world, api):
    order = payment_order_create(actor=pay_world["users"]["trader_a"], declarations=[assessed(pay_world)])

    refused = api.post(
        f"{URL}payment-orders/{order.reference}/cancel/", HTTP_IF_MATCH=f'"{order.reference}-paid"'
    )

    assert refused.status_code == 412
    assert _error(refused)["code"] == "stale_version"
    assert PaymentOrder.objects.get().status == "open"


def test_a_top_up_order(pay_world, api):
    body = {"trader": "101012345678", "amount": "5000.00", "office": "TMA01"}

    response = api.post(f"{URL}payment-orders/top-up/", body, format="json", HTTP_IDEMPOTENCY_KEY="t-1")
    retried = api.post(f"{URL}payment-orders/top-up/", body, format="json", HTTP_IDEMPOTENCY_KEY="t-1")

    order = PaymentOrder.objects.get()
    assert response.status_code == 201
    assert retried.json() == response.json()
    assert {
        key: response.json()[key] for key in ("reference", "kind", "status", "office", "amount", "lines")
    } == {
        "reference": order.reference,
        "kind": "top_up",
        "status": "open",
        "office": "TMA01",
        "amount": "5000.00",
        "lines": [],
    }


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"amount": "0.00"}, "amount", "min_value"),
        ({"amount": "-5"}, "amount", "min_value"),
        ({"amount": "1.001"}, "amount", "max_decimal_places"),
        ({"amount": "NaN"}, "amount", "invalid"),
        ({"amount": "lots"}, "amount", "invalid"),
        ({"office": "XX999"}, "office", "does_not_exist"),
        ({"trader": "000000000000"}, "trader", "does_not_exist"),
        ({"trader": "101098765432"}, "trader", "does_not_exist"),
    ],
    ids=[
        "zero",
        "negative",
        "three-decimals",
        "nan",
        "not-a-number",
        "office",
        "unknown-trader",
        "other-trader",
    ],
)
def test_a_bad_top_up_is_a_400(pay_world, api, change, field, code):
    body = {"trader": "101012345678", "amount": "5000.00", "office": "TMA01", **change}

    refused = api.post(f"{URL}payment-orders/top-up/", body, format="json")

    assert refused.status_code == 400
    assert [problem["code"] for problem in _error(refused)["fields"][field]] == [code]
    assert PaymentOrder.objects.count() == 0


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "-Infinity"])
def test_the_top_up_service_refuses_what_is_not_a_finite_amount(pay_world, amount):
    """The serializer refuses these first; the service must too (other callers), with a 400, not a crash."""
    with pytest.raises(PaymentInvalid) as refused:
        top_up_order_create(
            actor=pay_world["users"]["trader_a"],
            trader=pay_world["trader_a"],
            amount=amount,
            office=pay_world["office"],
        )
    assert refused.value.field == "amount"
    assert PaymentOrder.objects.count() == 0


# --- Paying a declaration ------------------------------------------------------------------------


def test_pay_from_the_prepaid_account(pay_world, api):
    declaration = assessed(pay_world)
    fund(pay_world, "20000.00")

    response = api.post(f"{URL}declarations/{declaration.pk}/pay-from-account/")

    payment = Payment.objects.get(route="prepaid")
    assert response.status_code == 201
    assert response.json() == {
        "id": payment.pk,
        "route": "prepaid",
        "trader": "101012345678",
        "amount": "11558.75",
        "currency": "TMT",
        "paid_at": response.json()["paid_at"],
        "receipts": [_receipt_number(2)],
    }
    assert Declaration.objects.get(pk=declaration.pk).status == Status.PAID
    assert account_balance(prepaid_account(pay_world["trader_a"])) == D("8441.25")


def test_a_retried_payment_with_the_same_idempotency_key_pays_once(pay_world, api):
    declaration = assessed(pay_world)
    fund(pay_world, "20000.00")
    url = f"{URL}declarations/{declaration.pk}/pay-from-account/"

    first = api.post(url, HTTP_IDEMPOTENCY_KEY="pay-1")
    second = api.post(url, HTTP_IDEMPOTENCY_KEY="pay-1")

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert Payment.objects.filter(route="prepaid").count() == 1


def test_a_short_prepaid_account_is_refused_with_the_shortfall(pay_world, api):
    declaration = assessed(pay_world)
    fund(pay_world, "10.00")
    before = _rows()

    refused = api.post(f"{URL}declarations/{declaration.pk}/pay-from-account/")

    assert refused.status_code == 409
    assert _error(refused) == {
        "code": "insufficient_funds",
        "message": "The pre-paid account holds 10.00 TMT; 11,558.75 is needed. Top it up by 11,548.75 or "
        "pay another way.",
        "shortfall": "11548.75",
        "available": "10.00",
    }
    assert _rows() == before
    assert Declaration.objects.get(pk=declaration.pk).status == Status.ASSESSED


def test_a_payment_for_an_amount_that_changed_is_refused(pay_world, api):
    declaration = assessed(pay_world)
    fund(pay_world, "20000.00")
    before = _rows()

    refused = api.post(
        f"{URL}declarations/{declaration.pk}/pay-from-account/", {"amount": "10000.00"}, format="json"
    )
    paid = api.post(
        f"{URL}declarations/{declaration.pk}/pay-from-account/", {"amount": "11558.75"}, format="json"
    )

    assert refused.status_code == 409
    assert _error(refused)["code"] == "amount_changed"
    assert [problem["code"] for problem in _error(refused)["fields"]["amount"]] == ["amount_changed"]
    assert paid.status_code == 201
    assert _rows()["payments"] == before["payments"] + 1


def test_a_declaration_in_an_open_bank_order_is_not_paid_from_the_account(pay_world, api):
    declaration = assessed(pay_world)
    fund(pay_world, "20000.00")
    payment_order_create(actor=pay_world["users"]["trader_a"], declarations=[declaration])
    before = _rows()

    refused = api.post(f"{URL}declarations/{declaration.pk}/pay-from-account/")

    assert refused.status_code == 409
    assert _error(refused)["code"] == "already_ordered"
    assert _rows() == before
    assert Declaration.objects.get(pk=declaration.pk).status == Status.ASSESSED


def test_paying_a_paid_declaration_is_refused(pay_world, api):
    declaration = assessed(pay_world)
    fund(pay_world, "20000.00")
    _paid(pay_world, declaration)
    before = _rows()

    refused = api.post(f"{URL}declarations/{declaration.pk}/pay-from-account/")

    assert refused.status_code == 409
    assert _error(refused)["code"] == "not_payable"
    assert [problem["code"] for problem in _error(refused)["fields"]["declaration"]] == ["not_payable"]
    assert _rows() == before


def test_paying_a_declaration_with_nothing_due_is_refused(pay_world, api):
    declaration = _settled_and_reassessed(pay_world)
    fund(pay_world, "20000.00")
    before = _rows()

    refused = api.post(f"{URL}declarations/{declaration.pk}/pay-from-account/")

    assert refused.status_code == 409
    assert _error(refused)["code"] == "nothing_due"
    assert _error(refused)["message"] == f"Declaration {declaration.number} has nothing to pay."
    assert _rows() == before


def test_paying_an_unknown_declaration_is_a_404(pay_world, api):
    response = api.post(f"{URL}declarations/999999/pay-from-account/")

    assert response.status_code == 404
    assert _error(response)["code"] == "not_found"


def test_defer_against_the_guarantee(pay_world, api):
    declaration = assessed(pay_world)

    response = api.post(
        f"{URL}declarations/{declaration.pk}/defer/", {"guarantee": "GRN-0001"}, format="json"
    )
    guarantees = api.get(f"{URL}guarantees/")

    assert response.status_code == 201
    assert response.json()["route"] == "deferred"
    assert response.json()["amount"] == "11558.75"
    assert Declaration.objects.get(pk=declaration.pk).status == Status.PAID
    row = guarantees.json()["results"][0]
    assert (row["reserved"], row["available"]) == ("11558.75", "88441.25")


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({}, 400, "validation_error", "required"),
        ({"guarantee": "GRN-9999"}, 400, "validation_error", "does_not_exist"),
        ({"guarantee": "GRN-NODEFER"}, 400, "invalid", "invalid"),
        ({"guarantee": "GRN-SMALL"}, 409, "guarantee_insufficient", None),
    ],
    ids=["missing", "unknown", "no-deferred-cover", "too-small"],
)
def test_a_refused_deferral_writes_nothing(pay_world, api, body, status, code, field):
    for reference, amount, defers in (("GRN-NODEFER", "100000.00", False), ("GRN-SMALL", "100.00", True)):
        guarantee_create(
            actor=None,
            reference=reference,
            kind="individual",
            trader=pay_world["trader_a"],
            issuer=pay_world["bank"],
            amount=D(amount),
            valid_from=datetime.date(2020, 1, 1),
            valid_to=datetime.date(2099, 12, 31),
            allows_deferred_payment=defers,
        )
    declaration = assessed(pay_world)
    before = _rows()

    refused = api.post(f"{URL}declarations/{declaration.pk}/defer/", body, format="json")

    assert refused.status_code == status
    assert _error(refused)["code"] == code
    if field:
        assert [problem["code"] for problem in _error(refused)["fields"]["guarantee"]] == [field]
    else:
        assert (_error(refused)["shortfall"], _error(refused)["available"]) == ("11458.75", "100.00")
    assert _rows() == before
    assert Declaration.objects.get(pk=declaration.pk).status == Status.ASSESSED


def test_payable_declarations_show_what_is_due(pay_world, api):
    first = assessed(pay_world)
    second = assessed(pay_world, items=[item_data(invoice_price=D("2000.00"))])
    _paid(pay_world, assessed(pay_world))

    response = api.get(f"{URL}payable-declarations/")

    assert response.status_code == 200
    assert response.json()["results"] == [
        {
            "id": declaration.pk,
            "number": declaration.number,
            "lrn": declaration.lrn,
            "office": "TMA01",
            "trader": "101012345678",
            "total_taxes": str(declaration.total_taxes),
            "due": str(declaration.total_taxes),
            "assessed_at": row["assessed_at"],
        }
        for declaration, row in zip([first, second], response.json()["results"], strict=True)
    ]


# --- Accounts, receipts, guarantees --------------------------------------------------------------


def test_the_prepaid_account_and_its_statement(pay_world, api):
    declaration = assessed(pay_world)
    fund(pay_world, "20000.00")
    prepaid_pay(actor=pay_world["users"]["trader_a"], declaration=declaration)

    accounts = api.get(f"{URL}accounts/")
    statement = api.get(f"{URL}accounts/101012345678/statement/")

    assert accounts.status_code == 200
    assert accounts.json()["results"] == [
        {
            "trader": "101012345678",
            "trader_name": "Altyn Asyr HJ",
            "account": "PREPAID-101012345678",
            "currency": "TMT",
            "balance": "8441.25",
        }
    ]
    assert statement.status_code == 200
    rows = [
        {key: row[key] for key in ("kind", "declaration", "declaration_number", "amount", "balance")}
        for row in statement.json()["results"]
    ]
    assert rows == [
        {
            "kind": "payment",
            "declaration": declaration.pk,
            "declaration_number": declaration.number,
            "amount": "-11558.75",
            "balance": "8441.25",
        },
        {
            "kind": "top_up",
            "declaration": None,
            "declaration_number": None,
            "amount": "20000.00",
            "balance": "20000.00",
        },
    ]


def test_an_account_never_used_shows_a_zero_balance_and_no_entries(pay_world, api):
    accounts = api.get(f"{URL}accounts/")
    statement = api.get(f"{URL}accounts/101012345678/statement/")

    assert accounts.json()["results"] == [
        {
            "trader": "101012345678",
            "trader_name": "Altyn Asyr HJ",
            "account": None,
            "currency": "TMT",
            "balance": "0.00",
        }
    ]
    assert statement.status_code == 200
    assert statement.json()["results"] == []


def test_the_statement_of_an_account_not_the_callers_is_a_404(pay_world, api):
    response = api.get(f"{URL}accounts/101098765432/statement/")

    assert response.status_code == 404
    assert _error(response)["code"] == "not_found"


def test_receipts_with_their_pdf_link(pay_world, api):
    declaration = assessed(pay_world)
    fund(pay_world, "20000.00")
    prepaid_pay(actor=pay_world["users"]["trader_a"], declaration=declaration)
    paid = Receipt.objects.get(declaration=declaration)

    listed = api.get(f"{URL}receipts/")
    one = api.get(f"{URL}receipts/{paid.pk}/")

    assert [row["number"] for row in listed.json()["results"]] == [_receipt_number(2), _receipt_number(1)]
    assert one.json() == {
        "id": paid.pk,
        "number": _receipt_number(2),
        "office": "TMA01",
        "trader": "101012345678",
        "declaration": declaration.pk,
        "declaration_number": declaration.number,
        "route": "prepaid",
        "amount": "11558.75",
        "currency": "TMT",
        "issued_at": one.json()["issued_at"],
        "pdf": f"http://testserver/documents/receipts/{paid.pk}/",
    }
    assert api.get(f"{URL}receipts/999999/").status_code == 404


def test_the_guarantees(pay_world, api):
    response = api.get(f"{URL}guarantees/")

    assert response.status_code == 200
    assert response.json()["results"] == [
        {
            "reference": "GRN-0001",
            "kind": "comprehensive",
            "trader": "101012345678",
            "issuer": "HALK",
            "amount": "100000.00",
            "currency": "TMT",
            "reserved": "0.00",
            "available": "100000.00",
            "valid_from": "2020-01-01",
            "valid_to": "2099-12-31",
            "allows_deferred_payment": True,
            "revoked": False,
        }
    ]


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    ("endpoint", "rows_each"),
    [
        ("payment-orders/", 1),
        ("receipts/", 1),
        ("payable-declarations/", 1),
        ("accounts/101012345678/statement/", 2),  # a top-up and a payment
    ],
)
def test_a_list_reads_as_many_queries_for_three_rows_as_for_one(pay_world, api, endpoint, rows_each):
    def make_one():
        declaration = assessed(pay_world)
        if endpoint == "payment-orders/":
            payment_order_create(actor=pay_world["users"]["trader_a"], declarations=[declaration])
        elif endpoint == "receipts/":
            _paid(pay_world, declaration)
        elif endpoint.startswith("accounts/"):
            fund(pay_world, declaration.total_taxes)
            prepaid_pay(actor=pay_world["users"]["trader_a"], declaration=declaration)

    make_one()
    one = _queries(api, f"{URL}{endpoint}")
    make_one()
    make_one()
    three = _queries(api, f"{URL}{endpoint}")

    assert api.get(f"{URL}{endpoint}").json()["count"] == 3 * rows_each
    assert three == one
