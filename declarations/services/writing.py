"""A declaration registered in one statement: a new one (``declaration_write_new``: the row with its
registration and assessment numbers, its items, its tax lines and its status changes), or a stored one
(``declaration_write_registered``: the row updated with its numbers, its items' values, its tax lines
and its status changes).

The lodgement hot path (``declaration_submit``): the ORM would send six statements (an insert per
table, two numbers, an update for them), each compiled anew and with every value adapted one by one.
Here one statement with data-modifying CTEs takes the numbers (``number_take_sql``) and inserts the
rows, which travel as four JSON parameters (``customs.rows``). Its text never changes, so PostgreSQL
plans it once per connection.

A stored draft lodged (or a lodged declaration registered) is written the same way: the ORM's path
was six statements (the status changes, two numbers, the tax lines, the items' values, the row).

Numbers are gap-free because they are taken in the same transaction as the rows that carry them; the
series' row stays locked until commit, and the caller writes only its audit event and its events
after this statement. The C number is taken before the A number in every statement that takes both,
so two registrations at one office never wait on each other's series in opposite orders.
"""

from functools import cache

from django.db import IntegrityError, connection

from customs.jsontext import json_text
from customs.rows import insert_columns, row_json, rows_json, rows_stored
from customs.services.numbering import number_take_sql
from declarations.choices import ASSESSMENT_SERIES, REGISTRATION_SERIES, direction_of
from declarations.models import Declaration, DeclarationItem, StatusChange, TaxLine
from declarations.services.errors import DeclarationInvalid, lrn_error

_NUMBERED = ("registration_number", "assessment_number")


def _select(columns: list[str]) -> str:
    return ", ".join(f"row.{column}" for column in columns)


def _children(model) -> str:
    """Insert the rows of ``model`` given as a JSON array, under the new declaration."""
    table = model._meta.db_table
    columns = insert_columns(model, exclude=("declaration_id",))
    return (
        f"INSERT INTO {table} (declaration_id, {', '.join(columns)}) "  # noqa: S608
        f"SELECT declaration.id, {_select(columns)} "
        f"FROM declaration, json_populate_recordset(NULL::{table}, %s::json) AS row"
    )


# Both statements take the C number, then the A number (``after``: the order is fixed), and insert
# the tax lines and the history under the row of their ``declaration`` CTE, returning their ids.
_NUMBERS_CTES = f"""registration AS ({number_take_sql()}),
assessment AS ({number_take_sql(after="registration")})"""


def _lines_and_changes_ctes() -> str:
    return f"""lines AS ({_children(TaxLine)} RETURNING id, position),
changes AS ({_children(StatusChange)} RETURNING id)"""


_LINE_AND_CHANGE_IDS = """(SELECT json_agg(lines.id ORDER BY lines.position) FROM lines),
    (SELECT json_agg(changes.id ORDER BY changes.id) FROM changes)"""


def _registering(declaration: Declaration, year: int | None) -> list:
    """The declaration set as it is written (its direction; with ``year``, its registration year and
    series), and the parameters of ``_NUMBERS_CTES`` (no ``year``: no number taken, no lock)."""
    declaration.direction = direction_of(declaration.declaration_type)
    take = year is not None
    if take:
        declaration.registration_year = year
        declaration.registration_series = REGISTRATION_SERIES
    office_code = declaration.office.code
    return [
        *(office_code, year or 0, REGISTRATION_SERIES, take),
        *(office_code, year or 0, ASSESSMENT_SERIES, take),
    ]


def _children_stored(
    declaration: Declaration, lines: list[TaxLine], changes: list[StatusChange], ids
) -> None:
    """The tax lines and status changes marked saved under ``declaration`` with their new ``ids``."""
    line_ids, change_ids = ids
    for child in (*lines, *changes):
        child.declaration_id = declaration.pk
    rows_stored(lines, line_ids or [])
    rows_stored(changes, change_ids or [])


@cache
def _statement() -> str:
    table = Declaration._meta.db_table
    columns = insert_columns(Declaration, exclude=_NUMBERED)
    return f"""
WITH {_NUMBERS_CTES},
declaration AS (
    INSERT INTO {table} ({", ".join(columns)}, {", ".join(_NUMBERED)})
    SELECT {_select(columns)}, registration.last_number, assessment.last_number
    FROM json_populate_record(NULL::{table}, %s::json) AS row
    LEFT JOIN registration ON true
    LEFT JOIN assessment ON true
    RETURNING id, registration_number, assessment_number
),
items AS ({_children(DeclarationItem)} RETURNING id, number),
{_lines_and_changes_ctes()}
SELECT declaration.id, declaration.registration_number, declaration.assessment_number,
    (SELECT json_agg(items.id ORDER BY items.number) FROM items),
    {_LINE_AND_CHANGE_IDS}
FROM declaration
"""


