"""The control of a lane: documentary checks, physical examinations with findings, post-clearance
audits, and the supervisor's change of lane.

A finding of a discrepancy carries the corrected values; completing the examination re-assesses the
declaration with them (``declarations.services.lifecycle.declaration_reassess``), so the trader sees the
new amount to pay, and ends the control (``declarations.services.control``): release follows payment.
Prohibited goods end the examination with the goods held: no release until a supervisor decides.
"""

from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from customs.files import content_matches
from customs.services.audit import audit_record
from declarations.choices import Lane
from declarations.models import DeclarationItem
from declarations.services import control as declaration_control
from declarations.services import lifecycle
from declarations.services.errors import DeclarationInvalid, FieldError, TransitionNotAllowed
from declarations.services.locking import declaration_lock
from risk.choices import (
    ExaminationKind,
    ExaminationStatus,
    FindingResult,
    SelectionSource,
)
from risk.models import Examination, Finding, PostClearanceAudit, Selectivity
from risk.services.assignment import ensure_assigned_officer, examination_open, office_assignments_lock
from risk.services.permissions import ensure_officer_at, ensure_supervisor_of

PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
PHOTO_MAX_BYTES = 10 * 1024 * 1024
# The corrected values each kind of discrepancy takes (fields of the declaration item).
CORRECTIONS = {
    FindingResult.CLASSIFICATION: ("commodity_code",),
    FindingResult.VALUE: ("invoice_price",),
    FindingResult.QUANTITY: ("net_mass", "gross_mass", "packages_number", "quantities"),
    FindingResult.ORIGIN: ("origin",),
    FindingResult.PROHIBITED: (),
    FindingResult.CONFORM: (),
}
_DECIMAL_FIELDS = ("invoice_price", "net_mass", "gross_mass")


def _locked_open(examination: Examination, actor) -> Examination:
    # The declaration first, as every move on it locks it (a lane change, the end of the control), then
    # only the examination's row: a plain FOR UPDATE would lock the office's row too, holding up every
    # examination of the office.
    declaration_lock(examination.declaration_id)
    locked = (
        Examination.objects.select_for_update(of=("self",))
        .select_related("declaration", "office")
        .get(pk=examination.pk)
    )
    ensure_assigned_officer(actor, locked)
    if locked.status != ExaminationStatus.ASSIGNED:
        raise TransitionNotAllowed(_("This examination is closed."))
    return locked


def _close(
    locked: Examination, actor, status: str, report: str, action: str, extra: dict | None = None
) -> None:
    locked.status, locked.completed_at, locked.report = status, timezone.now(), (report or "").strip()
    locked.save(update_fields=["status", "completed_at", "report"])
    audit_record(
        action=f"risk.examination.{action}",
        actor=actor,
        obj=locked,
        office_code=locked.office.code,
        after={
            "declaration": locked.declaration_id,
            "status": status,
            "report": locked.report,
            **(extra or {}),
        },
    )


def documentary_accept(*, actor, examination: Examination, report: str = "") -> Examination:
    """The documents are in order: the check is done and the declaration's control ends."""
    with transaction.atomic():
        locked = _locked_open(examination, actor)
        if locked.kind != ExaminationKind.DOCUMENTARY:
            raise TransitionNotAllowed(_("A physical examination ends with its findings."))
        _close(locked, actor, ExaminationStatus.DONE, report, "accepted")
        declaration_control.declaration_control_complete(
            actor=actor, declaration=locked.declaration, reason=report or _("Documentary check: in order.")
        )
    return locked


def documentary_query(*, actor, examination: Examination, question: str) -> Examination:
    """Ask the declarant for documents or an explanation; the check stays open until accepted."""
    with transaction.atomic():
        locked = _locked_open(examination, actor)
        lifecycle.declaration_query(actor=actor, declaration=locked.declaration, reason=question)
        audit_record(
            action="risk.examination.queried",
            actor=actor,
            obj=locked,
            office_code=locked.office.code,
            after={"declaration": locked.declaration_id, "question": question.strip()},
        )
    return locked


def _quantities_clean(value) -> dict | None:
    """``{unit: amount}`` with each amount a number of zero or more, as strings; ``None`` if it is not."""
    if not isinstance(value, dict):
        return None
    cleaned = {}
    for unit, amount in value.items():
        try:
            number = Decimal(str(amount).replace(",", "."))
        except InvalidOperation:
            return None
        if not str(unit).strip() or not number.is_finite() or number < 0:
            return None
        cleaned[str(unit).strip()] = str(number)
    return cleaned


