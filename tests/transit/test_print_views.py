"""The TAD as a PDF: the original for whoever may see the movement, reprints (duplicates, audited) for
an officer of the office of departure only, the wait page while the worker renders."""

import pytest
from django.urls import reverse

from customs.models import AuditEvent
from tests.transit.conftest import t1_data
from transit.models import TadPrint
from transit.services.documents import tad_original_request, tad_render_print
from transit.services.lifecycle import transit_lodge, transit_release

pytestmark = pytest.mark.django_db


@pytest.fixture
def released(transit_world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.TRANSIT_SIGNING_KEYS_DIR = tmp_path / "keys"
    movement = transit_lodge(actor=transit_world["users"]["trader_a"], data=t1_data())
    return transit_release(actor=transit_world["users"]["departure_officer"], movement=movement)


def test_the_original_waits_for_the_worker_then_is_served(transit_world, released, client):
    client.force_login(transit_world["users"]["trader_a"])
    url = reverse("transit-prints:tad", args=[released.pk])
    waiting = client.get(url)
    assert waiting.status_code == 200 and b"being prepared" in waiting.content
    assert waiting["Refresh"].startswith("2;")
    document = tad_original_request(released.pk)
    assert tad_render_print(document.pk) == "rendered"
    served = client.get(url + "?download=1")
    assert served["Content-Type"] == "application/pdf"
    assert b"".join(served.streaming_content).startswith(b"%PDF")
    assert served["Content-Disposition"].startswith("attachment")


def test_a_reprint_is_a_duplicate_audited_and_only_for_the_departure_office(
    transit_world, released, client, verified_login
):
    users = transit_world["users"]
    url = reverse("transit-prints:reprint", args=[released.pk])
    client.force_login(users["trader_a"])
    assert client.post(url).status_code == 403
    verified_login(client, users["destination_officer"])
    assert client.post(url).status_code == 403
    assert not TadPrint.objects.filter(duplicate=True).exists()
    verified_login(client, users["departure_officer"])
    response = client.post(url)
    duplicate = TadPrint.objects.get(duplicate=True)
    assert response.status_code == 302 and response["Location"].endswith(f"/tad/{duplicate.pk}/")
    assert AuditEvent.objects.filter(action="transit.tad.reprinted", object_id=str(released.pk)).count() == 1
    assert tad_render_print(duplicate.pk) == "rendered"


def test_a_movement_not_seen_is_not_found_and_an_unreleased_one_has_no_tad(transit_world, released, client):
    client.force_login(transit_world["users"]["trader_b"])
    assert client.get(reverse("transit-prints:tad", args=[released.pk])).status_code == 404
    registered = transit_lodge(actor=transit_world["users"]["trader_a"], data=t1_data(lrn="T1-0009"))
    client.force_login(transit_world["users"]["trader_a"])
    assert client.get(reverse("transit-prints:tad", args=[registered.pk])).status_code == 404