def declaration_write_new(
    declaration: Declaration,
    items: list[DeclarationItem],
    lines: list[TaxLine],
    changes: list[StatusChange],
    *,
    year: int | None,
) -> None:
    """Insert a new declaration with its items, tax lines and status changes, in the caller's
    transaction; with ``year``, it is registered: its C and A numbers of the office and year are
    taken in the same statement. The instances come back saved, with their ids and numbers.

    A taken LRN (the unique constraints per declarant) becomes the field error; the caller's
    transaction, which the error rolls back, gives the numbers back.
    """
    parameters = [
        *_registering(declaration, year),
        row_json(declaration, exclude=_NUMBERED),
        rows_json(DeclarationItem, items, exclude=("declaration_id",)),
        rows_json(TaxLine, lines, exclude=("declaration_id",)),
        rows_json(StatusChange, changes, exclude=("declaration_id",)),
    ]
    try:
        with connection.cursor() as cursor:
            cursor.execute(_statement(), parameters)
            pk, registration_number, assessment_number, item_ids, line_ids, change_ids = cursor.fetchone()
    except IntegrityError as error:
        if "lrn" in str(error):
            raise DeclarationInvalid([lrn_error(declaration.lrn)]) from error
        raise
    declaration.registration_number, declaration.assessment_number = registration_number, assessment_number
    rows_stored([declaration], [pk])
    for item in items:
        item.declaration_id = pk
    rows_stored(items, item_ids or [])
    _children_stored(declaration, lines, changes, (line_ids, change_ids))


@cache
def _registered_statement() -> str:
    table, item_table = Declaration._meta.db_table, DeclarationItem._meta.db_table
    columns = insert_columns(Declaration, exclude=_NUMBERED)
    assignments = ", ".join(f"{column} = row.{column}" for column in columns)
    return f"""
WITH {_NUMBERS_CTES},
declaration AS (
    UPDATE {table} AS stored
    SET {assignments},
        registration_number = registration.last_number, assessment_number = assessment.last_number
    FROM json_populate_record(NULL::{table}, %s::json) AS row, registration, assessment
    WHERE stored.id = %s
    RETURNING stored.id, stored.registration_number, stored.assessment_number
),
items AS (
    UPDATE {item_table} AS item
    SET customs_value = row.customs_value, valuation_steps = row.valuation_steps
    FROM json_populate_recordset(NULL::{item_table}, %s::json) AS row, declaration
    WHERE item.id = row.id AND item.declaration_id = declaration.id
    RETURNING item.id
),
{_lines_and_changes_ctes()}
SELECT declaration.registration_number, declaration.assessment_number,
    (SELECT count(*) FROM items),
    {_LINE_AND_CHANGE_IDS}
FROM declaration
"""  # noqa: S608 (names from the models)


def declaration_write_registered(
    declaration: Declaration,
    items: list[DeclarationItem],
    lines: list[TaxLine],
    changes: list[StatusChange],
    *,
    year: int,
) -> None:
    """Register a stored declaration (locked by the caller) as first assessed: the row as ``save()``
    would write it, with its C and A numbers of the office and ``year`` taken in the same statement;
    each item's customs value and valuation steps; its tax lines (a first assessment: it has none yet)
    and its status changes inserted. The instances come back saved, with their ids and numbers."""
    numbers = _registering(declaration, year)
    valued = [
        {"id": item.pk, "customs_value": item.customs_value, "valuation_steps": item.valuation_steps}
        for item in items
    ]
    parameters = [
        *numbers,
        row_json(declaration, exclude=_NUMBERED, adding=False),
        declaration.pk,
        json_text(valued),
        rows_json(TaxLine, lines, exclude=("declaration_id",)),
        rows_json(StatusChange, changes, exclude=("declaration_id",)),
    ]
    with connection.cursor() as cursor:
        cursor.execute(_registered_statement(), parameters)
        row = cursor.fetchone()
    if row is None or row[2] != len(items):
        raise RuntimeError(f"declaration {declaration.pk} or some of its items were not found to register")
    declaration.registration_number, declaration.assessment_number = row[0], row[1]
    _children_stored(declaration, lines, changes, row[3:5])


def rows_known(declaration: Declaration, **rows) -> None:
    """Keep the rows just written on the instance, as ``prefetch_related`` keeps them (a queryset
    holding its result), so that a caller reading ``declaration.items.all()`` back (the API's answer)
    needs no query for them; ``.filter()`` and the like still query."""
    cache = declaration._prefetched_objects_cache = getattr(declaration, "_prefetched_objects_cache", {})
    for name, known in rows.items():
        cache.pop(name, None)  # else the manager would give back the cached queryset
        queryset = getattr(declaration, name).get_queryset()
        queryset._result_cache = list(known)
        queryset._prefetch_done = True
        cache[name] = queryset
