"""The officer screens of transit: the finder, the movement's page and its moves (release, cancel, border
passage, arrival with its control, discharge), the border post and the destination screens, the menu;
and who may open what."""

import datetime
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.template.defaultfilters import date as date_filter
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customs.models import AuditEvent
from customs.services.users import user_upsert
from payments.choices import ReservationStatus
from payments.models import GuaranteeReservation
from payments.services.guarantees import guarantee_available, guarantee_create
from tests.customs.factories import OfficeFactory
from tests.transit.conftest import ALL_TRANSIT, D, t1_data
from transit import views
from transit.choices import MovementStatus
from transit.data import PartyData
from transit.models import ArrivalControl, TransitMovement, TransitOffice, TransitStatusChange
from transit.mrn import mrn_valid
from transit.services.lifecycle import (
    transit_arrival,
    transit_border_passage,
    transit_cancel,
    transit_lodge,
    transit_overdue_flag,
    transit_release,
)

pytestmark = pytest.mark.django_db
S = MovementStatus
FINDER = reverse("transit:finder")
BORDER = reverse("transit:border")
DESTINATION = reverse("transit:destination")
SEALS = ["TM-S-0001", "TM-S-0002"]
_lrns = iter(range(1, 10_000))


# ------------------------------------------------------------------------------------------ helpers


def _lodged(world, *, actor="trader_a", **overrides) -> TransitMovement:
    overrides.setdefault("lrn", f"T1-{next(_lrns):04d}")
    return transit_lodge(actor=world["users"][actor], data=t1_data(**overrides))


def _released(world, **overrides) -> TransitMovement:
    return transit_release(actor=world["users"]["departure_officer"], movement=_lodged(world, **overrides))


def _passed(world, **overrides) -> TransitMovement:
    return transit_border_passage(
        actor=world["users"]["border_officer"],
        movement=_released(world, **overrides),
        office=world["border_office"],
    )


def _under_enquiry(world) -> TransitMovement:
    return transit_arrival(
        actor=world["users"]["destination_officer"],
        movement=_passed(world),
        seals_intact=False,
        goods_conform=True,
        seals_found=["TM-S-0001"],
        discrepancies="Seal TM-S-0002 missing",
    )


def _sign_in(client, verified_login, world, name):
    return verified_login(client, world["users"][name])


def _found(response) -> list[int]:
    return [movement.pk for movement in response.context["page"].rows]


def _state(movement) -> tuple:
    """What a refused move must leave as it was."""
    fresh = TransitMovement.objects.get(pk=movement.pk)
    return (
        fresh.status,
        fresh.version,
        fresh.mrn,
        fresh.reservation_id,
        TransitStatusChange.objects.filter(movement=movement).count(),
        ArrivalControl.objects.filter(movement=movement).count(),
        list(TransitOffice.objects.filter(movement=movement).values_list("passed_at", flat=True)),
        GuaranteeReservation.objects.count(),
        AuditEvent.objects.count(),
    )


def _amount(value: Decimal) -> str:
    return f"{value:,.2f}"


def _arrival_post(**fields) -> dict:
    data = {"seals_intact_found": SEALS, "other_seals": "", "goods": "conform", "discrepancies": ""}
    data.update(fields)
    return {name: value for name, value in data.items() if value is not None}


@pytest.fixture
def unrelated(transit_world):
    """An officer of TMX01, an office no movement of the tests concerns."""
    office = OfficeFactory(
        code="TMX01", name_en="Serhetabat", country=transit_world["office"].country, roles=ALL_TRANSIT
    )
    transit_world["users"]["unrelated_officer"] = user_upsert(
        actor=None, username="unrelated_officer", roles=["officer"], offices=[office]
    )
    return transit_world


# -------------------------------------------------------------------------------------------- finder


def test_the_finder_lists_the_officers_movements_newest_first_coloured_by_status(
    client, verified_login, transit_world
):
    world = transit_world
    registered = _lodged(world)
    released = _released(world)
    in_transit = _passed(world)
    discharged = transit_arrival(
        actor=world["users"]["destination_officer"],
        movement=_passed(world),
        seals_intact=True,
        goods_conform=True,
    )
    enquiry = _under_enquiry(world)
    cancelled = _lodged(world)
    transit_cancel(actor=world["users"]["departure_officer"], movement=cancelled, reason="Truck broke down")
    overdue = _released(world)
    TransitMovement.objects.exclude(pk=overdue.pk).update(
        time_limit=timezone.localdate() + datetime.timedelta(days=30)
    )
    assert transit_overdue_flag(today=timezone.localdate() + datetime.timedelta(days=9)) == 1
    arrived = _released(world)
    TransitMovement.objects.filter(pk=arrived.pk).update(status=S.ARRIVED)  # between arrival and its outcome
    _sign_in(client, verified_login, world, "departure_officer")

    response = client.get(FINDER)

    content = response.content.decode()
    rows = re.findall(r'<tr class="movement-row movement--(\w+)" data-movement="(\d+)"', content)
    assert response.status_code == 200
    assert [(status, int(pk)) for status, pk in rows] == [
        (S.ARRIVED, arrived.pk),
        (S.OVERDUE, overdue.pk),
        (S.CANCELLED, cancelled.pk),
        (S.UNDER_ENQUIRY, enquiry.pk),
        (S.DISCHARGED, discharged.pk),
        (S.IN_TRANSIT, in_transit.pk),
        (S.RELEASED, released.pk),
        (S.REGISTERED, registered.pk),
    ]
    assert '<span class="transit-status transit-status--overdue">Overdue</span>' in content
    assert f'href="{reverse("transit:detail", args=[overdue.pk])}">{overdue.mrn}</a>' in content
    assert "TMA01 → TMF01 → TMT01" in content
    assert "AG 1234 TM (TM)" in content
    assert "Not released" in content  # the registered movement has no MRN yet


