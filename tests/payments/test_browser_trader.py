"""A real Chromium and a real Celery worker: a trader signs in, opens Payments, pays an assessed declaration
from its (funded) pre-paid account, sees the receipt number and downloads the receipt's PDF, which the
worker rendered."""

from decimal import Decimal
from pathlib import Path

import pytest

from customs.services.users import user_upsert
from payments.choices import PaymentRoute
from payments.models import Payment, Receipt, ReceiptPrint
from payments.services.ledger import account_balance, prepaid_account
from tests.payments.conftest import assessed, fund
from tests.waiting import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]
PASSWORD = "Border-post-2026"
D = Decimal


@pytest.fixture
def receipt_worker(worker_media_root, celery_worker):
    return celery_worker


def _sign_in(page, base_url, username):
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("#login-submit").click()
    page.wait_for_url("**/portal/")


def test_trader_pays_from_the_prepaid_account_and_downloads_the_receipt(
    page, live_server, pay_world, receipt_worker
):
    trader = pay_world["trader_a"]
    user_upsert(actor=None, username="aman", password=PASSWORD, roles=["trader_user"], trader=trader)
    declaration = assessed(pay_world)
    fund(pay_world, "12000.00")

    _sign_in(page, live_server.url, "aman")
    page.locator("#home-payments").click()
    page.wait_for_url("**/portal/payments/")
    balance = page.locator(f"#balance-{trader.pk}").inner_text()
    due = page.locator(f"#due-{declaration.pk}").inner_text()
    page.locator(f"#pay-from-account-{declaration.pk}").click()
    page.wait_for_url("**/pay-from-account/")
    confirm_total = page.locator("#due-total").inner_text()
    balance_after = page.locator("#prepaid-balance-after").inner_text()
    page.locator("#prepaid-confirm").click()
    page.wait_for_url("**/portal/payments/receipts/*/")
    shown_number = page.locator("#receipt-number").inner_text()

    receipt = Receipt.objects.get(declaration=declaration)
    rendered = wait_for(
        lambda: ReceiptPrint.objects.filter(receipt=receipt, language="en").exclude(status="pending").exists()
    )
    assert rendered, receipt_worker.stdout.read() if receipt_worker.poll() is not None else "not rendered"
    document = ReceiptPrint.objects.get(receipt=receipt, language="en")
    assert document.status == "ready", document.error
    with page.expect_download() as download_info:
        page.locator("#receipt-download").click()
    download = download_info.value
    pdf = Path(download.path()).read_bytes()

    payment = Payment.objects.get(route=PaymentRoute.PREPAID)
    assert balance == "12,000.00 TMT"
    assert due == "11,558.75 TMT"
    assert confirm_total == "11,558.75 TMT"
    assert balance_after == "441.25 TMT"
    assert shown_number == receipt.number
    assert payment.amount == D("11558.75")
    assert account_balance(prepaid_account(trader)) == D("441.25")
    assert pdf.startswith(b"%PDF")
    assert download.suggested_filename == f"receipt-{receipt.number.replace(' ', '-')}-en.pdf"
