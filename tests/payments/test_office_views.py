"""The officer-side payment screens under /office/payments/: the cashier's desk, the daybook and the
cash-up, the supervisor's refunds, the reconciliation of bank statements and the revenue report; the
payment panel of the officer's declaration page; the links to them; who may open what."""

import csv
import datetime
import io
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customs.services.users import user_upsert
from declarations.choices import Status
from declarations.models import Declaration
from declarations.services.lifecycle import declaration_reassess
from payments.choices import MatchStatus, PaymentRoute, RefundStatus
from payments.models import BankStatement, CashUp, Entry, Payment, Receipt, Refund
from payments.services.collection import cashier_pay
from payments.services.dues import declaration_dues
from payments.services.ledger import account_balance, prepaid_account
from payments.services.reconciliation import statement_import
from payments.services.refunds import declaration_payments_reconcile
from payments.templatetags.payments_tags import tax_label
from tests.payments.conftest import assessed, fund

pytestmark = pytest.mark.django_db
D = Decimal
TOTAL = D("11558.75")  # the one car of ``item_data`` at 10,000 USD

CASHIER = reverse("payments:cashier")
DAYBOOK = reverse("payments:daybook")
CASH_UP = reverse("payments:cash-up")
REFUNDS = reverse("payments:refunds")
STATEMENTS = reverse("payments:statements")
REVENUE = reverse("payments:revenue")
STATEMENT_HEADER = "value_date,transaction_id,reference,amount,currency,description\n"


@pytest.fixture
def office_world(pay_world):
    """``pay_world`` plus ``supervisor_other`` (TMT01), ``administrator`` and ``root`` (a superuser).

    The administrator is posted at TMA01: ``statements_for_user`` finds nothing for one posted nowhere."""
    users = pay_world["users"]
    users["supervisor_other"] = user_upsert(
        actor=None, username="supervisor_other", roles=["supervisor"], offices=[pay_world["other_office"]]
    )
    users["administrator"] = user_upsert(
        actor=None, username="administrator", roles=["administrator"], offices=[pay_world["office"]]
    )
    users["root"] = user_upsert(actor=None, username="root", roles=[], is_superuser=True)
    return pay_world


def _sign_in(client, verified_login, world, name):
    user = world["users"][name]
    if user.requires_second_factor:
        return verified_login(client, user)
    client.force_login(user)
    return client


def _written() -> tuple:
    """What a payment writes, to compare before and after a refused request."""
    return (
        Payment.objects.count(),
        Entry.objects.count(),
        Receipt.objects.count(),
        CashUp.objects.count(),
        list(Declaration.objects.order_by("pk").values_list("status", flat=True)),
    )


def _pay_form(amount, *, method="cash", tendered="", cheque_number="") -> dict:
    return {
        "payment-method": method,
        "payment-amount": str(amount),
        "payment-tendered": str(tendered),
        "payment-cheque_number": cheque_number,
    }


def _paid_at_desk(world, declaration=None, **fields) -> Payment:
    declaration = declaration or assessed(world)
    return cashier_pay(
        actor=world["users"]["cashier"],
        declaration=declaration,
        method=fields.pop("method", "cash"),
        amount=declaration_dues(declaration).due,
        **fields,
    )


def _pending_refund(world) -> Refund:
    """A declaration paid at the desk, then re-assessed at half the value: the excess waits, per tax."""
    declaration = assessed(world)
    _paid_at_desk(world, declaration)
    declaration_reassess(
        actor=world["users"]["officer"],
        declaration=Declaration.objects.get(pk=declaration.pk),
        changes={"invoice_amount": D("5000"), "item_changes": {"1": {"invoice_price": D("5000")}}},
        reason="Invoice checked: the price was 5,000 USD.",
    )
    assert declaration_payments_reconcile(declaration.pk) == "refund requested"
    return Refund.objects.get(declaration=declaration, status=RefundStatus.PENDING)


