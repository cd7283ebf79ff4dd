"""The selectivity engine on its own (no database): every kind of condition hitting and not hitting, item
conditions on one item, validity and office scope, the anchoring of criteria (checked against a naive
loop over every criterion), and the errors of ``conditions_parse``."""

import datetime
import random
from decimal import Decimal

import pytest

from risk.choices import ITEM_KINDS, LANE_RANK, OPERATORS
from risk.engine import (
    ConditionError,
    CriterionSpec,
    DeclarationFacts,
    ItemFacts,
    compile_criteria,
    conditions_parse,
    evaluate,
    explanation_text,
)

D = Decimal
DAY = datetime.date(2026, 6, 15)
CAR, FISH, PISTOL = "8703231900", "0303891000", "9302000000"
GROUPS = {"CIS_FTA": frozenset({"KZ", "RU"}), "EU": frozenset({"DE", "FR"})}
TRADER = frozenset({"101012345678", "altyn asyr hj"})
FOREIGN = frozenset({"shanghai motors ltd"})
BROKER = frozenset({"br-0001", "ak yol brokers"})


def condition(kind, operator, *values):
    return {"kind": kind, "operator": operator, "values": list(values)}


def item(number=1, **overrides) -> ItemFacts:
    """A car from China under 4000, 10 TMT per kg, 35,000 TMT per unit, no preference."""
    values = {
        "commodity_code": CAR,
        "origin": "CN",
        "procedure": "4000",
        "value_per_kg": D("10.00"),
        "value_per_unit": D("35000"),
        "preference": False,
    }
    values.update(overrides)
    return ItemFacts(number=number, **values)


def facts(*items, **overrides) -> DeclarationFacts:
    """An IM4 of trader A at TMA01, lodged by broker BR-0001, CIF, by road."""
    values = {
        "office": "TMA01",
        "declaration_type": "IM4",
        "day": DAY,
        "importer": TRADER,
        "exporter": FOREIGN,
        "declarant": BROKER,
        "incoterm": "CIF",
        "transport_mode": "3",
        "items": items or (item(),),
    }
    values.update(overrides)
    return DeclarationFacts(**values)


def spec(conditions, *, code="C1", lane="red", version_id=1, **extra) -> CriterionSpec:
    return CriterionSpec(
        version_id=version_id,
        criterion_id=version_id,
        code=code,
        lane=lane,
        conditions=tuple(conditions_parse(conditions)),
        valid_from=extra.pop("valid_from", datetime.date(2020, 1, 1)),
        **extra,
    )


def hits(conditions, declaration_facts, **extra) -> list[tuple[str, int | None]]:
    """(code, item number) of the hits of one criterion with ``conditions``."""
    compiled = compile_criteria([spec(conditions, **extra)], groups=GROUPS)
    return [(hit.code, hit.item_number) for hit in evaluate(compiled, declaration_facts)]


