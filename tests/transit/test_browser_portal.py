"""A real Chromium: a principal (a trader's user) lodges a T1 with two items through the portal's form and
sees it registered; the public verify page accepts the genuine token of a TAD and refuses a forged one."""

import datetime

import pytest
from django.utils import timezone

from customs.services.users import user_upsert
from tests.tariff.conftest import CAR, FISH
from tests.transit.conftest import D, t1_data
from transit.models import TransitMovement
from transit.services.documents import movement_data
from transit.services.lifecycle import transit_lodge, transit_release
from transit.signing import claims_from_transit, token_sign

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "Border-post-2026"


def _sign_in(page, base_url, username):
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("#login-submit").click()
    page.wait_for_url("**/portal/")


def _fill_row(page, index, **values):
    for name, value in values.items():
        field = page.locator(f"#id_items-{index}-{name}")
        if name in ("package_kind", "currency"):
            field.select_option(value)
        else:
            field.fill(value)


def test_a_principal_lodges_a_t1_with_two_items_and_sees_it_registered(page, live_server, transit_world):
    user_upsert(
        actor=None,
        username="aman",
        password=PASSWORD,
        roles=["trader_user"],
        trader=transit_world["trader_a"],
    )
    time_limit = timezone.localdate() + datetime.timedelta(days=8)

    _sign_in(page, live_server.url, "aman")
    page.locator("#nav-transit").click()
    page.wait_for_url("**/portal/transit/")
    page.locator("#transit-nav-new").click()
    page.wait_for_url("**/portal/transit/new/")

    principal = page.get_by_label("Principal (holder of the procedure)").input_value()
    page.get_by_label("Your reference (LRN)").fill("T1-2026-0042")
    page.get_by_label("Guarantee", exact=True).select_option("GRN-0001")
    page.get_by_label("Time limit").fill(time_limit.isoformat())
    page.get_by_label("Office of departure").select_option("TMA01")
    page.get_by_label("Office of destination").select_option("TMT01")
    page.get_by_label("Office of transit 1").select_option("TMF01")
    page.get_by_label("Itinerary (countries of routing)").fill("TM")
    page.get_by_label("Carrier", exact=True).fill("Ak Ýol Logistics")
    page.get_by_label("Means of transport (plate)").fill("AG 1234 TM")
    page.get_by_label("Nationality of the means of transport").fill("TM")
    page.get_by_label("Seals").fill("TM-S-0001, TM-S-0002")
    _fill_row(
        page,
        0,
        commodity_code=CAR,
        description="Passenger car",
        packages_number="1",
        package_kind="PK",
        gross_mass="1200",
        net_mass="1100",
        value="10000",
        currency="USD",
    )
    page.locator("#add-item").click()
    _fill_row(
        page,
        1,
        commodity_code=FISH,
        description="Frozen fish",
        packages_number="40",
        package_kind="CT",
        gross_mass="2400",
        net_mass="2000",
        value="3000",
        currency="USD",
    )
    # Enter in the grid moves down the column; it does not submit the form.
    page.locator("#id_items-0-gross_mass").press("Enter")
    focused = page.evaluate("document.activeElement.id")
    still_on_form = page.url
    page.locator("#lodge").click()
    page.wait_for_url("**/portal/transit/*/")
    status = page.locator("#movement-status").inner_text()
    message = page.locator(".messages").inner_text()
    lrn = page.locator("#movement-lrn").inner_text()

    movement = TransitMovement.objects.get()
    assert principal == "101012345678"
    assert focused == "id_items-1-gross_mass"
    assert still_on_form.endswith("/portal/transit/new/")
    assert status == "Registered"
    assert message == "The transit declaration T1-2026-0042 is registered at TMA01."
    assert lrn == "T1-2026-0042"
    assert (movement.lrn, movement.status, movement.guarantee.reference) == (
        "T1-2026-0042",
        "registered",
        "GRN-0001",
    )
    assert [stop.office.code for stop in movement.transit_offices.all()] == ["TMF01"]
    assert movement.seals == ["TM-S-0001", "TM-S-0002"]
    assert list(
        movement.items.values_list("number", "commodity_code", "gross_mass", "value", "currency")
    ) == [
        (1, CAR, D("1200"), D("10000"), "USD"),
        (2, FISH, D("2400"), D("3000"), "USD"),
    ]


def test_the_verify_page_accepts_the_genuine_token_and_refuses_a_forged_one(
    page, live_server, transit_world, settings, tmp_path, monkeypatch
):
    settings.TRANSIT_SIGNING_KEYS_DIR = tmp_path / "transit-keys"
    # No worker runs here: the TAD is not sent to print on release.
    monkeypatch.setattr("transit.services.lifecycle.ON_RELEASED_TASKS", [])
    users = transit_world["users"]
    movement = transit_release(
        actor=users["departure_officer"], movement=transit_lodge(actor=users["trader_a"], data=t1_data())
    )
    movement = TransitMovement.objects.get(pk=movement.pk)
    token = token_sign(claims_from_transit(movement_data(movement)))
    header, payload, signature = token.split(".")
    middle = len(signature) // 2
    changed = "B" if signature[middle] == "A" else "A"
    forged = f"{header}.{payload}.{signature[:middle]}{changed}{signature[middle + 1 :]}"

    page.goto(f"{live_server.url}/verify/")
    page.get_by_label("Text of the QR code").fill(token)
    page.get_by_label("Text of the QR code").press("Enter")  # a scanner types the text, then Enter
    page.wait_for_selector("#verify-result")
    genuine_verdict = page.locator("#verify-verdict").inner_text()
    genuine_mrn = page.locator("#verify-mrn").inner_text()
    genuine_plate = page.locator("#verify-plate").inner_text()
    live_status = page.locator("#verify-live-status").inner_text()

    page.get_by_label("Text of the QR code").fill(forged)
    page.locator("#verify-submit").click()
    page.wait_for_selector('#verify-result[data-authentic="no"]')
    forged_verdict = page.locator("#verify-verdict").inner_text()
    reason = page.locator("#verify-reason").inner_text()

    # What a phone opens: the address with the token.
    page.goto(f"{live_server.url}/verify/?token={token}")
    opened_verdict = page.locator("#verify-verdict").inner_text()

    assert genuine_verdict == "Authentic"
    assert genuine_mrn == movement.mrn
    assert genuine_plate == "AG 1234 TM"
    assert live_status == "Released for transit"
    assert forged_verdict == "Not authentic"
    assert reason == "The signature does not match the data: the token was altered or forged."
    assert opened_verdict == "Authentic"
