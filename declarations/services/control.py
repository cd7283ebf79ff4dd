"""The lane and its control, as the declaration keeps them: what the risk module calls.

Selectivity (``risk``) decides the lane; the declaration records it, with the time, in its history and
the audit trail. The history, which the declarant reads, says only the lane and when the check was
done; why (the criteria, the officer's report, the supervisor's reason) is for customs only and goes
to the audit event (``internal_reason``) and the risk module's own records.

Green and blue lanes need no control before release; yellow (documentary check) and red (physical
examination) do, and the risk module says when it is done. Release follows by itself once the
declaration is paid and its control done (``lifecycle.release_if_cleared``).
"""

import json
from functools import cache

from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from customs.rows import insert_sql, rows_json, rows_stored
from declarations.choices import Lane, Status
from declarations.models import Declaration, StatusChange
from declarations.services.errors import DeclarationInvalid, FieldError, TransitionNotAllowed
from declarations.services.lifecycle import _Move, release_if_cleared
from declarations.services.locking import declaration_lock

# Lanes whose control must be done by an officer before release.
CONTROLLED_LANES = frozenset({Lane.YELLOW, Lane.RED})
# What a lane or control move changes on the declaration (release included: it may follow at once).
_LANE_FIELDS = ("lane", "lane_assigned_at", "control_done_at", "status", "released_at")
# States in which a lane may be given or changed: registered and not yet released, cancelled or rejected.
LANE_STATES = frozenset(
    {
        Status.REGISTERED,
        Status.ASSESSED,
        Status.QUERIED,
        Status.AMENDMENT_REQUESTED,
        Status.CANCELLATION_REQUESTED,
        Status.PAID,
    }
)


def declaration_lane_assign(
    *, declaration_id: int, lane: str, explanation: str = "", locked: Declaration | None = None
) -> Declaration | None:
    """Give a registered declaration the lane that selectivity chose (the system's move).

    Idempotent: a declaration that has a lane keeps it (a supervisor changes it with
    :func:`declaration_lane_change`). Returns ``None`` when the declaration is no longer in a state that
    takes a lane (withdrawn, cancelled or rejected meanwhile). A paid declaration of a lane without
    control is released at once. ``locked``: the declaration as the caller already locked it in this
    transaction (selectivity does), which spares locking it again.
    """
    if lane not in Lane.values:
        raise ValueError(f"Unknown lane {lane!r}")
    # No savepoint: the caller (selectivity) catches nothing, so a failure here fails its transaction.
    with transaction.atomic(savepoint=False):
        declaration = locked if locked is not None and locked.pk == declaration_id else None
        if declaration is None:
            declaration = declaration_lock(declaration_id)
        if declaration.lane:
            return declaration
        if declaration.status not in LANE_STATES:
            return None
        move = _Move(declaration, None, _("Lane: %(lane)s.") % {"lane": Lane(lane).label.lower()})
        _lane_set(move, lane)
        released = release_if_cleared(move)
        _lane_move_write(move, content_changed=released)
        return move.announce(
            "lane_assigned", extra={"lane": lane, "released": released, "internal_reason": explanation}
        )


@cache
def _lane_move_sql() -> str:
    assignments = ", ".join(
        f'"{Declaration._meta.get_field(name).column}" = %s'
        for name in (*_LANE_FIELDS, "version", "updated_at")
    )
    return f"""
WITH changes AS ({insert_sql(StatusChange, many=True, then="RETURNING id")}),
declaration AS (
    UPDATE {Declaration._meta.db_table} SET {assignments} WHERE id = %s RETURNING id
)
SELECT (SELECT count(*) FROM declaration),
    (SELECT json_agg(changes.id ORDER BY changes.id) FROM changes)::text
"""  # noqa: S608 (names from the models, values parameters)


