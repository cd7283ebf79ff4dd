"""Reads of the risk module, scoped to the user: worklists, examinations, the selectivity of a
declaration, the post-clearance audit queue."""

from django.db.models import Prefetch, QuerySet

from declarations.services.control import LANE_STATES
from risk.choices import ExaminationStatus
from risk.models import CriterionHit, Examination, PostClearanceAudit, Selectivity


def _office_ids(user) -> list[int] | None:
    """The offices whose work ``user`` sees; ``None``: all (a superuser)."""
    if user.is_superuser:
        return None
    return list(user.offices.values_list("pk", flat=True))


def _hits_prefetch() -> Prefetch:
    return Prefetch(
        "declaration__criterion_hits",
        queryset=CriterionHit.objects.select_related("version", "criterion").order_by("pk"),
    )


def worklist_for(officer) -> QuerySet[Examination]:
    """The officer's open examinations, oldest first, with the declaration and the criteria that hit it
    (their notes for the officer)."""
    return (
        Examination.objects.filter(
            officer=officer, status=ExaminationStatus.ASSIGNED, declaration__status__in=LANE_STATES
        )
        .select_related("declaration", "declaration__trader", "declaration__office", "office")
        .prefetch_related(_hits_prefetch())
        .order_by("created_at", "pk")
    )


def examination_list_for_user(user) -> QuerySet[Examination]:
    """Examinations of the user's offices (every office for a superuser)."""
    examinations = Examination.objects.select_related(
        "declaration", "declaration__trader", "declaration__office", "office", "officer"
    )
    offices = _office_ids(user)
    return examinations if offices is None else examinations.filter(office_id__in=offices)


def examination_get_for_user(user, pk) -> Examination:
    """One examination of the user's offices, with its findings and the criteria hits; raises
    ``Examination.DoesNotExist`` otherwise."""
    return (
        examination_list_for_user(user)
        .prefetch_related(_hits_prefetch(), "findings", "declaration__items")
        .get(pk=pk)
    )


def declaration_selectivity(declaration) -> dict:
    """What selectivity made of a declaration: the result, the hits (with the criteria's versions),
    the examinations (newest first) and the post-clearance audit, if any."""
    selectivity = Selectivity.objects.filter(declaration=declaration).first()
    hits = list(
        CriterionHit.objects.filter(declaration=declaration)
        .select_related("version", "criterion")
        .order_by("pk")
    )
    examinations = list(
        Examination.objects.filter(declaration=declaration)
        .select_related("officer")
        .prefetch_related("findings")
        .order_by("-created_at", "-pk")
    )
    audit = PostClearanceAudit.objects.filter(declaration=declaration).select_related("auditor").first()
    return {"selectivity": selectivity, "hits": hits, "examinations": examinations, "audit": audit}


def audit_queue_for_user(user, *, open_only: bool = True) -> QuerySet[PostClearanceAudit]:
    """Post-clearance audits of the user's offices, oldest first (the open ones unless asked)."""
    audits = PostClearanceAudit.objects.select_related(
        "declaration", "declaration__trader", "declaration__office", "office", "auditor"
    ).order_by("queued_at", "pk")
    if open_only:
        audits = audits.filter(completed_at__isnull=True)
    offices = _office_ids(user)
    return audits if offices is None else audits.filter(office_id__in=offices)
