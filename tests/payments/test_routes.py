"""The four ways to pay an assessed declaration, and what each writes."""

from decimal import Decimal

import pytest

from declarations.choices import Status
from declarations.models import Declaration
from payments.choices import AccountKind, OrderStatus, PaymentRoute, ReservationStatus
from payments.models import CashUp, Entry, Payment, Receipt
from payments.services.cashier import cash_up
from payments.services.collection import cashier_pay, deferred_pay, deferred_settle, prepaid_pay
from payments.services.dues import declaration_dues
from payments.services.errors import InsufficientFunds, PaymentError, PaymentInvalid
from payments.services.guarantees import guarantee_available
from payments.services.ledger import account_balance, prepaid_account
from payments.services.orders import payment_order_create
from tests.payments.conftest import assessed, control_cleared, fund

D = Decimal
pytestmark = pytest.mark.django_db


def _ledger_sums_to_zero():
    return sum(Entry.objects.values_list("amount", flat=True), D(0)) == 0


def test_prepaid_pays_at_once_and_releases_a_cleared_declaration(
    pay_world, django_capture_on_commit_callbacks
):
    declaration = control_cleared(assessed(pay_world), lane="green")
    due = declaration.total_taxes
    fund(pay_world, due + D("100.00"))
    with django_capture_on_commit_callbacks():
        payment = prepaid_pay(actor=pay_world["users"]["trader_a"], declaration=declaration)
    declaration.refresh_from_db()
    assert declaration.status == Status.RELEASED
    assert payment.route == PaymentRoute.PREPAID and payment.amount == due
    assert account_balance(prepaid_account(pay_world["trader_a"])) == D("100.00")
    receipt = Receipt.objects.get(declaration=declaration)
    assert receipt.number == f"TMA01 {receipt.year} R 2"  # the top-up's receipt was R 1
    assert declaration_dues(declaration).due == 0
    assert _ledger_sums_to_zero()


def test_prepaid_short_is_refused_with_the_shortfall_and_writes_nothing(pay_world):
    declaration = assessed(pay_world)
    fund(pay_world, "10.00")
    entries, payments = Entry.objects.count(), Payment.objects.count()
    with pytest.raises(InsufficientFunds) as refused:
        prepaid_pay(actor=pay_world["users"]["trader_a"], declaration=declaration)
    assert refused.value.shortfall == declaration.total_taxes - D("10.00")
    assert (Entry.objects.count(), Payment.objects.count()) == (entries, payments)
    assert Declaration.objects.get(pk=declaration.pk).status == Status.ASSESSED


def test_cashier_takes_cash_and_revenue_is_credited_per_tax(pay_world):
    declaration = assessed(pay_world)
    payment = cashier_pay(
        actor=pay_world["users"]["cashier"],
        declaration=declaration,
        method="cash",
        amount=declaration.total_taxes,
    )
    assert payment.route == PaymentRoute.CASH
    revenue = {
        entry.tax_type: -entry.amount
        for entry in Entry.objects.filter(journal=payment.journal, account__kind=AccountKind.REVENUE)
    }
    assessed_by_tax = declaration_dues(declaration).assessed_by_tax
    assert revenue == assessed_by_tax
    assert Declaration.objects.get(pk=declaration.pk).status == Status.PAID


def test_cashier_of_another_office_and_a_stale_amount_are_refused(pay_world):
    declaration = assessed(pay_world)
    with pytest.raises(PaymentError) as other:
        cashier_pay(
            actor=pay_world["users"]["cashier_other"], declaration=declaration, method="cash", amount="1.00"
        )
    assert other.value.code == "not_authorised"
    with pytest.raises(PaymentError) as stale:
        cashier_pay(
            actor=pay_world["users"]["cashier"], declaration=declaration, method="cash", amount="1.00"
        )
    assert stale.value.code == "amount_changed"
    assert not Payment.objects.exists()


def test_deferred_reserves_on_the_guarantee_and_settles_later(pay_world):
    declaration = assessed(pay_world)
    due = declaration.total_taxes
    guarantee = pay_world["guarantee"]
    payment = deferred_pay(actor=pay_world["users"]["trader_a"], declaration=declaration, guarantee=guarantee)
    assert payment.route == PaymentRoute.DEFERRED
    assert guarantee_available(guarantee) == D("100000.00") - due
    assert account_balance(guarantee.account) == due
    reservation = guarantee.reservations.get()
    fund(pay_world, due)
    deferred_settle(actor=pay_world["users"]["trader_a"], reservation=reservation)
    reservation.refresh_from_db()
    assert reservation.status == ReservationStatus.SETTLED
    assert guarantee_available(guarantee) == D("100000.00")
    assert account_balance(guarantee.account) == 0
    assert _ledger_sums_to_zero()


