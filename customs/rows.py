"""Model rows through hand-written statements, for the hot paths where the ORM's cost shows.

Compiling a queryset costs about 0.4 ms of CPU on a small machine, more than PostgreSQL takes to run a
lookup by key; a statement whose text is built once costs a tenth of that. ``row_fetch`` reads one
model instance that way; ``model_new`` makes one without the keyword constructor's cost. The rest of
this module writes rows:

Model instances as one JSON parameter, for statements that insert rows of several tables at once.

PostgreSQL's ``json_populate_record(NULL::table, row)`` and ``json_populate_recordset(NULL::table,
rows)`` read JSON into rows of the table's own type, each value through its column type's input (so a
decimal travels as its exact text, a timestamp as ISO 8601, a ``jsonb`` column as nested JSON). A hot
path can then insert a declaration, its items and its tax lines in one statement whose text never
changes (PostgreSQL plans it once) and whose values go as a few JSON texts, encoded in C by orjson
(``customs.jsontext``), instead of one adapted parameter per field as ``bulk_create`` sends.

The columns come from the model's own fields, so a field added to a model is written without a change
here; ``auto_now`` and ``auto_now_add`` fields get their time as ``save()`` would give it.
"""

import datetime
from functools import cache

from django.db import connection, models
from django.utils import timezone

from customs.jsontext import json_text


def column_converters(model: type[models.Model], alias: str) -> list:
    """What the ORM's compiler applies to each value it reads of ``model`` (a JSON field's decoding,
    for one), for a hand-written statement that names the table ``alias``: (index of the field among
    the concrete fields, its column, the functions)."""
    converters = []
    for index, field in enumerate(model._meta.concrete_fields):
        column = field.get_col(alias)
        found = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        if found:
            converters.append((index, column, found))
    return converters


def instance_from_row(model: type[models.Model], names: list[str], values, converters: list):
    """An instance of ``model``, as the ORM gives it, from the values of its concrete fields (``names``
    their attribute names) read by a hand-written statement; ``converters`` from ``column_converters``."""
    if converters:
        values = list(values)
        for index, column, functions in converters:
            for function in functions:
                values[index] = function(values[index], column, connection)
    return model.from_db(connection.alias, names, values)


@cache
def _select(model: type[models.Model], where: str, then: str) -> tuple[str, list[str], list]:
    fields = model._meta.concrete_fields
    columns = ", ".join(f'"{field.column}"' for field in fields)
    sql = f'SELECT {columns} FROM "{model._meta.db_table}" WHERE {where} {then}'  # noqa: S608
    return sql, [field.attname for field in fields], column_converters(model, model._meta.db_table)


def row_fetch(model: type[models.Model], where: str, params: list):
    """The first ``model`` row matching the SQL condition ``where`` (a constant text with ``%s``
    placeholders for ``params``), as the ORM would give it, or ``None``."""
    sql, names, converters = _select(model, where, "LIMIT 1")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else instance_from_row(model, names, row, converters)


def rows_fetch(model: type[models.Model], where: str, params: list, *, order_by: str) -> list:
    """Every ``model`` row matching ``where`` (as in ``row_fetch``) in the order of the SQL ``order_by``
    (a constant text), as the ORM would give them."""
    sql, names, converters = _select(model, where, f"ORDER BY {order_by}")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [instance_from_row(model, names, row, converters) for row in rows]


@cache
def _defaults(model: type[models.Model]) -> tuple:
    """Per concrete field: its attribute name, and its default as a function to call (mutable
    defaults such as ``dict``) or as a value."""
    defaults = []
    for field in model._meta.concrete_fields:
        if field.has_default() and callable(field.default):
            defaults.append((field.attname, field.default, None))
        else:
            defaults.append((field.attname, None, field.get_default()))
    return tuple(defaults)


@cache
def _settable(model: type[models.Model]) -> frozenset[str]:
    """The names ``model(**values)`` accepts besides the fields' own: fields by name (a related
    object) and properties."""
    names = {field.name for field in model._meta.concrete_fields}
    names |= {name for name in dir(model) if isinstance(getattr(model, name, None), property)}
    return frozenset(names)


