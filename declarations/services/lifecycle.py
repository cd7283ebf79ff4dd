"""The lifecycle: every state change is one service here, and every one follows the same steps.

1. ``transaction.atomic()``; re-read the row with ``select_for_update()`` (two officers acting at once:
   the second waits, then finds the new state and is told);
2. look the move up in ``declarations.choices.TRANSITIONS``: allowed from this state? by this side?
   reason given where the law needs one? the version the caller saw still current?
3. do the move's own work (validate, number, assess, apply changes);
4. write the new state, one ``StatusChange`` row per move, and one audit event;
5. schedule side effects with ``transaction.on_commit``.

Numbers are taken last (a series' row stays locked until commit), so concurrent lodgements queue on
the lock for as short a time as possible. A registration writes the declaration with its numbers, its
items' values, its tax lines and its status changes in one statement (``writing``): a new one
(``declaration_submit``) or a stored one (lodged, or registered by an officer), after which only its
events and its audit event are written.
"""

import datetime
import json
from decimal import Decimal

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from customs.queue import enqueue_on_commit
from customs.rows import model_new, rows_fetch
from customs.services.audit import audit_record
from customs.services.events import events_publish
from declarations.choices import (
    TRANSITIONS,
    Side,
    Status,
)
from declarations.models import (
    Declaration,
    DeclarationDocument,
    DeclarationItem,
    OfficeDeclarationSettings,
    StatusChange,
)
from declarations.services import drafts
from declarations.services.assessment import assessment_apply, assessment_store
from declarations.services.errors import DeclarationInvalid, FieldError, StaleVersion, TransitionNotAllowed
from declarations.services.events import declaration_events
from declarations.services.locking import declaration_lock
from declarations.services.permissions import ensure_declarant, ensure_officer
from declarations.services.validation import lodgement_check, references_check
from declarations.services.writing import declaration_write_new, declaration_write_registered, rows_known

# Celery tasks (by name) run after a declaration is assessed; later apps add theirs (risk scoring).
ON_ASSESSED_TASKS: list[str] = []
# Celery tasks (by name) run after a re-assessment (an accepted amendment, a correction after a check):
# later apps add theirs (payments settles the difference with what was paid).
ON_REASSESSED_TASKS: list[str] = []
# Celery tasks (by name) run after an officer cancels a registered declaration (payments gives back
# what was paid or deferred).
ON_CANCELLED_TASKS: list[str] = []
# Celery tasks (by name) run after a declaration is released (the release order is printed).
ON_RELEASED_TASKS: list[str] = ["declarations.issue_release_order"]


class _Move:
    """The moves of one service call, written together at the end."""

    def __init__(self, declaration: Declaration, actor, reason: str):
        self.declaration, self.actor, self.reason = declaration, actor, reason
        self.changes: list[StatusChange] = []
        self.status_at_start = declaration.status
        self.now = timezone.now()
        self.on_commit_tasks: list[str] = []  # task names sent with the declaration's id on commit
        # Registration (``_register_and_assess``): the items valued and the tax lines, which ``finish``
        # writes with the C and A numbers.
        self.registration: tuple[list[DeclarationItem], list] | None = None

    def to(self, name: str, target: str) -> None:
        declaration = self.declaration
        self.changes.append(
            model_new(
                StatusChange,
                declaration=declaration,
                action=name,
                from_status=declaration.status,
                to_status=target,
                actor=self.actor if getattr(self.actor, "pk", None) else None,
                reason=self.reason,
                occurred_at=self.now,
            )
        )
        declaration.status = target

    def finish(
        self,
        action: str,
        *,
        extra=None,
        content_changed: bool = True,
        fields: tuple[str, ...] | None = None,
    ) -> Declaration:
        """Write the move on a stored declaration: its status changes, the numbers when registering,
        the declaration, then ``announce`` (tasks, events, one audit event). ``extra``: more for the
        audit event, or a function giving it at the end.

        A registration is written in one statement with its numbers (``declaration_write_registered``);
        the numbers come last in the transaction, as each series' row stays locked until commit.

        ``content_changed=False`` (a lane given, a control ended): the declaration's version stays, so a
        document being printed, or an officer's open page, is not made stale by the risk module.
        ``fields``: the only fields the move changed (with the version and time of change, written
        always), for moves that touch a few columns of a wide row."""
        declaration = self.declaration
        if content_changed:
            declaration.version += 1
        if self.registration is not None:
            items, lines = self.registration
            year = timezone.localdate(self.now).year
            declaration_write_registered(declaration, items, lines, self.changes, year=year)
            return self.announce(action, extra=extra)
        StatusChange.objects.bulk_create(self.changes)
        if fields is None:
            declaration.save()
        else:
            declaration.save(update_fields=[*fields, "version", "updated_at"])
        return self.announce(action, extra=extra)

    def announce(self, action: str, *, extra=None) -> Declaration:
        """The move's side effects once its rows are written: the tasks on commit, the events for the
        parties' systems, and one audit event."""
        declaration = self.declaration
        for task_name in self.on_commit_tasks:
            enqueue_on_commit(task_name, declaration.pk)
        events_publish(declaration_events(declaration, self.changes))
        extra = extra() if callable(extra) else extra
        after = {"status": declaration.status, "version": declaration.version, **(extra or {})}
        if self.reason:
            after["reason"] = self.reason
        audit_record(
            action=f"declarations.declaration.{action}",
            actor=self.actor,
            obj=declaration,
            office_code=declaration.office.code,
            before={"status": self.status_at_start},
            after=after,
        )
        return declaration


