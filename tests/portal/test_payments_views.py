"""The payer's payment screens in the portal: the payments page, the pre-paid account's statement, payment
orders and top-ups, paying from the account, deferring against a guarantee and settling it, receipts;
who may see and do what (an authorisation matrix over every payment URL)."""

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from customs.services.users import user_upsert
from declarations.choices import Status
from declarations.models import Declaration
from payments.choices import OrderKind, OrderStatus, PaymentRoute, ReservationStatus
from payments.models import Entry, GuaranteeReservation, Payment, PaymentOrder, Receipt
from payments.services.collection import deferred_pay, prepaid_pay
from payments.services.guarantees import guarantee_create
from payments.services.ledger import account_balance, prepaid_account
from payments.services.orders import payment_order_create, reference_valid
from tests.customs.factories import BrokerAuthorisationFactory, BrokerFactory
from tests.payments import conftest as payments_conftest
from tests.payments.conftest import assessed, fund

# The payments world (a bank, a guarantee of trader A, cashiers) on top of the portal's ``world``.
pay_world = payments_conftest.pay_world

pytestmark = pytest.mark.django_db
D = Decimal
DUE = D("11558.75")  # one car of 10,000 USD (tests/declarations/conftest.py), assessed at TMA01


def _counts():
    return (
        Payment.objects.count(),
        Entry.objects.count(),
        Receipt.objects.count(),
        PaymentOrder.objects.count(),
        GuaranteeReservation.objects.count(),
    )


def _html(response) -> str:
    return response.content.decode()


def _element(html: str, element_id: str) -> str:
    """The text inside the element with ``element_id`` (tags stripped, spaces squeezed)."""
    match = re.search(
        r'id="' + re.escape(element_id) + r'"[^>]*>(.*?)</(?:dd|td|p|div|strong|span|h1|h3)>', html, re.S
    )
    assert match, f"no element #{element_id}"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


def _paying_broker(pay_world):
    """A broker user whose broker trader A authorised for payments (the world's broker is authorised for
    import and export only)."""
    broker = BrokerFactory(name="Pay Brokers", licence_number="BR-0100")
    BrokerAuthorisationFactory(broker=broker, trader=pay_world["trader_a"], scope=["payment"])
    return user_upsert(actor=None, username="broker_paying", roles=["broker_user"], broker=broker)


# ---------------------------------------------------------------------------------------- the page


def test_the_payments_page_shows_balance_dues_guarantee_and_open_orders(client, pay_world):
    fund(pay_world, "250.00")
    due = assessed(pay_world)
    ordered = assessed(pay_world)
    order = payment_order_create(actor=pay_world["users"]["trader_a"], declarations=[ordered])
    trader = pay_world["trader_a"]
    guarantee = pay_world["guarantee"]
    client.force_login(pay_world["users"]["trader_a"])

    response = client.get(reverse("portal:payment-home"))

    html = _html(response)
    assert response.status_code == 200
    assert due.total_taxes == DUE
    assert _element(html, f"balance-{trader.pk}") == "250.00 TMT"
    assert _element(html, f"due-{due.pk}") == "11,558.75 TMT"
    assert f'href="{reverse("portal:payment-prepaid", args=[due.pk])}"' in html
    assert f'href="{reverse("portal:payment-defer", args=[due.pk])}"' in html
    assert (
        f'<input type="checkbox" name="declarations" value="{due.pk}" id="order-declaration-{due.pk}">'
        in html
    )
    assert f'<label for="order-declaration-{due.pk}">' in html
    # The ordered declaration is shown in its order, not offered for a second one.
    assert f'id="order-declaration-{ordered.pk}"' not in html
    assert f"In order {order.reference}" in html
    assert f'data-order="{order.reference}"' in html
    assert _element(html, f"available-{guarantee.pk}") == "100,000.00"
    assert _element(html, f"reserved-{guarantee.pk}") == "0.00"
    assert html.count('<section class="panel" id="trader-') == 1


def test_without_a_guarantee_for_deferral_no_defer_button_is_offered(client, pay_world):
    from payments.models import Guarantee

    Guarantee.objects.filter(pk=pay_world["guarantee"].pk).update(allows_deferred_payment=False)
    declaration = assessed(pay_world)
    client.force_login(pay_world["users"]["trader_a"])

    html = _html(client.get(reverse("portal:payment-home")))

    assert f'href="{reverse("portal:payment-prepaid", args=[declaration.pk])}"' in html
    assert f'id="defer-{declaration.pk}"' not in html


