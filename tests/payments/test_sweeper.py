"""The payments sweeper settles what a lost task left: a re-assessment, a cancellation."""

import datetime

import pytest

from declarations.choices import Status
from declarations.models import Declaration
from declarations.services.lifecycle import declaration_cancel, declaration_reassess
from payments.choices import RefundStatus
from payments.models import Refund
from payments.services.refunds import refund_refuse
from payments.services.sweeper import payments_sweep
from tests.payments.conftest import D, paid_in_cash

pytestmark = pytest.mark.django_db
NOW = datetime.timedelta(0)


def test_the_sweeper_settles_a_reassessment_and_a_cancellation_whose_task_was_lost(pay_world):
    lower = paid_in_cash(pay_world)
    declaration_reassess(
        actor=pay_world["users"]["officer"],
        declaration=lower,
        changes={"invoice_amount": D("5000.00"), "item_changes": {"1": {"invoice_price": D("5000.00")}}},
        reason="Value checked",
    )
    higher = paid_in_cash(pay_world)
    declaration_reassess(
        actor=pay_world["users"]["officer"],
        declaration=higher,
        changes={"invoice_amount": D("20000.00"), "item_changes": {"1": {"invoice_price": D("20000.00")}}},
        reason="Value checked",
    )
    cancelled = paid_in_cash(pay_world)
    declaration_cancel(actor=pay_world["users"]["officer"], declaration=cancelled, reason="Re-exported")
    assert payments_sweep() == {"reassessed": 0, "cancelled": 0, "receipts": 0}  # within the minute's grace

    assert payments_sweep(grace=NOW) == {"reassessed": 1, "cancelled": 1, "receipts": 0}
    assert Declaration.objects.get(pk=lower.pk).status == Status.PAID
    assert Declaration.objects.get(pk=higher.pk).status == Status.ASSESSED  # the difference is due
    assert set(Refund.objects.values_list("declaration_id", "status")) == {
        (lower.pk, RefundStatus.PENDING),
        (cancelled.pk, RefundStatus.PENDING),
    }
    refund_refuse(
        actor=pay_world["users"]["supervisor"],
        refund=Refund.objects.get(declaration=cancelled),
        reason="Refund time limit passed",
    )
    assert payments_sweep(grace=NOW) == {"reassessed": 0, "cancelled": 0, "receipts": 0}
