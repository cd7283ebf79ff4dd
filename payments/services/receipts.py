"""Receipts: one per declaration paid (or per top-up), numbered gap-free per office and year, and their
PDFs, rendered by a Celery task in the language asked for."""

import datetime
import logging

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone, translation

from customs.codes import qr_svg_base64
from customs.pdf import render_pdf
from customs.queue import enqueue_on_commit
from customs.services.numbering import number_format, number_next
from payments.choices import RECEIPT_SERIES
from payments.models import Receipt, ReceiptPrint

logger = logging.getLogger(__name__)

RENDER_TASK = "payments.render_receipt"


def receipt_issue(*, payment, office, amount, declaration=None, language: str | None = None) -> Receipt:
    """Number and write the receipt, inside the payment's transaction; its PDF (in ``language``, the
    payer's) is rendered after commit."""
    now = payment.paid_at or timezone.now()
    year = timezone.localtime(now).year
    serial = number_next(office_code=office.code, year=year, series=RECEIPT_SERIES)
    receipt = Receipt.objects.create(
        number=number_format(office_code=office.code, year=year, series=RECEIPT_SERIES, number=serial),
        office=office,
        year=year,
        serial=serial,
        payment=payment,
        declaration=declaration,
        trader=payment.trader,
        amount=amount,
        currency=payment.currency,
        issued_at=now,
    )
    if language:
        receipt_print_request(receipt=receipt, language=language)
    return receipt


def receipt_print_request(*, receipt: Receipt, language: str, retry_failed: bool = False) -> ReceiptPrint:
    """The receipt's PDF in ``language``: the one made already, or a new one being rendered. A failed
    one is rendered again only when asked (``retry_failed``), so a page reloading never loops."""
    with transaction.atomic():
        document, created = ReceiptPrint.objects.get_or_create(receipt=receipt, language=language)
        if created:
            enqueue_on_commit(RENDER_TASK, document.pk)
        elif retry_failed and document.status == ReceiptPrint.Status.FAILED:
            ReceiptPrint.objects.filter(pk=document.pk).update(status=ReceiptPrint.Status.PENDING, error="")
            document.status = ReceiptPrint.Status.PENDING
            enqueue_on_commit(RENDER_TASK, document.pk)
    return document


def receipt_context(receipt: Receipt) -> dict:
    payment = receipt.payment
    lines = []
    if receipt.declaration_id:
        by_tax = {}
        for entry in payment.journal.entries.filter(
            declaration_id=receipt.declaration_id, account__kind="revenue"
        ).order_by("pk"):
            by_tax[entry.tax_type] = by_tax.get(entry.tax_type, 0) - entry.amount
        lines = [{"tax_type": tax, "amount": amount} for tax, amount in by_tax.items()]
    return {
        "receipt": receipt,
        "payment": payment,
        "declaration": receipt.declaration,
        "tax_lines": lines,
        "qr": qr_svg_base64(f"KERWEN-RECEIPT:{receipt.number}:{receipt.amount}:{receipt.currency}"),
        "printed_at": timezone.now(),
    }


def receipt_print_render(print_id: int) -> str:
    """Render one receipt PDF (the task's work). Idempotent: a ready document is left alone."""
    document = ReceiptPrint.objects.select_related(
        "receipt__office", "receipt__trader", "receipt__declaration", "receipt__payment__journal"
    ).get(pk=print_id)
    if document.status == ReceiptPrint.Status.READY:
        return "ready"
    try:
        with translation.override(document.language):
            pdf = render_pdf(
                "payments/pdf/receipt.html", receipt_context(document.receipt), language=document.language
            )
    except Exception as error:  # a rendering failure is shown to the user, who may ask again
        logger.exception("Receipt %s could not be rendered", document.receipt)
        ReceiptPrint.objects.filter(pk=document.pk).update(
            status=ReceiptPrint.Status.FAILED, error=str(error)
        )
        return "failed"
    with transaction.atomic():
        locked = ReceiptPrint.objects.select_for_update().get(pk=document.pk)
        if locked.status == ReceiptPrint.Status.READY:
            return "ready"
        name = f"receipt-{document.receipt.number.replace(' ', '-')}-{document.language}.pdf"
        locked.file.save(name, ContentFile(pdf), save=False)
        locked.status = ReceiptPrint.Status.READY
        locked.rendered_at = timezone.now()
        locked.error = ""
        locked.save()
    return "rendered"


def receipt_print_sweep(*, older_than: datetime.timedelta = datetime.timedelta(minutes=2)) -> int:
    """Re-send the rendering of receipts left pending (a broker outage lost the task)."""
    stale = ReceiptPrint.objects.filter(
        status=ReceiptPrint.Status.PENDING, requested_at__lt=timezone.now() - older_than
    ).values_list("pk", flat=True)
    count = 0
    for print_id in stale:
        with transaction.atomic():
            enqueue_on_commit(RENDER_TASK, print_id)
        count += 1
    return count