def test_the_finder_marks_a_movement_past_its_time_limit_before_the_beat_task_flags_it(
    client, verified_login, transit_world
):
    late = _released(transit_world)
    on_time = _released(transit_world)
    TransitMovement.objects.filter(pk=late.pk).update(
        time_limit=timezone.localdate() - datetime.timedelta(days=1)
    )
    _sign_in(client, verified_login, transit_world, "departure_officer")

    content = client.get(FINDER).content.decode()

    rows = dict(re.findall(r'data-movement="(\d+)"(.*?)</tr>', content, flags=re.S))
    assert "past the time limit" in rows[str(late.pk)]
    assert "past the time limit" not in rows[str(on_time.pk)]


def test_the_finder_has_a_legend_and_a_colour_for_every_status_overdue_in_red(
    client, verified_login, transit_world
):
    _sign_in(client, verified_login, transit_world, "departure_officer")
    stylesheet = (Path(settings.BASE_DIR) / "static/css/kerwen.css").read_text()
    section = stylesheet.split("/* transit: officer screens */", 1)[1].split("/* ==== end of transit", 1)[0]

    content = client.get(FINDER).content.decode()

    legend = content.split('id="transit-legend"', 1)[1].split("</section>", 1)[0]
    assert re.findall(r'class="transit-status transit-status--(\w+)">', legend) == list(S.values)
    assert "Past its time limit without arrival: act now." in legend
    for status in S.values:
        assert f".transit-status--{status} {{" in section
        assert f".movement--{status} td:first-child" in section
    assert re.search(r"\.transit-status--overdue \{ color: #ffffff; background: #b00020;", section)
    assert re.search(r"tr\.movement--overdue \{ background: #fde7ea; color: #7a0016;", section)


def test_the_finder_filters_by_office_principal_plate_mrn_status_and_period(
    client, verified_login, transit_world
):
    world = transit_world
    guarantee_create(
        actor=None,
        reference="GRN-B",
        kind="individual",
        trader=world["trader_b"],
        issuer=world["bank"],
        amount=D("100000.00"),
        valid_from=datetime.date(2020, 1, 1),
        valid_to=datetime.date(2099, 1, 1),
    )
    direct = _lodged(world, transit_offices=[], transport_identity="AG 7777 TM")
    via_farap = _released(world)
    of_b = _lodged(
        world,
        actor="trader_b",
        principal=PartyData(identification="101098765432", name="Balkan Import HJ", country="TM"),
        guarantee_reference="GRN-B",
    )
    old = _lodged(world)
    TransitMovement.objects.filter(pk=old.pk).update(
        registered_at=timezone.now() - datetime.timedelta(days=10)
    )
    ten_days_ago = (timezone.localdate() - datetime.timedelta(days=10)).isoformat()
    _sign_in(client, verified_login, world, "departure_officer")

    by_office = client.get(FINDER, {"office": "tmf01"})
    by_principal_name = client.get(FINDER, {"principal": "balkan"})
    by_taxpayer_id = client.get(FINDER, {"principal": "101012345678"})
    by_plate = client.get(FINDER, {"plate": "7777"})
    by_mrn = client.get(FINDER, {"mrn": via_farap.mrn.lower()})
    by_status = client.get(FINDER, {"status": "released"})
    by_period = client.get(FINDER, {"date_to": ten_days_ago})
    from_today = client.get(FINDER, {"date_from": timezone.localdate().isoformat()})
    combined = client.get(FINDER, {"office": "TMF01", "status": "registered"})

    assert _found(by_office) == [of_b.pk, via_farap.pk, old.pk]
    assert _found(by_principal_name) == [of_b.pk]
    assert _found(by_taxpayer_id) == [via_farap.pk, direct.pk, old.pk]
    assert _found(by_plate) == [direct.pk]
    assert _found(by_mrn) == [via_farap.pk]
    assert _found(by_status) == [via_farap.pk]
    assert _found(by_period) == [old.pk]
    assert _found(from_today) == [of_b.pk, via_farap.pk, direct.pk]
    assert _found(combined) == [of_b.pk, old.pk]


