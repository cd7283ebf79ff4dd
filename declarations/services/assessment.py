"""From a stored declaration to the tariff engine and back: the input, and the assessment kept.

The engine (``tariff.engine.assess``) does the arithmetic; this module only translates. What is kept
on the declaration: the date whose tariff and rates applied, every rate used, each item's customs
value and valuation steps, and one ``TaxLine`` row per tax and fee with base, rate, formula,
unrounded and rounded amount, and the measure. History is never recomputed: a re-assessment replaces
the lines in one transaction and the audit event keeps the totals before and after.
"""

import datetime
import json
from decimal import ROUND_HALF_UP, Decimal
from functools import cache

from django.db import connection

from customs.rows import model_new
from declarations.choices import FreightSplit, direction_of
from declarations.models import Declaration, DeclarationItem, TaxLine
from tariff.choices import FreightApportionment
from tariff.engine import Assessment, AssessmentInput, ItemInput
from tariff.expressions import Unit
from tariff.valuation import Cost, DeclaredCosts


def _cost(declaration, name) -> Cost | None:
    amount = getattr(declaration, f"{name}_amount")
    if amount is None:
        return None
    return Cost(amount, getattr(declaration, f"{name}_currency_id"))


def _documents_for(item_number: int, documents) -> frozenset[str]:
    return frozenset(
        document.document_type_id
        for document in documents
        if document.item_number is None or document.item_number == item_number
    )


def assessment_input(declaration: Declaration, items, documents, *, day: datetime.date) -> AssessmentInput:
    """The engine's input for ``declaration`` on ``day``."""
    item_inputs = []
    for item in items:
        quantities = {Unit(unit): Decimal(str(value)) for unit, value in (item.quantities or {}).items()}
        item_inputs.append(
            ItemInput(
                commodity_code=item.commodity_code,
                origin=item.origin_id or "",
                invoice_price=item.invoice_price or Decimal(0),
                gross_mass=item.gross_mass or Decimal(0),
                net_mass=item.net_mass or Decimal(0),
                preference_requested=item.preference_requested,
                documents=_documents_for(item.number, documents),
                quantities=quantities,
                procedure_code=item.procedure_code_id or "",
            )
        )
    first_cpc = next((item.procedure_code_id for item in items if item.procedure_code_id), "")
    return AssessmentInput(
        day=day,
        direction=direction_of(declaration.declaration_type),
        procedure_code=first_cpc or "",
        incoterm=declaration.incoterm_id or "",
        invoice_currency=declaration.invoice_currency_id or "",
        items=item_inputs,
        costs=DeclaredCosts(
            freight=_cost(declaration, "freight"),
            insurance=_cost(declaration, "insurance"),
            other=_cost(declaration, "other_costs"),
            beyond_border=_cost(declaration, "deductions"),
        ),
        # The engine names the split by its own choices ("gross_mass"), not the declaration's ("mass").
        freight_split=(
            FreightApportionment.BY_GROSS_MASS
            if declaration.freight_split == FreightSplit.MASS
            else FreightApportionment.BY_PRICE
        ),
    )


def _steps_json(valuation) -> list[dict]:
    return [
        {"label": str(step.label), "amount": str(step.amount), "detail": step.detail}
        for step in valuation.steps
    ]


def assessment_apply(
    declaration: Declaration, items: list[DeclarationItem], assessment: Assessment
) -> list[TaxLine]:
    """Set ``assessment`` on the declaration and its items (in memory) and return its tax lines,
    unsaved; ``assessment_store`` writes them, a new declaration's caller inserts them."""
    lines = []
    position = 0
    for item, assessed in zip(items, assessment.items, strict=True):
        item.customs_value = _as_stored(DeclarationItem, "customs_value", assessed.customs_value)
        item.valuation_steps = _steps_json(assessed.valuation)
        for tax in assessed.taxes:
            position += 1
            lines.append(_line(declaration, item.number, position, tax))
    for fee in assessment.fees:
        position += 1
        lines.append(_line(declaration, None, position, fee))
    declaration.reference_date = assessment.day
    declaration.exchange_rates = {currency: str(rate) for currency, rate in sorted(assessment.rates.items())}
    declaration.customs_value = _as_stored(Declaration, "customs_value", assessment.customs_value)
    declaration.total_taxes = _as_stored(Declaration, "total_taxes", assessment.total)
    declaration.assessment_warnings = assessment.warnings
    return lines


def assessment_store(declaration: Declaration, items: list[DeclarationItem], assessment: Assessment) -> None:
    """Write ``assessment`` onto a stored declaration: its fields set (not saved), its items' values
    and its tax lines written. Inside the caller's transaction; a constant number of queries."""
    reassessment = declaration.assessed_at is not None
    lines = assessment_apply(declaration, items, assessment)
    if reassessment:  # a re-assessment replaces the lines
        TaxLine.objects.filter(declaration=declaration).delete()
    TaxLine.objects.bulk_create(lines)
    _items_valuation_update(items)


def _items_valuation_update(items: list[DeclarationItem]) -> None:
    """Write each item's customs value and valuation steps in one UPDATE ... FROM (VALUES ...).

    ``bulk_update`` would build a CASE per column and row; on the lodgement hot path one plain
    statement is several times cheaper.
    """
    if not items:
        return
    table = DeclarationItem._meta.db_table
    rows = ", ".join(["(%s, %s::numeric, %s::jsonb)"] * len(items))
    parameters = []
    for item in items:
        parameters += [item.pk, item.customs_value, json.dumps(item.valuation_steps)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS item SET customs_value = v.customs_value, valuation_steps = v.steps "  # noqa: S608
            f"FROM (VALUES {rows}) AS v(id, customs_value, steps) WHERE item.id = v.id",
            parameters,
        )


@cache
def _exponent(model, name: str) -> Decimal:
    return Decimal(1).scaleb(-model._meta.get_field(name).decimal_places)


def _as_stored(model, name: str, value: Decimal) -> Decimal:
    """``value`` as the column ``name`` of ``model`` keeps it (its decimal places, ties away from zero
    as PostgreSQL rounds), so that an answer built from the rows just written (the API's, after a
    lodgement) shows what a read of them gives, whatever the national currency's minor unit."""
    return value.quantize(_exponent(model, name), ROUND_HALF_UP)


def _line(declaration, item_number, position, tax) -> TaxLine:
    return model_new(
        TaxLine,
        declaration=declaration,
        item_number=item_number,
        position=position,
        measure_type=tax.measure_type,
        label=str(tax.label)[:255],
        base=_as_stored(TaxLine, "base", tax.base),
        expression=tax.expression[:255],
        formula=tax.formula,
        unrounded=_as_stored(TaxLine, "unrounded", tax.unrounded),
        amount=_as_stored(TaxLine, "amount", tax.amount),
        measure_id=tax.measure_id,
        note=str(tax.note)[:255],
    )
