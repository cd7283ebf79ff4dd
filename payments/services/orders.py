"""E-payment: payment orders and the bank's signed confirmation.

A trader makes a payment order for one or more assessed declarations (or a top-up of its pre-paid
account) and gets a payment reference, an ISO 11649 creditor reference (``RF`` + two check digits +
our prefix and serial), which the bank checks and quotes back. The bank confirms by POSTing JSON to
the payment API:

- ``X-Kerwen-Timestamp``: seconds since the epoch; more than ``PAYMENTS_CALLBACK_TOLERANCE_SECONDS``
  away from our clock and the callback is refused (a captured callback cannot be replayed later);
- ``X-Kerwen-Signature``: ``sha256=`` + hex HMAC-SHA256 under the bank's secret of
  ``<timestamp>.<body>``;
- body: ``transaction_id``, ``reference``, ``amount`` (a decimal string) and ``currency``.

A transaction id makes one payment, however often it is delivered: a repeat gets the first answer.
An amount that is not exactly the order's, an unknown reference, an order already paid or cancelled
are refused, and every refusal of an authenticated bank is kept in the callback log for
reconciliation. A refused callback writes no payment and no ledger entry.
"""

import json
import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from customs.money import round_money, to_decimal
from customs.services.audit import audit_record
from customs.services.users import user_language
from customs.signatures import TIMESTAMP_HEADER, hmac_signature, hmac_signature_matches
from declarations.models import Declaration
from declarations.services.lifecycle import declaration_mark_paid
from payments.choices import CallbackOutcome, JournalKind, OrderKind, OrderStatus, PaymentRoute
from payments.models import Bank, BankCallback, Payment, PaymentOrder, PaymentOrderLine
from payments.services.collection import open_order_of, revenue_lines
from payments.services.dues import PAYABLE_STATES, declaration_dues
from payments.services.errors import CallbackRejected, PaymentError, PaymentInvalid
from payments.services.ledger import (
    ZERO,
    Line,
    clearing_account,
    journal_post,
    national_currency,
    prepaid_account,
)
from payments.services.permissions import ensure_payer
from payments.services.receipts import receipt_issue

REFERENCE_PREFIX = "KRW"


# --- ISO 11649 creditor references -------------------------------------------------------------


def _mod97(text: str) -> int:
    digits = "".join(str(int(character, 36)) for character in text)
    return int(digits) % 97


def reference_make(serial: int) -> str:
    body = f"{REFERENCE_PREFIX}{serial:010d}"
    check = 98 - _mod97(body + "RF00")
    return f"RF{check:02d}{body}"


def reference_valid(reference: str) -> bool:
    """True when ``reference`` is a well-formed creditor reference with the right check digits."""
    text = (reference or "").replace(" ", "").upper()
    if not (5 <= len(text) <= 25) or not text.startswith("RF") or not text.isalnum():
        return False
    return _mod97(text[4:] + text[:4]) == 1


# --- Orders -------------------------------------------------------------------------------------


def _order_insert(*, actor, kind: str, trader, amount: Decimal, office=None) -> PaymentOrder:
    order = PaymentOrder.objects.create(
        reference=f"PENDING-{time.monotonic_ns()}"[:25],
        kind=kind,
        trader=trader,
        office=office,
        amount=amount,
        currency=national_currency(),
        created_by=actor,
    )
    order.reference = reference_make(order.pk)
    order.save(update_fields=["reference"])
    return order


def payment_order_create(*, actor, declarations: list) -> PaymentOrder:
    """An order for the amounts due now on ``declarations`` (all of one trader, all payable)."""
    if not declarations:
        raise PaymentInvalid(_("Choose at least one declaration to pay."), field="declarations")
    trader_ids = {declaration.trader_id for declaration in declarations}
    if len(trader_ids) != 1:
        raise PaymentInvalid(
            _("One payment order pays the declarations of one trader."), field="declarations"
        )
    ensure_payer(actor, next(iter(trader_ids)))
    with transaction.atomic():
        locked = list(
            Declaration.objects.select_for_update(of=("self",))
            .select_related("trader", "office")
            .filter(pk__in=[declaration.pk for declaration in declarations])
            .order_by("pk")
        )
        lines = []
        for declaration in locked:
            if declaration.status not in PAYABLE_STATES:
                raise PaymentError(
                    _("Declaration %(number)s cannot be paid now (status: %(status)s).")
                    % {
                        "number": declaration.number or declaration.lrn,
                        "status": declaration.get_status_display(),
                    },
                    code="not_payable",
                    field="declarations",
                )
            due = declaration_dues(declaration).due
            if due <= ZERO:
                raise PaymentError(
                    _("Declaration %(number)s has nothing to pay.") % {"number": declaration.number},
                    code="nothing_due",
                    field="declarations",
                )
            existing = open_order_of(declaration)
            if existing is not None:
                raise PaymentError(
                    _("Declaration %(number)s is already in payment order %(reference)s; pay or cancel it.")
                    % {"number": declaration.number, "reference": existing.reference},
                    code="already_ordered",
                    field="declarations",
                )
            lines.append((declaration, due))
        order = _order_insert(
            actor=actor,
            kind=OrderKind.DUTIES,
            trader=locked[0].trader,
            amount=sum((due for _d, due in lines), ZERO),
        )
        PaymentOrderLine.objects.bulk_create(
            [PaymentOrderLine(order=order, declaration=declaration, amount=due) for declaration, due in lines]
        )
        audit_record(
            action="payments.order.created",
            actor=actor,
            obj=order,
            after={"amount": str(order.amount), "declarations": [d.number for d, _due in lines]},
        )
        return order


