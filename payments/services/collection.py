"""Paying a declaration's duties and taxes: from the pre-paid account, at the cashier's desk (cash or
cheque), or deferred against a guarantee. E-payment through a bank is in ``payments.services.orders``.

Each route is one transaction that locks the declaration, reads what it owes from the ledger
(``dues``), posts one balanced journal (the money's source debited, each tax's revenue credited),
writes the payment and its receipt, and marks the declaration paid through the declarations service,
which releases it at once when the lane's control is done. Locks are taken in one order everywhere,
declaration before account or guarantee, so two payments never deadlock.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from customs.money import round_money, to_decimal
from customs.services.audit import audit_record
from declarations.models import Declaration
from declarations.services.lifecycle import declaration_mark_paid
from payments.choices import CASHIER_ROUTES, JournalKind, PaymentRoute, ReservationPurpose, ReservationStatus
from payments.models import Account, CashUp, Guarantee, GuaranteeReservation, Payment
from payments.services.dues import PAYABLE_STATES, Dues, declaration_dues
from payments.services.errors import InsufficientFunds, PaymentError, PaymentInvalid
from payments.services.guarantees import guarantee_reserve, guarantee_settle
from payments.services.ledger import (
    ZERO,
    Line,
    account_balance,
    cash_account,
    guarantee_account,
    journal_post,
    national_currency,
    prepaid_account,
    revenue_account,
)
from payments.services.permissions import ensure_cashier, ensure_payer
from payments.services.receipts import receipt_issue


def _language(actor) -> str:
    from django.utils.translation import get_language

    return (getattr(actor, "preferred_language", "") or get_language() or "en")[:2]


def declaration_lock_payable(declaration) -> tuple[Declaration, Dues]:
    """Lock the declaration and check that it has something to pay now."""
    locked = (
        Declaration.objects.select_for_update(of=("self",))
        .select_related("office", "trader")
        .get(pk=declaration.pk)
    )
    if locked.status not in PAYABLE_STATES:
        raise PaymentError(
            _("Declaration %(number)s cannot be paid now (status: %(status)s).")
            % {"number": locked.number or locked.lrn, "status": locked.get_status_display()},
            code="not_payable",
            field="declaration",
        )
    dues = declaration_dues(locked)
    if dues.due <= ZERO:
        raise PaymentError(
            _("Declaration %(number)s has nothing to pay.") % {"number": locked.number},
            code="nothing_due",
            field="declaration",
        )
    return locked, dues


def revenue_lines(declaration: Declaration, dues: Dues) -> list[Line]:
    """Credit each tax's revenue with what is outstanding on it (a debit where a re-assessment moved
    money from one tax to another)."""
    return [
        Line(
            account=revenue_account(tax),
            amount=-amount,
            declaration_id=declaration.pk,
            office_code=declaration.office.code,
            tax_type=tax,
        )
        for tax, amount in dues.outstanding_by_tax.items()
    ]


def settle_declaration(
    *, actor, declaration: Declaration, dues: Dues, source: Account, route: str, payment_fields: dict
) -> Payment:
    """Book the payment of what ``declaration`` owes from ``source``, issue the receipt, mark it paid.
    The caller holds the declaration's lock and has checked what it owes."""
    amount = dues.due
    lines = [
        Line(
            account=source, amount=amount, declaration_id=declaration.pk, office_code=declaration.office.code
        ),
        *revenue_lines(declaration, dues),
    ]
    journal = journal_post(
        kind=JournalKind.PAYMENT,
        lines=lines,
        actor=actor,
        memo=f"{declaration.number} {route}",
    )
    payment = Payment.objects.create(
        route=route,
        trader=declaration.trader,
        amount=amount,
        currency=national_currency(),
        journal=journal,
        recorded_by=actor if getattr(actor, "pk", None) else None,
        paid_at=journal.occurred_at,
        **payment_fields,
    )
    receipt = receipt_issue(
        payment=payment,
        office=declaration.office,
        amount=amount,
        declaration=declaration,
        language=_language(actor),
    )
    audit_record(
        action="payments.payment.received",
        actor=actor,
        obj=payment,
        office_code=declaration.office.code,
        after={
            "route": route,
            "amount": str(amount),
            "declaration": declaration.number,
            "receipt": receipt.number,
            "by_tax": {tax: str(value) for tax, value in dues.outstanding_by_tax.items()},
        },
    )
    declaration_mark_paid(actor=actor, declaration=declaration, receipt_reference=receipt.number)
    return payment


def prepaid_pay(*, actor, declaration) -> Payment:
    """Pay from the trader's pre-paid account at once; refused with the shortfall if it is short."""
    ensure_payer(actor, declaration.trader_id)
    with transaction.atomic():
        locked, dues = declaration_lock_payable(declaration)
        account = prepaid_account(locked.trader)
        Account.objects.select_for_update().get(pk=account.pk)
        balance = account_balance(account)
        if balance < dues.due:
            raise InsufficientFunds(
                _(
                    "The pre-paid account holds %(balance)s %(currency)s; %(due)s is due. Top it up by "
                    "%(shortfall)s or pay another way."
                )
                % {
                    "balance": balance,
                    "currency": account.currency,
                    "due": dues.due,
                    "shortfall": dues.due - balance,
                },
                shortfall=dues.due - balance,
                available=balance,
                required=dues.due,
            )
        return settle_declaration(
            actor=actor,
            declaration=locked,
            dues=dues,
            source=account,
            route=PaymentRoute.PREPAID,
            payment_fields={"office": locked.office},
        )


