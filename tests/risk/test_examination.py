"""The control of a lane: the documentary check (accept, query), the physical examination (findings per
item, discrepancies re-assessing the declaration, prohibited goods held), who may record, photos, and
the release order printed once the goods are released."""

import io
import re
from decimal import Decimal

import pypdf
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from customs.celery import app
from customs.codes import qr_svg_base64
from customs.models import AuditEvent
from declarations.models import Declaration, DeclarationItem, DeclarationPrint, StatusChange
from declarations.services.errors import DeclarationInvalid, NotAuthorised, TransitionNotAllowed
from declarations.services.lifecycle import declaration_mark_paid, declaration_release, declaration_respond
from declarations.services.printing import (
    declaration_print_context,
    release_order_issue,
    release_token,
    release_token_check,
)
from risk.models import Examination, Finding, PostClearanceAudit
from risk.services.control import (
    documentary_accept,
    documentary_query,
    examination_complete,
    finding_record,
    post_clearance_audit_record,
)
from tests.risk.conftest import CAR, FISH, assessed, criterion, item_data, score

D = Decimal
CARS = [{"kind": "commodity_code", "operator": "starts_with", "values": ["8703"]}]
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 64
WAVE = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 64


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def sent_tasks(monkeypatch):
    sent = []
    monkeypatch.setattr(
        app, "send_task", lambda name, args=(), kwargs=None, **options: sent.append((name, tuple(args)))
    )
    return sent


def _controlled(risk_world, lane, items=None):
    """A declaration of ``lane`` whose examination is assigned to ``officer`` (the only one on duty)."""
    others = [risk_world["users"]["officer2"], risk_world["users"]["supervisor"]]
    for user in others:
        user.offices.clear()
    criterion(risk_world, CARS, lane=lane)
    declaration = score(assessed(risk_world, items=items))
    for user in others:
        user.offices.set([risk_world["office"]])
    examination = Examination.objects.get(declaration=declaration)
    assert (examination.officer, examination.status) == (risk_world["users"]["officer"], "assigned")
    return declaration, examination


def _actions(declaration) -> list[str]:
    return list(
        StatusChange.objects.filter(declaration=declaration).order_by("pk").values_list("action", flat=True)
    )


def _state(declaration, examination):
    """What a refused step would change."""
    declaration = Declaration.objects.get(pk=declaration.pk)
    examination = Examination.objects.get(pk=examination.pk)
    return (
        declaration.status,
        declaration.version,
        declaration.control_done_at,
        declaration.total_taxes,
        examination.status,
        examination.report,
        list(
            Finding.objects.filter(examination=examination).values_list(
                "item_number", "result", "corrections"
            )
        ),
        list(
            DeclarationItem.objects.filter(declaration=declaration).values_list(
                "commodity_code", "invoice_price"
            )
        ),
        AuditEvent.objects.count(),
    )


def test_an_accepted_documentary_check_ends_the_control_and_payment_releases(risk_world):
    declaration, examination = _controlled(risk_world, "yellow")
    officer = risk_world["users"]["officer"]
    assert examination.kind == "documentary"

    documentary_accept(actor=officer, examination=examination, report=" Invoice and CMR in order ")

    examination.refresh_from_db()
    checked = Declaration.objects.get(pk=declaration.pk)
    assert (examination.status, examination.report) == ("done", "Invoice and CMR in order")
    assert examination.completed_at is not None
    assert (checked.status, checked.lane) == ("assessed", "yellow")
    assert checked.control_done_at is not None
    event = AuditEvent.objects.get(action="risk.examination.accepted")
    assert (event.actor, event.after["status"], event.after["report"]) == (
        officer,
        "done",
        "Invoice and CMR in order",
    )
    paid = declaration_mark_paid(actor=None, declaration=checked, receipt_reference="R-1")
    assert paid.status == "released"
    assert _actions(declaration)[-4:] == ["lane_yellow", "control_done", "mark_paid", "release"]