def top_up_order_create(*, actor, trader, amount, office) -> PaymentOrder:
    """An order to add ``amount`` to the trader's pre-paid account through its bank."""
    ensure_payer(actor, trader.pk)
    try:
        amount = to_decimal(amount)
    except (TypeError, ValueError):
        raise PaymentInvalid(_("Enter the amount as a number."), field="amount") from None
    # NaN and infinity are Decimals too: comparing or rounding them raises, so refuse them first.
    if not amount.is_finite() or amount <= ZERO or round_money(amount) != amount:
        raise PaymentInvalid(_("Enter an amount above zero, with at most two decimals."), field="amount")
    with transaction.atomic():
        order = _order_insert(actor=actor, kind=OrderKind.TOP_UP, trader=trader, amount=amount, office=office)
        audit_record(action="payments.order.created", actor=actor, obj=order, after={"amount": str(amount)})
        return order


def payment_order_cancel(*, actor, order: PaymentOrder) -> PaymentOrder:
    ensure_payer(actor, order.trader_id)
    with transaction.atomic():
        locked = PaymentOrder.objects.select_for_update().get(pk=order.pk)
        if locked.status != OrderStatus.OPEN:
            raise PaymentError(
                _("Payment order %(reference)s is %(status)s: it cannot be cancelled.")
                % {"reference": locked.reference, "status": locked.get_status_display().lower()},
                code="order_closed",
            )
        locked.status = OrderStatus.CANCELLED
        locked.save(update_fields=["status"])
        audit_record(action="payments.order.cancelled", actor=actor, obj=locked)
        return locked


# --- Bank callbacks -----------------------------------------------------------------------------


def callback_signature(secret: str, timestamp: str, body: bytes) -> str:
    """The signature a bank sends (``customs.signatures``, the scheme of Kerwen's own webhooks)."""
    return hmac_signature(secret, timestamp, body)


def callback_authenticate(*, bank: Bank, body: bytes, timestamp: str, signature: str) -> None:
    """Check the timestamp window and the signature; raise ``CallbackRejected`` (401, not logged)."""
    try:
        sent_at = int(timestamp)
    except (TypeError, ValueError):
        raise CallbackRejected(
            _("The %(header)s header must be seconds since the epoch.") % {"header": TIMESTAMP_HEADER},
            code="bad_timestamp",
            status=401,
            record=False,
        ) from None
    if abs(time.time() - sent_at) > settings.PAYMENTS_CALLBACK_TOLERANCE_SECONDS:
        raise CallbackRejected(
            _("The callback's timestamp is too old or in the future: it may be a replay."),
            code="stale_timestamp",
            status=401,
            record=False,
        )
    if not hmac_signature_matches(bank.callback_secret, timestamp, body, signature):
        raise CallbackRejected(
            _("The callback's signature does not match its body."),
            code="bad_signature",
            status=401,
            record=False,
        )


@dataclass(frozen=True)
class CallbackBody:
    transaction_id: str
    reference: str
    amount: Decimal
    currency: str
    raw: dict


