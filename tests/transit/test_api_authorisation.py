"""Who may call each endpoint of /api/v1/transit/: the matrix of every side.

The scene is trader A's, on the route TMA01 (departure) -> TMF01 (transit) -> TMT01 (destination): movement
``registered`` (lodged), ``released`` and ``enquiry`` (arrived with a discrepancy, under enquiry).
``broker_transit`` is a broker that A authorises for transit; ``broker`` one that A authorises for import
and export only. ``officer_unrelated`` works at TMZ01, on no route. The two API keys are trader A's, one
with ``transit:read``, one with ``transit:write``.

Each endpoint is called by every side in turn, each call rolled back after it, so that every side finds
the same scene. A refused request (and any read) writes nothing: no movement, status change, passage,
control, print, reservation, audit event or idempotency key, and no movement changes status or version.
"""

import datetime

import pytest
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from customs.models import ApiClient, AuditEvent, BrokerAuthorisation
from customs.services.users import user_upsert
from declarations.models import IdempotencyKey
from payments.models import GuaranteeReservation
from tests.customs.factories import BrokerAuthorisationFactory, BrokerFactory, OfficeFactory
from tests.transit.conftest import ALL_TRANSIT, t1_data
from tests.transit.test_api import t1_json
from transit.models import ArrivalControl, TadPrint, TransitMovement, TransitOffice, TransitStatusChange
from transit.services.documents import movement_data
from transit.services.lifecycle import transit_arrival, transit_lodge, transit_release
from transit.signing import claims_from_transit, token_sign
from transit.xml.cc015c import cc015c_write

pytestmark = pytest.mark.django_db
URL = "/api/v1/transit/"
WHO = [
    "anonymous",
    "trader_a",
    "trader_b",
    "broker_transit",
    "broker",
    "departure_officer",
    "border_officer",
    "destination_officer",
    "officer_unrelated",
    "key_read",
    "key_write",
]
# Who finds trader A's movements: its side, the officers of the offices on their way, its read key.
SEES = {
    "trader_a",
    "broker_transit",
    "departure_officer",
    "border_officer",
    "destination_officer",
    "key_read",
}


def _codes(*codes):
    return dict(zip(WHO, codes, strict=True))


# Every signed-in side gets the finder (empty unless it sees the movements); a write-only key does not read.
LIST = _codes(401, 200, 200, 200, 200, 200, 200, 200, 200, 200, 403)
# One of trader A's movements: found by who sees them.
READ = _codes(401, 200, 404, 200, 404, 200, 200, 200, 404, 200, 403)
# Lodging for trader A: its side only (a write key of its own too); the others may not lodge for A.
LODGE = _codes(401, 201, 403, 201, 403, 403, 403, 403, 403, 403, 201)
# A move of the office of departure: who sees the movement but is not its officer is refused.
AT_DEPARTURE = _codes(401, 403, 404, 403, 404, 200, 403, 403, 404, 403, 403)
AT_DESTINATION = _codes(401, 403, 404, 403, 404, 403, 403, 200, 404, 403, 403)

ENDPOINTS = {
    # name: (method, path, body, expected codes)
    "list": ("get", "movements/", None, LIST),
    "retrieve": ("get", "movements/{released}/", None, READ),
    "create": ("post", "movements/", "t1", LODGE),
    "import_cc015c": ("post", "movements/import-cc015c/", "cc015c", LODGE),
    "release": ("post", "movements/{registered}/release/", None, AT_DEPARTURE),
    "border_passage": (
        "post",
        "movements/{released}/border-passage/",
        {"office": "TMF01"},
        _codes(401, 403, 404, 403, 404, 403, 200, 403, 404, 403, 403),
    ),
    # By MRN, at the caller's office on the route: an officer whose offices are not on it is refused as
    # off the route (the goods are where they should not be); who is no officer may not record it.
    "border_passage_by_mrn": (
        "post",
        "border-passages/",
        {"mrn": "{mrn}"},
        _codes(401, 403, 404, 403, 404, 409, 200, 409, 404, 403, 403),
    ),
    "arrival": (
        "post",
        "movements/{released}/arrival/",
        {"seals_intact": True, "goods_conform": True},
        AT_DESTINATION,
    ),
    "discharge": ("post", "movements/{enquiry}/discharge/", {"reason": "Enquiry closed"}, AT_DESTINATION),
    "cancel": (
        "post",
        "movements/{registered}/cancel/",
        {"reason": "The truck is not leaving"},
        AT_DEPARTURE,
    ),
    "tad_reprint": (
        "post",
        "movements/{released}/tad/reprint/",
        None,
        _codes(401, 403, 404, 403, 404, 201, 403, 403, 404, 403, 403),
    ),
    "cc015c": ("get", "movements/{released}/cc015c/", None, READ),
    # Public: no sign-in, and an API key is not even looked at.
    "verify": ("get", "verify/", "token", _codes(*[200] * len(WHO))),
}


