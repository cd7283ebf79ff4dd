"""The officers' and supervisors' screens of the risk module: the worklist, the examination (documentary
check, physical examination with findings and photos), the supervisor's board with reassignment, the
change of lane and the post-clearance audit queue."""

import datetime
import struct
import zlib
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customs.models import AuditEvent
from declarations.choices import Status
from declarations.models import Declaration, StatusChange
from declarations.services.lifecycle import declaration_mark_paid
from risk.models import Examination, Finding, PostClearanceAudit, Selectivity
from risk.services.control import finding_record
from tests.risk.conftest import CAR, FISH, assessed, criterion, item_data, score

pytestmark = pytest.mark.django_db
D = Decimal
BY_CAR = [{"kind": "commodity_code", "operator": "starts_with", "values": [CAR[:4]]}]
OFFICER_NOTE = "Check the VIN against the invoice."
INTERNAL_NOTE = "Intelligence report 2026/17: undervalued cars from this route."
TOTAL = D("11558.75")  # the one car of ``item_data`` at 10,000 USD
TOTAL_AT_20000 = D("23117.50")  # the same car at 20,000 USD: every tax is ad valorem


def png_bytes() -> bytes:
    """A valid 1×1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def _red_criterion(risk_world, **version):
    version.setdefault("officer_note", OFFICER_NOTE)
    version.setdefault("internal_note", INTERNAL_NOTE)
    return criterion(risk_world, BY_CAR, lane="red", code=version.pop("code", "RC01"), **version)


def _examined(risk_world, *, officer="officer", **overrides) -> Examination:
    """A scored declaration's open examination, assigned to ``officer`` (the test's choice, not the
    least-loaded rule's)."""
    declaration = score(assessed(risk_world, **overrides))
    examination = Examination.objects.get(declaration=declaration)
    Examination.objects.filter(pk=examination.pk).update(
        officer=risk_world["users"][officer], status="assigned", assigned_at=timezone.now()
    )
    return Examination.objects.select_related("declaration").get(pk=examination.pk)


def _signed_in(client, verified_login, risk_world, name="officer"):
    return verified_login(client, risk_world["users"][name])


def _finding_post(client, examination, item_number, **fields):
    data = {f"finding-{item_number}-{name}": value for name, value in fields.items()}
    return client.post(reverse("risk:examination-finding", args=[examination.pk, item_number]), data)


# ------------------------------------------------------------------------------------------ worklist


def test_the_worklist_shows_the_officers_open_examinations_oldest_first(client, verified_login, risk_world):
    _red_criterion(risk_world)
    newer = _examined(risk_world)
    older = _examined(risk_world)
    Examination.objects.filter(pk=older.pk).update(created_at=timezone.now() - datetime.timedelta(days=2))
    _examined(risk_world, officer="officer2")
    closed = _examined(risk_world)
    Examination.objects.filter(pk=closed.pk).update(status="done", completed_at=timezone.now())
    _signed_in(client, verified_login, risk_world)

    response = client.get(reverse("risk:worklist"))

    content = response.content.decode()
    rows = response.context["rows"]
    assert response.status_code == 200
    assert [row["examination"].pk for row in rows] == [older.pk, newer.pk]
    assert [row["notes"] for row in rows] == [[OFFICER_NOTE], [OFFICER_NOTE]]
    assert f'href="{reverse("risk:examination", args=[older.pk])}"' in content
    assert older.declaration.number in content
    assert "Altyn Asyr HJ" in content
    assert "Physical examination" in content
    assert '<span class="lane-red">Red</span>' in content
    assert OFFICER_NOTE in content
    assert INTERNAL_NOTE not in content