def callback_parse(body: bytes) -> CallbackBody:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CallbackRejected(_("The body is not JSON."), code="invalid_body", status=400) from None
    if not isinstance(data, dict):
        raise CallbackRejected(_("The body must be a JSON object."), code="invalid_body", status=400)
    # A value of blanks is missing too: a payment booked under a blank transaction id could never be
    # told apart from the next one, nor matched on the bank's statement.
    missing = [
        name
        for name in ("transaction_id", "reference", "amount", "currency")
        if not str(data.get(name) or "").strip()
    ]
    if missing:
        raise CallbackRejected(
            _("Missing fields: %(fields)s.") % {"fields": ", ".join(missing)},
            code="missing_fields",
            status=400,
        )
    if not isinstance(data["amount"], str):
        raise CallbackRejected(
            _('The amount must be a decimal string, such as "1250.00".'), code="invalid_amount", status=400
        )
    try:
        amount = Decimal(data["amount"])
    except InvalidOperation:
        raise CallbackRejected(_("The amount is not a number."), code="invalid_amount", status=400) from None
    if not amount.is_finite() or amount <= 0:
        raise CallbackRejected(_("The amount must be above zero."), code="invalid_amount", status=400)
    transaction_id = str(data["transaction_id"]).strip()
    if len(transaction_id) > 64:
        raise CallbackRejected(
            _("The transaction id is longer than 64 characters."), code="invalid_body", status=400
        )
    currency = str(data["currency"]).strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        raise CallbackRejected(
            _("The currency must be a three-letter code."), code="invalid_currency", status=400
        )
    return CallbackBody(
        transaction_id=transaction_id,
        reference=str(data["reference"]).replace(" ", "").upper()[:35],
        amount=amount,
        currency=currency,
        raw=data,
    )


@dataclass(frozen=True)
class CallbackResult:
    payment: Payment
    duplicate: bool


def _same_as(payment: Payment, parsed: CallbackBody) -> bool:
    return (
        payment.order is not None
        and payment.order.reference == parsed.reference
        and payment.amount == parsed.amount
    )


def bank_callback_process(*, bank: Bank, body: bytes, timestamp: str, signature: str) -> CallbackResult:
    """Authenticate, check and book one bank callback. Refusals raise ``CallbackRejected`` after the
    refusal of an authenticated bank has been logged (in its own transaction: the booking rolled back)."""
    if not bank.active:
        raise CallbackRejected(
            _("Bank %(bank)s may not confirm payments.") % {"bank": bank.code},
            code="bank_inactive",
            status=403,
            record=False,
        )
    callback_authenticate(bank=bank, body=body, timestamp=timestamp, signature=signature)
    parsed = None
    try:
        parsed = callback_parse(body)
        with transaction.atomic():
            result = _book(bank=bank, parsed=parsed)
            BankCallback.objects.create(
                bank=bank,
                transaction_id=parsed.transaction_id,
                reference=parsed.reference,
                amount=str(parsed.amount),
                body=parsed.raw,
                outcome=CallbackOutcome.DUPLICATE if result.duplicate else CallbackOutcome.ACCEPTED,
                payment=result.payment,
            )
            return result
    except CallbackRejected as rejection:
        if rejection.record:
            _log_rejection(bank, body, parsed, rejection)
        raise


def _log_rejection(bank: Bank, body: bytes, parsed: CallbackBody | None, rejection: CallbackRejected) -> None:
    if parsed is not None:
        raw, transaction_id, reference, amount = (
            parsed.raw,
            parsed.transaction_id,
            parsed.reference,
            str(parsed.amount),
        )
    else:
        raw = {"unparsed": body.decode("utf-8", errors="replace")[:2000]}
        transaction_id = reference = amount = ""
    with transaction.atomic():
        BankCallback.objects.create(
            bank=bank,
            transaction_id=transaction_id[:64],
            reference=reference,
            amount=amount[:32],
            body=raw,
            outcome=CallbackOutcome.REJECTED,
            error_code=rejection.code,
            message=str(rejection)[:255],
        )


def _duplicate_or_conflict(payment: Payment, parsed: CallbackBody) -> CallbackResult:
    if _same_as(payment, parsed):
        return CallbackResult(payment=payment, duplicate=True)
    raise CallbackRejected(
        _("Transaction %(transaction)s was already booked with another reference or amount.")
        % {"transaction": parsed.transaction_id},
        code="duplicate_transaction",
        status=409,
    )


