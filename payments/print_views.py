"""A receipt's PDF: asked for in a language, rendered by the worker, then served.

Anyone who may see the receipt (``receipts_for_user``: the payer's side, or staff of its office) gets it;
while it is being prepared the page reloads itself every two seconds.
"""

from django.contrib.auth.decorators import login_required
from django.http import FileResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from declarations.print_views import document_language
from payments.models import ReceiptPrint
from payments.selectors import receipts_for_user
from payments.services.receipts import receipt_print_request

WAIT_REFRESH_SECONDS = 2


@login_required
@require_GET
def receipt_pdf(request, pk: int):
    """The receipt (PDF), or the wait page while it is being prepared."""
    receipt = get_object_or_404(receipts_for_user(request.user), pk=pk)
    language = document_language(request)
    document = receipt_print_request(
        receipt=receipt, language=language, retry_failed=request.GET.get("retry") == "1"
    )
    if document.status == ReceiptPrint.Status.READY:
        response = FileResponse(
            document.file.open("rb"),
            content_type="application/pdf",
            as_attachment=request.GET.get("download") == "1",
            filename=document.file.name.rsplit("/", 1)[-1],
        )
        response["Cache-Control"] = "private, no-store"
        return response
    reload_url = f"{request.path}?lang={language}" + (
        "&download=1" if request.GET.get("download") == "1" else ""
    )
    response = render(
        request,
        "payments/receipt_wait.html",
        {
            "receipt": receipt,
            "document": document,
            "refresh_seconds": WAIT_REFRESH_SECONDS,
            "reload_url": reload_url,
            "retry_url": f"{reload_url}&retry=1",
        },
    )
    if document.status == ReceiptPrint.Status.PENDING:
        response["Refresh"] = f"{WAIT_REFRESH_SECONDS}; url={reload_url}"
    response["Cache-Control"] = "no-store"
    return response
