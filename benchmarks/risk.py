"""Risk benchmarks: the selectivity engine in process, the scoring service, lodgement to lane through Celery.

Run with ``python -m benchmarks.risk [evaluate|score|e2e|all]`` and DATABASE_URL and REDIS_URL set
(``make bench-risk`` runs ``all``). It loads the demo data if the database has none, then prints each
figure with its target and PASS or MISS. Figures depend on the machine and its load: the load average
is printed with them.

The criteria and the declarations are drawn from one seeded world, so that the criteria hit the way
real ones do, a few percent of declarations: the demo tariff's declarable codes (a few popular, most
rare), origins weighted as a trade mix, the demo offices, the demo traders and broker plus generated
ones, foreign suppliers, values per kg spread log-normally. Each of the 1,000 criteria has 1 to 4
conditions: commodity code prefixes of 2 to 10 digits (from the demo tariff and real HS chapters),
origins and country groups, importers, exporters and declarants, offices, thresholds on value per kg
or per unit, item counts, preferences, CPCs, types, Incoterms, modes of transport; red, yellow or blue;
a few scoped to offices, a few out of their validity. As an analyst would, each is backtested (on a
sample of 6,000 declarations) and narrowed by one more condition until it hits at most one of them.

- ``evaluate``: ``risk.engine.evaluate`` over 20,000 declarations of 5 items (``DeclarationFacts``
  built in memory; no database) against the 1,000 criteria compiled by ``compile_criteria``. Target
  ≥ 5,000 declarations/s. Also the median and p95 per declaration, hits and candidates checked per
  declaration, and the hits of a sample checked against a brute-force evaluation of every criterion.
  A miss (or ``--profile``) adds a cProfile of the evaluation.
- ``score``: ``risk.services.selectivity.selectivity_score`` (lock, facts, live criteria, profile,
  random draws, lane, hits, examination or audit queue; queries included) of 500 assessed 5-item
  declarations, the 1,000 criteria live in the database: median and p95 per scoring, queries per
  scoring and the costliest statements. Each lane is replayed from what was stored, the stored hits
  are checked against a brute-force evaluation of every live criterion, and the criteria as the
  service compiles them against the same compiled here (country groups by code). ``--profile`` adds
  a cProfile of scoring.
- ``e2e``: a real Celery worker (``celery -A customs worker --concurrency 2 --pool prefork``) on its own
  queue (``KERWEN_BENCH_QUEUE``, default ``kerwen-bench-risk``), the criteria live;
  ``declaration_submit`` of 5-item declarations paced at 50/s for 60 s from this process, then a wait
  until each has a lane (and what the database backends waited on meanwhile). Latency of a
  declaration = ``Declaration.lane_assigned_at`` − the ``time.time()`` taken right after its
  ``declaration_submit`` returned (transaction committed, task sent); the same from ``lodged_at``
  (the start of the submit transaction) is printed beside it.
  Target p95 ≤ 1 s at 50 declarations/s sustained for a minute. The rate reached is printed: where
  one process cannot submit that fast, ``--submitters 2`` shares the same pacing between two forked
  processes. CPU per declaration is printed for this process, the worker, and PostgreSQL (the
  backends sampled, and every PostgreSQL process with the ended backends, beside the connections
  opened: the worker keeps its connections between tasks, so a handful).

The benchmark criteria are BENCH-0001 .. BENCH-1000, written through ``risk.services.criteria`` (so
audited), brought up to date rather than duplicated on a re-run, and taken down (drafts again) at the
end unless ``--keep-criteria``. The declarations it lodges stay, under LRNs ``RISK-<run>-...``.
"""

import argparse
import datetime
import functools
import itertools
import math
import os
import random
import statistics
import sys
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

from benchmarks.declarations import _demo_ready, _load, _percentile, _run_token, _setup, _timings, _verdict

MS = 1000
ITEMS_PER_DECLARATION = 5
CRITERIA_COUNT = 1000
CRITERION_PREFIX = "BENCH-"
EVALUATE_DECLARATIONS = 20_000
EVALUATE_TARGET_PER_SECOND = 5000
SCORE_DECLARATIONS = 500
E2E_RATE = 50
E2E_SECONDS = 60
E2E_TARGET_P95_SECONDS = 1.0
E2E_LANE_BOUND_SECONDS = 120  # after the last submit: a declaration without a lane by then is counted
QUEUE = os.environ.get("KERWEN_BENCH_QUEUE", "kerwen-bench-risk")
TMT_PER_USD = Decimal("3.5")

# --- the world the criteria and the declarations are drawn from ---------------------------------------

ORIGINS = {
    "CN": 30, "TR": 14, "RU": 12, "IR": 8, "DE": 5, "AE": 5, "KZ": 4, "UZ": 4, "IN": 3, "IT": 2,
    "US": 2, "KR": 2, "JP": 2, "FR": 1, "AF": 1, "PK": 1, "BY": 1, "UA": 1, "GB": 1, "VN": 1,
}  # fmt: skip
OFFICES = {
    "TMA01": 30,
    "TMT01": 15,
    "TMF01": 15,
    "TMS01": 10,
    "TMG01": 10,
    "TMA02": 8,
    "TMD01": 6,
    "TMI01": 6,
}
COUNTRY_GROUPS = ["CIS_FTA", "EAEU", "EU", "GSP"]
# Real HS chapters that risk analysts watch: drinks, tobacco, medicines, cosmetics, plastics, tyres,
# garments, footwear, jewellery, steel, machines, electronics, vehicles, arms, furniture, toys.
HS_CHAPTERS = ["22", "24", "30", "33", "39", "40", "61", "62", "64", "71", "72", "73", "84", "85", "87", "93"]
DECLARATION_TYPES = {"IM4": 75, "EX1": 18, "IM5": 4, "IM7": 3}
PROCEDURES = {
    "IM4": {"4000": 85, "4000N01": 2, "4000N02": 2, "4000N03": 2, "4071": 5, "4051": 2, "4053": 2},
    "IM5": {"5300": 90, "5300D01": 10},
    "IM7": {"7100": 100},
    "EX1": {"1000": 100},
}
INCOTERMS = {"FOB": 3, "CIF": 3, "EXW": 2, "DAP": 2, "CPT": 1, "FCA": 2, "CFR": 1}
TRANSPORT_MODES = {"3": 6, "2": 2, "1": 1, "4": 1}
DEMO_TRADERS = [("101012345678", "Altyn Asyr Trading HJ"), ("101098765432", "Balkan Import HJ")]
DEMO_BROKER = ("BR-0001", "Ak Ýol Customs Brokers")
VALUE_PER_KG_MEDIAN_TMT = 45.0
VALUE_PER_UNIT_MEDIAN_TMT = 600.0


class _Weighted:
    """Values drawn with fixed weights (cumulative, so a draw is one bisection)."""

    def __init__(self, weights: dict):
        self.values = list(weights)
        self.cumulative = list(itertools.accumulate(weights.values()))

    def draw(self, rng: random.Random):
        return rng.choices(self.values, cum_weights=self.cumulative)[0]


def _zipf(values, offset: int = 10) -> _Weighted:
    """A few values popular, most rare: weight 1 / (rank + offset)."""
    return _Weighted({value: 1 / (rank + offset) for rank, value in enumerate(values)})


@dataclass(eq=False)
class _World:
    codes: list[str]  # the demo tariff's declarable 10-digit codes
    popular_codes: _Weighted  # the same, some much more declared than others
    units: frozenset[str]  # codes with a supplementary unit (a value per unit)
    origins: _Weighted = field(default_factory=lambda: _Weighted(ORIGINS))
    offices: _Weighted = field(default_factory=lambda: _Weighted(OFFICES))
    types: _Weighted = field(default_factory=lambda: _Weighted(DECLARATION_TYPES))
    procedures: dict = field(default_factory=lambda: {kind: _Weighted(w) for kind, w in PROCEDURES.items()})
    incoterms: _Weighted = field(default_factory=lambda: _Weighted(INCOTERMS))
    transport_modes: _Weighted = field(default_factory=lambda: _Weighted(TRANSPORT_MODES))
    traders: _Weighted = None  # (taxpayer ID, name)
    foreign: _Weighted = None  # supplier or buyer names
    brokers: _Weighted = None  # (licence, name)

    def __post_init__(self):
        self.traders = _zipf(
            DEMO_TRADERS + [(f"9{n:011d}", f"Generated Trader {n} HJ") for n in range(300)], 3
        )
        self.foreign = _zipf([f"Supplier {n} Co Ltd" for n in range(400)], 5)
        self.brokers = _zipf(
            [DEMO_BROKER] + [(f"BR-9{n:03d}", f"Generated Brokers {n}") for n in range(15)], 2
        )

    def value_per_kg(self, rng) -> float:
        return rng.lognormvariate(math.log(VALUE_PER_KG_MEDIAN_TMT), 1.1)


