"""A real Chromium (and, for the TAD, a real Celery worker): the departure officer finds a lodged T1 in the
finder, releases it and downloads the transit accompanying document that the worker printed; the
destination officer enters the MRN of a movement that passed the border, records the arrival with the
seals intact and the goods conform, and sees it discharged."""

from pathlib import Path

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from customs.services.users import user_upsert
from payments.choices import ReservationStatus
from tests.browser import STAFF_PASSWORD, sign_in_with_totp
from tests.transit.conftest import t1_data
from tests.waiting import wait_for
from transit.choices import MovementStatus
from transit.models import ArrivalControl, TadPrint, TransitMovement
from transit.mrn import mrn_valid
from transit.services.lifecycle import transit_border_passage, transit_lodge, transit_release

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def tad_worker(worker_media_root, celery_worker):
    """The worker that prints the TAD, writing where the test (and the live server) read."""
    return celery_worker


def _officer(username, office, first_name):
    user = user_upsert(
        actor=None,
        username=username,
        password=STAFF_PASSWORD,
        roles=["officer"],
        offices=[office],
        first_name=first_name,
    )
    return user, TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def test_the_departure_officer_releases_a_lodged_movement_and_downloads_the_tad(
    page, live_server, transit_world, tad_worker
):
    movement = transit_lodge(actor=transit_world["users"]["trader_a"], data=t1_data())
    _officer_user, device = _officer("aylar", transit_world["office"], "Aýlar")

    sign_in_with_totp(page, live_server.url, "aylar", device)
    page.locator("#transit-link").click()
    page.wait_for_url("**/office/transit/")
    page.get_by_label("Plate").fill("1234")
    page.get_by_label("Status", exact=True).select_option("registered")
    page.locator("#transit-finder-submit").click()
    page.wait_for_url("**/office/transit/?*")
    rows = page.locator("#transit-results tbody tr")
    found_rows = rows.count()
    row_class = rows.first.get_attribute("class")
    rows.first.get_by_role("link", name="Not released").click()
    page.wait_for_url(f"**/office/transit/{movement.pk}/")
    status_before = page.locator("#movement-status").inner_text()
    page.locator("#action-release-submit").click()
    # The same address before and after the POST-redirect-GET: wait for the new page's message instead.
    expect(page.get_by_role("status")).to_contain_text("Release for transit: done.")
    status_after = page.locator("#movement-status").inner_text()
    mrn_shown = page.locator("#movement-mrn").inner_text()

    movement.refresh_from_db()
    printed = wait_for(
        lambda: TadPrint.objects.filter(movement=movement, duplicate=False).exclude(status="pending").exists()
    )
    assert printed, tad_worker.stdout.read() if tad_worker.poll() is not None else "the TAD was not printed"
    original = TadPrint.objects.get(movement=movement, duplicate=False)
    assert original.status == TadPrint.Status.READY, original.error
    with page.expect_download() as download_info:
        page.locator("#tad-download").click()
    download = download_info.value
    pdf = Path(download.path()).read_bytes()

    assert found_rows == 1
    assert row_class == "movement-row movement--registered"
    assert status_before == "Registered"
    assert status_after == "Released for transit"
    assert movement.status == MovementStatus.RELEASED and mrn_valid(movement.mrn)
    assert mrn_shown == movement.mrn
    assert movement.reservation.status == ReservationStatus.OPEN
    assert pdf.startswith(b"%PDF")
    assert download.suggested_filename == f"tad-{movement.mrn}-{original.language}.pdf"


def test_the_destination_officer_records_a_conform_arrival_and_sees_the_movement_discharged(
    page, live_server, transit_world
):
    world = transit_world
    movement = transit_lodge(actor=world["users"]["trader_a"], data=t1_data())
    movement = transit_release(actor=world["users"]["departure_officer"], movement=movement)
    movement = transit_border_passage(
        actor=world["users"]["border_officer"], movement=movement, office=world["border_office"]
    )
    _officer_user, device = _officer("merjen", world["other_office"], "Merjen")

    sign_in_with_totp(page, live_server.url, "merjen", device)
    page.locator("#transit-link").click()
    page.wait_for_url("**/office/transit/")
    page.locator("#transit-destination-link").click()
    page.wait_for_url("**/office/transit/destination/")
    page.get_by_label("MRN").fill(movement.mrn.lower())
    page.get_by_label("MRN").press("Enter")  # what a barcode scanner does after typing the MRN
    page.wait_for_url("**/office/transit/destination/?mrn=*")
    plate_shown = page.locator("#movement-plate").inner_text()
    status_before = page.locator("#movement-status").inner_text()
    page.get_by_label("Seal TM-S-0001 found intact").check()
    page.get_by_label("Seal TM-S-0002 found intact").check()
    page.get_by_label("The goods conform to the declaration").check()
    page.locator("#action-arrival-submit").click()
    page.wait_for_url(f"**/office/transit/{movement.pk}/")
    message = page.get_by_role("status").inner_text()
    status_after = page.locator("#movement-status").inner_text()
    seals_found = page.locator("#control-seals-found").inner_text()

    movement.refresh_from_db()
    control = ArrivalControl.objects.get(movement=movement)
    assert plate_shown == "AG 1234 TM (TM)"
    assert status_before == "In transit"
    assert status_after == "Discharged"
    assert message == (
        f"Arrival of {movement.mrn} recorded: the seals are intact and the goods conform. The movement is "
        "discharged and its guarantee released."
    )
    assert seals_found == "TM-S-0001, TM-S-0002"
    assert movement.status == MovementStatus.DISCHARGED
    assert movement.reservation.status == ReservationStatus.RELEASED
    assert (control.seals_intact, control.goods_conform, control.recorded_by.username) == (
        True,
        True,
        "merjen",
    )
    assert TransitMovement.objects.count() == 1
