"""Backtests: one criterion version run over the declarations registered in a past period, counted by
hand here: hits by lane, office and trader, and how many it would have sent to a higher lane."""

import datetime

import pytest
from django.utils import timezone

from customs.celery import app
from customs.models import AuditEvent
from declarations.models import Declaration
from declarations.services.drafts import declaration_create
from declarations.services.errors import DeclarationInvalid, NotAuthorised
from risk.engine import ConditionError
from risk.models import Backtest, CriterionVersion
from risk.services import backtest as backtest_service
from risk.services.backtest import backtest_request, backtest_run
from tests.risk.conftest import FISH, assessed, criterion, declaration_data, item_data

CARS_FROM_CHINA = [
    {"kind": "commodity_code", "operator": "starts_with", "values": ["8703"]},
    {"kind": "origin", "operator": "in", "values": ["CN"]},
]


@pytest.fixture
def sent_tasks(monkeypatch):
    sent = []
    monkeypatch.setattr(
        app, "send_task", lambda name, args=(), kwargs=None, **options: sent.append((name, tuple(args)))
    )
    return sent


def _at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def _registered(risk_world, when, *, lane="", actor="trader_a", **data):
    declaration = assessed(risk_world, actor=actor, **data)
    Declaration.objects.filter(pk=declaration.pk).update(registered_at=when, lane=lane)
    return declaration


@pytest.fixture
def period(risk_world):
    """The period (20 to 10 days ago) and the declarations registered in it and around it."""
    today = timezone.localdate()
    first, last = today - datetime.timedelta(days=20), today - datetime.timedelta(days=10)
    trader_b = {"actor": "trader_b", "trader": risk_world["trader_b"].taxpayer_id}
    # In the period: four the criterion hits ...
    _registered(risk_world, _at(first, 0, 0), lane="green")  # the first minute: hit, would raise
    _registered(risk_world, _at(first, 12), lane="red")  # hit, already red
    _registered(risk_world, _at(last, 23, 59), lane="yellow", **trader_b)  # the last minute: hit, raise
    _registered(risk_world, _at(last, 9), lane="blue", office="TMT01")  # hit, raise, another office
    # ... and two it does not (fish; a car from Germany); one never given a lane (a lost task).
    _registered(risk_world, _at(first, 13), lane="green", items=[item_data(commodity_code=FISH)])
    _registered(risk_world, _at(first, 14), lane="green", items=[item_data(origin="DE")])
    _registered(risk_world, _at(last, 10), lane="", **trader_b)
    # Outside the period: the minute before and the minute after.
    _registered(risk_world, _at(first, 0) - datetime.timedelta(minutes=1), lane="green")
    _registered(risk_world, _at(last + datetime.timedelta(days=1), 0), lane="green")
    # A draft, even one whose registration time says otherwise, is never looked at.
    draft = declaration_create(actor=risk_world["users"]["trader_a"], data=declaration_data(lrn="DRAFT-1"))
    Declaration.objects.filter(pk=draft.pk).update(registered_at=_at(first, 15))
    return first, last


def test_a_backtest_counts_what_the_criterion_would_have_hit(risk_world, period, sent_tasks):
    version = criterion(risk_world, CARS_FROM_CHINA, lane="red", live=False)
    first, last = period

    backtest = backtest_request(
        actor=risk_world["users"]["analyst"], version=version, date_from=first, date_to=last
    )
    status = backtest_run(backtest.pk)

    backtest.refresh_from_db()
    assert status == backtest.status == "done"
    assert (backtest.total, backtest.done, backtest.hits, backtest.percent_done) == (7, 7, 5, 100)
    assert backtest.finished_at is not None
    assert backtest.results == {
        "hits": 5,
        "looked_at": 7,
        "would_raise": 4,
        "target_lane": "red",
        "by_lane": {"red": 1, "yellow": 1, "blue": 1, "green": 1, "none": 1},
        "by_office": {"TMA01": 4, "TMT01": 1},
        "by_trader": {"Altyn Asyr HJ (101012345678)": 3, "Balkan Import HJ (101098765432)": 2},
    }


def test_a_backtest_ignores_the_versions_validity_but_keeps_its_offices(risk_world, period):
    version = criterion(
        risk_world,
        CARS_FROM_CHINA,
        lane="yellow",
        live=False,
        offices=["TMT01"],
        valid_from=timezone.localdate() + datetime.timedelta(days=30),
    )
    first, last = period
    backtest = Backtest.objects.create(
        version=version, date_from=first, date_to=last, requested_by=risk_world["users"]["analyst"]
    )

    backtest_run(backtest.pk)

    backtest.refresh_from_db()
    assert backtest.results["hits"] == 1
    assert backtest.results["by_office"] == {"TMT01": 1}
    assert backtest.results["would_raise"] == 1  # blue to yellow


