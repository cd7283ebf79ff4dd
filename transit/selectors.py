"""Every read of the transit module, scoped to the user who reads.

- the principal's side (its trader users; brokers that it authorised for transit) sees its movements;
- an officer sees the movements its offices take part in: as departure, destination or transit office;
- a superuser sees all.
"""

import datetime
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Replace

from transit.models import TransitMovement, TransitOffice
from transit.services.permissions import OFFICER_ROLES, principal_traders


def _officer_office_ids(user) -> list[int] | None:
    if user is None or not user.is_authenticated or user.trader_id or user.broker_id:
        return []
    if user.is_superuser:
        return None
    if not any(user.has_role(role) for role in OFFICER_ROLES):
        return []
    return list(user.offices.values_list("pk", flat=True))


def movement_list_for_user(user) -> QuerySet[TransitMovement]:
    movements = TransitMovement.objects.select_related(
        "departure_office", "destination_office", "principal", "guarantee", "transport_nationality"
    )
    traders = principal_traders(user)
    if traders:
        return movements.filter(principal_id__in=traders)
    offices = _officer_office_ids(user)
    if offices is None:
        return movements
    if not offices:
        return movements.none()
    on_route = TransitOffice.objects.filter(movement=OuterRef("pk"), office_id__in=offices)
    return movements.filter(
        Q(departure_office_id__in=offices) | Q(destination_office_id__in=offices) | Exists(on_route)
    )


def movement_get_for_user(user, pk) -> TransitMovement:
    return movement_list_for_user(user).get(pk=pk)


def movement_by_mrn_for_user(user, mrn: str) -> TransitMovement | None:
    return movement_list_for_user(user).filter(mrn=mrn).first()


@dataclass(frozen=True)
class MovementQuery:
    """The finder's filters; empty ones are ignored."""

    office: str = ""
    principal: str = ""  # taxpayer id or a part of the name
    plate: str = ""
    status: str = ""
    mrn: str = ""
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None


def movement_find(user, query: MovementQuery) -> QuerySet[TransitMovement]:
    """The finder: the user's movements filtered, newest first."""
    movements = movement_list_for_user(user)
    if query.office:
        code = query.office.upper()
        movements = movements.filter(
            Q(departure_office__code=code)
            | Q(destination_office__code=code)
            | Exists(TransitOffice.objects.filter(movement=OuterRef("pk"), office__code=code))
        )
    if query.principal:
        movements = movements.filter(
            Q(principal__taxpayer_id=query.principal) | Q(principal__name__icontains=query.principal)
        )
    if query.plate:
        # Plates are typed with or without their spaces: compare them without.
        movements = movements.annotate(
            plate_compact=Replace("transport_identity", Value(" "), Value(""))
        ).filter(plate_compact__icontains=query.plate.replace(" ", "")[:35])
    if query.status:
        movements = movements.filter(status=query.status)
    if query.mrn:
        movements = movements.filter(mrn=query.mrn.replace(" ", "").upper())
    if query.date_from:
        movements = movements.filter(registered_at__date__gte=query.date_from)
    if query.date_to:
        movements = movements.filter(registered_at__date__lte=query.date_to)
    return movements.order_by("-registered_at", "-pk")


def status_change_list(movement: TransitMovement):
    return movement.status_changes.select_related("actor").order_by("occurred_at", "pk")