def _lane_move_write(move: _Move, *, content_changed: bool) -> None:
    """Write a lane's (or a control's) move in one statement whose text never changes: its status
    changes, and the declaration's lane fields with its version and time of change, as
    ``_Move.finish(fields=_LANE_FIELDS)`` would (the scoring worker's hot path: the ORM's update and
    ``bulk_create`` cost several times the CPU)."""
    declaration = move.declaration
    if content_changed:
        declaration.version += 1
    declaration.updated_at = timezone.now()  # ``auto_now``, as ``save()`` gives it
    values = [
        Declaration._meta.get_field(name).get_db_prep_save(getattr(declaration, name), connection)
        for name in (*_LANE_FIELDS, "version", "updated_at")
    ]
    with connection.cursor() as cursor:
        cursor.execute(_lane_move_sql(), [rows_json(StatusChange, move.changes), *values, declaration.pk])
        updated, change_ids = cursor.fetchone()
    if updated != 1:
        raise DatabaseError("The declaration's lane move updated no row.")
    rows_stored(move.changes, json.loads(change_ids) if change_ids else [])


def declaration_lane_change(*, actor, declaration: Declaration, lane: str, reason: str) -> Declaration:
    """A supervisor changes the lane, with the reason (the risk module checks the role). A lane with
    control starts its control anew; one without is cleared at once (and a paid declaration released)."""
    if lane not in Lane.values:
        raise DeclarationInvalid([FieldError("lane", "invalid", _("Choose a lane."))])
    reason = (reason or "").strip()
    if not reason:
        raise DeclarationInvalid(
            [FieldError("reason", "required", _("Give the reason; it is kept in the history."))]
        )
    with transaction.atomic():
        locked = declaration_lock(declaration.pk)
        if locked.status not in LANE_STATES:
            raise TransitionNotAllowed(
                _("The lane cannot change: the declaration is %(status)s.")
                % {"status": locked.get_status_display().lower()}
            )
        if locked.lane == lane:
            raise TransitionNotAllowed(
                _("The declaration is in the %(lane)s lane already.") % {"lane": Lane(lane).label.lower()}
            )
        before = locked.lane
        public = _("Lane changed from %(before)s to %(lane)s.") % {
            "before": Lane(before).label.lower() if before else "—",
            "lane": Lane(lane).label.lower(),
        }
        move = _Move(locked, actor, public)
        _lane_set(move, lane)
        released = release_if_cleared(move)
        return move.finish(
            "lane_changed",
            extra={"lane_before": before, "lane": lane, "released": released, "internal_reason": reason},
        )


def _lane_set(move: _Move, lane: str) -> None:
    declaration = move.declaration
    declaration.lane = lane
    declaration.lane_assigned_at = move.now
    declaration.control_done_at = None if lane in CONTROLLED_LANES else move.now
    move.to(f"lane_{lane}", declaration.status)


def declaration_control_complete(*, actor, declaration: Declaration, reason: str = "") -> Declaration:
    """The officer's control of a yellow or red lane is done (the risk module checks that ``actor`` is
    the officer assigned). A paid declaration is released at once; otherwise release follows payment."""
    with transaction.atomic():
        locked = declaration_lock(declaration.pk)
        if locked.lane not in CONTROLLED_LANES or locked.control_done_at is not None:
            raise TransitionNotAllowed(_("This declaration has no control waiting."))
        if locked.status not in LANE_STATES:
            raise TransitionNotAllowed(
                _("The control cannot end: the declaration is %(status)s.")
                % {"status": locked.get_status_display().lower()}
            )
        move = _Move(
            locked,
            actor,
            _("The check of the %(lane)s lane is done.") % {"lane": locked.get_lane_display().lower()},
        )
        locked.control_done_at = move.now
        move.to("control_done", locked.status)
        released = release_if_cleared(move)
        return move.finish(
            "control_done",
            extra={"lane": locked.lane, "released": released, "internal_reason": (reason or "").strip()},
            content_changed=released,
            fields=_LANE_FIELDS,
        )