def _statement_file(text: str, name="halk-statement.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


# ------------------------------------------------------------------------------------ cashier's desk


def test_the_cashier_finds_a_declaration_by_its_registration_or_assessment_number_or_id(
    client, verified_login, office_world
):
    declaration = assessed(office_world)
    _sign_in(client, verified_login, office_world, "cashier")
    year = declaration.registration_year
    numbers = [
        declaration.number,
        f"tma01  {year} c {declaration.registration_number}",
        f"TMA01 {year} A {declaration.assessment_number}",
        str(declaration.pk),
    ]

    found = [client.get(CASHIER, {"declaration": number}) for number in numbers]

    assert [response.status_code for response in found] == [200, 200, 200, 200]
    assert [response.context["declaration"].pk for response in found] == [declaration.pk] * 4
    content = found[0].content.decode()
    dues = declaration_dues(declaration)
    assert dues.due == TOTAL
    assert '<dd id="cashier-trader">Altyn Asyr HJ <span class="code">(101012345678)</span></dd>' in content
    for tax, amount in dues.assessed_by_tax.items():
        assert f'<th scope="row">{tax_label(tax)}</th>' in content
        assert f"{amount:,.2f}" in content
    assert '<strong id="amount-due" data-cents="1155875">11,558.75 TMT</strong>' in content
    assert 'type="hidden" name="payment-amount" value="11558.75"' in content
    assert f'action="{reverse("payments:cashier-pay", args=[declaration.pk])}"' in content
    assert '<label for="id_payment-tendered">Amount tendered</label>' in content
    assert '<label for="id_payment-cheque_number">Cheque number</label>' in content


def test_an_unknown_number_is_refused_next_to_the_field(client, verified_login, office_world):
    assessed(office_world)
    _sign_in(client, verified_login, office_world, "cashier")

    response = client.get(CASHIER, {"declaration": "TMA01 2026 C 99999"})
    garbage = client.get(CASHIER, {"declaration": "nothing like a number"})

    assert response.status_code == garbage.status_code == 404
    assert response.context["declaration"] is None
    assert response.context["lookup_form"].errors == {
        "declaration": ["No declaration of your offices (TMA01) has this number."]
    }
    assert "payment-form" not in response.content.decode()


def test_the_cashier_takes_cash_and_gets_the_receipt_and_the_change(client, verified_login, office_world):
    declaration = assessed(office_world)
    _sign_in(client, verified_login, office_world, "cashier")

    response = client.post(
        reverse("payments:cashier-pay", args=[declaration.pk]), _pay_form(TOTAL, tendered="11600")
    )

    payment = Payment.objects.get()
    receipt = Receipt.objects.get()
    assert response.status_code == 302
    assert (
        response["Location"] == f"{reverse('payments:cashier-payment', args=[payment.pk])}?tendered=11600.00"
    )
    page = client.get(response["Location"])
    content = page.content.decode()
    assert (payment.route, payment.amount, payment.recorded_by) == (
        PaymentRoute.CASH,
        TOTAL,
        office_world["users"]["cashier"],
    )
    assert receipt.declaration_id == declaration.pk
    assert receipt.number == f"TMA01 {receipt.year} R 1"
    assert Declaration.objects.get(pk=declaration.pk).status == Status.PAID
    assert page.status_code == 200
    assert f'<strong class="code receipt-number" id="receipt-number">{receipt.number}</strong>' in content
    assert f'href="{reverse("receipt-prints:pdf", args=[receipt.pk])}"' in content
    assert ">Print receipt</a>" in content
    assert '<strong id="payment-change">41.25 TMT</strong>' in content
    assert f"Payment of 11558.75 TMT recorded: receipt {receipt.number}." in content


def test_a_cheque_is_taken_with_its_number(client, verified_login, office_world):
    declaration = assessed(office_world)
    _sign_in(client, verified_login, office_world, "cashier")

    response = client.post(
        reverse("payments:cashier-pay", args=[declaration.pk]),
        _pay_form(TOTAL, method="cheque", cheque_number=" CH-000417 "),
    )

    payment = Payment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("payments:cashier-payment", args=[payment.pk])
    assert (payment.route, payment.cheque_number) == (PaymentRoute.CHEQUE, "CH-000417")
    assert "Cheque at the office, cheque no. CH-000417" in client.get(response["Location"]).content.decode()


@pytest.mark.parametrize(
    ("fields", "status", "field", "message"),
    [
        (
            {"method": "cheque"},
            400,
            "cheque_number",
            "Enter the cheque number.",
        ),
        ({"tendered": "100"}, 400, "tendered", "100.00 is less than the amount due, 11558.75."),
        ({"method": "card"}, 400, "method", "Choose cash or cheque."),
        (
            {"amount": "1.00"},
            409,
            "amount",
            "The amount due is now 11,558.75, not 1.00: check it and confirm again.",
        ),
    ],
)
def test_a_refused_payment_shows_the_error_next_to_its_field_and_writes_nothing(
    client, verified_login, office_world, fields, status, field, message
):
    declaration = assessed(office_world)
    _sign_in(client, verified_login, office_world, "cashier")
    before = _written()

    response = client.post(
        reverse("payments:cashier-pay", args=[declaration.pk]),
        _pay_form(fields.pop("amount", TOTAL), **fields),
    )

    form = response.context["payment_form"]
    assert response.status_code == status
    assert form.errors == {field: [message]}
    assert message in response.content.decode()
    assert _written() == before
    # The page offers the amount due now (a stale one is for the cashier to confirm with the payer).
    assert 'type="hidden" name="payment-amount" value="11558.75"' in response.content.decode()
    assert '<strong id="amount-due" data-cents="1155875">11,558.75 TMT</strong>' in response.content.decode()


def test_a_paid_declaration_has_nothing_to_pay_and_a_second_payment_is_refused(
    client, verified_login, office_world
):
    declaration = assessed(office_world)
    _paid_at_desk(office_world, declaration)
    _sign_in(client, verified_login, office_world, "cashier")
    before = _written()

    shown = client.get(CASHIER, {"declaration": declaration.number})
    again = client.post(reverse("payments:cashier-pay", args=[declaration.pk]), _pay_form(TOTAL))

    assert shown.status_code == 200
    assert shown.context["payment_form"] is None
    assert '<p class="message" id="nothing-to-pay">The declaration has nothing to pay.</p>' in (
        shown.content.decode()
    )
    assert again.status_code == 409
    assert again.context["payment_form"] is None
    assert (
        f'<div class="form-errors" role="alert" id="payment-refused">Declaration {declaration.number} cannot '
        "be paid now (status: Paid).</div>"
    ) in again.content.decode()
    assert _written() == before


def test_after_the_cash_up_the_desk_takes_no_more_payments(client, verified_login, office_world):
    declaration = assessed(office_world)
    _sign_in(client, verified_login, office_world, "cashier")
    client.post(
        CASH_UP, {"cash-up-office": "TMA01", "cash-up-counted_cash": "0", "cash-up-counted_cheques": "0"}
    )
    before = _written()

    shown = client.get(CASHIER, {"declaration": declaration.number})
    refused = client.post(reverse("payments:cashier-pay", args=[declaration.pk]), _pay_form(TOTAL))

    assert '<p class="message message--warning" id="day-closed">' in shown.content.decode()
    assert shown.context["payment_form"] is None
    assert refused.status_code == 409
    assert "You have cashed up today at TMA01: no more payments until tomorrow." in refused.content.decode()
    assert _written() == before


def test_a_cashier_of_another_office_neither_finds_nor_pays_the_declaration(
    client, verified_login, office_world
):
    declaration = assessed(office_world)
    _sign_in(client, verified_login, office_world, "cashier_other")
    before = _written()

    found = client.get(CASHIER, {"declaration": declaration.number})
    paid = client.post(reverse("payments:cashier-pay", args=[declaration.pk]), _pay_form(TOTAL))

    assert found.status_code == 404
    assert found.context["lookup_form"].errors["declaration"] == [
        "No declaration of your offices (TMT01) has this number."
    ]
    assert paid.status_code == 404
    assert _written() == before


# -------------------------------------------------------------------------------- daybook, cash-up


def test_the_daybook_lists_the_cashiers_payments_of_today_with_the_totals(
    client, verified_login, office_world
):
    cash = _paid_at_desk(office_world)
    cheque = _paid_at_desk(office_world, method="cheque", cheque_number="CH-1")
    more_cash = _paid_at_desk(office_world)
    # Taken by another cashier of the office: not in this daybook.
    other = user_upsert(actor=None, username="cashier2", roles=["cashier"], offices=[office_world["office"]])
    cashier_pay(
        actor=other,
        declaration=(declaration := assessed(office_world)),
        method="cash",
        amount=declaration_dues(declaration).due,
    )
    _sign_in(client, verified_login, office_world, "cashier")

    response = client.get(DAYBOOK)

    book = response.context["book"]
    content = response.content.decode()
    assert response.status_code == 200
    assert [payment.pk for payment in book.payments] == [cash.pk, cheque.pk, more_cash.pk]
    assert (book.cash, book.cheques, book.total) == (2 * TOTAL, TOTAL, 3 * TOTAL)
    assert '<td class="number" id="daybook-cash">23,117.50</td>' in content
    assert '<td class="number" id="daybook-cheques">11,558.75</td>' in content
    assert '<td class="number" id="daybook-total">34,676.25 TMT</td>' in content
    receipt = cash.receipts.get()
    assert f'<a href="{reverse("receipt-prints:pdf", args=[receipt.pk])}">{receipt.number}</a>' in content
    assert receipt.declaration.number in content
    assert 'Cheque at the office <span class="code">CH-1</span>' in content
    assert 'id="cash-up-form"' in content


def test_the_daybook_reads_as_many_payments_in_the_same_number_of_queries(
    client, verified_login, office_world
):
    _paid_at_desk(office_world)
    _sign_in(client, verified_login, office_world, "cashier")
    with CaptureQueriesContext(connection) as one:
        client.get(DAYBOOK)
    _paid_at_desk(office_world)
    _paid_at_desk(office_world, method="cheque", cheque_number="CH-2")

    with CaptureQueriesContext(connection) as three:
        client.get(DAYBOOK)

    assert len(three) == len(one)


def test_the_cash_up_closes_the_day_with_the_difference(client, verified_login, office_world):
    _paid_at_desk(office_world)
    _paid_at_desk(office_world, method="cheque", cheque_number="CH-7")
    _sign_in(client, verified_login, office_world, "cashier")

    response = client.post(
        CASH_UP,
        {
            "cash-up-office": "TMA01",
            "cash-up-counted_cash": "11550.00",
            "cash-up-counted_cheques": "11558.75",
            "cash-up-note": "Short by 8.75: counted twice.",
        },
    )
    page = client.get(response["Location"])
    again = client.post(
        CASH_UP, {"cash-up-office": "TMA01", "cash-up-counted_cash": "1", "cash-up-counted_cheques": "1"}
    )

    record = CashUp.objects.get()
    content = page.content.decode()
    assert response.status_code == 302
    assert response["Location"] == f"{DAYBOOK}?office=TMA01"
    assert (record.expected_cash, record.expected_cheques, record.counted_cash, record.counted_cheques) == (
        TOTAL,
        TOTAL,
        D("11550.00"),
        TOTAL,
    )
    assert (record.payment_count, record.difference, record.day) == (2, D("-8.75"), timezone.localdate())
    assert record.note == "Short by 8.75: counted twice."
    assert "The day is closed at TMA01. Difference: -8.75 TMT." in content
    assert '<h2 id="cash-up-done-heading">The day is closed</h2>' in content
    assert '<strong id="cash-up-difference" class="difference--nonzero">-8.75 TMT</strong>' in content
    assert "(less than the daybook)" in content
    assert 'id="cash-up-form"' not in content
    assert again.status_code == 302
    assert (
        "You have already cashed up today at this office." in client.get(again["Location"]).content.decode()
    )
    assert CashUp.objects.count() == 1


@pytest.mark.parametrize(
    ("counted_cash", "message"),
    [("", "Enter the cash counted (0 if none)."), ("-5", "Ensure this value is greater than or equal to 0.")],
)
def test_a_cash_up_without_a_valid_count_is_refused_next_to_the_field(
    client, verified_login, office_world, counted_cash, message
):
    _sign_in(client, verified_login, office_world, "cashier")

    response = client.post(
        CASH_UP,
        {"cash-up-office": "TMA01", "cash-up-counted_cash": counted_cash, "cash-up-counted_cheques": "0"},
    )

    assert response.status_code == 400
    assert response.context["cash_up_form"].errors == {"counted_cash": [message]}
    assert message in response.content.decode()
    assert not CashUp.objects.exists()


def test_a_supervisor_reads_any_cashiers_daybook_of_the_office_on_any_day(
    client, verified_login, office_world
):
    payment = _paid_at_desk(office_world)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    cashier = office_world["users"]["cashier"]
    _sign_in(client, verified_login, office_world, "supervisor")

    first = client.get(DAYBOOK)
    today = client.get(DAYBOOK, {"office": "TMA01", "cashier": cashier.pk})
    before = client.get(DAYBOOK, {"office": "TMA01", "cashier": cashier.pk, "day": yesterday.isoformat()})

    assert first.status_code == 200
    assert first.context["book"] is None
    assert 'id="daybook-choose"' in first.content.decode()
    assert [choice[0] for choice in first.context["form"].fields["cashier"].choices] == ["", str(cashier.pk)]
    assert [p.pk for p in today.context["book"].payments] == [payment.pk]
    assert today.context["cash_up_form"] is None
    assert before.context["book"].payments == []
    assert before.context["day"] == yesterday


def test_a_cashier_reads_no_other_cashiers_daybook(client, verified_login, office_world):
    _sign_in(client, verified_login, office_world, "cashier")

    response = client.get(DAYBOOK, {"office": "TMA01", "cashier": office_world["users"]["supervisor"].pk})

    assert response.status_code == 403


# ------------------------------------------------------------------------------------------ refunds


def test_the_supervisor_sees_a_pending_refund_tax_by_tax_and_approves_it(
    client, verified_login, office_world
):
    refund = _pending_refund(office_world)
    _sign_in(client, verified_login, office_world, "supervisor")

    listed = client.get(REFUNDS)
    approved = client.post(reverse("payments:refund-approve", args=[refund.pk]))
    after = client.get(REFUNDS)

    content = listed.content.decode()
    refund.refresh_from_db()
    assert listed.status_code == 200
    assert [row["refund"].pk for row in listed.context["pending"]] == [refund.pk]
    assert sum(D(amount) for amount in refund.by_tax.values()) == refund.amount
    assert f'<strong id="refund-{refund.pk}-amount">{refund.amount:,.2f} TMT</strong>' in content
    for tax, amount in refund.by_tax.items():
        assert f'<th scope="row">{tax_label(tax)}</th><td class="number">{D(amount):,.2f}</td>' in content
    assert f'<label for="id_refuse-{refund.pk}-reason">Reason for refusing</label>' in content
    assert approved.status_code == 302
    assert refund.status == RefundStatus.APPROVED
    assert refund.decided_by == office_world["users"]["supervisor"]
    assert account_balance(prepaid_account(office_world["trader_a"])) == refund.amount
    assert after.context["pending"] == []
    assert [row["refund"].pk for row in after.context["decided"]] == [refund.pk]
    assert "is approved: it is credited to the pre-paid account of Altyn Asyr HJ." in after.content.decode()


def test_a_refusal_needs_its_reason_next_to_the_field_and_then_keeps_it(client, verified_login, office_world):
    refund = _pending_refund(office_world)
    _sign_in(client, verified_login, office_world, "supervisor")
    field = f"refuse-{refund.pk}-reason"

    without = client.post(reverse("payments:refund-refuse", args=[refund.pk]), {field: "  "})
    still = Refund.objects.get(pk=refund.pk).status
    refused = client.post(reverse("payments:refund-refuse", args=[refund.pk]), {field: "Invoice is forged."})
    twice = client.post(reverse("payments:refund-approve", args=[refund.pk]))

    refund.refresh_from_db()
    assert without.status_code == 400
    assert without.context["pending"][0]["refuse_form"].errors == {
        "reason": ["Give the reason for refusing the refund."]
    }
    assert "Give the reason for refusing the refund." in without.content.decode()
    assert still == RefundStatus.PENDING
    assert refused.status_code == 302
    assert (refund.status, refund.reason) == (RefundStatus.REFUSED, "Invoice is forged.")
    assert twice.status_code == 302
    assert "This refund is already refused." in client.get(twice["Location"]).content.decode()
    assert account_balance(prepaid_account(office_world["trader_a"])) == 0


# ---------------------------------------------------------------------------------- reconciliation


def test_a_statement_is_imported_and_each_line_shows_its_match(client, verified_login, office_world):
    fund(office_world, "500.00", transaction_id="HALK-001")
    fund(office_world, "300.00", transaction_id="HALK-002")
    missing = fund(office_world, "200.00", transaction_id="HALK-003").payment
    today = timezone.localdate().isoformat()
    text = (
        STATEMENT_HEADER
        + f"{today},HALK-001,RF00,500.00,TMT,Top-up\n"
        + f"{today},HALK-002,RF00,350.00,tmt,Top-up\n"
        + f"{today},HALK-999,,75.00,TMT,Unknown credit\n"
    )
    _sign_in(client, verified_login, office_world, "supervisor")

    response = client.post(STATEMENTS, {"bank": office_world["bank"].pk, "file": _statement_file(text)})

    statement = BankStatement.objects.get()
    page = client.get(response["Location"])
    content = page.content.decode()
    listed = client.get(STATEMENTS).content.decode()
    assert response.status_code == 302
    assert response["Location"] == reverse("payments:statement", args=[statement.pk])
    assert list(statement.lines.values_list("transaction_id", "match")) == [
        ("HALK-001", MatchStatus.MATCHED),
        ("HALK-002", MatchStatus.AMOUNT_DIFFERS),
        ("HALK-999", MatchStatus.UNMATCHED),
    ]
    assert '<tr class="match-row match-row--matched" data-line="2" data-match="matched">' in content
    assert (
        '<tr class="match-row match-row--amount_differs" data-line="3" data-match="amount_differs">'
        in content
    )
    assert '<tr class="match-row match-row--unmatched" data-line="4" data-match="unmatched">' in content
    assert "Kerwen booked 300.00 TMT." in content
    assert '<td class="number" id="summary-matched">1</td>' in content
    assert '<td class="number" id="summary-amount_differs">1</td>' in content
    assert '<td class="number" id="summary-unmatched">1</td>' in content
    assert '<td class="number" id="summary-rejected_callback">0</td>' in content
    assert '<td class="number" id="summary-total">3</td>' in content
    assert '<td class="number" id="summary-missing">1</td>' in content
    assert [payment.pk for payment in page.context["missing"]] == [missing.pk]
    assert f'<tr class="match-row match-row--missing" data-payment="{missing.pk}">' in content
    assert "halk-statement.csv" in listed
    assert f'<tr data-statement="{statement.pk}" class="statement-row--open">' in listed


def test_a_malformed_statement_is_refused_with_every_problem_and_nothing_imported(
    client, verified_login, office_world
):
    text = STATEMENT_HEADER + "27.11.2026,HALK-1,,abc,TMT,\n2026-11-27,,,1.00,TM,\n"
    _sign_in(client, verified_login, office_world, "administrator")

    response = client.post(STATEMENTS, {"bank": office_world["bank"].pk, "file": _statement_file(text)})
    no_bank = client.post(STATEMENTS, {"file": _statement_file(text)})

    assert response.status_code == 400
    assert response.context["form"].errors == {
        "file": [
            "Line 2, value_date: not a date (YYYY-MM-DD).",
            "Line 2, amount: not an amount.",
            "Line 3, transaction_id: empty.",
            "Line 3, currency: not a three-letter code.",
        ]
    }
    assert "Line 3, transaction_id: empty." in response.content.decode()
    assert no_bank.status_code == 400
    assert no_bank.context["form"].errors == {"bank": ["Choose the bank of the statement."]}
    assert not BankStatement.objects.exists()


# ------------------------------------------------------------------------------------------ revenue


def test_the_revenue_report_charts_the_days_and_totals_by_tax_and_office(
    client, verified_login, office_world
):
    declaration = assessed(office_world)
    _paid_at_desk(office_world, declaration)
    today = timezone.localdate()
    _sign_in(client, verified_login, office_world, "supervisor")

    response = client.get(REVENUE)

    content = response.content.decode()
    report = response.context["report"]
    assert response.status_code == 200
    assert report["total"] == TOTAL
    assert report["by_office"] == {"TMA01": TOTAL}
    assert report["by_tax"] == declaration_dues(declaration).assessed_by_tax
    assert '<strong id="revenue-total">11,558.75 TMT</strong>' in content
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img"' in content
    assert 'id="revenue-chart"' in content
    assert '<title id="revenue-chart-title">Revenue collected per day</title>' in content
    assert content.count('<rect class="chart__bar"') == 30
    for tax in report["by_tax"]:
        assert f'<tr data-tax="{tax}"><th scope="row">{tax_label(tax)}</th>' in content
    assert (
        '<tr data-office="TMA01"><th scope="row" class="code">TMA01</th><td class="number">11,558.75</td>'
        in content
    )
    assert f'<time datetime="{today.isoformat()}">' in content
    assert 'id="revenue-csv"' in content


def test_the_revenue_detail_downloads_as_csv(client, verified_login, office_world):
    declaration = assessed(office_world)
    _paid_at_desk(office_world, declaration)
    today = timezone.localdate()
    _sign_in(client, verified_login, office_world, "administrator")

    response = client.get(
        REVENUE, {"date_from": today.isoformat(), "date_to": today.isoformat(), "format": "csv"}
    )

    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="revenue-{today.isoformat()}-{today.isoformat()}.csv"'
    )
    assert rows == [
        ["office", "tax", "tax_name", "day", "amount", "currency"],
        *[
            ["TMA01", tax, tax_label(tax), today.isoformat(), f"{amount:.2f}", "TMT"]
            for tax, amount in sorted(declaration_dues(declaration).assessed_by_tax.items())
        ],
    ]


