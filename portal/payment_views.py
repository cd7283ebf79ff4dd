"""The payer's payment screens in the portal (/portal/payments/): the pre-paid account and its statement,
the declarations to pay (from the account, deferred against a guarantee, or in a bank payment order),
payment orders and top-ups, guarantees and deferred payments to settle, receipts.

Who may pay for whom is ``payments.services.permissions.payer_traders``: a trader user pays for its
trader, a broker user for the traders that authorised its broker for payments. Staff are not portal
users and get 403, as does a broker no trader authorised for payments; another payer's declaration,
order or receipt is a 404. Views stay thin: forms parse, the payments services decide, and a
``PaymentError`` is shown next to the field it names (or above the form).
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import prefetch_related_objects
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from customs.money import money_display
from payments.choices import OrderStatus, ReservationPurpose
from payments.models import Guarantee, PaymentOrder
from payments.selectors import (
    account_statement,
    guarantees_for_user,
    order_get_for_user,
    orders_for_user,
    payable_declarations_for_user,
    prepaid_accounts_for_user,
    receipts_for_user,
)
from payments.services.collection import deferred_pay, deferred_settle, prepaid_pay
from payments.services.dues import declaration_dues
from payments.services.errors import InsufficientFunds, PaymentError
from payments.services.ledger import national_currency
from payments.services.orders import payment_order_cancel, payment_order_create, top_up_order_create
from payments.services.permissions import payer_traders
from payments.services.receipts import receipt_context
from portal.access import portal_refused
from portal.payment_forms import (
    DeferForm,
    ExpectedAmountForm,
    OrderCreateForm,
    TopUpForm,
    payment_error_to_form,
)

RECEIPTS_PER_PAGE = 50


def payer_required(view):
    """Signed in, a portal user (trader or broker), and paying for at least one trader today."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not (user.trader_id or user.broker_id):
            return portal_refused(
                request,
                _("The payment screens are for traders and customs brokers. Staff use the office screens."),
            )
        if not payer_traders(user):
            return portal_refused(
                request,
                _(
                    "No trader has authorised your broker for payments today. A trader gives the "
                    "authorisation (scope “payments”) at the customs office; once it is recorded, you can "
                    "pay for that trader here."
                ),
            )
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def _deferrable(guarantee, day) -> bool:
    """A guarantee the trader may defer payments against today."""
    return (
        guarantee.allows_deferred_payment
        and not guarantee.revoked
        and guarantee.valid_from <= day <= guarantee.valid_to
    )


def _account_row(user, trader_pk: int) -> dict:
    """The pre-paid account (with balance) of one trader the user pays for, else 404."""
    for row in prepaid_accounts_for_user(user):
        if row["trader"].pk == trader_pk:
            return row
    raise Http404(_("There is no such pre-paid account."))


def _payable_or_none(user, pk: int):
    return payable_declarations_for_user(user).filter(pk=pk).first()


def _not_payable(request, pk: int):
    """A declaration with nothing to pay (paid meanwhile, or not the user's): its receipt, else 404."""
    receipt = receipts_for_user(request.user).filter(declaration_id=pk).order_by("-issued_at").first()
    if receipt is None:
        raise Http404(_("There is no declaration with an amount due here."))
    messages.warning(
        request,
        _("Declaration %(number)s has nothing to pay now; this is its receipt.")
        % {"number": receipt.declaration.number},
    )
    return redirect("portal:payment-receipt", pk=receipt.pk)


def _open_orders(user) -> list[PaymentOrder]:
    return list(
        orders_for_user(user)
        .filter(status=OrderStatus.OPEN)
        .prefetch_related("lines__declaration__office")
        .order_by("-created_at", "-pk")
    )


# --------------------------------------------------------------------------------------------- home


