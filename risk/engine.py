"""The selectivity engine: criteria compiled into indexes, evaluated against a declaration's facts.

Pure Python, no database: ``risk.services.selectivity`` builds the facts and the compiled set, and
keeps the set in memory until a criterion changes.

Evaluating a thousand criteria one by one for every item would be slow and grow with the criteria. So
each criterion is filed under its most selective condition (its *anchor*):

1. a commodity code condition (``starts with`` / ``is one of``): under each prefix, in a dict looked up
   with every prefix of the item's code (``8703``, ``87032``, ...), only at the lengths in use;
2. else an importer, exporter or declarant condition: under each party;
3. else an origin condition (a group is expanded to its countries): under each country;
4. else an office condition or an office scope: under each office;
5. else the criterion is a candidate for every declaration (the few with only thresholds, say).

Only the candidates found in the indexes have their conditions checked. A criterion's conditions all
hold (AND); its item conditions must all hold on one item. It hits a declaration at most once.
"""

import datetime
import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from risk.choices import ITEM_KINDS, LANE_RANK, ConditionKind, Operator

K = ConditionKind
PARTY_KINDS = frozenset({K.IMPORTER, K.EXPORTER, K.DECLARANT})


@dataclass(frozen=True, slots=True)
class ItemFacts:
    """What the criteria look at on one item. Value per kg and per unit are in national currency."""

    number: int
    commodity_code: str = ""
    origin: str = ""
    procedure: str = ""  # the CPC: requested + previous procedure, e.g. 4000, then additional code
    value_per_kg: Decimal | None = None
    value_per_unit: Decimal | None = None
    preference: bool = False


@dataclass(frozen=True, slots=True)
class DeclarationFacts:
    """What the criteria look at on a declaration. Parties are identifiers: a registered trader's
    taxpayer ID, a broker's licence number, a foreign party's name (all compared case-blind)."""

    office: str
    declaration_type: str
    day: datetime.date
    importer: frozenset[str] = frozenset()
    exporter: frozenset[str] = frozenset()
    declarant: frozenset[str] = frozenset()
    incoterm: str = ""
    transport_mode: str = ""
    items: tuple[ItemFacts, ...] = ()


@dataclass(frozen=True, slots=True)
class Condition:
    kind: str
    operator: str
    values: tuple[str, ...]


class ConditionError(ValueError):
    """A condition that cannot be compiled (unknown kind or operator, a threshold that is no number)."""

    def __init__(self, index: int, field_name: str, message: str):
        super().__init__(message)
        self.index, self.field_name, self.message = index, field_name, message


def normalise_values(kind: str, values: Iterable[str]) -> tuple[str, ...]:
    """Values as compared: codes upper-case without blanks, parties case-folded, thresholds as given."""
    cleaned = []
    for value in values:
        text = str(value).strip()
        if not text:
            continue
        if kind in PARTY_KINDS:
            text = " ".join(text.casefold().split())
        elif kind in (K.COMMODITY_CODE, K.PROCEDURE):
            # Upper-case too: an additional procedure code has letters (4000C01), as the item keeps it.
            text = text.replace(" ", "").replace(".", "").upper()
        elif kind != K.PREFERENCE:
            text = text.upper()
        cleaned.append(text)
    return tuple(dict.fromkeys(cleaned))


def conditions_parse(raw: list[dict]) -> list[Condition]:
    """The stored conditions as ``Condition``s, checked; raises ``ConditionError`` naming the first
    problem (its index and field)."""
    from risk.choices import OPERATORS, THRESHOLD_KINDS

    parsed = []
    for index, entry in enumerate(raw or []):
        # The conditions come from an analyst's JSON (admin): anything may be in it.
        if not isinstance(entry, dict):
            raise ConditionError(index, "kind", _("Choose what the condition looks at."))
        kind, operator = entry.get("kind", ""), entry.get("operator", "")
        if not isinstance(kind, str) or kind not in OPERATORS:
            raise ConditionError(index, "kind", _("Choose what the condition looks at."))
        if not isinstance(operator, str) or operator not in OPERATORS[kind]:
            raise ConditionError(index, "operator", _("This comparison does not apply to this field."))
        raw_values = entry.get("values") or []
        if not isinstance(raw_values, list | tuple):  # a string would be read letter by letter
            raise ConditionError(index, "values", _("Give the values as a list."))
        values = normalise_values(kind, raw_values)
        if not values:
            raise ConditionError(index, "values", _("Give at least one value."))
        if kind in THRESHOLD_KINDS:
            if len(values) != 1:
                raise ConditionError(index, "values", _("Give one number."))
            try:
                threshold = Decimal(values[0].replace(",", "."))
            except InvalidOperation:
                threshold = None
            if threshold is None or not threshold.is_finite() or threshold < 0:
                raise ConditionError(index, "values", _("Give a number of zero or more."))
            values = (str(threshold),)
        if kind == K.PREFERENCE:
            if values[0].lower() not in ("yes", "no", "true", "false", "1", "0"):
                raise ConditionError(index, "values", _("Say yes or no."))
            values = ("yes" if values[0].lower() in ("yes", "true", "1") else "no",)
        parsed.append(Condition(kind, operator, values))
    if not parsed:
        raise ConditionError(0, "kind", _("A criterion needs at least one condition."))
    return parsed


