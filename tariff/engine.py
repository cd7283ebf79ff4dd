"""The duty engine: one assessment of a declaration, every figure explained.

``assess(AssessmentInput)`` values each item (``tariff.valuation``), picks the measures in force on the
declaration's date for each item and tax, evaluates their duty expressions (``tariff.expressions``),
and adds the per-declaration fees. The same function serves the public simulator, the API and the
declarations module.

Which measure applies, per item and measure type (most specific first):
1. a relief for the declared CPC, if its required document is attached (else a warning);
2. a preferential rate for the item's origin (country or group), if the declarant asked for the
   preference and attached the proof of origin (else a warning, and the general rate);
3. the erga omnes rate with the longest matching commodity-code prefix.

Bases: import duty and export duty on the customs value; excise on customs value + import duty; VAT
on customs value + import duty + excise. Each tax amount is rounded once, per item, to the national
currency's minor unit, ROUND_HALF_UP; the breakdown keeps the unrounded figure beside it.

Measures (and the exchange rates in force) are read once per day into a ``TariffSnapshot`` held in
memory for ``SNAPSHOT_SECONDS`` (or until ``tariff_cache_clear()``, which the tariff imports call after
a change); a rate missing from the snapshot is looked up in the database.
"""

import datetime
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _

from customs.models import CountryGroup, Currency, ExchangeRate, Incoterm
from customs.money import round_money
from customs.services.exchange_rates import ExchangeRateMissing, exchange_rate_on
from tariff.choices import FeeKind, MeasureType, NonTariffKind
from tariff.expressions import DutyExpressionError, SeasonalExpression, Unit, evaluate, parse_duty_expression
from tariff.models import CommodityCode, CustomsFee, Measure, NonTariffMeasure
from tariff.valuation import DeclaredCosts, IncotermTerms, ItemValuation, ValuationError, value_items

SNAPSHOT_SECONDS = 300
# Far above any real consignment: an amount or quantity beyond it is a typing error, not a declaration.
ABSURD_AMOUNT = Decimal("1000000000000")
IMPORT, EXPORT = "IM", "EX"


