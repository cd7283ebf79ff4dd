"""A real Chromium: a declaration hits a red criterion; the officer it is assigned to signs in (password
+ TOTP), opens the worklist and the examination, records a value discrepancy with the corrected price
and a photo, and completes the examination; the declaration is re-assessed, and payment releases it."""

import re
from decimal import Decimal

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from customs.services.users import user_upsert
from declarations.choices import Status
from declarations.models import Declaration
from declarations.services.lifecycle import declaration_mark_paid
from risk.models import Examination, Finding
from tests.browser import STAFF_PASSWORD, sign_in_with_totp
from tests.risk.conftest import CAR, assessed, criterion, score
from tests.risk.test_officer_views import png_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = STAFF_PASSWORD


def test_the_officer_records_a_value_discrepancy_with_a_photo_and_payment_releases(
    page, live_server, risk_world, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    officer = user_upsert(
        actor=None,
        username="officer",
        password=PASSWORD,
        roles=["officer"],
        offices=[risk_world["office"]],
        first_name="Merdan",
    )
    device = TOTPDevice.objects.create(user=officer, name="phone", confirmed=True)
    criterion(
        risk_world,
        [{"kind": "commodity_code", "operator": "starts_with", "values": [CAR[:4]]}],
        lane="red",
        code="RC01",
        officer_note="Check the VIN against the invoice.",
    )
    declaration = score(assessed(risk_world))
    examination = Examination.objects.get(declaration=declaration)
    total_before = declaration.total_taxes

    sign_in_with_totp(page, live_server.url, "officer", device)
    page.locator("#worklist-link").click()
    page.wait_for_url("**/office/risk/worklist/")
    worklist_rows = page.locator("#worklist tbody tr").count()
    note_shown = page.locator("#worklist tbody tr").first.locator(".risk-notes").inner_text()
    page.get_by_role("link", name=declaration.number).click()
    page.wait_for_url(f"**/office/risk/examinations/{examination.pk}/")
    form = page.locator("#finding-form-1")
    price = form.get_by_label("Corrected item price")
    price_hidden_before = price.is_hidden()
    form.get_by_label("Result").select_option("value")
    expect(price).to_be_visible()
    price.fill("20000")
    form.get_by_label("Note").fill("The real invoice was in the glovebox.")
    form.get_by_label("Photo (JPEG, PNG or WebP)").set_input_files(
        files=[{"name": "invoice.png", "mimeType": "image/png", "buffer": png_bytes()}]
    )
    page.locator("#finding-1-submit").click()
    expect(page.get_by_role("status")).to_have_text("The finding on item 1 is saved.")
    photo_link = page.locator("#finding-1-photo")
    expect(photo_link).to_be_visible()
    page.get_by_label("Report (optional)").fill("Value corrected after the examination.")
    page.locator("#complete-submit").click()
    page.wait_for_url(f"**/office/declarations/{declaration.pk}/")
    expect(page.get_by_role("status")).to_have_text(
        "The examination is complete; the control of the declaration is done."
    )
    total_shown = page.locator("#declaration-total").inner_text()

    reassessed = Declaration.objects.get(pk=declaration.pk)
    released = declaration_mark_paid(actor=None, declaration=reassessed)
    page.reload()
    release_order = page.get_by_role("link", name="Release order (PDF)")

    examination.refresh_from_db()
    finding = Finding.objects.get(examination=examination)
    assert worklist_rows == 1
    assert note_shown == "Check the VIN against the invoice."
    assert price_hidden_before is True
    assert examination.officer == officer
    assert examination.status == "done"
    assert (finding.result, finding.corrections) == ("value", {"invoice_price": "20000"})
    assert finding.photo_content_type == "image/png"
    assert total_before == Decimal("11558.75")
    assert reassessed.total_taxes == Decimal("23117.50")
    assert reassessed.status == Status.ASSESSED
    assert reassessed.control_done_at is not None
    assert total_shown == "23,117.50"
    assert released.status == Status.RELEASED
    expect(page.locator("#declaration-status")).to_have_text("Released")
    expect(release_order).to_have_attribute("href", re.compile(rf"/{declaration.pk}/release-order/$"))
