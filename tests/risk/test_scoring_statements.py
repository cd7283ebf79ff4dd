"""What a scoring costs the database, and the hand-written statements it runs
(``risk.services.scoring_sql``): a constant number of queries per lane, and a locked read that gives what
the ORM gives."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from declarations.models import Declaration, DeclarationItem, StatusChange
from declarations.services.locking import declaration_lock
from risk.models import CriterionHit, Examination, PostClearanceAudit, Selectivity
from risk.services.scoring_sql import declaration_for_scoring
from risk.services.selectivity import declaration_facts, selectivity_score
from tests.risk.conftest import FISH, assessed, criterion, item_data, score

CARS = [{"kind": "commodity_code", "operator": "starts_with", "values": ["8703"]}]
FISH_ONLY = [{"kind": "commodity_code", "operator": "in", "values": [FISH]}]

# In a test's transaction the scoring's transaction is a savepoint: SAVEPOINT and RELEASE count (in the
# worker they are BEGIN and COMMIT). Then: the locked read; the Selectivity, hits and audit queue in one
# statement; the lane's status change and declaration in one; the events; the audit event (one
# statement: the chain head locked and moved, the event inserted). A yellow or red lane adds the
# office's lock, the least-loaded officer, the examination's insert and its audit event.
QUERIES = {"green": 7, "blue": 7, "yellow": 11, "red": 11}


@pytest.mark.parametrize("lane", ["green", "blue", "yellow", "red"])
def test_a_scoring_runs_a_constant_number_of_queries(risk_world, settings, lane):
    settings.RISK_RULES_RECHECK_SECONDS = 3600  # as in production: the rules are not re-read each time
    if lane != "green":
        criterion(risk_world, CARS, lane=lane)
    score(assessed(risk_world))  # the criteria compiled, the rates and profile settings read
    declaration = assessed(risk_world)

    with CaptureQueriesContext(connection) as captured:
        selectivity = selectivity_score(declaration.pk)

    assert selectivity.lane == lane, (selectivity.source, selectivity.profile, selectivity.random_draws)
    assert len(captured) == QUERIES[lane], "\n".join(query["sql"][:120] for query in captured)
    assert Selectivity.objects.get(declaration=declaration).lane == lane
    assert CriterionHit.objects.filter(declaration=declaration).count() == (0 if lane == "green" else 1)
    assert StatusChange.objects.filter(declaration=declaration, action=f"lane_{lane}").count() == 1
    assert PostClearanceAudit.objects.filter(declaration=declaration).exists() == (lane == "blue")
    examinations = list(Examination.objects.filter(declaration=declaration).values_list("status", flat=True))
    assert examinations == (["assigned"] if lane in ("yellow", "red") else [])


@pytest.mark.parametrize("actor", ["trader_a", "broker"])
def test_the_scoring_read_gives_the_declaration_as_the_orm_does(risk_world, actor):
    declaration = assessed(
        risk_world, actor=actor, items=[item_data(), item_data(commodity_code=FISH), item_data(origin="KZ")]
    )

    read, scored, items = declaration_for_scoring(declaration.pk)
    locked = declaration_lock(declaration.pk)

    assert scored is False
    for field in Declaration._meta.concrete_fields:
        assert getattr(read, field.attname) == getattr(locked, field.attname), field.name
    for relation in ("office", "trader", "broker"):
        ours, theirs = getattr(read, relation), getattr(locked, relation)
        assert (ours is None) == (theirs is None) == (relation == "broker" and actor != "broker")
        if theirs is not None:
            for field in type(theirs)._meta.concrete_fields:
                assert getattr(ours, field.attname) == getattr(theirs, field.attname), (relation, field.name)
    stored = list(DeclarationItem.objects.filter(declaration=declaration).order_by("number"))
    assert [item.number for item in items] == [1, 2, 3]
    assert declaration_facts(read, items) == declaration_facts(locked, stored)


def test_the_scoring_read_says_whether_the_declaration_was_scored(risk_world):
    criterion(risk_world, FISH_ONLY, lane="yellow")
    declaration = score(assessed(risk_world, items=[item_data(commodity_code=FISH)]))

    read, scored, _items = declaration_for_scoring(declaration.pk)

    assert scored is True
    assert read.lane == "yellow"


def test_the_scoring_read_of_no_declaration_is_none(risk_world):
    assert declaration_for_scoring(10**9) is None