class AssessmentError(ValueError):
    """Input the engine cannot assess; ``field`` names the field (``items[2].commodity_code``)."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name


# ---------------------------------------------------------------------------------------------- input


@dataclass(frozen=True)
class ItemInput:
    commodity_code: str
    origin: str
    invoice_price: Decimal
    gross_mass: Decimal
    net_mass: Decimal
    preference_requested: bool = False
    documents: frozenset[str] = frozenset()
    quantities: dict = field(default_factory=dict)  # Unit -> Decimal, supplementary quantities
    procedure_code: str = ""  # the item's own CPC; empty: the declaration's


@dataclass(frozen=True)
class AssessmentInput:
    day: datetime.date
    direction: str
    procedure_code: str
    incoterm: str
    invoice_currency: str
    items: Sequence[ItemInput]
    costs: DeclaredCosts = DeclaredCosts()
    freight_split: str = "price"


# --------------------------------------------------------------------------------------------- output


@dataclass(frozen=True)
class TaxLine:
    """One tax on one item (or one fee on the declaration), explained."""

    measure_type: str
    label: str
    base: Decimal
    expression: str
    formula: str
    unrounded: Decimal
    amount: Decimal
    measure_id: int | None = None
    note: str = ""


@dataclass(frozen=True)
class Restriction:
    kind: str
    label: str
    document_type: str
    satisfied: bool
    description: str


@dataclass
class ItemAssessment:
    number: int
    commodity_code: str
    description: str
    origin: str
    valuation: ItemValuation
    taxes: list[TaxLine] = field(default_factory=list)
    restrictions: list[Restriction] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # (what, document type code) of each relief or preference not applied for want of its document
    missing_documents: list[tuple[str, str]] = field(default_factory=list)

    @property
    def customs_value(self) -> Decimal:
        return self.valuation.customs_value

    @property
    def total(self) -> Decimal:
        return sum((tax.amount for tax in self.taxes), Decimal(0))


@dataclass
class Assessment:
    day: datetime.date
    national_currency: str
    rates: dict[str, Decimal]
    items: list[ItemAssessment]
    fees: list[TaxLine]

    @property
    def customs_value(self) -> Decimal:
        return sum((item.customs_value for item in self.items), Decimal(0))

    @property
    def totals(self) -> dict[str, Decimal]:
        totals: dict[str, Decimal] = defaultdict(Decimal)
        for item in self.items:
            for tax in item.taxes:
                totals[tax.measure_type] += tax.amount
        for fee in self.fees:
            totals[fee.measure_type] += fee.amount
        return dict(totals)

    @property
    def total(self) -> Decimal:
        return sum(self.totals.values(), Decimal(0))

    @property
    def warnings(self) -> list[str]:
        return [f"{item.number}: {warning}" for item in self.items for warning in item.warnings]


# ------------------------------------------------------------------------------------------ snapshot


@dataclass(frozen=True)
class LoadedMeasure:
    id: int
    measure_type: str
    prefix: str
    text: str
    expression: object  # DutyExpression | SeasonalExpression
    origins: frozenset[str] | None  # None: erga omnes; else the countries it covers
    origin_label: str
    procedure_code: str
    required_document: str

    @property
    def label(self) -> str:
        return MeasureType(self.measure_type).label


@dataclass(frozen=True)
class LoadedLine:
    code: str
    description: str
    declarable: bool


@dataclass
class TariffSnapshot:
    """Everything the engine reads for one day, indexed for lookups by commodity-code prefix."""

    day: datetime.date
    lines: dict[str, LoadedLine]
    measures: dict[tuple[str, str], list[LoadedMeasure]]  # (measure_type, prefix) -> measures
    restrictions: dict[str, list[NonTariffMeasure]]
    group_members: dict[str, frozenset[str]]
    fees: list[CustomsFee]
    incoterms: dict[str, IncotermTerms]
    minor_units: dict[str, int]
    rejected_measures: list[tuple[int, str]]
    loaded_at: float
    rates: dict[str, Decimal] = field(default_factory=dict)

    @classmethod
    def load(cls, day: datetime.date) -> "TariffSnapshot":
        current = Q(valid_from__lte=day) & (Q(valid_to__isnull=True) | Q(valid_to__gte=day))
        group_members = {
            group.code: frozenset(country.code for country in group.countries.all())
            for group in CountryGroup.objects.prefetch_related("countries")
        }
        lines = {
            code: LoadedLine(code, description, declarable)
            for code, description, declarable in CommodityCode.objects.filter(current).values_list(
                "code", "description_en", "declarable"
            )
        }
        measures: dict[tuple[str, str], list[LoadedMeasure]] = defaultdict(list)
        rejected = []
        rows = Measure.objects.filter(current).values_list(
            "id",
            "measure_type",
            "commodity_prefix",
            "expression",
            "origin_country__code",
            "origin_group__code",
            "procedure_code__code",
            "required_document__code",
        )
        for pk, measure_type, prefix, text, country, group, cpc, document in rows:
            try:
                expression = parse_duty_expression(text)
            except DutyExpressionError as error:
                rejected.append((pk, str(error)))
                continue
            origins = frozenset([country]) if country else group_members.get(group) if group else None
            measures[(measure_type, prefix)].append(
                LoadedMeasure(
                    pk,
                    measure_type,
                    prefix,
                    text,
                    expression,
                    origins,
                    country or group or "",
                    cpc or "",
                    document or "",
                )
            )
        restrictions: dict[str, list[NonTariffMeasure]] = defaultdict(list)
        for restriction in NonTariffMeasure.objects.filter(current).select_related(
            "origin_country", "origin_group", "document_type"
        ):
            restrictions[restriction.commodity_prefix].append(restriction)
        incoterms = {
            term.code: IncotermTerms(
                term.code,
                term.includes_main_carriage,
                term.includes_insurance,
                term.includes_costs_beyond_border,
            )
            for term in Incoterm.objects.filter(active=True)
        }
        return cls(
            day=day,
            lines=lines,
            measures=dict(measures),
            restrictions=dict(restrictions),
            group_members=group_members,
            fees=list(CustomsFee.objects.filter(current)),
            incoterms=incoterms,
            minor_units=dict(Currency.objects.values_list("code", "minor_unit")),
            rejected_measures=rejected,
            loaded_at=time.monotonic(),
            rates=_rates_in_force(day),
        )

    def candidates(self, measure_type: str, code: str) -> list[LoadedMeasure]:
        """Measures of the type whose prefix matches ``code``, longest prefix first."""
        found = []
        for length in range(len(code), -1, -1):
            found.extend(self.measures.get((measure_type, code[:length]), ()))
        return found


def _rates_in_force(day: datetime.date) -> dict[str, Decimal]:
    """Each currency's rate in force on ``day`` (the same rule as ``exchange_rate_on``), in one query."""
    earliest = day - datetime.timedelta(days=settings.EXCHANGE_RATE_MAX_AGE_DAYS)
    rows = (
        ExchangeRate.objects.filter(valid_from__lte=day, valid_from__gte=earliest)
        .order_by("currency__code", "-valid_from")
        .distinct("currency__code")
        .values_list("currency__code", "rate")
    )
    return dict(rows)


