"""The declarations world (tests/declarations/conftest.py), plus what risk needs: an analyst, a second
officer at TMA01, and helpers to write criteria and to make assessed declarations.

Scoring is called directly (``score``): the task only calls the same service. Tests of the real worker
use the ``celery_worker`` fixture of tests/conftest.py.
"""

import datetime
import itertools

import pytest

from customs.services.users import user_upsert
from declarations.models import Declaration
from declarations.services.lifecycle import declaration_submit
from risk.services.criteria import VersionData, criterion_create
from risk.services.selectivity import live_criteria_forget, selectivity_score
from tests.declarations.conftest import (  # noqa: F401 (fixtures and helpers for the risk tests)
    CAR,
    FISH,
    PISTOL,
    _fresh_reference_cache,
    declaration_data,
    item_data,
    world,
)
from tests.tariff.conftest import small_tariff  # noqa: F401 (the fixture ``world`` needs)

_lrns = itertools.count(1)


@pytest.fixture(autouse=True)
def _fresh_criteria():
    """Each test compiles the criteria it writes (the compiled set is kept per process)."""
    live_criteria_forget()
    yield
    live_criteria_forget()


@pytest.fixture
def risk_world(world):  # noqa: F811 (the imported fixture)
    """``world`` plus users ``analyst`` (risk analyst) and ``officer2`` (a second officer at TMA01)."""
    world["users"]["analyst"] = user_upsert(actor=None, username="analyst", roles=["risk_analyst"])
    world["users"]["officer2"] = user_upsert(
        actor=None, username="officer2", roles=["officer"], offices=[world["office"]]
    )
    return world


def criterion(risk_world, conditions, *, lane="red", code=None, live=True, **version):
    """Write a criterion (live by default) as the analyst; returns its version 1."""
    data = VersionData(
        lane=lane,
        conditions=conditions,
        valid_from=version.pop("valid_from", datetime.date(2020, 1, 1)),
        **version,
    )
    return criterion_create(
        actor=risk_world["users"]["analyst"],
        code=code or f"C{next(_lrns):04d}",
        name="Test criterion",
        data=data,
        live=live,
    )


def assessed(risk_world, *, actor="trader_a", items=None, **overrides) -> Declaration:
    """A declaration submitted (lodged, registered, assessed at TMA01) and not yet scored."""
    overrides.setdefault("lrn", f"RISK-{next(_lrns):05d}")
    data = declaration_data(items=items, **overrides)
    return declaration_submit(actor=risk_world["users"][actor], data=data)


def score(declaration):
    """Score ``declaration`` as the task does; returns it re-read, with its lane."""
    selectivity_score(declaration.pk)
    return Declaration.objects.get(pk=declaration.pk)