def test_the_amount_the_payer_saw_is_checked_under_the_lock(pay_world):
    declaration = assessed(pay_world)
    fund(pay_world, declaration.total_taxes)
    with pytest.raises(PaymentError) as changed:
        prepaid_pay(actor=pay_world["users"]["trader_a"], declaration=declaration, expected_amount="100.00")
    assert (changed.value.code, changed.value.field) == ("amount_changed", "amount")
    assert not Payment.objects.filter(route=PaymentRoute.PREPAID).exists()
    payment = prepaid_pay(
        actor=pay_world["users"]["trader_a"], declaration=declaration, expected_amount=declaration.total_taxes
    )
    assert payment.amount == declaration.total_taxes


def test_a_declaration_in_an_open_bank_order_is_not_paid_again_from_the_portal(pay_world):
    declaration = assessed(pay_world)
    fund(pay_world, declaration.total_taxes)
    order = payment_order_create(actor=pay_world["users"]["trader_a"], declarations=[declaration])
    for pay in (
        lambda: prepaid_pay(actor=pay_world["users"]["trader_a"], declaration=declaration),
        lambda: deferred_pay(
            actor=pay_world["users"]["trader_a"], declaration=declaration, guarantee=pay_world["guarantee"]
        ),
    ):
        with pytest.raises(PaymentError) as refused:
            pay()
        assert refused.value.code == "already_ordered" and order.reference in refused.value.message
    assert not Payment.objects.exclude(route=PaymentRoute.EPAYMENT).exists()


def test_the_cashier_takes_it_and_cancels_the_open_bank_order(pay_world):
    declaration = assessed(pay_world)
    order = payment_order_create(actor=pay_world["users"]["trader_a"], declarations=[declaration])
    cashier_pay(
        actor=pay_world["users"]["cashier"], declaration=declaration, method="cash", amount=order.amount
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "-5", "1e30", "12.345", "abc", ""])
def test_a_malformed_amount_is_refused_naming_the_field(pay_world, amount):
    declaration = assessed(pay_world)
    with pytest.raises(PaymentInvalid) as refused:
        cashier_pay(
            actor=pay_world["users"]["cashier"], declaration=declaration, method="cash", amount=amount
        )
    assert refused.value.field == "amount"
    with pytest.raises(PaymentInvalid) as counted:
        cash_up(
            actor=pay_world["users"]["cashier"],
            office=pay_world["office"],
            counted_cash=amount,
            counted_cheques="0",
        )
    assert counted.value.field == "counted_cash"
    assert not Payment.objects.exists() and not CashUp.objects.exists()


def test_an_inactive_bank_and_a_bad_currency_book_nothing(pay_world):
    from payments.models import BankCallback
    from payments.services.errors import CallbackRejected
    from payments.services.orders import bank_callback_process, top_up_order_create
    from tests.payments.conftest import signed

    order = top_up_order_create(
        actor=pay_world["users"]["trader_a"],
        trader=pay_world["trader_a"],
        amount="10.00",
        office=pay_world["office"],
    )
    body = {"transaction_id": "T-1", "reference": order.reference, "amount": "10.00", "currency": "TMTX"}
    with pytest.raises(CallbackRejected) as currency:
        bank_callback_process(
            bank=pay_world["bank"], **dict(zip(("body", "timestamp", "signature"), signed(body), strict=True))
        )
    assert (currency.value.code, currency.value.status) == ("invalid_currency", 400)
    bank = pay_world["bank"]
    bank.active = False
    bank.save()
    with pytest.raises(CallbackRejected) as inactive:
        bank_callback_process(
            bank=bank, **dict(zip(("body", "timestamp", "signature"), signed(body), strict=True))
        )
    assert (inactive.value.code, inactive.value.status) == ("bank_inactive", 403)
    assert not Payment.objects.exists()
    assert list(BankCallback.objects.values_list("error_code", flat=True)) == ["invalid_currency"]


def test_the_statement_pages_carry_the_running_balance(pay_world):
    from payments.selectors import account_statement

    for amount in ("10.00", "20.00", "30.00"):
        fund(pay_world, amount)
    account = prepaid_account(pay_world["trader_a"])
    first = account_statement(account, limit=2)
    second = account_statement(account, limit=2, offset=2)
    assert [(row["amount"], row["balance"]) for row in first] == [
        (D("30.00"), D("60.00")),
        (D("20.00"), D("30.00")),
    ]
    assert [(row["amount"], row["balance"]) for row in second] == [(D("10.00"), D("10.00"))]
