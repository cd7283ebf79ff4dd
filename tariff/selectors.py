"""Reads of the tariff: the nomenclature in force on a day, its tree, and search.

The tariff is public (anyone may read it), so these selectors take no user; every one takes the day
whose tariff is wanted (``on_day``): lines valid on that day, both ends inclusive.
"""

import datetime
import re

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext as _

from tariff.models import CommodityCode, TariffSection

# Dots and spaces are how people write codes ("8703.23", "8703 23 19 00").
CODE_QUERY = re.compile(r"[0-9][0-9. ]*")
CODE_SEPARATORS = re.compile(r"[. ]")
# Search configurations matching the parts of ``CommodityCode.search_vector``.
SEARCH_CONFIGS = ("english", "russian", "simple")
SEARCH_LIMIT_MAX = 200
QUERY_MAX_LENGTH = 200


class CommodityCodeNotFound(CommodityCode.DoesNotExist):
    """No line of that code in force on the day; the message (translated) says why."""


def _in_force(day: datetime.date) -> Q:
    return Q(valid_from__lte=day) & (Q(valid_to__isnull=True) | Q(valid_to__gte=day))


def _lines(on_day: datetime.date) -> QuerySet[CommodityCode]:
    # The search vector is only for matching: never fetched. Section and unit are shown with the line.
    return (
        CommodityCode.objects.filter(_in_force(on_day))
        .select_related("section", "supplementary_unit")
        .defer("search_vector")
    )


def commodity_code_normalise(code: str) -> str:
    """``code`` without the dots and spaces people write in it ("8703.23.19 00" -> "8703231900")."""
    return CODE_SEPARATORS.sub("", (code or "").strip())


def commodity_code_get(code: str, *, on_day: datetime.date) -> CommodityCode:
    """The line of ``code`` (dots and spaces allowed) in force on ``on_day``.

    Raises ``CommodityCodeNotFound`` with a message naming the code and the day, and, when the code
    exists on other days, when it is (or was) valid.
    """
    normalised = commodity_code_normalise(code)
    versions = list(
        CommodityCode.objects.filter(code=normalised).defer("search_vector").order_by("valid_from")
    )
    for version in versions:
        if version.valid_from <= on_day and (version.valid_to is None or version.valid_to >= on_day):
            return version
    values = {"code": normalised or code, "day": on_day.isoformat()}
    if not versions:
        raise CommodityCodeNotFound(_("There is no commodity code %(code)s in the tariff") % values)
    following = next((version for version in versions if version.valid_from > on_day), None)
    if following is not None:
        values["valid_from"] = following.valid_from.isoformat()
        if following.valid_to is None:
            message = _("%(code)s is not valid on %(day)s; it is valid from %(valid_from)s")
        else:
            values["valid_to"] = following.valid_to.isoformat()
            message = _("%(code)s is not valid on %(day)s; it is valid from %(valid_from)s to %(valid_to)s")
        raise CommodityCodeNotFound(message % values)
    last = versions[-1]
    values.update(valid_from=last.valid_from.isoformat(), valid_to=last.valid_to.isoformat())
    raise CommodityCodeNotFound(
        _("%(code)s is not valid on %(day)s; it was valid from %(valid_from)s to %(valid_to)s") % values
    )


def commodity_code_search(query: str, *, on_day: datetime.date, limit: int = 50) -> list[CommodityCode]:
    """Lines in force on ``on_day`` matching ``query``, at most ``limit`` (capped at 200).

    - Digits, with dots or spaces ("8703", "8703.23"): the lines whose code starts with them, by code
      (the line itself first, then its descendants).
    - Words: full-text search of the descriptions with PostgreSQL's ``websearch_to_tsquery`` (quotes,
      ``or`` and ``-word`` work) in the English, Russian and simple configurations at once, so an English,
      Russian or Turkmen query each matches its language; best rank first, then by code.
    - Empty or blank: nothing.
    """
    query = (query or "").strip()[:QUERY_MAX_LENGTH]
    limit = max(0, min(limit, SEARCH_LIMIT_MAX))
    if not query or not limit:
        return []
    if CODE_QUERY.fullmatch(query):
        prefix = commodity_code_normalise(query)[:10]
        return list(_lines(on_day).filter(code__startswith=prefix).order_by("code", "valid_from")[:limit])
    search_query = SearchQuery(query, search_type="websearch", config=SEARCH_CONFIGS[0])
    for config in SEARCH_CONFIGS[1:]:
        search_query |= SearchQuery(query, search_type="websearch", config=config)
    return list(
        _lines(on_day)
        .filter(search_vector=search_query)
        .annotate(rank=SearchRank(F("search_vector"), search_query))
        .order_by("-rank", "code")[:limit]
    )


def commodity_code_children(code: str, *, on_day: datetime.date) -> list[CommodityCode]:
    """The lines in force on ``on_day`` directly under ``code``, by code; ``""`` gives the chapters."""
    return list(_lines(on_day).filter(parent_code=commodity_code_normalise(code)).order_by("code"))


def commodity_code_ancestors(code: str, *, on_day: datetime.date) -> list[CommodityCode]:
    """The lines above ``code`` in force on ``on_day``, chapter first, for a breadcrumb.

    The line itself is not included; an unknown code has no ancestors (an empty list).
    """
    normalised = commodity_code_normalise(code)
    prefixes = [normalised[:length] for length in range(2, len(normalised) + 1, 2)]
    lines = {line.code: line for line in _lines(on_day).filter(code__in=prefixes)}
    ancestors = []
    current = lines.get(normalised)
    while current is not None and current.parent_code:
        current = lines.get(current.parent_code)
        if current is not None:
            ancestors.append(current)
    return ancestors[::-1]


def tariff_sections() -> list[TariffSection]:
    """The 21 sections of the Harmonized System, in order."""
    return list(TariffSection.objects.order_by("position"))


def tariff_section_chapters(section_code: str, *, on_day: datetime.date) -> list[CommodityCode]:
    """The chapters of a section (its Roman numeral) in force on ``on_day``, by code."""
    return list(_lines(on_day).filter(section__code=section_code, level=2).order_by("code"))
