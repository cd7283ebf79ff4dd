"""A real Chromium: an officer signs in (password + TOTP), finds a declaration by its number, opens it,
reads the assessment total and queries the declarant."""

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from customs.services.users import user_upsert
from declarations.choices import Status
from declarations.models import Declaration, StatusChange
from declarations.services.drafts import declaration_create
from declarations.services.lifecycle import declaration_lodge
from tests.browser import STAFF_PASSWORD, sign_in_with_totp
from tests.declarations.conftest import declaration_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = STAFF_PASSWORD


def test_an_officer_finds_a_declaration_by_number_and_queries_the_declarant(page, live_server, world):
    trader = world["users"]["trader_a"]
    declaration = declaration_lodge(
        actor=trader, declaration=declaration_create(actor=trader, data=declaration_data())
    )
    officer = user_upsert(
        actor=None,
        username="merdan",
        password=PASSWORD,
        roles=["officer"],
        offices=[world["office"]],
        first_name="Merdan",
    )
    device = TOTPDevice.objects.create(user=officer, name="phone", confirmed=True)

    sign_in_with_totp(page, live_server.url, "merdan", device)
    page.locator("#declarations-link").click()
    page.wait_for_url("**/office/declarations/")
    page.get_by_label("Declaration number").fill(declaration.number)
    page.locator("#finder-submit").click()
    page.wait_for_url("**/office/declarations/?number=*")
    results = page.locator("#finder-results tbody tr")
    found_rows = results.count()
    page.get_by_role("link", name=declaration.number).click()
    page.wait_for_url(f"**/office/declarations/{declaration.pk}/")
    total_shown = page.locator("#assessment-total").inner_text()
    status_before = page.locator("#declaration-status").inner_text()
    page.locator("#action-query").get_by_label("Reason").fill("Send the freight invoice, please.")
    page.locator("#action-query-submit").click()
    # The same address before and after the POST-redirect-GET: wait for the new page's message instead.
    expect(page.get_by_role("status")).to_have_text(
        "Query the declarant: done. The declaration is now queried."
    )

    declaration.refresh_from_db()
    change = StatusChange.objects.filter(declaration=declaration).latest("pk")
    assert found_rows == 1
    assert total_shown == "11,558.75"
    assert status_before == "Assessed"
    assert page.locator("#declaration-status").inner_text() == "Queried"
    assert declaration.status == Status.QUERIED
    assert (change.action, change.actor_id, change.reason) == (
        "query",
        officer.pk,
        "Send the freight invoice, please.",
    )
    assert Declaration.objects.count() == 1
