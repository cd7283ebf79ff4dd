"""Who may call each endpoint of /api/v1/declarations/: the matrix of every side, and API-key scopes.

The declaration is trader A's, lodged by broker BR-0001 (whom A authorises): both are its declarant's
side. A refused write changes nothing: status, version, history, audit trail, documents.
"""

import json
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from customs.models import ApiClient, AuditEvent
from declarations.choices import Status
from declarations.models import Declaration, DeclarationDocument, StatusChange
from declarations.services.drafts import declaration_document_attach
from tests.declarations.conftest import declaration_data, item_data
from tests.declarations.test_transitions import declaration_in

pytestmark = pytest.mark.django_db
URL = "/api/v1/declarations/"
D = Decimal
S = Status
WHO = ["anonymous", "trader_a", "trader_b", "broker", "broker_other", "officer", "officer_other"]


def _json(data):
    return json.loads(json.dumps(data, default=str))


def _codes(*codes):
    return dict(zip(WHO, codes, strict=True))


# Declarant's side may act; others do not see it (404); an officer of the office sees it but may not
# make the declarant's move (403); drafts are invisible to officers.
DECLARANT_ON_DRAFT = _codes(401, 200, 404, 200, 404, 404, 404)
DECLARANT_MOVE = _codes(401, 200, 404, 200, 404, 403, 404)
OFFICER_MOVE = _codes(401, 403, 404, 403, 404, 200, 404)

REASON = {"reason": "Because"}
ENDPOINTS = {
    # name: (state, method, path, body, expected codes)
    "list": (S.ASSESSED, "get", "", None, _codes(401, 200, 200, 200, 200, 200, 200)),
    "retrieve": (S.ASSESSED, "get", "{id}/", None, _codes(401, 200, 404, 200, 404, 200, 404)),
    "create": (None, "post", "", "new", _codes(401, 201, 400, 201, 400, 403, 403)),
    "submit": (None, "post", "submit/", "new", _codes(401, 201, 400, 201, 400, 403, 403)),
    "update": (S.STORED, "put", "{id}/", "full", DECLARANT_ON_DRAFT),
    "partial_update": (S.STORED, "patch", "{id}/", {"delivery_place": "Mary"}, DECLARANT_ON_DRAFT),
    "destroy": (S.STORED, "delete", "{id}/", None, _codes(401, 204, 404, 204, 404, 404, 404)),
    "lodge": (S.STORED, "post", "{id}/lodge/", None, DECLARANT_ON_DRAFT),
    "preview": (S.STORED, "post", "{id}/preview/", None, DECLARANT_ON_DRAFT),
    "respond": (S.QUERIED, "post", "{id}/respond/", REASON, DECLARANT_MOVE),
    "amend": (
        S.ASSESSED,
        "post",
        "{id}/amend/",
        {"reason": "Wrong place", "changes": {"delivery_place": "Mary"}},
        DECLARANT_MOVE,
    ),
    # The declarant asks for the cancellation; an officer of the office cancels.
    "cancel": (S.ASSESSED, "post", "{id}/cancel/", REASON, _codes(401, 200, 404, 200, 404, 200, 404)),
    "register": (S.LODGED, "post", "{id}/register/", None, OFFICER_MOVE),
    "query": (S.ASSESSED, "post", "{id}/query/", REASON, OFFICER_MOVE),
    "reject": (S.LODGED, "post", "{id}/reject/", REASON, OFFICER_MOVE),
    "accept_amendment": (S.AMENDMENT_REQUESTED, "post", "{id}/accept-amendment/", {}, OFFICER_MOVE),
    "refuse_amendment": (S.AMENDMENT_REQUESTED, "post", "{id}/refuse-amendment/", REASON, OFFICER_MOVE),
    "refuse_cancellation": (
        S.CANCELLATION_REQUESTED,
        "post",
        "{id}/refuse-cancellation/",
        REASON,
        OFFICER_MOVE,
    ),
    "reassess": (
        S.ASSESSED,
        "post",
        "{id}/reassess/",
        {"reason": "Checked", "item_changes": {"1": {"description": "Passenger car, 1,498 cc"}}},
        OFFICER_MOVE,
    ),
    "release": (S.PAID, "post", "{id}/release/", None, OFFICER_MOVE),
    "document_upload": (
        S.STORED,
        "post",
        "{id}/documents/",
        {"document_type": "ST1", "reference": "ST-1"},
        _codes(401, 201, 404, 201, 404, 404, 404),
    ),
    "document_delete": (
        S.STORED,
        "delete",
        "{id}/documents/{document}/",
        None,
        _codes(401, 204, 404, 204, 404, 404, 404),
    ),
}
MATRIX = [
    (endpoint, who, codes[who]) for endpoint, (_s, _m, _p, _b, codes) in ENDPOINTS.items() for who in WHO
]


def _state(declaration_id):
    declaration = Declaration.objects.get(pk=declaration_id)
    return {
        "status": declaration.status,
        "version": declaration.version,
        "history": StatusChange.objects.filter(declaration_id=declaration_id).count(),
        "audit": AuditEvent.objects.count(),
        "documents": DeclarationDocument.objects.filter(declaration_id=declaration_id).count(),
        "declarations": Declaration.objects.count(),
    }


def _client(world, who):
    client = APIClient()
    if who != "anonymous":
        client.force_authenticate(world["users"][who])
    return client


