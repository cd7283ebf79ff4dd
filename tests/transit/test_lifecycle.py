"""The lifecycle of a transit movement: lodgement with its validation, release against the guarantee,
border passage, arrival, discharge or enquiry, cancellation, overdue."""

import datetime
import threading

import pytest
from django.db import connection
from django.utils import timezone

from declarations.services.errors import NotAuthorised, TransitionNotAllowed
from payments.choices import ReservationStatus
from payments.models import GuaranteeReservation
from payments.services.guarantees import guarantee_available, guarantee_create
from tests.transit.conftest import D, t1_data
from transit.choices import MovementStatus
from transit.models import TransitMovement, TransitStatusChange
from transit.mrn import mrn_valid
from transit.services.lifecycle import (
    GuaranteeShort,
    TransitInvalid,
    transit_arrival,
    transit_border_passage,
    transit_cancel,
    transit_discharge,
    transit_lodge,
    transit_overdue_flag,
    transit_release,
)

S = MovementStatus


def _lodged(world, **overrides):
    return transit_lodge(actor=world["users"]["trader_a"], data=t1_data(**overrides))


@pytest.mark.django_db
def test_a_movement_goes_from_lodgement_to_discharge_and_frees_the_guarantee(transit_world):
    world = transit_world
    guarantee = world["guarantee"]
    movement = _lodged(world)
    assert movement.status == S.REGISTERED and movement.mrn is None

    movement = transit_release(actor=world["users"]["departure_officer"], movement=movement)
    assert movement.status == S.RELEASED and mrn_valid(movement.mrn)
    assert movement.mrn.startswith(f"{timezone.localdate().year % 100:02d}TM")
    assert movement.amount_at_stake > 0
    assert guarantee_available(guarantee) == D("100000.00") - movement.amount_at_stake
    assert [line["commodity_code"] for line in movement.stake_lines] == ["8703231900"]
    assert sum(D(line["amount"]) for line in movement.stake_lines) == movement.amount_at_stake

    movement = transit_border_passage(
        actor=world["users"]["border_officer"], movement=movement, office=world["border_office"]
    )
    assert movement.status == S.IN_TRANSIT
    assert movement.transit_offices.get().passed_at is not None

    movement = transit_arrival(
        actor=world["users"]["destination_officer"], movement=movement, seals_intact=True, goods_conform=True
    )
    assert movement.status == S.DISCHARGED
    assert GuaranteeReservation.objects.get(pk=movement.reservation_id).status == ReservationStatus.RELEASED
    assert guarantee_available(guarantee) == D("100000.00")
    assert list(TransitStatusChange.objects.filter(movement=movement).values_list("action", flat=True)) == [
        "lodge",
        "release",
        "pass_border",
        "arrive",
        "discharge",
    ]


@pytest.mark.django_db
def test_discrepancies_at_destination_open_an_enquiry_and_keep_the_reservation(transit_world):
    world = transit_world
    movement = transit_release(actor=world["users"]["departure_officer"], movement=_lodged(world))
    with pytest.raises(TransitInvalid):
        transit_arrival(
            actor=world["users"]["destination_officer"],
            movement=movement,
            seals_intact=False,
            goods_conform=True,
        )
    movement = transit_arrival(
        actor=world["users"]["destination_officer"],
        movement=movement,
        seals_intact=False,
        goods_conform=True,
        seals_found=["TM-S-0001"],
        discrepancies="Seal TM-S-0002 missing",
    )
    assert movement.status == S.UNDER_ENQUIRY
    assert GuaranteeReservation.objects.get(pk=movement.reservation_id).status == ReservationStatus.OPEN
    movement = transit_discharge(
        actor=world["users"]["destination_officer"],
        movement=movement,
        reason="Enquiry closed: seal broken in transit",
    )
    assert movement.status == S.DISCHARGED


@pytest.mark.django_db
def test_an_insufficient_guarantee_refuses_the_release_with_the_shortfall(transit_world):
    world = transit_world
    small = guarantee_create(
        actor=None,
        reference="GRN-SMALL",
        kind="individual",
        trader=world["trader_a"],
        issuer=world["bank"],
        amount=D("100.00"),
        valid_from=datetime.date(2020, 1, 1),
        valid_to=datetime.date(2099, 1, 1),
    )
    movement = _lodged(world, guarantee_reference="GRN-SMALL")
    with pytest.raises(GuaranteeShort) as refused:
        transit_release(actor=world["users"]["departure_officer"], movement=movement)
    assert refused.value.shortfall == refused.value.amount_at_stake - D("100.00") > 0
    movement.refresh_from_db()
    assert movement.status == S.REGISTERED and movement.mrn is None
    assert not GuaranteeReservation.objects.filter(guarantee=small).exists()


