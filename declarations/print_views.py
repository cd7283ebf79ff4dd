"""Printed documents of a declaration (assessment notice, SAD, release order): ask for one, wait
for the worker, get the PDF.

Thin views: the user must see the declaration (its selector), the service asks for the document, the
worker renders it. While it is pending the page reloads itself every two seconds.
"""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.http import require_GET

from declarations.models import DeclarationPrint
from declarations.selectors import declaration_list_for_user
from declarations.services.exports import ExportFailed, declaration_wcodm_export
from declarations.services.printing import PrintNotAvailable, declaration_print_request

WAIT_REFRESH_SECONDS = 2


def document_language(request) -> str:
    """``?lang=`` when it is one of the document languages, else the language of the request."""
    languages = dict(settings.LANGUAGES)
    asked = request.GET.get("lang", "")
    if asked in languages:
        return asked
    current = (translation.get_language() or settings.LANGUAGE_CODE)[:2]
    return current if current in languages else settings.LANGUAGE_CODE


def _document_view(request, pk: int, kind: str):
    declaration = get_object_or_404(declaration_list_for_user(request.user), pk=pk)
    language = document_language(request)
    try:
        document = declaration_print_request(
            actor=request.user,
            declaration=declaration,
            kind=kind,
            language=language,
            retry_failed=request.GET.get("retry") == "1",
        )
    except PrintNotAvailable as refused:
        return render(
            request,
            "declarations/print_wait.html",
            {"declaration": declaration, "document": None, "refused": str(refused)},
            status=409,
        )
    if document.status == DeclarationPrint.Status.READY:
        response = FileResponse(
            document.file.open("rb"),
            content_type="application/pdf",
            as_attachment=False,
            filename=document.file.name.rsplit("/", 1)[-1],
        )
        response["Cache-Control"] = "private, no-store"
        return response
    pending = document.status == DeclarationPrint.Status.PENDING
    response = render(
        request,
        "declarations/print_wait.html",
        {
            "declaration": declaration,
            "document": document,
            "refresh_seconds": WAIT_REFRESH_SECONDS,
            # The page reloads without ``retry``: a document that fails again is not retried in a loop.
            "reload_url": f"{request.path}?lang={language}",
            "retry_url": f"{request.path}?lang={language}&retry=1",
        },
    )
    if pending:
        # The header as well as the page's meta, which sits in <body> (base.html has no head block).
        response["Refresh"] = f"{WAIT_REFRESH_SECONDS}; url={request.path}?lang={language}"
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def assessment_notice(request, pk: int):
    """The assessment notice (PDF), or the wait page while it is being prepared."""
    return _document_view(request, pk, DeclarationPrint.Kind.ASSESSMENT_NOTICE)


@login_required
@require_GET
def sad(request, pk: int):
    """The SAD printout (PDF), or the wait page while it is being prepared."""
    return _document_view(request, pk, DeclarationPrint.Kind.SAD)


@login_required
@require_GET
def release_order(request, pk: int):
    """The release order (exit note) of released goods (PDF), or the wait page."""
    return _document_view(request, pk, DeclarationPrint.Kind.RELEASE_ORDER)


VIEW_NAMES = {
    DeclarationPrint.Kind.ASSESSMENT_NOTICE: "declaration-prints:assessment-notice",
    DeclarationPrint.Kind.SAD: "declaration-prints:sad",
    DeclarationPrint.Kind.RELEASE_ORDER: "declaration-prints:release-order",
}


@login_required
@require_GET
def print_status(request, pk: int, print_id: int):
    """The status of one printed document, as JSON (for scripts and a future htmx poll)."""
    declaration = get_object_or_404(declaration_list_for_user(request.user), pk=pk)
    try:
        document = declaration.prints.get(pk=print_id)
    except DeclarationPrint.DoesNotExist as missing:
        raise Http404 from missing
    view_name = VIEW_NAMES[document.kind]
    return JsonResponse(
        {
            "id": document.pk,
            "kind": document.kind,
            "language": document.language,
            "declaration_version": document.declaration_version,
            "status": document.status,
            "url": reverse(view_name, args=[declaration.pk]) + f"?lang={document.language}",
            "requested_at": document.requested_at.isoformat(),
            "rendered_at": document.rendered_at.isoformat() if document.rendered_at else None,
        }
    )


@login_required
@require_GET
def wcodm(request, pk: int):
    """The declaration as WCO DM 3.6 XML, for anyone who may see it (declarant, trader, officer)."""
    declaration = get_object_or_404(declaration_list_for_user(request.user), pk=pk)
    try:
        content, filename = declaration_wcodm_export(declaration)
    except ExportFailed as failed:
        return HttpResponse(str(failed), status=500, content_type="text/plain; charset=utf-8")
    response = HttpResponse(content, content_type="application/xml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