def model_new(model: type[models.Model], **values):
    """``model(**values)``, three to four times cheaper: the fields go to Django's positional
    constructor, each given or its default; related objects (``office=office``) are set after.
    For hot paths that build many instances (a lodgement's items and tax lines)."""
    row = []
    for name, make, constant in _defaults(model):
        if name in values:
            row.append(values.pop(name))
        else:
            row.append(constant if make is None else make())
    unknown = set(values) - _settable(model)
    if unknown:
        raise TypeError(f"{model.__name__}() got unexpected keyword arguments: {', '.join(sorted(unknown))}")
    instance = model(*row)
    for name, value in values.items():
        setattr(instance, name, value)
    return instance


def _text(value):
    return None if value is None else str(value)


def _iso(value):
    return None if value is None else value.isoformat()


def _moment(value):
    """A datetime as the ORM stores it: a naive one is taken in the current time zone."""
    if value is None:
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value.isoformat()


def _day(value):
    if isinstance(value, datetime.datetime):
        value = value.date()
    return _iso(value)


def _converter(field: models.Field):
    if isinstance(field, models.DecimalField):
        return _text
    if isinstance(field, models.DateTimeField):
        return _moment
    if isinstance(field, models.DateField):
        return _day
    if isinstance(field, models.TimeField):
        return _iso
    return None  # the value as it is (text, numbers, booleans, JSON fields' own values)


@cache
def _fields(model: type[models.Model], exclude: frozenset[str]):
    chosen = []
    for field in model._meta.concrete_fields:
        if field.primary_key or field.column in exclude:
            continue
        stamps = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        chosen.append((field, field.column, field.attname, _converter(field), stamps))
    return tuple(chosen)


def insert_columns(model: type[models.Model], *, exclude: tuple[str, ...] = ()) -> list[str]:
    """The columns an insert of ``model`` writes: every concrete field but the primary key and
    ``exclude`` (columns the statement fills itself, such as a parent's id)."""
    return [column for _field, column, _name, _convert, _stamps in _fields(model, frozenset(exclude))]


def _row(instance: models.Model, fields, adding: bool = True) -> dict:
    row = {}
    for field, column, name, convert, stamps in fields:
        value = field.pre_save(instance, adding) if stamps else getattr(instance, name)
        row[column] = value if convert is None else convert(value)
    return row


def row_json(instance: models.Model, *, exclude: tuple[str, ...] = (), adding: bool = True) -> str:
    """``instance`` as a JSON object for ``json_populate_record`` (the columns of ``insert_columns``).
    ``adding=False``: for an update, as ``save()`` of a stored row gives its times (``auto_now_add``
    kept, ``auto_now`` now)."""
    return json_text(_row(instance, _fields(type(instance), frozenset(exclude)), adding))


def rows_json(model: type[models.Model], instances, *, exclude: tuple[str, ...] = ()) -> str:
    """``instances`` of ``model`` as a JSON array for ``json_populate_recordset``."""
    fields = _fields(model, frozenset(exclude))
    return json_text([_row(instance, fields) for instance in instances])


def insert_sql(model: type[models.Model], *, many: bool = False, then: str = "") -> str:
    """``INSERT`` of ``model``'s row (``many``: rows) given as one JSON parameter (``row_json``,
    ``rows_json``); ``then``: what follows, e.g. ``ON CONFLICT ...`` or ``RETURNING id``."""
    table, columns = model._meta.db_table, ", ".join(insert_columns(model))
    source = "json_populate_recordset" if many else "json_populate_record"
    return (
        f"INSERT INTO {table} ({columns}) SELECT {columns} "  # noqa: S608 (names from the model)
        f"FROM {source}(NULL::{table}, %s::json) {then}"
    ).rstrip()


def row_insert(instance: models.Model) -> None:
    """Insert ``instance`` in one statement whose text never changes (``save()`` for a hot path);
    it comes back saved, with its id."""
    with connection.cursor() as cursor:
        cursor.execute(insert_sql(type(instance), then="RETURNING id"), [row_json(instance)])
        rows_stored([instance], [cursor.fetchone()[0]])


def rows_stored(instances, pks) -> None:
    """Mark ``instances`` as saved with their new primary keys, as ``save()`` leaves them."""
    for instance, pk in zip(instances, pks, strict=True):
        instance.pk = pk
        instance._state.adding = False
        instance._state.db = "default"
