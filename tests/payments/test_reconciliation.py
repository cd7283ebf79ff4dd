"""Reconciliation of a bank statement (CSV) against the payments booked from the bank's callbacks."""

from decimal import Decimal

import pytest
from django.utils import timezone

from payments.choices import MatchStatus
from payments.models import BankStatement
from payments.services.errors import CallbackRejected, PaymentError
from payments.services.orders import bank_callback_process, top_up_order_create
from payments.services.reconciliation import StatementInvalid, statement_import, statement_missing_payments
from tests.payments.conftest import fund, signed

D = Decimal
pytestmark = pytest.mark.django_db


def _csv(*lines: str) -> bytes:
    return ("value_date,transaction_id,reference,amount,currency,description\n" + "\n".join(lines)).encode()


def test_a_sample_statement_is_matched_line_by_line(pay_world):
    matched = fund(pay_world, "150.00", transaction_id="TX-1").payment
    fund(pay_world, "75.00", transaction_id="TX-2")
    missing = fund(pay_world, "20.00", transaction_id="TX-MISSING").payment
    order = top_up_order_create(
        actor=pay_world["users"]["trader_a"],
        trader=pay_world["trader_a"],
        amount="99.00",
        office=pay_world["office"],
    )
    raw, stamp, signature = signed(
        {"transaction_id": "TX-WRONG", "reference": order.reference, "amount": "90.00", "currency": "TMT"}
    )
    with pytest.raises(CallbackRejected):
        bank_callback_process(bank=pay_world["bank"], body=raw, timestamp=stamp, signature=signature)
    day = timezone.localdate(matched.paid_at).isoformat()  # a bank's statement is in local days
    statement = statement_import(
        actor=pay_world["users"]["supervisor"],
        bank=pay_world["bank"],
        file_name="halk-2026-12-01.csv",
        content=_csv(
            f"{day},TX-1,{matched.order.reference},150.00,TMT,Top-up",
            f"{day},TX-2,,70.00,TMT,Short by five",
            f"{day},TX-WRONG,{order.reference},90.00,TMT,Customer paid less",
            f"{day},TX-UNKNOWN,,12.00,TMT,Who is this",
        ),
    )
    lines = {line.transaction_id: line for line in statement.lines.all()}
    assert {key: line.match for key, line in lines.items()} == {
        "TX-1": MatchStatus.MATCHED,
        "TX-2": MatchStatus.AMOUNT_DIFFERS,
        "TX-WRONG": MatchStatus.REJECTED_CALLBACK,
        "TX-UNKNOWN": MatchStatus.UNMATCHED,
    }
    assert lines["TX-1"].payment == matched
    assert lines["TX-2"].note == "Kerwen booked 75.00 TMT."
    assert lines["TX-WRONG"].note.startswith("amount_mismatch:")
    assert list(statement_missing_payments(statement)) == [missing]


def test_a_malformed_statement_is_refused_whole_with_each_problem(pay_world):
    with pytest.raises(StatementInvalid) as refused:
        statement_import(
            actor=pay_world["users"]["supervisor"],
            bank=pay_world["bank"],
            file_name="bad.csv",
            content=_csv("2026-13-01,TX-1,,150.00,TMT,", "2026-12-01,,,abc,TM,"),
        )
    assert refused.value.problems == [
        "Line 2, value_date: not a date (YYYY-MM-DD).",
        "Line 3, amount: not an amount.",
        "Line 3, transaction_id: empty.",
        "Line 3, currency: not a three-letter code.",
    ]
    assert not BankStatement.objects.exists()


def test_a_statement_without_the_columns_is_refused(pay_world):
    with pytest.raises(StatementInvalid) as refused:
        statement_import(
            actor=pay_world["users"]["supervisor"],
            bank=pay_world["bank"],
            file_name="x.csv",
            content=b"a,b\n1,2\n",
        )
    assert (
        "missing columns value_date, transaction_id, reference, amount, currency" in refused.value.problems[0]
    )


def test_a_statement_is_imported_once_and_only_by_finance_staff(pay_world):
    content = _csv("2026-12-01,TX-1,,150.00,TMT,Top-up")
    with pytest.raises(PaymentError) as not_staff:
        statement_import(
            actor=pay_world["users"]["cashier"], bank=pay_world["bank"], file_name="a.csv", content=content
        )
    assert not_staff.value.code == "not_authorised"
    statement_import(
        actor=pay_world["users"]["supervisor"], bank=pay_world["bank"], file_name="a.csv", content=content
    )
    with pytest.raises(PaymentError) as twice:
        statement_import(
            actor=pay_world["users"]["supervisor"],
            bank=pay_world["bank"],
            file_name="again.csv",
            content=content,
        )
    assert (twice.value.code, twice.value.field) == ("statement_already_imported", "file")
    assert BankStatement.objects.count() == 1