def _render_home(request, *, selected=frozenset(), order_errors=None, status=200):
    """Per trader handled: the pre-paid balance, what is due, open orders, guarantees and deferrals.
    ``order_errors`` maps a trader's id (or None) to the refusals of a payment order made for it."""
    user = request.user
    today = timezone.localdate()
    order_errors = order_errors or {}
    payable = list(payable_declarations_for_user(user))
    guarantees = guarantees_for_user(user)
    open_orders = _open_orders(user)
    in_order = {line.declaration_id: order for order in open_orders for line in order.lines.all()}
    sections = []
    for row in prepaid_accounts_for_user(user):
        trader = row["trader"]
        trader_guarantees = [item for item in guarantees if item["guarantee"].trader_id == trader.pk]
        sections.append(
            {
                **row,
                "declarations": [
                    {
                        "declaration": declaration,
                        "open_order": in_order.get(declaration.pk),
                        "selected": declaration.pk in selected,
                    }
                    for declaration in payable
                    if declaration.trader_id == trader.pk
                ],
                "can_defer": any(_deferrable(item["guarantee"], today) for item in trader_guarantees),
                "guarantees": trader_guarantees,
                "deferred": [
                    {"guarantee": item["guarantee"], "reservation": reservation}
                    for item in trader_guarantees
                    for reservation in item["open_reservations"]
                    if reservation.purpose == ReservationPurpose.DEFERRED_PAYMENT
                ],
                "open_orders": [order for order in open_orders if order.trader_id == trader.pk],
                "order_errors": order_errors.get(trader.pk, []),
            }
        )
    # Refusals for no trader, or for one the user does not pay for (a crafted form), go above the sections.
    shown = {section["trader"].pk for section in sections}
    general = [message for key, refusals in order_errors.items() if key not in shown for message in refusals]
    context = {"sections": sections, "order_errors": general}
    return render(request, "portal/payments/home.html", context, status=status)


@payer_required
def payment_home(request):
    """The payments page. ``?select=<declaration id>`` ticks that declaration for a payment order."""
    selected = {int(value) for value in request.GET.getlist("select") if value.isdigit()}
    return _render_home(request, selected=selected)


# ---------------------------------------------------------------------------------------- statement


@payer_required
def account_statement_view(request, trader_pk):
    """The pre-paid account's entries, newest first, each with the balance after it."""
    row = _account_row(request.user, trader_pk)
    rows = account_statement(row["account"])
    prefetch_related_objects(
        [item["entry"].declaration for item in rows if item["entry"].declaration], "office"
    )
    return render(request, "portal/payments/statement.html", {**row, "rows": rows})


# ------------------------------------------------------------------------------------------- orders


@payer_required
def order_list(request):
    orders = orders_for_user(request.user).prefetch_related("lines__declaration__office")
    return render(request, "portal/payments/order_list.html", {"orders": orders})


def _posted_trader(post):
    value = post.get("trader", "")
    return int(value) if value.isdigit() else None


@payer_required
@require_POST
def order_create(request):
    """A bank payment order for the declarations ticked (of one trader); then its payment reference."""
    form = OrderCreateForm(request.POST, user=request.user)
    trader_key = _posted_trader(request.POST)
    selected = {int(value) for value in request.POST.getlist("declarations") if value.isdigit()}
    if not form.is_valid():
        refusals = [str(message) for message in form.errors.get("declarations", [])]
        return _render_home(request, selected=selected, order_errors={trader_key: refusals}, status=422)
    try:
        order = payment_order_create(actor=request.user, declarations=list(form.cleaned_data["declarations"]))
    except PaymentError as error:
        return _render_home(
            request, selected=selected, order_errors={trader_key: [error.message]}, status=error.status
        )
    messages.success(
        request,
        _("Payment order %(reference)s is made. Give the payment reference to your bank.")
        % {"reference": order.reference},
    )
    return redirect("portal:payment-order-detail", reference=order.reference)


def _order_or_404(user, reference: str) -> PaymentOrder:
    try:
        return order_get_for_user(user, reference)
    except PaymentOrder.DoesNotExist as error:
        raise Http404(_("There is no such payment order.")) from error


@payer_required
def order_detail(request, reference):
    """The order to give to the bank: its payment reference, amount and lines. Printable."""
    order = _order_or_404(request.user, reference)
    prefetch_related_objects([order], "lines__declaration__office")
    return render(request, "portal/payments/order_detail.html", {"order": order})


@payer_required
@require_POST
def order_cancel(request, reference):
    order = _order_or_404(request.user, reference)
    try:
        payment_order_cancel(actor=request.user, order=order)
    except PaymentError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Payment order %(reference)s is cancelled.") % {"reference": reference})
    return redirect("portal:payment-order-detail", reference=reference)


