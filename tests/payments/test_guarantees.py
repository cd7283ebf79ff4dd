"""Guarantees: available = amount less open reservations; reserving is safe under concurrency."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.db import connection

from payments.choices import ReservationStatus
from payments.models import Guarantee, GuaranteeReservation
from payments.services.errors import InsufficientFunds, PaymentError
from payments.services.guarantees import (
    guarantee_available,
    guarantee_create,
    guarantee_release,
    guarantee_reserve,
    guarantee_settle,
)

D = Decimal


def _guarantee(pay_world, amount="1000.00", **overrides):
    fields = {
        "reference": "GRN-T-1",
        "kind": "individual",
        "trader": pay_world["trader_a"],
        "issuer": pay_world["bank"],
        "amount": D(amount),
        "valid_from": datetime.date(2020, 1, 1),
        "valid_to": datetime.date(2099, 1, 1),
        **overrides,
    }
    return guarantee_create(actor=None, **fields)


@pytest.mark.django_db
def test_reserve_release_and_settle_move_the_available_amount(pay_world):
    guarantee = _guarantee(pay_world)
    first = guarantee_reserve(
        actor=None, guarantee=guarantee, amount="400.00", purpose="transit", reference="MRN1"
    )
    second = guarantee_reserve(
        actor=None, guarantee=guarantee, amount="350.00", purpose="transit", reference="MRN2"
    )
    assert guarantee_available(guarantee) == D("250.00")
    with pytest.raises(InsufficientFunds) as short:
        guarantee_reserve(
            actor=None, guarantee=guarantee, amount="300.00", purpose="transit", reference="MRN3"
        )
    assert short.value.shortfall == D("50.00") and short.value.code == "guarantee_insufficient"
    guarantee_release(actor=None, reservation=first)
    assert guarantee_available(guarantee) == D("650.00")
    guarantee_settle(actor=None, reservation=second)
    assert guarantee_available(guarantee) == D("1000.00")
    with pytest.raises(PaymentError) as closed:
        guarantee_release(actor=None, reservation=first)
    assert closed.value.code == "reservation_closed"
    assert GuaranteeReservation.objects.filter(status=ReservationStatus.OPEN).count() == 0


@pytest.mark.django_db
def test_a_revoked_or_expired_guarantee_reserves_nothing(pay_world):
    revoked = _guarantee(pay_world, reference="GRN-REV", revoked=True)
    expired = _guarantee(pay_world, reference="GRN-OLD", valid_to=datetime.date(2021, 1, 1))
    for guarantee, code in ((revoked, "guarantee_revoked"), (expired, "guarantee_not_valid")):
        with pytest.raises(PaymentError) as refused:
            guarantee_reserve(
                actor=None, guarantee=guarantee, amount="1.00", purpose="transit", reference="X"
            )
        assert refused.value.code == code
    assert not GuaranteeReservation.objects.filter(guarantee__in=[revoked, expired]).exists()


@pytest.mark.django_db(transaction=True)
def test_fifty_simultaneous_reservations_never_exceed_the_amount(pay_world):
    guarantee = _guarantee(pay_world, amount="1000.00")
    barrier = threading.Barrier(50)
    outcomes = []

    def reserve(number):
        try:
            barrier.wait(timeout=30)
            guarantee_reserve(
                actor=None, guarantee=guarantee, amount="30.00", purpose="transit", reference=f"MRN{number}"
            )
            outcomes.append("reserved")
        except InsufficientFunds:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=reserve, args=(number,)) for number in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes).count("reserved") == 33  # 33 x 30.00 = 990.00; a 34th would pass 1,000.00
    assert outcomes.count("refused") == 17
    reserved = GuaranteeReservation.objects.filter(guarantee=guarantee, status=ReservationStatus.OPEN)
    assert sum(reservation.amount for reservation in reserved) == D("990.00")
    assert guarantee_available(Guarantee.objects.get(pk=guarantee.pk)) == D("10.00")