def _corrections_clean(result: str, corrections: dict, item_number: int) -> dict:
    allowed = CORRECTIONS[result]
    cleaned, errors = {}, []
    prefix = f"findings[{item_number}]"
    for name in allowed:
        value = corrections.get(name)
        if value in (None, "", {}):
            continue
        if name in _DECIMAL_FIELDS:
            try:
                number = Decimal(str(value).replace(",", "."))
            except InvalidOperation:
                number = None
            if number is None or not number.is_finite() or number < 0:
                errors.append(FieldError(f"{prefix}.{name}", "invalid", _("Give a number of zero or more.")))
                continue
            cleaned[name] = str(number)
        elif name == "packages_number":
            try:
                cleaned[name] = int(value)
            except (TypeError, ValueError):
                errors.append(FieldError(f"{prefix}.{name}", "invalid", _("Give a whole number.")))
        elif name == "quantities":
            quantities = _quantities_clean(value)
            if quantities is None:
                errors.append(
                    FieldError(
                        f"{prefix}.quantities",
                        "invalid",
                        _("Give each quantity as a number of zero or more."),
                    )
                )
                continue
            cleaned[name] = quantities
        else:
            cleaned[name] = str(value).strip().upper() if name == "origin" else str(value).strip()
    if result not in (FindingResult.CONFORM, FindingResult.PROHIBITED) and not cleaned and not errors:
        errors.append(
            FieldError(
                f"{prefix}.corrections", "required", _("Give the corrected values of this discrepancy.")
            )
        )
    if errors:
        raise DeclarationInvalid(errors)
    return cleaned


def _photo_check(photo, item_number: int) -> str:
    content_type = getattr(photo, "content_type", "") or ""
    field = f"findings[{item_number}].photo"
    if content_type not in PHOTO_TYPES:
        raise DeclarationInvalid([FieldError(field, "file_type", _("Upload a photo as JPEG, PNG or WebP."))])
    if photo.size > PHOTO_MAX_BYTES:
        raise DeclarationInvalid([FieldError(field, "file_size", _("The photo is larger than 10 MB."))])
    if not content_matches(photo, content_type):
        raise DeclarationInvalid(
            [FieldError(field, "file_type", _("The file is not the image it says it is."))]
        )
    return content_type


def finding_record(
    *,
    actor,
    examination: Examination,
    item_number: int,
    result: str,
    corrections=None,
    note: str = "",
    photo=None,
) -> Finding:
    """Record (or correct) what the examination found on one item."""
    if result not in FindingResult.values:
        raise DeclarationInvalid(
            [FieldError(f"findings[{item_number}].result", "invalid", _("Choose the result."))]
        )
    with transaction.atomic():
        locked = _locked_open(examination, actor)
        if locked.kind != ExaminationKind.PHYSICAL:
            raise TransitionNotAllowed(_("Findings are recorded on a physical examination."))
        if not DeclarationItem.objects.filter(
            declaration_id=locked.declaration_id, number=item_number
        ).exists():
            raise DeclarationInvalid(
                [
                    FieldError(
                        f"findings[{item_number}]",
                        "not_found",
                        _("There is no item %(n)s.") % {"n": item_number},
                    )
                ]
            )
        cleaned = _corrections_clean(result, corrections or {}, item_number)
        content_type = _photo_check(photo, item_number) if photo else ""
        finding, _created = Finding.objects.update_or_create(
            examination=locked,
            item_number=item_number,
            defaults={
                "result": result,
                "corrections": cleaned,
                "note": (note or "").strip(),
                "recorded_by": actor,
                "recorded_at": timezone.now(),
            },
        )
        if photo:
            finding.photo.save(photo.name, photo, save=False)
            finding.photo_content_type = content_type
            finding.save(update_fields=["photo", "photo_content_type"])
        audit_record(
            action="risk.finding.recorded",
            actor=actor,
            obj=finding,
            office_code=locked.office.code,
            after={"item": item_number, "result": result, "corrections": cleaned, "photo": bool(photo)},
        )
    return finding


def _totals_of_corrected(declaration, item_changes: dict) -> dict:
    """The declaration's invoice amount and total packages summed again over the corrected items: the
    re-assessment checks that the items add up to them, as at lodgement."""
    corrected = {name for row in item_changes.values() for name in row}
    items = list(DeclarationItem.objects.filter(declaration_id=declaration.pk))

    def value(item, name):
        return item_changes.get(str(item.number), {}).get(name, getattr(item, name))

    totals = {}
    if "invoice_price" in corrected and declaration.invoice_amount is not None:
        totals["invoice_amount"] = str(
            sum((Decimal(str(value(item, "invoice_price") or 0)) for item in items), Decimal(0))
        )
    if "packages_number" in corrected and declaration.total_packages is not None:
        totals["total_packages"] = sum(int(value(item, "packages_number") or 0) for item in items)
    return totals