def _begin(*, actor, declaration, name: str, reason: str = "", expected_version=None) -> _Move:
    transition = TRANSITIONS[name]
    locked = declaration_lock(declaration.pk)
    if transition.side == Side.DECLARANT:
        ensure_declarant(actor, locked)
    elif transition.side == Side.OFFICER:
        ensure_officer(actor, locked)
    if expected_version is not None and locked.version != expected_version:
        raise StaleVersion(locked.version)
    if locked.status not in transition.sources:
        raise TransitionNotAllowed(
            _("%(action)s is not possible: the declaration is %(status)s.")
            % {"action": transition.label, "status": locked.get_status_display().lower()}
        )
    reason = (reason or "").strip()
    if transition.reason_required and not reason:
        raise DeclarationInvalid(
            [FieldError("reason", "required", _("Give the reason; it is kept in the history."))]
        )
    return _Move(locked, actor, reason)


def _children(model, declaration, order_by: str) -> list:
    """The rows of ``model`` under ``declaration``, as its related manager would give them (each with
    the declaration set), through a statement whose text never changes."""
    rows = rows_fetch(model, "declaration_id = %s", [declaration.pk], order_by=order_by)
    for row in rows:
        model.declaration.field.set_cached_value(row, declaration)
    return rows


def _items(declaration) -> list[DeclarationItem]:
    return _children(DeclarationItem, declaration, "number")


def _validated(declaration, *, actor, day):
    """The declaration's items and documents, and its assessment; ``DeclarationInvalid`` with every
    problem lodging finds."""
    items = _items(declaration)
    documents = _children(DeclarationDocument, declaration, "item_number, id")  # the model's order
    errors, assessment = lodgement_check(declaration, items, documents, actor=actor, day=day)
    if errors:
        raise DeclarationInvalid(errors)
    return items, documents, assessment


def _register_and_assess(move: _Move, items, assessment) -> None:
    """Registration then assessment of a stored declaration: ``finish`` writes the C and A numbers, the
    items' values and the tax lines."""
    move.registration = (items, _register_and_assess_in_memory(move, items, assessment))


def _register_and_assess_in_memory(move: _Move, items, assessment) -> list:
    """The moves, and the assessment set on the declaration and its items in memory; returns its tax
    lines, unsaved."""
    declaration = move.declaration
    move.to("register", Status.REGISTERED)
    declaration.registered_at = move.now
    lines = assessment_apply(declaration, items, assessment)
    move.to("assess", Status.ASSESSED)
    declaration.assessed_at = move.now
    move.on_commit_tasks.extend(ON_ASSESSED_TASKS)
    return lines


