"""Gap-free numbering of documents per office, year and series (``TMA01 2026 C 10452``)."""

from django.db import connection

from customs.models import DocumentSequence


def number_take_sql(after: str = "") -> str:
    """A statement that takes the next number of a series (a hot path: every registration runs it),
    creating the series at its first number. Parameters: office code, year, series, and whether to take
    at all (false: no row, no lock; for a statement that takes numbers only in some cases).

    The row lock taken by the update stays until the transaction ends, so concurrent callers queue and
    each sees the previous one's number; a caller that rolls back gives its number back. Hence no gaps
    and no duplicates. Statements that insert a document together with its numbers embed this as CTEs;
    ``after`` names the CTE of the same statement whose number comes first (PostgreSQL runs a
    statement's CTEs in no set order, and two callers that took two series in opposite orders would
    wait on each other for ever)."""
    source = f" FROM {after}" if after else ""
    return (
        f"INSERT INTO {DocumentSequence._meta.db_table} AS sequence "  # noqa: S608
        f"(office_code, year, series, last_number) SELECT %s, %s, %s, 1{source} WHERE %s "
        "ON CONFLICT (office_code, year, series) DO UPDATE SET last_number = sequence.last_number + 1 "
        "RETURNING last_number"
    )


NUMBER_TAKE_SQL = number_take_sql()


def number_next(*, office_code: str, year: int, series: str) -> int:
    """Take the next number of the series, inside the caller's transaction (see ``number_take_sql``).
    Must run inside ``transaction.atomic()``."""
    if not connection.in_atomic_block:
        raise RuntimeError("number_next must be called inside transaction.atomic()")
    with connection.cursor() as cursor:
        cursor.execute(NUMBER_TAKE_SQL, [office_code, year, series, True])
        return cursor.fetchone()[0]


def number_format(*, office_code: str, year: int, series: str, number: int) -> str:
    """The printed form of a document number, e.g. ``TMA01 2026 C 10452``."""
    return f"{office_code} {year} {series} {number}"
