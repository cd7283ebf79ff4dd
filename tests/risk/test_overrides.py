"""A supervisor's overrides: reassigning an examination and changing a lane, with the reason, audited;
nobody else may, and a refused override changes nothing."""

import pytest

from customs.celery import app
from customs.models import AuditEvent
from customs.services.users import user_upsert
from declarations.models import Declaration, StatusChange
from declarations.services.errors import DeclarationInvalid, NotAuthorised, TransitionNotAllowed
from declarations.services.lifecycle import declaration_mark_paid
from risk.models import Examination, PostClearanceAudit, Selectivity
from risk.services.assignment import examination_reassign
from risk.services.control import lane_change
from tests.risk.conftest import assessed, criterion, score

CARS = [{"kind": "commodity_code", "operator": "starts_with", "values": ["8703"]}]


@pytest.fixture
def sent_tasks(monkeypatch):
    sent = []
    monkeypatch.setattr(
        app, "send_task", lambda name, args=(), kwargs=None, **options: sent.append((name, tuple(args)))
    )
    return sent


@pytest.fixture
def red(risk_world):
    """A red declaration of trader A at TMA01, its physical examination assigned to ``officer``."""
    risk_world["users"]["officer2"].offices.clear()
    risk_world["users"]["supervisor"].offices.clear()
    criterion(risk_world, CARS, lane="red")
    declaration = score(assessed(risk_world))
    risk_world["users"]["officer2"].offices.set([risk_world["office"]])
    risk_world["users"]["supervisor"].offices.set([risk_world["office"]])
    examination = Examination.objects.get(declaration=declaration)
    assert examination.officer == risk_world["users"]["officer"]
    return declaration, examination


def _snapshot(declaration):
    """What an override would change."""
    declaration = Declaration.objects.get(pk=declaration.pk)
    return (
        declaration.lane,
        declaration.status,
        declaration.version,
        declaration.control_done_at,
        list(
            Examination.objects.filter(declaration=declaration).values_list(
                "pk", "status", "officer_id", "kind"
            )
        ),
        Selectivity.objects.get(declaration=declaration).lane,
        StatusChange.objects.filter(declaration=declaration).count(),
        AuditEvent.objects.count(),
    )


def test_a_supervisor_reassigns_an_examination_with_the_reason(risk_world, red):
    declaration, examination = red
    supervisor, officer2 = risk_world["users"]["supervisor"], risk_world["users"]["officer2"]

    reassigned = examination_reassign(
        actor=supervisor, examination=examination, officer=officer2, reason=" Officer is at the port today "
    )

    examination.refresh_from_db()
    assert (reassigned.officer, examination.officer, examination.status) == (officer2, officer2, "assigned")
    event = AuditEvent.objects.get(action="risk.examination.reassigned")
    assert (event.actor, event.office_code, event.object_id) == (supervisor, "TMA01", str(examination.pk))
    assert event.before == {"officer": "officer"}
    assert event.after == {"officer": "officer2", "reason": "Officer is at the port today"}
    assert Declaration.objects.get(pk=declaration.pk).lane == "red"


@pytest.mark.parametrize("username", ["officer", "officer2", "analyst", "other_supervisor", "trader_a"])
def test_only_a_supervisor_of_the_office_reassigns(risk_world, red, username):
    risk_world["users"]["other_supervisor"] = user_upsert(
        actor=None,
        username="other_supervisor",
        roles=["supervisor", "officer"],
        offices=[risk_world["other_office"]],
    )
    declaration, examination = red
    before = _snapshot(declaration)

    with pytest.raises(NotAuthorised):
        examination_reassign(
            actor=risk_world["users"][username],
            examination=examination,
            officer=risk_world["users"]["officer2"],
            reason="Swap",
        )

    assert _snapshot(declaration) == before


@pytest.mark.parametrize(
    ("officer", "reason", "field", "code"),
    [
        ("officer2", "  ", "reason", "required"),
        ("officer", "Again", "officer", "unchanged"),
        ("officer_other", "Help from the port", "officer", "not_eligible"),
        ("analyst", "Help", "officer", "not_eligible"),
        (None, "Nobody", "officer", "not_eligible"),
    ],
    ids=["no reason", "the same officer", "another office's officer", "not an officer", "nobody"],
)
def test_a_reassignment_needs_a_reason_and_another_eligible_officer(
    risk_world, red, officer, reason, field, code
):
    declaration, examination = red
    before = _snapshot(declaration)

    with pytest.raises(DeclarationInvalid) as raised:
        examination_reassign(
            actor=risk_world["users"]["supervisor"],
            examination=examination,
            officer=risk_world["users"][officer] if officer else None,
            reason=reason,
        )

    assert [(error.field, error.code) for error in raised.value.errors] == [(field, code)]
    assert _snapshot(declaration) == before


def test_a_closed_examination_is_not_reassigned(risk_world, red):
    declaration, examination = red
    Examination.objects.filter(pk=examination.pk).update(status="done")
    before = _snapshot(declaration)

    with pytest.raises(TransitionNotAllowed):
        examination_reassign(
            actor=risk_world["users"]["supervisor"],
            examination=examination,
            officer=risk_world["users"]["officer2"],
            reason="Too late",
        )

    assert _snapshot(declaration) == before


