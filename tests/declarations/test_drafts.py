"""Drafts: update, copy an item, attach and remove documents."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from customs.models import AuditEvent
from declarations.choices import Status
from declarations.models import Declaration, DeclarationDocument, DeclarationItem
from declarations.services.drafts import (
    MAX_DOCUMENT_BYTES,
    declaration_create,
    declaration_document_attach,
    declaration_document_remove,
    declaration_item_copy,
    declaration_update,
)
from declarations.services.errors import (
    DeclarationInvalid,
    NotAuthorised,
    StaleVersion,
    TransitionNotAllowed,
)
from declarations.services.lifecycle import declaration_lodge
from tests.declarations.conftest import FISH, declaration_data, item_data
from tests.declarations.test_transitions import declaration_in

pytestmark = pytest.mark.django_db
D = Decimal
S = Status


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _pdf(size=100, content_type="application/pdf", name="invoice.pdf"):
    return SimpleUploadedFile(name, b"%PDF" + b"0" * (size - 4), content_type=content_type)


def _unchanged(declaration):
    row = Declaration.objects.get(pk=declaration.pk)
    return (
        row.status,
        row.version,
        DeclarationItem.objects.filter(declaration=declaration).count(),
        DeclarationDocument.objects.filter(declaration=declaration).count(),
        AuditEvent.objects.count(),
    )


def test_an_update_with_items_replaces_the_item_list(world):
    trader = world["users"]["trader_a"]
    draft = declaration_create(actor=trader, data=declaration_data(items=[item_data(), item_data()]))
    fish = item_data(commodity_code=FISH, description="Frozen fish", quantities={}, invoice_price=D("700"))

    updated = declaration_update(
        actor=trader,
        declaration=draft,
        data={"items": [fish], "invoice_amount": D("700"), "delivery_place": "Mary"},
        expected_version=draft.version,
    )

    items = list(updated.items.order_by("number"))
    event = AuditEvent.objects.filter(action="declarations.declaration.updated").get()
    assert [(item.number, item.commodity_code, item.invoice_price) for item in items] == [
        (1, FISH, D("700.0000"))
    ]
    assert updated.version == draft.version + 1
    assert Declaration.objects.get(pk=draft.pk).delivery_place == "Mary"
    assert event.after == {"version": 2, "fields": ["delivery_place", "invoice_amount"], "items": True}


def test_an_update_without_items_keeps_them(world):
    trader = world["users"]["trader_a"]
    draft = declaration_create(actor=trader, data=declaration_data(items=[item_data(), item_data()]))
    item_ids = list(draft.items.values_list("pk", flat=True))

    declaration_update(actor=trader, declaration=draft, data={"delivery_place": "Mary"})

    assert list(draft.items.values_list("pk", flat=True)) == item_ids


def test_a_stale_update_is_refused_and_changes_nothing(world):
    trader = world["users"]["trader_a"]
    draft = declaration_create(actor=trader, data=declaration_data())
    declaration_update(actor=trader, declaration=draft, data={"delivery_place": "Mary"})
    before = _unchanged(draft)

    with pytest.raises(StaleVersion):
        declaration_update(actor=trader, declaration=draft, data={"items": []}, expected_version=1)

    assert _unchanged(draft) == before


def test_a_lodged_declaration_cannot_be_updated(world):
    declaration = declaration_in(world, S.ASSESSED)
    before = _unchanged(declaration)

    with pytest.raises(TransitionNotAllowed):
        declaration_update(actor=world["users"]["trader_a"], declaration=declaration, data={"items": []})

    assert _unchanged(declaration) == before


def test_another_trader_cannot_update_a_draft(world):
    draft = declaration_in(world, S.STORED)
    before = _unchanged(draft)

    with pytest.raises(NotAuthorised):
        declaration_update(actor=world["users"]["trader_b"], declaration=draft, data={"items": []})

    assert _unchanged(draft) == before


def test_copying_an_item_appends_a_copy(world):
    trader = world["users"]["trader_a"]
    fish = item_data(commodity_code=FISH, description="Frozen fish", quantities={})
    draft = declaration_create(actor=trader, data=declaration_data(items=[item_data(), fish]))

    copy = declaration_item_copy(actor=trader, declaration=draft, item_number=1)

    rows = list(
        draft.items.order_by("number").values_list("number", "commodity_code", "invoice_price", "quantities")
    )
    event = AuditEvent.objects.filter(action="declarations.item.copied").get()
    assert copy.number == 3
    assert rows == [
        (1, item_data()["commodity_code"], D("10000.0000"), {"item": "1"}),
        (2, FISH, D("10000.0000"), {}),
        (3, item_data()["commodity_code"], D("10000.0000"), {"item": "1"}),
    ]
    assert Declaration.objects.get(pk=draft.pk).version == draft.version + 1
    assert event.after == {"from": 1, "to": 3}


def test_copying_a_missing_item_is_refused(world):
    draft = declaration_in(world, S.STORED)
    before = _unchanged(draft)

    with pytest.raises(DeclarationInvalid) as raised:
        declaration_item_copy(actor=world["users"]["trader_a"], declaration=draft, item_number=5)

    assert [(error.field, error.code) for error in raised.value.errors] == [("item", "not_found")]
    assert _unchanged(draft) == before


def test_a_pdf_is_attached_to_a_draft(world):
    draft = declaration_in(world, S.STORED)

    document = declaration_document_attach(
        actor=world["users"]["trader_a"],
        declaration=draft,
        document_type="ST1",
        reference=" ST1-1 ",
        file=_pdf(),
    )

    document.refresh_from_db()
    assert document.reference == "ST1-1"
    assert document.content_type == "application/pdf"
    assert document.file.read().startswith(b"%PDF")
    assert Declaration.objects.get(pk=draft.pk).version == draft.version + 1


@pytest.mark.parametrize("content_type", ["text/html", "application/zip", ""])
def test_a_file_that_is_not_a_pdf_or_an_image_is_refused(world, content_type):
    draft = declaration_in(world, S.STORED)
    before = _unchanged(draft)

    with pytest.raises(DeclarationInvalid) as raised:
        declaration_document_attach(
            actor=world["users"]["trader_a"],
            declaration=draft,
            document_type="ST1",
            reference="ST1-1",
            file=_pdf(content_type=content_type, name="page.html"),
        )

    assert [(error.field, error.code) for error in raised.value.errors] == [("file", "file_type")]
    assert _unchanged(draft) == before


def test_a_file_over_ten_megabytes_is_refused(world):
    draft = declaration_in(world, S.STORED)
    before = _unchanged(draft)

    with pytest.raises(DeclarationInvalid) as raised:
        declaration_document_attach(
            actor=world["users"]["trader_a"],
            declaration=draft,
            document_type="ST1",
            reference="ST1-1",
            file=_pdf(size=MAX_DOCUMENT_BYTES + 1),
        )
    at_limit = declaration_document_attach(
        actor=world["users"]["trader_a"],
        declaration=draft,
        document_type="ST1",
        reference="ST1-2",
        file=_pdf(size=MAX_DOCUMENT_BYTES),
    )

    assert [(error.field, error.code) for error in raised.value.errors] == [("file", "file_too_large")]
    assert before[3] == 0
    assert list(DeclarationDocument.objects.values_list("reference", flat=True)) == [at_limit.reference]


def test_an_unknown_document_type_or_item_is_refused(world):
    draft = declaration_in(world, S.STORED)
    before = _unchanged(draft)

    with pytest.raises(DeclarationInvalid) as raised:
        declaration_document_attach(
            actor=world["users"]["trader_a"],
            declaration=draft,
            document_type="XX",
            reference="",
            item_number=9,
        )

    assert [(error.field, error.code) for error in raised.value.errors] == [
        ("document_type", "unknown_code"),
        ("reference", "required"),
        ("item_number", "not_found"),
    ]
    assert _unchanged(draft) == before


def test_a_document_cannot_be_attached_to_an_assessed_declaration(world):
    declaration = declaration_in(world, S.ASSESSED)
    before = _unchanged(declaration)

    with pytest.raises(TransitionNotAllowed):
        declaration_document_attach(
            actor=world["users"]["trader_a"], declaration=declaration, document_type="ST1", reference="ST1-1"
        )

    assert _unchanged(declaration) == before


def test_a_document_is_attached_to_answer_a_query(world):
    declaration = declaration_in(world, S.QUERIED)

    declaration_document_attach(
        actor=world["users"]["trader_a"], declaration=declaration, document_type="ST1", reference="ST1-1"
    )

    assert declaration.documents.count() == 1


def test_another_trader_cannot_attach_a_document(world):
    draft = declaration_in(world, S.STORED)
    before = _unchanged(draft)

    with pytest.raises(NotAuthorised):
        declaration_document_attach(
            actor=world["users"]["trader_b"], declaration=draft, document_type="ST1", reference="ST1-1"
        )

    assert _unchanged(draft) == before


def test_a_document_is_removed_from_a_draft_but_not_once_lodged(world):
    trader = world["users"]["trader_a"]
    draft = declaration_in(world, S.STORED)
    removed = declaration_document_attach(actor=trader, declaration=draft, document_type="ST1", reference="A")
    kept = declaration_document_attach(actor=trader, declaration=draft, document_type="ST1", reference="B")

    declaration_document_remove(actor=trader, document=removed)
    declaration_lodge(actor=trader, declaration=draft)
    before = _unchanged(draft)
    with pytest.raises(TransitionNotAllowed):
        declaration_document_remove(actor=trader, document=kept)

    assert list(draft.documents.values_list("reference", flat=True)) == ["B"]
    assert _unchanged(draft) == before


def test_a_document_is_uploaded_through_the_api(world):
    from rest_framework.test import APIClient

    draft = declaration_in(world, S.STORED)
    client = APIClient()
    client.force_authenticate(world["users"]["trader_a"])

    uploaded = client.post(
        f"/api/v1/declarations/{draft.pk}/documents/",
        {"document_type": "st1", "reference": "ST1-5", "item_number": 1, "file": _pdf()},
        format="multipart",
    )
    refused = client.post(
        f"/api/v1/declarations/{draft.pk}/documents/",
        {"document_type": "ST1", "reference": "ST1-6", "file": _pdf(content_type="text/html", name="a.html")},
        format="multipart",
    )

    assert uploaded.status_code == 201
    assert uploaded.json()["document_type"] == "ST1"
    assert uploaded.json()["item_number"] == 1
    assert uploaded.json()["has_file"] is True
    assert refused.status_code == 400
    assert refused.json()["error"]["fields"]["file"][0]["code"] == "file_type"
    assert list(draft.documents.values_list("reference", flat=True)) == ["ST1-5"]


def test_a_file_whose_content_does_not_match_its_declared_type_is_refused(world):
    draft = declaration_in(world, S.STORED)
    before = _unchanged(draft)
    page = SimpleUploadedFile(
        "invoice.pdf", b"<html><script>alert(1)</script>", content_type="application/pdf"
    )

    with pytest.raises(DeclarationInvalid) as raised:
        declaration_document_attach(
            actor=world["users"]["trader_a"], declaration=draft, document_type="ST1", reference="S", file=page
        )

    assert [(error.field, error.code) for error in raised.value.errors] == [("file", "file_type")]
    assert _unchanged(draft) == before


@pytest.mark.parametrize(
    ("content_type", "head"),
    [
        ("image/png", b"\x89PNG\r\n\x1a\n"),
        ("image/jpeg", b"\xff\xd8\xff\xe0"),
        ("image/tiff", b"II*\x00"),
        ("image/tiff", b"MM\x00*"),
    ],
)
def test_an_image_is_attached(world, content_type, head):
    draft = declaration_in(world, S.STORED)
    scan = SimpleUploadedFile("scan", head + b"0" * 64, content_type=content_type)

    document = declaration_document_attach(
        actor=world["users"]["trader_a"], declaration=draft, document_type="ST1", reference="S", file=scan
    )

    document.refresh_from_db()
    assert document.content_type == content_type
    assert document.file.read().startswith(head)
