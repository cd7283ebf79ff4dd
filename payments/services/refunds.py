"""After a re-assessment: the difference to pay, or the refund for a supervisor to approve.

The declarations module sends ``payments.declaration_reassessed`` after every re-assessment
(``ON_REASSESSED_TASKS``: an accepted amendment, a correction after a check). When money was already
credited to the declaration:

- it now owes more: the difference is the new amount due (the declaration waits, assessed, for it);
- it owes exactly what was credited: it is paid again at once (no new money, no new receipt);
- it owes less: a refund of the excess, tax by tax, waits for a supervisor of the office, and the
  declaration is paid again at once (its assessment is covered).

An approved refund debits each tax's revenue and credits the trader's pre-paid account; a refused
one leaves the money as revenue, with the reason.

A declaration cancelled after payment (``payments.declaration_cancelled``): a deferred payment is undone
(its journal reversed, its reservation released: the trader never paid it), and what was really paid
becomes a refund for approval, tax by tax.
"""

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from customs.services.audit import audit_record
from declarations.choices import Status
from declarations.models import Declaration
from declarations.services.lifecycle import declaration_mark_paid
from payments.choices import JournalKind, PaymentRoute, RefundStatus, ReservationPurpose, ReservationStatus
from payments.models import GuaranteeReservation, Payment, Refund
from payments.services.dues import declaration_dues
from payments.services.errors import PaymentError, PaymentInvalid
from payments.services.guarantees import guarantee_release
from payments.services.ledger import (
    ZERO,
    Line,
    journal_post,
    journal_reverse,
    national_currency,
    prepaid_account,
    revenue_account,
)
from payments.services.permissions import ensure_supervisor


def _lock(declaration_id: int) -> Declaration | None:
    return (
        Declaration.objects.select_for_update(of=("self",))
        .select_related("office", "trader")
        .filter(pk=declaration_id)
        .first()
    )


def declaration_payments_reconcile(declaration_id: int) -> str:
    """Settle a re-assessed declaration against what it has paid (the task's work; idempotent)."""
    with transaction.atomic():
        declaration = _lock(declaration_id)
        if declaration is None or declaration.status != Status.ASSESSED:
            return "not assessed"
        dues = declaration_dues(declaration)
        if dues.credited == ZERO:
            return "nothing paid yet"
        pending = Refund.objects.filter(declaration=declaration, status=RefundStatus.PENDING).first()
        if dues.due > ZERO:
            _supersede(pending)
            audit_record(
                action="payments.declaration.supplementary_due",
                obj=declaration,
                office_code=declaration.office.code,
                after={"due": str(dues.due), "credited": str(dues.credited)},
            )
            return "supplementary payment due"
        if dues.due < ZERO:
            excess = {tax: -amount for tax, amount in dues.outstanding_by_tax.items()}
            if pending is None or pending.amount != -dues.due or pending.by_tax != _json(excess):
                _supersede(pending)
                refund = Refund.objects.create(
                    declaration=declaration,
                    amount=-dues.due,
                    currency=national_currency(),
                    by_tax=_json(excess),
                    requested_at=timezone.now(),
                )
                audit_record(
                    action="payments.refund.requested",
                    obj=refund,
                    office_code=declaration.office.code,
                    after={
                        "declaration": declaration.number,
                        "amount": str(refund.amount),
                        "by_tax": refund.by_tax,
                    },
                )
        else:
            _supersede(pending)
        declaration_mark_paid(actor=None, declaration=declaration, receipt_reference="")
        return "refund requested" if dues.due < ZERO else "paid"