# (condition, the facts, hits?) for every kind and operator, hitting and not hitting.
KIND_CASES = [
    ("commodity starts_with hits", condition("commodity_code", "starts_with", "8703"), facts(), True),
    ("commodity starts_with 2 digits", condition("commodity_code", "starts_with", "87"), facts(), True),
    (
        "commodity starts_with one of",
        condition("commodity_code", "starts_with", "03", "8703 23"),
        facts(),
        True,
    ),
    ("commodity starts_with misses", condition("commodity_code", "starts_with", "0303"), facts(), False),
    ("commodity starts_with longer", condition("commodity_code", "starts_with", CAR + "1"), facts(), False),
    ("commodity in hits", condition("commodity_code", "in", FISH, CAR), facts(), True),
    ("commodity in is not a prefix", condition("commodity_code", "in", "8703"), facts(), False),
    ("commodity not_in hits", condition("commodity_code", "not_in", FISH), facts(), True),
    ("commodity not_in misses", condition("commodity_code", "not_in", CAR), facts(), False),
    ("origin in hits", condition("origin", "in", "DE", "cn"), facts(), True),
    ("origin in misses", condition("origin", "in", "DE"), facts(), False),
    ("origin not_in hits", condition("origin", "not_in", "DE"), facts(), True),
    ("origin not_in misses", condition("origin", "not_in", "CN"), facts(), False),
    ("origin group in hits", condition("origin_group", "in", "CIS_FTA"), facts(item(origin="KZ")), True),
    ("origin group in misses", condition("origin_group", "in", "CIS_FTA"), facts(), False),
    ("origin group unknown misses", condition("origin_group", "in", "NOPE"), facts(), False),
    ("origin group not_in hits", condition("origin_group", "not_in", "CIS_FTA"), facts(), True),
    (
        "origin group not_in misses",
        condition("origin_group", "not_in", "EU"),
        facts(item(origin="DE")),
        False,
    ),
    ("procedure starts_with hits", condition("procedure", "starts_with", "40"), facts(), True),
    ("procedure starts_with misses", condition("procedure", "starts_with", "10"), facts(), False),
    ("procedure in hits", condition("procedure", "in", "4000"), facts(), True),
    ("procedure in misses", condition("procedure", "in", "4091"), facts(), False),
    (
        "procedure in additional",
        condition("procedure", "in", "4000c01"),
        facts(item(procedure="4000C01")),
        True,
    ),
    ("procedure not_in hits", condition("procedure", "not_in", "4091"), facts(), True),
    ("procedure not_in misses", condition("procedure", "not_in", "4000"), facts(), False),
    ("per kg below hits", condition("value_per_kg", "below", "10.01"), facts(), True),
    ("per kg below is strict", condition("value_per_kg", "below", "10"), facts(), False),
    ("per kg below unknown", condition("value_per_kg", "below", "10"), facts(item(value_per_kg=None)), False),
    ("per kg above hits", condition("value_per_kg", "above", "9,99"), facts(), True),
    ("per kg above is strict", condition("value_per_kg", "above", "10"), facts(), False),
    ("per unit below hits", condition("value_per_unit", "below", "40000"), facts(), True),
    ("per unit below misses", condition("value_per_unit", "below", "35000"), facts(), False),
    ("per unit above hits", condition("value_per_unit", "above", "30000"), facts(), True),
    ("per unit above misses", condition("value_per_unit", "above", "35000"), facts(), False),
    (
        "per unit above unknown",
        condition("value_per_unit", "above", "0"),
        facts(item(value_per_unit=None)),
        False,
    ),
    ("preference yes hits", condition("preference", "is", "yes"), facts(item(preference=True)), True),
    ("preference yes misses", condition("preference", "is", "yes"), facts(), False),
    ("preference no hits", condition("preference", "is", "no"), facts(), True),
    ("preference no misses", condition("preference", "is", "false"), facts(item(preference=True)), False),
    ("exporter in hits", condition("exporter", "in", "Shanghai  MOTORS Ltd"), facts(), True),
    ("exporter in misses", condition("exporter", "in", "Altyn Asyr HJ"), facts(), False),
    ("exporter not_in hits", condition("exporter", "not_in", "Other Ltd"), facts(), True),
    ("exporter not_in misses", condition("exporter", "not_in", "shanghai motors ltd"), facts(), False),
    ("importer in by taxpayer ID", condition("importer", "in", "101012345678"), facts(), True),
    ("importer in by name", condition("importer", "in", "ALTYN ASYR HJ"), facts(), True),
    ("importer in misses", condition("importer", "in", "101098765432"), facts(), False),
    ("importer not_in hits", condition("importer", "not_in", "101098765432"), facts(), True),
    ("importer not_in misses", condition("importer", "not_in", "101012345678"), facts(), False),
    ("declarant broker licence", condition("declarant", "in", "BR-0001"), facts(), True),
    ("declarant broker misses", condition("declarant", "in", "BR-0002"), facts(), False),
    ("declarant self hits", condition("declarant", "in", "101012345678"), facts(declarant=TRADER), True),
    ("declarant self misses", condition("declarant", "in", "101012345678"), facts(), False),
    ("declarant not_in hits", condition("declarant", "not_in", "BR-0002"), facts(), True),
    ("declarant not_in misses", condition("declarant", "not_in", "br-0001"), facts(), False),
    ("office in hits", condition("office", "in", "tma01", "TMT01"), facts(), True),
    ("office in misses", condition("office", "in", "TMT01"), facts(), False),
    ("office not_in hits", condition("office", "not_in", "TMT01"), facts(), True),
    ("office not_in misses", condition("office", "not_in", "TMA01"), facts(), False),
    ("incoterm in hits", condition("incoterm", "in", "cif"), facts(), True),
    ("incoterm in misses", condition("incoterm", "in", "FOB"), facts(), False),
    ("incoterm not_in hits", condition("incoterm", "not_in", "FOB"), facts(), True),
    ("incoterm not_in misses", condition("incoterm", "not_in", "CIF"), facts(), False),
    ("transport in hits", condition("transport_mode", "in", "3"), facts(), True),
    ("transport in misses", condition("transport_mode", "in", "1"), facts(), False),
    ("transport not_in hits", condition("transport_mode", "not_in", "1"), facts(), True),
    ("transport not_in misses", condition("transport_mode", "not_in", "3"), facts(), False),
    ("items above hits", condition("item_count", "above", "1"), facts(item(1), item(2)), True),
    ("items above is strict", condition("item_count", "above", "2"), facts(item(1), item(2)), False),
    ("items below hits", condition("item_count", "below", "2"), facts(), True),
    ("items below misses", condition("item_count", "below", "1"), facts(), False),
    ("type in hits", condition("declaration_type", "in", "im4"), facts(), True),
    ("type in misses", condition("declaration_type", "in", "EX1"), facts(), False),
    ("type not_in hits", condition("declaration_type", "not_in", "EX1"), facts(), True),
    ("type not_in misses", condition("declaration_type", "not_in", "IM4"), facts(), False),
]