@functools.cache
def _world() -> _World:
    from tariff.models import CommodityCode

    rows = list(
        CommodityCode.objects.filter(declarable=True, level=10)
        .order_by("code")
        .values_list("code", "supplementary_unit_id")
    )
    if len(rows) < 100:
        raise SystemExit("The demo tariff has too few declarable codes; run manage.py load_demo.")
    codes = [code for code, _unit in rows]
    shuffled = codes[:]
    random.Random("kerwen-bench-risk-popularity").shuffle(shuffled)
    return _World(
        codes=codes,
        popular_codes=_zipf(shuffled, 20),
        units=frozenset(code for code, unit in rows if unit),
    )


# --- the criteria ---------------------------------------------------------------------------------------


@dataclass
class _CriterionDraft:
    code: str
    lane: str
    conditions: list[dict]
    valid_from: datetime.date
    valid_to: datetime.date | None = None
    offices: list[str] = field(default_factory=list)


def _condition(kind: str, operator: str, values) -> dict:
    return {"kind": kind, "operator": operator, "values": [str(value) for value in values]}


def _distinct(rng, draw, count: int) -> list:
    values = []
    for _attempt in range(count * 4):
        value = draw(rng)
        if value not in values:
            values.append(value)
        if len(values) == count:
            break
    return values


def _code_condition(world: _World, rng, length: int) -> dict:
    """Prefixes of ``length`` digits of codes analysts target (half popular, half anywhere in the
    tariff; at 2 digits mostly real HS chapters), sometimes two or three siblings."""

    def prefix(rng):
        if length == 2 and rng.random() < 0.7:
            return rng.choice(HS_CHAPTERS)
        code = world.popular_codes.draw(rng) if rng.random() < 0.5 else rng.choice(world.codes)
        return code[:length]

    values = _distinct(rng, prefix, rng.choice((1, 1, 1, 2, 3)))
    return _condition("commodity_code", "in" if length == 10 else "starts_with", values)


def _extra_condition(world: _World, rng, kind: str) -> dict:
    """One more condition of ``kind``, narrowing a criterion the way analysts do."""
    if kind == "origin":
        return _condition("origin", "in", _distinct(rng, world.origins.draw, rng.randint(1, 4)))
    if kind == "origin_not":
        return _condition("origin", "not_in", _distinct(rng, world.origins.draw, rng.randint(1, 3)))
    if kind == "origin_group":
        operator = "not_in" if rng.random() < 0.3 else "in"
        return _condition("origin_group", operator, [rng.choice(COUNTRY_GROUPS)])
    if kind == "value_per_kg":  # undervaluation mostly, overvaluation (export refunds) sometimes
        if rng.random() < 0.8:
            return _condition("value_per_kg", "below", [round(rng.uniform(3, 20), 2)])
        return _condition("value_per_kg", "above", [rng.choice((500, 1000, 2500, 5000))])
    if kind == "value_per_unit":
        return _condition("value_per_unit", "below", [round(rng.uniform(20, 200), 2)])
    if kind == "preference":
        return _condition("preference", "is", ["yes"])
    if kind == "procedure":
        choice = rng.random()
        if choice < 0.4:
            return _condition(
                "procedure", "in", _distinct(rng, lambda r: r.choice(("4000N01", "4000N02", "4000N03")), 2)
            )
        if choice < 0.7:
            return _condition("procedure", "starts_with", [rng.choice(("4071", "4051", "4053", "53"))])
        return _condition("procedure", "not_in", ["4000"])
    if kind == "office":
        return _condition("office", "in", _distinct(rng, world.offices.draw, rng.randint(1, 2)))
    if kind == "importer":
        return _condition(
            "importer", "in", [party[0] for party in _distinct(rng, world.traders.draw, rng.randint(1, 3))]
        )
    if kind == "importer_not":  # a trusted importer left out
        return _condition("importer", "not_in", [world.traders.draw(rng)[0]])
    if kind == "exporter":
        return _condition("exporter", "in", _distinct(rng, world.foreign.draw, rng.randint(1, 3)))
    if kind == "declarant":
        return _condition("declarant", "in", [party[0] for party in _distinct(rng, world.brokers.draw, 1)])
    if kind == "declaration_type":
        return _condition("declaration_type", "in", [rng.choice(("IM4", "IM5", "IM7", "EX1"))])
    if kind == "incoterm":
        return _condition("incoterm", "in", _distinct(rng, world.incoterms.draw, rng.randint(1, 2)))
    if kind == "transport_mode":
        return _condition("transport_mode", "in", [world.transport_modes.draw(rng)])
    if kind == "item_count":
        return _condition("item_count", rng.choice(("above", "below")), [rng.choice((3, 10, 20))])
    raise ValueError(kind)


# Kinds of the narrowing conditions, weighted.
EXTRA_KINDS = _Weighted(
    {
        "origin": 24, "origin_not": 4, "origin_group": 5, "value_per_kg": 20, "value_per_unit": 3,
        "preference": 4, "procedure": 5, "office": 8, "importer": 4, "importer_not": 3, "exporter": 3,
        "declarant": 2, "declaration_type": 5, "incoterm": 4, "transport_mode": 4, "item_count": 2,
    }
)  # fmt: skip
# What a criterion is mainly about (its first condition), weighted; then how many narrowing conditions.
ANCHORS = _Weighted({"code": 64, "origin": 8, "origin_group": 3, "party": 12, "office": 7, "none": 6})
CODE_LENGTHS = _Weighted({2: 8, 3: 3, 4: 28, 5: 4, 6: 27, 7: 2, 8: 13, 10: 15})
EXTRAS_BY_LENGTH = {2: (2, 3), 3: (1, 3), 4: (1, 2), 5: (1, 2), 6: (0, 2), 7: (0, 2), 8: (0, 1), 10: (0, 1)}
LANES = _Weighted({"red": 25, "yellow": 55, "blue": 20})
# The backtest of the drafts: no criterion hits more than this share of a sample of declarations.
CRITERIA_BACKTEST_SAMPLE = 6000
CRITERIA_START = datetime.date(2025, 1, 1)
CRITERION_MAX_SHARE = 0.00025


def _conditions_draw(world: _World, rng) -> list[dict]:
    """A criterion's conditions: what it is mainly about (its first condition), then narrowing ones."""
    anchor = ANCHORS.draw(rng)
    conditions, extras = [], (1, 3)
    if anchor == "code":
        length = CODE_LENGTHS.draw(rng)
        conditions.append(_code_condition(world, rng, length))
        extras = EXTRAS_BY_LENGTH[length]
    elif anchor == "origin":
        conditions.append(_condition("origin", "in", _distinct(rng, world.origins.draw, rng.randint(1, 2))))
        extras = (2, 3)
    elif anchor == "origin_group":
        conditions.append(_condition("origin_group", "in", [rng.choice(COUNTRY_GROUPS)]))
        extras = (2, 3)
    elif anchor == "party":
        kind = rng.choice(("importer", "importer", "exporter", "declarant"))
        conditions.append(_extra_condition(world, rng, kind))
        extras = (0, 2)
    elif anchor == "office":
        conditions.append(_extra_condition(world, rng, "office"))
        extras = (2, 3)
    else:  # thresholds and the like only: a candidate for every declaration
        conditions.append(
            rng.choice(
                (
                    _condition("value_per_kg", "below", [round(rng.uniform(0.3, 1.5), 2)]),
                    _condition("value_per_unit", "above", [rng.choice((50_000, 100_000))]),
                    _condition("procedure", "in", ["4000N01", "4000N02"]),
                    _condition("preference", "is", ["yes"]),
                )
            )
        )
        extras = (1, 2)
    wanted = min(4, len(conditions) + rng.randint(*extras))
    for _attempt in range(20):
        if len(conditions) >= wanted:
            break
        _narrow(world, rng, conditions)
    return conditions


def _narrow(world: _World, rng, conditions: list[dict]) -> bool:
    """One more narrowing condition, of a kind the criterion has not; False when it has 4."""
    if len(conditions) >= 4:
        return False
    kinds = {condition["kind"] for condition in conditions}
    for _attempt in range(20):
        condition = _extra_condition(world, rng, EXTRA_KINDS.draw(rng))
        if condition["kind"] not in kinds and not (condition["kind"] == "origin_group" and "origin" in kinds):
            conditions.append(condition)
            return True
    return False