def test_select_ticks_the_declaration_for_an_order(client, pay_world):
    declaration = assessed(pay_world)
    client.force_login(pay_world["users"]["trader_a"])

    html = _html(client.get(reverse("portal:payment-home") + f"?select={declaration.pk}"))

    assert f'value="{declaration.pk}" id="order-declaration-{declaration.pk}" checked>' in html


def test_trader_b_sees_only_its_own_account_and_nothing_of_trader_a(client, pay_world):
    declaration = assessed(pay_world)
    fund(pay_world, "999.00")
    client.force_login(pay_world["users"]["trader_b"])

    html = _html(client.get(reverse("portal:payment-home")))

    assert _element(html, f"balance-{pay_world['trader_b'].pk}") == "0.00 TMT"
    assert f'id="balance-{pay_world["trader_a"].pk}"' not in html
    assert declaration.number not in html
    assert "GRN-0001" not in html
    assert "999.00" not in html


def test_a_broker_authorised_for_payments_sees_trader_as_section(client, pay_world):
    declaration = assessed(pay_world)
    client.force_login(_paying_broker(pay_world))

    html = _html(client.get(reverse("portal:payment-home")))

    assert f'id="trader-{pay_world["trader_a"].pk}"' in html
    assert _element(html, f"due-{declaration.pk}") == "11,558.75 TMT"


def test_a_broker_without_the_payment_authorisation_is_refused(client, pay_world):
    client.force_login(pay_world["users"]["broker"])  # authorised by A for import and export only

    response = client.get(reverse("portal:payment-home"))

    assert response.status_code == 403
    assert "No trader has authorised your broker for payments today." in _html(response)


def test_the_portal_navigation_and_home_link_to_payments(client, pay_world):
    client.force_login(pay_world["users"]["trader_a"])
    url = reverse("portal:payment-home")

    home = _html(client.get(reverse("portal:home")))
    payments = _html(client.get(url))

    assert f'<a href="{url}" id="nav-payments">Payments</a>' in home
    assert f'id="home-payments" href="{url}"' in home
    assert f'<a href="{url}" id="nav-payments" aria-current="page">Payments</a>' in payments


# ---------------------------------------------------------------------------------------- statement