def test_a_declaration_paid_during_its_check_is_released_when_the_check_ends(risk_world):
    declaration, examination = _controlled(risk_world, "yellow")
    paid = declaration_mark_paid(actor=None, declaration=declaration, receipt_reference="R-1")
    assert paid.status == "paid"

    documentary_accept(actor=risk_world["users"]["officer"], examination=examination)

    assert Declaration.objects.get(pk=declaration.pk).status == "released"
    assert StatusChange.objects.get(declaration=declaration, action="control_done").reason == (
        "The check of the yellow lane is done."
    )
    assert AuditEvent.objects.get(action="declarations.declaration.control_done").after[
        "internal_reason"
    ] == ("Documentary check: in order.")


def test_a_query_waits_for_the_answer_then_the_check_is_accepted(risk_world):
    declaration, examination = _controlled(risk_world, "yellow")
    officer = risk_world["users"]["officer"]

    documentary_query(actor=officer, examination=examination, question="Send the insurance certificate.")

    queried = Declaration.objects.get(pk=declaration.pk)
    examination.refresh_from_db()
    assert (queried.status, examination.status, queried.control_done_at) == ("queried", "assigned", None)
    assert (
        StatusChange.objects.get(declaration=declaration, action="query").reason
        == "Send the insurance certificate."
    )
    assert AuditEvent.objects.get(action="risk.examination.queried").after == {
        "declaration": declaration.pk,
        "question": "Send the insurance certificate.",
    }
    declaration_respond(
        actor=risk_world["users"]["trader_a"], declaration=queried, reason="Attached, policy 77."
    )
    assert Declaration.objects.get(pk=declaration.pk).status == "assessed"
    documentary_accept(actor=officer, examination=examination)
    released = declaration_mark_paid(actor=None, declaration=declaration, receipt_reference="R-1")
    assert released.status == "released"


def test_a_query_without_a_question_is_refused(risk_world):
    declaration, examination = _controlled(risk_world, "yellow")
    before = _state(declaration, examination)

    with pytest.raises(DeclarationInvalid):
        documentary_query(actor=risk_world["users"]["officer"], examination=examination, question=" ")

    assert _state(declaration, examination) == before


def test_each_kind_of_examination_ends_its_own_way(risk_world):
    declaration, examination = _controlled(risk_world, "yellow")
    officer = risk_world["users"]["officer"]
    before = _state(declaration, examination)

    with pytest.raises(TransitionNotAllowed):
        finding_record(actor=officer, examination=examination, item_number=1, result="conform")
    with pytest.raises(TransitionNotAllowed):
        examination_complete(actor=officer, examination=examination)

    assert _state(declaration, examination) == before


def test_a_physical_examination_with_every_item_conform_ends_the_control(risk_world):
    declaration, examination = _controlled(
        risk_world, "red", items=[item_data(), item_data(commodity_code=FISH)]
    )
    officer = risk_world["users"]["officer"]
    assert examination.kind == "physical"
    taxes = declaration.total_taxes

    finding_record(
        actor=officer, examination=examination, item_number=1, result="conform", note=" VIN checked "
    )
    finding_record(actor=officer, examination=examination, item_number=2, result="conform")
    examination_complete(actor=officer, examination=examination, report="All as declared.")

    examination.refresh_from_db()
    done = Declaration.objects.get(pk=declaration.pk)
    assert list(examination.findings.values_list("item_number", "result", "note", "recorded_by")) == [
        (1, "conform", "VIN checked", officer.pk),
        (2, "conform", "", officer.pk),
    ]
    assert (examination.status, examination.report) == ("done", "All as declared.")
    assert (done.status, done.total_taxes) == ("assessed", taxes)
    assert done.control_done_at is not None
    assert "reassess" not in _actions(declaration)
    assert AuditEvent.objects.get(action="risk.examination.completed").after["reassessed"] is False
    assert declaration_mark_paid(actor=None, declaration=done).status == "released"


