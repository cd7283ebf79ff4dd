"""Gap-free numbering of documents per office, year and series (``TMA01 2026 C 10452``)."""

from django.db import IntegrityError, connection, transaction

from customs.models import DocumentSequence


def number_next(*, office_code: str, year: int, series: str) -> int:
    """Take the next number of the series, inside the caller's transaction.

    The row lock taken by the UPDATE is held until the caller commits, so concurrent callers queue and
    each sees the previous one's number; a caller that rolls back returns its number. Hence no gaps and
    no duplicates. Must run inside ``transaction.atomic()``.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("number_next must be called inside transaction.atomic()")
    key = {"office_code": office_code, "year": year, "series": series}
    table = DocumentSequence._meta.db_table
    for _attempt in range(2):
        # One statement takes the number and returns it (a hot path: every registration calls it).
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET last_number = last_number + 1 "  # noqa: S608 (table name is ours)
                "WHERE office_code = %s AND year = %s AND series = %s RETURNING last_number",
                [office_code, year, series],
            )
            row = cursor.fetchone()
        if row:
            return row[0]
        try:
            with transaction.atomic():
                DocumentSequence.objects.create(**key, last_number=0)
        except IntegrityError:
            pass  # another transaction created the series first; its row now exists
    raise RuntimeError(f"Could not take a number in series {key}")


def number_format(*, office_code: str, year: int, series: str, number: int) -> str:
    """The printed form of a document number, e.g. ``TMA01 2026 C 10452``."""
    return f"{office_code} {year} {series} {number}"
