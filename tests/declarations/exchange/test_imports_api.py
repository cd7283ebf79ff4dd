"""The imports API: the file as the body or as a multipart upload, 202, then the import with its report."""

import pytest
from rest_framework.test import APIClient

from customs.models import ApiClient
from declarations.models import DeclarationImport
from declarations.services.imports import declaration_import_run

pytestmark = pytest.mark.django_db

FORD = "albania_sc001cs_FORD_IM4_902.xml"


def _client(user, scopes=("declarations:read", "declarations:write")) -> APIClient:
    _row, key = ApiClient.objects.create_key(name=f"{user.username}'s system", user=user, scopes=list(scopes))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def test_the_file_as_the_body_gives_202_then_the_draft_and_report(
    world, asycuda_dir, django_capture_on_commit_callbacks
):
    client = _client(world["users"]["broker"])
    content = (asycuda_dir / FORD).read_bytes()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            "/api/v1/declaration-imports/?trader=101012345678&office=TMA01&filename=ford.xml",
            data=content,
            content_type="application/xml",
            HTTP_IDEMPOTENCY_KEY="import-ford-1",
        )
    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["status"], body["filename"], body["trader"], body["office"]) == (
        "pending",
        "ford.xml",
        "101012345678",
        "TMA01",
    )
    assert response["Location"] == f"/api/v1/declaration-imports/{body['id']}/"
    assert len(callbacks) == 1  # the import task, on commit

    again = client.post(
        "/api/v1/declaration-imports/?trader=101012345678&office=TMA01&filename=ford.xml",
        data=content,
        content_type="application/xml",
        HTTP_IDEMPOTENCY_KEY="import-ford-1",
    )
    assert again.status_code == 202 and again.json()["id"] == body["id"]
    assert DeclarationImport.objects.count() == 1

    declaration_import_run(body["id"])
    done = client.get(f"/api/v1/declaration-imports/{body['id']}/").json()
    assert done["status"] == "done"
    assert done["format"] == "asycuda"
    assert done["report"]["items"] == 1
    draft = client.get(f"/api/v1/declarations/{done['declaration']}/").json()
    assert draft["status"] == "stored"
    assert len(draft["items"]) == 1


def test_a_multipart_upload(world, asycuda_dir):
    client = _client(world["users"]["trader_a"])
    with open(asycuda_dir / FORD, "rb") as upload:
        response = client.post(
            "/api/v1/declaration-imports/", {"file": upload, "office": "tma01"}, format="multipart"
        )
    assert response.status_code == 202, response.content
    assert response.json()["filename"] == FORD
    assert response.json()["office"] == "TMA01"


def test_refusals_name_the_field(world):
    client = _client(world["users"]["broker_other"])
    response = client.post(
        "/api/v1/declaration-imports/?trader=101012345678", data=b"<ASYCUDA/>", content_type="application/xml"
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["trader"][0]["code"] == "declarant_not_authorised"
    empty = client.post("/api/v1/declaration-imports/", {}, format="multipart")
    assert empty.status_code == 400
    assert empty.json()["error"]["fields"]["file"][0]["code"] == "required"
    assert not DeclarationImport.objects.exists()


def test_a_schema_error_is_reported_with_its_line(world, wcodm_dir):
    client = _client(world["users"]["broker"])
    content = (wcodm_dir / "TT_IM005a__TT_IM005a.xml").read_bytes()
    broken = content.replace(b"<FunctionCode>9</FunctionCode>", b"<FunctionCode>nine</FunctionCode>", 1)
    assert broken != content
    response = client.post(
        "/api/v1/declaration-imports/?trader=101012345678&office=TMA01",
        data=broken,
        content_type="application/xml",
    )
    declaration_import_run(response.json()["id"])
    failed = client.get(f"/api/v1/declaration-imports/{response.json()['id']}/").json()
    line = next(number for number, text in enumerate(broken.splitlines(), start=1) if b">nine<" in text)
    assert failed["status"] == "failed"
    assert failed["error_code"] == "schema_invalid"
    assert failed["problems"][0]["line"] == line
    assert failed["declaration"] is None


def test_authorisation(world, asycuda_dir):
    users = world["users"]
    content = (asycuda_dir / FORD).read_bytes()
    broker = _client(users["broker"])
    created = broker.post(
        "/api/v1/declaration-imports/?trader=101012345678&office=TMA01",
        data=content,
        content_type="application/xml",
    ).json()
    url = f"/api/v1/declaration-imports/{created['id']}/"

    assert APIClient().get(url).status_code in (401, 403)
    assert (
        _client(users["broker"], scopes=["declarations:read"])
        .post("/api/v1/declaration-imports/", data=content, content_type="application/xml")
        .status_code
        == 403
    )
    assert _client(users["broker_other"]).get(url).status_code == 404
    assert _client(users["trader_b"]).get(url).status_code == 404
    assert _client(users["officer"]).get(url).status_code == 404
    officer_post = _client(users["officer"]).post(
        "/api/v1/declaration-imports/", data=content, content_type="application/xml"
    )
    assert officer_post.status_code == 403
    assert broker.get(url).status_code == 200
    assert [row["id"] for row in broker.get("/api/v1/declaration-imports/").json()["results"]] == [
        created["id"]
    ]


def test_hostile_files_are_refused_with_a_clear_error(world):
    client = _client(world["users"]["broker"])
    xxe = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<ASYCUDA><Item>&secret;</Item></ASYCUDA>"""
    created = client.post(
        "/api/v1/declaration-imports/?trader=101012345678&office=TMA01",
        data=xxe,
        content_type="application/xml",
    ).json()
    declaration_import_run(created["id"])
    refused = client.get(f"/api/v1/declaration-imports/{created['id']}/").json()
    assert (refused["status"], refused["error_code"]) == ("failed", "entities_forbidden")
    assert "root:" not in str(refused)  # nothing of the file named was read
    assert refused["declaration"] is None

    huge = client.post(
        "/api/v1/declaration-imports/?trader=101012345678",
        data=b"<ASYCUDA>" + b"<Item/>" * (3 * 1024 * 1024) + b"</ASYCUDA>",
        content_type="application/xml",
    )
    assert huge.status_code == 400
    assert huge.json()["error"]["fields"]["file"][0]["code"] == "too_large"
    assert DeclarationImport.objects.count() == 1
