"""The events a declaration's moves give its parties' systems (webhooks and the pull API).

One event per status change of a move, named after the state reached (``declaration.registered``,
``declaration.paid`` ...), and ``declaration.lane_assigned`` / ``declaration.control_done`` for the
lane's moves. The data is what the declarant may see: never a criterion or an internal reason.
"""

from customs.services.events import EVENT_KINDS, EventData
from declarations.models import Declaration, StatusChange


def _kind(change: StatusChange) -> str | None:
    if change.action.startswith("lane_"):
        kind = "declaration.lane_assigned"
    elif change.action == "control_done":
        kind = "declaration.control_done"
    elif change.to_status != change.from_status:
        kind = f"declaration.{change.to_status}"
    else:
        return None
    return kind if kind in EVENT_KINDS else None


def declaration_summary(declaration: Declaration) -> dict:
    """The declaration as an event carries it."""
    return {
        "id": declaration.pk,
        "lrn": declaration.lrn,
        "number": declaration.number,
        "type": declaration.declaration_type,
        "office": declaration.office.code,
        "status": declaration.status,
        "lane": declaration.lane,
        "version": declaration.version,
        "customs_value": None if declaration.customs_value is None else str(declaration.customs_value),
        "total_taxes": None if declaration.total_taxes is None else str(declaration.total_taxes),
    }


def declaration_events(declaration: Declaration, changes: list[StatusChange]) -> list[EventData]:
    summary = None
    events = []
    for change in changes:
        kind = _kind(change)
        if kind is None:
            continue
        summary = summary or declaration_summary(declaration)
        events.append(
            EventData(
                kind=kind,
                subject_type="declaration",
                subject_id=declaration.pk,
                subject_reference=declaration.number or declaration.lrn,
                trader_id=declaration.trader_id,
                broker_id=declaration.broker_id,
                payload={
                    "declaration": summary,
                    "action": change.action,
                    "from_status": change.from_status,
                    "to_status": change.to_status,
                    "reason": change.reason,
                },
                occurred_at=change.occurred_at,
            )
        )
    return events
