"""Reads of the officers' and supervisors' screens of the risk module (worklist, examination page,
supervisor's board, panels on the declaration pages), built on ``risk.selectors`` and scoped the same
way: to the user's offices."""

from decimal import Decimal, InvalidOperation

from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When

from customs.models import CustomsOffice
from customs.selectors import audit_event_list_for_object
from declarations.services.control import CONTROLLED_LANES
from risk.choices import OPEN_EXAMINATION_STATES, ExaminationStatus
from risk.engine import explanation_text
from risk.models import CriterionHit, Examination, Finding
from risk.selectors import (
    audit_queue_for_user,
    declaration_selectivity,
    examination_get_for_user,
    examination_list_for_user,
    worklist_for,
)
from risk.services.assignment import eligible_officers
from risk.services.permissions import is_supervisor_of

REASSESSED_ACTION = "declarations.declaration.reassessed"


def hit_rows(hits) -> list[dict]:
    """The criteria hits as the officer reads them: code, name, lane, why (in the reader's language)
    and the notes of the version that hit. For customs staff only (the internal note)."""
    return [
        {
            "hit": hit,
            "code": hit.criterion.code,
            "name": hit.criterion.name,
            "version": hit.version.number,
            "lane": hit.lane,
            "lane_label": hit.get_lane_display(),
            "item_number": hit.item_number,
            "explanation": explanation_text(hit.explanation, hit.item_number),
            "officer_note": hit.version.officer_note,
            "internal_note": hit.version.internal_note,
        }
        for hit in hits
    ]


def _officer_notes(hits: list[CriterionHit]) -> list[str]:
    notes = []
    for hit in hits:
        note = hit.version.officer_note.strip()
        if note and note not in notes:
            notes.append(note)
    return notes


def worklist_rows(officer) -> list[dict]:
    """The officer's open examinations, oldest first, each with the notes for the officer of the
    criteria that hit its declaration (each note once)."""
    return [
        {
            "examination": examination,
            "declaration": examination.declaration,
            "notes": _officer_notes(list(examination.declaration.criterion_hits.all())),
        }
        for examination in worklist_for(officer)
    ]


def examination_page(user, pk) -> dict:
    """What the examination page shows: the examination, its declaration and items, the hits with
    their explanation and notes, the findings by item number. ``Examination.DoesNotExist`` when the
    examination is not of the user's offices."""
    examination = examination_get_for_user(user, pk)
    declaration = examination.declaration
    findings = {finding.item_number: finding for finding in examination.findings.all()}
    items = sorted(declaration.items.all(), key=lambda item: item.number)
    return {
        "examination": examination,
        "declaration": declaration,
        "items": items,
        "hits": hit_rows(declaration.criterion_hits.all()),
        "findings": findings,
        "rows": [{"item": item, "finding": findings.get(item.number)} for item in items],
    }


def finding_get_for_user(user, pk) -> Finding:
    """One finding of an examination of the user's offices (``Finding.DoesNotExist`` otherwise)."""
    return Finding.objects.select_related("examination").get(
        pk=pk, examination__in=examination_list_for_user(user)
    )


def supervised_offices(user) -> list[CustomsOffice]:
    """The offices ``user`` supervises (every active office for a superuser)."""
    if not user.is_authenticated:
        return []
    candidates = CustomsOffice.objects.filter(active=True) if user.is_superuser else user.offices.all()
    return [office for office in candidates.order_by("code") if is_supervisor_of(user, office)]


def office_open_examinations(offices) -> QuerySet[Examination]:
    """The open examinations of ``offices``: those waiting for an officer first, then the oldest."""
    return (
        Examination.objects.filter(office__in=offices, status__in=OPEN_EXAMINATION_STATES)
        .select_related("declaration", "declaration__trader", "declaration__office", "office", "officer")
        .annotate(
            waiting_first=Case(
                When(status=ExaminationStatus.UNASSIGNED, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("waiting_first", "created_at", "pk")
    )


def officer_loads(offices) -> list[dict]:
    """Per office, its eligible officers with the number of open examinations each holds (at any
    office, as the system counts when it gives new work to the least loaded), the most loaded first."""
    loads = []
    for office in offices:
        officers = list(
            eligible_officers(office)
            .annotate(
                open_count=Count("examinations", filter=Q(examinations__status=ExaminationStatus.ASSIGNED))
            )
            .order_by("-open_count", "username")
        )
        loads.append({"office": office, "officers": officers})
    return loads


def _decimal(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def declaration_reassessment(declaration) -> dict | None:
    """The re-assessment of ``declaration`` after its checks, from the audit trail: the total of duties
    and taxes before the first re-assessment, after the last one, and the difference to pay. ``None``
    when it was never re-assessed."""
    events = list(
        audit_event_list_for_object(declaration).filter(action=REASSESSED_ACTION).order_by("sequence")
    )
    if not events:
        return None
    before = _decimal(((events[0].after or {}).get("before") or {}).get("total_taxes"))
    after = _decimal(((events[-1].after or {}).get("after") or {}).get("total_taxes"))
    difference = after - before if before is not None and after is not None else None
    return {
        "at": events[-1].occurred_at,
        "before": before,
        "after": after,
        "difference": difference,
        "times": len(events),
    }


def declaration_check_state(declaration, examinations) -> str:
    """Where the lane's control stands, for the declarant: ``none`` (a lane without control),
    ``pending``, ``held`` (prohibited goods found) or ``done``."""
    if declaration.lane not in CONTROLLED_LANES:
        return "none"
    if any(examination.status == ExaminationStatus.HELD for examination in examinations):
        return "held"
    if declaration.control_done_at is not None:
        return "done"
    return "pending"


def audit_page(user, pk) -> dict:
    """What the post-clearance audit page shows: the audit (open or recorded), its declaration with
    the items, and the criteria that hit it. ``PostClearanceAudit.DoesNotExist`` when the audit is not
    of the user's offices."""
    audit = audit_queue_for_user(user, open_only=False).get(pk=pk)
    declaration = audit.declaration
    return {
        "audit": audit,
        "declaration": declaration,
        "items": list(declaration.items.order_by("number")),
        "hits": hit_rows(declaration_selectivity(declaration)["hits"]),
    }
