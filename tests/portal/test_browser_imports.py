"""A real Chromium and a real Celery worker: a broker imports an ASYCUDA World file through the portal's
form, watches the import page until the worker has read it, reads the report and opens the draft; and a
broker adds a webhook endpoint (a real local HTTP receiver), sees the worker deliver a change of its
declaration in the delivery log, and replays it."""

import json
import re

import pytest

from customs.models import WebhookDelivery, WebhookEndpoint
from customs.services.users import user_upsert
from declarations.models import DeclarationImport
from declarations.services.drafts import declaration_create
from declarations.services.lifecycle import declaration_lodge
from tests.declarations.conftest import declaration_data
from tests.declarations.exchange import conftest as exchange_conftest
from tests.waiting import wait_for
from tests.webhook_receiver import WebhookReceiver

# The sample files of ../shared/data (fixture of the declarations exchange tests).
asycuda_dir = exchange_conftest.asycuda_dir

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]
PASSWORD = "Border-post-2026"
SAMPLE = "grenada_autobot_Asycuda421Sample5.xml"
# The worker reads the file in well under a second; the bound only keeps a broken worker from hanging.
WORKER_SECONDS = 60


def _sign_in(page, base_url, username):
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("#login-submit").click()
    page.wait_for_url("**/portal/")


def _broker(world, username="berdi"):
    return user_upsert(
        actor=None, username=username, password=PASSWORD, roles=["broker_user"], broker=world["broker"]
    )


def _worker_output(worker) -> str:
    return worker.stdout.read() if worker.poll() is not None else "the worker is running"


def test_a_broker_imports_an_asycuda_file_reads_the_report_and_opens_the_draft(
    page, live_server, world, asycuda_dir, celery_worker
):
    _broker(world)
    _sign_in(page, live_server.url, "berdi")
    page.goto(f"{live_server.url}/portal/declarations/")
    page.locator("#import-declaration").click()
    page.wait_for_url("**/portal/declarations/import/")

    page.get_by_label("Declaration file (XML)").set_input_files(str(asycuda_dir / SAMPLE))
    page.get_by_label("Trader").select_option("101012345678")
    page.get_by_label("Customs office").select_option("TMA01")
    page.locator("#import-submit").click()
    page.wait_for_url("**/portal/declarations/imports/*/")
    first_status = page.locator("#import-status").get_attribute("data-status")
    # The page reloads itself every 2 seconds until the worker has read the file.
    page.locator("#import-flagged").wait_for(timeout=WORKER_SECONDS * 1000)

    record = DeclarationImport.objects.get()
    flagged = page.locator("#flagged-list tbody tr")
    flagged_count = flagged.count()
    flagged_office = page.locator('#flagged-list tr[data-field="office"]').inner_text()
    taxes = page.locator("#tax-comparison tbody tr")
    tax_count = taxes.count()
    first_tax = [cell.strip() for cell in taxes.nth(0).locator("td").all_inner_texts()]
    attention = page.locator("#flagged-heading").inner_text()
    status = page.locator("#import-status").inner_text()
    items = page.locator("#import-items").inner_text()
    page.locator("#import-draft-link").click()
    page.wait_for_url(f"**/portal/declarations/{record.declaration_id}/")

    assert first_status in ("pending", "done")
    assert (record.status, record.format) == ("done", "asycuda"), record.error_message or _worker_output(
        celery_worker
    )
    assert status == "Draft made"
    assert items == "3"
    assert attention == "Needs your attention: 15 points"
    assert flagged_count == 15
    assert "GDSGO" in flagged_office and "the draft is for TMA01, as you chose" in flagged_office
    assert tax_count == 9
    assert first_tax[:6] == ["1", "CET", "5,560.57", "5", "278.03", "Import duty"]
    assert page.locator("#items tbody tr[data-item]").count() == 3
    assert page.locator("#declaration-status").inner_text() == "Stored (draft)"
    assert (
        page.locator("#import-notice").inner_text()
        == f"Imported from {SAMPLE}: 15 points need your attention"
    )


def test_a_broker_adds_an_endpoint_sees_a_delivery_in_the_log_and_replays_it(
    page, live_server, world, celery_worker
):
    broker_user = _broker(world)
    with WebhookReceiver() as receiver:
        _sign_in(page, live_server.url, "berdi")
        page.locator("#nav-webhooks").click()
        page.wait_for_url("**/portal/webhooks/")
        page.get_by_label("Address (URL)").fill(receiver.url)
        page.get_by_label("Description").fill("Test receiver")
        page.get_by_label("Declaration lodged").check()
        page.locator("#endpoint-add").click()
        page.wait_for_url(re.compile(r"/portal/webhooks/\d+/#secret$"))
        endpoint = WebhookEndpoint.objects.get()
        shown_secret = page.locator("#endpoint-secret").input_value()

        # A change of the broker's declaration, as the office screens or the API would make it.
        declaration = declaration_lodge(
            actor=broker_user, declaration=declaration_create(actor=broker_user, data=declaration_data())
        )

        def delivered_in_the_log() -> bool:
            page.reload()
            return page.locator('#delivery-log tr[data-status="delivered"]').count() == 1

        shown = wait_for(delivered_in_the_log, WORKER_SECONDS, interval=0.5)
        assert shown, _worker_output(celery_worker)
        original = WebhookDelivery.objects.get()
        row = page.locator(f'#delivery-log tr[data-delivery="{original.pk}"]').inner_text()
        page.locator(f"#attempts-{original.pk} summary").click()
        attempt = page.locator(f"#attempts-{original.pk} tr[data-attempt='1']").inner_text()
        page.locator(f"#replay-{original.pk}").click()
        page.wait_for_url(f"**/portal/webhooks/{endpoint.pk}/#deliveries")
        message = page.locator(".messages").inner_text()

        def replay_delivered() -> bool:
            page.reload()
            return page.locator('#delivery-log tr[data-status="delivered"]').count() == 2

        replayed = wait_for(replay_delivered, WORKER_SECONDS, interval=0.5)
        assert replayed, _worker_output(celery_worker)
        rows = page.locator("#delivery-log tr[data-delivery]")
        replay_row = rows.nth(0)
        received = list(receiver.received)

    replay = WebhookDelivery.objects.exclude(pk=original.pk).get()
    bodies = [json.loads(request.body) for request in received]
    assert shown_secret == endpoint.secret
    assert endpoint.kinds == ["declaration.lodged"]
    assert original.event.kind == "declaration.lodged"
    assert original.event.subject_id == declaration.pk
    assert row.split("\t")[0:2] == ["Declaration lodged", original.event.subject_reference]
    assert "Delivered" in row
    assert re.match(r"1\t\S+ \d\d:\d\d:\d\d\t200\t—\t\d+\tok", attempt), attempt
    assert f"as delivery {replay.pk}." in message
    assert rows.count() == 2
    assert replay_row.get_attribute("data-replay-of") == str(original.pk)
    assert "(replay)" in replay_row.inner_text()
    assert (replay.status, replay.replay_of_id, replay.event_id) == (
        "delivered",
        original.pk,
        original.event_id,
    )
    assert len(received) == 2
    assert [body["id"] for body in bodies] == [original.event_id, original.event_id]
    assert [request.headers["X-Kerwen-Delivery-Id"] for request in received] == [
        str(original.pk),
        str(replay.pk),
    ]
