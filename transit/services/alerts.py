"""Alerts about transit movements: an overdue movement alerts its principal's portal users and the
officers of the office of departure, in the portal and office pages and by e-mail."""

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from customs.choices import AuthorisationScope, Role
from customs.models import BrokerAuthorisation, User
from customs.services.notifications import notify
from transit.models import TransitMovement

OVERDUE_KIND = "transit.overdue"


def _principal_users(movement: TransitMovement):
    today = timezone.localdate()
    brokers = (
        BrokerAuthorisation.objects.filter(
            trader=movement.principal,
            revoked=False,
            valid_from__lte=today,
            scope__contains=[AuthorisationScope.TRANSIT],
        )
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today))
        .values("broker_id")
    )
    return User.objects.filter(is_active=True).filter(Q(trader=movement.principal) | Q(broker_id__in=brokers))


def _departure_officers(movement: TransitMovement):
    return (
        User.objects.filter(is_active=True, offices=movement.departure_office)
        .filter(groups__name__in=[Role.OFFICER, Role.SUPERVISOR])
        .distinct()
    )


def transit_overdue_alert(movement_id: int) -> int:
    """Alert about an overdue movement (the task sent when it is flagged); idempotent per user."""
    movement = TransitMovement.objects.select_related("departure_office", "destination_office").get(
        pk=movement_id
    )

    def subject():
        return _("Transit %(mrn)s is overdue") % {"mrn": movement.mrn}

    def body():
        return _(
            "Movement %(mrn)s from %(departure)s to %(destination)s (plate %(plate)s) has not arrived by its "
            "time limit, %(limit)s."
        ) % {
            "mrn": movement.mrn,
            "departure": movement.departure_office.code,
            "destination": movement.destination_office.code,
            "plate": movement.transport_identity,
            "limit": movement.time_limit.isoformat(),
        }

    with transaction.atomic():
        sent = notify(
            users=list(_principal_users(movement)),
            kind=OVERDUE_KIND,
            subject=subject,
            body=body,
            link=f"/portal/transit/{movement.pk}/",
            obj=movement,
        )
        sent += notify(
            users=list(_departure_officers(movement)),
            kind=OVERDUE_KIND,
            subject=subject,
            body=body,
            link=f"/office/transit/{movement.pk}/",
            obj=movement,
        )
    return len(sent)