def test_a_supervisor_reads_the_revenue_of_their_offices_only(client, verified_login, office_world):
    _paid_at_desk(office_world)
    _sign_in(client, verified_login, office_world, "supervisor_other")

    own = client.get(REVENUE)
    other = client.get(REVENUE, {"office": "TMA01"})
    backwards = client.get(REVENUE, {"date_from": "2026-02-01", "date_to": "2026-01-01"})

    assert own.context["report"]["total"] == 0
    assert [choice[0] for choice in own.context["form"].fields["office"].choices] == ["", "TMT01"]
    assert other.status_code == 400
    assert other.context["form"].errors == {"office": ["Choose one of your offices."]}
    assert backwards.status_code == 400
    assert backwards.context["form"].errors == {"date_to": ["The end of the period is before its start."]}


# --------------------------------------------------------------------- declaration panel, navigation


def test_the_declaration_panel_links_a_cashier_to_the_desk_with_the_declaration(
    client, verified_login, office_world
):
    declaration = assessed(office_world)
    both = user_upsert(
        actor=None, username="both", roles=["officer", "cashier"], offices=[office_world["office"]]
    )
    url = reverse("declarations:detail", args=[declaration.pk])
    link = f'href="{CASHIER}?declaration={declaration.pk}"'

    verified_login(client, both)
    as_cashier = client.get(url).content.decode()
    verified_login(client, office_world["users"]["officer"])
    as_officer = client.get(url).content.decode()
    _paid_at_desk(office_world, declaration)
    verified_login(client, both)
    once_paid = client.get(url).content.decode()

    assert link in as_cashier
    assert "Take the payment of 11,558.75 TMT at the desk" in as_cashier
    assert link not in as_officer
    assert 'id="payment-awaited"' in as_officer
    assert link not in once_paid