@pytest.mark.parametrize(
    ("raw", "declaration_facts", "expected"),
    [case[1:] for case in KIND_CASES],
    ids=[case[0] for case in KIND_CASES],
)
def test_each_kind_of_condition_hits_exactly_when_it_holds(raw, declaration_facts, expected):
    found = hits([raw], declaration_facts)

    item_number = 1 if raw["kind"] in ITEM_KINDS else None
    assert found == ([("C1", item_number)] if expected else [])


def test_every_kind_and_operator_has_a_hitting_and_a_missing_case():
    covered = {(case[1]["kind"], case[1]["operator"], case[3]) for case in KIND_CASES}
    expected = {
        (kind, operator, hit) for kind, ops in OPERATORS.items() for operator in ops for hit in (True, False)
    }
    assert expected - covered == set()


def test_a_hit_explains_each_condition_with_the_declaration_s_own_values():
    compiled = compile_criteria(
        [
            spec(
                [
                    condition("commodity_code", "starts_with", "8703"),
                    condition("value_per_kg", "below", "12"),
                    condition("importer", "in", "101012345678"),
                ],
                lane="yellow",
            )
        ]
    )

    (hit,) = evaluate(compiled, facts(item(1, commodity_code=FISH), item(2, value_per_kg=D("3.456"))))

    assert (hit.code, hit.lane, hit.item_number, hit.version_id) == ("C1", "yellow", 2, 1)
    assert hit.explanation == (
        {"kind": "commodity_code", "operator": "starts_with", "values": ["8703"], "actual": CAR},
        {"kind": "value_per_kg", "operator": "below", "values": ["12"], "actual": "3.46"},
        {
            "kind": "importer",
            "operator": "in",
            "values": ["101012345678"],
            "actual": "101012345678, altyn asyr hj",
        },
    )