@pytest.fixture
def scene(transit_world, settings, tmp_path):
    settings.TRANSIT_SIGNING_KEYS_DIR = tmp_path / "keys"
    world = transit_world
    users = world["users"]
    broker_transit = BrokerFactory(name="Transit Brokers", licence_number="BR-0009")
    BrokerAuthorisationFactory(
        broker=broker_transit,
        trader=world["trader_a"],
        valid_from=datetime.date(2020, 1, 1),
        scope=["transit"],
    )
    users["broker_transit"] = user_upsert(
        actor=None, username="broker_transit", roles=["broker_user"], broker=broker_transit
    )
    unrelated = OfficeFactory(
        code="TMZ01", name_en="Zeid", country=world["office"].country, roles=ALL_TRANSIT
    )
    users["officer_unrelated"] = user_upsert(
        actor=None, username="officer_unrelated", roles=["officer"], offices=[unrelated]
    )
    _row, key_read = ApiClient.objects.create_key(
        name="Trader A reads", user=users["trader_a"], scopes=["transit:read"]
    )
    _row, key_write = ApiClient.objects.create_key(
        name="Trader A lodges", user=users["trader_a"], scopes=["transit:write"]
    )

    def lodge(lrn):
        return transit_lodge(actor=users["trader_a"], data=t1_data(lrn=lrn))

    registered = lodge("T1-R")
    released = transit_release(actor=users["departure_officer"], movement=lodge("T1-L"))
    enquiry = transit_release(actor=users["departure_officer"], movement=lodge("T1-E"))
    transit_arrival(
        actor=users["destination_officer"],
        movement=enquiry,
        seals_intact=False,
        goods_conform=True,
        discrepancies="Seal TM-S-0002 missing",
    )
    released = TransitMovement.objects.get(pk=released.pk)
    return {
        **world,
        "keys": {"key_read": key_read, "key_write": key_write},
        "registered": registered,
        "released": released,
        "enquiry": TransitMovement.objects.get(pk=enquiry.pk),
        "token": token_sign(claims_from_transit(movement_data(released))),
        "cc015c": cc015c_write(
            t1_data(lrn="T1-XML"),
            message_sender="NEIGHBOUR",
            message_recipient="NTA.TM",
            prepared_at=timezone.localtime().replace(tzinfo=None),
        ),
    }


def _client(scene, who) -> APIClient:
    client = APIClient()
    if who in scene["keys"]:
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {scene['keys'][who]}")
    elif who != "anonymous":
        client.force_authenticate(scene["users"][who])
    return client


def _state() -> dict:
    return {
        "movements": list(TransitMovement.objects.order_by("pk").values_list("pk", "status", "version")),
        "passages": list(TransitOffice.objects.order_by("pk").values_list("pk", "passed_at")),
        "status_changes": TransitStatusChange.objects.count(),
        "arrival_controls": ArrivalControl.objects.count(),
        "prints": TadPrint.objects.count(),
        "reservations": list(GuaranteeReservation.objects.order_by("pk").values_list("pk", "status")),
        "audit_events": AuditEvent.objects.count(),
        "idempotency_keys": IdempotencyKey.objects.count(),
    }


def _request(scene, who, method, path, body):
    client = _client(scene, who)
    url = URL + path.format(
        registered=scene["registered"].pk, released=scene["released"].pk, enquiry=scene["enquiry"].pk
    )
    if body == "token":
        return client.get(url, {"token": scene["token"]})
    if body == "t1":
        return client.post(url, t1_json(lrn="T1-NEW"), format="json")
    if body == "cc015c":
        return client.post(url, scene["cc015c"], content_type="application/xml")
    if body == {"mrn": "{mrn}"}:
        body = {"mrn": scene["released"].mrn}
    return getattr(client, method)(url, body, format="json")


def _status_of(scene, name) -> str:
    return TransitMovement.objects.get(pk=scene[name].pk).status


