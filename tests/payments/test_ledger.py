"""The ledger: balanced journals, append-only in the database, reversals, and the property that every
balance sums to zero across the double entry (hypothesis)."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.db.utils import ProgrammingError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from payments.choices import JournalKind
from payments.models import Entry, Journal
from payments.services.collection import cashier_pay, deferred_pay, prepaid_pay
from payments.services.errors import PaymentError
from payments.services.ledger import (
    Line,
    account_balance,
    cash_account,
    journal_post,
    journal_reverse,
    prepaid_account,
    revenue_account,
)
from tests.payments.conftest import assessed, fund

D = Decimal
pytestmark = pytest.mark.django_db

cents = st.integers(min_value=-10_000_000, max_value=10_000_000).filter(bool).map(lambda n: D(n).scaleb(-2))


def test_an_unbalanced_journal_is_refused_before_anything_is_written(pay_world):
    account = prepaid_account(pay_world["trader_a"])
    with pytest.raises(ValueError, match="Unbalanced"):
        journal_post(kind=JournalKind.PAYMENT, lines=[Line(account=account, amount=D("1.00"))])
    with pytest.raises(ValueError, match="rounded"):
        journal_post(
            kind=JournalKind.PAYMENT,
            lines=[Line(account=account, amount=D("1.005")), Line(account=account, amount=D("-1.005"))],
        )
    assert not Journal.objects.exists() and not Entry.objects.exists()


def test_the_database_refuses_an_unbalanced_journal_at_commit(pay_world):
    account = prepaid_account(pay_world["trader_a"])
    journal = Journal.objects.create(kind=JournalKind.PAYMENT, occurred_at="2026-12-01T10:00:00Z")
    with pytest.raises(IntegrityError, match="unbalanced"), transaction.atomic():
        Entry.objects.create(
            journal=journal, account=account, amount=D("5.00"), occurred_at=journal.occurred_at
        )
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS payments_entry_balanced IMMEDIATE")


def test_entries_and_journals_cannot_be_changed_or_deleted(pay_world):
    fund(pay_world, "50.00")
    entry = Entry.objects.first()
    with pytest.raises(ProgrammingError, match="append-only"), transaction.atomic():
        Entry.objects.filter(pk=entry.pk).update(amount=D("1.00"))
    with pytest.raises(ProgrammingError, match="append-only"), transaction.atomic():
        Entry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(ProgrammingError, match="append-only"), transaction.atomic():
        Journal.objects.filter(pk=entry.journal_id).update(memo="edited")
    assert Entry.objects.get(pk=entry.pk).amount == entry.amount


def test_a_correction_is_a_reversing_journal(pay_world):
    fund(pay_world, "80.00")
    account = prepaid_account(pay_world["trader_a"])
    journal = Journal.objects.get(kind=JournalKind.TOP_UP)
    reversal = journal_reverse(
        actor=pay_world["users"]["supervisor"], journal=journal, reason="Bank recalled it"
    )
    assert reversal.reverses_id == journal.pk and reversal.kind == JournalKind.REVERSAL
    assert account_balance(account) == D("0.00")
    assert Entry.objects.filter(journal=journal).count() == 2  # the original is still there
    with pytest.raises(ValueError, match="already reversed"):
        journal_reverse(actor=None, journal=journal, reason="twice")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(journals=st.lists(st.lists(cents, min_size=1, max_size=5), min_size=1, max_size=6))
def test_every_balance_sums_to_zero_across_the_double_entry(pay_world, journals):
    """Random journals over the account kinds: each journal sums to zero, so do all entries, and the
    balances on the normal sides add up (debit-normal balances equal credit-normal ones)."""
    accounts = [
        prepaid_account(pay_world["trader_a"]),
        prepaid_account(pay_world["trader_b"]),
        revenue_account("import_duty"),
        revenue_account("vat"),
        cash_account(pay_world["office"]),
        pay_world["guarantee"].account,
    ]
    for number, amounts in enumerate(journals):
        lines = [
            Line(account=accounts[(number + index) % len(accounts)], amount=a)
            for index, a in enumerate(amounts)
        ]
        lines.append(Line(account=accounts[(number + 3) % len(accounts)], amount=-sum(amounts, D(0))))
        if sum(line.amount for line in lines) == 0 and all(line.amount for line in lines):
            journal_post(kind=JournalKind.PAYMENT, lines=lines)
    assert Entry.objects.aggregate(total=Sum("amount"))["total"] in (None, D("0.00"))
    for journal_total in Journal.objects.annotate(total=Sum("entries__amount")).values_list(
        "total", flat=True
    ):
        assert journal_total in (None, D("0.00"))
    debit_side = sum((account_balance(a) for a in accounts if a.is_debit_normal), D(0))
    credit_side = sum((account_balance(a) for a in accounts if not a.is_debit_normal), D(0))
    assert debit_side == credit_side


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(["top_up", "prepaid", "cash", "deferred"]), st.integers(1, 400_000)),
        min_size=1,
        max_size=5,
    )
)
def test_the_payment_routes_keep_the_ledger_balanced(pay_world, steps):
    """Whatever mix of routes is taken (and whichever are refused), the whole ledger sums to zero and
    every declaration paid has been credited exactly its assessed total."""
    for route, amount in steps:
        try:
            if route == "top_up":
                fund(pay_world, D(amount).scaleb(-2))
                continue
            declaration = assessed(pay_world)
            if route == "prepaid":
                prepaid_pay(actor=pay_world["users"]["trader_a"], declaration=declaration)
            elif route == "cash":
                cashier_pay(
                    actor=pay_world["users"]["cashier"],
                    declaration=declaration,
                    method="cash",
                    amount=declaration.total_taxes,
                )
            else:
                deferred_pay(
                    actor=pay_world["users"]["trader_a"],
                    declaration=declaration,
                    guarantee=pay_world["guarantee"],
                )
        except PaymentError:
            pass  # refused (short of money): nothing was written, which the sums below also check
    assert Entry.objects.aggregate(total=Sum("amount"))["total"] in (None, D("0.00"))
    credited = (
        Entry.objects.filter(account__kind="revenue")
        .values("declaration")
        .annotate(total=Sum("amount"))
        .values_list("declaration__total_taxes", "total")
    )
    for total_taxes, credit in credited:
        assert -credit == total_taxes