def test_a_physical_examination_needs_a_finding_on_every_item(risk_world):
    declaration, examination = _controlled(risk_world, "red", items=[item_data(), item_data(), item_data()])
    officer = risk_world["users"]["officer"]
    finding_record(actor=officer, examination=examination, item_number=2, result="conform")
    before = _state(declaration, examination)

    with pytest.raises(DeclarationInvalid) as raised:
        examination_complete(actor=officer, examination=examination, report="Done?")

    assert [(error.field, error.code) for error in raised.value.errors] == [
        ("findings[1]", "required"),
        ("findings[3]", "required"),
    ]
    assert _state(declaration, examination) == before


@pytest.mark.parametrize(
    ("result", "corrections", "item_after", "totals", "label"),
    [
        (
            "value",
            {"invoice_price": "15000,00"},
            {"invoice_price": D("15000.00")},
            {"invoice_amount": D("25000"), "total_packages": 2},
            "Discrepancy: value",
        ),
        (
            "classification",
            {"commodity_code": FISH},
            {"commodity_code": FISH},
            {"invoice_amount": D("20000"), "total_packages": 2},
            "Discrepancy: classification",
        ),
        (
            "quantity",
            {"quantities": {"item": 10}, "net_mass": "1000", "packages_number": "10"},
            {"quantities": {"item": "10"}, "net_mass": D("1000"), "packages_number": 10},
            {"invoice_amount": D("20000"), "total_packages": 11},
            "Discrepancy: quantity",
        ),
    ],
    ids=["value", "classification", "quantity"],
)
def test_a_discrepancy_reassesses_the_declaration_with_the_corrected_values(
    risk_world, result, corrections, item_after, totals, label
):
    declaration, examination = _controlled(risk_world, "red", items=[item_data(), item_data()])
    officer = risk_world["users"]["officer"]
    taxes_before = declaration.total_taxes

    finding_record(actor=officer, examination=examination, item_number=1, result="conform")
    finding_record(
        actor=officer, examination=examination, item_number=2, result=result, corrections=corrections
    )
    examination_complete(actor=officer, examination=examination, report="See findings.")

    reassessed = Declaration.objects.get(pk=declaration.pk)
    item = DeclarationItem.objects.get(declaration=declaration, number=2)
    assert {name: getattr(item, name) for name in item_after} == item_after
    assert DeclarationItem.objects.get(declaration=declaration, number=1).commodity_code == CAR
    assert {name: getattr(reassessed, name) for name in totals} == totals  # the items still add up
    assert reassessed.total_taxes != taxes_before
    assert (reassessed.status, reassessed.lane) == ("assessed", "red")
    assert reassessed.control_done_at is not None
    assert _actions(declaration)[-2:] == ["reassess", "control_done"]
    change = StatusChange.objects.get(declaration=declaration, action="reassess")
    assert (change.actor, change.reason) == (officer, f"Physical examination: {label}.")
    event = AuditEvent.objects.get(action="declarations.declaration.reassessed")
    assert event.after["before"]["total_taxes"] == str(taxes_before)
    assert event.after["after"]["total_taxes"] == str(reassessed.total_taxes)
    assert event.after["changes"]["item_changes"] == {"2": Finding.objects.get(item_number=2).corrections}
    assert AuditEvent.objects.get(action="risk.examination.completed").after["reassessed"] is True
    assert declaration_mark_paid(actor=None, declaration=reassessed).status == "released"


def test_an_origin_discrepancy_reassesses_with_the_corrected_origin(risk_world):
    declaration, examination = _controlled(risk_world, "red")
    officer = risk_world["users"]["officer"]

    finding_record(
        actor=officer, examination=examination, item_number=1, result="origin", corrections={"origin": "kz"}
    )
    examination_complete(actor=officer, examination=examination)

    assert DeclarationItem.objects.get(declaration=declaration).origin_id == "KZ"
    assert StatusChange.objects.get(declaration=declaration, action="reassess").reason == (
        "Physical examination: Discrepancy: origin."
    )
    assert Declaration.objects.get(pk=declaration.pk).control_done_at is not None