def test_item_conditions_must_hold_on_the_same_item_under_a_commodity_anchor():
    conditions = [condition("commodity_code", "starts_with", "8703"), condition("origin", "in", "DE")]

    assert hits(conditions, facts(item(1, origin="CN"), item(2, commodity_code=FISH, origin="DE"))) == []
    assert hits(conditions, facts(item(1, commodity_code=FISH, origin="DE"), item(2, origin="DE"))) == [
        ("C1", 2)
    ]


def test_item_conditions_must_hold_on_the_same_item_under_an_origin_anchor():
    conditions = [condition("origin", "in", "DE"), condition("value_per_kg", "below", "5")]

    assert hits(conditions, facts(item(1, origin="DE"), item(2, value_per_kg=D("3")))) == []
    assert hits(conditions, facts(item(1), item(2, origin="DE", value_per_kg=D("3")))) == [("C1", 2)]


def test_item_conditions_must_hold_on_the_same_item_without_an_item_anchor():
    conditions = [condition("importer", "in", "101012345678"), condition("preference", "is", "yes")]
    everywhere = [condition("value_per_kg", "below", "5"), condition("preference", "is", "yes")]

    assert hits(conditions, facts(item(1, preference=True, value_per_kg=D("9")))) == [("C1", 1)]
    assert hits(everywhere, facts(item(1, preference=True), item(2, value_per_kg=D("3")))) == []
    assert hits(everywhere, facts(item(1), item(2, value_per_kg=D("3"), preference=True), item(3))) == [
        ("C1", 2)
    ]


def test_a_criterion_hits_a_declaration_once_on_its_first_matching_item():
    conditions = [condition("commodity_code", "starts_with", "87", "8703"), condition("origin", "in", "CN")]

    assert hits(conditions, facts(item(1, commodity_code=FISH), item(2), item(3))) == [("C1", 2)]


def test_header_and_item_conditions_must_all_hold():
    conditions = [condition("commodity_code", "starts_with", "8703"), condition("incoterm", "in", "FOB")]

    assert hits(conditions, facts()) == []
    assert hits(conditions, facts(incoterm="FOB")) == [("C1", 1)]


@pytest.mark.parametrize(
    ("valid_from", "valid_to", "expected"),
    [
        (datetime.date(2026, 6, 15), None, True),
        (datetime.date(2026, 6, 16), None, False),
        (datetime.date(2026, 1, 1), datetime.date(2026, 6, 15), True),
        (datetime.date(2026, 1, 1), datetime.date(2026, 6, 14), False),
    ],
    ids=["starts that day", "starts the next day", "ends that day", "ended the day before"],
)
def test_a_criterion_applies_on_the_days_of_its_validity(valid_from, valid_to, expected):
    compiled = compile_criteria(
        [spec([condition("origin", "in", "CN")], valid_from=valid_from, valid_to=valid_to)]
    )

    assert bool(evaluate(compiled, facts())) is expected
    assert len(evaluate(compiled, facts(), check_validity=False)) == 1  # a backtest ignores validity


@pytest.mark.parametrize(
    "conditions",
    [
        [condition("commodity_code", "starts_with", "8703")],
        [condition("origin", "in", "CN")],
        [condition("importer", "in", "101012345678")],
        [condition("office", "in", "TMA01", "TMT01")],
        [condition("value_per_kg", "above", "1")],
    ],
    ids=["prefix", "origin", "party", "office", "everywhere"],
)
def test_the_office_scope_limits_a_criterion_whatever_its_anchor(conditions):
    at_both = compile_criteria([spec(conditions, offices=frozenset({"TMA01", "TMT01"}))])
    elsewhere = compile_criteria([spec(conditions, offices=frozenset({"TMT01"}))])

    assert [hit.code for hit in evaluate(at_both, facts())] == ["C1"]
    assert evaluate(elsewhere, facts()) == []
    assert [hit.code for hit in evaluate(elsewhere, facts(office="TMT01"))] == ["C1"]