@pytest.mark.parametrize(
    ("name", "links"),
    [
        ("cashier", {"cashier-link", "daybook-link", "home-cashier-link", "home-daybook-link"}),
        (
            "supervisor",
            {
                "daybook-link",
                "refunds-link",
                "statements-link",
                "revenue-link",
                "home-refunds-link",
                "home-daybooks-link",
                "home-statements-link",
                "home-revenue-link",
            },
        ),
        (
            "administrator",
            {"statements-link", "revenue-link", "home-admin-statements-link", "home-admin-revenue-link"},
        ),
        ("officer", set()),
    ],
)
def test_the_menu_and_the_home_page_link_the_payment_screens_of_the_users_roles(
    client, verified_login, office_world, name, links
):
    every = {
        "cashier-link",
        "daybook-link",
        "refunds-link",
        "statements-link",
        "revenue-link",
        "home-cashier-link",
        "home-daybook-link",
        "home-refunds-link",
        "home-daybooks-link",
        "home-statements-link",
        "home-revenue-link",
        "home-admin-statements-link",
        "home-admin-revenue-link",
    }
    _sign_in(client, verified_login, office_world, name)

    content = client.get(reverse("officer-home")).content.decode()

    assert {link for link in every if f'id="{link}"' in content} == links


# ----------------------------------------------------------------------------- who may open what


