"""What the officer and the portal declaration pages show alike: field labels, printed documents."""

from django.core.exceptions import FieldDoesNotExist
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _


def field_label(model, name: str) -> str:
    """The field's verbose name, or the name itself for a path that is no model field (``documents``)."""
    try:
        return str(model._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name


def print_links(declaration) -> list[tuple[str, str]]:
    """Links to the printed documents: the SAD always, the assessment notice once assessed."""
    wanted = [("declaration-prints:sad", _("Single Administrative Document (PDF)"))]
    if declaration.assessment_number is not None:
        wanted.insert(0, ("declaration-prints:assessment-notice", _("Assessment notice (PDF)")))
    links = []
    for name, label in wanted:
        try:
            links.append((reverse(name, args=[declaration.pk]), label))
        except NoReverseMatch:  # the print URLs are not mounted in this deployment
            continue
    return links