def test_the_worklist_is_for_officers_only(client, verified_login, risk_world):
    client.force_login(risk_world["users"]["trader_a"])
    as_trader = client.get(reverse("risk:worklist"))
    client.logout()
    anonymous = client.get(reverse("risk:worklist"))

    assert as_trader.status_code == 403
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("login"))


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_list_pages_read_as_many_rows_in_the_same_number_of_queries(client, verified_login, risk_world):
    _red_criterion(risk_world)
    _examined(risk_world, officer="supervisor")
    _signed_in(client, verified_login, risk_world, "supervisor")
    one = [_queries(client, reverse(name)) for name in ("risk:worklist", "risk:office-examinations")]
    _examined(risk_world, officer="supervisor")
    _examined(risk_world, officer="officer2")
    _examined(risk_world, officer="supervisor")

    three = [_queries(client, reverse(name)) for name in ("risk:worklist", "risk:office-examinations")]

    assert three == one


# ------------------------------------------------------------------------------------- examination


def test_the_examination_page_shows_the_declaration_the_hits_and_their_notes(
    client, verified_login, risk_world
):
    _red_criterion(risk_world)
    examination = _examined(risk_world)
    _signed_in(client, verified_login, risk_world)

    response = client.get(reverse("risk:examination", args=[examination.pk]))

    content = response.content.decode()
    assert response.status_code == 200
    assert response.context["can_record"] is True
    assert examination.declaration.number in content
    assert "Passenger car, petrol, 1,500 cc" in content
    assert f'<td class="code">{CAR}</td>' in content
    assert "10,000.00 USD" in content
    assert f"Item 1: Commodity code {CAR} starts with one of {CAR[:4]}" in content
    assert OFFICER_NOTE in content
    assert INTERNAL_NOTE in content
    assert 'id="finding-form-1"' in content
    assert 'id="complete-form"' in content


def test_another_offices_officer_gets_404_and_a_colleague_reads_only(client, verified_login, risk_world):
    _red_criterion(risk_world)
    examination = _examined(risk_world)
    url = reverse("risk:examination", args=[examination.pk])

    _signed_in(client, verified_login, risk_world, "officer_other")
    other_office = client.get(url)
    _signed_in(client, verified_login, risk_world, "officer2")
    colleague = client.get(url)

    content = colleague.content.decode()
    assert other_office.status_code == 404
    assert colleague.status_code == 200
    assert colleague.context["can_record"] is False
    assert 'id="read-only-notice"' in content
    assert "finding-form-1" not in content
    assert "complete-form" not in content


def test_a_colleague_who_is_not_assigned_cannot_record_a_finding(client, verified_login, risk_world):
    _red_criterion(risk_world)
    examination = _examined(risk_world)
    _signed_in(client, verified_login, risk_world, "officer2")

    response = _finding_post(client, examination, 1, result="conform")
    completed = client.post(reverse("risk:examination-complete", args=[examination.pk]))

    examination.refresh_from_db()
    assert response.status_code == 403
    assert completed.status_code == 403
    assert Finding.objects.count() == 0
    assert examination.status == "assigned"


def _yellow(risk_world) -> Examination:
    criterion(risk_world, BY_CAR, lane="yellow", code="YC01", officer_note="Ask for the invoice.")
    return _examined(risk_world)


def test_accepting_the_documents_ends_the_control_and_releases_a_paid_declaration(
    client, verified_login, risk_world
):
    examination = _yellow(risk_world)
    declaration_mark_paid(actor=None, declaration=examination.declaration)
    _signed_in(client, verified_login, risk_world)

    page = client.get(reverse("risk:examination", args=[examination.pk]))
    with_release = Declaration.objects.get(pk=examination.declaration_id)
    response = client.post(
        reverse("risk:examination-accept", args=[examination.pk]), {"accept-report": "Invoice in order."}
    )

    examination.refresh_from_db()
    declaration = Declaration.objects.get(pk=examination.declaration_id)
    assert 'id="accept-form"' in page.content.decode()
    assert with_release.status == Status.PAID
    assert response.status_code == 302
    assert response["Location"] == reverse("declarations:detail", args=[declaration.pk])
    assert (examination.status, examination.report) == ("done", "Invoice in order.")
    assert declaration.control_done_at is not None
    assert declaration.status == Status.RELEASED