def registers_on_lodgement(office) -> bool:
    """The office's setting (read with the locked row); offices without settings register at once."""
    try:
        return office.declaration_settings.register_on_lodgement
    except OfficeDeclarationSettings.DoesNotExist:
        return True


def _today() -> datetime.date:
    return timezone.localdate()


def declaration_lodge(*, actor, declaration: Declaration, expected_version: int | None = None) -> Declaration:
    """Lodge a draft: validate everything, then register and assess at once where the office says so.

    Raises ``DeclarationInvalid`` with every problem; then nothing is written.
    """
    with transaction.atomic():
        move = _begin(actor=actor, declaration=declaration, name="lodge", expected_version=expected_version)
        locked = move.declaration
        items, documents, assessment = _validated(locked, actor=actor, day=_today())
        move.to("lodge", Status.LODGED)
        locked.lodged_at = move.now
        if registers_on_lodgement(locked.office):
            _register_and_assess(move, items, assessment)
        lodged = move.finish("lodged", extra=lambda: _numbers(locked))
        # A draft has no history yet (no move leads back to stored): its rows are all known now.
        lines = move.registration[1] if move.registration else []
        rows_known(lodged, items=items, tax_lines=lines, documents=documents, status_changes=move.changes)
        return lodged


def declaration_submit(*, actor, data: dict) -> Declaration:
    """Create and lodge in one transaction (what a broker's software sends): either the declaration is
    lodged, or ``DeclarationInvalid`` lists every problem and nothing at all is stored.

    The hot path of national volume: the declaration is built, validated and assessed in memory, then
    written once (declaration, items with their values, tax lines, history, one audit event).
    """
    declaration, items = drafts.draft_build(actor=actor, data=data)
    errors, assessment = lodgement_check(declaration, items, [], actor=actor, day=_today())
    if errors:
        raise DeclarationInvalid(errors)
    with transaction.atomic():
        move = _Move(declaration, actor, "")
        move.to("lodge", Status.LODGED)
        declaration.lodged_at = move.now
        registering = registers_on_lodgement(declaration.office)
        lines = _register_and_assess_in_memory(move, items, assessment) if registering else []
        year = timezone.localdate(move.now).year if registering else None
        declaration_write_new(declaration, items, lines, move.changes, year=year)
        submitted = move.announce("submitted", extra=_numbers(declaration))
        rows_known(submitted, items=items, tax_lines=lines, documents=[], status_changes=move.changes)
        return submitted


def _numbers(declaration) -> dict:
    return {
        "number": declaration.number,
        "assessment": declaration.assessment_reference,
        "total_taxes": declaration.total_taxes,
    }


def declaration_register(
    *, actor, declaration: Declaration, expected_version: int | None = None
) -> Declaration:
    """An officer registers a lodged declaration: validated again, numbered, assessed on today's rates."""
    with transaction.atomic():
        move = _begin(
            actor=actor, declaration=declaration, name="register", expected_version=expected_version
        )
        items, _documents, assessment = _validated(move.declaration, actor=None, day=_today())
        _register_and_assess(move, items, assessment)
        return move.finish("registered", extra=lambda: _numbers(move.declaration))


def declaration_reject(*, actor, declaration, reason: str, expected_version=None) -> Declaration:
    """An officer refuses to register a lodged declaration."""
    with transaction.atomic():
        move = _begin(
            actor=actor,
            declaration=declaration,
            name="reject",
            reason=reason,
            expected_version=expected_version,
        )
        move.to("reject", Status.REJECTED)
        move.declaration.closed_at = move.now
        return move.finish("rejected")


def declaration_query(*, actor, declaration, reason: str, expected_version=None) -> Declaration:
    """An officer asks the declarant for documents or an explanation (``reason`` is the question)."""
    with transaction.atomic():
        move = _begin(
            actor=actor,
            declaration=declaration,
            name="query",
            reason=reason,
            expected_version=expected_version,
        )
        move.declaration.status_before = move.declaration.status
        move.to("query", Status.QUERIED)
        return move.finish("queried")