@functools.cache
def _criteria_drafts(world: _World, count: int = CRITERIA_COUNT) -> list[_CriterionDraft]:
    """``count`` criteria, the same on every run (a seeded draw over the world), each backtested as an
    analyst would before putting it live: one that hits more than ``CRITERION_MAX_SHARE`` of a sample
    of declarations is narrowed by one more condition (or drawn again when it has four)."""
    from risk.engine import compile_criteria, evaluate

    rng = random.Random("kerwen-bench-risk-criteria")
    today = datetime.date.today()
    drafts = []
    for number in range(1, count + 1):
        # Fixed dates, so that a re-run finds the criteria as it left them (none revised).
        valid_from, valid_to = CRITERIA_START + datetime.timedelta(days=rng.randint(0, 300)), None
        validity = rng.random()
        if validity < 0.02:  # expired but still live: the engine must skip it
            valid_to = CRITERIA_START + datetime.timedelta(days=rng.randint(330, 364))
        elif validity < 0.03:  # written ahead
            valid_from = datetime.date(today.year + 1, 1, rng.randint(1, 28))
        elif validity < 0.15:
            valid_to = datetime.date(2030, 12, 31)
        offices = []
        if rng.random() < 0.1:
            offices = sorted(set(_distinct(rng, world.offices.draw, rng.randint(1, 3))))
        drafts.append(
            _CriterionDraft(
                code=f"{CRITERION_PREFIX}{number:04d}",
                lane=LANES.draw(rng),
                conditions=_conditions_draw(world, rng),
                valid_from=valid_from,
                valid_to=valid_to,
                offices=offices,
            )
        )
    sample_rng = random.Random("kerwen-bench-risk-backtest")
    sample = [_facts_draw(world, sample_rng, today) for _index in range(CRITERIA_BACKTEST_SAMPLE)]
    groups = _groups_by_code()
    for _round in range(12):
        compiled = compile_criteria(_specs(drafts), groups=groups)
        hits = Counter(hit.code for facts in sample for hit in evaluate(compiled, facts))
        broad = [draft for draft in drafts if hits[draft.code] > CRITERION_MAX_SHARE * len(sample)]
        if not broad:
            break
        for draft in broad:
            if not _narrow(world, rng, draft.conditions):
                draft.conditions = _conditions_draw(world, rng)
    return drafts


def _specs(drafts: list[_CriterionDraft]):
    """The drafts as the compiler takes them (ids: their numbers)."""
    from risk.engine import CriterionSpec, conditions_parse

    return [
        CriterionSpec(
            version_id=number,
            criterion_id=number,
            code=draft.code,
            lane=draft.lane,
            conditions=tuple(conditions_parse(draft.conditions)),
            valid_from=draft.valid_from,
            valid_to=draft.valid_to,
            offices=frozenset(draft.offices),
        )
        for number, draft in enumerate(drafts, start=1)
    ]


def _criteria_live(drafts: list[_CriterionDraft]) -> dict:
    """The benchmark criteria in the database, live and as drafted: created when missing, revised when
    they differ (the generator changed), put live when taken down. Through the services, in one
    transaction. Returns what was done."""
    from django.db import transaction

    from customs.models import User
    from risk.models import Criterion
    from risk.services.criteria import VersionData, criterion_create, criterion_revise, criterion_set_live
    from risk.services.selectivity import live_criteria_forget

    analyst = User.objects.get(username="analyst")
    existing = {
        criterion.code: criterion
        for criterion in Criterion.objects.filter(code__startswith=CRITERION_PREFIX).prefetch_related(
            "versions"
        )
    }
    done = Counter()
    with transaction.atomic():
        for draft in drafts:
            data = VersionData(
                lane=draft.lane,
                conditions=draft.conditions,
                valid_from=draft.valid_from,
                valid_to=draft.valid_to,
                offices=list(draft.offices),
                officer_note="Benchmark criterion (benchmarks/risk.py).",
            )
            criterion = existing.get(draft.code)
            if criterion is None:
                criterion_create(
                    actor=analyst, code=draft.code, name="Benchmark criterion", data=data, live=True
                )
                done["created"] += 1
                continue
            current = next((v for v in criterion.versions.all() if v.superseded_at is None), None)
            wanted = (
                draft.lane,
                _stored_conditions(draft.conditions),
                draft.valid_from,
                draft.valid_to,
                draft.offices,
            )
            if current is None or wanted != (
                current.lane,
                current.conditions,
                current.valid_from,
                current.valid_to,
                sorted(current.offices),
            ):
                criterion_revise(actor=analyst, criterion=criterion, data=data)
                done["revised"] += 1
            if not criterion.active:
                criterion_set_live(actor=analyst, criterion=criterion, live=True)
                done["put live"] += 1
    live_criteria_forget()
    return done


def _stored_conditions(conditions: list[dict]) -> list[dict]:
    from risk.engine import conditions_parse

    return [
        {"kind": condition.kind, "operator": condition.operator, "values": list(condition.values)}
        for condition in conditions_parse(conditions)
    ]


def _criteria_take_down() -> int:
    """The benchmark criteria are drafts again (they would send most demo declarations to a lane)."""
    from django.db import transaction

    from customs.models import User
    from risk.models import Criterion
    from risk.services.criteria import criterion_set_live

    analyst = User.objects.get(username="analyst")
    live = list(Criterion.objects.filter(code__startswith=CRITERION_PREFIX, active=True))
    with transaction.atomic():
        for criterion in live:
            criterion_set_live(actor=analyst, criterion=criterion, live=False)
    return len(live)


# --- the declarations' facts -------------------------------------------------------------------------


def _party(*identifiers: str) -> frozenset[str]:
    return frozenset(" ".join(value.casefold().split()) for value in identifiers if value)


def _facts_draw(world: _World, rng, day: datetime.date):
    """One declaration's facts, as ``declaration_facts`` would build them."""
    from risk.engine import DeclarationFacts, ItemFacts

    declaration_type = world.types.draw(rng)
    taxpayer_id, name = world.traders.draw(rng)
    domestic, foreign = _party(taxpayer_id, name), _party(world.foreign.draw(rng))
    declarant = _party(*world.brokers.draw(rng)) if rng.random() < 0.55 else domestic
    shared_origin = world.origins.draw(rng) if rng.random() < 0.7 else None
    procedures = world.procedures[declaration_type]
    items = []
    for number in range(1, ITEMS_PER_DECLARATION + 1):
        code = world.popular_codes.draw(rng)
        per_unit = None
        if code in world.units:
            per_unit = Decimal(str(round(rng.lognormvariate(math.log(VALUE_PER_UNIT_MEDIAN_TMT), 1.2), 2)))
        items.append(
            ItemFacts(
                number=number,
                commodity_code=code,
                origin=shared_origin or world.origins.draw(rng),
                procedure=procedures.draw(rng),
                value_per_kg=Decimal(str(round(world.value_per_kg(rng), 4))),
                value_per_unit=per_unit,
                preference=rng.random() < 0.08,
            )
        )
    is_import = declaration_type.startswith("IM")
    return DeclarationFacts(
        office=world.offices.draw(rng),
        declaration_type=declaration_type,
        day=day,
        importer=domestic if is_import else foreign,
        exporter=foreign if is_import else domestic,
        declarant=declarant,
        incoterm=world.incoterms.draw(rng),
        transport_mode=world.transport_modes.draw(rng),
        items=tuple(items),
    )


def _candidates(compiled, facts) -> tuple[int, Counter]:
    """What ``evaluate`` looks up for these facts (the same lookups, outside the timing): how many
    criteria, and the (criterion, item) or criterion entries it gathers, by index."""
    seen, entries = set(), Counter()
    for item in facts.items:
        code = item.commodity_code
        for length in compiled.prefix_lengths:
            if length > len(code):
                break
            found = compiled.by_prefix.get(code[:length], ())
            seen.update(map(id, found))
            entries["commodity code"] += len(found)
        found = compiled.by_origin.get(item.origin, ())
        seen.update(map(id, found))
        entries["origin"] += len(found)
    for party in facts.importer | facts.exporter | facts.declarant:
        found = compiled.by_party.get(party, ())
        seen.update(map(id, found))
        entries["party"] += len(found)
    found = compiled.by_office.get(facts.office, ())
    seen.update(map(id, found))
    entries["office"] += len(found)
    seen.update(map(id, compiled.everywhere))
    entries["everywhere"] += len(compiled.everywhere)
    return len(seen), entries


