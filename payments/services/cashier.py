"""The cashier's day: the daybook of the payments one cashier took at one office, and the cash-up that
closes it (what the daybook says against what was counted)."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from customs.services.audit import audit_record
from payments.choices import CASHIER_ROUTES, PaymentRoute
from payments.models import CashUp, Payment
from payments.services.collection import cashier_day_lock
from payments.services.errors import PaymentError
from payments.services.inputs import amount_input
from payments.services.permissions import ensure_cashier

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Daybook:
    cashier: object
    office: object
    day: datetime.date
    payments: list
    cash: Decimal
    cheques: Decimal
    cash_up: CashUp | None

    @property
    def total(self) -> Decimal:
        return self.cash + self.cheques


def _day_bounds(day: datetime.date):
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    return start, start + datetime.timedelta(days=1)


def daybook(*, cashier, office, day: datetime.date) -> Daybook:
    start, end = _day_bounds(day)
    payments = list(
        Payment.objects.filter(
            recorded_by=cashier, office=office, route__in=CASHIER_ROUTES, paid_at__gte=start, paid_at__lt=end
        )
        .select_related("trader")
        .prefetch_related("receipts__declaration__office")
        .order_by("paid_at", "pk")
    )
    cash = sum((p.amount for p in payments if p.route == PaymentRoute.CASH), ZERO)
    cheques = sum((p.amount for p in payments if p.route == PaymentRoute.CHEQUE), ZERO)
    return Daybook(
        cashier=cashier,
        office=office,
        day=day,
        payments=payments,
        cash=cash,
        cheques=cheques,
        cash_up=CashUp.objects.filter(cashier=cashier, office=office, day=day).first(),
    )


def cash_up(*, actor, office, counted_cash, counted_cheques, note: str = "") -> CashUp:
    """Close the cashier's day at ``office``: once a day, after which no more payments that day."""
    ensure_cashier(actor, office)
    counted_cash = amount_input(counted_cash, field="counted_cash", allow_zero=True)
    counted_cheques = amount_input(counted_cheques, field="counted_cheques", allow_zero=True)
    day = timezone.localdate()
    try:
        with transaction.atomic():
            # No payment of this cashier at this office is taken while the day is being closed.
            cashier_day_lock(actor, office)
            book = daybook(cashier=actor, office=office, day=day)
            record = CashUp.objects.create(
                cashier=actor,
                office=office,
                day=day,
                expected_cash=book.cash,
                expected_cheques=book.cheques,
                counted_cash=counted_cash,
                counted_cheques=counted_cheques,
                payment_count=len(book.payments),
                closed_at=timezone.now(),
                note=note.strip(),
            )
            audit_record(
                action="payments.cash_up.closed",
                actor=actor,
                obj=record,
                office_code=office.code,
                after={
                    "expected": str(book.total),
                    "counted": str(counted_cash + counted_cheques),
                    "difference": str(record.difference),
                    "payments": len(book.payments),
                },
            )
            return record
    except IntegrityError:
        raise PaymentError(_("You have already cashed up today at this office."), code="day_closed") from None