@pytest.mark.parametrize(("endpoint", "who", "expected"), MATRIX)
def test_authorisation_matrix(world, endpoint, who, expected):
    state, method, path, body, _codes_of = ENDPOINTS[endpoint]
    declaration = declaration_in(world, state or S.ASSESSED, declarant="broker")
    document = None
    if endpoint == "document_delete":
        document = declaration_document_attach(
            actor=world["users"]["broker"], declaration=declaration, document_type="ST1", reference="ST-1"
        )
    if body == "new":
        body = _json(declaration_data(lrn="NEW-1"))
    elif body == "full":
        body = _json(declaration_data(delivery_place="Mary"))
    before = _state(declaration.pk)
    url = URL + path.format(id=declaration.pk, document=document.pk if document else 0)

    response = getattr(_client(world, who), method)(url, body, format="json")

    assert response.status_code == expected, response.content
    if endpoint == "list" and expected == 200:
        visible = who in ("trader_a", "broker", "officer")
        assert [row["id"] for row in response.json()["results"]] == ([declaration.pk] if visible else [])
    if method == "get" or endpoint == "preview" or expected >= 400:
        assert _state(declaration.pk) == before
    elif endpoint in ("create", "submit"):
        assert _state(declaration.pk)["declarations"] == before["declarations"] + 1
    else:
        assert _state(declaration.pk)["audit"] > before["audit"]
    if expected in (401, 403, 404):
        assert (
            response.json()["error"]["code"]
            in {
                401: {"not_authenticated"},
                403: {"permission_denied"},
                404: {"not_found"},
            }[expected]
        )


def test_an_officer_of_the_office_sees_a_lodged_declaration_but_not_a_draft(world):
    draft = declaration_in(world, S.STORED, declarant="broker", lrn="DRAFT")
    lodged = declaration_in(world, S.LODGED, declarant="broker", lrn="LODGED")
    client = _client(world, "officer")

    listed = client.get(URL)

    assert [row["id"] for row in listed.json()["results"]] == [lodged.pk]
    assert client.get(f"{URL}{draft.pk}/").status_code == 404


def test_a_broker_whose_authorisation_is_revoked_no_longer_sees_or_acts(world):
    from customs.models import BrokerAuthorisation

    declaration = declaration_in(world, S.STORED, declarant="broker")
    BrokerAuthorisation.objects.filter(broker=world["broker"]).update(revoked=True)
    before = _state(declaration.pk)
    client = _client(world, "broker")

    shown = client.get(f"{URL}{declaration.pk}/")
    lodged = client.post(f"{URL}{declaration.pk}/lodge/")

    assert shown.status_code == 404
    assert lodged.status_code == 404
    assert _state(declaration.pk) == before


def _api_key_client(world, scopes):
    _client_row, key = ApiClient.objects.create_key(
        name="broker software", user=world["users"]["broker"], scopes=scopes
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def test_an_api_key_with_only_the_read_scope_reads_but_cannot_write(world):
    declaration = declaration_in(world, S.STORED, declarant="broker")
    before = _state(declaration.pk)
    client = _api_key_client(world, ["declarations:read"])

    listed = client.get(URL)
    created = client.post(URL, _json(declaration_data(lrn="NEW-1")), format="json")
    lodged = client.post(f"{URL}{declaration.pk}/lodge/")
    patched = client.patch(f"{URL}{declaration.pk}/", {"delivery_place": "Mary"}, format="json")

    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()["results"]] == [declaration.pk]
    assert created.status_code == 403
    assert lodged.status_code == 403
    assert patched.status_code == 403
    assert _state(declaration.pk) == before


def test_an_api_key_with_the_write_scope_creates_and_lodges(world):
    client = _api_key_client(world, ["declarations:read", "declarations:write"])

    created = client.post(URL, _json(declaration_data(lrn="NEW-1")), format="json")
    lodged = client.post(f"{URL}{created.json()['id']}/lodge/")

    assert created.status_code == 201
    assert lodged.status_code == 200
    assert lodged.json()["status"] == "assessed"
    assert Declaration.objects.get().broker == world["broker"]


def test_an_api_key_without_the_read_scope_cannot_list(world):
    client = _api_key_client(world, ["declarations:write"])

    assert client.get(URL).status_code == 403


def test_an_officer_signed_in_without_the_second_factor_is_refused(world, verified_login):
    declaration = declaration_in(world, S.ASSESSED, declarant="broker", items=[item_data()])
    password_only = APIClient()
    password_only.force_login(world["users"]["officer"])
    verified = verified_login(APIClient(), world["users"]["officer"])

    refused = password_only.get(f"{URL}{declaration.pk}/")
    shown = verified.get(f"{URL}{declaration.pk}/")

    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "second_factor_required"
    assert shown.status_code == 200
    assert shown.json()["total_taxes"] == "11558.75"


@pytest.mark.parametrize("who", ["trader_a", "broker", "officer"])
def test_the_list_reads_a_fixed_number_of_queries(world, who):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = _client(world, who)

    def queries_for_list():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(URL)
        assert response.status_code == 200
        return len(captured.captured_queries), len(response.json()["results"])

    queries_for_list()  # warm-up: the user's roles are read once and kept on the user
    declaration_in(world, S.ASSESSED, declarant="broker", lrn="L-1")
    one = queries_for_list()
    for index in range(2, 7):
        declaration_in(world, S.ASSESSED, declarant="broker", lrn=f"L-{index}")
    six = queries_for_list()

    assert (one[1], six[1]) == (1, 6)
    assert one[0] == six[0]
