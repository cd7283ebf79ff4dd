"""Versioned criteria: a revision makes the next version and supersedes the current one; a hit keeps the
version that made it; the compiled criteria follow revisions and take-downs; every write is audited."""

import datetime

import pytest

from customs.models import AuditEvent, Country, CountryGroup
from declarations.services.errors import DeclarationInvalid
from risk.models import Criterion, CriterionHit, CriterionVersion
from risk.services.criteria import (
    VersionData,
    criterion_create,
    criterion_revise,
    criterion_set_live,
    current_version,
)
from risk.services.selectivity import live_criteria
from tests.risk.conftest import assessed, criterion, item_data, score

CARS = [{"kind": "commodity_code", "operator": "starts_with", "values": ["8703"]}]
FISH = [{"kind": "commodity_code", "operator": "starts_with", "values": ["0303"]}]
START = datetime.date(2020, 1, 1)


def _revise(risk_world, version, *, conditions, lane="yellow", **extra):
    return criterion_revise(
        actor=risk_world["users"]["analyst"],
        criterion=version.criterion,
        data=VersionData(lane=lane, conditions=conditions, valid_from=START, **extra),
    )


def test_a_revision_makes_version_two_and_supersedes_version_one(risk_world):
    first = criterion(risk_world, CARS, lane="red", code="CARS", officer_note="Check the VIN.")

    second = _revise(risk_world, first, conditions=FISH, lane="yellow", officer_note=" Count the cartons. ")

    first.refresh_from_db()
    assert (second.number, second.lane, second.conditions) == (2, "yellow", FISH)
    assert second.officer_note == "Count the cartons."
    assert first.superseded_at is not None
    assert (first.number, first.lane, first.conditions) == (1, "red", CARS)
    assert second.superseded_at is None
    assert current_version(first.criterion) == second
    assert list(
        CriterionVersion.objects.filter(criterion=first.criterion).values_list("number", flat=True)
    ) == [
        2,
        1,
    ]


def test_a_hit_keeps_its_version_and_new_declarations_hit_the_next(risk_world):
    first = criterion(risk_world, CARS, lane="red")
    before = score(assessed(risk_world))

    second = _revise(risk_world, first, conditions=CARS, lane="yellow")
    after = score(assessed(risk_world))

    assert CriterionHit.objects.get(declaration=before).version == first
    assert CriterionHit.objects.get(declaration=before).lane == "red"
    assert before.lane == "red"
    assert CriterionHit.objects.get(declaration=after).version == second
    assert after.lane == "yellow"


def test_the_compiled_criteria_follow_a_revision(risk_world):
    first = criterion(risk_world, CARS, lane="red")
    compiled = live_criteria()
    assert live_criteria() is compiled  # kept while nothing changes
    assert [entry.version_id for entry in compiled.by_prefix["8703"]] == [first.pk]

    second = _revise(risk_world, first, conditions=FISH, lane="blue")

    recompiled = live_criteria()
    assert recompiled is not compiled
    assert set(recompiled.by_prefix) == {"0303"}
    assert [entry.version_id for entry in recompiled.by_prefix["0303"]] == [second.pk]
    assert score(assessed(risk_world)).lane == "green"


def test_the_compiled_criteria_follow_a_take_down_and_a_new_criterion(risk_world):
    version = criterion(risk_world, CARS, lane="red")
    assert live_criteria().count == 1

    criterion_set_live(actor=risk_world["users"]["analyst"], criterion=version.criterion, live=False)

    assert live_criteria().count == 0
    assert score(assessed(risk_world)).lane == "green"
    criterion(risk_world, FISH, lane="red")
    assert live_criteria().count == 1
    criterion_set_live(actor=risk_world["users"]["analyst"], criterion=version.criterion, live=True)
    assert live_criteria().count == 2
    assert score(assessed(risk_world)).lane == "red"


def test_creating_revising_and_taking_down_are_audited(risk_world):
    analyst = risk_world["users"]["analyst"]
    first = criterion(risk_world, CARS, lane="red", code="CARS")
    _revise(risk_world, first, conditions=FISH, lane="yellow", offices=["tma01"])
    criterion_set_live(actor=analyst, criterion=first.criterion, live=False)
    criterion_set_live(actor=analyst, criterion=first.criterion, live=False)  # no change, no event

    events = list(
        AuditEvent.objects.filter(object_type="risk.criterion", object_id=str(first.criterion.pk)).order_by(
            "sequence"
        )
    )
    assert [(event.action, event.actor) for event in events] == [
        ("risk.criterion.created", analyst),
        ("risk.criterion.revised", analyst),
        ("risk.criterion.taken_down", analyst),
    ]
    assert events[0].after == {
        "version": 1,
        "lane": "red",
        "conditions": CARS,
        "valid_from": "2020-01-01",
        "valid_to": None,
        "offices": [],
        "live": True,
    }
    assert events[1].before == {"version": 1, "lane": "red", "conditions": CARS}
    assert events[1].after["version"] == 2
    assert events[1].after["offices"] == ["TMA01"]
    assert events[2].before == {"live": True}
    assert events[2].after == {"live": False}


def test_a_refused_revision_changes_nothing(risk_world):
    first = criterion(risk_world, CARS, lane="red")
    events = AuditEvent.objects.count()

    with pytest.raises(DeclarationInvalid) as raised:
        _revise(
            risk_world,
            first,
            conditions=[
                {"kind": "origin", "operator": "in", "values": ["CN"]},
                {"kind": "origin", "values": []},
            ],
            lane="green",
            offices=["XX999"],
            valid_to=datetime.date(2019, 1, 1),
        )

    assert sorted(error.field for error in raised.value.errors) == [
        "conditions[1].operator",
        "lane",
        "offices",
        "valid_to",
    ]
    assert list(
        CriterionVersion.objects.filter(criterion=first.criterion).values_list("number", flat=True)
    ) == [1]
    first.refresh_from_db()
    assert first.superseded_at is None
    assert AuditEvent.objects.count() == events


def test_a_criterion_code_is_taken_once(risk_world):
    criterion(risk_world, CARS, code="CARS")

    with pytest.raises(DeclarationInvalid) as raised:
        criterion_create(
            actor=risk_world["users"]["analyst"],
            code=" cars ",
            name="Again",
            data=VersionData(lane="red", conditions=CARS, valid_from=START),
        )

    assert [(error.field, error.code) for error in raised.value.errors] == [("code", "taken")]
    assert Criterion.objects.count() == 1


def test_the_compiled_criteria_follow_the_members_of_a_country_group(risk_world):
    criterion(risk_world, [{"kind": "origin_group", "operator": "in", "values": ["CIS_FTA"]}], lane="yellow")
    assert score(assessed(risk_world, items=[item_data(origin="DE")])).lane == "green"

    CountryGroup.objects.get(code="CIS_FTA").countries.add(Country.objects.get(code="DE"))

    assert score(assessed(risk_world, items=[item_data(origin="DE")])).lane == "yellow"
    CountryGroup.objects.get(code="CIS_FTA").countries.remove(Country.objects.get(code="DE"))
    assert score(assessed(risk_world, items=[item_data(origin="DE")])).lane == "green"