def test_querying_the_declarant_keeps_the_check_open(client, verified_login, risk_world):
    examination = _yellow(risk_world)
    _signed_in(client, verified_login, risk_world)

    response = client.post(
        reverse("risk:examination-query", args=[examination.pk]),
        {"query-question": "Send the freight invoice."},
    )

    examination.refresh_from_db()
    declaration = Declaration.objects.get(pk=examination.declaration_id)
    change = StatusChange.objects.filter(declaration=declaration).latest("pk")
    assert response.status_code == 302
    assert examination.status == "assigned"
    assert declaration.status == Status.QUERIED
    assert (change.action, change.reason) == ("query", "Send the freight invoice.")
    assert (
        AuditEvent.objects.filter(action="risk.examination.queried", object_id=str(examination.pk)).count()
        == 1
    )


def test_a_query_without_a_question_is_refused_next_to_the_field(client, verified_login, risk_world):
    examination = _yellow(risk_world)
    _signed_in(client, verified_login, risk_world)

    response = client.post(reverse("risk:examination-query", args=[examination.pk]), {"query-question": " "})

    declaration = Declaration.objects.get(pk=examination.declaration_id)
    assert response.status_code == 400
    assert response.context["query_form"].errors == {
        "question": ["Give the reason; it is kept in the history."]
    }
    assert declaration.status == Status.ASSESSED
    assert not AuditEvent.objects.filter(action="risk.examination.queried").exists()


def test_a_value_discrepancy_reassesses_the_declaration_and_the_trader_sees_the_difference(
    client, verified_login, risk_world
):
    _red_criterion(risk_world)
    examination = _examined(risk_world)
    _signed_in(client, verified_login, risk_world)

    recorded = _finding_post(
        client, examination, 1, result="value", invoice_price="20000", note="Invoice found in the car."
    )
    completed = client.post(
        reverse("risk:examination-complete", args=[examination.pk]), {"complete-report": "Value corrected."}
    )
    client.force_login(risk_world["users"]["trader_a"])
    portal = client.get(reverse("portal:declaration-detail", args=[examination.declaration_id]))

    examination.refresh_from_db()
    finding = Finding.objects.get(examination=examination)
    declaration = Declaration.objects.get(pk=examination.declaration_id)
    item = declaration.items.get()
    panel = dict(portal.context["panels"])["risk/_portal_panel.html"]
    content = portal.content.decode()
    assert recorded.status_code == 302
    assert recorded["Location"] == reverse("risk:examination", args=[examination.pk]) + "#item-1"
    assert (finding.result, finding.corrections, finding.note) == (
        "value",
        {"invoice_price": "20000"},
        "Invoice found in the car.",
    )
    assert completed.status_code == 302
    assert completed["Location"] == reverse("declarations:detail", args=[declaration.pk])
    assert (examination.status, examination.report) == ("done", "Value corrected.")
    assert item.invoice_price == D("20000.0000")
    assert declaration.invoice_amount == D("20000.0000")
    assert declaration.total_taxes == TOTAL_AT_20000
    assert declaration.status == Status.ASSESSED
    assert declaration.control_done_at is not None
    assert panel["reassessment"]["before"] == TOTAL
    assert panel["reassessment"]["after"] == TOTAL_AT_20000
    assert panel["reassessment"]["difference"] == TOTAL_AT_20000 - TOTAL
    assert '<dd id="control-difference"><strong>11,558.75 TMT</strong></dd>' in content