def test_a_discrepancy_after_payment_asks_for_the_new_amount_before_release(risk_world):
    declaration, examination = _controlled(risk_world, "red")
    officer = risk_world["users"]["officer"]
    declaration_mark_paid(actor=None, declaration=declaration, receipt_reference="R-1")

    finding_record(
        actor=officer,
        examination=examination,
        item_number=1,
        result="value",
        corrections={"invoice_price": "20000"},
    )
    examination_complete(actor=officer, examination=examination)

    reassessed = Declaration.objects.get(pk=declaration.pk)
    assert (reassessed.status, reassessed.released_at) == ("assessed", None)
    assert (
        declaration_mark_paid(actor=None, declaration=reassessed, receipt_reference="R-2").status
        == "released"
    )


def test_prohibited_goods_are_held_and_not_released(risk_world):
    declaration, examination = _controlled(risk_world, "red")
    officer = risk_world["users"]["officer"]

    finding_record(
        actor=officer, examination=examination, item_number=1, result="prohibited", note="Weapons parts"
    )
    examination_complete(actor=officer, examination=examination, report="Goods seized.")

    examination.refresh_from_db()
    held = Declaration.objects.get(pk=declaration.pk)
    assert (examination.status, examination.report) == ("held", "Goods seized.")
    assert held.control_done_at is None
    assert AuditEvent.objects.filter(action="risk.examination.goods_held").count() == 1
    paid = declaration_mark_paid(actor=None, declaration=held, receipt_reference="R-1")
    assert (paid.status, paid.released_at) == ("paid", None)
    with pytest.raises(TransitionNotAllowed):
        declaration_release(actor=officer, declaration=paid)
    assert Declaration.objects.get(pk=declaration.pk).status == "paid"


@pytest.mark.parametrize("username", ["officer2", "supervisor", "officer_other", "trader_a"])
def test_only_the_assigned_officer_records_the_examination(risk_world, username):
    declaration, examination = _controlled(risk_world, "red")
    actor = risk_world["users"][username]
    before = _state(declaration, examination)

    with pytest.raises(NotAuthorised):
        finding_record(actor=actor, examination=examination, item_number=1, result="conform")
    with pytest.raises(NotAuthorised):
        examination_complete(actor=actor, examination=examination)

    assert _state(declaration, examination) == before


@pytest.mark.parametrize("username", ["officer2", "supervisor", None])
def test_only_the_assigned_officer_accepts_or_queries_the_documents(risk_world, username):
    declaration, examination = _controlled(risk_world, "yellow")
    actor = risk_world["users"][username] if username else None
    before = _state(declaration, examination)

    with pytest.raises(NotAuthorised):
        documentary_accept(actor=actor, examination=examination)
    with pytest.raises(NotAuthorised):
        documentary_query(actor=actor, examination=examination, question="Why?")

    assert _state(declaration, examination) == before


def test_a_closed_examination_takes_no_more_findings(risk_world):
    declaration, examination = _controlled(risk_world, "red")
    officer = risk_world["users"]["officer"]
    finding_record(actor=officer, examination=examination, item_number=1, result="conform")
    examination_complete(actor=officer, examination=examination)
    before = _state(declaration, examination)

    with pytest.raises(TransitionNotAllowed):
        finding_record(actor=officer, examination=examination, item_number=1, result="value")
    with pytest.raises(TransitionNotAllowed):
        examination_complete(actor=officer, examination=examination)

    assert _state(declaration, examination) == before