_snapshots: dict[datetime.date, TariffSnapshot] = {}
_snapshots_lock = threading.Lock()


def tariff_snapshot(day: datetime.date) -> TariffSnapshot:
    """The cached snapshot of the tariff in force on ``day``."""
    snapshot = _snapshots.get(day)
    if snapshot is None or time.monotonic() - snapshot.loaded_at > SNAPSHOT_SECONDS:
        snapshot = TariffSnapshot.load(day)
        with _snapshots_lock:
            _snapshots[day] = snapshot
    return snapshot


def tariff_cache_clear() -> None:
    """Forget every snapshot; call after any change to the tariff."""
    with _snapshots_lock:
        _snapshots.clear()


# ---------------------------------------------------------------------------------------------- engine


class _Rates:
    """Exchange rates of the day, looked up once each; a missing one names the field that needed it."""

    def __init__(self, day, national_currency, known: dict[str, Decimal]):
        self.day, self.national_currency, self.used, self.known = day, national_currency, {}, known

    def of(self, currency: str, field_name: str) -> Decimal:
        if currency not in self.used and currency in self.known:
            self.used[currency] = self.known[currency]
        if currency not in self.used:
            try:
                self.used[currency] = exchange_rate_on(currency, self.day).rate
            except ExchangeRateMissing as error:
                raise AssessmentError(field_name, str(error)) from error
        return self.used[currency]


RELIEF, PREFERENCE = "relief", "preference"


def _choose(
    snapshot, measure_type, item: ItemInput, procedure_code, warnings, missing
) -> tuple[LoadedMeasure | None, str]:
    candidates = snapshot.candidates(measure_type, item.commodity_code)
    for measure in candidates:
        if measure.procedure_code and measure.procedure_code == procedure_code:
            if not measure.required_document or measure.required_document in item.documents:
                return measure, _("relief for procedure %(cpc)s") % {"cpc": procedure_code}
            warnings.append(
                _(
                    "%(tax)s: the relief for procedure %(cpc)s needs document %(document)s; "
                    "it was not applied."
                )
                % {
                    "tax": MeasureType(measure_type).label,
                    "cpc": procedure_code,
                    "document": measure.required_document,
                }
            )
            missing.append((RELIEF, measure.required_document))
            break
    if item.preference_requested:
        for measure in candidates:
            if measure.origins is not None and not measure.procedure_code and item.origin in measure.origins:
                if not measure.required_document or measure.required_document in item.documents:
                    return measure, _("preferential rate for origin %(origin)s (%(group)s)") % {
                        "origin": item.origin,
                        "group": measure.origin_label,
                    }
                warnings.append(
                    _(
                        "%(tax)s: a preference was asked for but the proof of origin %(document)s is not "
                        "attached; the general rate applies."
                    )
                    % {"tax": MeasureType(measure_type).label, "document": measure.required_document}
                )
                missing.append((PREFERENCE, measure.required_document))
                break
    for measure in candidates:
        if measure.origins is None and not measure.procedure_code:
            return measure, ""
    return None, ""