@pytest.mark.django_db
def test_lodgement_names_every_bad_field_and_writes_nothing(transit_world):
    world = transit_world
    data = t1_data(
        departure_office="XX999", seals=["TM-S-1", " "], guarantee_reference="NOPE", time_limit=None
    )
    data.items[0].commodity_code = "99999999"
    data.items[0].net_mass = D("5000")
    with pytest.raises(TransitInvalid) as refused:
        transit_lodge(actor=world["users"]["trader_a"], data=data)
    assert sorted((error.field, error.code) for error in refused.value.errors) == [
        ("departure_office", "unknown_code"),
        ("guarantee_reference", "unknown_guarantee"),
        ("items[0].commodity_code", "unknown_code"),
        ("items[0].net_mass", "net_mass_exceeds_gross"),
        ("seals[1]", "required"),
        ("time_limit", "required"),
    ]
    assert not TransitMovement.objects.exists()


@pytest.mark.django_db
def test_only_the_principal_side_lodges_and_only_the_right_office_moves(transit_world):
    world = transit_world
    with pytest.raises(NotAuthorised):
        transit_lodge(actor=world["users"]["trader_b"], data=t1_data())
    movement = _lodged(world)
    with pytest.raises(NotAuthorised):
        transit_release(actor=world["users"]["destination_officer"], movement=movement)
    movement = transit_release(actor=world["users"]["departure_officer"], movement=movement)
    with pytest.raises(TransitionNotAllowed):
        transit_release(actor=world["users"]["departure_officer"], movement=movement)
    with pytest.raises(TransitionNotAllowed) as off_route:
        transit_border_passage(
            actor=world["users"]["departure_officer"], movement=movement, office=world["office"]
        )
    assert off_route.value.code == "not_on_route"


@pytest.mark.django_db
def test_cancel_releases_the_reservation(transit_world):
    world = transit_world
    movement = transit_release(actor=world["users"]["departure_officer"], movement=_lodged(world))
    transit_cancel(actor=world["users"]["departure_officer"], movement=movement, reason="Truck broke down")
    assert guarantee_available(world["guarantee"]) == D("100000.00")


@pytest.mark.django_db
def test_the_overdue_task_flags_movements_past_their_time_limit(transit_world):
    world = transit_world
    late = transit_release(actor=world["users"]["departure_officer"], movement=_lodged(world))
    on_time = transit_release(
        actor=world["users"]["departure_officer"], movement=_lodged(world, lrn="T1-0002")
    )
    TransitMovement.objects.filter(pk=on_time.pk).update(
        time_limit=timezone.localdate() + datetime.timedelta(days=30)
    )
    assert transit_overdue_flag(today=timezone.localdate() + datetime.timedelta(days=9)) == 1
    assert TransitMovement.objects.get(pk=late.pk).status == S.OVERDUE
    assert TransitMovement.objects.get(pk=on_time.pk).status == S.RELEASED
    assert transit_overdue_flag(today=timezone.localdate() + datetime.timedelta(days=9)) == 0
    arrived = transit_arrival(
        actor=world["users"]["destination_officer"], movement=late, seals_intact=True, goods_conform=True
    )
    assert arrived.status == S.DISCHARGED


@pytest.mark.django_db(transaction=True)
def test_concurrent_departures_against_one_guarantee_never_exceed_it(transit_world):
    world = transit_world
    first = _lodged(world, lrn="T1-A")
    stake = transit_release(actor=world["users"]["departure_officer"], movement=first).amount_at_stake
    transit_cancel(actor=world["users"]["departure_officer"], movement=first, reason="Measuring the stake")
    guarantee = guarantee_create(
        actor=None,
        reference="GRN-TIGHT",
        kind="comprehensive",
        trader=world["trader_a"],
        issuer=world["bank"],
        amount=stake * 3 + D("1.00"),
        valid_from=datetime.date(2020, 1, 1),
        valid_to=datetime.date(2099, 1, 1),
    )
    movements = [_lodged(world, lrn=f"T1-C{number}", guarantee_reference="GRN-TIGHT") for number in range(8)]
    barrier = threading.Barrier(len(movements))
    outcomes = []

    def release(movement):
        try:
            barrier.wait(timeout=30)
            transit_release(actor=world["users"]["departure_officer"], movement=movement)
            outcomes.append("released")
        except GuaranteeShort:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=release, args=(movement,)) for movement in movements]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(outcomes) == ["refused"] * 5 + ["released"] * 3
    assert guarantee_available(guarantee) == D("1.00")
    assert TransitMovement.objects.filter(guarantee=guarantee, status=S.RELEASED).count() == 3
    mrns = list(TransitMovement.objects.exclude(mrn=None).values_list("mrn", flat=True))
    assert len(mrns) == len(set(mrns))


