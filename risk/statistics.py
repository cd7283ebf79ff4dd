"""Reads of the risk analysts' screens: criteria with their figures, a criterion's versions, hits by
week, backtests, random selection rates. Every figure is an aggregate query in the database.

What the figures mean:

- a *hit* is a ``CriterionHit``: a version of the criterion that hit a declaration when it was scored;
- an *examination done* is a documentary check or physical examination of a declaration the criterion
  hit, finished (done, or the goods held);
- a *finding* is an examination done that found at least one discrepancy on an item;
- the *yield* is findings / examinations done, in percent (``None`` before any examination is done);
- the *hit rate* of a week is the criterion's hits that week as a percentage of the declarations
  registered that week at the offices of its current version (every office when it has no scope).

Weeks start on Monday at midnight, local time (``TIME_ZONE``).
"""

import datetime
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, TruncWeek
from django.utils import timezone

from customs.models import CustomsOffice
from declarations.choices import Lane
from declarations.models import Declaration
from risk.choices import DISCREPANCIES, TARGET_LANES, ExaminationStatus
from risk.models import (
    Backtest,
    Criterion,
    CriterionHit,
    CriterionVersion,
    Examination,
    RandomSelectionRate,
)

RECENT_DAYS = 30
DONE_STATES = (ExaminationStatus.DONE, ExaminationStatus.HELD)
PERCENT_PLACES = Decimal("0.1")


def percent(part: int, whole: int) -> Decimal | None:
    """``part`` as a percentage of ``whole``, to one place (half up); ``None`` when ``whole`` is 0."""
    if not whole:
        return None
    return (Decimal(100) * part / whole).quantize(PERCENT_PLACES, rounding=ROUND_HALF_UP)