def test_the_finder_finds_a_plate_typed_with_its_spaces(client, verified_login, transit_world):
    movement = _lodged(transit_world)
    _sign_in(client, verified_login, transit_world, "departure_officer")

    response = client.get(FINDER, {"plate": "AG 1234"})

    assert _found(response) == [movement.pk]


@pytest.mark.parametrize(
    ("filters", "field", "message"),
    [
        (
            {"mrn": "26TMTMA010000014J8"},
            "mrn",
            "The check character (the last one) does not match the rest of the MRN: a character is "
            "mistyped, or the document is not genuine. Type it again or scan the barcode.",
        ),
        (
            {"mrn": "26TM-TMA01"},
            "mrn",
            "This is not an MRN: an MRN has 18 characters, two digits of the year, two letters of the "
            "country, 13 letters or digits and a check digit (for example 26TMTMA010000014J9).",
        ),
        ({"office": "TM-A"}, "office", "An office code has 2 to 8 letters or digits."),
        ({"status": "lost"}, "status", "Select a valid choice. lost is not one of the available choices."),
        (
            {"date_from": "2026-03-02", "date_to": "2026-03-01"},
            "date_to",
            "The end of the period is before its start.",
        ),
    ],
)
def test_a_bad_filter_is_refused_next_to_its_field(
    client, verified_login, transit_world, filters, field, message
):
    _released(transit_world)
    _sign_in(client, verified_login, transit_world, "departure_officer")

    response = client.get(FINDER, filters)

    assert response.status_code == 400
    assert response.context["page"] is None
    assert response.context["form"].errors == {field: [message]}
    assert message.replace("'", "&#x27;") in response.content.decode()