def test_a_backtest_request_is_queued_with_its_progress_at_zero(
    risk_world, sent_tasks, django_capture_on_commit_callbacks
):
    version = criterion(risk_world, CARS_FROM_CHINA, live=False)
    today = timezone.localdate()

    with django_capture_on_commit_callbacks(execute=True):
        backtest = backtest_request(
            actor=risk_world["users"]["analyst"], version=version, date_from=today, date_to=today
        )

    assert (backtest.status, backtest.total, backtest.done, backtest.hits) == ("pending", 0, 0, 0)
    assert (backtest.results, backtest.finished_at) == ({}, None)
    assert sent_tasks == [("risk.run_backtest", (backtest.pk,))]
    event = AuditEvent.objects.get(action="risk.backtest.requested")
    assert event.after == {
        "criterion": version.criterion.code,
        "version": 1,
        "from": today.isoformat(),
        "to": today.isoformat(),
    }


def test_a_backtest_records_its_progress_chunk_by_chunk(risk_world, period, monkeypatch):
    version = criterion(risk_world, CARS_FROM_CHINA, live=False)
    first, last = period
    backtest = Backtest.objects.create(
        version=version, date_from=first, date_to=last, requested_by=risk_world["users"]["analyst"]
    )
    monkeypatch.setattr(backtest_service, "CHUNK", 3)
    seen = []
    facts = backtest_service.declaration_facts

    def watching(declaration, items):
        row = Backtest.objects.get(pk=backtest.pk)
        seen.append((row.status, row.total, row.done))
        return facts(declaration, items)

    monkeypatch.setattr(backtest_service, "declaration_facts", watching)

    backtest_run(backtest.pk)

    assert sorted(set(seen)) == [("running", 7, 0), ("running", 7, 3), ("running", 7, 6)]
    assert len(seen) == 7


def test_a_finished_backtest_is_not_run_again(risk_world, period):
    version = criterion(risk_world, CARS_FROM_CHINA, live=False)
    first, last = period
    backtest = Backtest.objects.create(
        version=version, date_from=first, date_to=last, requested_by=risk_world["users"]["analyst"]
    )
    backtest_run(backtest.pk)
    finished = Backtest.objects.get(pk=backtest.pk)

    assert backtest_run(backtest.pk) == "done"
    assert Backtest.objects.get(pk=backtest.pk).finished_at == finished.finished_at
    assert backtest_run(10**9) == "missing"


def test_a_backtest_that_fails_says_why(risk_world, period):
    version = criterion(risk_world, CARS_FROM_CHINA, live=False)
    CriterionVersion.objects.filter(pk=version.pk).update(conditions=[{"kind": "colour"}])
    first, last = period
    backtest = Backtest.objects.create(
        version=version, date_from=first, date_to=last, requested_by=risk_world["users"]["analyst"]
    )

    with pytest.raises(ConditionError):
        backtest_run(backtest.pk)

    backtest.refresh_from_db()
    assert backtest.status == "failed"
    assert backtest.error == "ConditionError: Choose what the condition looks at."
    assert backtest.finished_at is not None


@pytest.mark.parametrize(
    ("days_from", "days_to", "errors"),
    [
        (5, 10, [("date_to", "before_start")]),
        (400, 10, [("date_to", "too_long")]),
        (366, 0, [("date_to", "too_long")]),
        (1, -1, [("date_to", "future")]),
        (None, 1, [("date_from", "required")]),
        (1, None, [("date_to", "required")]),
    ],
    ids=["to before from", "over a year", "366 days", "future", "no first day", "no last day"],
)
def test_a_backtest_request_with_wrong_dates_is_refused(risk_world, days_from, days_to, errors):
    version = criterion(risk_world, CARS_FROM_CHINA, live=False)
    today = timezone.localdate()
    day = lambda days: None if days is None else today - datetime.timedelta(days=days)  # noqa: E731

    with pytest.raises(DeclarationInvalid) as raised:
        backtest_request(
            actor=risk_world["users"]["analyst"],
            version=version,
            date_from=day(days_from),
            date_to=day(days_to),
        )

    assert [(error.field, error.code) for error in raised.value.errors] == errors
    assert not Backtest.objects.exists()


def test_a_year_to_the_day_is_allowed(risk_world):
    version = criterion(risk_world, CARS_FROM_CHINA, live=False)
    today = timezone.localdate()

    backtest = backtest_request(
        actor=risk_world["users"]["analyst"],
        version=version,
        date_from=today - datetime.timedelta(days=365),
        date_to=today,
    )

    assert backtest.status == "pending"


def test_only_an_analyst_asks_for_a_backtest(risk_world):
    version = criterion(risk_world, CARS_FROM_CHINA, live=False)
    today = timezone.localdate()

    for user in ("officer", "supervisor", "trader_a"):
        with pytest.raises(NotAuthorised):
            backtest_request(actor=risk_world["users"][user], version=version, date_from=today, date_to=today)

    assert not Backtest.objects.exists()