def test_a_discrepancy_without_its_corrected_value_is_an_error_on_the_item_keeping_what_was_typed(
    client, verified_login, risk_world
):
    _red_criterion(risk_world)
    examination = _examined(risk_world)
    _signed_in(client, verified_login, risk_world)

    response = _finding_post(
        client, examination, 1, result="value", invoice_price="", note="Price looks low."
    )

    form = response.context["rows"][0]["form"]
    content = response.content.decode()
    assert response.status_code == 400
    assert form.non_field_errors() == ["Give the corrected values of this discrepancy."]
    assert form["note"].value() == "Price looks low."
    assert form["result"].value() == "value"
    assert 'id="finding-1-errors"' in content
    assert Finding.objects.count() == 0


def test_completing_with_an_item_left_without_finding_is_an_error_on_that_item(
    client, verified_login, risk_world
):
    _red_criterion(risk_world)
    examination = _examined(
        risk_world,
        items=[
            item_data(),
            item_data(commodity_code=FISH, description="Frozen trout", invoice_price=D("500")),
        ],
    )
    _signed_in(client, verified_login, risk_world)
    _finding_post(client, examination, 1, result="conform")

    response = client.post(reverse("risk:examination-complete", args=[examination.pk]))

    rows = response.context["rows"]
    examination.refresh_from_db()
    declaration = Declaration.objects.get(pk=examination.declaration_id)
    assert response.status_code == 400
    assert rows[0]["form"].errors == {}
    assert rows[1]["form"].non_field_errors() == ["Record what you found on item 2."]
    assert 'id="finding-2-errors"' in response.content.decode()
    assert examination.status == "assigned"
    assert declaration.control_done_at is None


def test_a_corrected_value_the_reassessment_refuses_shows_on_the_items_field(
    client, verified_login, risk_world
):
    _red_criterion(risk_world)
    examination = _examined(risk_world)
    _signed_in(client, verified_login, risk_world)
    _finding_post(client, examination, 1, result="quantity", net_mass="1500")  # above the gross mass, 1,200

    response = client.post(reverse("risk:examination-complete", args=[examination.pk]))

    form = response.context["rows"][0]["form"]
    examination.refresh_from_db()
    assert response.status_code == 400
    assert list(form.errors) == ["net_mass"]
    assert examination.status == "assigned"
    assert Declaration.objects.get(pk=examination.declaration_id).total_taxes == TOTAL


def test_a_photo_that_is_not_the_image_it_says_is_refused(client, verified_login, risk_world):
    _red_criterion(risk_world)
    examination = _examined(risk_world)
    _signed_in(client, verified_login, risk_world)

    response = client.post(
        reverse("risk:examination-finding", args=[examination.pk, 1]),
        {
            "finding-1-result": "conform",
            "finding-1-photo": SimpleUploadedFile("seal.png", b"GIF89a not a png", content_type="image/png"),
        },
    )

    form = response.context["rows"][0]["form"]
    assert response.status_code == 400
    assert form.errors == {"photo": ["The file is not the image it says it is."]}
    assert Finding.objects.count() == 0


def test_the_photo_is_served_through_the_view_to_the_office_only(client, verified_login, risk_world):
    _red_criterion(risk_world)
    examination = _examined(risk_world)
    _signed_in(client, verified_login, risk_world)
    _finding_post(
        client,
        examination,
        1,
        result="conform",
        photo=SimpleUploadedFile("seal.png", png_bytes(), content_type="image/png"),
    )
    finding = Finding.objects.get(examination=examination)
    url = reverse("risk:finding-photo", args=[finding.pk])

    page = client.get(reverse("risk:examination", args=[examination.pk]))
    served = client.get(url)
    _signed_in(client, verified_login, risk_world, "officer2")
    colleague = client.get(url)
    _signed_in(client, verified_login, risk_world, "officer_other")
    other_office = client.get(url)
    client.force_login(risk_world["users"]["trader_a"])
    trader = client.get(url)

    content = page.content.decode()
    assert finding.photo_content_type == "image/png"
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    assert b"".join(served.streaming_content) == png_bytes()
    assert f'href="{url}"' in content
    assert "/media/" not in content
    assert colleague.status_code == 200
    assert other_office.status_code == 404
    assert trader.status_code == 403