def _anchored(compiled) -> dict[str, set[str]]:
    return {
        "prefix": set(compiled.by_prefix),
        "origin": set(compiled.by_origin),
        "party": set(compiled.by_party),
        "office": set(compiled.by_office),
        "everywhere": {criterion.code for criterion in compiled.everywhere},
    }


ANCHOR_CASES = [
    # (name, conditions, where it is filed, facts where it holds, the item it hits, facts where it does not)
    (
        "prefix",
        [condition("origin", "in", "CN"), condition("commodity_code", "starts_with", "8703", "0303")],
        {"prefix": {"8703", "0303"}, "origin": set(), "party": set(), "office": set(), "everywhere": set()},
        facts(item(1, commodity_code=PISTOL), item(2, commodity_code=FISH)),
        2,
        facts(item(1, commodity_code=PISTOL), item(2, commodity_code=FISH, origin="DE")),
    ),
    (
        "origin group",
        [condition("origin_group", "in", "CIS_FTA"), condition("commodity_code", "not_in", FISH)],
        {"prefix": set(), "origin": {"KZ", "RU"}, "party": set(), "office": set(), "everywhere": set()},
        facts(item(1, origin="RU", commodity_code=FISH), item(2, origin="KZ")),
        2,
        facts(item(1, origin="RU", commodity_code=FISH), item(2, origin="CN")),
    ),
    (
        "party",
        [condition("incoterm", "in", "CIF"), condition("declarant", "in", "BR-0001")],
        {"prefix": set(), "origin": set(), "party": {"br-0001"}, "office": set(), "everywhere": set()},
        facts(),
        None,
        facts(incoterm="FOB"),
    ),
    (
        "office",
        [condition("transport_mode", "not_in", "1"), condition("office", "in", "TMA01")],
        {"prefix": set(), "origin": set(), "party": set(), "office": {"TMA01"}, "everywhere": set()},
        facts(),
        None,
        facts(transport_mode="1"),
    ),
    (
        "everywhere",
        [condition("origin", "not_in", "DE"), condition("item_count", "below", "3")],
        {"prefix": set(), "origin": set(), "party": set(), "office": set(), "everywhere": {"C1"}},
        facts(item(1, origin="DE"), item(2)),
        2,
        facts(item(1), item(2), item(3)),
    ),
]


@pytest.mark.parametrize(
    ("conditions", "anchors", "holding", "item_number", "missing"),
    [case[1:] for case in ANCHOR_CASES],
    ids=[case[0] for case in ANCHOR_CASES],
)
def test_a_criterion_filed_under_its_anchor_hits_exactly_when_its_conditions_hold(
    conditions, anchors, holding, item_number, missing
):
    compiled = compile_criteria([spec(conditions)], groups=GROUPS)

    assert _anchored(compiled) == anchors
    assert [(hit.code, hit.item_number) for hit in evaluate(compiled, holding)] == [("C1", item_number)]
    assert evaluate(compiled, missing) == []


def test_hits_come_highest_lane_first():
    compiled = compile_criteria(
        [
            spec([condition("origin", "in", "CN")], code="B", lane="blue", version_id=1),
            spec([condition("commodity_code", "starts_with", "87")], code="R", lane="red", version_id=2),
            spec([condition("office", "in", "TMA01")], code="Y", lane="yellow", version_id=3),
            spec([condition("item_count", "above", "0")], code="A", lane="red", version_id=4),
        ]
    )

    assert [(hit.code, hit.lane) for hit in evaluate(compiled, facts())] == [
        ("A", "red"),
        ("R", "red"),
        ("Y", "yellow"),
        ("B", "blue"),
    ]


# The randomized equivalence: the compiled evaluation against a naive loop over every criterion.

