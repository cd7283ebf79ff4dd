"""The amount at stake of a transit movement: the duties and taxes its goods would owe if they were
released for home use at destination, computed by the tariff engine at today's rates. It is what the
guarantee must cover for the journey.

A transit item may carry a six- or eight-digit code; then every declarable line under it is assessed
and the highest is taken, so that the guarantee covers whichever line the goods turn out to be. The
origin is unknown in transit: no preference is given (``ZZ``). Quantities a transit declaration does not
give are estimated upwards (``_quantities``). Each item's computation is kept, so the
figure can be explained line by line.
"""

import datetime
from decimal import Decimal

from django.utils.translation import gettext as _

from customs.money import round_money
from declarations.services.errors import FieldError
from tariff.engine import AssessmentError, AssessmentInput, ItemInput, assess, tariff_snapshot
from tariff.expressions import Unit

UNKNOWN_ORIGIN = "ZZ"
MAX_LINES_PER_ITEM = 60


def _quantities(item, net) -> dict:
    """The supplementary quantities a transit declaration does not give, estimated so that the amount
    at stake is not less than what the goods could owe: a piece per package, and a litre (of pure
    alcohol, at worst) per kilogram of net mass."""
    pieces = Decimal(item.packages_number or 1)
    return {
        Unit.ITEM: pieces,
        Unit.PAIR: pieces,
        Unit.HEAD: pieces,
        Unit.LITRE: net,
        Unit.LITRE_PURE_ALCOHOL: net,
    }


def _lines_under(snapshot, code: str) -> list[str]:
    if code in snapshot.lines and snapshot.lines[code].declarable:
        return [code]
    found = sorted(line for line, data in snapshot.lines.items() if line.startswith(code) and data.declarable)
    return found[:MAX_LINES_PER_ITEM]


def amount_at_stake(items, *, day: datetime.date) -> tuple[Decimal, list[dict], list[FieldError]]:
    """(total, per-item lines, errors) for ``items`` (objects with commodity_code, gross_mass, net_mass,
    value, currency)."""
    snapshot = tariff_snapshot(day)
    total, lines, errors = Decimal("0.00"), [], []
    for index, item in enumerate(items):
        where = f"items[{index}]"
        if item.value is None or not item.currency:
            errors.append(
                FieldError(
                    f"{where}.value",
                    "required",
                    _("The value and its currency are needed for the guarantee."),
                )
            )
            continue
        candidates = _lines_under(snapshot, item.commodity_code)
        if not candidates:
            errors.append(
                FieldError(
                    f"{where}.commodity_code",
                    "unknown_code",
                    _("No tariff line in force starts with %(code)s.") % {"code": item.commodity_code},
                )
            )
            continue
        best = None
        net = item.net_mass if item.net_mass is not None else item.gross_mass
        for code in candidates:
            try:
                assessment = assess(
                    AssessmentInput(
                        day=day,
                        direction="IM",
                        procedure_code="4000",
                        incoterm="CIF",
                        invoice_currency=item.currency,
                        items=[
                            ItemInput(
                                commodity_code=code,
                                origin=UNKNOWN_ORIGIN,
                                invoice_price=item.value,
                                gross_mass=item.gross_mass,
                                net_mass=net,
                                quantities=_quantities(item, net),
                            )
                        ],
                    )
                )
            except AssessmentError as error:
                if len(candidates) == 1:
                    field = error.field.replace("items[0]", where).replace(
                        "invoice_currency", f"{where}.currency"
                    )
                    errors.append(FieldError(field, "not_assessable", str(error)))
                continue
            taxes = assessment.items[0].taxes
            amount = sum((tax.amount for tax in taxes), Decimal(0))
            if best is None or amount > best["amount"]:
                best = {
                    "item": index + 1,
                    "commodity_code": code,
                    "customs_value": str(assessment.customs_value),
                    "amount": amount,
                    "taxes": [
                        {
                            "tax": tax.measure_type,
                            "base": str(tax.base),
                            "rate": tax.expression,
                            "amount": str(tax.amount),
                        }
                        for tax in taxes
                    ],
                    "lines_considered": len(candidates),
                }
        if best is None:
            if not any(error.field.startswith(where) for error in errors):
                errors.append(
                    FieldError(
                        f"{where}.commodity_code", "not_assessable", _("This item cannot be assessed.")
                    )
                )
            continue
        total += best["amount"]
        lines.append({**best, "amount": str(best["amount"])})
    return round_money(total), lines, errors