def _reference_hits(specs, groups, facts) -> set[tuple[str, int | None]]:
    """Every criterion checked by brute force against the engine's documented semantics: all its
    conditions hold, its item conditions on one item (the first such), within its offices and validity."""
    from risk.choices import ITEM_KINDS

    def holds(condition, value) -> bool:
        kind, operator, values = condition.kind, condition.operator, condition.values
        if kind in ("value_per_kg", "value_per_unit", "item_count"):
            if value is None:
                return False
            return value < Decimal(values[0]) if operator == "below" else value > Decimal(values[0])
        if kind == "preference":
            return value is (values[0] == "yes")
        if kind == "origin_group":
            members = set().union(*(groups.get(code, ()) for code in values))
            return (value in members) == (operator == "in")
        if operator == "starts_with":
            return any(value.startswith(prefix) for prefix in values)
        if kind in ("importer", "exporter", "declarant"):
            return bool(set(values) & value) == (operator == "in")
        return (value in values) == (operator == "in")

    hits = set()
    for spec in specs:
        if spec.offices and facts.office not in spec.offices:
            continue
        if facts.day < spec.valid_from or (spec.valid_to is not None and facts.day > spec.valid_to):
            continue
        header = [c for c in spec.conditions if c.kind not in ITEM_KINDS]
        item_conditions = [c for c in spec.conditions if c.kind in ITEM_KINDS]
        header_value = {"item_count": len(facts.items)}
        if not all(holds(c, header_value.get(c.kind, getattr(facts, c.kind, None))) for c in header):
            continue
        if not item_conditions:
            hits.add((spec.code, None))
            continue
        for item in facts.items:
            values = {"origin_group": item.origin}
            if all(holds(c, values.get(c.kind, getattr(item, c.kind, None))) for c in item_conditions):
                hits.add((spec.code, item.number))
                break
    return hits


def _criteria_shape(drafts: list[_CriterionDraft]) -> str:
    sizes = Counter(len(draft.conditions) for draft in drafts)
    lanes = Counter(draft.lane for draft in drafts)
    kinds = Counter(condition["kind"] for draft in drafts for condition in draft.conditions)
    today = datetime.date.today()
    out_of_validity = sum(
        1 for d in drafts if d.valid_from > today or (d.valid_to is not None and d.valid_to < today)
    )
    return (
        f"{len(drafts)}; conditions each "
        + ", ".join(f"{size}: {sizes[size]}" for size in sorted(sizes))
        + f"; lanes {', '.join(f'{lane} {n}' for lane, n in lanes.most_common())}; "
        + f"{sum(1 for d in drafts if d.offices)} scoped to offices, "
        + f"{out_of_validity} out of validity today; "
        + "conditions by kind "
        + ", ".join(f"{kind} {n}" for kind, n in kinds.most_common())
    )


def _index_shape(compiled) -> str:
    def distinct(index):
        return len({id(criterion) for criteria in index.values() for criterion in criteria})

    return (
        f"filed by commodity code {distinct(compiled.by_prefix)} (prefix lengths "
        f"{','.join(map(str, compiled.prefix_lengths))}), origin {distinct(compiled.by_origin)}, "
        f"party {distinct(compiled.by_party)}, office {distinct(compiled.by_office)}, "
        f"everywhere {len(compiled.everywhere)}"
    )


def bench_evaluate(count: int = EVALUATE_DECLARATIONS, rounds: int = 2, profile: bool = False) -> None:
    from risk.engine import compile_criteria, evaluate

    _demo_ready()
    world = _world()
    started = time.perf_counter()
    drafts = _criteria_drafts(world)
    print(
        f"criteria: {_criteria_shape(drafts)} (drawn and backtested in {time.perf_counter() - started:.1f} s)"
    )
    specs = _specs(drafts)
    groups = _groups_by_code()  # as the engine takes them: group code -> country codes
    started = time.perf_counter()
    compiled = compile_criteria(specs, groups=groups)
    compile_seconds = time.perf_counter() - started
    rng = random.Random("kerwen-bench-risk-facts")
    day = datetime.date.today()
    facts = [_facts_draw(world, rng, day) for _index in range(count)]
    print(
        f"evaluate: {compiled.count} criteria compiled in {compile_seconds * MS:.1f} ms; "
        f"{_index_shape(compiled)}"
    )
    print(
        f"  {count:,} declarations of {ITEMS_PER_DECLARATION} items drawn from "
        f"{len(world.codes):,} demo tariff codes, in memory"
    )
    for warm in facts[:1000]:
        evaluate(compiled, warm)
    rate = 0.0
    results = []
    for round_number in range(1, rounds + 1):
        seconds, results = [], []
        clock = time.perf_counter
        started = clock()
        for one in facts:
            before = clock()
            hits = evaluate(compiled, one)
            seconds.append(clock() - before)
            results.append(hits)
        wall = clock() - started
        rate = count / wall
        print(f"  round {round_number} ({_load()})")
        print(
            f"    evaluate, 1 process: {rate:,.0f} declarations/s   "
            f"[target ≥ {EVALUATE_TARGET_PER_SECOND:,}/s] {_verdict(rate >= EVALUATE_TARGET_PER_SECOND)}"
        )
        print(
            f"      per declaration median {statistics.median(seconds) * 1e6:.0f} µs, "
            f"p95 {_percentile(seconds, 0.95) * 1e6:.0f} µs, p99 {_percentile(seconds, 0.99) * 1e6:.0f} µs, "
            f"max {max(seconds) * 1e6:.0f} µs"
        )
    hit_counts = [len(hits) for hits in results]
    top_lanes = Counter(hits[0].lane if hits else "none" for hits in results)
    looked_up = [_candidates(compiled, one) for one in facts]
    candidates = [criteria for criteria, _entries in looked_up]
    entries = sum((entries for _criteria, entries in looked_up), Counter())
    print(
        f"    hits per declaration: mean {statistics.mean(hit_counts):.3f}, max {max(hit_counts)}; "
        f"declarations hit {sum(1 for n in hit_counts if n) / count:.1%} "
        f"(highest lane red {top_lanes['red'] / count:.1%}, yellow {top_lanes['yellow'] / count:.1%}, "
        f"blue {top_lanes['blue'] / count:.1%}); criteria that hit at least once "
        f"{len({hit.code for hits in results for hit in hits})}"
    )
    print(
        f"    candidates checked per declaration: mean {statistics.mean(candidates):.1f}, "
        f"p95 {_percentile(candidates, 0.95)}, max {max(candidates)} (of {compiled.count}); entries "
        f"gathered per declaration {entries.total() / count:.1f}: "
        + ", ".join(f"{index} {number / count:.1f}" for index, number in entries.most_common())
    )
    sample = facts[:2000]
    wrong = [
        (index, {(hit.code, hit.item_number) for hit in results[index]}, _reference_hits(specs, groups, one))
        for index, one in enumerate(sample)
    ]
    wrong = [entry for entry in wrong if entry[1] != entry[2]]
    print(
        f"    hits of {len(sample):,} declarations checked against a brute-force evaluation of every "
        f"criterion: {len(sample) - len(wrong):,} agree, {len(wrong)} differ"
    )
    for index, engine, reference in wrong[:5]:
        print(
            f"      declaration {index}: engine only {sorted(engine - reference, key=str)}, "
            f"brute force only {sorted(reference - engine, key=str)}"
        )
    if profile or rate < EVALUATE_TARGET_PER_SECOND:
        _profile_evaluate(compiled, facts[:5000])


def _profile_evaluate(compiled, facts) -> None:
    import cProfile
    import io
    import pstats

    from risk.engine import evaluate

    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for one in facts:
        evaluate(compiled, one)
    profiler.disable()
    total = time.perf_counter() - started
    print(f"  profile of {len(facts):,} evaluations: {total / len(facts) * 1e6:.0f} µs each under cProfile")
    buffer = io.StringIO()
    pstats.Stats(profiler, stream=buffer).sort_stats("tottime").print_stats(15)
    print("  top functions by own time:")
    print("\n".join("    " + line for line in buffer.getvalue().splitlines()[6:30] if line.strip()))


# --- declarations in the database ---------------------------------------------------------------------


@dataclass
class _Lodgeable:
    """What lodges over the demo data, found by asking the services (nothing written)."""

    codes: list[str]
    origins: dict[str, list[str]]  # code -> the origins it lodges from
    offices: list[str]
    declarants: list[tuple[str, str]]  # (username, trader's taxpayer ID)


def _item_data(code: str, origin: str, per_kg_tmt: float, index: int) -> dict:
    net_mass = Decimal(100)
    price = (Decimal(str(per_kg_tmt)) * net_mass / TMT_PER_USD).quantize(Decimal("0.01"))
    return {
        "commodity_code": code,
        "description": f"Goods of line {index + 1}",
        "origin": origin,
        "procedure_code": "4000",
        "packages_number": 2,
        "package_kind": "PK",
        "gross_mass": Decimal("120.5"),
        "net_mass": net_mass,
        "invoice_price": max(price, Decimal("1.00")),
    }


