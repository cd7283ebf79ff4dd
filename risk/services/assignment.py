"""Who examines: the system assigns each yellow or red declaration to the least-loaded eligible officer
of its office. Neither the declarant nor the officer chooses; only a supervisor reassigns, with a
reason, and that is audited.

Eligible: an active user with the officer role, posted at the office, acting for no trader or broker.
Least loaded: fewest open examinations; then fewest assigned today; then the lowest id (a stable,
auditable order). Assignments at one office are serialised by a PostgreSQL advisory lock, so two
declarations scored at once do not both go to the same officer on the same stale count.
"""

from functools import cache

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from customs.choices import Role
from customs.rows import row_insert
from customs.services.audit import audit_record
from declarations.choices import Lane
from declarations.services.control import LANE_STATES
from declarations.services.errors import DeclarationInvalid, FieldError, NotAuthorised, TransitionNotAllowed
from risk.choices import ExaminationKind, ExaminationStatus
from risk.models import Examination
from risk.services.permissions import ensure_supervisor_of

ASSIGNMENT_LOCK = 7_351_101  # advisory lock class of assignments (with the office's id)
SWEEP_BATCH = 1000  # waiting examinations the sweeper looks at in one run


def eligible_officers(office) -> QuerySet:
    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            groups__name=Role.OFFICER,
            offices=office,
            trader__isnull=True,
            broker__isnull=True,
        )
        .distinct()
    )


def _office_lock(office) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [ASSIGNMENT_LOCK, office.pk])


def office_assignments_lock(office) -> None:
    """Hold the assignments of ``office`` until commit. Take it before the transaction writes its first
    audit event (which takes the audit chain's lock): assignments take this lock, then the chain's."""
    _office_lock(office)


def examination_open(*, declaration, lane: str) -> Examination:
    """The examination a yellow (documentary) or red (physical) lane needs, assigned at once when an
    officer is eligible (else it waits, and the sweeper assigns it when one is).

    Under the office's lock the least-loaded officer is chosen, then the examination is inserted
    already assigned (one insert, no re-read: every scored yellow or red declaration passes here)."""
    kind = ExaminationKind.PHYSICAL if lane == Lane.RED else ExaminationKind.DOCUMENTARY
    office = declaration.office
    # No savepoint: the callers catch nothing, so a failure here fails their transaction.
    with transaction.atomic(savepoint=False):
        _office_lock(office)
        now = timezone.now()
        examination = Examination(declaration=declaration, office=office, kind=kind, created_at=now)
        officer = _least_loaded_officer(office)
        if officer is not None:
            examination.officer_id, examination.status, examination.assigned_at = (
                officer[0],
                ExaminationStatus.ASSIGNED,
                now,
            )
        row_insert(examination)
        if officer is not None:
            _assigned_audit(examination, officer[1])
    return examination


def _assigned_audit(examination: Examination, username: str) -> None:
    audit_record(
        action="risk.examination.assigned",
        obj=examination,
        office_code=examination.office.code,
        after={"officer": username, "kind": examination.kind, "declaration": examination.declaration_id},
    )


@cache
def _least_loaded_sql() -> str:
    """The least-loaded eligible officer (the same officers as ``eligible_officers``), in a statement
    whose text never changes: every scored yellow or red declaration asks."""
    user = get_user_model()
    groups, offices = user._meta.get_field("groups"), user._meta.get_field("offices")
    examination = Examination._meta.db_table
    return f"""
SELECT officer.id, officer.username
FROM {user._meta.db_table} AS officer
WHERE officer.is_active AND officer.trader_id IS NULL AND officer.broker_id IS NULL
  AND EXISTS (
      SELECT 1 FROM {groups.m2m_db_table()} AS membership
      JOIN {groups.related_model._meta.db_table} AS role ON role.id = membership.{groups.m2m_reverse_name()}
      WHERE membership.{groups.m2m_column_name()} = officer.id AND role.name = %(role)s)
  AND EXISTS (
      SELECT 1 FROM {offices.m2m_db_table()} AS posting
      WHERE posting.{offices.m2m_column_name()} = officer.id
        AND posting.{offices.m2m_reverse_name()} = %(office)s)
ORDER BY
  (SELECT count(*) FROM {examination} AS examination
    WHERE examination.officer_id = officer.id AND examination.status = %(assigned)s),
  (SELECT count(*) FROM {examination} AS examination
    WHERE examination.officer_id = officer.id
      AND (examination.assigned_at AT TIME ZONE %(zone)s)::date = %(today)s),
  officer.id
LIMIT 1
"""  # noqa: S608 (names from the models, values parameters)


def _least_loaded_officer(office) -> tuple[int, str] | None:
    """The id and username of the least-loaded eligible officer of ``office``: fewest open
    examinations, then fewest assigned today (the current time zone's day), then the lowest id;
    ``None`` when nobody is eligible."""
    with connection.cursor() as cursor:
        cursor.execute(
            _least_loaded_sql(),
            {
                "role": Role.OFFICER.value,
                "office": office.pk,
                "assigned": ExaminationStatus.ASSIGNED.value,
                "zone": timezone.get_current_timezone_name(),
                "today": timezone.localdate(),
            },
        )
        row = cursor.fetchone()
    return None if row is None else (row[0], row[1])


