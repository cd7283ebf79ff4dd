"""What the officer and the portal declaration pages show alike: field labels, printed documents,
attached files; and the gate of every officer page (``officer_required``, also used by later apps)."""

import functools
import os

from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.http import FileResponse, Http404
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _


def field_label(model, name: str) -> str:
    """The field's verbose name, or the name itself for a path that is no model field (``documents``)."""
    try:
        return str(model._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name


def print_links(declaration) -> list[tuple[str, str]]:
    """Links to the printed documents: the SAD and the WCO DM XML always, the assessment notice once
    assessed, the release order once released."""
    wanted = [
        ("declaration-prints:sad", _("Single Administrative Document (PDF)")),
        ("declaration-prints:wcodm", _("WCO Data Model (XML)")),
    ]
    if declaration.assessment_number is not None:
        wanted.insert(0, ("declaration-prints:assessment-notice", _("Assessment notice (PDF)")))
    if declaration.status == "released":
        wanted.insert(0, ("declaration-prints:release-order", _("Release order (PDF)")))
    links = []
    for name, label in wanted:
        try:
            links.append((reverse(name, args=[declaration.pk]), label))
        except NoReverseMatch:  # the print URLs are not mounted in this deployment
            continue
    return links


def document_file_response(user, declaration_pk, document_pk) -> FileResponse:
    """The scanned file of an attached document, for a user who may see the declaration; 404
    otherwise. Uploaded files are never served from MEDIA_URL: every read is checked here."""
    from declarations.models import DeclarationDocument
    from declarations.selectors import declaration_document_get

    try:
        document = declaration_document_get(user, declaration_pk, document_pk)
    except DeclarationDocument.DoesNotExist as error:
        raise Http404(_("No such document.")) from error
    if not document.file:
        raise Http404(_("This document has no file."))
    return FileResponse(
        document.file.open("rb"),
        content_type=document.content_type or None,
        filename=os.path.basename(document.file.name),
        as_attachment=False,
    )


def officer_required(view):
    """Signed in, and an officer, supervisor or superuser; anyone else is refused (403)."""
    from declarations.selectors import is_officer_user

    @functools.wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if not is_officer_user(request.user):
            raise PermissionDenied(_("Only customs officers may open this page."))
        return view(request, *args, **kwargs)

    return wrapped