def _test(condition: Condition, groups: dict[str, frozenset[str]]) -> Callable:
    """A function of the fact the condition looks at, true when the condition holds."""
    kind, operator, values = condition.kind, condition.operator, condition.values
    if kind in (K.VALUE_PER_KG, K.VALUE_PER_UNIT):
        threshold = Decimal(values[0])
        if operator == Operator.BELOW:
            return lambda value: value is not None and value < threshold
        return lambda value: value is not None and value > threshold
    if kind == K.ITEM_COUNT:
        count = Decimal(values[0])
        return (lambda value: value < count) if operator == Operator.BELOW else (lambda value: value > count)
    if kind == K.PREFERENCE:
        wanted = values[0] == "yes"
        return lambda value: value is wanted
    if kind == K.ORIGIN_GROUP:
        members = frozenset().union(*(groups.get(code, frozenset()) for code in values))
        return (
            (lambda value: value in members)
            if operator == Operator.IN
            else (lambda value: value not in members)
        )
    if operator == Operator.STARTS_WITH:
        return lambda value: value.startswith(values)
    members = frozenset(values)
    if kind in PARTY_KINDS:  # the fact is a set of identifiers of the party
        if operator == Operator.IN:
            return lambda value: not members.isdisjoint(value)
        return lambda value: members.isdisjoint(value)
    if operator == Operator.IN:
        return lambda value: value in members
    return lambda value: value not in members


@dataclass(slots=True)
class CompiledCriterion:
    version_id: int
    criterion_id: int
    code: str
    lane: str
    rank: int
    valid_from: datetime.date
    valid_to: datetime.date | None
    offices: frozenset[str]
    conditions: tuple[Condition, ...]
    header_tests: tuple[tuple[Callable, Callable], ...]  # (reads the fact, tests it)
    item_tests: tuple[tuple[Callable, Callable], ...]
    officer_note: str = ""


@dataclass(frozen=True, slots=True)
class Hit:
    """A criterion that hit, on which item (``None``: header conditions only), and why."""

    version_id: int
    criterion_id: int
    code: str
    lane: str
    item_number: int | None
    explanation: tuple[dict, ...]


@dataclass(slots=True)
class CompiledCriteria:
    """Criteria filed under their anchors (module docstring)."""

    by_prefix: dict[str, list[CompiledCriterion]] = field(default_factory=dict)
    prefix_lengths: tuple[int, ...] = ()
    by_origin: dict[str, list[CompiledCriterion]] = field(default_factory=dict)
    by_party: dict[str, list[CompiledCriterion]] = field(default_factory=dict)
    by_office: dict[str, list[CompiledCriterion]] = field(default_factory=dict)
    everywhere: list[CompiledCriterion] = field(default_factory=list)
    count: int = 0


@dataclass(frozen=True, slots=True)
class CriterionSpec:
    """A criterion version as the compiler takes it (from the database, or a draft being tested)."""

    version_id: int
    criterion_id: int
    code: str
    lane: str
    conditions: tuple[Condition, ...]
    valid_from: datetime.date
    valid_to: datetime.date | None = None
    offices: frozenset[str] = frozenset()
    officer_note: str = ""