def declaration_cancelled_settle(declaration_id: int) -> str:
    """Undo the deferred payments of a cancelled declaration and ask the refund of what it paid."""
    with transaction.atomic():
        declaration = _lock(declaration_id)
        if declaration is None or declaration.status != Status.CANCELLED:
            return "not cancelled"
        undone = 0
        for reservation in GuaranteeReservation.objects.filter(
            declaration=declaration,
            purpose=ReservationPurpose.DEFERRED_PAYMENT,
            status=ReservationStatus.OPEN,
        ):
            payment = (
                Payment.objects.filter(
                    route=PaymentRoute.DEFERRED,
                    receipts__declaration=declaration,
                    journal__reversed_by__isnull=True,
                )
                .select_related("journal")
                .first()
            )
            if payment is not None:
                journal_reverse(
                    actor=None, journal=payment.journal, reason=f"Declaration {declaration.number} cancelled"
                )
            guarantee_release(actor=None, reservation=reservation)
            undone += 1
        credited = {
            tax: amount for tax, amount in declaration_dues(declaration).credited_by_tax.items() if amount
        }
        total = sum(credited.values(), ZERO)
        pending = Refund.objects.filter(declaration=declaration, status=RefundStatus.PENDING).first()
        if total > ZERO and (pending is None or pending.amount != total):
            _supersede(pending)
            refund = Refund.objects.create(
                declaration=declaration,
                amount=total,
                currency=national_currency(),
                by_tax=_json(credited),
                requested_at=timezone.now(),
            )
            audit_record(
                action="payments.refund.requested",
                obj=refund,
                office_code=declaration.office.code,
                after={"declaration": declaration.number, "amount": str(total), "cancelled": True},
            )
        return f"{undone} deferred undone, refund {total}"


def _json(by_tax: dict) -> dict:
    return {tax: str(amount) for tax, amount in sorted(by_tax.items())}


def _supersede(refund: Refund | None) -> None:
    if refund is not None:
        refund.status = RefundStatus.SUPERSEDED
        refund.decided_at = timezone.now()
        refund.save(update_fields=["status", "decided_at"])


def _lock_pending(refund: Refund) -> Refund:
    locked = (
        Refund.objects.select_for_update()
        .select_related("declaration__office", "declaration__trader")
        .get(pk=refund.pk)
    )
    if locked.status != RefundStatus.PENDING:
        raise PaymentError(
            _("This refund is already %(status)s.") % {"status": locked.get_status_display().lower()},
            code="refund_decided",
        )
    return locked


def refund_approve(*, actor, refund: Refund) -> Refund:
    """A supervisor of the declaration's office approves: the excess goes back to the trader's pre-paid
    account, taken from each tax's revenue."""
    ensure_supervisor(actor, refund.declaration.office)
    with transaction.atomic():
        locked = _lock_pending(refund)
        declaration = locked.declaration
        lines = [
            Line(
                account=revenue_account(tax),
                amount=Decimal(amount),
                declaration_id=declaration.pk,
                office_code=declaration.office.code,
                tax_type=tax,
            )
            for tax, amount in locked.by_tax.items()
        ]
        lines.append(
            Line(
                account=prepaid_account(declaration.trader),
                amount=-locked.amount,
                declaration_id=declaration.pk,
                office_code=declaration.office.code,
            )
        )
        locked.journal = journal_post(
            kind=JournalKind.REFUND, lines=lines, actor=actor, memo=f"Refund {declaration.number}"
        )
        locked.status = RefundStatus.APPROVED
        locked.decided_by = actor
        locked.decided_at = timezone.now()
        locked.save(update_fields=["journal", "status", "decided_by", "decided_at"])
        audit_record(
            action="payments.refund.approved",
            actor=actor,
            obj=locked,
            office_code=declaration.office.code,
            after={"amount": str(locked.amount), "journal": locked.journal_id},
        )
        return locked


def refund_refuse(*, actor, refund: Refund, reason: str) -> Refund:
    ensure_supervisor(actor, refund.declaration.office)
    reason = (reason or "").strip()
    if not reason:
        raise PaymentInvalid(_("Give the reason for refusing the refund."), field="reason")
    with transaction.atomic():
        locked = _lock_pending(refund)
        locked.status = RefundStatus.REFUSED
        locked.decided_by = actor
        locked.decided_at = timezone.now()
        locked.reason = reason
        locked.save(update_fields=["status", "decided_by", "decided_at", "reason"])
        audit_record(
            action="payments.refund.refused",
            actor=actor,
            obj=locked,
            office_code=locked.declaration.office.code,
            after={"reason": reason},
        )
        return locked