def test_the_finder_pages_by_cursor(client, verified_login, transit_world, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    movements = [_lodged(transit_world) for _ in range(5)]
    newest_first = [movement.pk for movement in reversed(movements)]
    _sign_in(client, verified_login, transit_world, "departure_officer")

    first = client.get(FINDER, {"status": "registered"})
    second = client.get(FINDER, {"status": "registered", "after": first.context["page"].next_cursor})
    third = client.get(FINDER, {"status": "registered", "after": second.context["page"].next_cursor})
    back = client.get(FINDER, {"status": "registered", "before": third.context["page"].previous_cursor})

    assert _found(first) == newest_first[:2]
    assert _found(second) == newest_first[2:4]
    assert _found(third) == newest_first[4:]
    assert _found(back) == newest_first[2:4]
    assert first.context["page"].has_previous is False
    assert third.context["page"].has_next is False
    assert back.context["page"].has_previous is True
    content = second.content.decode()
    assert 'id="page-next" href="?status=registered&amp;after=' in content
    assert 'id="page-previous" href="?status=registered&amp;before=' in content


def test_the_finder_reads_more_movements_in_the_same_number_of_queries(client, verified_login, transit_world):
    _released(transit_world)
    _sign_in(client, verified_login, transit_world, "departure_officer")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(FINDER).status_code == 200
        return len(captured)

    one = queries()
    _released(transit_world)
    _passed(transit_world)
    _lodged(transit_world, transit_offices=[])
    four = queries()

    assert len(client.get(FINDER).context["page"].rows) == 4
    assert four == one


def test_an_officer_finds_only_the_movements_of_their_offices(client, verified_login, unrelated):
    _released(unrelated)
    _sign_in(client, verified_login, unrelated, "unrelated_officer")

    response = client.get(FINDER)

    assert response.status_code == 200
    assert _found(response) == []
    assert 'id="transit-finder-empty"' in response.content.decode()


# ------------------------------------------------------------------------------------- movement page


def test_the_movement_page_shows_all_its_data_and_the_amount_at_stake_line_by_line(
    client, verified_login, transit_world
):
    movement = _passed(transit_world)
    stop = movement.transit_offices.get()
    line = movement.stake_lines[0]
    _sign_in(client, verified_login, transit_world, "departure_officer")

    response = client.get(reverse("transit:detail", args=[movement.pk]))

    content = response.content.decode()
    assert response.status_code == 200
    assert f"Transit movement {movement.mrn}" in content
    assert (
        '<span id="movement-status" class="transit-status transit-status--in_transit">In transit</span>'
        in (content)
    )
    for text in [
        "Ashgabat",
        "Farap",
        "Türkmenbaşy port",
        "Office of transit 1",
        "Altyn Asyr HJ",
        "Ak Ýol Logistics",
        "CARR-1",
        "AG 1234 TM",
        "MSCU1234565",
        '<li class="code">TM-S-0001</li>',
        '<li class="code">TM-S-0002</li>',
        "GRN-0001",
        "Passenger car, petrol, 1,500 cc",
        "8703231900",
        "10,000.00 USD",
        "1,200",
    ]:
        assert text in content, text
    passed = date_filter(timezone.localtime(stop.passed_at), "SHORT_DATETIME_FORMAT")
    assert f'<td class="passage-time">{passed}</td>' in content
    time_limit = date_filter(movement.time_limit, "SHORT_DATE_FORMAT")
    assert f'<dd id="movement-time-limit">{time_limit}</dd>' in content
    stake = content.split('id="stake-lines"', 1)[1].split("</table>", 1)[0]
    assert "Item 1, tariff line 8703231900: Passenger car, petrol, 1,500 cc" in stake
    assert len(re.findall(r"<tr data-tax=", stake)) == len(line["taxes"]) > 0
    for tax in line["taxes"]:
        assert _amount(D(tax["amount"])) in stake
    assert f"{_amount(movement.amount_at_stake)} TMT" in stake
    assert f"{_amount(movement.amount_at_stake)} TMT — reserved on the guarantee" in content
    available = guarantee_available(transit_world["guarantee"])
    assert f'<dd id="guarantee-available">{_amount(available)} TMT</dd>' in content
    history = content.split('id="history"', 1)[1].split("</table>", 1)[0]
    assert re.findall(r'data-action="(\w+)"', history) == ["lodge", "release", "pass_border"]
    assert f'href="{reverse("transit-prints:tad", args=[movement.pk])}"' in content
    assert 'id="tad-reprint-en"' in content and 'id="tad-reprint-ru"' in content
    assert 'id="action-cancel"' not in content  # in transit: too late to cancel
    assert 'id="action-release"' not in content


@pytest.mark.parametrize(
    ("state", "user", "forms"),
    [
        ("registered", "departure_officer", {"release", "cancel"}),
        ("registered", "border_officer", set()),
        ("registered", "destination_officer", set()),
        ("released", "departure_officer", {"cancel", "tad-reprint"}),
        ("released", "border_officer", {"passage"}),
        ("released", "destination_officer", {"arrival"}),
        ("in_transit", "border_officer", set()),  # passed already
        ("in_transit", "destination_officer", {"arrival"}),
        ("under_enquiry", "destination_officer", {"discharge"}),
        ("under_enquiry", "departure_officer", {"tad-reprint"}),
    ],
)
def test_the_movement_page_offers_the_moves_of_the_officers_office_and_the_state(
    client, verified_login, transit_world, state, user, forms
):
    make = {
        "registered": _lodged,
        "released": _released,
        "in_transit": _passed,
        "under_enquiry": _under_enquiry,
    }
    movement = make[state](transit_world)
    _sign_in(client, verified_login, transit_world, user)

    content = client.get(reverse("transit:detail", args=[movement.pk])).content.decode()

    every = {"release", "cancel", "passage", "arrival", "discharge"}
    shown = {name for name in every if f'id="action-{name}"' in content}
    shown |= {"tad-reprint"} if 'id="tad-reprint"' in content else set()
    assert shown == forms


# ------------------------------------------------------------------------------------------- release


def test_the_departure_officer_releases_a_movement(client, verified_login, transit_world):
    movement = _lodged(transit_world)
    _sign_in(client, verified_login, transit_world, "departure_officer")

    response = client.post(reverse("transit:release", args=[movement.pk]), {"version": movement.version})

    movement.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == reverse("transit:detail", args=[movement.pk])
    assert movement.status == S.RELEASED and mrn_valid(movement.mrn)
    assert movement.reservation.status == ReservationStatus.OPEN
    page = client.get(response["Location"]).content.decode()
    assert f"Release for transit: done. The movement {movement.mrn} is now released for transit." in page


def test_a_release_against_a_small_guarantee_is_refused_with_the_shortfall_and_changes_nothing(
    client, verified_login, transit_world
):
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
    reference = _released(world)  # the same goods against the big guarantee: the amount at stake
    stake = reference.amount_at_stake
    before = _state(movement)
    _sign_in(client, verified_login, world, "departure_officer")

    response = client.post(reverse("transit:release", args=[movement.pk]), {"version": movement.version})

    content = response.content.decode()
    assert response.status_code == 409
    assert _state(movement) == before
    assert not GuaranteeReservation.objects.filter(guarantee=small).exists()
    shortage = response.context["shortage"]
    assert (shortage["amount_at_stake"], shortage["shortfall"], shortage["available"]) == (
        stake,
        stake - D("100.00"),
        D("100.00"),
    )
    assert (
        f"The guarantee GRN-SMALL does not cover the {_amount(stake)} at stake: "
        f"short by {_amount(stake - D('100.00'))}." in content
    )
    assert f'<dd id="shortage-shortfall"><strong>{_amount(stake - D("100.00"))} TMT</strong></dd>' in content
    assert '<dd id="shortage-available">100.00 TMT</dd>' in content
    assert 'id="shortage-lines"' in content
    assert 'id="action-release-submit"' in content  # the officer may try again once the guarantee is raised


def test_a_release_from_an_out_of_date_page_is_refused(client, verified_login, transit_world):
    movement = _lodged(transit_world)
    before = _state(movement)
    _sign_in(client, verified_login, transit_world, "departure_officer")

    stale = client.post(reverse("transit:release", args=[movement.pk]), {"version": movement.version + 1})
    missing = client.post(reverse("transit:release", args=[movement.pk]), {})

    assert stale.status_code == 409
    assert "Reload it and try again." in stale.content.decode()
    assert missing.status_code == 400
    assert "The page is out of date. Reload it and try again." in missing.content.decode()
    assert _state(movement) == before


def test_a_second_release_is_refused(client, verified_login, transit_world):
    movement = _released(transit_world)
    before = _state(movement)
    _sign_in(client, verified_login, transit_world, "departure_officer")

    response = client.post(reverse("transit:release", args=[movement.pk]), {"version": movement.version})

    assert response.status_code == 409
    assert _state(movement) == before
    assert (
        '<div class="form-errors" role="alert" id="move-refused">Release for transit is not possible: '
        "the movement is released for transit.</div>" in response.content.decode()
    )


# -------------------------------------------------------------------------------------------- cancel


def test_the_departure_officer_cancels_with_a_reason_and_the_reservation_is_released(
    client, verified_login, transit_world
):
    movement = _released(transit_world)
    before = _state(movement)
    _sign_in(client, verified_login, transit_world, "departure_officer")
    url = reverse("transit:cancel", args=[movement.pk])

    without_reason = client.post(url, {"reason": "  "})
    unchanged = _state(movement)
    response = client.post(url, {"reason": "Truck broke down"})

    movement.refresh_from_db()
    assert without_reason.status_code == 400
    assert without_reason.context["forms"]["cancel"].errors == {
        "reason": ["Give the reason; it is kept in the history."]
    }
    assert unchanged == before
    assert response.status_code == 302
    assert movement.status == S.CANCELLED
    assert movement.reservation.status == ReservationStatus.RELEASED
    assert TransitStatusChange.objects.filter(movement=movement).latest("pk").reason == "Truck broke down"


# --------------------------------------------------------------------------------------- border post


def test_the_border_post_scans_the_mrn_shows_the_essentials_and_records_the_passage(
    client, verified_login, transit_world
):
    movement = _released(transit_world)
    _sign_in(client, verified_login, transit_world, "border_officer")

    empty = client.get(BORDER)
    found = client.get(BORDER, {"mrn": movement.mrn})
    response = client.post(
        reverse("transit:passage", args=[movement.pk]), {"office": "TMF01", "screen": "border"}
    )
    after = client.get(response["Location"])

    movement.refresh_from_db()
    stop = movement.transit_offices.get()
    content = found.content.decode()
    assert empty.status_code == 200
    assert re.search(r'<input type="text" name="mrn"[^>]* autofocus', empty.content.decode())
    assert found.status_code == 200
    assert found.context["movement"] == movement
    essentials = content.split('id="movement-essentials"', 1)[1].split("</section>", 1)[0]
    for text in [
        f"Movement {movement.mrn}",
        '<dd class="code essentials-plate" id="movement-plate">AG 1234 TM (TM)</dd>',
        '<li class="code">TM-S-0001</li>',
        '<li class="code">TM-S-0002</li>',
        "Altyn Asyr HJ",
        '<span class="code">TMT01</span> Türkmenbaşy port',
        date_filter(movement.time_limit, "SHORT_DATE_FORMAT"),
        "Released for transit",
    ]:
        assert text in essentials, text
    assert 'name="mrn" value=' not in content  # emptied for the next scan
    assert re.search(r'id="action-passage-submit" autofocus>Record the passage at TMF01</button>', content)
    assert response.status_code == 302
    assert response["Location"] == BORDER
    assert movement.status == S.IN_TRANSIT
    assert (stop.passed_by, stop.passed_at is not None) == (transit_world["users"]["border_officer"], True)
    assert f"Passage of {movement.mrn} recorded at TMF01. The movement is now in transit." in (
        after.content.decode()
    )


def test_a_typed_mrn_may_be_lower_case_and_spaced(client, verified_login, transit_world):
    movement = _released(transit_world)
    mrn = movement.mrn
    typed = f"{mrn[:2]} {mrn[2:4]} {mrn[4:9]} {mrn[9:17]} {mrn[17]}".lower()
    _sign_in(client, verified_login, transit_world, "border_officer")

    response = client.get(BORDER, {"mrn": typed})

    assert response.status_code == 200
    assert response.context["movement"] == movement


@pytest.mark.parametrize("screen", [BORDER, DESTINATION])
def test_a_wrong_check_character_is_shown_next_to_the_mrn_field(
    client, verified_login, transit_world, screen
):
    movement = _released(transit_world)
    wrong = movement.mrn[:17] + str((int(movement.mrn[17]) + 1) % 10)
    _sign_in(client, verified_login, transit_world, "border_officer")

    response = client.get(screen, {"mrn": wrong})
    malformed = client.get(screen, {"mrn": "TMA01-12"})

    content = response.content.decode()
    assert response.status_code == 400
    assert response.context["movement"] is None
    assert (
        response.context["entry_form"]
        .errors["mrn"][0]
        .startswith("The check character (the last one) does not match the rest of the MRN")
    )
    field = content.split('<div class="field field--error">', 1)[1].split("</div>\n    </div>", 1)[0]
    assert '<label for="id_mrn">MRN</label>' in field
    assert 'role="alert" id="mrn-error"' in field and "The check character (the last one)" in field
    assert f'value="{wrong}"' in field  # what was typed stays, to be corrected
    assert 'id="movement-essentials"' not in content
    assert malformed.status_code == 400
    assert malformed.context["entry_form"].errors["mrn"][0].startswith("This is not an MRN")


def test_a_genuine_mrn_of_no_movement_of_the_officers_offices_is_not_found(client, verified_login, unrelated):
    movement = _released(unrelated)
    _sign_in(client, verified_login, unrelated, "unrelated_officer")

    response = client.get(BORDER, {"mrn": movement.mrn})

    assert response.status_code == 404
    assert response.context["entry_form"].errors == {
        "mrn": [f"No movement with MRN {movement.mrn} concerns your offices. Check the MRN on the document."]
    }


def test_a_passage_at_an_office_not_on_the_route_is_refused_and_changes_nothing(
    client, verified_login, transit_world
):
    movement = _released(transit_world)
    before = _state(movement)
    _sign_in(client, verified_login, transit_world, "departure_officer")

    screen = client.get(BORDER, {"mrn": movement.mrn})
    response = client.post(
        reverse("transit:passage", args=[movement.pk]), {"office": "TMA01", "screen": "border"}
    )

    assert 'id="action-passage"' not in screen.content.decode()
    assert (
        '<p class="message message--warning" id="passage-blocked">None of your offices is an office of '
        "transit of this movement.</p>" in screen.content.decode()
    )
    assert response.status_code == 409
    assert (
        '<div class="form-errors" role="alert" id="passage-refused">Office TMA01 is not an office of '
        "transit of this movement.</div>" in response.content.decode()
    )
    assert _state(movement) == before


def test_a_second_passage_at_the_same_office_is_refused(client, verified_login, transit_world):
    movement = _passed(transit_world)
    before = _state(movement)
    _sign_in(client, verified_login, transit_world, "border_officer")

    screen = client.get(BORDER, {"mrn": movement.mrn})
    response = client.post(
        reverse("transit:passage", args=[movement.pk]), {"office": "TMF01", "screen": "border"}
    )

    assert "The passage at TMF01 is recorded already." in screen.content.decode()
    assert response.status_code == 409
    assert "The passage at TMF01 is recorded already." in response.content.decode()
    assert _state(movement) == before


def test_a_passage_of_a_movement_not_released_is_refused(client, verified_login, transit_world):
    movement = _lodged(transit_world)
    before = _state(movement)
    _sign_in(client, verified_login, transit_world, "border_officer")

    response = client.post(reverse("transit:passage", args=[movement.pk]), {"office": "TMF01"})

    assert response.status_code == 409
    assert (
        "Record the border passage is not possible: the movement is registered." in response.content.decode()
    )
    assert _state(movement) == before


# --------------------------------------------------------------------------------------- destination


def test_the_destination_records_a_conform_arrival_and_the_movement_is_discharged(
    client, verified_login, transit_world
):
    movement = _passed(transit_world)
    _sign_in(client, verified_login, transit_world, "destination_officer")

    screen = client.get(DESTINATION, {"mrn": movement.mrn})
    response = client.post(
        reverse("transit:arrival", args=[movement.pk]), _arrival_post(screen="destination")
    )
    page = client.get(response["Location"]).content.decode()

    movement.refresh_from_db()
    control = ArrivalControl.objects.get(movement=movement)
    content = screen.content.decode()
    assert screen.status_code == 200
    assert 'id="action-arrival"' in content
    assert '<input type="checkbox" name="seals_intact_found" value="TM-S-0001"' in content
    assert "2 seals declared at departure." in content
    assert response.status_code == 302
    assert response["Location"] == reverse("transit:detail", args=[movement.pk])
    assert movement.status == S.DISCHARGED
    assert movement.reservation.status == ReservationStatus.RELEASED
    assert guarantee_available(transit_world["guarantee"]) == D("100000.00")
    assert (control.seals_intact, control.seals_found, control.goods_conform, control.discrepancies) == (
        True,
        SEALS,
        True,
        "",
    )
    assert "the seals are intact and the goods conform. The movement is discharged" in page
    assert (
        '<span id="movement-status" class="transit-status transit-status--discharged">Discharged</span>'
        in (page)
    )


def test_an_arrival_with_a_missing_seal_needs_the_discrepancies_and_opens_an_enquiry(
    client, verified_login, transit_world
):
    movement = _passed(transit_world)
    before = _state(movement)
    _sign_in(client, verified_login, transit_world, "destination_officer")
    url = reverse("transit:arrival", args=[movement.pk])

    undescribed = client.post(url, _arrival_post(seals_intact_found=["TM-S-0001"], screen="destination"))
    unchanged = _state(movement)
    response = client.post(
        url,
        _arrival_post(
            seals_intact_found=["TM-S-0001"],
            other_seals="TM-X-9",
            discrepancies="Seal TM-S-0002 missing; seal TM-X-9 not declared.",
        ),
    )

    movement.refresh_from_db()
    control = ArrivalControl.objects.get(movement=movement)
    assert undescribed.status_code == 400
    assert undescribed.context["arrival_form"].errors == {
        "discrepancies": ["Describe the discrepancies: what is missing, broken or different."]
    }
    assert 'id="discrepancies-error"' in undescribed.content.decode()
    assert undescribed.context["movement"] == movement  # shown again on the destination screen
    assert unchanged == before
    assert response.status_code == 302
    assert movement.status == S.UNDER_ENQUIRY
    assert movement.reservation.status == ReservationStatus.OPEN
    assert (control.seals_intact, control.seals_found, control.goods_conform) == (
        False,
        ["TM-S-0001", "TM-X-9"],
        True,
    )
    page = client.get(reverse("transit:detail", args=[movement.pk])).content.decode()
    assert "The movement is under enquiry and its guarantee stays reserved." in page
    assert '<dd class="code discrepancy">TM-S-0002</dd>' in page  # missing
    assert '<dd class="code discrepancy">TM-X-9</dd>' in page  # not declared
    assert "Seal TM-S-0002 missing; seal TM-X-9 not declared." in page


def test_goods_that_do_not_conform_open_an_enquiry(client, verified_login, transit_world):
    movement = _passed(transit_world)
    _sign_in(client, verified_login, transit_world, "destination_officer")

    response = client.post(
        reverse("transit:arrival", args=[movement.pk]),
        _arrival_post(goods="discrepancies", discrepancies="Two packages short."),
    )

    movement.refresh_from_db()
    assert response.status_code == 302
    assert movement.status == S.UNDER_ENQUIRY
    assert ArrivalControl.objects.get(movement=movement).goods_conform is False
    assert TransitStatusChange.objects.filter(movement=movement).latest("pk").reason == "Two packages short."


def test_an_arrival_without_the_goods_check_is_refused(client, verified_login, transit_world):
    movement = _passed(transit_world)
    before = _state(movement)
    _sign_in(client, verified_login, transit_world, "destination_officer")

    response = client.post(reverse("transit:arrival", args=[movement.pk]), _arrival_post(goods=None))

    assert response.status_code == 400
    assert response.context["forms"]["arrival"].errors == {
        "goods": ["Say whether the goods conform to the declaration."]
    }
    assert _state(movement) == before


def test_the_destination_screen_says_why_no_arrival_can_be_recorded(client, verified_login, transit_world):
    released = _released(transit_world)
    discharged = transit_arrival(
        actor=transit_world["users"]["destination_officer"],
        movement=_released(transit_world),
        seals_intact=True,
        goods_conform=True,
    )
    _sign_in(client, verified_login, transit_world, "destination_officer")
    expected = client.get(DESTINATION, {"mrn": released.mrn}).content.decode()
    closed = client.get(DESTINATION, {"mrn": discharged.mrn}).content.decode()
    _sign_in(client, verified_login, transit_world, "departure_officer")
    elsewhere = client.get(DESTINATION, {"mrn": released.mrn}).content.decode()

    assert 'id="action-arrival"' in expected
    assert 'id="action-arrival"' not in closed
    assert "No arrival can be recorded: the movement is discharged." in closed
    assert 'id="action-arrival"' not in elsewhere
    assert "The office of destination is TMT01: only its officers record the arrival." in elsewhere


def test_the_destination_discharges_at_the_end_of_an_enquiry_with_a_reason(
    client, verified_login, transit_world
):
    movement = _under_enquiry(transit_world)
    before = _state(movement)
    _sign_in(client, verified_login, transit_world, "destination_officer")
    url = reverse("transit:discharge", args=[movement.pk])

    without_reason = client.post(url, {"reason": ""})
    unchanged = _state(movement)
    response = client.post(url, {"reason": "Enquiry closed: seal broken in transit"})

    movement.refresh_from_db()
    assert without_reason.status_code == 400
    assert without_reason.context["forms"]["discharge"].errors == {
        "reason": ["Give the reason; it is kept in the history."]
    }
    assert unchanged == before
    assert response.status_code == 302
    assert movement.status == S.DISCHARGED
    assert movement.reservation.status == ReservationStatus.RELEASED
    change = TransitStatusChange.objects.filter(movement=movement).latest("pk")
    assert (change.action, change.reason) == ("discharge", "Enquiry closed: seal broken in transit")


# ------------------------------------------------------------------------------------------ the menu


@pytest.mark.parametrize(
    ("roles", "links"),
    [
        (["officer"], {"transit-link", "home-transit-link", "home-transit-border-link"}),
        (["supervisor"], {"transit-link", "home-supervisor-transit-link"}),
        (["cashier"], set()),
    ],
)
def test_the_menu_and_the_home_page_link_transit_for_officers_and_supervisors(
    client, verified_login, transit_world, roles, links
):
    user = user_upsert(actor=None, username="someone", roles=roles, offices=[transit_world["office"]])
    verified_login(client, user)

    content = client.get(reverse("officer-home")).content.decode()
    in_transit = client.get(FINDER).content.decode() if "cashier" not in roles else ""

    every = {"transit-link", "home-transit-link", "home-transit-border-link", "home-supervisor-transit-link"}
    assert {link for link in every if f'id="{link}"' in content} == links
    if in_transit:
        assert re.search(r'id="transit-link" aria-current="page">Transit</a>', in_transit)


# --------------------------------------------------------------------------------- who may open what

ANONYMOUS = "anonymous"
DONE = "done"
LOGIN = "login"
USERS = [
    ANONYMOUS,
    "trader_a",
    "unrelated_officer",
    "departure_officer",
    "border_officer",
    "destination_officer",
]
# screen: (state of the movement it is tried on, expected per user in USERS' order)
MATRIX = {
    "finder": ("released", [LOGIN, 403, 200, 200, 200, 200]),
    "detail": ("released", [LOGIN, 403, 404, 200, 200, 200]),
    "border": ("released", [LOGIN, 403, 404, 200, 200, 200]),
    "destination": ("released", [LOGIN, 403, 404, 200, 200, 200]),
    "release": ("registered", [LOGIN, 403, 404, DONE, 403, 403]),
    "cancel": ("registered", [LOGIN, 403, 404, DONE, 403, 403]),
    "passage": ("released", [LOGIN, 403, 404, 403, DONE, 403]),
    "arrival": ("released", [LOGIN, 403, 404, 403, 403, DONE]),
    "discharge": ("under_enquiry", [LOGIN, 403, 404, 403, 403, DONE]),
}
DONE_STATUS = {
    "release": S.RELEASED,
    "cancel": S.CANCELLED,
    "passage": S.IN_TRANSIT,
    "arrival": S.DISCHARGED,
    "discharge": S.DISCHARGED,
}


def _request(client, name, movement):
    if name in ("finder", "border", "destination"):
        return client.get(reverse(f"transit:{name}"), {"mrn": movement.mrn} if name != "finder" else {})
    url = reverse(f"transit:{name}", args=[movement.pk])
    if name == "detail":
        return client.get(url)
    data = {
        "release": {"version": movement.version},
        "cancel": {"reason": "Truck broke down"},
        "passage": {"office": "TMF01"},
        "arrival": _arrival_post(),
        "discharge": {"reason": "Enquiry closed"},
    }[name]
    return client.post(url, data)


@pytest.mark.parametrize(
    ("name", "user", "expected"),
    [
        pytest.param(name, user, expected, id=f"{name}-{user}")
        for name, (_state_name, row) in MATRIX.items()
        for user, expected in zip(USERS, row, strict=True)
    ],
)
def test_who_may_open_each_screen_and_make_each_move(client, verified_login, unrelated, name, user, expected):
    state, _row = MATRIX[name]
    make = {"registered": _lodged, "released": _released, "under_enquiry": _under_enquiry}
    movement = make[state](unrelated)
    before = _state(movement)
    if user != ANONYMOUS:
        _sign_in(client, verified_login, unrelated, user)

    response = _request(client, name, movement)

    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    elif expected == DONE:
        assert response.status_code == 302, response.content.decode()[:2000]
        assert TransitMovement.objects.get(pk=movement.pk).status == DONE_STATUS[name]
    else:
        assert response.status_code == expected
    if expected != DONE:
        assert _state(movement) == before


@pytest.mark.parametrize("name", ["release", "cancel", "passage", "arrival", "discharge"])
def test_a_move_is_made_by_post_only(client, verified_login, transit_world, name):
    movement = _lodged(transit_world)
    before = _state(movement)
    _sign_in(client, verified_login, transit_world, "departure_officer")

    response = client.get(reverse(f"transit:{name}", args=[movement.pk]))

    assert response.status_code == 405
    assert _state(movement) == before
