"""After a re-assessment: a supplementary amount due, the declaration paid again, or a refund that a
supervisor of the office approves (to the pre-paid account) or refuses."""

from decimal import Decimal

import pytest

from declarations.choices import Status
from declarations.models import Declaration
from declarations.services.lifecycle import declaration_cancel, declaration_reassess
from payments.choices import RefundStatus
from payments.models import Entry, Refund
from payments.services.collection import deferred_pay, prepaid_pay
from payments.services.dues import declaration_dues
from payments.services.errors import PaymentError
from payments.services.guarantees import guarantee_available
from payments.services.ledger import account_balance, prepaid_account
from payments.services.refunds import (
    declaration_cancelled_settle,
    declaration_payments_reconcile,
    refund_approve,
    refund_refuse,
)
from tests.payments.conftest import assessed, fund, paid_in_cash

D = Decimal
pytestmark = pytest.mark.django_db


def _reassess_price(pay_world, declaration, price):
    declaration_reassess(
        actor=pay_world["users"]["officer"],
        declaration=declaration,
        changes={"invoice_amount": D(price), "item_changes": {"1": {"invoice_price": D(price)}}},
        reason="Value checked against the contract",
    )
    return Declaration.objects.get(pk=declaration.pk)


def test_a_higher_reassessment_leaves_the_difference_due(pay_world):
    declaration = paid_in_cash(pay_world)
    paid = declaration.total_taxes
    declaration = _reassess_price(pay_world, declaration, "20000.00")
    assert declaration_payments_reconcile(declaration.pk) == "supplementary payment due"
    declaration.refresh_from_db()
    assert declaration.status == Status.ASSESSED
    dues = declaration_dues(declaration)
    assert dues.due == declaration.total_taxes - paid > 0
    fund(pay_world, dues.due)
    prepaid_pay(actor=pay_world["users"]["trader_a"], declaration=declaration)
    declaration.refresh_from_db()
    assert declaration.status == Status.PAID and declaration_dues(declaration).due == 0
    assert declaration.receipts.count() == 2


def test_an_unchanged_reassessment_is_paid_again_at_once(pay_world):
    declaration = paid_in_cash(pay_world)
    declaration_reassess(
        actor=pay_world["users"]["officer"],
        declaration=declaration,
        changes={"transport_identity": "AG 9999"},
        reason="Truck seen at the border",
    )
    assert declaration_payments_reconcile(declaration.pk) == "paid"
    assert Declaration.objects.get(pk=declaration.pk).status == Status.PAID
    assert not Refund.objects.exists()


def test_a_lower_reassessment_asks_a_refund_which_a_supervisor_approves(pay_world):
    declaration = paid_in_cash(pay_world)
    paid = declaration.total_taxes
    declaration = _reassess_price(pay_world, declaration, "5000.00")
    assert declaration_payments_reconcile(declaration.pk) == "refund requested"
    assert declaration_payments_reconcile(declaration.pk) == "not assessed"  # idempotent: paid again
    declaration.refresh_from_db()
    assert declaration.status == Status.PAID
    refund = Refund.objects.get()
    assert refund.status == RefundStatus.PENDING
    assert refund.amount == paid - declaration.total_taxes
    assert sum(D(amount) for amount in refund.by_tax.values()) == refund.amount

    with pytest.raises(PaymentError) as refused:
        refund_approve(actor=pay_world["users"]["officer"], refund=refund)
    assert refused.value.code == "not_authorised"
    assert Refund.objects.get().status == RefundStatus.PENDING

    refund_approve(actor=pay_world["users"]["supervisor"], refund=refund)
    refund.refresh_from_db()
    assert refund.status == RefundStatus.APPROVED and refund.journal_id
    assert account_balance(prepaid_account(pay_world["trader_a"])) == refund.amount
    assert declaration_dues(declaration).due == 0
    assert sum(Entry.objects.values_list("amount", flat=True)) == 0
    with pytest.raises(PaymentError) as twice:
        refund_approve(actor=pay_world["users"]["supervisor"], refund=refund)
    assert twice.value.code == "refund_decided"


def test_a_refused_refund_keeps_the_money_as_revenue_and_needs_a_reason(pay_world):
    declaration = _reassess_price(pay_world, paid_in_cash(pay_world), "5000.00")
    declaration_payments_reconcile(declaration.pk)
    refund = Refund.objects.get()
    with pytest.raises(PaymentError) as no_reason:
        refund_refuse(actor=pay_world["users"]["supervisor"], refund=refund, reason="  ")
    assert no_reason.value.field == "reason"
    refund_refuse(
        actor=pay_world["users"]["supervisor"], refund=refund, reason="Time limit for refunds passed"
    )
    refund.refresh_from_db()
    assert refund.status == RefundStatus.REFUSED and refund.reason == "Time limit for refunds passed"
    assert account_balance(prepaid_account(pay_world["trader_a"])) == 0


def test_a_new_reassessment_supersedes_a_pending_refund(pay_world):
    declaration = _reassess_price(pay_world, paid_in_cash(pay_world), "5000.00")
    declaration_payments_reconcile(declaration.pk)
    first = Refund.objects.get()
    declaration = _reassess_price(pay_world, declaration, "2000.00")
    declaration_payments_reconcile(declaration.pk)
    first.refresh_from_db()
    assert first.status == RefundStatus.SUPERSEDED
    latest = Refund.objects.get(status=RefundStatus.PENDING)
    assert latest.amount > first.amount


def test_a_first_assessment_with_nothing_paid_is_left_alone(pay_world):
    declaration = assessed(pay_world)
    assert declaration_payments_reconcile(declaration.pk) == "nothing paid yet"
    assert Declaration.objects.get(pk=declaration.pk).status == Status.ASSESSED


def test_a_cancelled_paid_declaration_asks_the_refund_of_everythingpaid_in_cash(pay_world):
    declaration = paid_in_cash(pay_world)
    paid = declaration.total_taxes
    declaration_cancel(
        actor=pay_world["users"]["officer"], declaration=declaration, reason="Goods re-exported"
    )
    assert declaration_cancelled_settle(declaration.pk) == f"0 deferred undone, refund {paid}"
    declaration_cancelled_settle(declaration.pk)  # idempotent
    refund = Refund.objects.get()
    assert (refund.amount, refund.status) == (paid, RefundStatus.PENDING)
    refund_approve(actor=pay_world["users"]["supervisor"], refund=refund)
    assert account_balance(prepaid_account(pay_world["trader_a"])) == paid
    assert declaration_dues(declaration).credited == 0


def test_a_cancelled_deferred_declaration_is_undone_and_frees_the_guarantee(pay_world):
    declaration = assessed(pay_world)
    guarantee = pay_world["guarantee"]
    deferred_pay(actor=pay_world["users"]["trader_a"], declaration=declaration, guarantee=guarantee)
    declaration_cancel(
        actor=pay_world["users"]["officer"], declaration=declaration, reason="Goods re-exported"
    )
    assert declaration_cancelled_settle(declaration.pk) == "1 deferred undone, refund 0.00"
    assert guarantee_available(guarantee) == guarantee.amount
    assert account_balance(guarantee.account) == 0
    assert declaration_dues(declaration).credited == 0
    assert not Refund.objects.exists()