@pytest.fixture
def screens(office_world):
    """Every screen's URL, with a declaration to find, a payment, a refund and a statement to show."""
    refund = _pending_refund(office_world)
    payment = Payment.objects.get(receipts__declaration=refund.declaration)
    declaration = assessed(office_world)
    fund(office_world, "100.00", transaction_id="HALK-100")
    statement = statement_import(
        actor=office_world["users"]["supervisor"],
        bank=office_world["bank"],
        file_name="s.csv",
        content=f"{STATEMENT_HEADER}{timezone.localdate()},HALK-100,,100.00,TMT,\n".encode(),
    )
    cashier = office_world["users"]["cashier"]
    return {
        "world": office_world,
        "declaration": declaration,
        "refund": refund,
        "urls": {
            "cashier": f"{CASHIER}?declaration={declaration.pk}",
            "payment": reverse("payments:cashier-payment", args=[payment.pk]),
            "daybook": f"{DAYBOOK}?office=TMA01&cashier={cashier.pk}",
            "refunds": REFUNDS,
            "statements": STATEMENTS,
            "statement": reverse("payments:statement", args=[statement.pk]),
            "revenue": REVENUE,
            "revenue_csv": f"{REVENUE}?format=csv",
        },
    }


SCREENS = ["cashier", "payment", "daybook", "refunds", "statements", "statement", "revenue", "revenue_csv"]
# Status per screen, in the order of SCREENS.
MATRIX = {
    "trader_a": [403, 403, 403, 403, 403, 403, 403, 403],
    "broker": [403, 403, 403, 403, 403, 403, 403, 403],
    "officer": [403, 403, 403, 403, 403, 403, 403, 403],
    "cashier": [200, 200, 200, 403, 403, 403, 403, 403],
    "cashier_other": [404, 404, 404, 403, 403, 403, 403, 403],
    "supervisor": [403, 200, 200, 200, 200, 200, 200, 200],
    "supervisor_other": [403, 404, 404, 200, 200, 200, 200, 200],
    "administrator": [403, 403, 403, 403, 200, 200, 200, 200],
    "root": [200, 200, 200, 200, 200, 200, 200, 200],
}