@payer_required
def top_up(request):
    """A payment order that adds money to a pre-paid account. ``?trader=`` and ``?amount=`` fill the
    form (the shortfall link of the pay page)."""
    currency = national_currency()
    if request.method == "POST":
        form = TopUpForm(request.POST, user=request.user, currency=currency)
        if form.is_valid():
            data = form.cleaned_data
            try:
                order = top_up_order_create(
                    actor=request.user, trader=data["trader"], amount=data["amount"], office=data["office"]
                )
            except PaymentError as error:
                payment_error_to_form(form, error)
            else:
                messages.success(
                    request,
                    _("Top-up order %(reference)s is made. Give the payment reference to your bank.")
                    % {"reference": order.reference},
                )
                return redirect("portal:payment-order-detail", reference=order.reference)
        status = 422
    else:
        initial = {key: request.GET[key] for key in ("trader", "amount", "office") if request.GET.get(key)}
        form = TopUpForm(initial=initial, user=request.user, currency=currency)
        status = 200
    return render(request, "portal/payments/top_up.html", {"form": form, "currency": currency}, status=status)


# ------------------------------------------------------------------------------ pay from the account


def _due_rows(dues) -> list[dict]:
    return [{"tax": tax, "amount": amount} for tax, amount in dues.outstanding_by_tax.items()]


def _render_prepaid(request, declaration, *, refusal=None, status=200):
    dues = declaration_dues(declaration)
    account = _account_row(request.user, declaration.trader_id)
    shortfall = max(dues.due - account["balance"], 0)
    context = {
        "declaration": declaration,
        "dues": dues,
        "due_rows": _due_rows(dues),
        "balance": account["balance"],
        "account": account["account"],
        "balance_after": account["balance"] - dues.due,
        "shortfall": shortfall,
        "refusal": refusal,
        "form": ExpectedAmountForm(initial={"expected_amount": dues.due}),
        "can_defer": any(
            _deferrable(item["guarantee"], timezone.localdate())
            for item in guarantees_for_user(request.user)
            if item["guarantee"].trader_id == declaration.trader_id
        ),
    }
    return render(request, "portal/payments/prepaid_pay.html", context, status=status)


def _amount_changed(form, dues) -> bool:
    return not form.is_valid() or form.cleaned_data["expected_amount"] != dues.due


@payer_required
def prepaid_pay_view(request, pk):
    """Confirm (GET) and pay (POST) a declaration from its trader's pre-paid account; then the receipt."""
    declaration = _payable_or_none(request.user, pk)
    if declaration is None:
        return _not_payable(request, pk)
    if request.method != "POST":
        return _render_prepaid(request, declaration)
    form = ExpectedAmountForm(request.POST)
    if _amount_changed(form, declaration_dues(declaration)):
        refusal = _("The amount due changed since you opened this page. Check it and confirm again.")
        return _render_prepaid(request, declaration, refusal=refusal, status=409)
    try:
        # The service checks the amount again under the declaration's lock.
        payment = prepaid_pay(
            actor=request.user, declaration=declaration, expected_amount=form.cleaned_data["expected_amount"]
        )
    except InsufficientFunds as error:
        return _render_prepaid(request, declaration, refusal=error.message, status=409)
    except PaymentError as error:
        return _render_prepaid(request, declaration, refusal=error.message, status=error.status)
    receipt = payment.receipts.get()
    messages.success(
        request,
        _("Paid %(amount)s %(currency)s from the pre-paid account. Receipt %(receipt)s.")
        % {"amount": money_display(payment.amount), "currency": payment.currency, "receipt": receipt.number},
    )
    return redirect("portal:payment-receipt", pk=receipt.pk)


# ---------------------------------------------------------------------------------------- deferral


def _deferral_guarantees(user, declaration) -> dict:
    """The trader's guarantees that may cover the deferral today, with what is available on each."""
    today = timezone.localdate()
    return {
        item["guarantee"].pk: item
        for item in guarantees_for_user(user)
        if item["guarantee"].trader_id == declaration.trader_id and _deferrable(item["guarantee"], today)
    }


def _defer_form(user, declaration, data=None, *, due):
    usable = _deferral_guarantees(user, declaration)
    return DeferForm(
        data,
        initial={"expected_amount": due},
        guarantees=Guarantee.objects.filter(pk__in=usable).order_by("reference"),
        available={pk: item["available"] for pk, item in usable.items()},
    ), usable