def _check_effect(scene, endpoint, who, method, response, before, after):
    """What an accepted request did, and that a refused one (or a read) did nothing."""
    code = response.status_code
    if method == "get" or code >= 400:
        assert after == before
    if code >= 400:
        assert set(response.json()) == {"error"}
        expected_code = {401: "not_authenticated", 403: "permission_denied", 404: "not_found"}.get(code)
        if expected_code:
            assert response.json()["error"]["code"] == expected_code
        if code == 409:
            assert response.json()["error"]["code"] == "not_on_route"
        return
    if endpoint == "list":
        movements = [scene["enquiry"].pk, scene["released"].pk, scene["registered"].pk]
        assert [row["id"] for row in response.json()["results"]] == (movements if who in SEES else [])
    elif endpoint == "retrieve":
        assert (response.json()["id"], response.json()["mrn"]) == (
            scene["released"].pk,
            scene["released"].mrn,
        )
    elif endpoint in ("create", "import_cc015c"):
        assert len(after["movements"]) == len(before["movements"]) + 1
        created = TransitMovement.objects.latest("pk")
        assert (created.lrn, created.principal) == (
            {"create": "T1-NEW", "import_cc015c": "T1-XML"}[endpoint],
            scene["trader_a"],
        )
        assert created.created_by == scene["users"]["trader_a" if who.startswith("key") else who]
    elif endpoint in ("release", "cancel"):
        assert _status_of(scene, "registered") == {"release": "released", "cancel": "cancelled"}[endpoint]
    elif endpoint in ("border_passage", "border_passage_by_mrn"):
        assert _status_of(scene, "released") == "in_transit"
    elif endpoint == "arrival":
        assert _status_of(scene, "released") == "discharged"
    elif endpoint == "discharge":
        assert _status_of(scene, "enquiry") == "discharged"
    elif endpoint == "tad_reprint":
        assert after["prints"] == before["prints"] + 1
        assert TadPrint.objects.latest("pk").duplicate is True
    elif endpoint == "cc015c":
        assert response["Content-Type"] == "application/xml; charset=utf-8"
        assert b"<LRN>T1-L</LRN>" in response.content
    elif endpoint == "verify":
        assert response.json()["authentic"] is True
        assert response.json()["status"] == "Released for transit"


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_authorisation_matrix(scene, endpoint):
    method, path, body, expected = ENDPOINTS[endpoint]
    got = {}
    for who in WHO:
        with transaction.atomic():
            before = _state()
            response = _request(scene, who, method, path, body)
            got[who] = response.status_code
            if response.status_code == expected[who]:
                _check_effect(scene, endpoint, who, method, response, before, _state())
            transaction.set_rollback(True)  # the next side finds the scene as it was
    assert got == expected


def test_every_endpoint_is_in_the_matrix():
    from django.urls import get_resolver

    transit_patterns = {
        str(pattern.pattern)
        for pattern in get_resolver().url_patterns
        if str(pattern.pattern) == "api/v1/transit/"
        for pattern in pattern.url_patterns
    }
    covered = {
        "border-passages/",
        "verify/",
        "^movements/$",
        "^movements/import-cc015c/$",
        "^movements/(?P<pk>[0-9]+)/$",
        "^movements/(?P<pk>[0-9]+)/arrival/$",
        "^movements/(?P<pk>[0-9]+)/border-passage/$",
        "^movements/(?P<pk>[0-9]+)/cancel/$",
        "^movements/(?P<pk>[0-9]+)/cc015c/$",
        "^movements/(?P<pk>[0-9]+)/discharge/$",
        "^movements/(?P<pk>[0-9]+)/release/$",
        "^movements/(?P<pk>[0-9]+)/tad/reprint/$",
    }
    assert transit_patterns == covered
    # list and create share a path, as do the others' methods: 13 endpoints on 12 paths.
    assert len(ENDPOINTS) == 13


def test_a_broker_whose_transit_authorisation_is_revoked_no_longer_sees_or_lodges(scene):
    BrokerAuthorisation.objects.filter(broker__licence_number="BR-0009").update(revoked=True)
    client = _client(scene, "broker_transit")
    before = _state()

    listed = client.get(URL + "movements/")
    read = client.get(f"{URL}movements/{scene['released'].pk}/")
    lodged = client.post(URL + "movements/", t1_json(lrn="T1-NEW"), format="json")

    assert (listed.status_code, listed.json()["results"]) == (200, [])
    assert (read.status_code, lodged.status_code) == (404, 403)
    assert lodged.json()["error"] == {
        "code": "permission_denied",
        "message": "You may not lodge transit declarations for this principal.",
    }
    assert _state() == before


def test_an_api_key_without_the_transit_scopes_is_refused_everywhere_but_verify(scene):
    _row, key = ApiClient.objects.create_key(
        name="Trader A declarations",
        user=scene["users"]["trader_a"],
        scopes=["declarations:read", "declarations:write"],
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    before = _state()

    listed = client.get(URL + "movements/")
    lodged = client.post(URL + "movements/", t1_json(lrn="T1-NEW"), format="json")
    verified = client.get(URL + "verify/", {"token": scene["token"]})

    assert (listed.status_code, lodged.status_code, verified.status_code) == (403, 403, 200)
    assert lodged.json()["error"] == {
        "code": "permission_denied",
        "message": "This API key does not have the scope this endpoint needs.",
    }
    assert _state() == before


def test_verify_ignores_even_an_unknown_api_key(scene):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Api-Key not-a-key")

    response = client.get(URL + "verify/", {"token": scene["token"]})

    assert (response.status_code, response.json()["authentic"]) == (200, True)