@pytest.mark.parametrize(
    ("item_number", "result", "corrections", "errors"),
    [
        (1, "broken", {}, [("findings[1].result", "invalid")]),
        (4, "conform", {}, [("findings[4]", "not_found")]),
        (1, "value", {}, [("findings[1].corrections", "required")]),
        (1, "value", {"commodity_code": FISH}, [("findings[1].corrections", "required")]),
        (1, "value", {"invoice_price": "-5"}, [("findings[1].invoice_price", "invalid")]),
        (1, "quantity", {"net_mass": "lots"}, [("findings[1].net_mass", "invalid")]),
        (1, "quantity", {"packages_number": "two"}, [("findings[1].packages_number", "invalid")]),
        (1, "quantity", {"quantities": {"item": "lots"}}, [("findings[1].quantities", "invalid")]),
        (1, "quantity", {"quantities": {"item": "-3"}}, [("findings[1].quantities", "invalid")]),
        (1, "quantity", {"quantities": "10"}, [("findings[1].quantities", "invalid")]),
    ],
    ids=[
        "no such result",
        "no such item",
        "no corrections",
        "corrections of another kind",
        "negative",
        "nan",
        "count",
        "quantity not a number",
        "quantity negative",
        "quantities not by unit",
    ],
)
def test_a_finding_needs_a_result_an_item_and_the_corrections_of_its_kind(
    risk_world, item_number, result, corrections, errors
):
    declaration, examination = _controlled(risk_world, "red")
    before = _state(declaration, examination)

    with pytest.raises(DeclarationInvalid) as raised:
        finding_record(
            actor=risk_world["users"]["officer"],
            examination=examination,
            item_number=item_number,
            result=result,
            corrections=corrections,
        )

    assert [(error.field, error.code) for error in raised.value.errors] == errors
    assert _state(declaration, examination) == before


def test_a_finding_recorded_again_replaces_the_first(risk_world):
    declaration, examination = _controlled(risk_world, "red")
    officer = risk_world["users"]["officer"]

    finding_record(
        actor=officer,
        examination=examination,
        item_number=1,
        result="value",
        corrections={"invoice_price": "1"},
    )
    finding_record(
        actor=officer, examination=examination, item_number=1, result="conform", corrections={"x": "y"}
    )

    assert list(Finding.objects.filter(examination=examination).values_list("result", "corrections")) == [
        ("conform", {})
    ]
    assert AuditEvent.objects.filter(action="risk.finding.recorded").count() == 2


@pytest.mark.parametrize(
    ("content", "content_type"),
    [(JPEG, "image/jpeg"), (PNG, "image/png"), (WEBP, "image/webp")],
    ids=["jpeg", "png", "webp"],
)
def test_a_finding_keeps_a_photo_that_is_the_image_it_says(risk_world, content, content_type):
    declaration, examination = _controlled(risk_world, "red")
    photo = SimpleUploadedFile("engine.img", content, content_type=content_type)

    finding = finding_record(
        actor=risk_world["users"]["officer"],
        examination=examination,
        item_number=1,
        result="conform",
        photo=photo,
    )

    finding.refresh_from_db()
    assert finding.photo_content_type == content_type
    assert finding.photo.name.startswith(f"examinations/{examination.pk}/")
    with finding.photo.open("rb") as stored:
        assert stored.read() == content
    assert AuditEvent.objects.get(action="risk.finding.recorded").after["photo"] is True


@pytest.mark.parametrize(
    ("content", "content_type", "code"),
    [
        (PNG, "image/jpeg", "file_type"),
        (b"hello, not a picture", "image/png", "file_type"),
        (WAVE, "image/webp", "file_type"),
        (b"GIF89a" + b"\x00" * 16, "image/gif", "file_type"),
        (JPEG, "", "file_type"),
        (JPEG + b"\x00" * (10 * 1024 * 1024), "image/jpeg", "file_size"),
    ],
    ids=["png said jpeg", "text said png", "wave said webp", "gif", "no type", "over 10 MB"],
)
def test_a_photo_that_is_not_what_it_says_is_refused(risk_world, content, content_type, code):
    declaration, examination = _controlled(risk_world, "red")
    before = _state(declaration, examination)
    photo = SimpleUploadedFile("engine.jpg", content, content_type=content_type)

    with pytest.raises(DeclarationInvalid) as raised:
        finding_record(
            actor=risk_world["users"]["officer"],
            examination=examination,
            item_number=1,
            result="conform",
            photo=photo,
        )

    assert [(error.field, error.code) for error in raised.value.errors] == [("findings[1].photo", code)]
    assert _state(declaration, examination) == before


