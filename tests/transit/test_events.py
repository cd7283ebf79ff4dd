"""The events a movement gives its principal's systems: one per state reached."""

import datetime

import pytest
from django.utils import timezone

from customs.models import Event
from tests.transit.conftest import t1_data
from transit.models import TransitMovement
from transit.services.lifecycle import (
    transit_arrival,
    transit_border_passage,
    transit_lodge,
    transit_overdue_flag,
    transit_release,
)

pytestmark = pytest.mark.django_db


def _kinds(movement) -> list[str]:
    return list(
        Event.objects.filter(subject_type="transit_movement", subject_id=movement.pk)
        .order_by("id")
        .values_list("kind", flat=True)
    )


def test_each_state_of_a_movement_is_an_event_for_its_principal(transit_world):
    world = transit_world
    movement = transit_lodge(actor=world["users"]["trader_a"], data=t1_data())
    movement = transit_release(actor=world["users"]["departure_officer"], movement=movement)
    movement = transit_border_passage(
        actor=world["users"]["border_officer"], movement=movement, office=world["border_office"]
    )
    movement = transit_arrival(
        actor=world["users"]["destination_officer"], movement=movement, seals_intact=True, goods_conform=True
    )

    assert _kinds(movement) == [
        "transit.registered",
        "transit.released",
        "transit.in_transit",
        "transit.arrived",
        "transit.discharged",
    ]
    released = Event.objects.get(subject_id=movement.pk, kind="transit.released")
    assert released.trader_id == movement.principal_id
    assert released.subject_reference == movement.mrn
    assert released.payload["movement"]["mrn"] == movement.mrn
    assert released.payload["office"] == movement.departure_office.code
    assert (released.payload["from_status"], released.payload["to_status"]) == ("registered", "released")


def test_an_overdue_movement_is_an_event(transit_world):
    world = transit_world
    movement = transit_lodge(actor=world["users"]["trader_a"], data=t1_data())
    movement = transit_release(actor=world["users"]["departure_officer"], movement=movement)
    TransitMovement.objects.filter(pk=movement.pk).update(
        time_limit=timezone.localdate() - datetime.timedelta(days=1)
    )

    assert transit_overdue_flag() == 1
    assert _kinds(movement)[-1] == "transit.overdue"