def _book(*, bank: Bank, parsed: CallbackBody) -> CallbackResult:
    existing = (
        Payment.objects.select_related("order")
        .filter(bank=bank, bank_transaction_id=parsed.transaction_id)
        .first()
    )
    if existing is not None:
        return _duplicate_or_conflict(existing, parsed)
    if not reference_valid(parsed.reference):
        raise CallbackRejected(
            _("%(reference)s is not a valid payment reference.") % {"reference": parsed.reference},
            code="unknown_reference",
            status=404,
        )
    order = PaymentOrder.objects.select_for_update().filter(reference=parsed.reference).first()
    if order is None:
        raise CallbackRejected(
            _("No payment order has the reference %(reference)s.") % {"reference": parsed.reference},
            code="unknown_reference",
            status=404,
        )
    # A concurrent delivery of the same transaction waited on the order's lock: look again.
    existing = (
        Payment.objects.select_related("order")
        .filter(bank=bank, bank_transaction_id=parsed.transaction_id)
        .first()
    )
    if existing is not None:
        return _duplicate_or_conflict(existing, parsed)
    if order.status != OrderStatus.OPEN:
        raise CallbackRejected(
            _("Payment order %(reference)s is %(status)s.")
            % {"reference": order.reference, "status": order.get_status_display().lower()},
            code="order_closed",
            status=409,
        )
    if parsed.currency != order.currency or parsed.amount != order.amount:
        raise CallbackRejected(
            _("The amount %(amount)s %(currency)s is not the order's %(expected)s %(expected_currency)s.")
            % {
                "amount": parsed.amount,
                "currency": parsed.currency,
                "expected": order.amount,
                "expected_currency": order.currency,
            },
            code="amount_mismatch",
            status=422,
        )
    try:
        with transaction.atomic():
            payment = _order_pay(bank=bank, order=order, transaction_id=parsed.transaction_id)
    except IntegrityError:
        # The same transaction id, booked meanwhile for another order; any other integrity error is a bug.
        existing = (
            Payment.objects.select_related("order")
            .filter(bank=bank, bank_transaction_id=parsed.transaction_id)
            .first()
        )
        if existing is None:
            raise
        return _duplicate_or_conflict(existing, parsed)
    return CallbackResult(payment=payment, duplicate=False)


def _order_pay(*, bank: Bank, order: PaymentOrder, transaction_id: str) -> Payment:
    """Book the order's money: the bank's clearing account debited; each declaration's taxes credited
    when it still owes exactly what the order says, else the line's money credited to the trader's
    pre-paid account (the declaration was re-assessed or closed meanwhile), and each part receipted."""
    actor = bank.user
    clearing = clearing_account(bank)
    lines = [Line(account=clearing, amount=order.amount)]
    settlements = []  # (declaration, dues) paid in full
    to_account = []  # (office, amount, declaration) credited to the pre-paid account
    if order.kind == OrderKind.TOP_UP:
        lines.append(Line(account=prepaid_account(order.trader), amount=-order.amount))
        to_account.append((order.office, order.amount, None))
    else:
        order_lines = list(order.lines.order_by("declaration_id"))
        declarations = {
            declaration.pk: declaration
            for declaration in Declaration.objects.select_for_update(of=("self",))
            .select_related("office", "trader")
            .filter(pk__in=[line.declaration_id for line in order_lines])
            .order_by("pk")
        }
        for order_line in order_lines:
            declaration = declarations[order_line.declaration_id]
            dues = declaration_dues(declaration)
            if declaration.status in PAYABLE_STATES and dues.due == order_line.amount:
                lines.extend(revenue_lines(declaration, dues))
                settlements.append((declaration, dues))
            else:
                lines.append(
                    Line(
                        account=prepaid_account(order.trader),
                        amount=-order_line.amount,
                        declaration_id=declaration.pk,
                        office_code=declaration.office.code,
                    )
                )
                to_account.append((declaration.office, order_line.amount, declaration))
    journal = journal_post(
        kind=JournalKind.TOP_UP if order.kind == OrderKind.TOP_UP else JournalKind.PAYMENT,
        lines=lines,
        actor=actor,
        memo=f"{bank.code} {transaction_id} {order.reference}",
    )
    payment = Payment.objects.create(
        route=PaymentRoute.EPAYMENT,
        trader=order.trader,
        amount=order.amount,
        currency=order.currency,
        journal=journal,
        order=order,
        bank=bank,
        bank_transaction_id=transaction_id,
        office=order.office,
        paid_at=journal.occurred_at,
    )
    language = user_language(order.created_by)
    receipts = []
    for declaration, dues in settlements:
        receipt = receipt_issue(
            payment=payment,
            office=declaration.office,
            amount=dues.due,
            declaration=declaration,
            language=language,
        )
        receipts.append(receipt.number)
        declaration_mark_paid(actor=actor, declaration=declaration, receipt_reference=receipt.number)
    for office, amount, _declaration in to_account:
        receipts.append(
            receipt_issue(payment=payment, office=office, amount=amount, language=language).number
        )
    order.status = OrderStatus.PAID
    order.paid_at = journal.occurred_at
    order.save(update_fields=["status", "paid_at"])
    audit_record(
        action="payments.payment.received",
        actor=actor,
        obj=payment,
        after={
            "route": PaymentRoute.EPAYMENT,
            "bank": bank.code,
            "transaction": transaction_id,
            "order": order.reference,
            "amount": str(order.amount),
            "receipts": receipts,
            "to_prepaid_account": [
                declaration.number if declaration else "top-up" for _o, _a, declaration in to_account
            ],
        },
    )
    return payment