# ------------------------------------------------------------------------------- supervisor's board


def test_the_board_lists_waiting_examinations_first_then_the_oldest_with_the_loads(
    client, verified_login, risk_world
):
    _red_criterion(risk_world)
    newest = _examined(risk_world)
    oldest = _examined(risk_world, officer="officer2")
    Examination.objects.filter(pk=oldest.pk).update(created_at=timezone.now() - datetime.timedelta(days=3))
    waiting = _examined(risk_world)
    Examination.objects.filter(pk=waiting.pk).update(status="unassigned", officer=None, assigned_at=None)
    _signed_in(client, verified_login, risk_world, "supervisor")

    response = client.get(reverse("risk:office-examinations"))

    loads = {
        officer["user"].username: officer["open_count"]
        for officer in response.context["loads"][0]["officers"]
    }
    content = response.content.decode()
    assert response.status_code == 200
    assert [row["examination"].pk for row in response.context["rows"]] == [waiting.pk, oldest.pk, newest.pk]
    assert loads == {"officer": 1, "officer2": 1, "supervisor": 0}
    assert f'action="{reverse("risk:examination-reassign", args=[waiting.pk])}"' in content
    assert "Waiting for an officer" in content


def test_the_board_is_for_supervisors_only(client, verified_login, risk_world):
    _signed_in(client, verified_login, risk_world, "officer")

    response = client.get(reverse("risk:office-examinations"))

    assert response.status_code == 403


def test_a_supervisor_reassigns_an_examination_with_a_reason_and_it_is_audited(
    client, verified_login, risk_world
):
    _red_criterion(risk_world)
    examination = _examined(risk_world)
    officer2 = risk_world["users"]["officer2"]
    _signed_in(client, verified_login, risk_world, "supervisor")

    response = client.post(
        reverse("risk:examination-reassign", args=[examination.pk]),
        {
            f"reassign-{examination.pk}-officer": str(officer2.pk),
            f"reassign-{examination.pk}-reason": "Officer on leave.",
        },
    )

    examination.refresh_from_db()
    event = AuditEvent.objects.get(action="risk.examination.reassigned")
    assert response.status_code == 302
    assert response["Location"] == reverse("risk:office-examinations")
    assert examination.officer == officer2
    assert (event.actor_username, event.object_id) == ("supervisor", str(examination.pk))
    assert event.before == {"officer": "officer"}
    assert event.after == {"officer": "officer2", "reason": "Officer on leave."}


def test_a_reassignment_without_a_reason_is_refused_and_nothing_changes(client, verified_login, risk_world):
    _red_criterion(risk_world)
    examination = _examined(risk_world)
    officer2 = risk_world["users"]["officer2"]
    _signed_in(client, verified_login, risk_world, "supervisor")

    response = client.post(
        reverse("risk:examination-reassign", args=[examination.pk]),
        {f"reassign-{examination.pk}-officer": str(officer2.pk), f"reassign-{examination.pk}-reason": ""},
    )

    examination.refresh_from_db()
    bound = next(row["form"] for row in response.context["rows"] if row["examination"].pk == examination.pk)
    assert response.status_code == 400
    assert bound.errors == {"reason": ["Give the reason; it is kept in the history."]}
    assert bound["officer"].value() == str(officer2.pk)
    assert examination.officer == risk_world["users"]["officer"]
    assert not AuditEvent.objects.filter(action="risk.examination.reassigned").exists()


def test_an_officer_cannot_reassign_and_nothing_changes(client, verified_login, risk_world):
    _red_criterion(risk_world)
    examination = _examined(risk_world)
    _signed_in(client, verified_login, risk_world, "officer")

    response = client.post(
        reverse("risk:examination-reassign", args=[examination.pk]),
        {
            f"reassign-{examination.pk}-officer": str(risk_world["users"]["officer2"].pk),
            f"reassign-{examination.pk}-reason": "I would rather not.",
        },
    )
    _signed_in(client, verified_login, risk_world, "officer_other")
    other_office = client.post(reverse("risk:examination-reassign", args=[examination.pk]), {})

    examination.refresh_from_db()
    assert response.status_code == 403
    assert other_office.status_code == 404
    assert examination.officer == risk_world["users"]["officer"]
    assert not AuditEvent.objects.filter(action="risk.examination.reassigned").exists()


