"""Keyset pages for the finders: newest first on (a time, pk), with cursors instead of page numbers, so
the last page of a million rows is as fast as the first and no COUNT(*) is run."""

import datetime
from dataclasses import dataclass

from django.db.models import Q, QuerySet

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


@dataclass(frozen=True)
class KeysetPage:
    """One page of results and the cursors of the pages before and after it ('' when none)."""

    rows: list
    previous_cursor: str
    next_cursor: str

    @property
    def has_previous(self) -> bool:
        return bool(self.previous_cursor)

    @property
    def has_next(self) -> bool:
        return bool(self.next_cursor)


def keyset_cursor(moment: datetime.datetime, pk: int) -> str:
    """The keyset position of a row, as URL-safe text."""
    microseconds = (moment - _EPOCH) // datetime.timedelta(microseconds=1)
    return f"{microseconds}.{pk}"


def keyset_cursor_parse(text: str) -> tuple[datetime.datetime, int] | None:
    microseconds, _dot, pk = (text or "").partition(".")
    if not (microseconds.lstrip("-").isdigit() and pk.isdigit()):
        return None
    try:
        return _EPOCH + datetime.timedelta(microseconds=int(microseconds)), int(pk)
    except OverflowError:
        return None


def keyset_page(
    rows_newest_first: QuerySet, *, time_field: str, after: str = "", before: str = "", page_size: int = 50
) -> KeysetPage:
    """One page of ``rows_newest_first`` (ordered by -time_field, -pk). ``page_size + 1`` rows are read;
    the extra one only says a further page exists. ``after``: the page that follows that cursor (older
    rows); ``before``: the page that precedes it. The range condition on the time alone comes first so
    that PostgreSQL can use an index on it."""

    def cursor(row) -> str:
        return keyset_cursor(getattr(row, time_field), row.pk)

    before_key, after_key = keyset_cursor_parse(before), keyset_cursor_parse(after)
    if before_key is not None:
        moment, pk = before_key
        newer = (
            rows_newest_first.filter(**{f"{time_field}__gte": moment})
            .filter(Q(**{f"{time_field}__gt": moment}) | Q(pk__gt=pk))
            .order_by(time_field, "pk")
        )
        rows = list(newer[: page_size + 1])
        more_before = len(rows) > page_size
        rows = rows[:page_size][::-1]
        return KeysetPage(
            rows=rows,
            previous_cursor=cursor(rows[0]) if more_before and rows else "",
            next_cursor=cursor(rows[-1]) if rows else "",
        )
    if after_key is not None:
        moment, pk = after_key
        rows_newest_first = rows_newest_first.filter(**{f"{time_field}__lte": moment}).filter(
            Q(**{f"{time_field}__lt": moment}) | Q(pk__lt=pk)
        )
    rows = list(rows_newest_first[: page_size + 1])
    more_after = len(rows) > page_size
    rows = rows[:page_size]
    return KeysetPage(
        rows=rows,
        previous_cursor=cursor(rows[0]) if after_key is not None and rows else "",
        next_cursor=cursor(rows[-1]) if more_after else "",
    )