CODES = [CAR, "8703239000", FISH, PISTOL, "6109100000", "8471300000", ""]
COUNTRIES = ["CN", "DE", "KZ", "RU", "TM", "FR", ""]
PROCEDURES = ["4000", "4091", "4000C01", "1000", "4200"]
OFFICES = ["TMA01", "TMT01", "TMF01"]
PARTIES = [
    "101012345678",
    "altyn asyr hj",
    "101098765432",
    "br-0001",
    "br-0002",
    "shanghai motors ltd",
    "x ltd",
]
INCOTERMS = ["CIF", "FOB", "EXW"]
MODES = ["1", "3", "4"]
TYPES = ["IM4", "IM5", "EX1"]
THRESHOLDS = ["0", "1", "5", "10", "50", "1000", "35000"]


def _random_condition(rng: random.Random) -> dict:
    kind = rng.choice(
        [
            "commodity_code",
            "origin",
            "origin_group",
            "procedure",
            "value_per_kg",
            "value_per_unit",
            "preference",
            "exporter",
            "importer",
            "declarant",
            "office",
            "incoterm",
            "transport_mode",
            "item_count",
            "declaration_type",
        ]
    )
    pick = lambda pool: rng.sample([value for value in pool if value], rng.randint(1, 2))  # noqa: E731
    if kind == "commodity_code":
        operator = rng.choice(["starts_with", "starts_with", "in", "not_in"])
        if operator == "starts_with":
            values = [code[: rng.choice([2, 4, 6, 10])] for code in pick(CODES)]
        else:
            values = pick(CODES)
    elif kind == "procedure":
        operator = rng.choice(["starts_with", "in", "not_in"])
        values = [code[:2] for code in pick(PROCEDURES)] if operator == "starts_with" else pick(PROCEDURES)
    elif kind in ("value_per_kg", "value_per_unit", "item_count"):
        operator = rng.choice(["below", "above"])
        values = [rng.choice(THRESHOLDS if kind != "item_count" else ["0", "1", "2", "3"])]
    elif kind == "preference":
        operator, values = "is", [rng.choice(["yes", "no"])]
    else:
        operator = rng.choice(["in", "in", "not_in"])
        pool = {
            "origin": COUNTRIES,
            "origin_group": ["CIS_FTA", "EU", "EMPTY"],
            "exporter": PARTIES,
            "importer": PARTIES,
            "declarant": PARTIES,
            "office": OFFICES,
            "incoterm": INCOTERMS,
            "transport_mode": MODES,
            "declaration_type": TYPES,
        }[kind]
        values = pick(pool)
    return condition(kind, operator, *values)


def _random_spec(rng: random.Random, number: int) -> CriterionSpec:
    conditions = [_random_condition(rng) for _ in range(rng.choice([1, 1, 2, 2, 3]))]
    valid_from = datetime.date(2026, rng.choice([1, 6, 7]), 1)
    valid_to = rng.choice([None, None, datetime.date(2026, 6, 30), datetime.date(2026, 6, 10)])
    if valid_to is not None and valid_to < valid_from:
        valid_to = None
    offices = frozenset(rng.sample(OFFICES, rng.choice([0, 0, 0, 1, 2])))
    return spec(
        conditions,
        code=f"R{number:04d}",
        lane=rng.choice(["red", "yellow", "blue"]),
        version_id=number,
        valid_from=valid_from,
        valid_to=valid_to,
        offices=offices,
    )


def _random_facts(rng: random.Random) -> DeclarationFacts:
    items = tuple(
        ItemFacts(
            number=number,
            commodity_code=rng.choice(CODES),
            origin=rng.choice(COUNTRIES),
            procedure=rng.choice(PROCEDURES),
            value_per_kg=rng.choice([None, D("0.5"), D("5"), D("9.99"), D("120")]),
            value_per_unit=rng.choice([None, D("1"), D("35000"), D("99999")]),
            preference=rng.random() < 0.3,
        )
        for number in range(1, rng.randint(1, 4) + 1)
    )
    party = lambda: frozenset(rng.sample(PARTIES, rng.randint(0, 2)))  # noqa: E731
    return DeclarationFacts(
        office=rng.choice(OFFICES),
        declaration_type=rng.choice(TYPES),
        day=rng.choice([datetime.date(2026, 6, 15), datetime.date(2026, 7, 15)]),
        importer=party(),
        exporter=party(),
        declarant=party(),
        incoterm=rng.choice(INCOTERMS),
        transport_mode=rng.choice(MODES),
        items=items,
    )


