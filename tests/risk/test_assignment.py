"""Who examines: each yellow or red declaration goes to the least-loaded eligible officer of its office;
an examination waits when nobody is eligible; concurrent scoring keeps the balance and does not
deadlock against the sweeper's assignments."""

import threading
from collections import Counter

import pytest
from django.db import connection
from django.utils import timezone

from customs.celery import app
from customs.models import AuditEvent
from customs.services.users import user_upsert
from declarations.models import Declaration
from declarations.services.lifecycle import declaration_cancel
from risk.models import Examination
from risk.services import assignment
from risk.services.assignment import eligible_officers, examinations_unassigned_assign
from risk.services.control import lane_change
from risk.services.selectivity import selectivity_score
from tests.customs.factories import OfficeFactory
from tests.risk.conftest import assessed, criterion, score
from tests.waiting import wait_for

CARS = [{"kind": "commodity_code", "operator": "starts_with", "values": ["8703"]}]
AT_TMA01 = {"officer", "officer2", "supervisor"}  # the users of the world with the officer role at TMA01


@pytest.fixture
def sent_tasks(monkeypatch):
    sent = []
    monkeypatch.setattr(
        app, "send_task", lambda name, args=(), kwargs=None, **options: sent.append((name, tuple(args)))
    )
    return sent


def _officers_of(declarations) -> Counter:
    return Counter(
        Examination.objects.filter(declaration__in=declarations).values_list("officer__username", flat=True)
    )


def test_thirty_red_declarations_go_ten_to_each_of_three_officers(risk_world):
    criterion(risk_world, CARS, lane="red")

    declarations = [score(assessed(risk_world)) for _ in range(30)]

    assert {declaration.lane for declaration in declarations} == {"red"}
    assert _officers_of(declarations) == {"officer": 10, "officer2": 10, "supervisor": 10}
    assert set(Examination.objects.values_list("status", "kind")) == {("assigned", "physical")}
    assert Examination.objects.filter(assigned_at__isnull=True).count() == 0


def test_an_officer_with_open_work_gets_fewer(risk_world):
    criterion(risk_world, CARS, lane="yellow")
    officer = risk_world["users"]["officer"]
    for _ in range(3):  # three open examinations of earlier declarations
        earlier = assessed(risk_world)
        Examination.objects.create(
            declaration=earlier,
            office=risk_world["office"],
            kind="documentary",
            status="assigned",
            officer=officer,
            created_at=timezone.now(),
            assigned_at=timezone.now(),
        )

    declarations = [score(assessed(risk_world)) for _ in range(9)]

    assert _officers_of(declarations) == {"officer": 1, "officer2": 4, "supervisor": 4}


def test_closed_work_does_not_count_as_open(risk_world):
    criterion(risk_world, CARS, lane="yellow")
    for _ in range(3):
        earlier = assessed(risk_world)
        Examination.objects.create(
            declaration=earlier,
            office=risk_world["office"],
            kind="documentary",
            status="done",
            officer=risk_world["users"]["officer"],
            created_at=timezone.now() - timezone.timedelta(days=2),
            assigned_at=timezone.now() - timezone.timedelta(days=2),
            completed_at=timezone.now() - timezone.timedelta(days=1),
        )

    declarations = [score(assessed(risk_world)) for _ in range(6)]

    assert _officers_of(declarations) == {"officer": 2, "officer2": 2, "supervisor": 2}


def test_only_eligible_officers_are_assigned(risk_world):
    office, trader_b = risk_world["office"], risk_world["trader_b"]
    # Not eligible: posted elsewhere (officer_other), acting for a trader, inactive, not an officer.
    user_upsert(actor=None, username="trader_officer", roles=["officer"], offices=[office], trader=trader_b)
    inactive = user_upsert(actor=None, username="retired", roles=["officer"], offices=[office])
    inactive.is_active = False
    inactive.save()
    user_upsert(actor=None, username="cashier", roles=["cashier"], offices=[office])
    criterion(risk_world, CARS, lane="red")

    declarations = [score(assessed(risk_world)) for _ in range(9)]

    assert set(eligible_officers(office).values_list("username", flat=True)) == AT_TMA01
    assert _officers_of(declarations) == {"officer": 3, "officer2": 3, "supervisor": 3}