def compile_criteria(specs: Iterable[CriterionSpec], *, groups: dict[str, frozenset[str]] | None = None):
    """File each criterion under its anchor. ``groups``: country group code → member countries."""
    groups = groups or {}
    compiled = CompiledCriteria()
    lengths = set()
    for spec in specs:
        header, item = [], []
        for condition in spec.conditions:
            test = _test(condition, groups)
            if condition.kind in ITEM_KINDS:
                item.append((_ITEM_GETTERS[condition.kind], test))
            else:
                header.append((_HEADER_GETTERS[condition.kind], test))
        criterion = CompiledCriterion(
            version_id=spec.version_id,
            criterion_id=spec.criterion_id,
            code=spec.code,
            lane=spec.lane,
            rank=LANE_RANK[spec.lane],
            valid_from=spec.valid_from,
            valid_to=spec.valid_to,
            offices=frozenset(spec.offices),
            conditions=tuple(spec.conditions),
            header_tests=tuple(header),
            item_tests=tuple(item),
            officer_note=spec.officer_note,
        )
        compiled.count += 1
        anchor = _anchor(spec.conditions)
        if anchor is None:
            if criterion.offices:
                for office in criterion.offices:
                    compiled.by_office.setdefault(office, []).append(criterion)
            else:
                compiled.everywhere.append(criterion)
            continue
        kind, values = anchor
        if kind == K.COMMODITY_CODE:
            for prefix in values:
                compiled.by_prefix.setdefault(prefix, []).append(criterion)
                lengths.add(len(prefix))
        elif kind in (K.ORIGIN, K.ORIGIN_GROUP):
            countries = (
                values if kind == K.ORIGIN else set().union(*(groups.get(code, ()) for code in values))
            )
            for country in countries:
                compiled.by_origin.setdefault(country, []).append(criterion)
        elif kind in PARTY_KINDS:
            for party in values:
                compiled.by_party.setdefault(party, []).append(criterion)
        else:  # office
            for office in values:
                compiled.by_office.setdefault(office, []).append(criterion)
    compiled.prefix_lengths = tuple(sorted(lengths))
    return compiled


# Parties before origins: a trader is far more selective than a country (a busy origin files many
# criteria, each paired with every item from there).
_ANCHOR_ORDER = (K.COMMODITY_CODE, K.IMPORTER, K.EXPORTER, K.DECLARANT, K.ORIGIN, K.ORIGIN_GROUP, K.OFFICE)


def _anchor(conditions: Iterable[Condition]):
    """The most selective condition that can file the criterion: an inclusive one, by _ANCHOR_ORDER."""
    inclusive = {
        condition.kind: condition.values
        for condition in conditions
        if condition.operator in (Operator.IN, Operator.STARTS_WITH)
    }
    for kind in _ANCHOR_ORDER:
        if kind in inclusive:
            return kind, inclusive[kind]
    return None


def _header_value(facts: DeclarationFacts, kind: str):
    if kind == K.ITEM_COUNT:
        return len(facts.items)
    return getattr(facts, kind)


def _item_value(item: ItemFacts, kind: str):
    if kind in (K.ORIGIN, K.ORIGIN_GROUP):
        return item.origin
    return getattr(item, kind)


# How each test reads its fact, decided once at compile time (a getter call, not a lookup by kind).
_ITEM_GETTERS = {
    kind: operator.attrgetter("origin" if kind in (K.ORIGIN, K.ORIGIN_GROUP) else kind) for kind in ITEM_KINDS
}
_HEADER_GETTERS = {
    kind: (lambda facts: len(facts.items)) if kind == K.ITEM_COUNT else operator.attrgetter(kind)
    for kind in set(ConditionKind.values) - ITEM_KINDS
}