def test_a_supervisor_changes_the_lane_with_a_reason(client, verified_login, risk_world):
    _red_criterion(risk_world)
    examination = _examined(risk_world)
    _signed_in(client, verified_login, risk_world, "supervisor")

    response = client.post(
        reverse("risk:declaration-lane", args=[examination.declaration_id]),
        {"lane-lane": "green", "lane-reason": "Known consignment, seals intact."},
    )

    examination.refresh_from_db()
    declaration = Declaration.objects.get(pk=examination.declaration_id)
    event = AuditEvent.objects.filter(action="declarations.declaration.lane_changed").get()
    assert response.status_code == 302
    assert response["Location"] == reverse("declarations:detail", args=[declaration.pk])
    assert declaration.lane == "green"
    assert declaration.control_done_at is not None
    assert examination.status == "cancelled"
    assert Selectivity.objects.get(declaration=declaration).source == "supervisor"
    assert event.actor_username == "supervisor"
    assert (event.after["lane_before"], event.after["lane"], event.after["internal_reason"]) == (
        "red",
        "green",
        "Known consignment, seals intact.",
    )


def test_a_lane_change_without_a_reason_is_refused_and_only_supervisors_may(
    client, verified_login, risk_world
):
    _red_criterion(risk_world)
    examination = _examined(risk_world)
    url = reverse("risk:declaration-lane", args=[examination.declaration_id])

    _signed_in(client, verified_login, risk_world, "supervisor")
    without_reason = client.post(url, {"lane-lane": "green", "lane-reason": ""})
    _signed_in(client, verified_login, risk_world, "officer")
    as_officer = client.post(url, {"lane-lane": "green", "lane-reason": "Looks fine to me."})
    _signed_in(client, verified_login, risk_world, "officer_other")
    other_office = client.post(url, {"lane-lane": "green", "lane-reason": "Looks fine to me."})

    examination.refresh_from_db()
    declaration = Declaration.objects.get(pk=examination.declaration_id)
    assert without_reason.status_code == 400
    assert without_reason.context["form"].errors == {
        "reason": ["Give the reason; it is kept in the history."]
    }
    assert without_reason.context["form"]["lane"].value() == "green"
    assert as_officer.status_code == 403
    assert other_office.status_code == 404
    assert declaration.lane == "red"
    assert examination.status == "assigned"
    assert not AuditEvent.objects.filter(action="declarations.declaration.lane_changed").exists()


# ----------------------------------------------------------------------------- post-clearance audit


def _blue(risk_world, count=1) -> list[PostClearanceAudit]:
    criterion(risk_world, BY_CAR, lane="blue", code="BC01")
    return [PostClearanceAudit.objects.get(declaration=score(assessed(risk_world))) for _ in range(count)]


def test_the_audit_queue_lists_the_offices_blue_lane_declarations_oldest_first(
    client, verified_login, risk_world
):
    newer, older, done = _blue(risk_world, 3)
    PostClearanceAudit.objects.filter(pk=older.pk).update(
        queued_at=timezone.now() - datetime.timedelta(days=5)
    )
    PostClearanceAudit.objects.filter(pk=done.pk).update(outcome="conform", completed_at=timezone.now())
    _signed_in(client, verified_login, risk_world)

    response = client.get(reverse("risk:audits"))
    _signed_in(client, verified_login, risk_world, "officer_other")
    other_office = client.get(reverse("risk:audits"))

    assert response.status_code == 200
    assert [audit.pk for audit in response.context["audits"]] == [older.pk, newer.pk]
    assert f'href="{reverse("risk:audit", args=[older.pk])}"' in response.content.decode()
    assert list(other_office.context["audits"]) == []