def test_an_examination_waits_for_an_officer_then_the_sweeper_assigns_it(risk_world):
    office = risk_world["office"]
    for username in AT_TMA01:
        risk_world["users"][username].offices.clear()
    criterion(risk_world, CARS, lane="red")
    declaration = score(assessed(risk_world))
    examination = Examination.objects.get(declaration=declaration)
    assert (examination.status, examination.officer, examination.assigned_at) == ("unassigned", None, None)
    assert declaration.lane == "red"

    assert examinations_unassigned_assign() == 0
    newcomer = user_upsert(actor=None, username="newcomer", roles=["officer"], offices=[office])
    assert examinations_unassigned_assign() == 1

    examination.refresh_from_db()
    assert (examination.status, examination.officer) == ("assigned", newcomer)
    assert examination.assigned_at is not None
    event = AuditEvent.objects.get(action="risk.examination.assigned", object_id=str(examination.pk))
    assert event.after == {"officer": "newcomer", "kind": "physical", "declaration": declaration.pk}
    assert examinations_unassigned_assign() == 0


def _waiting_at(risk_world, office, **data):
    declaration = assessed(risk_world, **data)
    Declaration.objects.filter(pk=declaration.pk).update(lane="red")
    return Examination.objects.create(
        declaration=declaration, office=office, kind="physical", created_at=timezone.now()
    )


def test_a_post_without_officers_does_not_hold_up_the_other_offices(risk_world, monkeypatch):
    monkeypatch.setattr(assignment, "SWEEP_BATCH", 2)
    unstaffed = OfficeFactory(code="TMF01", name_en="Farap", country=risk_world["office"].country)
    at_the_post = [_waiting_at(risk_world, unstaffed) for _ in range(3)]  # the oldest waiting
    at_tma01 = _waiting_at(risk_world, risk_world["office"])

    assert examinations_unassigned_assign() == 1

    at_tma01.refresh_from_db()
    assert at_tma01.status == "assigned"
    assert set(
        Examination.objects.filter(pk__in=[e.pk for e in at_the_post]).values_list("status", flat=True)
    ) == {"unassigned"}


def test_the_sweeper_does_not_assign_the_examination_of_a_cancelled_declaration(risk_world):
    waiting = _waiting_at(risk_world, risk_world["office"])
    declaration_cancel(
        actor=risk_world["users"]["officer"], declaration=waiting.declaration, reason="Duplicate"
    )

    assert examinations_unassigned_assign() == 0

    waiting.refresh_from_db()
    assert (waiting.status, waiting.officer) == ("unassigned", None)


def _in_threads(functions) -> list:
    """Run each function in its own thread (its own database connection); the errors they raised."""
    errors = []

    def run(function):
        try:
            function()
        except Exception as error:  # reported to the test
            errors.append(error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(function,), name=f"t{n}") for n, function in enumerate(functions)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return errors