def _submit_data(items: list[dict], *, lrn, office, trader, counterparty, incoterm, transport_mode) -> dict:
    country = items[0]["origin"]
    return {
        "declaration_type": "IM4",
        "office": office,
        "trader": trader,
        "lrn": lrn,
        "counterparty_name": counterparty,
        "counterparty_address": "1 Harbour Road",
        "counterparty_country": country,
        "dispatch_country": country,
        "incoterm": incoterm,
        "delivery_place": "Ashgabat",
        "transport_mode": transport_mode,
        "transport_identity": "AG 1234",
        "invoice_amount": sum((item["invoice_price"] for item in items), Decimal(0)),
        "invoice_currency": "USD",
        "freight_amount": Decimal("800"),
        "freight_currency": "USD",
        "insurance_amount": Decimal("40"),
        "insurance_currency": "USD",
        "total_packages": sum(item["packages_number"] for item in items),
        "items": items,
    }


def _lodges(actor, data) -> bool:
    """``declaration_submit``'s checks, without writing anything."""
    from django.utils import timezone

    from declarations.services.drafts import draft_build
    from declarations.services.errors import DeclarationInvalid
    from declarations.services.validation import lodgement_check

    try:
        declaration, items = draft_build(actor=actor, data=data)
    except DeclarationInvalid:
        return False
    errors, _assessment = lodgement_check(declaration, items, [], actor=actor, day=timezone.localdate())
    return not errors


def _lodgeable(world: _World) -> _Lodgeable:
    """Demo codes that lodge without a licence or unit (``benchmarks.declarations``), the origins each
    lodges from, and the offices and declarants (trader, broker for two traders) that may lodge."""
    from benchmarks.declarations import _lodgeable_codes
    from customs.models import User

    trader_user = User.objects.get(username="trader")
    codes = _lodgeable_codes(trader_user, wanted=80)

    def data(items, **general):
        general = {
            "lrn": "PROBE", "office": "TMA01", "trader": DEMO_TRADERS[0][0], "counterparty": "Probe Ltd",
            "incoterm": "FOB", "transport_mode": "3", **general,
        }  # fmt: skip
        return _submit_data(items, **general)

    origins = {}
    for code in codes:
        lodging = [o for o in ORIGINS if _lodges(trader_user, data([_item_data(code, o, 45.0, 0)]))]
        if lodging:
            origins[code] = lodging
    probe = [_item_data(codes[0], "CN", 45.0, 0)]
    offices = [office for office in OFFICES if _lodges(trader_user, data(probe, office=office))]
    declarants = []
    for username, (taxpayer_id, _name) in [
        ("trader", DEMO_TRADERS[0]),
        ("broker", DEMO_TRADERS[0]),
        ("broker", DEMO_TRADERS[1]),
    ]:
        if _lodges(User.objects.get(username=username), data(probe, trader=taxpayer_id)):
            declarants.append((username, taxpayer_id))
    if not origins or not offices or not declarants:
        raise SystemExit("Nothing lodges over the demo data; run manage.py load_demo.")
    return _Lodgeable(codes=list(origins), origins=origins, offices=offices, declarants=declarants)


def _submissions(world: _World, lodgeable: _Lodgeable, *, count: int, prefix: str, seed: str) -> list:
    """``count`` (username, data) of 5-item IM4 declarations over what lodges, drawn like the facts:
    popular codes, a trade mix of origins (one supplier mostly), values per kg log-normal."""
    rng = random.Random(seed)
    popular = _zipf(lodgeable.codes, 5)
    offices = _Weighted({office: OFFICES[office] for office in lodgeable.offices})
    rows = []
    for index in range(count):
        username, trader = rng.choice(lodgeable.declarants)
        shared = world.origins.draw(rng) if rng.random() < 0.7 else None
        items = []
        for number in range(ITEMS_PER_DECLARATION):
            code = popular.draw(rng)
            allowed = lodgeable.origins[code]
            origin = shared if shared in allowed else rng.choice(allowed)
            items.append(_item_data(code, origin, world.value_per_kg(rng), number))
        data = _submit_data(
            items,
            lrn=f"{prefix}-{index}",
            office=offices.draw(rng),
            trader=trader,
            counterparty=world.foreign.draw(rng),
            incoterm=world.incoterms.draw(rng),
            transport_mode=world.transport_modes.draw(rng),
        )
        rows.append((username, data))
    return rows


@contextmanager
def _scoring_not_sent():
    """Declarations lodged without sending ``risk.score_declaration`` (this benchmark scores them)."""
    from declarations.services import lifecycle
    from risk.services.selectivity import SCORE_TASK

    saved = list(lifecycle.ON_ASSESSED_TASKS)
    lifecycle.ON_ASSESSED_TASKS[:] = [name for name in saved if name != SCORE_TASK]
    try:
        yield
    finally:
        lifecycle.ON_ASSESSED_TASKS[:] = saved


def _actors() -> dict:
    from customs.models import User

    return {user.username: user for user in User.objects.filter(username__in=["trader", "broker"])}


def _database_ready() -> tuple[_World, _Lodgeable, list[_CriterionDraft]]:
    _demo_ready()
    world = _world()
    drafts = _criteria_drafts(world)
    started = time.perf_counter()
    done = _criteria_live(drafts)
    print(
        f"  {len(drafts)} benchmark criteria live "
        f"({', '.join(f'{n} {what}' for what, n in done.items()) or 'unchanged'}) "
        f"in {time.perf_counter() - started:.1f} s"
    )
    started = time.perf_counter()
    lodgeable = _lodgeable(world)
    pairs = sum(len(origins) for origins in lodgeable.origins.values())
    print(
        f"  lodgeable: {len(lodgeable.codes)} demo codes with {pairs} (code, origin) pairs, offices "
        f"{','.join(lodgeable.offices)}, declarants {lodgeable.declarants} "
        f"(probed in {time.perf_counter() - started:.1f} s)"
    )
    return world, lodgeable, drafts


def _lane_replay(declaration_ids) -> tuple[list[str], list[str]]:
    """Each scored declaration checked against what was stored. Consistency: its lane is the
    Selectivity's, its hits those ``evaluate`` gives now, its lane the one ``lane_decide`` gives from
    the stored draws and profile. Correctness: its hits are those of a brute-force evaluation of every
    live criterion (``_reference_hits``, country groups expanded by their codes), and so is the lane
    those hits give. Returns the two lists of problems found."""
    from types import SimpleNamespace

    from declarations.models import Declaration, DeclarationItem
    from risk.choices import LANE_RANK
    from risk.engine import evaluate
    from risk.models import CriterionHit, CriterionVersion, Selectivity
    from risk.services.selectivity import (
        declaration_facts,
        lane_decide,
        live_criteria,
        profile_settings,
        version_spec,
    )

    compiled, rules = live_criteria(), profile_settings()
    specs = [
        version_spec(version)
        for version in CriterionVersion.objects.filter(
            criterion__active=True, superseded_at__isnull=True
        ).select_related("criterion")
    ]
    lanes_of = {spec.code: spec.lane for spec in specs}
    groups = _groups_by_code()
    consistency, correctness = [], []
    declarations = Declaration.objects.filter(pk__in=declaration_ids).select_related(
        "trader", "broker", "office"
    )
    selectivities = {
        s.declaration_id: s for s in Selectivity.objects.filter(declaration_id__in=declaration_ids)
    }
    stored_hits = {}
    for hit in CriterionHit.objects.filter(declaration_id__in=declaration_ids).select_related("criterion"):
        stored_hits.setdefault(hit.declaration_id, set()).add((hit.criterion.code, hit.item_number))
    items = {}
    for item in DeclarationItem.objects.filter(declaration_id__in=declaration_ids).order_by("number"):
        items.setdefault(item.declaration_id, []).append(item)
    for declaration in declarations:
        selectivity = selectivities.get(declaration.pk)
        if selectivity is None:
            consistency.append(f"declaration {declaration.pk}: no Selectivity (lane {declaration.lane!r})")
            continue
        if declaration.lane != selectivity.lane:
            consistency.append(
                f"declaration {declaration.pk}: lane {declaration.lane}, Selectivity {selectivity.lane}"
            )
        facts = declaration_facts(declaration, items.get(declaration.pk, []))
        hits = evaluate(compiled, facts)
        stored = stored_hits.get(declaration.pk, set())
        if {(hit.code, hit.item_number) for hit in hits} != stored:
            consistency.append(f"declaration {declaration.pk}: stored hits differ from evaluate's")
        profile = {key: value for key, value in selectivity.profile.items() if key != "notes"}
        lane, _source, _notes = lane_decide(
            hits=hits, draws=selectivity.random_draws, profile=profile, rules=rules
        )
        if lane != selectivity.lane:
            consistency.append(f"declaration {declaration.pk}: lane {selectivity.lane}, replayed {lane}")
        reference = _reference_hits(specs, groups, facts)
        if reference != stored:
            expected = sorted(
                (SimpleNamespace(lane=lanes_of[code]) for code, _item in reference),
                key=lambda hit: -LANE_RANK[hit.lane],
            )
            lane, _source, _notes = lane_decide(
                hits=expected, draws=selectivity.random_draws, profile=profile, rules=rules
            )
            correctness.append(
                f"declaration {declaration.pk}: stored only {sorted(stored - reference, key=str)}, "
                f"brute force only {sorted(reference - stored, key=str)}; lane {selectivity.lane}, "
                f"expected {lane}"
            )
    return consistency, correctness


