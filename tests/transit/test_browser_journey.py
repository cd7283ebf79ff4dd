"""The whole departure in a real Chromium with a real worker: a principal lodges a T1 in the portal; the
departure officer, in another browser session, finds it, releases it for transit and downloads the
transit accompanying document that the worker printed (the MRN, seals and plate on it)."""

import datetime
import io
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect
from pypdf import PdfReader

from customs.services.users import user_upsert
from tests.browser import sign_in_with_totp
from tests.tariff.conftest import CAR
from tests.transit.test_browser_officer import _officer
from tests.transit.test_browser_portal import PASSWORD, _fill_row, _sign_in
from tests.waiting import wait_for
from transit.choices import MovementStatus
from transit.models import TadPrint, TransitMovement
from transit.services.documents import movement_data
from transit.signing import claims_from_transit, token_sign, token_verify

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def tad_worker(worker_media_root, celery_worker):
    return celery_worker


def test_a_principal_lodges_and_the_departure_officer_releases_and_downloads_the_tad(
    browser, live_server, transit_world, tad_worker
):
    user_upsert(
        actor=None,
        username="aman",
        password=PASSWORD,
        roles=["trader_user"],
        trader=transit_world["trader_a"],
    )
    _officer_user, device = _officer("aylar", transit_world["office"], "Aýlar")

    principal = browser.new_context(locale="en-GB")
    page = principal.new_page()
    page.set_default_timeout(15_000)
    _sign_in(page, live_server.url, "aman")
    page.goto(f"{live_server.url}/portal/transit/new/")
    page.get_by_label("Your reference (LRN)").fill("T1-JOURNEY-1")
    page.get_by_label("Guarantee", exact=True).select_option("GRN-0001")
    page.get_by_label("Time limit").fill((timezone.localdate() + datetime.timedelta(days=6)).isoformat())
    page.get_by_label("Office of departure").select_option("TMA01")
    page.get_by_label("Office of destination").select_option("TMT01")
    page.get_by_label("Office of transit 1").select_option("TMF01")
    page.get_by_label("Means of transport (plate)").fill("AG 5555 TM")
    page.get_by_label("Seals").fill("TM-S-0101")
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
    page.locator("#lodge").click()
    page.wait_for_url("**/portal/transit/*/")
    lodged_status = page.locator("#movement-status").inner_text()
    principal.close()
    movement = TransitMovement.objects.get(lrn="T1-JOURNEY-1")

    officer = browser.new_context(locale="en-GB")
    page = officer.new_page()
    page.set_default_timeout(15_000)
    sign_in_with_totp(page, live_server.url, "aylar", device)
    page.goto(f"{live_server.url}/office/transit/?plate=AG+5555")
    page.locator("#transit-results tbody tr").first.get_by_role("link", name="Not released").click()
    page.wait_for_url(f"**/office/transit/{movement.pk}/")
    page.locator("#action-release-submit").click()
    expect(page.get_by_role("status")).to_contain_text("Release for transit: done.")
    movement.refresh_from_db()
    printed = wait_for(
        lambda: TadPrint.objects.filter(
            movement=movement, duplicate=False, status=TadPrint.Status.READY
        ).exists()
    )
    assert printed, tad_worker.stdout.read() if tad_worker.poll() is not None else "the TAD was not printed"
    page.reload()
    with page.expect_download() as download_info:
        page.locator("#tad-download").click()
    pdf = Path(download_info.value.path()).read_bytes()
    officer.close()

    token = token_sign(claims_from_transit(movement_data(movement)))
    assert lodged_status == "Registered"
    assert movement.status == MovementStatus.RELEASED and movement.amount_at_stake > 0
    assert pdf.startswith(b"%PDF")
    text = " ".join(pdf_page.extract_text() for pdf_page in PdfReader(io.BytesIO(pdf)).pages)
    assert movement.mrn in text and "TM-S-0101" in text and "AG 5555 TM" in text
    assert token_verify(token)["mrn"] == movement.mrn