@pytest.mark.django_db
def test_an_overdue_movement_alerts_the_principal_and_the_departure_office_once(
    transit_world, mailoutbox, django_capture_on_commit_callbacks
):
    from customs.models import Notification
    from transit.services.alerts import transit_overdue_alert

    world = transit_world
    world["users"]["trader_a"].email = "trader@example.org"
    world["users"]["trader_a"].save()
    movement = transit_release(actor=world["users"]["departure_officer"], movement=_lodged(world))
    transit_overdue_flag(today=timezone.localdate() + datetime.timedelta(days=9))
    with django_capture_on_commit_callbacks(execute=True):
        sent = transit_overdue_alert(movement.pk)
    assert sent >= 2
    notified = set(
        Notification.objects.filter(kind="transit.overdue").values_list("user__username", flat=True)
    )
    assert {"trader_a", "departure_officer"} <= notified
    assert "destination_officer" not in notified and "trader_b" not in notified
    assert [mail.to for mail in mailoutbox] == [["trader@example.org"]]
    assert movement.mrn in mailoutbox[0].subject
    assert transit_overdue_alert(movement.pk) == 0  # once per user


@pytest.mark.django_db
def test_the_sweeper_asks_for_the_tad_a_lost_task_did_not_print(transit_world):
    from transit.models import TadPrint
    from transit.services.documents import tad_sweep

    world = transit_world
    movement = transit_release(actor=world["users"]["departure_officer"], movement=_lodged(world))
    assert tad_sweep() == {"asked": 0, "resent": 0}  # within the grace period
    assert tad_sweep(older_than=datetime.timedelta(0)) == {"asked": 1, "resent": 0}
    original = TadPrint.objects.get(movement=movement)
    assert (original.duplicate, original.status) == (False, TadPrint.Status.PENDING)
    assert tad_sweep(older_than=datetime.timedelta(0)) == {"asked": 0, "resent": 1}


@pytest.mark.django_db
def test_an_overdue_movement_stays_overdue_at_the_border_and_an_enquiry_ends_with_a_reason(transit_world):
    world = transit_world
    movement = transit_release(actor=world["users"]["departure_officer"], movement=_lodged(world))
    transit_overdue_flag(today=timezone.localdate() + datetime.timedelta(days=9))
    movement = transit_border_passage(
        actor=world["users"]["border_officer"], movement=movement, office=world["border_office"]
    )
    assert movement.status == S.OVERDUE
    movement = transit_arrival(
        actor=world["users"]["destination_officer"],
        movement=movement,
        seals_intact=True,
        goods_conform=False,
        discrepancies="Two cartons missing",
    )
    assert movement.status == S.UNDER_ENQUIRY
    with pytest.raises(TransitInvalid) as no_reason:
        transit_discharge(actor=world["users"]["destination_officer"], movement=movement)
    assert [(error.field, error.code) for error in no_reason.value.errors] == [("reason", "required")]
    assert TransitMovement.objects.get(pk=movement.pk).status == S.UNDER_ENQUIRY


@pytest.mark.django_db
def test_lodgement_checks_currencies_seal_and_container_lengths(transit_world):
    data = t1_data(seals=["S" * 21], containers=["C" * 18])
    data.items[0].currency = "XXQ"
    with pytest.raises(TransitInvalid) as refused:
        transit_lodge(actor=transit_world["users"]["trader_a"], data=data)
    assert sorted((error.field, error.code) for error in refused.value.errors) == [
        ("containers[0]", "too_long"),
        ("items[0].currency", "unknown_code"),
        ("seals[0]", "too_long"),
    ]


@pytest.mark.django_db
def test_the_departure_officer_sees_the_overdue_alert_on_the_office_home_and_marks_it_read(
    transit_world, client, verified_login
):
    from customs.models import Notification
    from transit.services.alerts import transit_overdue_alert

    world = transit_world
    movement = transit_release(actor=world["users"]["departure_officer"], movement=_lodged(world))
    transit_overdue_flag(today=timezone.localdate() + datetime.timedelta(days=9))
    transit_overdue_alert(movement.pk)
    verified_login(client, world["users"]["departure_officer"])
    home = client.get("/office/").content.decode()
    notification = Notification.objects.get(user=world["users"]["departure_officer"])
    assert f"Transit {movement.mrn} is overdue" in home
    assert f'href="/office/transit/{movement.pk}/"' in home
    assert client.post(f"/office/notifications/{notification.pk}/read/").status_code == 302
    notification.refresh_from_db()
    assert notification.read_at is not None
    assert f"Transit {movement.mrn} is overdue" not in client.get("/office/").content.decode()
