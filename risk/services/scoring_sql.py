"""The two statements of a scoring (``risk.services.selectivity``), their texts built once.

Scoring is the hot path of the Celery worker: every registered declaration is scored once, and the ORM
would spend more CPU compiling its querysets than PostgreSQL spends running them. So:

- ``declaration_for_scoring`` locks the declaration's row (only that row, ``FOR UPDATE OF``, as
  ``declarations.services.locking.declaration_lock`` does) and reads in the same statement its office,
  trader and broker (as instances the ORM would give, related caches filled as ``select_related``
  fills them), whether it has a ``Selectivity`` already, and the few item fields the criteria look at;
- ``scoring_write`` inserts the ``Selectivity``, its criterion hits and, for a blue lane, the place in
  the post-clearance audit queue, as JSON parameters (``customs.rows``).

Both texts never change, so PostgreSQL plans them once per connection (server-side binding).
"""

import json
from decimal import Decimal
from functools import cache
from typing import NamedTuple

from django.db import connection

from customs.models import Broker, CustomsOffice, Trader
from customs.rows import (
    column_converters,
    insert_sql,
    instance_from_row,
    row_json,
    rows_json,
    rows_stored,
)
from declarations.models import Declaration, DeclarationItem
from risk.models import CriterionHit, PostClearanceAudit, Selectivity


class ItemRow(NamedTuple):
    """The fields of a declaration item the criteria look at (named as on ``DeclarationItem``)."""

    number: int
    commodity_code: str
    origin_id: str | None
    procedure_code_id: str | None
    additional_procedure_code_id: str | None
    customs_value: Decimal | None
    net_mass: Decimal | None
    quantities: dict
    preference_requested: bool


# (model, alias in the statement, the declaration's field that holds it) in the order of the columns.
_MODELS = (
    (Declaration, "declaration", None),
    (CustomsOffice, "office", "office"),
    (Trader, "trader", "trader"),
    (Broker, "broker", "broker"),
)
_ITEM_FIELDS = (
    "number",
    "commodity_code",
    "origin_id",
    "procedure_code_id",
    "additional_procedure_code_id",
    "customs_value",
    "net_mass",
    "quantities",
    "preference_requested",
)
_ITEM_TEXT = frozenset({"customs_value", "net_mass"})  # decimals travel as their exact text


@cache
def _read() -> tuple[str, tuple]:
    """The locked read's text, and for each model its field names, where its columns start, and the
    converters of its columns (those the ORM would apply: JSON fields are decoded from their text)."""
    columns, layouts, start = [], [], 0
    for model, alias, relation in _MODELS:
        fields = model._meta.concrete_fields
        columns.extend(f'{alias}."{field.column}"' for field in fields)
        converters = column_converters(model, alias)
        layouts.append((model, relation, [field.attname for field in fields], start, len(fields), converters))
        start += len(fields)
    item = {name: DeclarationItem._meta.get_field(name).column for name in _ITEM_FIELDS}
    item_values = ", ".join(
        f'item."{column}"::text' if name in _ITEM_TEXT else f'item."{column}"'
        for name, column in item.items()
    )
    sql = f"""
SELECT {", ".join(columns)}, selectivity.id,
    (SELECT json_agg(json_build_array({item_values}) ORDER BY item."{item["number"]}")
       FROM {DeclarationItem._meta.db_table} AS item
      WHERE item."{DeclarationItem._meta.get_field("declaration").column}" = declaration.id)::text
FROM {Declaration._meta.db_table} AS declaration
JOIN {CustomsOffice._meta.db_table} AS office ON office.id = declaration.office_id
JOIN {Trader._meta.db_table} AS trader ON trader.id = declaration.trader_id
LEFT JOIN {Broker._meta.db_table} AS broker ON broker.id = declaration.broker_id
LEFT JOIN {Selectivity._meta.db_table} AS selectivity ON selectivity.declaration_id = declaration.id
WHERE declaration.id = %s
FOR UPDATE OF declaration
"""  # noqa: S608 (names from the models, the id a parameter)
    return sql, tuple(layouts)


def declaration_for_scoring(declaration_id: int) -> tuple[Declaration, bool, list[ItemRow]] | None:
    """Lock declaration ``declaration_id`` until commit and read it for scoring: the declaration (its
    office, trader and broker with it), whether it has a ``Selectivity``, and its items (by number).
    ``None`` when there is no such declaration."""
    sql, layouts = _read()
    with connection.cursor() as cursor:
        cursor.execute(sql, [declaration_id])
        row = cursor.fetchone()
    if row is None:
        return None
    declaration = None
    for model, relation, names, start, count, converters in layouts:
        values = row[start : start + count]
        if relation is None:
            declaration = instance_from_row(model, names, values, converters)
            continue
        related = None if values[0] is None else instance_from_row(model, names, values, converters)
        Declaration._meta.get_field(relation).set_cached_value(declaration, related)
    scored, items_json = row[-2] is not None, row[-1]
    items = []
    for values in json.loads(items_json) if items_json else ():
        fields = dict(zip(_ITEM_FIELDS, values, strict=True))
        for name in _ITEM_TEXT:
            if fields[name] is not None:
                fields[name] = Decimal(fields[name])
        items.append(ItemRow(**fields))
    return declaration, scored, items


_AUDIT_QUEUED_ALREADY = "ON CONFLICT (declaration_id) DO NOTHING RETURNING id"


@cache
def _write() -> str:
    return f"""
WITH selectivity AS ({insert_sql(Selectivity, then="RETURNING id")}),
hits AS ({insert_sql(CriterionHit, many=True, then="RETURNING id")}),
audit_queue AS ({insert_sql(PostClearanceAudit, many=True, then=_AUDIT_QUEUED_ALREADY)})
SELECT selectivity.id, (SELECT json_agg(hits.id ORDER BY hits.id) FROM hits)::text FROM selectivity
"""


def scoring_write(
    selectivity: Selectivity, hits: list[CriterionHit], audit: PostClearanceAudit | None
) -> None:
    """Insert ``selectivity``, its ``hits`` (in their order) and, unless the declaration has one
    already (``get_or_create``), ``audit``: its place in the post-clearance audit queue. One statement;
    ``selectivity`` and ``hits`` come back saved, with their ids."""
    audits = [audit] if audit is not None else []
    with connection.cursor() as cursor:
        cursor.execute(
            _write(),
            [row_json(selectivity), rows_json(CriterionHit, hits), rows_json(PostClearanceAudit, audits)],
        )
        selectivity_id, hit_ids = cursor.fetchone()
    rows_stored([selectivity], [selectivity_id])
    rows_stored(hits, json.loads(hit_ids) if hit_ids else [])