def _back(move: _Move, name: str) -> None:
    declaration = move.declaration
    target = declaration.status_before or Status.ASSESSED
    move.to(name, target)
    declaration.status_before = ""


def declaration_respond(*, actor, declaration, reason: str, expected_version=None) -> Declaration:
    """The declarant answers a query (``reason`` is the answer); the declaration returns to its state."""
    with transaction.atomic():
        move = _begin(
            actor=actor,
            declaration=declaration,
            name="respond",
            reason=reason,
            expected_version=expected_version,
        )
        _back(move, "respond")
        return move.finish("query_answered")


# What identifies a declaration: an amendment or re-assessment never changes it (withdraw and start anew).
NOT_AMENDABLE = ("declaration_type", "office", "trader", "lrn")


def _changes_check(changes: dict) -> None:
    """Refuse changes with unknown codes or to the identifying fields, with every problem at once."""
    errors = references_check(changes, changes.get("items") or [])
    for name in NOT_AMENDABLE:
        if name in changes:
            errors.append(
                FieldError(f"changes.{name}", "not_amendable", _("This field cannot be changed any more."))
            )
    if errors:
        raise DeclarationInvalid(errors)


def declaration_request_amendment(*, actor, declaration, changes: dict, reason: str, expected_version=None):
    """The declarant asks to change an assessed declaration; an officer accepts (re-assessment) or refuses.

    ``changes`` has the shape of draft data (general fields; ``items`` replaces the item list); the type,
    office, trader and LRN cannot change.
    """
    with transaction.atomic():
        move = _begin(
            actor=actor,
            declaration=declaration,
            name="request_amendment",
            reason=reason,
            expected_version=expected_version,
        )
        if not changes:
            raise DeclarationInvalid([FieldError("changes", "required", _("Say what should change."))])
        _changes_check(changes)
        move.declaration.pending_changes = _json_changes(changes)
        move.declaration.status_before = move.declaration.status
        move.to("request_amendment", Status.AMENDMENT_REQUESTED)
        return move.finish("amendment_requested", extra={"changes": move.declaration.pending_changes})


def _json_changes(changes: dict) -> dict:
    """``changes`` with decimals and dates as strings, to keep in a JSON field."""
    return json.loads(json.dumps(changes, cls=DjangoJSONEncoder))


def _decimal_changes(changes: dict) -> dict:
    """``changes`` as kept in JSON, with the figures back as Decimal (and counts as int)."""
    numeric = set(drafts.GENERAL_NUMBER_FIELDS) | {
        "packages_number",
        "gross_mass",
        "net_mass",
        "invoice_price",
    }

    def convert(mapping):
        out = {}
        for key, value in mapping.items():
            if key in numeric and value not in (None, ""):
                out[key] = int(value) if key in {"total_packages", "packages_number"} else Decimal(str(value))
            else:
                out[key] = value
        return out

    result = convert({key: value for key, value in changes.items() if key not in {"items", "item_changes"}})
    if "items" in changes:
        result["items"] = [convert(row) for row in changes["items"]]
    if "item_changes" in changes:
        result["item_changes"] = {
            str(number): convert(row) for number, row in changes["item_changes"].items()
        }
    return result


