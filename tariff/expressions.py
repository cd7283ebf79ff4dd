"""Duty expressions as the UK Global Tariff CSV writes them: parse once, evaluate for every item.

Pure Python and ``Decimal`` only: no models, no database, no floats. ``parse_duty_expression`` turns a
text such as ``10.00% + 77.00 GBP/100kg`` into an immutable ``DutyExpression`` (or, for rates that
change with the season, a ``SeasonalExpression``); ``evaluate`` computes the duty of one item from its
customs value and declared quantities, and explains every figure.

Supported
---------
- **Ad valorem**: ``12%``, ``6.00%``. In the EU column the first term is sometimes a bare number
  (``6.4 + 24.6 EUR/100 kg``, ``7.2 MIN 0.36 EUR/100 kg``): a bare number is read as a percentage only
  when it is the first term of an expression that has more terms; anywhere else it is rejected.
- **Specific**: an amount, a currency (any 3-letter code; ``€`` is EUR) and a unit after ``/``, with
  an optional multiplier (``100 kg``, ``1,000 items``, ``1000 items``). Units, as ``Unit``:

  ========================================  =========================  ================
  written                                   charged on                 per
  ========================================  =========================  ================
  ``kg``, ``kg/net``                        ``KG`` (net mass)          1 (× multiplier)
  ``tonne``                                 ``KG``                     1000
  ``kg / gross``, ``kg/br``                 ``KG_GROSS`` (gross mass)  1 (× multiplier)
  ``l``, ``litre``                          ``LITRE``                  1 (× multiplier)
  ``hl``                                    ``LITRE``                  100
  ``% vol / hl``                            ``LITRE_PURE_ALCOHOL``     1 (1 %vol × 1 hl = 1 lpa)
  ``lpa``                                   ``LITRE_PURE_ALCOHOL``     1 (× multiplier)
  ``item``, ``items``, ``p/st``             ``ITEM``                   1 (× multiplier)
  ``pair``, ``pairs``, ``pa``               ``PAIR``                   1 (× multiplier)
  ``head``                                  ``HEAD``                   1 (× multiplier)
  ``m``; ``m2``, ``m²``; ``m3``, ``m³``     ``METRE``; ``SQUARE_METRE``; ``CUBIC_METRE``
  ``kWh`` (``1000 kWh``)                    ``KWH``                    1 (× multiplier)
  ========================================  =========================  ================

- **Sums** of terms joined by ``+``; **MIN** and **MAX**, each at most once, each binding to the whole
  sum written after it (``9.10% + 45.10 EUR / 100 kg MAX 18.90% + 16.50 EUR / 100 kg``).
- **Seasons**: ``15.00% (01 JAN-14 FEB, 16 JUN-31 DEC), 0.00% (15 FEB-15 JUN)``. Periods are
  inclusive day-month ranges; a period whose end comes before its start wraps the year end
  (``01 JUL - 31 JAN``). Months are written ``JAN`` .. ``DEC`` (or in full, e.g. ``JUNE``).
  Seasons may leave gaps (``SeasonalExpression.on`` then raises for a day in a gap) but never overlap.
- Spacing variants (``GBP/100kg``, ``EUR / 100 kg``), non-breaking and other Unicode spaces,
  thousands commas (``1,024.00 EUR / tonne``).

Rejected (``DutyExpressionError``; ``kind`` says which group, ``reason`` names the unsupported part)
--------------------------------------------------------------------------------------------------
- ``kind="empty"``: an empty or blank text.
- ``kind="agricultural"``: the EU agricultural components ``EA``, ``EAR``, ``ADSZ``, ``ADSZR``,
  ``ADFM``, ``ADFMR`` (also written ``AD S/Z``, ``AD F/M``) and ``Entry Price``. They depend on the
  composition of the goods (milk fat, sucrose, starch) or on the entry price, which a tariff text
  cannot give.
- ``kind="qualifier"``: a specific rate charged on a quantity Kerwen does not declare. Kerwen declares
  net mass, gross mass, litres, litres of pure alcohol, items, pairs, head, metres, m², m³ and kWh.
  Rejected qualifiers (``UNSUPPORTED_QUALIFIERS``): ``lactic matter``, ``dry lactic matter``,
  ``net drained wt`` and ``eda`` (drained net weight), ``net dry`` and ``mas`` (net of dry matter),
  ``std qual`` (standard quality), ``tot alc`` (total alcohol), ``% sacchar.`` (per 1 % of sucrose,
  also written ``/net/ % sacchar.``), ``raw sugar``, ``polar``, ``common wheat``, ``live weight``,
  ``biodiesel``, ``bioethanol``, ``fuel content``, ``90% sdt``.
- ``kind="unit"``: a unit or qualifier not in the table above (e.g. ``% vol`` without ``/ hl``).
- ``kind="season"``: a season without a date period (``..., 13.60% MIN 1.6€/100kg/net`` with no
  period: we do not guess that it means "the rest of the year"), a period without a start month
  (``01-31 DEC``), an impossible date (``31 APR``), an unknown month, overlapping seasons.
- ``kind="syntax"``: anything else (a number without ``%`` or currency, a dangling ``+``, two MINs,
  unbalanced parentheses, text after the last season, ...).

Evaluation and rounding
-----------------------
``evaluate`` sums the terms; if there is a minimum and the sum is below it, the minimum applies; then,
if there is a maximum and the result is above it, the maximum applies. Specific amounts are converted
with ``rate_of(currency)`` (national currency per unit; the national currency itself is 1).
**Nothing is rounded here**: ``Evaluation.amount`` and every ``EvaluationLine.amount`` are exact; the
assessment rounds each tax amount once, HALF_UP, to the currency's minor unit. Formulas and line
descriptions show money with 2 decimals (HALF_UP) for reading only. ``evaluate`` does no regex or
parsing work: parse each tariff text once (``parse_duty_expression`` also keeps a cache), then evaluate.
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from functools import lru_cache

__all__ = [
    "AdValorem",
    "DutyExpression",
    "DutyExpressionError",
    "Evaluation",
    "EvaluationLine",
    "MissingQuantityError",
    "SeasonalExpression",
    "Specific",
    "Sum",
    "Unit",
    "evaluate",
    "parse_duty_expression",
]


class DutyExpressionError(ValueError):
    """A duty expression that is invalid or uses something Kerwen does not support.

    ``reason`` names the unsupported or invalid part without the text (stable, for grouping),
    ``kind`` is the group (see the module docstring), ``text`` the original expression.
    """

    def __init__(self, reason: str, text: str | None = None, *, kind: str = "syntax", message: str = ""):
        self.reason = reason
        self.text = text
        self.kind = kind
        super().__init__(message or (reason if text is None else f"{reason} in {text!r}"))


class Unit(StrEnum):
    """The quantity a specific rate is charged on."""

    KG = "kg"  # net mass, kg
    KG_GROSS = "kg_gross"  # gross mass, kg
    LITRE = "l"
    LITRE_PURE_ALCOHOL = "lpa"
    ITEM = "item"  # pieces / items / pairs-as-declared
    PAIR = "pair"
    HEAD = "head"
    METRE = "m"
    SQUARE_METRE = "m2"
    CUBIC_METRE = "m3"
    KWH = "kwh"


UNIT_LABELS: dict[Unit, str] = {
    Unit.KG: "kilogram of net mass",
    Unit.KG_GROSS: "kilogram of gross mass",
    Unit.LITRE: "litre",
    Unit.LITRE_PURE_ALCOHOL: "litre of pure alcohol",
    Unit.ITEM: "item",
    Unit.PAIR: "pair",
    Unit.HEAD: "head",
    Unit.METRE: "metre",
    Unit.SQUARE_METRE: "square metre",
    Unit.CUBIC_METRE: "cubic metre",
    Unit.KWH: "kilowatt hour",
}

# How a declared quantity is shown in explanations ("× 250 kg").
_QUANTITY_SYMBOLS: dict[Unit, str] = {
    Unit.KG: "kg",
    Unit.KG_GROSS: "kg gross",
    Unit.LITRE: "l",
    Unit.LITRE_PURE_ALCOHOL: "lpa",
    Unit.ITEM: "items",
    Unit.PAIR: "pairs",
    Unit.HEAD: "head",
    Unit.METRE: "m",
    Unit.SQUARE_METRE: "m2",
    Unit.CUBIC_METRE: "m3",
    Unit.KWH: "kWh",
}


class MissingQuantityError(DutyExpressionError):
    """A specific rate is charged on a quantity that was not declared; ``unit`` says which."""

    def __init__(self, unit: Unit, text: str | None = None):
        self.unit = unit
        reason = f"this rate is charged per {UNIT_LABELS[unit]}: declare the quantity in {unit.value}"
        super().__init__(reason, text, kind="missing quantity", message=reason)


_ZERO = Decimal(0)
_ONE = Decimal(1)
_HUNDRED = Decimal(100)
_CENT = Decimal("0.01")


def _plain(number: Decimal) -> str:
    """``Decimal("6.00")`` -> ``"6"``, ``Decimal("0.50")`` -> ``"0.5"``: no exponent, no trailing zeros."""
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _money(amount: Decimal) -> str:
    """For reading only: 2 decimals, HALF_UP, thousands separated (``1,234.50``)."""
    return f"{amount.quantize(_CENT, rounding=ROUND_HALF_UP):,f}"


# ---------------------------------------------------------------------------------------------------
# The parsed forms
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AdValorem:
    """A percentage of the customs value: ``rate`` in percent (``Decimal("12")`` for 12 %)."""

    rate: Decimal

    def to_text(self) -> str:
        return f"{_plain(self.rate)}%"


def _unit_text(per: Decimal, unit: Unit) -> str:
    count = _plain(per)
    one = per == _ONE
    match unit:
        case Unit.KG:
            return "kg" if one else f"{count} kg"
        case Unit.KG_GROSS:
            return "kg/gross" if one else f"{count} kg/gross"
        case Unit.LITRE:
            return "l" if one else "hl" if per == _HUNDRED else f"{count} l"
        case Unit.LITRE_PURE_ALCOHOL:
            return "% vol/hl" if one else f"{count} lpa"
        case Unit.ITEM:
            return "item" if one else f"{count} items"
        case Unit.PAIR:
            return "pair" if one else f"{count} pairs"
        case Unit.HEAD:
            return "head" if one else f"{count} head"
        case Unit.KWH:
            return "kWh" if one else f"{count} kWh"
        case _:  # m, m2, m3
            return unit.value if one else f"{count} {unit.value}"


@dataclass(frozen=True)
class Specific:
    """``amount`` of ``currency`` per ``per`` ``unit``: 34 GBP/100 kg is (34, "GBP", 100, KG)."""

    amount: Decimal
    currency: str
    per: Decimal
    unit: Unit

    def to_text(self) -> str:
        return f"{_plain(self.amount)} {self.currency}/{_unit_text(self.per, self.unit)}"


Term = AdValorem | Specific


@dataclass(frozen=True)
class Sum:
    terms: tuple[Term, ...]

    def to_text(self) -> str:
        return " + ".join(term.to_text() for term in self.terms)


@dataclass(frozen=True)
class DutyExpression:
    """Terms, optionally bounded below (``minimum``) and above (``maximum``).

    ``text`` is the original text; it is not part of equality, so ``parse(e.to_text()) == e``.
    """

    terms: Sum
    minimum: Sum | None = None
    maximum: Sum | None = None
    text: str = field(default="", compare=False)

    def to_text(self) -> str:
        """The canonical form, e.g. ``10% + 77 GBP/100 kg MIN 0.2 EUR/kg``; it parses back to ``self``."""
        text = self.terms.to_text()
        if self.minimum is not None:
            text += " MIN " + self.minimum.to_text()
        if self.maximum is not None:
            text += " MAX " + self.maximum.to_text()
        return text

    def _all_terms(self):
        for total in (self.terms, self.minimum, self.maximum):
            if total is not None:
                yield from total.terms

    @property
    def currencies(self) -> set[str]:
        return {term.currency for term in self._all_terms() if isinstance(term, Specific)}

    @property
    def units(self) -> set[Unit]:
        """The quantities that must be declared to evaluate this expression."""
        return {term.unit for term in self._all_terms() if isinstance(term, Specific)}


_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_MONTH_NUMBERS = (
    {name: number for number, name in enumerate(_MONTHS, start=1)}
    | {
        name: number
        for number, name in enumerate(
            (
                "JANUARY",
                "FEBRUARY",
                "MARCH",
                "APRIL",
                "MAY",
                "JUNE",
                "JULY",
                "AUGUST",
                "SEPTEMBER",
                "OCTOBER",
                "NOVEMBER",
                "DECEMBER",
            ),
            start=1,
        )
    }
    | {"SEPT": 9}
)
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # 29 February may be named

DayMonth = tuple[int, int]  # (day, month)
Period = tuple[DayMonth, DayMonth]  # inclusive (start, end); wraps the year end when end < start


def _period_covers(period: Period, month: int, day: int) -> bool:
    (start_day, start_month), (end_day, end_month) = period
    start, end, key = (start_month, start_day), (end_month, end_day), (month, day)
    if start <= end:
        return start <= key <= end
    return key >= start or key <= end


def _period_text(period: Period) -> str:
    (start_day, start_month), (end_day, end_month) = period
    return f"{start_day:02d} {_MONTHS[start_month - 1]}-{end_day:02d} {_MONTHS[end_month - 1]}"


@dataclass(frozen=True)
class SeasonalExpression:
    """Different expressions for different day-month periods of every year.

    ``seasons`` is ``((periods, expression), ...)``; a period is ``((start_day, start_month),
    (end_day, end_month))``, inclusive. ``text`` is the original text, not part of equality.
    """

    seasons: tuple[tuple[tuple[Period, ...], DutyExpression], ...]
    text: str = field(default="", compare=False)

    def on(self, day: date) -> DutyExpression:
        """The expression in force on ``day``; ``DutyExpressionError`` if no season covers it."""
        month, day_of_month = day.month, day.day
        for periods, expression in self.seasons:
            for period in periods:
                if _period_covers(period, month, day_of_month):
                    return expression
        raise DutyExpressionError(
            f"no season of this rate covers {day_of_month:02d} {_MONTHS[month - 1]}", self.text, kind="season"
        )

    def to_text(self) -> str:
        return ", ".join(
            f"{expression.to_text()} ({', '.join(_period_text(period) for period in periods)})"
            for periods, expression in self.seasons
        )

    @property
    def currencies(self) -> set[str]:
        return set().union(*(expression.currencies for _periods, expression in self.seasons))

    @property
    def units(self) -> set[Unit]:
        return set().union(*(expression.units for _periods, expression in self.seasons))


# ---------------------------------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------------------------------

_WHITESPACE = re.compile(r"\s+")  # in Python, \s includes no-break and other Unicode spaces
_AGRICULTURAL = re.compile(r"\b(?:EA|EAR|ADSZR?|ADFMR?|AD ?S/Z|AD ?F/M)(?![A-Za-z0-9/])|(?i:\bentry price\b)")
_OPERATOR = re.compile(r"\s*(\+|\bMIN\b|\bMAX\b)\s*", re.I)
_NUMBER = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_TERM = re.compile(
    rf"(?P<number>{_NUMBER})\s*(?:(?P<percent>%)|(?P<currency>[A-Za-z]{{3}})\s*/\s*(?P<unit>.*))?"
)
_UNIT = re.compile(
    r"(?P<multiplier>\d{1,3}(?:,\d{3})+|\d+)?\s*"
    r"(?P<base>%vol|kwh|kg|tonnes?|hl|litres?|lpa|l|items?|p/st|pairs?|pa|head|m²|m2|m³|m3|m)"
    r"(?![a-z0-9²³.])\s*(?P<qualifier>.*)"
)
_BASES: dict[str, tuple[Decimal, Unit]] = {
    "kg": (_ONE, Unit.KG),
    "tonne": (Decimal(1000), Unit.KG),
    "tonnes": (Decimal(1000), Unit.KG),
    "hl": (_HUNDRED, Unit.LITRE),
    "l": (_ONE, Unit.LITRE),
    "litre": (_ONE, Unit.LITRE),
    "litres": (_ONE, Unit.LITRE),
    "lpa": (_ONE, Unit.LITRE_PURE_ALCOHOL),
    "item": (_ONE, Unit.ITEM),
    "items": (_ONE, Unit.ITEM),
    "p/st": (_ONE, Unit.ITEM),
    "pair": (_ONE, Unit.PAIR),
    "pairs": (_ONE, Unit.PAIR),
    "pa": (_ONE, Unit.PAIR),
    "head": (_ONE, Unit.HEAD),
    "m": (_ONE, Unit.METRE),
    "m2": (_ONE, Unit.SQUARE_METRE),
    "m²": (_ONE, Unit.SQUARE_METRE),
    "m3": (_ONE, Unit.CUBIC_METRE),
    "m³": (_ONE, Unit.CUBIC_METRE),
    "kwh": (_ONE, Unit.KWH),
}
_NET_QUALIFIERS = {"net"}  # net mass: what Kerwen declares as the item's net mass
_GROSS_QUALIFIERS = {"gross", "br"}  # gross mass ("brutto")

# Qualified quantities Kerwen does not declare: written form (normalised) -> (name, meaning).
UNSUPPORTED_QUALIFIERS: dict[str, tuple[str, str]] = {
    "lactic matter": ("lactic matter", "kilogram of lactic matter"),
    "dry lactic matter": ("dry lactic matter", "kilogram of dry lactic matter"),
    "net drained wt": ("net drained wt", "drained net weight"),
    "eda": ("eda", "drained net weight"),
    "net eda": ("eda", "drained net weight"),
    "net dry": ("net dry", "net mass of dry matter"),
    "mas": ("mas", "net mass of dry matter"),
    "net mas": ("mas", "net mass of dry matter"),
    "std qual": ("std qual", "mass of the standard quality"),
    "tot alc": ("tot alc", "kilogram of total alcohol"),
    "tot/alc": ("tot alc", "kilogram of total alcohol"),
    "%sacchar.": ("% sacchar.", "per 1% by weight of sucrose"),
    "%sacchar": ("% sacchar.", "per 1% by weight of sucrose"),
    "net/%sacchar.": ("% sacchar.", "per 1% by weight of sucrose"),
    "net/%sacchar": ("% sacchar.", "per 1% by weight of sucrose"),
    "raw sugar": ("raw sugar", "mass of raw sugar"),
    "polar": ("polar", "mass corrected according to polarisation"),
    "common wheat": ("common wheat", "mass of common wheat"),
    "live weight": ("live weight", "live weight"),
    "biodiesel": ("biodiesel", "biodiesel content"),
    "bioethanol": ("bioethanol", "bioethanol content"),
    "fuel content": ("fuel content", "fuel content"),
    "90%sdt": ("90% sdt", "substance 90% dry"),
}
_SEASON = re.compile(r"\(([^()]*)\)")
_PERIOD = re.compile(
    r"(?P<start_day>\d{1,2})\s*(?P<start_month>[A-Za-z]+)?\s*-\s*(?P<end_day>\d{1,2})\s*(?P<end_month>[A-Za-z]+)"
)


def parse_duty_expression(text: str) -> DutyExpression | SeasonalExpression:
    """Parse a duty expression (see the module docstring); ``DutyExpressionError`` if unsupported.

    Results are immutable and cached, so parsing the same text again costs a dictionary look-up.
    """
    if not isinstance(text, str):
        raise TypeError(f"a duty expression is a str, not {type(text).__name__}")
    return _parse(text)


@lru_cache(maxsize=8192)
def _parse(text: str) -> DutyExpression | SeasonalExpression:
    normalised = _WHITESPACE.sub(" ", text.replace("€", " EUR").replace("–", "-")).strip()
    if not normalised:
        raise DutyExpressionError("empty duty expression", text, kind="empty")
    components = list(dict.fromkeys(match.group(0) for match in _AGRICULTURAL.finditer(normalised)))
    if components:
        names = ", ".join(f"'{component}'" for component in components)
        plural = "s" if len(components) > 1 else ""
        raise DutyExpressionError(
            f"unsupported agricultural component{plural} {names}", text, kind="agricultural"
        )
    if "(" in normalised or ")" in normalised:
        return _parse_seasonal(normalised, text)
    return _parse_expression(normalised, text)


def _parse_expression(normalised: str, text: str) -> DutyExpression:
    pieces = _OPERATOR.split(normalised)  # term, operator, term, operator, ..., term
    sums: dict[str, list[Term]] = {"terms": []}
    current = sums["terms"]
    for index, piece in enumerate(pieces):
        if index % 2:
            operator = piece.upper()
            if operator in ("MIN", "MAX"):
                bound = "minimum" if operator == "MIN" else "maximum"
                if bound in sums:
                    raise DutyExpressionError(f"{operator} given twice", text)
                current = sums[bound] = []
            continue
        if not piece:
            before = pieces[index - 1].upper() if index else None
            after = pieces[index + 1].upper() if index + 1 < len(pieces) else None
            where = f"after '{before}'" if before else f"before '{after}'"
            raise DutyExpressionError(f"missing amount {where}", text)
        current.append(_parse_term(piece, text, bare_percent=index == 0 and len(pieces) > 1))
    return DutyExpression(
        terms=Sum(tuple(sums["terms"])),
        minimum=Sum(tuple(sums["minimum"])) if "minimum" in sums else None,
        maximum=Sum(tuple(sums["maximum"])) if "maximum" in sums else None,
        text=text,
    )


def _parse_term(piece: str, text: str, *, bare_percent: bool) -> Term:
    match = _TERM.fullmatch(piece)
    if match is None:
        raise DutyExpressionError(f"unrecognised term '{piece}'", text)
    number = Decimal(match["number"].replace(",", ""))
    if match["percent"]:
        return AdValorem(number)
    if match["currency"] is None:
        if bare_percent:  # the EU column's "6.4 + 24.6 EUR/100 kg": a leading bare number is a percentage
            return AdValorem(number)
        raise DutyExpressionError(f"number '{match['number']}' without % or a currency", text)
    per, unit = _parse_unit(match["unit"], text)
    return Specific(amount=number, currency=match["currency"].upper(), per=per, unit=unit)


def _parse_unit(written: str, text: str) -> tuple[Decimal, Unit]:
    unit_text = re.sub(r"%\s*", "%", written.strip().lower())
    match = _UNIT.fullmatch(unit_text)
    if match is None:
        raise DutyExpressionError(f"unrecognised unit '{written.strip()}'", text, kind="unit")
    multiplier = Decimal(match["multiplier"].replace(",", "")) if match["multiplier"] else _ONE
    if multiplier == _ZERO:
        raise DutyExpressionError(f"zero quantity in unit '{written.strip()}'", text, kind="unit")
    qualifier = match["qualifier"].strip()
    if qualifier.startswith("/"):
        qualifier = qualifier[1:].strip()
    qualifier = re.sub(r"\s*/\s*", "/", qualifier)
    base = match["base"]
    if base == "%vol":  # "% vol / hl": per 1 % vol in 1 hl, i.e. per litre of pure alcohol
        if qualifier != "hl" or match["multiplier"]:
            raise DutyExpressionError(
                f"unrecognised unit '{written.strip()}' (only '% vol / hl' is supported)", text, kind="unit"
            )
        return _ONE, Unit.LITRE_PURE_ALCOHOL
    factor, unit = _BASES[base]
    if qualifier in UNSUPPORTED_QUALIFIERS:
        name, meaning = UNSUPPORTED_QUALIFIERS[qualifier]
        raise DutyExpressionError(
            f"unsupported quantity qualifier '{name}' ({meaning}): Kerwen does not declare this quantity",
            text,
            kind="qualifier",
        )
    if qualifier and not (unit is Unit.KG and qualifier in _NET_QUALIFIERS | _GROSS_QUALIFIERS):
        raise DutyExpressionError(f"unrecognised unit '{written.strip()}'", text, kind="unit")
    if qualifier in _GROSS_QUALIFIERS:
        unit = Unit.KG_GROSS
    return factor * multiplier, unit


def _parse_seasonal(normalised: str, text: str) -> SeasonalExpression:
    seasons: list[tuple[tuple[Period, ...], DutyExpression]] = []
    position = 0
    for match in _SEASON.finditer(normalised):
        head = normalised[position : match.start()].strip()
        if seasons:
            if not head.startswith(","):
                raise DutyExpressionError(f"expected ',' between seasons before '{head}'", text)
            head = head[1:].strip()
        if not head:
            raise DutyExpressionError(f"season ({match[1]}) without a rate", text)
        if "(" in head or ")" in head:
            raise DutyExpressionError("unbalanced parentheses", text)
        periods = tuple(_parse_period(written.strip(), text) for written in match[1].split(","))
        seasons.append((periods, _parse_expression(head, text)))
        position = match.end()
    rest = normalised[position:].strip()
    if not seasons or "(" in rest or ")" in rest:
        raise DutyExpressionError("unbalanced parentheses", text)
    if rest:
        if rest.startswith(",") and rest[1:].strip():
            raise DutyExpressionError(f"season '{rest[1:].strip()}' has no date period", text, kind="season")
        raise DutyExpressionError(f"unexpected text '{rest}' after the last season", text)
    _check_no_overlap(seasons, text)
    return SeasonalExpression(seasons=tuple(seasons), text=text)


def _parse_period(written: str, text: str) -> Period:
    match = _PERIOD.fullmatch(written)
    if match is None:
        raise DutyExpressionError(f"unrecognised period '{written}'", text, kind="season")
    if match["start_month"] is None:
        raise DutyExpressionError(f"period '{written}' has no start month", text, kind="season")
    return (
        _day_month(match["start_day"], match["start_month"], text),
        _day_month(match["end_day"], match["end_month"], text),
    )


def _day_month(day_text: str, month_text: str, text: str) -> DayMonth:
    month = _MONTH_NUMBERS.get(month_text.upper())
    if month is None:
        raise DutyExpressionError(f"unknown month '{month_text}'", text, kind="season")
    day = int(day_text)
    if not 1 <= day <= _DAYS_IN_MONTH[month - 1]:
        raise DutyExpressionError(f"invalid date '{day_text} {month_text}'", text, kind="season")
    return day, month


def _check_no_overlap(seasons: list[tuple[tuple[Period, ...], DutyExpression]], text: str) -> None:
    day = date(2000, 1, 1)  # a leap year, so 29 February is checked too
    for _ in range(366):
        covering = sum(
            any(_period_covers(period, day.month, day.day) for period in periods) for periods, _e in seasons
        )
        if covering > 1:
            raise DutyExpressionError(
                f"seasons overlap on {day.day:02d} {_MONTHS[day.month - 1]}", text, kind="season"
            )
        day += timedelta(days=1)


# ---------------------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EvaluationLine:
    """One step of the explanation: ``amount`` is unrounded, in national currency."""

    description: str
    amount: Decimal


@dataclass(frozen=True)
class Evaluation:
    """``amount``: UNROUNDED, national currency (the engine rounds once). ``applied``: "terms",
    "minimum" or "maximum", which bound decided."""

    amount: Decimal
    formula: str
    lines: tuple[EvaluationLine, ...]
    applied: str


def _require_decimal(name: str, number) -> None:
    if not isinstance(number, Decimal):
        raise TypeError(f"{name} must be a Decimal, not {type(number).__name__}")
    if not number.is_finite() or number < _ZERO:
        raise ValueError(f"{name} must be a finite, non-negative amount, not {number}")


def evaluate(
    expression: DutyExpression,
    *,
    value: Decimal,
    quantities: Mapping[Unit, Decimal],
    rate_of: Callable[[str], Decimal],
    national_currency: str,
) -> Evaluation:
    """The duty of one item, unrounded, in national currency, with its formula and explanation.

    ``value``: the base (customs value) in national currency. ``quantities``: declared quantity per
    ``Unit`` (a unit mapped to ``None`` counts as not declared). ``rate_of(currency)``: national
    currency per unit of ``currency``; called at most once per currency and never for the national
    currency. A seasonal expression must be resolved with ``SeasonalExpression.on(day)`` first.
    """
    if not isinstance(expression, DutyExpression):
        raise TypeError(
            f"evaluate() takes a DutyExpression, not {type(expression).__name__} (seasonal: use .on())"
        )
    _require_decimal("value", value)
    for unit, quantity in quantities.items():
        if quantity is not None:  # None: not declared, the same as absent
            _require_decimal(f"quantity in {unit}", quantity)
    rates: dict[str, Decimal] = {national_currency: _ONE}
    lines: list[EvaluationLine] = []
    value_text = f"{_money(value)} {national_currency}"

    def total(terms: Sum, label: str) -> tuple[Decimal, str]:
        amount = _ZERO
        parts = []
        for term in terms.terms:
            if type(term) is AdValorem:
                rate_text = _plain(term.rate)
                term_amount = value * term.rate / _HUNDRED
                description = f"{label}{rate_text}% of {value_text}"
                parts.append(f"{rate_text}% × {_money(value)}")
            else:
                quantity = quantities.get(term.unit)
                if quantity is None:
                    raise MissingQuantityError(term.unit, expression.text or expression.to_text())
                currency = term.currency
                rate = rates.get(currency)
                if rate is None:
                    rate = rate_of(currency)
                    _require_decimal(f"exchange rate of {currency}", rate)
                    rates[currency] = rate
                in_currency = term.amount * quantity / term.per
                term_amount = in_currency * rate
                charged = f"{term.to_text()} × {_plain(quantity)} {_QUANTITY_SYMBOLS[term.unit]}"
                description = f"{label}{charged} = {_money(in_currency)} {currency}"
                if currency != national_currency:
                    description += f" × {_plain(rate)} {national_currency}/{currency}"
                    charged += f" × {_plain(rate)}"
                parts.append(charged)
            lines.append(EvaluationLine(description, term_amount))
            amount += term_amount
        return amount, " + ".join(parts)

    amount, formula = total(expression.terms, "")
    applied = "terms"
    if expression.minimum is not None:
        minimum, minimum_formula = total(expression.minimum, "minimum: ")
        formula = f"max({formula}; {minimum_formula})"
        if amount < minimum:
            amount, applied = minimum, "minimum"
    if expression.maximum is not None:
        maximum, maximum_formula = total(expression.maximum, "maximum: ")
        formula = f"min({formula}; {maximum_formula})"
        if amount > maximum:
            amount, applied = maximum, "maximum"
    return Evaluation(
        amount=amount, formula=f"{formula} = {_money(amount)}", lines=tuple(lines), applied=applied
    )