def _groups_by_code() -> dict[str, frozenset[str]]:
    """Country group code -> its members' codes, read here (not through the service under test)."""
    from customs.models import CountryGroup

    members: dict[str, set[str]] = {}
    for group, country in CountryGroup.countries.through.objects.values_list(
        "countrygroup__code", "country__code"
    ):
        members.setdefault(group, set()).add(country)
    return {group: frozenset(countries) for group, countries in members.items()}


def _compiled_check(world: _World, compiled, count: int = 5000) -> None:
    """The live criteria as the service compiles them, against the same versions compiled here with
    the country groups by code: their hits on ``count`` in-memory declarations."""
    from risk.engine import compile_criteria, evaluate
    from risk.models import CriterionVersion
    from risk.services.selectivity import _groups, version_spec

    service_groups, groups = _groups(), _groups_by_code()
    if service_groups != groups:
        print(
            "    the service's country groups differ from the groups by code: "
            f"risk.services.selectivity._groups() has keys {sorted(service_groups, key=str)[:6]}, "
            f"the criteria name {sorted(groups)[:6]}"
        )
    versions = CriterionVersion.objects.filter(criterion__active=True, superseded_at__isnull=True)
    reference = compile_criteria(
        [version_spec(version) for version in versions.select_related("criterion")], groups=groups
    )
    rng = random.Random("kerwen-bench-risk-compiled-check")
    day = datetime.date.today()
    differ = 0
    for _index in range(count):
        facts = _facts_draw(world, rng, day)
        service_hits = {(hit.code, hit.item_number) for hit in evaluate(compiled, facts)}
        if service_hits != {(hit.code, hit.item_number) for hit in evaluate(reference, facts)}:
            differ += 1
    print(
        f"    the service's compiled criteria against the same compiled with groups by code, on {count:,} "
        f"in-memory declarations: {count - differ:,} agree, {differ:,} differ"
    )


def _print_replay(declaration_ids) -> None:
    consistency, correctness = _lane_replay(declaration_ids)
    checked = len(declaration_ids)
    print(
        f"    lanes replayed from what was stored: {checked - len(consistency)} of {checked} consistent; "
        f"hits checked against a brute-force evaluation: {checked - len(correctness)} agree, "
        f"{len(correctness)} differ"
    )
    for problem in (consistency + correctness)[:6]:
        print(f"      {problem}")


def _statement_key(sql: str) -> str:
    import re

    key = re.sub(r"\s+", " ", sql)
    key = re.sub(r"VALUES \(.*", "VALUES (...)", key)
    key = re.sub(r"IN \([^)]*\)", "IN (...)", key)
    return key[:140]


def bench_score(count: int = SCORE_DECLARATIONS, profile: bool = False) -> None:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from declarations.models import Declaration
    from declarations.services.lifecycle import declaration_submit
    from risk.services.selectivity import live_criteria, live_criteria_forget, selectivity_score

    print("score: selectivity_score against the database")
    world, lodgeable, _drafts = _database_ready()
    actors = _actors()
    token = _run_token()
    warm, profiled = 20, 200 if profile else 0
    rows = _submissions(
        world, lodgeable, count=count + warm + profiled, prefix=f"RISK-{token}-S", seed=f"score-{token}"
    )
    started = time.perf_counter()
    with _scoring_not_sent():
        ids = [declaration_submit(actor=actors[username], data=data).pk for username, data in rows]
    print(f"  {len(ids)} declarations submitted (not scored) in {time.perf_counter() - started:.1f} s")
    live_criteria_forget()
    started = time.perf_counter()
    compiled = live_criteria()
    print(
        f"  live criteria read and compiled from the database: {compiled.count} "
        f"in {(time.perf_counter() - started) * MS:.0f} ms"
    )
    for declaration_id in ids[:warm]:
        selectivity_score(declaration_id)
    seconds, queries, lanes = [], [], []
    spent: dict[str, list[float]] = {}

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent.setdefault(_statement_key(sql), []).append(time.perf_counter() - started)

    print(f"  ({_load()})")
    cpu_before, postgresql_before = _own_cpu(), _postgresql_cpu()
    with connection.execute_wrapper(timed):
        for declaration_id in ids[warm : warm + count]:
            reset_queries()  # CaptureQueriesContext counts in a log of 9,000 at most
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                selectivity = selectivity_score(declaration_id)
                seconds.append(time.perf_counter() - started)
            queries.append(len(captured))
            lanes.append(selectivity.lane if selectivity is not None else "none")
    scored = len(seconds)
    cpu_per_scoring = (_own_cpu() - cpu_before) / scored
    postgresql_per_scoring = (_postgresql_cpu() - postgresql_before) / scored
    print(
        f"    {_timings(f'selectivity_score, {scored} declarations:', seconds)}, "
        f"p99 {_percentile(seconds, 0.99) * MS:.1f} ms, max {max(seconds) * MS:.1f} ms "
        f"({1 / statistics.mean(seconds):.0f} scorings/s in 1 process; no target of its own: "
        "it is part of the 1 s end to end)"
    )
    print(
        f"      CPU of this process per scoring {cpu_per_scoring * MS:.1f} ms; of PostgreSQL (every process "
        f"on this machine) {postgresql_per_scoring * MS:.1f} ms"
    )
    by_lane = {}
    for lane, number in zip(lanes, queries, strict=True):
        by_lane.setdefault(lane, []).append(number)
    print(
        f"    queries per scoring: mean {statistics.mean(queries):.1f}, min {min(queries)}, "
        f"max {max(queries)}; by lane: "
        + ", ".join(
            f"{lane} {len(numbers)} declarations × {statistics.mean(numbers):.1f}"
            for lane, numbers in sorted(by_lane.items())
        )
    )
    in_database = sum(sum(times) for times in spent.values())
    print(
        f"    of the mean {statistics.mean(seconds) * MS:.2f} ms, {in_database / scored * MS:.2f} ms waiting "
        "on the statements; the costliest (ms per scoring, times per scoring, mean ms):"
    )
    for sql, times in sorted(spent.items(), key=lambda item: -sum(item[1]))[:12]:
        print(
            f"      {sum(times) / scored * MS:5.2f}  {len(times) / scored:4.2f}x  "
            f"{statistics.mean(times) * MS:5.2f}  {sql}"
        )
    hit_declarations = (
        Declaration.objects.filter(pk__in=ids[warm : warm + count], criterion_hits__isnull=False)
        .distinct()
        .count()
    )
    print(f"    declarations hit by a criterion: {hit_declarations / len(seconds):.1%}")
    _print_replay(ids[: warm + count])
    _compiled_check(world, compiled)
    if profile:
        _profile_score(ids[warm + count :])


def _profile_score(ids) -> None:
    """cProfile of scorings: the project's functions by cumulative share, then by own time."""
    import cProfile
    import io
    import pstats

    from risk.services.selectivity import selectivity_score

    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for declaration_id in ids:
        selectivity_score(declaration_id)
    profiler.disable()
    total = time.perf_counter() - started
    print(f"  profile of {len(ids)} scorings: {total / len(ids) * MS:.2f} ms each under cProfile")
    stats = pstats.Stats(profiler)
    project = ("/customs/", "/tariff/", "/declarations/", "/risk/")
    rows = []
    for (filename, line, name), (_calls, primitive, _own, cumulative, _callers) in stats.stats.items():
        if any(part in filename for part in project) and "/.venv/" not in filename:
            where = f"{filename.split('/')[-2]}/{filename.split('/')[-1]}:{line} {name}"
            rows.append((cumulative, primitive, where))
    rows.sort(reverse=True)
    print("  project functions by cumulative time (share of the total, calls per scoring):")
    for cumulative, calls, where in rows[:25]:
        print(f"    {cumulative / total:6.1%}  {calls / len(ids):6.1f}  {where}")
    buffer = io.StringIO()
    pstats.Stats(profiler, stream=buffer).sort_stats("tottime").print_stats(15)
    print("  top functions by own time:")
    print("\n".join("    " + line for line in buffer.getvalue().splitlines()[6:30] if line.strip()))