def _pdf_text(path) -> str:
    with open(path, "rb") as pdf:
        reader = pypdf.PdfReader(io.BytesIO(pdf.read()))
    return re.sub(r"\s+", " ", "\n".join(page.extract_text() for page in reader.pages))


def test_the_release_order_of_an_examined_declaration_carries_a_token_the_gate_verifies(risk_world):
    declaration, examination = _controlled(risk_world, "red")
    officer = risk_world["users"]["officer"]
    finding_record(actor=officer, examination=examination, item_number=1, result="conform")
    examination_complete(actor=officer, examination=examination)
    released = declaration_mark_paid(actor=None, declaration=declaration, receipt_reference="R-1")
    assert released.status == "released"

    assert release_order_issue(declaration.pk) == "ready"

    document = DeclarationPrint.objects.get(declaration=declaration, kind="release_order")
    assert (document.status, document.language, document.declaration_version) == (
        "ready",
        "en",
        released.version,
    )
    assert document.file.name.endswith(".pdf")
    released = Declaration.objects.get(pk=declaration.pk)
    token = release_token(released)
    assert token.startswith(f"KERWEN-RELEASE|{released.number}|")
    assert token.split("|")[3:5] == ["101012345678", "1"]
    assert token in _pdf_text(document.file.path)
    context = declaration_print_context(released, "release_order", language="en")
    assert context["release_token"] == token
    assert context["release_qr_base64"] == qr_svg_base64(token, box_size=6)
    assert release_token_check(token) is True
    body, _separator, check = token.rpartition("|")
    assert release_token_check(body[:-1] + "2|" + check) is False  # more items
    assert release_token_check(body + "|" + check[::-1]) is False
    assert release_token_check(token.lower()) is False
    assert release_token_check("") is False
    assert release_order_issue(declaration.pk) == "ready"  # printed once
    assert DeclarationPrint.objects.filter(declaration=declaration, kind="release_order").count() == 1


def test_no_release_order_before_release(risk_world):
    declaration, _examination = _controlled(risk_world, "red")

    assert release_order_issue(declaration.pk) == "not_released"
    assert not DeclarationPrint.objects.filter(declaration=declaration).exists()


def test_a_post_clearance_audit_is_recorded_once_by_an_officer_of_the_office(risk_world):
    criterion(risk_world, CARS, lane="blue")
    declaration = score(assessed(risk_world))
    audit = PostClearanceAudit.objects.get(declaration=declaration)
    officer = risk_world["users"]["officer"]
    before = AuditEvent.objects.count()

    for username in ("officer_other", "trader_a", "analyst"):
        with pytest.raises(NotAuthorised):
            post_clearance_audit_record(actor=risk_world["users"][username], audit=audit, outcome="conform")
    with pytest.raises(DeclarationInvalid):
        post_clearance_audit_record(actor=officer, audit=audit, outcome="discrepancy", note=" ")
    with pytest.raises(DeclarationInvalid):
        post_clearance_audit_record(actor=officer, audit=audit, outcome="maybe")
    audit.refresh_from_db()
    assert (audit.outcome, audit.auditor, audit.completed_at, AuditEvent.objects.count()) == (
        "",
        None,
        None,
        before,
    )

    post_clearance_audit_record(
        actor=officer, audit=audit, outcome="discrepancy", note=" Invoice undervalued "
    )

    audit.refresh_from_db()
    assert (audit.outcome, audit.note, audit.auditor) == ("discrepancy", "Invoice undervalued", officer)
    assert audit.completed_at is not None
    assert AuditEvent.objects.get(action="risk.post_clearance_audit.recorded").after == {
        "declaration": declaration.pk,
        "outcome": "discrepancy",
        "note": "Invoice undervalued",
    }
    with pytest.raises(TransitionNotAllowed):
        post_clearance_audit_record(actor=officer, audit=audit, outcome="conform")
    assert PostClearanceAudit.objects.get(pk=audit.pk).outcome == "discrepancy"
    next_one = score(assessed(risk_world, items=[item_data(commodity_code=FISH)]))
    assert next_one.lane == "yellow"  # the trader's finding raises the risk