def _evaluate(
    measure: LoadedMeasure, *, day, base, quantities, rates, national_currency, minor_unit, field_name
):
    try:
        expression = measure.expression
        if isinstance(expression, SeasonalExpression):
            expression = expression.on(day)
        evaluation = evaluate(
            expression,
            value=base,
            quantities=quantities,
            rate_of=lambda currency: rates.of(currency, field_name),
            national_currency=national_currency,
        )
    except DutyExpressionError as error:
        raise AssessmentError(field_name, str(error)) from error
    return evaluation, round_money(evaluation.amount, minor_unit)


_MEASURE_LABELS: dict[tuple[str | None, str], str] = {}


def _measure_label(measure_type: str) -> str:
    """The tax's name in the active language, translated once per process and language (every tax
    line of every assessment carries one)."""
    key = (translation.get_language(), measure_type)
    label = _MEASURE_LABELS.get(key)
    if label is None:
        label = _MEASURE_LABELS[key] = str(MeasureType(measure_type).label)
    return label


def assess(declaration: AssessmentInput) -> Assessment:
    """Assess a declaration as of ``declaration.day``. Raises AssessmentError naming the field."""
    national = settings.NATIONAL_CURRENCY
    snapshot = tariff_snapshot(declaration.day)
    minor_unit = snapshot.minor_units.get(national, 2)
    rates = _Rates(declaration.day, national, snapshot.rates)
    if declaration.direction not in (IMPORT, EXPORT):
        raise AssessmentError("direction", _("The direction must be IM (import) or EX (export)."))
    incoterm = snapshot.incoterms.get(declaration.incoterm)
    if incoterm is None:
        raise AssessmentError(
            "incoterm", _("%(code)s is not an Incoterms 2020 rule.") % {"code": declaration.incoterm}
        )
    for index, item in enumerate(declaration.items):
        _check_item(snapshot, item, index, declaration.day)
    costs = declaration.costs
    cost_fields = {"freight", "insurance", "loading", "other", "beyond_border"}

    def rate_for_valuation(currency):
        field_name = "invoice_currency" if currency == declaration.invoice_currency else "costs"
        for name in cost_fields:
            cost = getattr(costs, name)
            if cost is not None and cost.currency == currency and currency != declaration.invoice_currency:
                field_name = f"costs.{name}"
        return rates.of(currency, field_name)

    try:
        valuations = value_items(
            incoterm=incoterm,
            invoice_currency=declaration.invoice_currency,
            invoice_prices=[item.invoice_price for item in declaration.items],
            gross_masses=[item.gross_mass for item in declaration.items],
            costs=costs,
            freight_split=declaration.freight_split,
            rate_of=rate_for_valuation,
            national_currency=national,
            minor_unit=minor_unit,
        )
    except ValuationError as error:
        raise AssessmentError(error.field, str(error)) from error

    measure_types = (
        [MeasureType.IMPORT_DUTY, MeasureType.EXCISE, MeasureType.VAT]
        if declaration.direction == IMPORT
        else [MeasureType.EXPORT_DUTY]
    )
    items = []
    for index, (item, valuation) in enumerate(zip(declaration.items, valuations, strict=True)):
        line = snapshot.lines[item.commodity_code]
        assessed = ItemAssessment(index + 1, item.commodity_code, line.description, item.origin, valuation)
        quantities = {Unit.KG: item.net_mass, Unit.KG_GROSS: item.gross_mass, **item.quantities}
        customs_value = valuation.customs_value
        for measure_type in measure_types:
            measure, note = _choose(
                snapshot,
                measure_type,
                item,
                item.procedure_code or declaration.procedure_code,
                assessed.warnings,
                assessed.missing_documents,
            )
            if measure is None:
                if measure_type == MeasureType.IMPORT_DUTY:
                    raise AssessmentError(
                        f"items[{index}].commodity_code",
                        _("No import duty is set for %(code)s on %(date)s.")
                        % {"code": item.commodity_code, "date": declaration.day.isoformat()},
                    )
                continue
            duty_so_far = sum((tax.amount for tax in assessed.taxes), Decimal(0))
            base = customs_value + (
                duty_so_far if measure_type in (MeasureType.EXCISE, MeasureType.VAT) else 0
            )
            evaluation, amount = _evaluate(
                measure,
                day=declaration.day,
                base=base,
                quantities=quantities,
                rates=rates,
                national_currency=national,
                minor_unit=minor_unit,
                field_name=f"items[{index}].quantities",
            )
            assessed.taxes.append(
                TaxLine(
                    measure_type=measure_type,
                    label=_measure_label(measure_type),
                    base=base,
                    expression=measure.text,
                    formula=evaluation.formula,
                    unrounded=evaluation.amount,
                    amount=amount,
                    measure_id=measure.id,
                    note=note,
                )
            )
        assessed.restrictions = _restrictions(snapshot, item)
        for restriction in assessed.restrictions:
            if not restriction.satisfied:
                assessed.warnings.append(restriction.description)
        items.append(assessed)

    fees = _fees(snapshot, declaration, sum((item.customs_value for item in items), Decimal(0)), minor_unit)
    return Assessment(declaration.day, national, dict(rates.used), items, fees)


