"""Guarantees and their reservations: the services other modules call (transit reserves the duties at
stake on departure and releases them on discharge; deferred payment reserves what it defers).

Reserving locks the guarantee's row, then sums its open reservations: concurrent reservations queue on
the lock, so together they never exceed the amount.
"""

import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from customs.money import money_display
from customs.services.audit import audit_record
from payments.choices import ReservationStatus
from payments.models import Guarantee, GuaranteeReservation
from payments.services.errors import InsufficientFunds, PaymentError
from payments.services.inputs import amount_input
from payments.services.ledger import guarantee_account, national_currency

ZERO = Decimal("0.00")


def guarantee_create(*, actor, **fields) -> Guarantee:
    """Register a guarantee (administrators, in admin) and open its ledger account."""
    with transaction.atomic():
        fields.setdefault("currency", national_currency())
        guarantee = Guarantee.objects.create(**fields)
        guarantee.account = guarantee_account(guarantee)
        guarantee.save(update_fields=["account"])
        audit_record(
            action="payments.guarantee.created",
            actor=actor,
            obj=guarantee,
            after={"amount": str(guarantee.amount), "kind": guarantee.kind, "trader": guarantee.trader_id},
        )
        return guarantee


def guarantee_reserved(guarantee: Guarantee) -> Decimal:
    return (
        GuaranteeReservation.objects.filter(guarantee=guarantee, status=ReservationStatus.OPEN).aggregate(
            total=Sum("amount")
        )["total"]
        or ZERO
    )


def guarantee_available(guarantee: Guarantee) -> Decimal:
    """The amount less the open reservations."""
    return guarantee.amount - guarantee_reserved(guarantee)


def guarantee_usable_check(guarantee: Guarantee, *, on_day: datetime.date | None = None) -> None:
    on_day = on_day or timezone.localdate()
    if guarantee.revoked:
        raise PaymentError(
            _("Guarantee %(reference)s is revoked.") % {"reference": guarantee.reference},
            code="guarantee_revoked",
            field="guarantee",
        )
    if not guarantee.valid_from <= on_day <= guarantee.valid_to:
        raise PaymentError(
            _("Guarantee %(reference)s is not valid on %(day)s (valid %(start)s to %(end)s).")
            % {
                "reference": guarantee.reference,
                "day": on_day.isoformat(),
                "start": guarantee.valid_from.isoformat(),
                "end": guarantee.valid_to.isoformat(),
            },
            code="guarantee_not_valid",
            field="guarantee",
        )


def guarantee_reserve(
    *, actor, guarantee: Guarantee, amount, purpose: str, reference: str, declaration=None
) -> GuaranteeReservation:
    """Hold ``amount`` on the guarantee. Refused, with the shortfall, when the available amount is less."""
    amount = amount_input(amount, field="amount")
    with transaction.atomic():
        locked = Guarantee.objects.select_for_update().get(pk=guarantee.pk)
        guarantee_usable_check(locked)
        available = guarantee_available(locked)
        if amount > available:
            raise InsufficientFunds(
                _(
                    "Guarantee %(reference)s has %(available)s %(currency)s available; %(amount)s is needed "
                    "(short by %(shortfall)s)."
                )
                % {
                    "reference": locked.reference,
                    "available": money_display(available),
                    "amount": money_display(amount),
                    "currency": locked.currency,
                    "shortfall": money_display(amount - available),
                },
                shortfall=amount - available,
                available=available,
                required=amount,
                code="guarantee_insufficient",
                field="guarantee",
            )
        reservation = GuaranteeReservation.objects.create(
            guarantee=locked,
            amount=amount,
            purpose=purpose,
            reference=reference[:64],
            declaration=declaration,
            created_at=timezone.now(),
        )
        audit_record(
            action="payments.guarantee.reserved",
            actor=actor,
            obj=locked,
            after={
                "reservation": reservation.pk,
                "amount": str(amount),
                "for": reference,
                "purpose": purpose,
            },
        )
        return reservation


def _close(*, actor, reservation: GuaranteeReservation, status: str, action: str) -> GuaranteeReservation:
    with transaction.atomic():
        Guarantee.objects.select_for_update().get(pk=reservation.guarantee_id)
        locked = GuaranteeReservation.objects.select_for_update().get(pk=reservation.pk)
        if locked.status != ReservationStatus.OPEN:
            raise PaymentError(
                _("This reservation is already %(status)s.")
                % {"status": locked.get_status_display().lower()},
                code="reservation_closed",
            )
        locked.status = status
        locked.closed_at = timezone.now()
        locked.save(update_fields=["status", "closed_at"])
        audit_record(
            action=f"payments.guarantee.{action}",
            actor=actor,
            obj=locked.guarantee,
            after={"reservation": locked.pk, "amount": str(locked.amount), "for": locked.reference},
        )
        return locked


def guarantee_release(*, actor, reservation: GuaranteeReservation) -> GuaranteeReservation:
    """Give the reserved amount back to the guarantee (a transit movement discharged)."""
    return _close(actor=actor, reservation=reservation, status=ReservationStatus.RELEASED, action="released")


def guarantee_settle(*, actor, reservation: GuaranteeReservation) -> GuaranteeReservation:
    """The reserved amount was paid (a deferred payment settled): the reservation ends."""
    return _close(actor=actor, reservation=reservation, status=ReservationStatus.SETTLED, action="settled")
