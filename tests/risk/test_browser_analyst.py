"""A real Chromium: a risk analyst signs in (password + TOTP), writes a criterion through the screens
(commodity code starts with 8703 → red), puts it live; a matching declaration is lodged and scored, goes
red, and the criterion's page counts the hit."""

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from customs.celery import app
from customs.services.users import user_upsert
from risk.models import Criterion, CriterionHit, Selectivity
from risk.services.selectivity import selectivity_score
from tests.browser import STAFF_PASSWORD, sign_in_with_totp
from tests.risk.conftest import assessed

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = STAFF_PASSWORD


def test_an_analyst_writes_a_criterion_puts_it_live_and_a_matching_declaration_goes_red(
    page, live_server, risk_world
):
    analyst = user_upsert(
        actor=None, username="aylar", password=PASSWORD, roles=["risk_analyst"], first_name="Aylar"
    )
    device = TOTPDevice.objects.create(user=analyst, name="phone", confirmed=True)

    sign_in_with_totp(page, live_server.url, "aylar", device)
    page.locator("#criteria-link").click()
    page.wait_for_url("**/office/risk/criteria/")
    page.locator("#criterion-new-link").click()
    page.wait_for_url("**/office/risk/criteria/new/")
    page.get_by_label("Code", exact=True).fill("VEH-01")
    page.get_by_label("Name", exact=True).fill("Passenger cars")
    page.get_by_label("Target lane").select_option("red")
    page.get_by_label("Condition 1: what").select_option("commodity_code")
    below_disabled = (
        page.get_by_label("Condition 1: comparison").locator('option[value="below"]').is_disabled()
    )
    page.get_by_label("Condition 1: comparison").select_option("starts_with")
    page.get_by_label("Condition 1: values").fill("8703")
    page.locator("#condition-add").click()  # the script adds a fourth, empty row: ignored when saved
    rows_after_adding = page.locator("#condition-rows tr").count()
    focused_after_adding = page.evaluate("document.activeElement.id")
    page.get_by_label("Note for the officer").fill("Check the chassis number.")
    page.locator("#criterion-submit").click()
    expect(page.get_by_role("status")).to_have_text("Criterion VEH-01 written (version 1, a draft).")
    state_before = page.locator("#criterion-state").inner_text()
    conditions_shown = page.locator("#criterion-conditions li").all_inner_texts()
    page.locator("#criterion-live-submit").click()
    expect(page.get_by_role("status")).to_have_text("Criterion VEH-01 is live.")
    state_after = page.locator("#criterion-state").inner_text()

    declaration = assessed(risk_world)
    selectivity_score(declaration.pk)
    app.control.purge()  # the lodgement also sent the scoring task on commit: no worker runs here
    declaration.refresh_from_db()
    page.reload()
    hits_shown = page.locator("#figure-hits").inner_text()
    this_week = page.locator("#hits-by-week tbody tr").last.locator("td").first.inner_text()
    page.locator("#criteria-link").click()
    page.wait_for_url("**/office/risk/criteria/")
    list_hits = page.locator("#criteria-table tbody tr").first.locator("td").nth(5).inner_text()

    criterion = Criterion.objects.get(code="VEH-01")
    version = criterion.versions.get()
    assert below_disabled is True
    assert rows_after_adding == 4
    assert focused_after_adding == "id_conditions-3-kind"
    assert state_before == "Draft"
    assert conditions_shown == ["Commodity code starts with one of 8703"]
    assert state_after == "Live"
    assert criterion.active is True
    assert (version.number, version.lane, version.created_by) == (1, "red", analyst)
    assert version.conditions == [{"kind": "commodity_code", "operator": "starts_with", "values": ["8703"]}]
    assert version.officer_note == "Check the chassis number."
    assert Selectivity.objects.get(declaration=declaration).lane == "red"
    assert Selectivity.objects.get(declaration=declaration).source == "criteria"
    assert declaration.lane == "red"
    assert list(CriterionHit.objects.filter(declaration=declaration).values_list("version", flat=True)) == [
        version.pk
    ]
    assert hits_shown == "1"
    assert this_week == "1"
    assert list_hits == "1"