def _check_item(snapshot: TariffSnapshot, item: ItemInput, index: int, day: datetime.date) -> None:
    prefix = f"items[{index}]"
    line = snapshot.lines.get(item.commodity_code)
    if line is None:
        from tariff.selectors import CommodityCodeNotFound, commodity_code_get

        try:
            commodity_code_get(item.commodity_code, on_day=day)
        except CommodityCodeNotFound as error:
            raise AssessmentError(f"{prefix}.commodity_code", str(error)) from error
        raise AssessmentError(
            f"{prefix}.commodity_code", _("Unknown commodity code %(code)s.") % {"code": item.commodity_code}
        )
    if not line.declarable:
        raise AssessmentError(
            f"{prefix}.commodity_code",
            _("%(code)s is not a declarable line; choose one of its subdivisions.")
            % {"code": item.commodity_code},
        )
    # Messages are translated only when a check fails: this runs for every item of every lodgement.
    if item.gross_mass < 0:
        raise AssessmentError(f"{prefix}.gross_mass", _("The gross mass cannot be negative."))
    if item.net_mass < 0:
        raise AssessmentError(f"{prefix}.net_mass", _("The net mass cannot be negative."))
    for name in ("invoice_price", "gross_mass", "net_mass"):
        if getattr(item, name) > ABSURD_AMOUNT:
            raise AssessmentError(f"{prefix}.{name}", _("This figure is too large to be real; check it."))
    if item.net_mass > item.gross_mass:
        raise AssessmentError(f"{prefix}.net_mass", _("The net mass cannot exceed the gross mass."))
    for unit, quantity in item.quantities.items():
        if quantity < 0:
            raise AssessmentError(f"{prefix}.quantities.{unit}", _("A quantity cannot be negative."))
    if len(item.origin) != 2 or not item.origin.isalpha():
        raise AssessmentError(f"{prefix}.origin", _("The origin must be a two-letter country code."))