def _apply_and_reassess(move: _Move, changes: dict) -> dict:
    """Apply ``changes`` to the locked declaration, validate, re-assess; the totals before and after."""
    declaration = move.declaration
    changes = _decimal_changes(changes)
    before = {"customs_value": declaration.customs_value, "total_taxes": declaration.total_taxes}
    drafts._apply_general(declaration, changes)
    if "items" in changes:
        DeclarationItem.objects.filter(declaration=declaration).delete()
        DeclarationItem.objects.bulk_create(drafts._build_items(declaration, changes["items"]))
    if changes.get("item_changes"):
        items = {item.number: item for item in _items(declaration)}
        for number, row in changes["item_changes"].items():
            item = items.get(int(number))
            if item is None:
                raise DeclarationInvalid(
                    [
                        FieldError(
                            f"items[{int(number) - 1}]",
                            "not_found",
                            _("There is no item %(n)s.") % {"n": number},
                        )
                    ]
                )
            for name in drafts.ITEM_PLAIN_FIELDS:
                if name in row:
                    setattr(item, name, row[name])
            for name in ("origin", "procedure_code", "additional_procedure_code", "package_kind"):
                if name in row:
                    setattr(item, f"{name}_id", row[name] or None)
            if "quantities" in row:
                item.quantities = {str(unit): str(value) for unit, value in (row["quantities"] or {}).items()}
        # The corrected items are checked as a draft's are before anything is written: an unknown code
        # or a net mass above the gross would otherwise only fail in the database.
        ordered = [items[number] for number in sorted(items)]
        errors = references_check({}, [_item_references(item) for item in ordered])
        if errors:
            raise DeclarationInvalid(errors)
        for number in changes["item_changes"]:
            items[int(number)].save()
    day = declaration.reference_date or _today()
    items, _documents, assessment = _validated(declaration, actor=None, day=day)
    assessment_store(declaration, items, assessment)
    declaration.assessed_at = move.now
    return {
        "before": before,
        "after": {"customs_value": declaration.customs_value, "total_taxes": declaration.total_taxes},
    }


def _item_references(item: DeclarationItem) -> dict:
    """An item's codes and masses in the shape ``references_check`` reads."""
    return {
        "origin": item.origin_id,
        "procedure_code": item.procedure_code_id,
        "additional_procedure_code": item.additional_procedure_code_id,
        "package_kind": item.package_kind_id,
        "gross_mass": item.gross_mass,
        "net_mass": item.net_mass,
    }


def declaration_accept_amendment(
    *, actor, declaration, reason: str = "", expected_version=None
) -> Declaration:
    """An officer accepts the requested amendment: it is applied and the declaration re-assessed on the
    rates and tariff of its registration date."""
    with transaction.atomic():
        move = _begin(
            actor=actor,
            declaration=declaration,
            name="accept_amendment",
            reason=reason,
            expected_version=expected_version,
        )
        totals = _apply_and_reassess(move, move.declaration.pending_changes or {})
        move.declaration.pending_changes = None
        move.declaration.status_before = ""
        move.to("accept_amendment", Status.ASSESSED)
        move.on_commit_tasks.extend(ON_REASSESSED_TASKS)
        return move.finish("amendment_accepted", extra=totals)


def declaration_refuse_amendment(*, actor, declaration, reason: str, expected_version=None) -> Declaration:
    with transaction.atomic():
        move = _begin(
            actor=actor,
            declaration=declaration,
            name="refuse_amendment",
            reason=reason,
            expected_version=expected_version,
        )
        move.declaration.pending_changes = None
        _back(move, "refuse_amendment")
        return move.finish("amendment_refused")


def declaration_reassess(
    *, actor, declaration, changes: dict, reason: str, expected_version=None
) -> Declaration:
    """An officer corrects the declaration after a check (tariff line, value, quantity, origin) and
    re-assesses it. ``changes``: general fields (not the type, office, trader or LRN), and
    ``item_changes`` {item number: {field: value}}."""
    with transaction.atomic():
        move = _begin(
            actor=actor,
            declaration=declaration,
            name="reassess",
            reason=reason,
            expected_version=expected_version,
        )
        _changes_check(changes)
        totals = _apply_and_reassess(move, changes)
        move.to("reassess", Status.ASSESSED)
        move.on_commit_tasks.extend(ON_REASSESSED_TASKS)
        return move.finish("reassessed", extra={**totals, "changes": _json_changes(changes)})


def declaration_mark_paid(
    *, actor, declaration, receipt_reference: str = "", expected_version=None
) -> Declaration:
    """The amount due is paid (called by the payments module with its receipt reference)."""
    with transaction.atomic():
        move = _begin(
            actor=actor, declaration=declaration, name="mark_paid", expected_version=expected_version
        )
        move.to("mark_paid", Status.PAID)
        move.declaration.paid_at = move.now
        released = release_if_cleared(move)
        return move.finish("paid", extra={"receipt": receipt_reference, "released": released})


