"""Receipts: R-numbers gap-free per office and year, and a PDF a person can print, in three languages."""

import io
from decimal import Decimal

import pytest
from django.utils import formats, translation
from pypdf import PdfReader

from payments.models import Receipt, ReceiptPrint
from payments.services import collection
from payments.services.collection import cashier_pay
from payments.services.receipts import receipt_print_render, receipt_print_request
from tests.payments.conftest import assessed

D = Decimal
pytestmark = pytest.mark.django_db


def _pay(pay_world, declaration):
    return cashier_pay(
        actor=pay_world["users"]["cashier"],
        declaration=declaration,
        method="cash",
        amount=declaration.total_taxes,
    )


def test_a_rolled_back_payment_gives_its_receipt_number_back(pay_world, monkeypatch):
    first = _pay(pay_world, assessed(pay_world)).receipts.get()
    failing = assessed(pay_world)

    def broken(**kwargs):
        raise RuntimeError("the declarations service failed")

    monkeypatch.setattr(collection, "declaration_mark_paid", broken)
    with pytest.raises(RuntimeError):
        _pay(pay_world, failing)
    monkeypatch.undo()
    second = _pay(pay_world, failing).receipts.get()
    assert (first.serial, second.serial) == (1, 2)
    assert second.number == f"TMA01 {second.year} R 2"
    assert Receipt.objects.count() == 2


@pytest.mark.parametrize(
    ("language", "title"), [("en", "Receipt"), ("ru", "Квитанция"), ("tk", "Kwitansiýa")]
)
def test_the_receipt_pdf_carries_its_number_amount_and_taxes(pay_world, language, title):
    declaration = assessed(pay_world)
    receipt = _pay(pay_world, declaration).receipts.get()
    document = receipt_print_request(receipt=receipt, language=language)
    assert receipt_print_render(document.pk) == "rendered"
    document.refresh_from_db()
    assert document.status == ReceiptPrint.Status.READY
    content = document.file.open("rb").read()
    assert content.startswith(b"%PDF")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    assert receipt.number in text
    assert title in text
    with translation.override(language):
        amount = formats.number_format(declaration.total_taxes, 2, use_l10n=True, force_grouping=True)
    assert amount in text
    assert declaration.number in text
    assert receipt_print_render(document.pk) == "ready"  # idempotent