def evaluate(
    compiled: CompiledCriteria, facts: DeclarationFacts, *, check_validity: bool = True
) -> list[Hit]:
    """The criteria that hit the declaration, highest lane first. ``check_validity=False`` ignores the
    validity dates (a backtest of a draft over a past period).

    The candidates come from the indexes: each item's code prefixes, each distinct origin once (most
    declarations have one), the parties, the office, and the few criteria filed everywhere. A
    candidate's office scope, validity and declaration conditions are checked once; then its item
    conditions on its items, the first item that holds making the hit."""
    items = facts.items
    candidates: dict[int, tuple[CompiledCriterion, list[ItemFacts] | None]] = {}
    by_prefix, lengths, by_origin = compiled.by_prefix, compiled.prefix_lengths, compiled.by_origin
    for item in items:
        code = item.commodity_code
        size = len(code)
        for length in lengths:
            if length > size:
                break
            bucket = by_prefix.get(code[:length])
            if bucket:
                for criterion in bucket:
                    entry = candidates.get(id(criterion))
                    if entry is None:
                        candidates[id(criterion)] = (criterion, [item])
                    else:
                        entry[1].append(item)
    if by_origin:
        origins: dict[str, list[ItemFacts]] = {}
        for item in items:
            origins.setdefault(item.origin, []).append(item)
        mixed = []  # criteria filed under two origins of this declaration: their items, in order again
        for origin, origin_items in origins.items():
            bucket = by_origin.get(origin)
            if bucket:
                for criterion in bucket:
                    entry = candidates.get(id(criterion))
                    if entry is None:
                        candidates[id(criterion)] = (criterion, list(origin_items))
                    else:
                        entry[1].extend(origin_items)
                        mixed.append(entry[1])
        for criterion_items in mixed:
            criterion_items.sort(key=_item_number)
    by_party = compiled.by_party
    if by_party:
        for party in facts.importer | facts.exporter | facts.declarant:
            for criterion in by_party.get(party, ()):
                candidates.setdefault(id(criterion), (criterion, None))
    for criterion in compiled.by_office.get(facts.office, ()):
        candidates.setdefault(id(criterion), (criterion, None))
    for criterion in compiled.everywhere:
        candidates.setdefault(id(criterion), (criterion, None))

    hits = []
    for criterion, criterion_items in candidates.values():
        if not _header_holds(criterion, facts, check_validity):
            continue
        tests = criterion.item_tests
        if not tests:
            hits.append(_hit(criterion, facts, None))
            continue
        for item in items if criterion_items is None else criterion_items:
            for getter, test in tests:
                if not test(getter(item)):
                    break
            else:
                hits.append(_hit(criterion, facts, item))
                break
    if len(hits) > 1:
        hits.sort(key=lambda hit: (-LANE_RANK[hit.lane], hit.code))
    return hits


def _item_number(item: ItemFacts) -> int:
    return item.number


def _header_holds(criterion: CompiledCriterion, facts: DeclarationFacts, check_validity: bool) -> bool:
    if criterion.offices and facts.office not in criterion.offices:
        return False
    if check_validity and (
        facts.day < criterion.valid_from
        or (criterion.valid_to is not None and facts.day > criterion.valid_to)
    ):
        return False
    for getter, test in criterion.header_tests:
        if not test(getter(facts)):
            return False
    return True


def _shown(value) -> str:
    if isinstance(value, frozenset | set):
        return ", ".join(sorted(value)) or "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None or value == "":
        return "—"
    if isinstance(value, Decimal):
        return f"{value.quantize(Decimal('0.01'))}"
    return str(value)


def _hit(criterion: CompiledCriterion, facts: DeclarationFacts, item: ItemFacts | None) -> Hit:
    explanation = []
    for condition in criterion.conditions:
        if condition.kind in ITEM_KINDS:
            actual = _item_value(item, condition.kind) if item is not None else None
        else:
            actual = _header_value(facts, condition.kind)
        explanation.append(
            {
                "kind": condition.kind,
                "operator": condition.operator,
                "values": list(condition.values),
                "actual": _shown(actual),
            }
        )
    return Hit(
        version_id=criterion.version_id,
        criterion_id=criterion.criterion_id,
        code=criterion.code,
        lane=criterion.lane,
        item_number=item.number if item is not None else None,
        explanation=tuple(explanation),
    )


def explanation_text(explanation: list[dict], item_number: int | None = None) -> str:
    """A hit's explanation in the reader's language: "Item 2: commodity code 8703239000 starts with one
    of 8703; country of origin CN is one of CN, HK"."""
    from risk.choices import ConditionKind as Kinds
    from risk.choices import Operator as Operators

    parts = []
    for entry in explanation:
        try:
            kind_label = Kinds(entry["kind"]).label
            operator_label = Operators(entry["operator"]).label
        except ValueError:
            kind_label, operator_label = entry.get("kind", ""), entry.get("operator", "")
        words = {"yes": _("yes"), "no": _("no")}  # a preference's value, in the reader's language
        parts.append(
            _("%(field)s %(actual)s %(operator)s %(values)s")
            % {
                "field": str(kind_label),
                "actual": words.get(entry.get("actual", ""), entry.get("actual", "")),
                "operator": operator_label,
                "values": ", ".join(words.get(value, value) for value in entry.get("values", [])),
            }
        )
    text = "; ".join(parts)
    if item_number is not None:
        return _("Item %(number)s: %(conditions)s") % {"number": item_number, "conditions": text}
    return text
