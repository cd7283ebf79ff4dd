"""Payments with a real Celery worker: the receipt PDF rendered after commit, and a re-assessment
settled by the task that the declarations module sends on commit."""

import pytest
from django.db import transaction

from declarations.choices import Status
from declarations.models import Declaration
from declarations.services.lifecycle import declaration_reassess
from payments.choices import RefundStatus
from payments.models import ReceiptPrint, Refund
from payments.services.collection import cashier_pay
from tests.payments.conftest import D, assessed
from tests.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(worker_media_root, celery_worker):
    return celery_worker


@pytest.mark.usefixtures("worker")
def test_worker_renders_the_receipt_and_settles_a_reassessment(pay_world):
    declaration = assessed(pay_world)
    # The worker scores it (green, no criteria); held on the red lane instead, so that paying does not
    # release it and an officer can still correct it after the examination.
    assert wait_for(lambda: Declaration.objects.get(pk=declaration.pk).lane != "")
    Declaration.objects.filter(pk=declaration.pk).update(lane="red", control_done_at=None)
    with transaction.atomic():
        payment = cashier_pay(
            actor=pay_world["users"]["cashier"],
            declaration=declaration,
            method="cash",
            amount=declaration.total_taxes,
        )
    receipt = payment.receipts.get()
    assert wait_for(lambda: ReceiptPrint.objects.filter(receipt=receipt, status="ready").exists())
    with ReceiptPrint.objects.get(receipt=receipt).file.open("rb") as file:
        assert file.read(4) == b"%PDF"

    with transaction.atomic():
        declaration_reassess(
            actor=pay_world["users"]["officer"],
            declaration=Declaration.objects.get(pk=declaration.pk),
            changes={"invoice_amount": D("5000.00"), "item_changes": {"1": {"invoice_price": D("5000.00")}}},
            reason="Value checked against the contract",
        )
    assert wait_for(lambda: Refund.objects.filter(declaration=declaration).exists())
    assert Refund.objects.get(declaration=declaration).status == RefundStatus.PENDING
    assert Declaration.objects.get(pk=declaration.pk).status == Status.PAID