def test_the_statement_lists_entries_newest_first_with_the_running_balance(client, pay_world):
    fund(pay_world, "20000.00")
    declaration = assessed(pay_world)
    prepaid_pay(actor=pay_world["users"]["trader_a"], declaration=declaration)
    fund(pay_world, "100.00")
    client.force_login(pay_world["users"]["trader_a"])

    response = client.get(reverse("portal:payment-statement", args=[pay_world["trader_a"].pk]))

    html = _html(response)
    rows = [
        [
            " ".join(re.sub(r"<[^>]+>", " ", cell).split())
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        for row in re.findall(r"<tr data-entry=.*?</tr>", html, re.S)
    ]
    assert response.status_code == 200
    assert _element(html, "statement-balance") == "8,541.25 TMT"
    assert [row[1:] for row in rows] == [
        ["Top-up of a pre-paid account", "—", "100.00", "8,541.25"],
        ["Payment of duties and taxes", declaration.number, "-11,558.75", "8,441.25"],
        ["Top-up of a pre-paid account", "—", "20,000.00", "20,000.00"],
    ]


def test_the_statement_of_another_traders_account_is_404(client, pay_world):
    fund(pay_world, "20000.00")
    client.force_login(pay_world["users"]["trader_b"])

    response = client.get(reverse("portal:payment-statement", args=[pay_world["trader_a"].pk]))

    assert response.status_code == 404


# ------------------------------------------------------------------------------------ pay from account


def test_the_confirm_page_shows_the_taxes_due_and_the_balance(client, pay_world):
    fund(pay_world, "12000.00")
    declaration = assessed(pay_world)
    client.force_login(pay_world["users"]["trader_a"])

    response = client.get(reverse("portal:payment-prepaid", args=[declaration.pk]))

    html = _html(response)
    assert response.status_code == 200
    assert re.findall(r'<tr data-tax="([a-z_]+)">', html) == ["customs_fee", "excise", "import_duty", "vat"]
    assert _element(html, "due-total") == "11,558.75 TMT"
    assert _element(html, "prepaid-balance") == "12,000.00 TMT"
    assert _element(html, "prepaid-balance-after") == "441.25 TMT"
    assert 'name="expected_amount" value="11558.75"' in html
    assert 'id="prepaid-confirm"' in html


def test_paying_from_the_account_pays_and_shows_the_receipt_with_its_pdf(client, pay_world):
    fund(pay_world, "12000.00")
    declaration = assessed(pay_world)
    client.force_login(pay_world["users"]["trader_a"])

    response = client.post(
        reverse("portal:payment-prepaid", args=[declaration.pk]), {"expected_amount": "11558.75"}
    )

    payment = Payment.objects.get(route=PaymentRoute.PREPAID)
    receipt = Receipt.objects.get(declaration=declaration)
    page = client.get(response["Location"])
    html = _html(page)
    declaration.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:payment-receipt", args=[receipt.pk])
    assert payment.amount == DUE
    assert payment.recorded_by == pay_world["users"]["trader_a"]
    assert declaration.status == Status.PAID
    assert account_balance(prepaid_account(pay_world["trader_a"])) == D("441.25")
    assert _element(html, "receipt-number") == receipt.number
    assert _element(html, "receipt-amount") == "11,558.75 TMT"
    assert _element(html, "receipt-route") == "Pre-paid account"
    assert f'href="{reverse("receipt-prints:pdf", args=[receipt.pk])}?download=1"' in html
    assert "Download receipt (PDF)" in html
    assert f"Receipt {receipt.number}." in html  # the success message


def test_paying_from_a_short_account_shows_the_shortfall_and_writes_nothing(client, pay_world):
    fund(pay_world, "10.00")
    declaration = assessed(pay_world)
    before = _counts()
    client.force_login(pay_world["users"]["trader_a"])
    url = reverse("portal:payment-prepaid", args=[declaration.pk])

    page = _html(client.get(url))
    response = client.post(url, {"expected_amount": "11558.75"})

    html = _html(response)
    assert _element(page, "prepaid-shortfall") == "11,548.75 TMT"
    assert 'id="prepaid-confirm"' not in page
    assert (
        f'href="{reverse("portal:payment-top-up")}?trader={declaration.trader_id}&amp;amount=11548.75' in page
    )
    assert response.status_code == 409
    assert "Top it up by 11,548.75 or pay another way." in _element(html, "payment-refused")
    assert _element(html, "prepaid-shortfall") == "11,548.75 TMT"
    assert _counts() == before
    assert Declaration.objects.get(pk=declaration.pk).status == Status.ASSESSED


def test_a_changed_amount_due_is_not_paid(client, pay_world):
    fund(pay_world, "12000.00")
    declaration = assessed(pay_world)
    before = _counts()
    client.force_login(pay_world["users"]["trader_a"])

    response = client.post(
        reverse("portal:payment-prepaid", args=[declaration.pk]), {"expected_amount": "100.00"}
    )

    assert response.status_code == 409
    assert "The amount due changed since you opened this page." in _html(response)
    assert _counts() == before


def test_trader_b_cannot_see_or_pay_trader_as_declaration(client, pay_world):
    fund(pay_world, "12000.00")
    fund(pay_world, "12000.00", trader="trader_b")
    declaration = assessed(pay_world)
    before = _counts()
    client.force_login(pay_world["users"]["trader_b"])
    url = reverse("portal:payment-prepaid", args=[declaration.pk])

    shown = client.get(url)
    paid = client.post(url, {"expected_amount": "11558.75"})
    deferred = client.post(
        reverse("portal:payment-defer", args=[declaration.pk]),
        {"expected_amount": "11558.75", "guarantee": pay_world["guarantee"].pk},
    )

    assert shown.status_code == 404
    assert paid.status_code == 404
    assert deferred.status_code == 404
    assert _counts() == before
    assert Declaration.objects.get(pk=declaration.pk).status == Status.ASSESSED


def test_a_broker_authorised_for_payments_pays_for_trader_a(client, pay_world):
    fund(pay_world, "12000.00")
    declaration = assessed(pay_world)
    broker_user = _paying_broker(pay_world)
    client.force_login(broker_user)

    response = client.post(
        reverse("portal:payment-prepaid", args=[declaration.pk]), {"expected_amount": "11558.75"}
    )

    payment = Payment.objects.get(route=PaymentRoute.PREPAID)
    assert response.status_code == 302
    assert payment.trader == pay_world["trader_a"]
    assert payment.recorded_by == broker_user


def test_a_broker_without_the_payment_authorisation_cannot_pay(client, pay_world):
    fund(pay_world, "12000.00")
    declaration = assessed(pay_world, actor="broker")  # the broker lodged it, but may not pay it
    before = _counts()
    client.force_login(pay_world["users"]["broker"])

    response = client.post(
        reverse("portal:payment-prepaid", args=[declaration.pk]), {"expected_amount": "11558.75"}
    )

    assert response.status_code == 403
    assert _counts() == before


def test_a_paid_declaration_leads_to_its_receipt(client, pay_world):
    fund(pay_world, "12000.00")
    declaration = assessed(pay_world)
    prepaid_pay(actor=pay_world["users"]["trader_a"], declaration=declaration)
    receipt = Receipt.objects.get(declaration=declaration)
    client.force_login(pay_world["users"]["trader_a"])

    response = client.post(
        reverse("portal:payment-prepaid", args=[declaration.pk]), {"expected_amount": "11558.75"}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("portal:payment-receipt", args=[receipt.pk])
    assert Payment.objects.filter(route=PaymentRoute.PREPAID).count() == 1


# ---------------------------------------------------------------------------------------- orders


def test_an_order_for_the_ticked_declarations_gives_the_payment_reference(client, pay_world):
    first, second = assessed(pay_world), assessed(pay_world)
    client.force_login(pay_world["users"]["trader_a"])

    response = client.post(
        reverse("portal:payment-order-create"),
        {"declarations": [first.pk, second.pk], "trader": pay_world["trader_a"].pk},
    )

    order = PaymentOrder.objects.get()
    page = client.get(response["Location"])
    html = _html(page)
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:payment-order-detail", args=[order.reference])
    assert order.kind == OrderKind.DUTIES
    assert order.amount == DUE * 2
    assert reference_valid(order.reference)
    assert order.reference.startswith("RF")
    assert _element(html, "order-reference") == order.reference
    assert _element(html, "order-amount") == "23,117.50 TMT"
    assert _element(html, "order-status") == "Awaiting payment"
    assert re.findall(r'<tr data-declaration="(\d+)">', html) == [str(first.pk), str(second.pk)]
    assert first.number in html and second.number in html
    assert 'id="order-cancel"' in html


def test_an_order_with_nothing_ticked_is_refused(client, pay_world):
    assessed(pay_world)
    client.force_login(pay_world["users"]["trader_a"])

    response = client.post(reverse("portal:payment-order-create"), {"trader": pay_world["trader_a"].pk})

    assert response.status_code == 422
    errors = _element(_html(response), f"order-errors-{pay_world['trader_a'].pk}")
    assert errors == "Tick at least one declaration to put in the payment order."
    assert PaymentOrder.objects.count() == 0


def test_a_declaration_already_in_an_open_order_is_refused(client, pay_world):
    declaration = assessed(pay_world)
    order = payment_order_create(actor=pay_world["users"]["trader_a"], declarations=[declaration])
    client.force_login(pay_world["users"]["trader_a"])

    response = client.post(
        reverse("portal:payment-order-create"),
        {"declarations": [declaration.pk], "trader": pay_world["trader_a"].pk},
    )

    assert response.status_code == 409
    errors = _element(_html(response), f"order-errors-{pay_world['trader_a'].pk}")
    assert errors == (
        f"Declaration {declaration.number} is already in payment order {order.reference}; pay or cancel it."
    )
    assert PaymentOrder.objects.count() == 1


def test_trader_b_cannot_order_trader_as_declaration(client, pay_world):
    declaration = assessed(pay_world)
    client.force_login(pay_world["users"]["trader_b"])

    response = client.post(
        reverse("portal:payment-order-create"),
        {"declarations": [declaration.pk], "trader": pay_world["trader_a"].pk},
    )

    assert response.status_code == 422
    assert "A declaration you ticked has nothing to pay now or is not yours to pay." in _html(response)
    assert declaration.number not in _html(response)
    assert PaymentOrder.objects.count() == 0


def test_an_open_order_is_cancelled_once(client, pay_world):
    declaration = assessed(pay_world)
    order = payment_order_create(actor=pay_world["users"]["trader_a"], declarations=[declaration])
    client.force_login(pay_world["users"]["trader_a"])
    url = reverse("portal:payment-order-cancel", args=[order.reference])

    first = client.post(url)
    again = client.post(url, follow=True)

    order.refresh_from_db()
    html = _html(again)
    assert first.status_code == 302
    assert first["Location"] == reverse("portal:payment-order-detail", args=[order.reference])
    assert order.status == OrderStatus.CANCELLED
    assert f"Payment order {order.reference} is cancelled: it cannot be cancelled." in html
    assert _element(html, "order-status") == "Cancelled"
    assert 'id="order-cancel"' not in html


def test_trader_b_cannot_see_or_cancel_trader_as_order(client, pay_world):
    declaration = assessed(pay_world)
    order = payment_order_create(actor=pay_world["users"]["trader_a"], declarations=[declaration])
    client.force_login(pay_world["users"]["trader_b"])

    shown = client.get(reverse("portal:payment-order-detail", args=[order.reference]))
    cancelled = client.post(reverse("portal:payment-order-cancel", args=[order.reference]))
    listing = _html(client.get(reverse("portal:payment-order-list")))

    order.refresh_from_db()
    assert shown.status_code == 404
    assert cancelled.status_code == 404
    assert order.reference not in listing
    assert order.status == OrderStatus.OPEN


def test_the_order_list_shows_every_order_with_its_status(client, pay_world, django_assert_max_num_queries):
    declaration = assessed(pay_world)
    trader_user = pay_world["users"]["trader_a"]
    cancelled = payment_order_create(actor=trader_user, declarations=[declaration])
    from payments.services.orders import payment_order_cancel, top_up_order_create

    payment_order_cancel(actor=trader_user, order=cancelled)
    for _number in range(3):
        payment_order_create(actor=trader_user, declarations=[assessed(pay_world)])
    top_up = top_up_order_create(
        actor=trader_user, trader=pay_world["trader_a"], amount=D("500.00"), office=pay_world["office"]
    )
    client.force_login(trader_user)

    with django_assert_max_num_queries(12):
        response = client.get(reverse("portal:payment-order-list"))

    html = _html(response)
    statuses = re.findall(r'data-status="([a-z_]+)"', html)
    assert response.status_code == 200
    assert statuses == ["open", "open", "open", "open", "cancelled"]
    assert html.index(top_up.reference) < html.index(cancelled.reference)
    assert "Top-up of the pre-paid account" in html


def test_a_top_up_order_is_made_from_the_form(client, pay_world):
    client.force_login(pay_world["users"]["trader_a"])
    url = reverse("portal:payment-top-up")

    form = _html(client.get(url + f"?trader={pay_world['trader_a'].pk}&amount=1500.50"))
    response = client.post(url, {"trader": pay_world["trader_a"].pk, "amount": "2500.00", "office": "TMA01"})

    order = PaymentOrder.objects.get()
    assert '<label for="id_amount">Amount</label>' in form
    assert '<label for="id_office">Customs office that issues the receipt</label>' in form
    assert '<label for="id_trader">Pre-paid account of</label>' in form
    assert 'value="1500.50"' in form
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:payment-order-detail", args=[order.reference])
    assert (order.kind, order.amount, order.office, order.trader) == (
        OrderKind.TOP_UP,
        D("2500.00"),
        pay_world["office"],
        pay_world["trader_a"],
    )


def test_a_wrong_top_up_amount_is_shown_next_to_the_field(client, pay_world):
    client.force_login(pay_world["users"]["trader_a"])

    response = client.post(
        reverse("portal:payment-top-up"),
        {"trader": pay_world["trader_a"].pk, "amount": "12.345", "office": ""},
    )

    html = _html(response)
    amount = re.search(r'<div class="field field--error">(?:(?!</div>).)*id_amount.*?</div>', html, re.S)
    office = re.search(r'<div class="field field--error">(?:(?!</div>).)*id_office.*?</div>', html, re.S)
    assert response.status_code == 422
    assert "Ensure that there are no more than 2 decimal places." in amount.group(0)
    assert "This field is required." in office.group(0)
    assert PaymentOrder.objects.count() == 0


def test_trader_b_cannot_top_up_trader_as_account(client, pay_world):
    client.force_login(pay_world["users"]["trader_b"])

    response = client.post(
        reverse("portal:payment-top-up"),
        {"trader": pay_world["trader_a"].pk, "amount": "100.00", "office": "TMA01"},
    )

    assert response.status_code == 422
    assert "Select a valid choice." in _html(response)
    assert PaymentOrder.objects.count() == 0


# -------------------------------------------------------------------------------------- deferral


def test_a_payment_is_deferred_against_the_guarantee(client, pay_world):
    declaration = assessed(pay_world)
    guarantee = pay_world["guarantee"]
    client.force_login(pay_world["users"]["trader_a"])
    url = reverse("portal:payment-defer", args=[declaration.pk])

    page = _html(client.get(url))
    response = client.post(url, {"expected_amount": "11558.75", "guarantee": guarantee.pk})

    reservation = GuaranteeReservation.objects.get()
    receipt = Receipt.objects.get(declaration=declaration)
    home = _html(client.get(reverse("portal:payment-home")))
    assert "<legend>Guarantee to defer against</legend>" in page
    assert "GRN-0001 (Comprehensive): 100,000.00 TMT available" in page
    assert re.search(rf'<input type="radio" name="guarantee" value="{guarantee.pk}"[^>]* checked>', page)
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:payment-receipt", args=[receipt.pk])
    assert receipt.payment.route == PaymentRoute.DEFERRED
    assert (reservation.amount, reservation.status, reservation.declaration) == (
        DUE,
        ReservationStatus.OPEN,
        declaration,
    )
    assert Declaration.objects.get(pk=declaration.pk).status == Status.PAID
    assert _element(home, f"reserved-{guarantee.pk}") == "11,558.75"
    assert _element(home, f"available-{guarantee.pk}") == "88,441.25"
    assert f'id="settle-{reservation.pk}"' in home


def test_a_guarantee_too_small_is_refused_next_to_the_choice(client, pay_world):
    small = guarantee_create(
        actor=None,
        reference="GRN-0002",
        kind="individual",
        trader=pay_world["trader_a"],
        issuer=pay_world["bank"],
        amount=D("100.00"),
        valid_from=datetime.date(2020, 1, 1),
        valid_to=datetime.date(2099, 12, 31),
        allows_deferred_payment=True,
    )
    declaration = assessed(pay_world)
    before = _counts()
    client.force_login(pay_world["users"]["trader_a"])

    response = client.post(
        reverse("portal:payment-defer", args=[declaration.pk]),
        {"expected_amount": "11558.75", "guarantee": small.pk},
    )

    html = _html(response)
    field = re.search(r'<fieldset class="field field--error" id="guarantee-field">.*?</fieldset>', html, re.S)
    assert response.status_code == 409
    assert field is not None
    assert (
        "Guarantee GRN-0002 has 100.00 TMT available; 11,558.75 is needed (short by 11,458.75)."
        in field.group(0)
    )
    assert _counts() == before


def test_a_deferred_payment_is_settled_from_the_account(client, pay_world):
    declaration = assessed(pay_world)
    trader_user = pay_world["users"]["trader_a"]
    deferred_pay(actor=trader_user, declaration=declaration, guarantee=pay_world["guarantee"])
    reservation = GuaranteeReservation.objects.get()
    fund(pay_world, "11558.75")
    client.force_login(trader_user)
    url = reverse("portal:payment-settle", args=[reservation.pk])

    page = _html(client.get(url))
    response = client.post(url)

    reservation.refresh_from_db()
    assert _element(page, "settle-amount") == "11,558.75 TMT"
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:payment-home") + f"#trader-{pay_world['trader_a'].pk}"
    assert reservation.status == ReservationStatus.SETTLED
    assert account_balance(prepaid_account(pay_world["trader_a"])) == D("0.00")
    assert account_balance(pay_world["guarantee"].account) == D("0.00")


def test_settling_from_a_short_account_shows_the_shortfall_and_writes_nothing(client, pay_world):
    declaration = assessed(pay_world)
    deferred_pay(
        actor=pay_world["users"]["trader_a"], declaration=declaration, guarantee=pay_world["guarantee"]
    )
    reservation = GuaranteeReservation.objects.get()
    fund(pay_world, "58.75")
    before = _counts()
    client.force_login(pay_world["users"]["trader_a"])

    response = client.post(reverse("portal:payment-settle", args=[reservation.pk]))

    html = _html(response)
    reservation.refresh_from_db()
    assert response.status_code == 409
    assert "Top it up by 11,500.00" in _element(html, "settle-refused")
    assert _element(html, "prepaid-shortfall") == "11,500.00 TMT"
    assert reservation.status == ReservationStatus.OPEN
    assert _counts() == before


def test_trader_b_cannot_settle_trader_as_deferred_payment(client, pay_world):
    declaration = assessed(pay_world)
    deferred_pay(
        actor=pay_world["users"]["trader_a"], declaration=declaration, guarantee=pay_world["guarantee"]
    )
    reservation = GuaranteeReservation.objects.get()
    fund(pay_world, "20000.00", trader="trader_b")
    before = _counts()
    client.force_login(pay_world["users"]["trader_b"])

    response = client.post(reverse("portal:payment-settle", args=[reservation.pk]))

    reservation.refresh_from_db()
    assert response.status_code == 404
    assert reservation.status == ReservationStatus.OPEN
    assert _counts() == before


# -------------------------------------------------------------------------------------- receipts


def test_the_receipt_list_shows_number_date_declaration_amount_route_and_pdf(
    client, pay_world, django_assert_max_num_queries
):
    fund(pay_world, "40000.00")
    paid = [assessed(pay_world) for _number in range(3)]
    for declaration in paid:
        prepaid_pay(actor=pay_world["users"]["trader_a"], declaration=declaration)
    newest = Receipt.objects.get(declaration=paid[-1])
    top_up = Receipt.objects.get(declaration=None)
    client.force_login(pay_world["users"]["trader_a"])

    with django_assert_max_num_queries(10):
        response = client.get(reverse("portal:payment-receipt-list"))

    html = _html(response)
    row = re.search(rf'<tr data-receipt="{newest.pk}">.*?</tr>', html, re.S).group(0)
    cells = [
        " ".join(re.sub(r"<[^>]+>", " ", cell).split())
        for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    ]
    assert response.status_code == 200
    assert re.findall(r'<tr data-receipt="(\d+)">', html)[0] == str(newest.pk)
    assert len(re.findall(r"<tr data-receipt=", html)) == 4
    assert cells[0] == newest.number
    assert cells[2:] == [
        paid[-1].number,
        "Altyn Asyr HJ",
        "11,558.75 TMT",
        "Pre-paid account",
        f"Download {newest.number} (PDF)",
    ]
    assert f'href="{reverse("receipt-prints:pdf", args=[newest.pk])}?download=1"' in row
    assert f'href="{reverse("portal:payment-receipt", args=[newest.pk])}"' in row
    assert top_up.number in html


def test_trader_b_sees_no_receipt_of_trader_a(client, pay_world):
    fund(pay_world, "12000.00")
    declaration = assessed(pay_world)
    prepaid_pay(actor=pay_world["users"]["trader_a"], declaration=declaration)
    receipt = Receipt.objects.get(declaration=declaration)
    client.force_login(pay_world["users"]["trader_b"])

    listing = _html(client.get(reverse("portal:payment-receipt-list")))
    detail = client.get(reverse("portal:payment-receipt", args=[receipt.pk]))
    pdf = client.get(reverse("receipt-prints:pdf", args=[receipt.pk]))

    assert receipt.number not in listing
    assert "No receipt yet." in listing
    assert detail.status_code == 404
    assert pdf.status_code == 404


# ------------------------------------------------------------------------- the declaration page panel


def test_the_declaration_panel_offers_the_ways_to_pay(client, pay_world):
    declaration = assessed(pay_world)
    client.force_login(pay_world["users"]["trader_a"])

    html = _html(client.get(reverse("portal:declaration-detail", args=[declaration.pk])))

    assert (
        f'id="panel-pay-from-account" href="{reverse("portal:payment-prepaid", args=[declaration.pk])}"'
        in html
    )
    assert f'id="panel-defer" href="{reverse("portal:payment-defer", args=[declaration.pk])}"' in html
    assert f'action="{reverse("portal:payment-order-create")}"' in html
    assert f'<input type="hidden" name="declarations" value="{declaration.pk}">' in html
    assert _element(html, "pay-heading") == "Pay 11,558.75 TMT"


def test_the_panel_order_button_makes_an_order_of_that_declaration(client, pay_world):
    declaration = assessed(pay_world)
    client.force_login(pay_world["users"]["trader_a"])

    response = client.post(
        reverse("portal:payment-order-create"),
        {"declarations": [declaration.pk], "trader": declaration.trader_id},
    )

    order = PaymentOrder.objects.get()
    assert response.status_code == 302
    assert list(order.lines.values_list("declaration_id", "amount")) == [(declaration.pk, DUE)]


def test_the_declaration_panel_offers_no_payment_to_a_broker_not_authorised_for_it(client, pay_world):
    declaration = assessed(pay_world, actor="broker")
    client.force_login(pay_world["users"]["broker"])

    response = client.get(reverse("portal:declaration-detail", args=[declaration.pk]))

    html = _html(response)
    assert response.status_code == 200
    assert 'id="dues-table"' in html
    assert 'id="panel-pay-from-account"' not in html
    assert 'id="panel-pay-elsewhere"' in html


def test_a_paid_declarations_panel_offers_no_payment(client, pay_world):
    fund(pay_world, "12000.00")
    declaration = assessed(pay_world)
    prepaid_pay(actor=pay_world["users"]["trader_a"], declaration=declaration)
    client.force_login(pay_world["users"]["trader_a"])

    html = _html(client.get(reverse("portal:declaration-detail", args=[declaration.pk])))

    assert 'id="panel-pay-from-account"' not in html
    assert 'id="declaration-receipts"' in html


# -------------------------------------------------------------------------- authorisation matrix


@pytest.fixture
def matrix_world(pay_world):
    """Trader A's payment objects of every kind: a payable declaration, an open order, a receipt and a
    deferred payment, with money left on the account for one more payment; and a broker user that A
    authorised for payments."""
    trader_user = pay_world["users"]["trader_a"]
    fund(pay_world, "24000.00")
    payable = assessed(pay_world)
    ordered = assessed(pay_world)
    order = payment_order_create(actor=trader_user, declarations=[ordered])
    paid = assessed(pay_world)
    prepaid_pay(actor=trader_user, declaration=paid)
    deferred = assessed(pay_world)
    deferred_pay(actor=trader_user, declaration=deferred, guarantee=pay_world["guarantee"])
    pay_world["users"]["broker_paying"] = _paying_broker(pay_world)
    return {
        **pay_world,
        "payable": payable,
        "order": order,
        "receipt": Receipt.objects.get(declaration=paid),
        "reservation": GuaranteeReservation.objects.get(declaration=deferred),
    }


def _matrix(name, arguments, payer_status, other_status, *, data=None, variant="get"):
    """One URL of the matrix: its arguments and (for a POST) its data, built from ``matrix_world``."""
    return pytest.param(name, arguments, data, payer_status, other_status, id=f"{name}-{variant}")


def _order_data(m):
    return {"declarations": [m["payable"].pk], "trader": m["trader_a"].pk}


PAYERS = {"trader_a", "broker_paying"}
# URL name, its arguments, POST data (None: a GET), status for trader A's payers, status for trader B.
MATRIX = [
    _matrix("payment-home", lambda m: [], 200, 200),
    _matrix("payment-statement", lambda m: [m["trader_a"].pk], 200, 404),
    _matrix("payment-order-list", lambda m: [], 200, 200),
    _matrix("payment-order-create", lambda m: [], 302, 422, data=_order_data, variant="post"),
    _matrix("payment-top-up", lambda m: [], 200, 200),
    _matrix(
        "payment-top-up",
        lambda m: [],
        302,
        422,
        data=lambda m: {"trader": m["trader_a"].pk, "amount": "100.00", "office": "TMA01"},
        variant="post",
    ),
    _matrix("payment-order-detail", lambda m: [m["order"].reference], 200, 404),
    _matrix(
        "payment-order-cancel", lambda m: [m["order"].reference], 302, 404, data=lambda m: {}, variant="post"
    ),
    _matrix("payment-prepaid", lambda m: [m["payable"].pk], 200, 404),
    _matrix(
        "payment-prepaid",
        lambda m: [m["payable"].pk],
        302,
        404,
        data=lambda m: {"expected_amount": "11558.75"},
        variant="post",
    ),
    _matrix("payment-defer", lambda m: [m["payable"].pk], 200, 404),
    _matrix(
        "payment-defer",
        lambda m: [m["payable"].pk],
        302,
        404,
        data=lambda m: {"expected_amount": "11558.75", "guarantee": m["guarantee"].pk},
        variant="post",
    ),
    _matrix("payment-settle", lambda m: [m["reservation"].pk], 200, 404),
    _matrix("payment-settle", lambda m: [m["reservation"].pk], 302, 404, data=lambda m: {}, variant="post"),
    _matrix("payment-receipt-list", lambda m: [], 200, 200),
    _matrix("payment-receipt", lambda m: [m["receipt"].pk], 200, 404),
]
USERS = ["anonymous", "trader_a", "trader_b", "broker_paying", "broker", "officer"]


@pytest.mark.parametrize("who", USERS)
@pytest.mark.parametrize(("name", "arguments", "data", "payer_status", "other_status"), MATRIX)
def test_authorisation_matrix(
    client, matrix_world, verified_login, who, name, arguments, data, payer_status, other_status
):
    url = reverse(f"portal:{name}", args=arguments(matrix_world))
    if who == "officer":
        verified_login(client, matrix_world["users"]["officer"])  # staff pass their second factor first
    elif who != "anonymous":
        client.force_login(matrix_world["users"][who])
    before = _counts()
    order = PaymentOrder.objects.get(pk=matrix_world["order"].pk)
    reservation = GuaranteeReservation.objects.get(pk=matrix_world["reservation"].pk)

    if data is None:
        response = client.get(url)
    else:
        response = client.post(url, data(matrix_world))

    expected = {
        "anonymous": 302,
        "trader_a": payer_status,
        "broker_paying": payer_status,
        "trader_b": other_status,
        "broker": 403,  # authorised by A for import and export, not for payments
        "officer": 403,  # staff are not portal users
    }[who]
    assert response.status_code == expected
    if who == "anonymous":
        assert response["Location"].startswith(reverse("login") + "?next=")
    if who not in PAYERS:
        assert _counts() == before
        assert PaymentOrder.objects.get(pk=order.pk).status == order.status
        assert GuaranteeReservation.objects.get(pk=reservation.pk).status == reservation.status
    if who == "trader_b" and response.status_code in (200, 422):
        html = _html(response)
        assert matrix_world["order"].reference not in html
        assert matrix_world["receipt"].number not in html
        assert matrix_world["payable"].number not in html