def test_an_anonymous_visitor_is_sent_to_sign_in_from_every_screen(client, screens):
    for url in screens["urls"].values():
        response = client.get(url)

        location = urlsplit(response["Location"])
        assert response.status_code == 302, url
        assert (location.path, parse_qs(location.query)) == (reverse("login"), {"next": [url]})


@pytest.mark.parametrize("name", list(MATRIX))
def test_every_screen_opens_for_its_roles_at_their_offices_only(client, verified_login, screens, name):
    _sign_in(client, verified_login, screens["world"], name)

    statuses = {screen: client.get(screens["urls"][screen]).status_code for screen in SCREENS}

    assert statuses == dict(zip(SCREENS, MATRIX[name], strict=True))


def test_a_cashier_without_the_verified_second_factor_is_sent_to_verify_it(client, screens):
    client.force_login(screens["world"]["users"]["cashier"])

    statuses = [client.get(url) for url in screens["urls"].values()]

    assert {response.status_code for response in statuses} == {302}
    assert all(response["Location"].startswith(reverse("second-factor-setup")) for response in statuses)


def _writes(screens) -> list[tuple[str, dict]]:
    declaration, refund = screens["declaration"], screens["refund"]
    reason = f"refuse-{refund.pk}-reason"
    return [
        (reverse("payments:cashier-pay", args=[declaration.pk]), _pay_form(TOTAL)),
        (CASH_UP, {"cash-up-office": "TMA01", "cash-up-counted_cash": "0", "cash-up-counted_cheques": "0"}),
        (reverse("payments:refund-approve", args=[refund.pk]), {}),
        (reverse("payments:refund-refuse", args=[refund.pk]), {reason: "No."}),
        (
            STATEMENTS,
            {
                "bank": screens["world"]["bank"].pk,
                "file": _statement_file(f"{STATEMENT_HEADER}2026-11-27,HALK-7,,1.00,TMT,\n"),
            },
        ),
    ]