def examination_assign_auto(examination: Examination) -> Examination:
    """Assign an unassigned examination to the least-loaded eligible officer (no-op if none is)."""
    with transaction.atomic():
        _office_lock(examination.office)
        locked = Examination.objects.select_for_update().get(pk=examination.pk)
        if locked.status != ExaminationStatus.UNASSIGNED:
            return locked
        officer = _least_loaded_officer(locked.office)
        if officer is None:
            return locked
        locked.officer_id, locked.status, locked.assigned_at = (
            officer[0],
            ExaminationStatus.ASSIGNED,
            timezone.now(),
        )
        locked.save(update_fields=["officer", "status", "assigned_at"])
        _assigned_audit(locked, officer[1])
    examination.officer, examination.status, examination.assigned_at = (
        locked.officer,
        locked.status,
        locked.assigned_at,
    )
    return locked


def examinations_unassigned_assign() -> int:
    """Assign the examinations that waited for an eligible officer (the sweeper); returns how many.

    Only those at offices where an officer is eligible now, of declarations still taking a lane: the
    waiting examinations of a post without officers would otherwise fill every batch, and those of
    every other office would wait for ever."""
    staffed_offices = (
        get_user_model()
        .objects.filter(
            is_active=True,
            groups__name=Role.OFFICER,
            trader__isnull=True,
            broker__isnull=True,
            offices__isnull=False,
        )
        .values("offices")
    )
    assigned = 0
    for examination in (
        Examination.objects.filter(
            status=ExaminationStatus.UNASSIGNED,
            office__in=staffed_offices,
            declaration__status__in=LANE_STATES,
        )
        .select_related("office")
        .order_by("created_at", "pk")[:SWEEP_BATCH]
    ):
        if examination_assign_auto(examination).status == ExaminationStatus.ASSIGNED:
            assigned += 1
    return assigned


def examination_reassign(*, actor, examination: Examination, officer, reason: str) -> Examination:
    """A supervisor of the office gives an open examination to another eligible officer."""
    reason = (reason or "").strip()
    if not reason:
        raise DeclarationInvalid(
            [FieldError("reason", "required", _("Give the reason; it is kept in the history."))]
        )
    with transaction.atomic():
        _office_lock(examination.office)
        locked = (
            # Only the examination's row: the officer is a nullable (outer) join, which PostgreSQL
            # cannot lock, and the office's row must not be (it would hold up the whole office).
            Examination.objects.select_for_update(of=("self",))
            .select_related("office", "officer")
            .get(pk=examination.pk)
        )
        ensure_supervisor_of(actor, locked.office)
        if not locked.is_open:
            raise TransitionNotAllowed(_("This examination is closed."))
        if officer is None or not eligible_officers(locked.office).filter(pk=officer.pk).exists():
            raise DeclarationInvalid(
                [FieldError("officer", "not_eligible", _("Choose an officer posted at this office."))]
            )
        if locked.officer_id == officer.pk:
            raise DeclarationInvalid(
                [
                    FieldError(
                        "officer", "unchanged", _("The examination is assigned to this officer already.")
                    )
                ]
            )
        before = locked.officer.username if locked.officer_id else None
        locked.officer, locked.status, locked.assigned_at = (
            officer,
            ExaminationStatus.ASSIGNED,
            timezone.now(),
        )
        locked.save(update_fields=["officer", "status", "assigned_at"])
        audit_record(
            action="risk.examination.reassigned",
            actor=actor,
            obj=locked,
            office_code=locked.office.code,
            before={"officer": before},
            after={"officer": officer.username, "reason": reason},
        )
    return locked


def ensure_assigned_officer(actor, examination: Examination) -> None:
    if actor is None or examination.officer_id != actor.pk:
        raise NotAuthorised(_("Only the officer assigned to this examination may record it."))


def examinations_of_closed_declarations_cancel() -> int:
    """Cancel the open examinations of declarations cancelled, rejected or withdrawn meanwhile (the
    declarations module cannot call risk, to its right: the sweeper looks); returns how many."""
    closed = Examination.objects.filter(
        status__in=[ExaminationStatus.UNASSIGNED, ExaminationStatus.ASSIGNED]
    ).exclude(declaration__status__in=LANE_STATES)
    cancelled = 0
    for examination in closed.select_related("office", "declaration")[:SWEEP_BATCH]:
        with transaction.atomic():
            locked = Examination.objects.select_for_update(of=("self",)).get(pk=examination.pk)
            if not locked.is_open:
                continue
            locked.status, locked.completed_at = ExaminationStatus.CANCELLED, timezone.now()
            locked.report = _("Cancelled: the declaration is %(status)s.") % {
                "status": examination.declaration.get_status_display().lower()
            }
            locked.save(update_fields=["status", "completed_at", "report"])
            audit_record(
                action="risk.examination.cancelled",
                obj=locked,
                office_code=examination.office.code,
                after={"declaration": locked.declaration_id, "status": examination.declaration.status},
            )
            cancelled += 1
    return cancelled