def release_if_cleared(move: _Move) -> bool:
    """Release at once a paid declaration whose lane's control is done (green and blue lanes need
    none): part of the move that made it so (the payment, the lane, the end of the control)."""
    declaration = move.declaration
    if declaration.status != Status.PAID or not declaration.control_cleared:
        return False
    _release(move)
    return True


def _release(move: _Move) -> None:
    move.to("release", Status.RELEASED)
    move.declaration.released_at = move.now
    move.on_commit_tasks.extend(ON_RELEASED_TASKS)


def declaration_release(*, actor, declaration, expected_version=None) -> Declaration:
    """An officer releases the goods: the amount due is paid and the lane's control is done.

    A paid declaration whose control is done is released by the system at once; an officer releases
    by hand only what waited for something else (a supervisor's change of lane, say)."""
    with transaction.atomic():
        move = _begin(actor=actor, declaration=declaration, name="release", expected_version=expected_version)
        locked = move.declaration
        if not locked.lane:
            raise TransitionNotAllowed(_("Release is not possible: selectivity has not given a lane yet."))
        if not locked.control_cleared:
            raise TransitionNotAllowed(
                _("Release is not possible: the %(lane)s lane's control is not done.")
                % {"lane": locked.get_lane_display().lower()}
            )
        _release(move)
        return move.finish("released")


def declaration_withdraw(*, actor, declaration, reason: str = "", expected_version=None) -> Declaration:
    """The declarant withdraws a draft or a lodged, not yet registered, declaration."""
    with transaction.atomic():
        move = _begin(
            actor=actor,
            declaration=declaration,
            name="withdraw",
            reason=reason,
            expected_version=expected_version,
        )
        move.to("withdraw", Status.CANCELLED)
        move.declaration.closed_at = move.now
        return move.finish("withdrawn")


def declaration_request_cancellation(
    *, actor, declaration, reason: str, expected_version=None
) -> Declaration:
    with transaction.atomic():
        move = _begin(
            actor=actor,
            declaration=declaration,
            name="request_cancellation",
            reason=reason,
            expected_version=expected_version,
        )
        move.declaration.status_before = move.declaration.status
        move.to("request_cancellation", Status.CANCELLATION_REQUESTED)
        return move.finish("cancellation_requested")


def declaration_refuse_cancellation(*, actor, declaration, reason: str, expected_version=None) -> Declaration:
    with transaction.atomic():
        move = _begin(
            actor=actor,
            declaration=declaration,
            name="refuse_cancellation",
            reason=reason,
            expected_version=expected_version,
        )
        _back(move, "refuse_cancellation")
        return move.finish("cancellation_refused")


def declaration_cancel(*, actor, declaration, reason: str, expected_version=None) -> Declaration:
    """An officer cancels a registered declaration before release (on request, or of office)."""
    with transaction.atomic():
        move = _begin(
            actor=actor,
            declaration=declaration,
            name="cancel",
            reason=reason,
            expected_version=expected_version,
        )
        move.declaration.status_before = ""
        move.declaration.pending_changes = None
        move.to("cancel", Status.CANCELLED)
        move.declaration.closed_at = move.now
        move.on_commit_tasks.extend(ON_CANCELLED_TASKS)
        return move.finish("cancelled")


# Service per transition name, for views and the API that dispatch on the action's name.
COMMANDS = {
    "lodge": declaration_lodge,
    "register": declaration_register,
    "reject": declaration_reject,
    "query": declaration_query,
    "respond": declaration_respond,
    "request_amendment": declaration_request_amendment,
    "accept_amendment": declaration_accept_amendment,
    "refuse_amendment": declaration_refuse_amendment,
    "reassess": declaration_reassess,
    "mark_paid": declaration_mark_paid,
    "release": declaration_release,
    "withdraw": declaration_withdraw,
    "request_cancellation": declaration_request_cancellation,
    "refuse_cancellation": declaration_refuse_cancellation,
    "cancel": declaration_cancel,
}


def declaration_preview(*, actor, declaration: Declaration):
    """What lodging today would give, without writing anything: ``(errors, assessment)``."""
    items = _items(declaration)
    documents = list(declaration.documents.all())
    return lodgement_check(declaration, items, documents, actor=actor, day=_today())
