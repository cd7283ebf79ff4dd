"""Code lists of transit and the one TRANSITIONS table of a movement's lifecycle.

Every state change is a service in ``transit.services.lifecycle`` that looks its move up here: the states
it may start from, the state it leads to, who makes it (the principal's side, an officer of the office
where it happens, or the system) and whether a reason is needed.
"""

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class MovementStatus(models.TextChoices):
    REGISTERED = "registered", pgettext_lazy("transit movement", "Registered")
    RELEASED = "released", pgettext_lazy("transit movement", "Released for transit")
    IN_TRANSIT = "in_transit", pgettext_lazy("transit movement", "In transit")
    ARRIVED = "arrived", pgettext_lazy("transit movement", "Arrived")
    DISCHARGED = "discharged", pgettext_lazy("transit movement", "Discharged")
    OVERDUE = "overdue", pgettext_lazy("transit movement", "Overdue")
    UNDER_ENQUIRY = "under_enquiry", pgettext_lazy("transit movement", "Under enquiry")
    CANCELLED = "cancelled", pgettext_lazy("transit movement", "Cancelled")


class Side(models.TextChoices):
    PRINCIPAL = "principal", _("Principal")
    DEPARTURE = "departure", _("Office of departure")
    TRANSIT = "transit", _("Office of transit")
    DESTINATION = "destination", _("Office of destination")
    SYSTEM = "system", _("System")


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset[str]
    target: str
    side: str
    label: str
    reason_required: bool = False


S = MovementStatus
ON_THE_WAY = frozenset({S.RELEASED, S.IN_TRANSIT, S.OVERDUE})
TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in [
        Transition(
            "release", frozenset({S.REGISTERED}), S.RELEASED, Side.DEPARTURE, _("Release for transit")
        ),
        Transition("pass_border", ON_THE_WAY, S.IN_TRANSIT, Side.TRANSIT, _("Record the border passage")),
        Transition(
            "flag_overdue", frozenset({S.RELEASED, S.IN_TRANSIT}), S.OVERDUE, Side.SYSTEM, _("Flag overdue")
        ),
        Transition("arrive", ON_THE_WAY, S.ARRIVED, Side.DESTINATION, _("Record the arrival")),
        Transition(
            "discharge",
            frozenset({S.ARRIVED, S.UNDER_ENQUIRY}),
            S.DISCHARGED,
            Side.DESTINATION,
            _("Discharge"),
        ),
        Transition(
            "enquire",
            frozenset({S.ARRIVED}),
            S.UNDER_ENQUIRY,
            Side.DESTINATION,
            _("Open an enquiry"),
            reason_required=True,
        ),
        Transition(
            "cancel",
            frozenset({S.REGISTERED, S.RELEASED}),
            S.CANCELLED,
            Side.DEPARTURE,
            _("Cancel"),
            reason_required=True,
        ),
    ]
}
FINAL_STATES = frozenset({S.DISCHARGED, S.CANCELLED})
# States in which a movement's guarantee reservation is held.
RESERVATION_HELD = frozenset({S.RELEASED, S.IN_TRANSIT, S.OVERDUE, S.ARRIVED, S.UNDER_ENQUIRY})

# Numbering: MRN serials per departure office and year.
MRN_SERIES = "M"
