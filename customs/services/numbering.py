"""Gap-free numbering of documents per office, year and series (``TMA01 2026 C 10452``)."""

from django.db import IntegrityError, connection, transaction
from django.db.models import F

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
    for _attempt in range(2):
        updated = DocumentSequence.objects.filter(**key).update(last_number=F("last_number") + 1)
        if updated:
            return DocumentSequence.objects.filter(**key).values_list("last_number", flat=True).get()
        try:
            with transaction.atomic():
                DocumentSequence.objects.create(**key, last_number=0)
        except IntegrityError:
            pass  # another transaction created the series first; its row now exists
    raise RuntimeError(f"Could not take a number in series {key}")


def number_format(*, office_code: str, year: int, series: str, number: int) -> str:
    """The printed form of a document number, e.g. ``TMA01 2026 C 10452``."""
    return f"{office_code} {year} {series} {number}"
