"""Paying a declaration's duties and taxes: from the pre-paid account, at the cashier's desk (cash or
cheque), or deferred against a guarantee. E-payment through a bank is in ``payments.services.orders``.

Each route is one transaction that locks the declaration, reads what it owes from the ledger
(``dues``), posts one balanced journal (the money's source debited, each tax's revenue credited),
writes the payment and its receipt, and marks the declaration paid through the declarations service,
which releases it at once when the lane's control is done. Locks are taken in one order everywhere
(declaration, then guarantee, then reservation, then account), so two payments never deadlock.

The payer confirms the amount it saw (``expected_amount``): if a re-assessment changed it meanwhile,
nothing is paid and the new amount is shown. A declaration in an open bank payment order is not paid
another way from the portal (the bank's money would come too); at the cashier's desk the payer is
there in person, so the order is cancelled, and a late bank confirmation of it is refused and logged.
"""

import zlib

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from customs.money import money_display
from customs.services.audit import audit_record
from customs.services.users import user_language
from declarations.models import Declaration
from declarations.services.lifecycle import declaration_mark_paid
from payments.choices import (
    CASHIER_ROUTES,
    JournalKind,
    OrderStatus,
    PaymentRoute,
    ReservationPurpose,
    ReservationStatus,
)
from payments.models import Account, CashUp, Guarantee, GuaranteeReservation, Payment, PaymentOrder
from payments.services.dues import PAYABLE_STATES, Dues, declaration_dues
from payments.services.errors import InsufficientFunds, PaymentError, PaymentInvalid
from payments.services.guarantees import guarantee_reserve, guarantee_settle
from payments.services.inputs import amount_input
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


def declaration_lock_payable(declaration, expected_amount=None) -> tuple[Declaration, Dues]:
    """Lock the declaration and check that it has something to pay now, and that it is what the payer
    saw (``expected_amount``, when given)."""
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
            _("Declaration %(number)s has nothing to pay.") % {"number": locked.number or locked.lrn},
            code="nothing_due",
            field="declaration",
        )
    if expected_amount is not None and amount_input(expected_amount, field="amount") != dues.due:
        raise PaymentError(
            _("The amount due is now %(due)s, not %(amount)s: check it and confirm again.")
            % {"due": money_display(dues.due), "amount": money_display(expected_amount)},
            code="amount_changed",
            field="amount",
        )
    return locked, dues


def open_order_of(declaration) -> PaymentOrder | None:
    """The open bank payment order that includes the declaration, if any."""
    return (
        PaymentOrder.objects.filter(status=OrderStatus.OPEN, lines__declaration=declaration)
        .order_by("-created_at")
        .first()
    )


def _refuse_if_ordered(declaration) -> None:
    order = open_order_of(declaration)
    if order is not None:
        raise PaymentError(
            _("Declaration %(number)s is in bank payment order %(reference)s: pay that, or cancel it first.")
            % {"number": declaration.number, "reference": order.reference},
            code="already_ordered",
            field="declaration",
        )


def _insufficient_prepaid(account, balance, required, *, field=None) -> InsufficientFunds:
    return InsufficientFunds(
        _(
            "The pre-paid account holds %(balance)s %(currency)s; %(due)s is needed. Top it up by "
            "%(shortfall)s or pay another way."
        )
        % {
            "balance": money_display(balance),
            "currency": account.currency,
            "due": money_display(required),
            "shortfall": money_display(required - balance),
        },
        shortfall=required - balance,
        available=balance,
        required=required,
        field=field,
    )


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
        language=user_language(actor, default=get_language()),
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


def prepaid_pay(*, actor, declaration, expected_amount=None) -> Payment:
    """Pay from the trader's pre-paid account at once; refused with the shortfall if it is short."""
    ensure_payer(actor, declaration.trader_id)
    with transaction.atomic():
        locked, dues = declaration_lock_payable(declaration, expected_amount)
        _refuse_if_ordered(locked)
        account = prepaid_account(locked.trader)
        Account.objects.select_for_update().get(pk=account.pk)
        balance = account_balance(account)
        if balance < dues.due:
            raise _insufficient_prepaid(account, balance, dues.due)
        return settle_declaration(
            actor=actor,
            declaration=locked,
            dues=dues,
            source=account,
            route=PaymentRoute.PREPAID,
            payment_fields={"office": locked.office},
        )


def cashier_day_lock(cashier, office) -> None:
    """Serialise a cashier's payments and cash-up at one office (a transaction-scoped advisory lock),
    so that no payment slips in while the day is being closed."""
    key = zlib.crc32(f"payments.cashier:{cashier.pk}:{office.pk}".encode())
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [7301, key - 2**31])


def cashier_pay(*, actor, declaration, method: str, amount, cheque_number: str = "") -> Payment:
    """The cashier takes the amount due in cash or by cheque. ``amount`` is what the cashier saw as due:
    if the declaration changed meanwhile, nothing is taken and the new amount is shown. An open bank
    payment order of the declaration is cancelled: the payer is at the desk."""
    if method not in CASHIER_ROUTES:
        raise PaymentInvalid(_("Choose cash or cheque."), field="method")
    cheque_number = (cheque_number or "").strip()
    if method == PaymentRoute.CHEQUE and not cheque_number:
        raise PaymentInvalid(_("Enter the cheque number."), field="cheque_number")
    amount = amount_input(amount, field="amount")
    office = declaration.office
    ensure_cashier(actor, office)
    with transaction.atomic():
        cashier_day_lock(actor, office)
        if CashUp.objects.filter(cashier=actor, office=office, day=timezone.localdate()).exists():
            raise PaymentError(
                _("You have cashed up today at %(office)s: no more payments until tomorrow.")
                % {"office": office.code},
                code="day_closed",
            )
        locked, dues = declaration_lock_payable(declaration, amount)
        order = open_order_of(locked)
        if order is not None:
            PaymentOrder.objects.filter(pk=order.pk, status=OrderStatus.OPEN).update(
                status=OrderStatus.CANCELLED
            )
            audit_record(
                action="payments.order.cancelled",
                actor=actor,
                obj=order,
                office_code=office.code,
                after={"reason": "paid at the cashier's desk", "declaration": locked.number},
            )
        return settle_declaration(
            actor=actor,
            declaration=locked,
            dues=dues,
            source=cash_account(office),
            route=method,
            payment_fields={"office": office, "cheque_number": cheque_number[:32]},
        )


def deferred_pay(*, actor, declaration, guarantee: Guarantee, expected_amount=None) -> Payment:
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
        locked, dues = declaration_lock_payable(declaration, expected_amount)
        _refuse_if_ordered(locked)
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
        Guarantee.objects.select_for_update().get(pk=guarantee.pk)
        locked = GuaranteeReservation.objects.select_for_update().get(pk=reservation.pk)
        if locked.status != ReservationStatus.OPEN or locked.purpose != ReservationPurpose.DEFERRED_PAYMENT:
            raise PaymentError(_("This deferred payment is already settled."), code="reservation_closed")
        account = prepaid_account(guarantee.trader)
        Account.objects.select_for_update().get(pk=account.pk)
        balance = account_balance(account)
        if balance < locked.amount:
            raise _insufficient_prepaid(account, balance, locked.amount)
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
