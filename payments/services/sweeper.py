"""The payments sweeper (beat task ``payments.sweep``): work whose Celery task a broker outage lost is
done anyway, a minute late.

- a re-assessed declaration that paid as much as it owes or more, still waiting to be paid again
  (``payments.declaration_reassessed`` was lost);
- a cancelled declaration with money still credited or a deferred payment still open, and no refund
  asked or refused yet (``payments.declaration_cancelled`` was lost);
- receipts whose PDF is still pending.
"""

import datetime

from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from declarations.choices import Status
from declarations.models import Declaration
from payments.choices import RefundStatus, ReservationPurpose, ReservationStatus
from payments.models import GuaranteeReservation, Refund
from payments.selectors import credited_subquery
from payments.services.receipts import receipt_print_sweep
from payments.services.refunds import declaration_cancelled_settle, declaration_payments_reconcile

GRACE = datetime.timedelta(minutes=1)


def payments_sweep(*, grace: datetime.timedelta = GRACE) -> dict:
    before = timezone.now() - grace
    # ``credited_subquery`` is the sum of the revenue entries: negative when money was credited.
    reassessed = (
        Declaration.objects.filter(status=Status.ASSESSED, updated_at__lt=before)
        .annotate(credited_sum=credited_subquery())
        .filter(credited_sum__lt=0, total_taxes__lte=-F("credited_sum"))
        .values_list("pk", flat=True)
    )
    open_deferred = GuaranteeReservation.objects.filter(
        declaration=OuterRef("pk"), purpose=ReservationPurpose.DEFERRED_PAYMENT, status=ReservationStatus.OPEN
    )
    refund_decided = Refund.objects.filter(
        declaration=OuterRef("pk"), status__in=[RefundStatus.PENDING, RefundStatus.REFUSED]
    )
    cancelled = (
        Declaration.objects.filter(status=Status.CANCELLED, updated_at__lt=before)
        .annotate(
            credited_sum=credited_subquery(), deferred=Exists(open_deferred), asked=Exists(refund_decided)
        )
        .filter(Q(credited_sum__lt=0) | Q(deferred=True), asked=False)
        .values_list("pk", flat=True)
    )
    settled = [declaration_payments_reconcile(pk) for pk in list(reassessed)]
    refunded = [declaration_cancelled_settle(pk) for pk in list(cancelled)]
    return {"reassessed": len(settled), "cancelled": len(refunded), "receipts": receipt_print_sweep()}
