"""Customs valuation, method 1 (transaction value), item by item, every step shown.

The customs value of an item is its invoice price plus the costs to the border of entry that the
Incoterm does not already include, converted to national currency at the rate in force on the date:

- EXW, FCA, FAS, FOB: main carriage (freight), loading and insurance are added;
- CFR, CPT: the price includes the main carriage; insurance is added;
- CIF, CIP: the price includes carriage and insurance: nothing is added for them;
- DAP, DPU, DDP: the price includes costs beyond the border, which are deducted when declared.
Other dutiable costs (commissions, royalties, packing) are always added.

Declaration-level costs are split over the items in proportion to invoice price; freight may be split
by gross mass instead. Rounding points (ROUND_HALF_UP, ``customs.money.round_money``): each amount
converted to national currency, then each item's share of a cost, by the largest-remainder method so
that the shares add up exactly to the cost. Customs value = sum of those rounded figures.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from customs.money import round_money
from tariff.choices import FreightApportionment


class ValuationError(ValueError):
    """Bad valuation input; ``field`` names the offending field."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name


@dataclass(frozen=True)
class IncotermTerms:
    """What an Incoterm's price already covers (from customs.Incoterm)."""

    code: str
    includes_main_carriage: bool
    includes_insurance: bool
    includes_costs_beyond_border: bool


@dataclass(frozen=True)
class Cost:
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class DeclaredCosts:
    """Costs declared for the whole declaration, each in its own currency."""

    freight: Cost | None = None
    insurance: Cost | None = None
    loading: Cost | None = None
    other: Cost | None = None
    beyond_border: Cost | None = None


@dataclass(frozen=True)
class ValuationStep:
    label: str
    amount: Decimal  # national currency, signed: deductions are negative
    detail: str = ""


@dataclass
class ItemValuation:
    invoice_price: Decimal
    invoice_currency: str
    steps: list[ValuationStep] = field(default_factory=list)

    @property
    def customs_value(self) -> Decimal:
        return sum((step.amount for step in self.steps), Decimal(0))


def apportion(total: Decimal, weights: Sequence[Decimal], minor_unit: int = 2) -> list[Decimal]:
    """Split ``total`` over ``weights`` in minor units so that the parts add up exactly to ``total``.

    Each part is first cut down to the minor unit; the units left over go one each to the parts with
    the largest remainders (ties: the earlier item).
    """
    weight_sum = sum(weights, Decimal(0))
    if weight_sum <= 0:
        raise ValueError("weights must add up to more than zero")
    unit = Decimal(1).scaleb(-minor_unit)
    exact = [total * weight / weight_sum for weight in weights]
    parts = [(share / unit).to_integral_value(rounding=ROUND_FLOOR) * unit for share in exact]
    left_over = int(((total - sum(parts, Decimal(0))) / unit).to_integral_value())
    by_remainder = sorted(range(len(parts)), key=lambda index: (-(exact[index] - parts[index]), index))
    for index in by_remainder[:left_over]:
        parts[index] += unit
    return parts


def _fmt(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def value_items(
    *,
    incoterm: IncotermTerms,
    invoice_currency: str,
    invoice_prices: Sequence[Decimal],
    gross_masses: Sequence[Decimal],
    costs: DeclaredCosts,
    freight_split: str,
    rate_of: Callable[[str], Decimal],
    national_currency: str,
    minor_unit: int = 2,
) -> list[ItemValuation]:
    """The customs value of each item with its steps, in national currency."""
    if not invoice_prices:
        raise ValuationError("items", _("A declaration needs at least one item."))
    for index, price in enumerate(invoice_prices):
        if price <= 0:
            raise ValuationError(f"items[{index}].invoice_price", _("The item price must be more than zero."))
    invoice_rate = rate_of(invoice_currency)
    valuations = []
    invoice_label = _("Invoice price")
    for price in invoice_prices:
        converted = round_money(price * invoice_rate, minor_unit)
        detail = (
            f"{_fmt(price)} {invoice_currency} × {invoice_rate.normalize():f} = "
            f"{_fmt(converted)} {national_currency}"
            if invoice_currency != national_currency
            else ""
        )
        valuations.append(
            ItemValuation(price, invoice_currency, [ValuationStep(invoice_label, converted, detail)])
        )

    # The labels are translated only for the costs declared (this runs for every lodgement).
    additions = [
        (
            "freight",
            costs.freight,
            gettext_noop("Freight to the border"),
            not incoterm.includes_main_carriage,
            +1,
        ),
        ("insurance", costs.insurance, gettext_noop("Insurance"), not incoterm.includes_insurance, +1),
        (
            "loading",
            costs.loading,
            gettext_noop("Loading and handling"),
            not incoterm.includes_main_carriage,
            +1,
        ),
        ("other", costs.other, gettext_noop("Other dutiable costs"), True, +1),
        (
            "beyond_border",
            costs.beyond_border,
            gettext_noop("Costs after the border (deducted)"),
            incoterm.includes_costs_beyond_border,
            -1,
        ),
    ]
    for name, cost, label_id, applies, sign in additions:
        if cost is None or cost.amount == 0:
            continue
        label = _(label_id)
        if cost.amount < 0:
            raise ValuationError(f"costs.{name}", _("A cost cannot be negative."))
        if not applies:
            note = _("included in the %(incoterm)s price, not added") % {"incoterm": incoterm.code}
            for valuation in valuations:
                valuation.steps.append(ValuationStep(label, Decimal(0), note))
            continue
        converted = round_money(cost.amount * rate_of(cost.currency), minor_unit)
        by_mass = name == "freight" and freight_split == FreightApportionment.BY_GROSS_MASS
        weights = list(gross_masses) if by_mass else [valuation.steps[0].amount for valuation in valuations]
        if by_mass and sum(weights, Decimal(0)) <= 0:
            raise ValuationError(
                "freight_split", _("Freight cannot be split by gross mass: no item has a mass.")
            )
        shares = apportion(converted, weights, minor_unit)
        basis = _("by gross mass") if by_mass else _("by invoice price")
        total_text = f"{_fmt(cost.amount)} {cost.currency} = {_fmt(converted)} {national_currency}"
        detail = _("share %(basis)s of %(total)s") % {"basis": basis, "total": total_text}
        for valuation, share in zip(valuations, shares, strict=True):
            valuation.steps.append(ValuationStep(label, sign * share, detail))
    for index, valuation in enumerate(valuations):
        if valuation.customs_value <= 0:
            raise ValuationError(f"items[{index}]", _("The deductions leave no customs value for this item."))
    return valuations