def test_a_lane_change_cancels_the_examination_and_opens_the_new_lane_s(risk_world, red):
    declaration, examination = red
    supervisor = risk_world["users"]["supervisor"]

    changed = lane_change(
        actor=supervisor, declaration=declaration, lane="yellow", reason="Papers are enough"
    )

    examination.refresh_from_db()
    documentary = Examination.objects.get(declaration=declaration, status="assigned")
    assert (changed.lane, changed.control_done_at, changed.status) == ("yellow", None, "assessed")
    assert (examination.status, examination.report) == (
        "cancelled",
        "Cancelled: the lane was changed to yellow.",
    )
    assert examination.completed_at is not None
    assert documentary.kind == "documentary"
    assert documentary.officer.username in {"officer2", "supervisor"}  # the least loaded
    assert Selectivity.objects.get(declaration=declaration).lane == "yellow"
    assert Selectivity.objects.get(declaration=declaration).source == "supervisor"
    change = StatusChange.objects.get(declaration=declaration, action="lane_yellow")
    # The history, which the declarant reads, says what changed; the supervisor's reason is for customs.
    assert (change.actor, change.reason) == (supervisor, "Lane changed from red to yellow.")
    event = AuditEvent.objects.get(action="declarations.declaration.lane_changed")
    assert event.after["internal_reason"] == "Papers are enough"
    assert (event.actor, event.object_id) == (supervisor, str(declaration.pk))
    assert event.after == {
        "status": "assessed",
        "version": changed.version,
        "lane_before": "red",
        "lane": "yellow",
        "released": False,
        "reason": "Lane changed from red to yellow.",
        "internal_reason": "Papers are enough",
    }


def test_a_lane_change_to_green_releases_a_paid_declaration(
    risk_world, red, sent_tasks, django_capture_on_commit_callbacks
):
    declaration, examination = red
    declaration = declaration_mark_paid(actor=None, declaration=declaration, receipt_reference="R-1")
    assert declaration.status == "paid"

    with django_capture_on_commit_callbacks(execute=True):
        changed = lane_change(
            actor=risk_world["users"]["supervisor"],
            declaration=declaration,
            lane="green",
            reason="Known goods",
        )

    assert (changed.lane, changed.status) == ("green", "released")
    assert Examination.objects.get(pk=examination.pk).status == "cancelled"
    assert not Examination.objects.filter(
        declaration=declaration, status__in=["unassigned", "assigned"]
    ).exists()
    assert sent_tasks == [("declarations.issue_release_order", (declaration.pk,))]
    assert AuditEvent.objects.get(action="declarations.declaration.lane_changed").after["released"] is True


def test_a_lane_change_to_blue_queues_the_audit_after_release(risk_world, red):
    declaration, examination = red

    changed = lane_change(
        actor=risk_world["users"]["supervisor"], declaration=declaration, lane="blue", reason="Audit later"
    )

    assert (changed.lane, changed.status) == ("blue", "assessed")
    assert changed.control_done_at is not None
    assert PostClearanceAudit.objects.filter(declaration=declaration).exists()
    assert list(Examination.objects.filter(declaration=declaration).values_list("status", flat=True)) == [
        "cancelled"
    ]


@pytest.mark.parametrize("username", ["officer", "analyst", "other_supervisor", "trader_a"])
def test_only_a_supervisor_of_the_office_changes_a_lane(risk_world, red, username):
    risk_world["users"]["other_supervisor"] = user_upsert(
        actor=None,
        username="other_supervisor",
        roles=["supervisor", "officer"],
        offices=[risk_world["other_office"]],
    )
    declaration, _examination = red
    before = _snapshot(declaration)

    with pytest.raises(NotAuthorised):
        lane_change(actor=risk_world["users"][username], declaration=declaration, lane="green", reason="Fine")

    assert _snapshot(declaration) == before


@pytest.mark.parametrize(
    ("lane", "reason", "error"),
    [
        ("green", " ", DeclarationInvalid),
        ("purple", "Colourful", DeclarationInvalid),
        ("red", "Red again", TransitionNotAllowed),
    ],
    ids=["no reason", "no such lane", "the same lane"],
)
def test_a_lane_change_needs_a_reason_and_another_lane(risk_world, red, lane, reason, error):
    declaration, _examination = red
    before = _snapshot(declaration)

    with pytest.raises(error):
        lane_change(
            actor=risk_world["users"]["supervisor"], declaration=declaration, lane=lane, reason=reason
        )

    assert _snapshot(declaration) == before


def test_a_released_declaration_keeps_its_lane(risk_world):
    declaration = declaration_mark_paid(actor=None, declaration=score(assessed(risk_world)))
    assert declaration.status == "released"
    before = (declaration.lane, AuditEvent.objects.count())

    with pytest.raises(TransitionNotAllowed):
        lane_change(
            actor=risk_world["users"]["supervisor"], declaration=declaration, lane="red", reason="Too late"
        )

    assert (Declaration.objects.get(pk=declaration.pk).lane, AuditEvent.objects.count()) == before
    assert not Examination.objects.filter(declaration=declaration).exists()