def _naive_holds(condition, value, groups) -> bool:
    """One condition against one fact, written out plainly."""
    kind, operator, values = condition.kind, condition.operator, condition.values
    if kind in ("value_per_kg", "value_per_unit", "item_count"):
        if value is None:
            return False
        return value < D(values[0]) if operator == "below" else value > D(values[0])
    if kind == "preference":
        return value == (values[0] == "yes")
    if kind == "origin_group":
        inside = any(value in groups.get(group, ()) for group in values)
        return inside if operator == "in" else not inside
    if kind in ("importer", "exporter", "declarant"):
        inside = any(party in value for party in values)
        return inside if operator == "in" else not inside
    if operator == "starts_with":
        return any(value.startswith(prefix) for prefix in values)
    return (value in values) if operator == "in" else (value not in values)


def _naive_evaluate(specs, declaration_facts, groups) -> list[tuple[str, str, int | None]]:
    found = []
    for criterion in specs:
        if criterion.offices and declaration_facts.office not in criterion.offices:
            continue
        if declaration_facts.day < criterion.valid_from:
            continue
        if criterion.valid_to is not None and declaration_facts.day > criterion.valid_to:
            continue
        header = [c for c in criterion.conditions if c.kind not in ITEM_KINDS]
        on_item = [c for c in criterion.conditions if c.kind in ITEM_KINDS]
        header_values = {
            "importer": declaration_facts.importer,
            "exporter": declaration_facts.exporter,
            "declarant": declaration_facts.declarant,
            "office": declaration_facts.office,
            "incoterm": declaration_facts.incoterm,
            "transport_mode": declaration_facts.transport_mode,
            "declaration_type": declaration_facts.declaration_type,
            "item_count": len(declaration_facts.items),
        }
        if not all(_naive_holds(c, header_values[c.kind], groups) for c in header):
            continue
        if not on_item:
            found.append((criterion.code, criterion.lane, None))
            continue
        for each in declaration_facts.items:
            item_values = {
                "commodity_code": each.commodity_code,
                "origin": each.origin,
                "origin_group": each.origin,
                "procedure": each.procedure,
                "value_per_kg": each.value_per_kg,
                "value_per_unit": each.value_per_unit,
                "preference": each.preference,
            }
            if all(_naive_holds(c, item_values[c.kind], groups) for c in on_item):
                found.append((criterion.code, criterion.lane, each.number))
                break
    return sorted(found, key=lambda hit: (-LANE_RANK[hit[1]], hit[0]))


def test_the_compiled_evaluation_equals_a_naive_loop_over_every_criterion():
    rng = random.Random(20261201)
    groups = {**GROUPS, "EMPTY": frozenset()}
    specs = [_random_spec(rng, number) for number in range(1, 1001)]
    compiled = compile_criteria(specs, groups=groups)
    declarations = [_random_facts(rng) for _ in range(400)]

    differences = []
    total_hits = 0
    for declaration_facts in declarations:
        expected = _naive_evaluate(specs, declaration_facts, groups)
        actual = [(hit.code, hit.lane, hit.item_number) for hit in evaluate(compiled, declaration_facts)]
        total_hits += len(expected)
        if actual != expected:
            differences.append((declaration_facts, sorted(set(actual) ^ set(expected))))

    assert compiled.count == 1000
    assert all(compiled.by_prefix.values()) and compiled.everywhere  # every anchor is in use
    assert compiled.by_origin and compiled.by_party and compiled.by_office
    assert total_hits > 2000  # the random world hits often enough to mean something
    assert differences == []