def _cashier_day_closed(actor, office, day) -> bool:
    return CashUp.objects.filter(cashier=actor, office=office, day=day).exists()


def cashier_pay(*, actor, declaration, method: str, amount, cheque_number: str = "") -> Payment:
    """The cashier takes the amount due in cash or by cheque. ``amount`` is what the cashier saw as due:
    if the declaration changed meanwhile, nothing is taken and the new amount is shown."""
    if method not in CASHIER_ROUTES:
        raise PaymentInvalid(_("Choose cash or cheque."), field="method")
    cheque_number = (cheque_number or "").strip()
    if method == PaymentRoute.CHEQUE and not cheque_number:
        raise PaymentInvalid(_("Enter the cheque number."), field="cheque_number")
    try:
        amount = round_money(to_decimal(amount))
    except (TypeError, ValueError):
        raise PaymentInvalid(_("Enter the amount as a number."), field="amount") from None
    office = declaration.office
    ensure_cashier(actor, office)
    if _cashier_day_closed(actor, office, timezone.localdate()):
        raise PaymentError(
            _("You have cashed up today at %(office)s: no more payments until tomorrow.")
            % {"office": office.code},
            code="day_closed",
        )
    with transaction.atomic():
        locked, dues = declaration_lock_payable(declaration)
        if amount != dues.due:
            raise PaymentError(
                _("The amount due is now %(due)s, not %(amount)s: check it with the payer.")
                % {"due": dues.due, "amount": amount},
                code="amount_changed",
                field="amount",
            )
        return settle_declaration(
            actor=actor,
            declaration=locked,
            dues=dues,
            source=cash_account(office),
            route=method,
            payment_fields={"office": office, "cheque_number": cheque_number[:32]},
        )


def deferred_pay(*, actor, declaration, guarantee: Guarantee) -> Payment:
    """Defer the payment against a guarantee that covers it: the amount is reserved on the guarantee,
    the revenue credited, and the declaration paid; the trader settles the deferred amount later."""
    ensure_payer(actor, declaration.trader_id)
    if guarantee.trader_id != declaration.trader_id:
        raise PaymentInvalid(_("This guarantee is not the trader's."), field="guarantee")
    if not guarantee.allows_deferred_payment:
        raise PaymentInvalid(
            _("Guarantee %(reference)s does not cover deferred payment.")
            % {"reference": guarantee.reference},
            field="guarantee",
        )
    with transaction.atomic():
        locked, dues = declaration_lock_payable(declaration)
        guarantee_reserve(
            actor=actor,
            guarantee=guarantee,
            amount=dues.due,
            purpose=ReservationPurpose.DEFERRED_PAYMENT,
            reference=locked.number,
            declaration=locked,
        )
        return settle_declaration(
            actor=actor,
            declaration=locked,
            dues=dues,
            source=guarantee_account(guarantee),
            route=PaymentRoute.DEFERRED,
            payment_fields={"office": locked.office},
        )


def deferred_settle(*, actor, reservation: GuaranteeReservation) -> GuaranteeReservation:
    """Settle a deferred payment from the trader's pre-paid account: the guarantee's claim is paid and
    the reservation ends, which frees the guarantee's amount."""
    guarantee = reservation.guarantee
    ensure_payer(actor, guarantee.trader_id)
    with transaction.atomic():
        locked = GuaranteeReservation.objects.select_for_update().get(pk=reservation.pk)
        if locked.status != ReservationStatus.OPEN or locked.purpose != ReservationPurpose.DEFERRED_PAYMENT:
            raise PaymentError(_("This deferred payment is already settled."), code="reservation_closed")
        account = prepaid_account(guarantee.trader)
        Account.objects.select_for_update().get(pk=account.pk)
        balance = account_balance(account)
        if balance < locked.amount:
            raise InsufficientFunds(
                _("The pre-paid account holds %(balance)s; %(amount)s is needed (short by %(shortfall)s).")
                % {"balance": balance, "amount": locked.amount, "shortfall": locked.amount - balance},
                shortfall=locked.amount - balance,
                available=balance,
                required=locked.amount,
            )
        journal_post(
            kind=JournalKind.DEFERRED_SETTLEMENT,
            lines=[
                Line(account=account, amount=locked.amount, declaration_id=locked.declaration_id),
                Line(
                    account=guarantee_account(guarantee),
                    amount=-locked.amount,
                    declaration_id=locked.declaration_id,
                ),
            ],
            actor=actor,
            memo=f"{guarantee.reference} {locked.reference}",
        )
        return guarantee_settle(actor=actor, reservation=locked)