@payer_required
def defer_view(request, pk):
    """Choose a guarantee (GET) and defer the payment against it (POST); then the receipt."""
    declaration = _payable_or_none(request.user, pk)
    if declaration is None:
        return _not_payable(request, pk)
    dues = declaration_dues(declaration)
    status, refusal = 200, None
    if request.method == "POST":
        form, usable = _defer_form(request.user, declaration, request.POST, due=dues.due)
        if form.is_valid() and form.cleaned_data["expected_amount"] != dues.due:
            refusal = _("The amount due changed since you opened this page. Check it and confirm again.")
            form, usable = _defer_form(request.user, declaration, due=dues.due)
            status = 409
        elif form.is_valid():
            try:
                payment = deferred_pay(
                    actor=request.user,
                    declaration=declaration,
                    guarantee=form.cleaned_data["guarantee"],
                    expected_amount=form.cleaned_data["expected_amount"],
                )
            except InsufficientFunds as error:
                # What the guarantee lacks belongs next to the choice of guarantee.
                form.add_error("guarantee", error.message)
                status = error.status
            except PaymentError as error:
                payment_error_to_form(form, error)
                status = error.status
            else:
                receipt = payment.receipts.get()
                messages.success(
                    request,
                    _("The payment of %(amount)s %(currency)s is deferred against guarantee %(guarantee)s.")
                    % {
                        "amount": money_display(payment.amount),
                        "currency": payment.currency,
                        "guarantee": form.cleaned_data["guarantee"].reference,
                    },
                )
                return redirect("portal:payment-receipt", pk=receipt.pk)
        else:
            status = 422
    else:
        form, usable = _defer_form(request.user, declaration, due=dues.due)
    context = {
        "declaration": declaration,
        "dues": dues,
        "due_rows": _due_rows(dues),
        "form": form,
        "usable": usable,
        "refusal": refusal,
    }
    return render(request, "portal/payments/defer.html", context, status=status)


def _deferred_reservation(user, pk: int) -> dict:
    """An open deferred payment of a trader the user pays for, with its guarantee, else 404."""
    for item in guarantees_for_user(user):
        for reservation in item["open_reservations"]:
            if reservation.pk == pk and reservation.purpose == ReservationPurpose.DEFERRED_PAYMENT:
                return {"guarantee": item["guarantee"], "reservation": reservation}
    raise Http404(_("There is no such deferred payment to settle."))


@payer_required
def deferred_settle_view(request, pk):
    """Confirm (GET) and settle (POST) a deferred payment from the trader's pre-paid account."""
    found = _deferred_reservation(request.user, pk)
    reservation, guarantee = found["reservation"], found["guarantee"]
    status, refusal = 200, None
    if request.method == "POST":
        try:
            deferred_settle(actor=request.user, reservation=reservation)
        except PaymentError as error:
            refusal, status = error.message, error.status
        else:
            messages.success(
                request,
                _("The deferred payment for %(reference)s is settled from the pre-paid account.")
                % {"reference": reservation.reference},
            )
            return redirect(reverse("portal:payment-home") + f"#trader-{guarantee.trader_id}")
    account = _account_row(request.user, guarantee.trader_id)
    context = {
        "reservation": reservation,
        "guarantee": guarantee,
        "balance": account["balance"],
        "account": account["account"],
        "shortfall": max(reservation.amount - account["balance"], 0),
        "refusal": refusal,
    }
    return render(request, "portal/payments/settle.html", context, status=status)


# ----------------------------------------------------------------------------------------- receipts


@payer_required
def receipt_list(request):
    receipts = (
        receipts_for_user(request.user).select_related("declaration__office").order_by("-issued_at", "-pk")
    )
    page = Paginator(receipts, RECEIPTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "portal/payments/receipt_list.html", {"page": page, "receipts": page.object_list})


@payer_required
def receipt_detail(request, pk):
    """One receipt, tax by tax, with its PDF to download."""
    receipt = receipts_for_user(request.user).select_related("declaration__office").filter(pk=pk).first()
    if receipt is None:
        raise Http404(_("There is no such receipt."))
    context = receipt_context(receipt)
    return render(request, "portal/payments/receipt.html", context)
