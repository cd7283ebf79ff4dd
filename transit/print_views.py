"""The transit accompanying document as a PDF: the original (printed by the worker on release) for
whoever may see the movement, and reprints (duplicates) that an officer of the office of departure asks
for, audited. While a document is being prepared the page reloads itself every two seconds."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from declarations.print_views import document_language
from declarations.services.errors import NotAuthorised, TransitionNotAllowed
from transit.models import TadPrint
from transit.selectors import movement_list_for_user
from transit.services.documents import tad_original_request, tad_reprint_request

WAIT_REFRESH_SECONDS = 2


def _serve_or_wait(request, movement, document: TadPrint):
    if document.status == TadPrint.Status.READY:
        response = FileResponse(
            document.file.open("rb"),
            content_type="application/pdf",
            as_attachment=request.GET.get("download") == "1",
            filename=document.file.name.rsplit("/", 1)[-1],
        )
        response["Cache-Control"] = "private, no-store"
        return response
    reload_url = request.get_full_path()
    response = render(
        request,
        "transit/tad_wait.html",
        {
            "movement": movement,
            "document": document,
            "refresh_seconds": WAIT_REFRESH_SECONDS,
            "reload_url": reload_url,
        },
    )
    if document.status == TadPrint.Status.PENDING:
        response["Refresh"] = f"{WAIT_REFRESH_SECONDS}; url={reload_url}"
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def tad_original(request, pk: int):
    """The original TAD of a released movement (PDF), or the wait page."""
    movement = get_object_or_404(movement_list_for_user(request.user), pk=pk)
    document = tad_original_request(movement.pk)
    if document is None:
        raise Http404("This movement is not released: it has no transit accompanying document.")
    return _serve_or_wait(request, movement, document)


@login_required
@require_POST
def tad_reprint(request, pk: int):
    """An officer of the office of departure reprints the TAD: a duplicate, audited."""
    movement = get_object_or_404(movement_list_for_user(request.user), pk=pk)
    if not movement.mrn:
        raise Http404("This movement is not released.")
    try:
        document = tad_reprint_request(
            actor=request.user, movement=movement, language=document_language(request)
        )
    except NotAuthorised as refused:
        raise PermissionDenied(str(refused)) from refused
    except TransitionNotAllowed as refused:
        messages.error(request, str(refused))
        return redirect("transit:detail", pk=movement.pk)
    return redirect("transit-prints:print", pk=movement.pk, print_id=document.pk)


@login_required
@require_GET
def tad_print(request, pk: int, print_id: int):
    """One printed TAD (original or duplicate) of a movement the user may see."""
    movement = get_object_or_404(movement_list_for_user(request.user), pk=pk)
    document = get_object_or_404(TadPrint, pk=print_id, movement=movement)
    return _serve_or_wait(request, movement, document)