# --- end to end through the Celery worker --------------------------------------------------------------


def _worker_children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            return [int(child) for child in children.read().split()]
    except OSError:
        return []


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


# The worker's processes (``--worker-concurrency``): a scoring waits on PostgreSQL for half its time,
# so more processes than cores keep the cores busy.
WORKER = {"concurrency": 2, "pool": "prefork"}


def _start_worker(hostname: str, log):
    import subprocess

    from django.conf import settings

    environment = {**os.environ, "CELERY_QUEUE": QUEUE}
    return subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "customs",
            "worker",
            "--concurrency", str(WORKER["concurrency"]), "--pool", WORKER["pool"], "--queues", QUEUE,
            "--hostname", hostname, "--loglevel", "INFO",
        ],
        cwd=settings.BASE_DIR,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip


def _stop_worker(worker) -> str:
    """Warm shutdown (SIGTERM: the worker finishes its tasks); then check that its children are gone."""
    import subprocess

    children = _worker_children(worker.pid)
    worker.terminate()
    try:
        worker.wait(timeout=60)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait(timeout=10)
        return "killed after 60 s"
    deadline = time.monotonic() + 10
    while any(_alive(child) for child in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [child for child in children if _alive(child)]
    return f"stopped (exit {worker.returncode}); {len(left)} of its {len(children)} processes left {left}"


def _wait_ready(hostname: str, worker, seconds: float = 90) -> None:
    from customs.celery import app

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise SystemExit(f"The Celery worker exited ({worker.returncode}) before it was ready.")
        if app.control.ping(destination=[hostname], timeout=1.0):
            return
    raise SystemExit(f"The Celery worker did not answer a ping within {seconds:.0f} s.")


def _wait_lanes(ids, *, bound: float) -> tuple[int, float]:
    """Poll until every declaration of ``ids`` has a lane or ``bound`` seconds passed; returns how many
    are left without one and the seconds waited."""
    from declarations.models import Declaration

    started = time.monotonic()
    left = len(ids)
    while time.monotonic() - started < bound:
        left = Declaration.objects.filter(pk__in=ids, lane="").count()
        if not left:
            break
        time.sleep(0.25)
    return left, time.monotonic() - started


def _process_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) process ``pid`` has used, from /proc; None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(") ", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _tree_cpu(pid: int) -> float:
    """CPU seconds of process ``pid`` and of its children (the worker and its pool)."""
    return sum(_process_cpu(one) or 0.0 for one in [pid, *_worker_children(pid)])


def _postgresql_cpu() -> float:
    """CPU seconds used so far by every PostgreSQL process on this machine, those that have ended
    included (a backend's time goes to the postmaster's children's time when it exits): the backends
    of a worker that connects anew for every task live a few milliseconds, too short to be sampled.
    Other databases of the server count too, so this is an upper bound on a quiet server."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                text = stat.read()
        except OSError:
            continue
        name, fields = text[text.find("(") + 1 : text.rfind(")")], text.rsplit(") ", 1)[1].split()
        if name.startswith("postgres"):
            total += int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
    return total / os.sysconf("SC_CLK_TCK")


def _sessions_opened() -> int:
    """Connections opened to this database since its statistics were reset (PostgreSQL 14+)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


def _own_cpu() -> float:
    """CPU seconds of this process and of its children that have ended (forked submitters)."""
    import resource

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class _ActivitySampler:
    """Samples ``pg_stat_activity`` of this database every 0.1 s from a thread (its own connection):
    what the other backends wait on (the audit chain head's row lock, another row lock, the client, ...),
    and the CPU those backends use (read from /proc: PostgreSQL runs on this machine)."""

    def __init__(self):
        import threading

        self.samples = 0
        self.waiting = Counter()  # (wait_event_type, wait_event) -> backends seen waiting, summed
        self.samples_with = Counter()  # the same -> samples with at least one
        self.active = 0
        self.backend_cpu: dict[int, list[float]] = {}  # backend pid -> [CPU seconds first seen, last]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        from django.db import connection

        try:
            with connection.cursor() as cursor:
                while not self._stop.wait(0.1):
                    cursor.execute(
                        "SELECT pid, state, wait_event_type, wait_event FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                        "AND backend_type = 'client backend'"
                    )
                    self.samples += 1
                    seen = set()
                    for pid, state, wait_type, wait_event in cursor.fetchall():
                        used = _process_cpu(pid)
                        if used is not None:
                            self.backend_cpu.setdefault(pid, [used, used])[1] = used
                        if state == "active":
                            self.active += 1
                            if wait_type:
                                self.waiting[(wait_type, wait_event)] += 1
                                seen.add((wait_type, wait_event))
                    for key in seen:
                        self.samples_with[key] += 1
        finally:
            connection.close()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=10)

    def database_cpu(self) -> float:
        """CPU seconds the backends of this database used while sampled."""
        return sum(last - first for first, last in self.backend_cpu.values())

    def summary(self) -> str:
        if not self.samples:
            return "no samples"
        parts = [
            f"{wait_type}/{wait_event} {self.waiting[key] / self.samples:.2f} backends on average "
            f"(in {self.samples_with[key] / self.samples:.0%} of samples)"
            for key in sorted(self.waiting, key=lambda key: -self.waiting[key])[:4]
            for wait_type, wait_event in [key]
        ]
        return (
            f"{self.samples} samples, {self.active / self.samples:.2f} backends active on average; waiting: "
            + ("; ".join(parts) or "none")
        )


def _submit_paced(actors, rows, *, rate: float, started: float, first: int, step: int) -> list:
    """Submit ``rows[first::step]``, row ``n`` of all at ``started + n / rate`` (at once when late);
    returns (id, ``time.time()`` after ``declaration_submit`` returned, ``lodged_at``, seconds the
    call took) of each."""
    from declarations.services.lifecycle import declaration_submit

    submitted = []
    for index in range(first, len(rows), step):
        username, data = rows[index]
        pause = started + index / rate - time.time()
        if pause > 0:
            time.sleep(pause)
        called = time.perf_counter()
        declaration = declaration_submit(actor=actors[username], data=data)
        took = time.perf_counter() - called
        submitted.append((declaration.pk, time.time(), declaration.lodged_at.timestamp(), took))
    return submitted


def _submitter(actors, rows, rate, started, first, step, results) -> None:
    from django.db import connections

    connections.close_all()  # never share the parent's connection
    try:
        results.put((_submit_paced(actors, rows, rate=rate, started=started, first=first, step=step), None))
    except BaseException as error:  # report, never leave the parent waiting
        results.put(([], repr(error)))
    finally:
        connections.close_all()


def _submit_in_processes(actors, rows, *, rate: float, started: float, processes: int) -> list:
    """The same pacing shared by ``processes`` forked submitters (row ``n`` by process ``n % processes``),
    for when one process cannot submit at ``rate``."""
    import multiprocessing

    from django.db import connections

    connections.close_all()
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    children = [
        context.Process(target=_submitter, args=(actors, rows, rate, started, first, processes, results))
        for first in range(processes)
    ]
    for child in children:
        child.start()
    outcomes = [results.get(timeout=3600) for _child in children]
    for child in children:
        child.join()
    errors = [error for _submitted, error in outcomes if error]
    if errors:
        raise SystemExit(f"A submitting process failed: {errors[0]}")
    return [row for submitted, _error in outcomes for row in submitted]