# Status per write (pay, cash-up, approve, refuse, statement upload) of those who may not make it.
REFUSED_WRITES = {
    "trader_a": [403, 403, 403, 403, 403],
    "officer": [403, 403, 403, 403, 403],
    "cashier": [None, None, 403, 403, 403],
    "cashier_other": [404, 404, 403, 403, 403],
    "supervisor": [403, 403, None, None, None],
    "supervisor_other": [403, 403, 404, 404, None],
    "administrator": [403, 403, 403, 403, None],
}


@pytest.mark.parametrize("name", list(REFUSED_WRITES))
def test_a_refused_write_changes_nothing(client, verified_login, screens, name):
    _sign_in(client, verified_login, screens["world"], name)
    before = (_written(), list(Refund.objects.values_list("pk", "status")), BankStatement.objects.count())
    expected = REFUSED_WRITES[name]

    statuses = [
        client.post(url, data).status_code if status is not None else None
        for (url, data), status in zip(_writes(screens), expected, strict=True)
    ]

    assert statuses == expected
    assert (
        _written(),
        list(Refund.objects.values_list("pk", "status")),
        BankStatement.objects.count(),
    ) == before


def test_an_anonymous_write_is_sent_to_sign_in_and_changes_nothing(client, screens):
    before = (_written(), list(Refund.objects.values_list("pk", "status")), BankStatement.objects.count())

    statuses = [client.post(url, data).status_code for url, data in _writes(screens)]

    assert statuses == [302] * 5
    assert (
        _written(),
        list(Refund.objects.values_list("pk", "status")),
        BankStatement.objects.count(),
    ) == before
