"""The one way a service locks a declaration for a state change."""

from functools import cache

from django.db import connection

from customs.rows import column_converters, instance_from_row
from declarations.models import Declaration, OfficeDeclarationSettings

# What every move reads with the declaration (alias d): (the declaration's field, the table's alias,
# the join, the declaration's column it joins on). The office's settings (alias s) join on the office.
_DECLARATION = Declaration._meta
_JOINED = (
    ("office", "o", "JOIN", "d.office_id"),
    ("trader", "t", "JOIN", "d.trader_id"),
    ("broker", "b", "LEFT JOIN", "d.broker_id"),
)


@cache
def _statement():
    """The locking read as one constant text (the ORM compiles its four joins anew on every call, four
    times the cost of running it), with the columns and converters of each model it reads."""
    parts = [(Declaration, "d")]
    joins = []
    for name, alias, join, key in _JOINED:
        model = _DECLARATION.get_field(name).related_model
        parts.append((model, alias))
        joins.append(f'{join} "{model._meta.db_table}" {alias} ON {alias}.id = {key}')
    parts.append((OfficeDeclarationSettings, "s"))
    joins.append(f'LEFT JOIN "{OfficeDeclarationSettings._meta.db_table}" s ON s.office_id = o.id')
    columns, layout = [], []
    for model, alias in parts:
        fields = model._meta.concrete_fields
        columns += [f'{alias}."{field.column}"' for field in fields]
        layout.append(
            (model, len(fields), [field.attname for field in fields], column_converters(model, alias))
        )
    sql = (
        f'SELECT {", ".join(columns)} FROM "{_DECLARATION.db_table}" d {" ".join(joins)} '  # noqa: S608
        "WHERE d.id = %s FOR UPDATE OF d"
    )
    return sql, layout


def declaration_lock(pk) -> Declaration:
    """Re-read declaration ``pk`` locked FOR UPDATE until commit, with its office, the office's
    settings, its trader and broker, as ``select_related`` gives them. Only the declaration row is
    locked (``OF d``): locking the office row too would make every other declaration of that office
    wait on it, and deadlock against the audit chain's lock. ``Declaration.DoesNotExist`` if it is
    gone."""
    if not connection.in_atomic_block:  # the lock would end with the statement
        raise RuntimeError("declaration_lock must be called inside transaction.atomic()")
    sql, layout = _statement()
    with connection.cursor() as cursor:
        cursor.execute(sql, [pk])
        row = cursor.fetchone()
    if row is None:
        raise Declaration.DoesNotExist(f"Declaration {pk} does not exist.")
    instances, start = [], 0
    for model, width, names, converters in layout:
        values = row[start : start + width]
        start += width
        instances.append(None if values[0] is None else instance_from_row(model, names, values, converters))
    declaration, office, trader, broker, settings = instances
    for (name, _alias, _join, _key), related in zip(_JOINED, (office, trader, broker), strict=True):
        _DECLARATION.get_field(name).set_cached_value(declaration, related)
    settings_field = OfficeDeclarationSettings._meta.get_field("office")
    settings_field.remote_field.set_cached_value(office, settings)  # None: the office has none
    if settings is not None:
        settings_field.set_cached_value(settings, office)
    return declaration