def _restrictions(snapshot: TariffSnapshot, item: ItemInput) -> list[Restriction]:
    found = []
    code = item.commodity_code
    for length in range(len(code), 0, -1):
        for restriction in snapshot.restrictions.get(code[:length], ()):
            if restriction.origin_country_id and restriction.origin_country.code != item.origin:
                continue
            if restriction.origin_group_id and item.origin not in snapshot.group_members.get(
                restriction.origin_group.code, ()
            ):
                continue
            document = restriction.document_type.code if restriction.document_type_id else ""
            satisfied = restriction.kind != NonTariffKind.PROHIBITED and (
                not document or document in item.documents
            )
            if restriction.kind == NonTariffKind.PROHIBITED:
                text = _("%(code)s from %(origin)s is prohibited.") % {"code": code, "origin": item.origin}
            elif satisfied:
                text = _("%(kind)s: document %(document)s is attached.") % {
                    "kind": restriction.get_kind_display(),
                    "document": document,
                }
            else:
                text = _("%(kind)s: attach document %(document)s.") % {
                    "kind": restriction.get_kind_display(),
                    "document": document or "—",
                }
            if restriction.description:
                text = f"{text} {restriction.description}"
            found.append(
                Restriction(restriction.kind, str(restriction.get_kind_display()), document, satisfied, text)
            )
    return found


def _fees(snapshot, declaration, total_customs_value, minor_unit) -> list[TaxLine]:
    lines = []
    for fee in snapshot.fees:
        if fee.direction != declaration.direction:
            continue
        if fee.kind == FeeKind.FLAT:
            unrounded = fee.amount
            formula = _("flat %(amount)s") % {"amount": fee.amount}
        else:
            unrounded = total_customs_value * fee.percent / 100
            formula = f"{fee.percent.normalize()}% × {total_customs_value:,.2f} = {unrounded:,.4f}"
            if fee.minimum is not None and unrounded < fee.minimum:
                unrounded, formula = (
                    fee.minimum,
                    formula + _(" → minimum %(amount)s") % {"amount": fee.minimum},
                )
            if fee.maximum is not None and unrounded > fee.maximum:
                unrounded, formula = (
                    fee.maximum,
                    formula + _(" → maximum %(amount)s") % {"amount": fee.maximum},
                )
        lines.append(
            TaxLine(
                measure_type="customs_fee",
                label=getattr(fee, f"name_{(translation.get_language() or 'en')[:2]}", "") or fee.name_en,
                base=total_customs_value,
                expression=f"{fee.code}",
                formula=formula,
                unrounded=unrounded,
                amount=round_money(unrounded, minor_unit),
                measure_id=fee.pk,
            )
        )
    return lines


@dataclass(frozen=True)
class LineMeasures:
    """What applies to one line on one day, for the tariff browser."""

    general: list[LoadedMeasure]
    preferential: list[LoadedMeasure]
    reliefs: list[LoadedMeasure]
    restrictions: list[NonTariffMeasure]


def line_measures(code: str, day: datetime.date) -> LineMeasures:
    """The measures in force on ``day`` for ``code``: per type the general rate that wins (longest
    prefix), every preferential rate and relief, and the non-tariff measures."""
    snapshot = tariff_snapshot(day)
    general, preferential, reliefs = [], [], []
    for measure_type in MeasureType:
        winner_found = False
        for measure in snapshot.candidates(measure_type, code):
            if measure.procedure_code:
                reliefs.append(measure)
            elif measure.origins is not None:
                preferential.append(measure)
            elif not winner_found:
                general.append(measure)
                winner_found = True
    restrictions = [
        restriction
        for length in range(len(code), 0, -1)
        for restriction in snapshot.restrictions.get(code[:length], ())
    ]
    return LineMeasures(general, preferential, reliefs, restrictions)
