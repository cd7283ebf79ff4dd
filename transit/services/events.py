"""The events a movement's moves give its principal's systems (webhooks and the pull API): one per
status change, named after the state reached (``transit.released``, ``transit.arrived`` ...)."""

from customs.services.events import EVENT_KINDS, EventData, events_publish
from transit.models import TransitMovement


def movement_event_publish(
    movement: TransitMovement,
    *,
    action: str,
    from_status: str,
    office_code: str,
    reason: str,
    occurred_at,
    broker_id,
) -> None:
    kind = f"transit.{movement.status}"
    if movement.status == from_status or kind not in EVENT_KINDS:
        return
    events_publish(
        [
            EventData(
                kind=kind,
                subject_type="transit_movement",
                subject_id=movement.pk,
                subject_reference=movement.mrn or movement.lrn,
                trader_id=movement.principal_id,
                broker_id=broker_id,
                payload={
                    "movement": {
                        "id": movement.pk,
                        "lrn": movement.lrn,
                        "mrn": movement.mrn or "",
                        "status": movement.status,
                        "departure_office": movement.departure_office.code,
                        "destination_office": movement.destination_office.code,
                        "time_limit": movement.time_limit,
                        "version": movement.version,
                    },
                    "action": action,
                    "from_status": from_status,
                    "to_status": movement.status,
                    "office": office_code,
                    "reason": reason,
                },
                occurred_at=occurred_at,
            )
        ]
    )