def bench_e2e(rate: int = E2E_RATE, seconds: int = E2E_SECONDS, submitters: int = 1) -> None:
    import re
    import socket
    import tempfile

    from customs.celery import app
    from declarations.models import Declaration
    from declarations.services.lifecycle import declaration_submit
    from risk.services.selectivity import live_criteria

    print(
        f"e2e: declaration_submit at {rate}/s for {seconds} s from {submitters} process(es), "
        f"lanes given by a Celery worker on queue {QUEUE}"
    )
    world, lodgeable, _drafts = _database_ready()
    actors = _actors()
    token = _run_token()
    count = rate * seconds
    warm = 40
    rows = _submissions(world, lodgeable, count=count + warm, prefix=f"RISK-{token}-E", seed=f"e2e-{token}")
    live_criteria()  # this process's submits do not score, but the same code is warm
    purged = app.control.purge()
    hostname = f"bench-risk-{os.getpid()}@{socket.gethostname()}"
    log = tempfile.NamedTemporaryFile("w+", prefix="kerwen-bench-risk-worker-", suffix=".log", delete=False)
    worker = _start_worker(hostname, log)
    try:
        _wait_ready(hostname, worker)
        print(
            "  worker: celery -A customs worker "
            f"--concurrency {WORKER['concurrency']} "
            f"--pool {WORKER['pool']} --queues {QUEUE} "
            f"(pid {worker.pid}, {len(_worker_children(worker.pid))} children; {purged} stale tasks purged); "
            f"log {log.name}"
        )
        # Warm-up: both pool processes compile the live criteria and load the tariff once.
        warm_ids = []
        for username, data in rows[:warm]:
            warm_ids.append(declaration_submit(actor=actors[username], data=data).pk)
            time.sleep(1 / rate)
        left, waited = _wait_lanes(warm_ids, bound=120)
        print(f"  warm-up: {warm} declarations, {warm - left} with a lane after {waited:.1f} s")
        print(f"  ({_load()} at the start)")
        started = time.time() + 0.5
        cpu_before = _own_cpu(), _tree_cpu(worker.pid)
        postgresql_before, sessions_before = _postgresql_cpu(), _sessions_opened()
        with _ActivitySampler() as activity:
            if submitters == 1:
                submitted = _submit_paced(actors, rows[warm:], rate=rate, started=started, first=0, step=1)
            else:
                submitted = _submit_in_processes(
                    actors, rows[warm:], rate=rate, started=started, processes=submitters
                )
            committed = {pk: at for pk, at, _lodged, _took in submitted}
            lodged_started = {pk: lodged for pk, _at, lodged, _took in submitted}
            finished = max(committed.values())
            load_after_submits = _load()
            left, waited = _wait_lanes(list(committed), bound=E2E_LANE_BOUND_SECONDS)
            cpu_after = _own_cpu(), _tree_cpu(worker.pid)
            postgresql_used = _postgresql_cpu() - postgresql_before
        sessions = _sessions_opened() - sessions_before
        achieved = count / (finished - started)
        rate_reached = achieved >= rate * 0.98
        print(f"  ({load_after_submits} at the end of the submits)")
        print(
            f"    submitted {count} declarations in {finished - started:.1f} s: "
            f"{achieved:.1f} declarations/s [target {rate}/s sustained {seconds} s] {_verdict(rate_reached)}"
        )
        print("      " + _timings("declaration_submit itself", [row[3] for row in submitted]))
        assigned = dict(
            Declaration.objects.filter(pk__in=list(committed))
            .exclude(lane="")
            .values_list("pk", "lane_assigned_at")
        )
        latencies = sorted(assigned[pk].timestamp() - committed[pk] for pk in committed if pk in assigned)
        from_lodged = sorted(
            assigned[pk].timestamp() - lodged_started[pk] for pk in committed if pk in assigned
        )
        if latencies:
            p95 = _percentile(latencies, 0.95)
            verdict = _verdict(p95 <= E2E_TARGET_P95_SECONDS and not left and rate_reached)
            if p95 <= E2E_TARGET_P95_SECONDS and not left and not rate_reached:
                verdict += f" (met at {achieved:.0f}/s only: the submits did not reach {rate}/s)"
            print(
                f"    lodgement to lane (lane_assigned_at − submit returned), {len(latencies)} declarations: "
                f"median {statistics.median(latencies) * MS:.0f} ms, p95 {p95 * MS:.0f} ms "
                f"[target ≤ {E2E_TARGET_P95_SECONDS * MS:.0f} ms at {rate}/s] {verdict}, "
                f"p99 {_percentile(latencies, 0.99) * MS:.0f} ms, max {latencies[-1] * MS:.0f} ms"
            )
            print(
                f"      from lodged_at (start of the submit transaction): median "
                f"{statistics.median(from_lodged) * MS:.0f} ms, "
                f"p95 {_percentile(from_lodged, 0.95) * MS:.0f} ms, max {from_lodged[-1] * MS:.0f} ms"
            )
            windows = {}
            for pk, at in committed.items():
                if pk in assigned:
                    windows.setdefault(int((at - started) // 10), []).append(assigned[pk].timestamp() - at)
            print(
                "      p95 by 10 s of submits: "
                + ", ".join(
                    f"{n * 10}-{n * 10 + 10} s {_percentile(v, 0.95) * MS:.0f} ms"
                    for n, v in sorted(windows.items())
                )
            )
        print(
            f"    without a lane {E2E_LANE_BOUND_SECONDS} s after the last submit: {left} "
            f"(all had one {waited:.1f} s after it)" if not left else
            f"    without a lane {E2E_LANE_BOUND_SECONDS} s after the last submit: {left} MISS"
        )  # fmt: skip
        lanes = Counter(Declaration.objects.filter(pk__in=list(committed)).values_list("lane", flat=True))
        print(f"    database backends during the run (pg_stat_activity): {activity.summary()}")
        submit_cpu, worker_cpu = (after - before for after, before in zip(cpu_after, cpu_before, strict=True))
        database_cpu = activity.database_cpu()
        total_cpu = submit_cpu + worker_cpu + database_cpu
        print(
            f"    CPU per declaration: submitting {submit_cpu / count * MS:.1f} ms, worker "
            f"{worker_cpu / count * MS:.1f} ms, PostgreSQL backends of this database "
            f"{database_cpu / count * MS:.1f} ms; {total_cpu / count * MS:.1f} ms in all, so {rate}/s "
            f"needs {total_cpu / count * rate:.2f} of the {os.cpu_count()} cores"
        )
        total_cpu = submit_cpu + worker_cpu + postgresql_used
        print(
            "      counting every PostgreSQL process, ended backends included: "
            f"{postgresql_used / count * MS:.1f} ms per declaration; {total_cpu / count * MS:.1f} ms in all, "
            f"{total_cpu / count * rate:.2f} cores at {rate}/s; {sessions} connections opened to the "
            "database during the run "
            f"({sessions / count:.2f} per declaration)"
        )
        _print_replay(sorted(committed)[:500])
        print("    lanes: " + ", ".join(f"{lane or 'none'} {n}" for lane, n in lanes.most_common()))
    finally:
        print(f"  worker {_stop_worker(worker)}")
        log.flush()
        with open(log.name) as worker_log:
            text = worker_log.read()
        failures = text.count("raised unexpected") + text.count("Traceback")
        task_seconds = [float(value) for value in re.findall(r"succeeded in ([0-9.]+)s", text)]
        print(
            f"  worker log: {len(task_seconds)} tasks succeeded, {failures} failures or tracebacks"
            + (f"; {_timings('task run time', task_seconds)}" if task_seconds else "")
        )
        if failures:
            first = text[text.find("Traceback") if "Traceback" in text else text.find("raised unexpected") :]
            print("    " + "\n    ".join(first.splitlines()[:25]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("benchmarks", nargs="*", default=["all"], help="evaluate, score, e2e, all")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of the evaluation")
    parser.add_argument("--declarations", type=int, default=EVALUATE_DECLARATIONS, help="evaluated per round")
    parser.add_argument("--score-count", type=int, default=SCORE_DECLARATIONS, help="declarations scored")
    parser.add_argument("--rate", type=int, default=E2E_RATE, help="e2e declarations per second")
    parser.add_argument("--seconds", type=int, default=E2E_SECONDS, help="e2e duration")
    parser.add_argument(
        "--submitters",
        type=int,
        default=1,
        help="e2e processes sharing the paced submits (default: this one)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="cProfile of the evaluation (even on a PASS) and of scoring"
    )
    parser.add_argument("--keep-criteria", action="store_true", help="leave the benchmark criteria live")
    parser.add_argument(
        "--worker-concurrency", type=int, default=WORKER["concurrency"], help="e2e worker processes"
    )
    parser.add_argument(
        "--worker-pool",
        default=WORKER["pool"],
        choices=["prefork", "threads", "solo"],
        help="e2e worker pool",
    )
    arguments = parser.parse_args()
    WORKER["concurrency"] = arguments.worker_concurrency
    WORKER["pool"] = arguments.worker_pool
    chosen = set(arguments.benchmarks)
    unknown = chosen - {"evaluate", "score", "e2e", "all"}
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    os.environ["CELERY_QUEUE"] = QUEUE  # this process sends to the benchmark worker's queue only
    _setup()
    if chosen & {"evaluate", "all"}:
        bench_evaluate(count=arguments.declarations, rounds=arguments.rounds, profile=arguments.profile)
    try:
        if chosen & {"score", "all"}:
            bench_score(count=arguments.score_count, profile=arguments.profile)
        if chosen & {"e2e", "all"}:
            bench_e2e(rate=arguments.rate, seconds=arguments.seconds, submitters=arguments.submitters)
    finally:
        if chosen & {"score", "e2e", "all"} and not arguments.keep_criteria:
            print(f"benchmark criteria taken down: {_criteria_take_down()}")


if __name__ == "__main__":
    main()