def examination_complete(*, actor, examination: Examination, report: str = "") -> Examination:
    """End a physical examination: every item has its finding. Discrepancies re-assess the declaration
    with the corrected values; prohibited goods hold it; otherwise the control ends."""
    with transaction.atomic():
        locked = _locked_open(examination, actor)
        if locked.kind != ExaminationKind.PHYSICAL:
            raise TransitionNotAllowed(_("A documentary check ends by accepting the documents."))
        findings = {finding.item_number: finding for finding in locked.findings.all()}
        numbers = list(
            DeclarationItem.objects.filter(declaration_id=locked.declaration_id)
            .order_by("number")
            .values_list("number", flat=True)
        )
        missing = [number for number in numbers if number not in findings]
        if missing:
            raise DeclarationInvalid(
                [
                    FieldError(
                        f"findings[{number}]",
                        "required",
                        _("Record what you found on item %(n)s.") % {"n": number},
                    )
                    for number in missing
                ]
            )
        if any(finding.result == FindingResult.PROHIBITED for finding in findings.values()):
            _close(locked, actor, ExaminationStatus.HELD, report, "goods_held")
            return locked
        item_changes = {
            str(number): finding.corrections
            for number, finding in sorted(findings.items())
            if finding.is_discrepancy and finding.corrections
        }
        declaration = locked.declaration
        if item_changes:
            kinds = sorted(
                {str(FindingResult(f.result).label) for f in findings.values() if f.is_discrepancy}
            )
            declaration = lifecycle.declaration_reassess(
                actor=actor,
                declaration=declaration,
                changes={"item_changes": item_changes, **_totals_of_corrected(declaration, item_changes)},
                reason=_("Physical examination: %(found)s.") % {"found": "; ".join(kinds)},
            )
        _close(locked, actor, ExaminationStatus.DONE, report, "completed", {"reassessed": bool(item_changes)})
        declaration_control.declaration_control_complete(
            actor=actor, declaration=declaration, reason=report or _("Physical examination done.")
        )
    return locked


def lane_change(*, actor, declaration, lane: str, reason: str):
    """A supervisor of the office changes the lane, with the reason: open examinations are cancelled; a
    lane with control gets a new examination, assigned by the system."""
    ensure_supervisor_of(actor, declaration.office)
    with transaction.atomic():
        # The locks in the order scoring takes them: the declaration, the office's assignments, then
        # (with the first audit event) the audit chain; the other order deadlocks against the sweeper.
        declaration_lock(declaration.pk)
        office_assignments_lock(declaration.office)
        changed = declaration_control.declaration_lane_change(
            actor=actor, declaration=declaration, lane=lane, reason=reason
        )
        now = timezone.now()
        for open_examination in Examination.objects.select_for_update().filter(
            declaration=changed, status__in=[ExaminationStatus.UNASSIGNED, ExaminationStatus.ASSIGNED]
        ):
            open_examination.status, open_examination.completed_at = ExaminationStatus.CANCELLED, now
            open_examination.report = _("Cancelled: the lane was changed to %(lane)s.") % {
                "lane": Lane(lane).label.lower()
            }
            open_examination.save(update_fields=["status", "completed_at", "report"])
        Selectivity.objects.filter(declaration=changed).update(lane=lane, source=SelectionSource.SUPERVISOR)
        if lane in declaration_control.CONTROLLED_LANES:
            examination_open(declaration=changed, lane=lane)
        elif lane == Lane.BLUE:
            PostClearanceAudit.objects.get_or_create(
                declaration=changed, defaults={"office_id": changed.office_id, "queued_at": now}
            )
    return changed


def post_clearance_audit_record(
    *, actor, audit: PostClearanceAudit, outcome: str, note: str = ""
) -> PostClearanceAudit:
    """Record the outcome of a post-clearance audit (an officer or supervisor of the office)."""
    from risk.choices import AuditOutcome

    if outcome not in AuditOutcome.values:
        raise DeclarationInvalid([FieldError("outcome", "invalid", _("Choose the outcome."))])
    note = (note or "").strip()
    if outcome == AuditOutcome.DISCREPANCY and not note:
        raise DeclarationInvalid([FieldError("note", "required", _("Say what was found."))])
    with transaction.atomic():
        locked = (
            PostClearanceAudit.objects.select_for_update(of=("self",))
            .select_related("office")
            .get(pk=audit.pk)
        )
        ensure_officer_at(actor, locked.office)
        if locked.completed_at is not None:
            raise TransitionNotAllowed(_("This audit has been recorded already."))
        locked.outcome, locked.note, locked.auditor, locked.completed_at = (
            outcome,
            note,
            actor,
            timezone.now(),
        )
        locked.save(update_fields=["outcome", "note", "auditor", "completed_at"])
        audit_record(
            action="risk.post_clearance_audit.recorded",
            actor=actor,
            obj=locked,
            office_code=locked.office.code,
            after={"declaration": locked.declaration_id, "outcome": outcome, "note": note},
        )
    return locked