@pytest.mark.django_db(transaction=True)
def test_concurrent_scoring_keeps_the_balance(risk_world, sent_tasks):
    criterion(risk_world, CARS, lane="red")
    declarations = [assessed(risk_world) for _ in range(12)]
    chunks = [declarations[start::4] for start in range(4)]

    errors = _in_threads([lambda chunk=chunk: [selectivity_score(d.pk) for d in chunk] for chunk in chunks])

    assert errors == []
    assert set(
        Declaration.objects.filter(pk__in=[d.pk for d in declarations]).values_list("lane", flat=True)
    ) == {"red"}
    assert _officers_of(declarations) == {"officer": 4, "officer2": 4, "supervisor": 4}


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _waiting_on_a_lock(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE pid = %s AND NOT granted", [pid])
        return cursor.fetchone()[0] > 0


def _race_with_the_sweeper(monkeypatch, other_move):
    """The sweeper assigns a waiting examination while ``other_move`` runs at the same office: the
    sweeper holds the office's assignment lock until ``other_move`` waits for a lock, then goes on to
    write its audit event. Both must succeed, whatever order their locks are asked for in."""
    real_lock = assignment._office_lock
    sweeper_holds_the_office = threading.Event()
    other = {}

    def office_lock(office):
        real_lock(office)
        if threading.current_thread().name == "t0" and not sweeper_holds_the_office.is_set():
            sweeper_holds_the_office.set()
            assert wait_for(lambda: "pid" in other and _waiting_on_a_lock(other["pid"]))

    monkeypatch.setattr(assignment, "_office_lock", office_lock)

    def sweeper():
        assert examinations_unassigned_assign() == 1

    def move():
        assert sweeper_holds_the_office.wait(15)
        other["pid"] = _backend_pid()
        other_move()

    return _in_threads([sweeper, move])


def _waiting_examination(risk_world):
    waiting = assessed(risk_world)
    Declaration.objects.filter(pk=waiting.pk).update(lane="red")
    return Examination.objects.create(
        declaration=waiting, office=risk_world["office"], kind="physical", created_at=timezone.now()
    )


@pytest.mark.django_db(transaction=True)
def test_scoring_and_the_sweeper_at_one_office_do_not_deadlock(risk_world, sent_tasks, monkeypatch):
    criterion(risk_world, CARS, lane="red")
    waiting = _waiting_examination(risk_world)
    declaration = assessed(risk_world)

    errors = _race_with_the_sweeper(monkeypatch, lambda: selectivity_score(declaration.pk))

    assert errors == []
    waiting.refresh_from_db()
    assert waiting.status == "assigned"
    assert Declaration.objects.get(pk=declaration.pk).lane == "red"
    assert Examination.objects.get(declaration=declaration).status == "assigned"


@pytest.mark.django_db(transaction=True)
def test_a_lane_change_and_the_sweeper_at_one_office_do_not_deadlock(risk_world, sent_tasks, monkeypatch):
    criterion(risk_world, CARS, lane="red")
    declaration = score(assessed(risk_world))
    waiting = _waiting_examination(risk_world)

    errors = _race_with_the_sweeper(
        monkeypatch,
        lambda: lane_change(
            actor=risk_world["users"]["supervisor"],
            declaration=declaration,
            lane="yellow",
            reason="Papers only",
        ),
    )

    assert errors == []
    waiting.refresh_from_db()
    assert waiting.status == "assigned"
    assert Declaration.objects.get(pk=declaration.pk).lane == "yellow"
    assert list(
        Examination.objects.filter(declaration=declaration).order_by("pk").values_list("kind", "status")
    ) == [("physical", "cancelled"), ("documentary", "assigned")]


def test_the_sweeper_cancels_the_examination_of_a_cancelled_declaration(risk_world):
    criterion(risk_world, CARS, lane="red")
    declaration = score(assessed(risk_world))
    examination = Examination.objects.get(declaration=declaration)
    officer = examination.officer
    declaration_cancel(actor=risk_world["users"]["supervisor"], declaration=declaration, reason="Duplicate")

    cancelled = assignment.examinations_of_closed_declarations_cancel()
    again = assignment.examinations_of_closed_declarations_cancel()

    examination.refresh_from_db()
    assert (cancelled, again) == (1, 0)
    assert examination.status == "cancelled"
    assert examination.report == "Cancelled: the declaration is cancelled."
    assert AuditEvent.objects.filter(action="risk.examination.cancelled").count() == 1
    from risk.selectors import worklist_for

    assert list(worklist_for(officer)) == []