def test_recording_the_outcome_of_an_audit(client, verified_login, risk_world):
    (audit,) = _blue(risk_world)
    url = reverse("risk:audit", args=[audit.pk])
    _signed_in(client, verified_login, risk_world, "officer_other")
    other_office = client.post(url, {"outcome": "conform"})
    _signed_in(client, verified_login, risk_world)

    page = client.get(url)
    without_note = client.post(url, {"outcome": "discrepancy", "note": ""})
    recorded = client.post(url, {"outcome": "discrepancy", "note": "Freight not declared."})

    audit.refresh_from_db()
    event = AuditEvent.objects.get(action="risk.post_clearance_audit.recorded")
    assert other_office.status_code == 404
    assert page.status_code == 200
    assert 'id="audit-form"' in page.content.decode()
    assert without_note.status_code == 400
    assert without_note.context["form"].errors == {"note": ["Say what was found."]}
    assert recorded.status_code == 302
    assert recorded["Location"] == reverse("risk:audits")
    assert (audit.outcome, audit.note, audit.auditor) == (
        "discrepancy",
        "Freight not declared.",
        risk_world["users"]["officer"],
    )
    assert event.after["outcome"] == "discrepancy"


def test_a_recorded_audit_shows_its_outcome_and_takes_no_second(client, verified_login, risk_world):
    (audit,) = _blue(risk_world)
    officer = risk_world["users"]["officer"]
    from risk.services.control import post_clearance_audit_record

    post_clearance_audit_record(actor=officer, audit=audit, outcome="conform")
    _signed_in(client, verified_login, risk_world, "supervisor")

    page = client.get(reverse("risk:audit", args=[audit.pk]))
    again = client.post(reverse("risk:audit", args=[audit.pk]), {"outcome": "discrepancy", "note": "Late."})

    audit.refresh_from_db()
    assert 'id="audit-recorded"' in page.content.decode()
    assert page.context["form"] is None
    assert again.status_code == 302
    assert again["Location"] == reverse("risk:audit", args=[audit.pk])
    assert (audit.outcome, audit.auditor) == ("conform", officer)


def test_finding_record_service_is_what_the_form_calls(client, verified_login, risk_world):
    """A finding recorded by the service shows on the page with its corrected values."""
    _red_criterion(risk_world)
    examination = _examined(risk_world)
    finding_record(
        actor=risk_world["users"]["officer"],
        examination=examination,
        item_number=1,
        result="origin",
        corrections={"origin": "us"},
        note="Made in the USA label.",
    )
    _signed_in(client, verified_login, risk_world)

    response = client.get(reverse("risk:examination", args=[examination.pk]))

    form = response.context["rows"][0]["form"]
    content = response.content.decode()
    assert form["result"].value() == "origin"
    assert form["origin"].value() == "US"
    assert 'id="finding-1"' in content
    assert "Made in the USA label." in content


def test_prohibited_goods_close_the_examination_with_the_goods_held(client, verified_login, risk_world):
    _red_criterion(risk_world)
    examination = _examined(risk_world)
    _signed_in(client, verified_login, risk_world)
    _finding_post(client, examination, 1, result="prohibited", note="Weapons under the seats.")

    completed = client.post(reverse("risk:examination-complete", args=[examination.pk]))
    client.force_login(risk_world["users"]["trader_a"])
    portal = client.get(reverse("portal:declaration-detail", args=[examination.declaration_id]))

    examination.refresh_from_db()
    declaration = Declaration.objects.get(pk=examination.declaration_id)
    assert completed.status_code == 302
    assert examination.status == "held"
    assert declaration.control_done_at is None
    assert declaration.total_taxes == TOTAL
    assert "The goods are held after the check" in portal.content.decode()
    assert "Weapons under the seats." not in portal.content.decode()