def _count(queryset: QuerySet, group_by: str, distinct: bool = False) -> Coalesce:
    """A correlated subquery counting the rows of ``queryset`` (0 when none), for ``annotate``."""
    counted = (
        queryset.order_by()
        .values(group_by)
        .annotate(count=Count("pk", distinct=distinct))
        .values("count")[:1]
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _examinations_of(criterion_ref) -> QuerySet[Examination]:
    """Examinations done of declarations hit by ``criterion_ref`` (a criterion, or an ``OuterRef``)."""
    return Examination.objects.filter(
        status__in=DONE_STATES, declaration__criterion_hits__criterion=criterion_ref
    )


def _findings_of(criterion_ref) -> QuerySet[Examination]:
    return _examinations_of(criterion_ref).filter(findings__result__in=DISCREPANCIES)


@dataclass(frozen=True)
class CriterionSummary:
    """One row of the criteria list."""

    criterion: Criterion
    version_number: int | None
    lane: str
    hits_recent: int
    examinations_done: int
    findings: int

    @property
    def yield_percent(self) -> Decimal | None:
        return percent(self.findings, self.examinations_done)

    @property
    def lane_label(self) -> str:
        return Lane(self.lane).label if self.lane else ""


def criteria_summary(*, live: bool | None = None) -> list[CriterionSummary]:
    """Every criterion (``live``: only the live ones, or only the drafts) with its current version, its
    hits in the last ``RECENT_DAYS`` days and its yield; one query, whatever the number of criteria."""
    since = timezone.now() - datetime.timedelta(days=RECENT_DAYS)
    current = CriterionVersion.objects.filter(criterion=OuterRef("pk"), superseded_at__isnull=True)
    criteria = Criterion.objects.annotate(
        version_number=Subquery(current.values("number")[:1]),
        current_lane=Subquery(current.values("lane")[:1]),
        hits_recent=_count(
            CriterionHit.objects.filter(criterion=OuterRef("pk"), hit_at__gte=since), "criterion"
        ),
        examinations_done=_count(
            _examinations_of(OuterRef("pk")), "declaration__criterion_hits__criterion", distinct=True
        ),
        findings=_count(
            _findings_of(OuterRef("pk")), "declaration__criterion_hits__criterion", distinct=True
        ),
    ).order_by("code")
    if live is not None:
        criteria = criteria.filter(active=live)
    return [
        CriterionSummary(
            criterion=criterion,
            version_number=criterion.version_number,
            lane=criterion.current_lane or "",
            hits_recent=criterion.hits_recent,
            examinations_done=criterion.examinations_done,
            findings=criterion.findings,
        )
        for criterion in criteria
    ]


def criterion_get(pk: int) -> Criterion:
    """One criterion with its versions (newest first, with who wrote them); raises
    ``Criterion.DoesNotExist``."""
    versions = CriterionVersion.objects.select_related("created_by").order_by("-number")
    return (
        Criterion.objects.select_related("created_by")
        .prefetch_related(Prefetch("versions", versions))
        .get(pk=pk)
    )


def criterion_current_version(criterion: Criterion) -> CriterionVersion | None:
    """The version in force (from the prefetched versions of ``criterion_get`` when there)."""
    return next((version for version in criterion.versions.all() if version.superseded_at is None), None)


@dataclass(frozen=True)
class CriterionStatistics:
    hits: int
    hits_by_version: dict[int, int]  # version number → hits
    examinations_done: int
    findings: int

    @property
    def yield_percent(self) -> Decimal | None:
        return percent(self.findings, self.examinations_done)


def criterion_statistics(criterion: Criterion) -> CriterionStatistics:
    """The criterion's hits (in all, and per version), examinations done and findings."""
    by_version = dict(
        CriterionHit.objects.filter(criterion=criterion)
        .order_by()
        .values("version__number")
        .annotate(count=Count("pk"))
        .values_list("version__number", "count")
    )
    examinations = _examinations_of(criterion).aggregate(
        done=Count("pk", distinct=True),
        findings=Count("pk", distinct=True, filter=Q(findings__result__in=DISCREPANCIES)),
    )
    return CriterionStatistics(
        hits=sum(by_version.values()),
        hits_by_version={number: by_version.get(number, 0) for number in sorted(by_version, reverse=True)},
        examinations_done=examinations["done"],
        findings=examinations["findings"],
    )


@dataclass(frozen=True)
class WeekFigures:
    """The hits of one week, and the declarations registered that week where the criterion applies."""

    week_start: datetime.date
    hits: int
    registered: int

    @property
    def week_end(self) -> datetime.date:
        return self.week_start + datetime.timedelta(days=6)

    @property
    def hit_rate(self) -> Decimal | None:
        return percent(self.hits, self.registered)


def _week_start(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def _local_midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _by_week(queryset: QuerySet, field: str) -> dict[datetime.date, int]:
    rows = (
        queryset.order_by()
        .annotate(week=TruncWeek(field, tzinfo=timezone.get_current_timezone()))
        .values("week")
        .annotate(count=Count("pk"))
        .values_list("week", "count")
    )
    return {timezone.localtime(week).date(): count for week, count in rows}


def criterion_hits_by_week(
    criterion: Criterion, *, weeks: int = 12, today: datetime.date | None = None
) -> list[WeekFigures]:
    """The last ``weeks`` weeks (the current one last, empty weeks included): the criterion's hits,
    and the declarations registered at the offices of its current version. Two grouped queries."""
    today = today or timezone.localdate()
    first_week = _week_start(today) - datetime.timedelta(weeks=weeks - 1)
    start = _local_midnight(first_week)
    end = _local_midnight(_week_start(today) + datetime.timedelta(weeks=1))
    hits = _by_week(
        CriterionHit.objects.filter(criterion=criterion, hit_at__gte=start, hit_at__lt=end), "hit_at"
    )
    declarations = Declaration.objects.filter(registered_at__gte=start, registered_at__lt=end)
    current = CriterionVersion.objects.filter(criterion=criterion, superseded_at__isnull=True).first()
    if current is not None and current.offices:
        declarations = declarations.filter(office__code__in=current.offices)
    registered = _by_week(declarations, "registered_at")
    result = []
    for index in range(weeks):
        week = first_week + datetime.timedelta(weeks=index)
        result.append(
            WeekFigures(week_start=week, hits=hits.get(week, 0), registered=registered.get(week, 0))
        )
    return result


def criterion_backtests(criterion: Criterion, *, limit: int = 20) -> QuerySet[Backtest]:
    """The newest backtests of any version of the criterion."""
    return (
        Backtest.objects.filter(version__criterion=criterion)
        .select_related("version", "requested_by")
        .order_by("-requested_at", "-pk")[:limit]
    )


def backtest_get(pk: int) -> Backtest:
    """One backtest with its version and criterion; raises ``Backtest.DoesNotExist``."""
    return Backtest.objects.select_related("version", "version__criterion", "requested_by").get(pk=pk)


def office_list(*, including=()) -> QuerySet[CustomsOffice]:
    """Every active customs office (where a criterion may apply, and random rates are set), and the
    offices of ``including`` even if closed since (the scope of a version being revised)."""
    return CustomsOffice.objects.filter(Q(active=True) | Q(code__in=list(including))).order_by("code")


@dataclass(frozen=True)
class RandomRateRow:
    office: CustomsOffice
    rates: dict[str, Decimal | None]  # lane → percent (``None``: no rate set)


def random_rate_table() -> list[RandomRateRow]:
    """The random selection rates of every active office, one row per office, a cell per target lane."""
    rates: dict[int, dict[str, Decimal]] = {}
    for office_id, lane, value in RandomSelectionRate.objects.values_list("office_id", "lane", "percent"):
        rates.setdefault(office_id, {})[lane] = value
    return [
        RandomRateRow(
            office=office, rates={lane: rates.get(office.pk, {}).get(lane) for lane in TARGET_LANES}
        )
        for office in office_list()
    ]