# conditions_parse: the first problem, with its index and field.

PARSE_ERRORS = [
    ("no condition", [], 0, "kind"),
    ("unknown kind", [{"kind": "colour", "operator": "in", "values": ["red"]}], 0, "kind"),
    ("kind missing", [{"operator": "in", "values": ["CN"]}], 0, "kind"),
    ("operator of another kind", [condition("origin", "starts_with", "C")], 0, "operator"),
    ("operator missing", [{"kind": "office", "values": ["TMA01"]}], 0, "operator"),
    ("no values", [condition("origin", "in")], 0, "values"),
    ("blank values", [condition("origin", "in", " ", "")], 0, "values"),
    ("two thresholds", [condition("value_per_kg", "below", "1", "2")], 0, "values"),
    ("not a number", [condition("value_per_unit", "above", "ten")], 0, "values"),
    ("negative", [condition("item_count", "below", "-1")], 0, "values"),
    ("not finite", [condition("value_per_kg", "below", "NaN")], 0, "values"),
    ("preference neither", [condition("preference", "is", "maybe")], 0, "values"),
    (
        "the third is wrong",
        [
            condition("origin", "in", "CN"),
            condition("office", "in", "TMA01"),
            condition("incoterm", "above", "1"),
        ],
        2,
        "operator",
    ),
    ("not an object", [condition("origin", "in", "CN"), "origin in CN"], 1, "kind"),
    (
        "values not a list",
        [{"kind": "commodity_code", "operator": "starts_with", "values": "8703"}],
        0,
        "values",
    ),
]


@pytest.mark.parametrize(
    ("raw", "index", "field_name"),
    [case[1:] for case in PARSE_ERRORS],
    ids=[case[0] for case in PARSE_ERRORS],
)
def test_conditions_parse_names_the_first_problem_by_index_and_field(raw, index, field_name):
    with pytest.raises(ConditionError) as raised:
        conditions_parse(raw)

    assert (raised.value.index, raised.value.field_name) == (index, field_name)
    assert raised.value.message


def test_conditions_parse_normalises_values():
    parsed = conditions_parse(
        [
            condition("commodity_code", "starts_with", "8703 23", "87.03", "8703 23"),
            condition("origin", "in", " cn ", "de"),
            condition("importer", "in", "  Altyn   ASYR hj "),
            condition("value_per_kg", "below", "2,50"),
            condition("preference", "is", "TRUE"),
            condition("procedure", "in", "4000c01"),
        ]
    )

    assert [(c.kind, c.operator, c.values) for c in parsed] == [
        ("commodity_code", "starts_with", ("870323", "8703")),
        ("origin", "in", ("CN", "DE")),
        ("importer", "in", ("altyn asyr hj",)),
        ("value_per_kg", "below", ("2.50",)),
        ("preference", "is", ("yes",)),
        ("procedure", "in", ("4000C01",)),
    ]


def test_a_hit_s_explanation_reads_in_the_reader_s_language():
    compiled = compile_criteria(
        [
            spec(
                [
                    condition("commodity_code", "starts_with", "8703"),
                    condition("value_per_kg", "below", "12"),
                    condition("item_count", "above", "1"),
                ]
            )
        ]
    )
    (hit,) = evaluate(compiled, facts(item(1, commodity_code=FISH), item(2, value_per_kg=D("3.456"))))

    assert explanation_text(list(hit.explanation), hit.item_number) == (
        "Item 2: Commodity code 8703231900 starts with one of 8703; Customs value per kg of net mass 3.46 "
        "is below 12; Number of items 2 is above 1"
    )
    assert (
        explanation_text([{"kind": "gone", "operator": "old", "values": ["x"], "actual": "y"}])
        == "gone y old x"
    )
