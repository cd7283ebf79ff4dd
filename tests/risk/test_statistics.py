"""The analysts' figures (risk.statistics) against hand-counted declarations: hits in all and per
version, examinations done, findings, yield, hits in the last 30 days, hits by week and the hit rate."""

import datetime
from decimal import Decimal

from django.utils import timezone

from declarations.models import Declaration
from risk import statistics
from risk.models import CriterionHit, Examination, Finding
from risk.services.criteria import VersionData, criterion_revise, random_rate_set
from tests.risk.conftest import CAR, FISH, assessed, criterion, item_data, score

CAR_RED = [{"kind": "commodity_code", "operator": "starts_with", "values": [CAR[:4]]}]
FROM_CHINA = [{"kind": "origin", "operator": "in", "values": ["CN"]}]


def _fish():
    return [item_data(commodity_code=FISH, description="Frozen fish", quantities={})]


def _examined(declaration, result=None):
    """The declaration's examination done, with a finding of ``result`` on item 1 when given."""
    examination = Examination.objects.get(declaration=declaration)
    Examination.objects.filter(pk=examination.pk).update(status="done", completed_at=timezone.now())
    if result:
        Finding.objects.create(
            examination=examination,
            item_number=1,
            result=result,
            recorded_by=examination.officer,
            recorded_at=timezone.now(),
        )


def _at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def test_the_statistics_of_a_criterion_count_hits_per_version_examinations_and_findings(risk_world):
    version_1 = criterion(risk_world, CAR_RED, code="CARS")
    examined_with_finding = score(assessed(risk_world))
    examined_conform = score(assessed(risk_world))
    score(assessed(risk_world, items=_fish()))  # no hit
    criterion_revise(
        actor=risk_world["users"]["analyst"],
        criterion=version_1.criterion,
        data=VersionData(lane="red", conditions=CAR_RED, valid_from=datetime.date(2020, 1, 1)),
    )
    still_open = score(assessed(risk_world))
    _examined(examined_with_finding, "value")
    _examined(examined_conform, "conform")

    figures = statistics.criterion_statistics(version_1.criterion)

    assert still_open.lane == "red"
    assert figures.hits == 3
    assert figures.hits_by_version == {2: 1, 1: 2}
    assert figures.examinations_done == 2
    assert figures.findings == 1
    assert figures.yield_percent == Decimal("50.0")


def test_an_examination_with_two_discrepancies_is_one_finding(risk_world):
    version = criterion(risk_world, CAR_RED)
    declaration = score(
        assessed(
            risk_world,
            items=[item_data(), item_data(description="Another car", invoice_price=Decimal("9000"))],
        )
    )
    _examined(declaration, "value")
    Finding.objects.create(
        examination=Examination.objects.get(declaration=declaration),
        item_number=2,
        result="origin",
        recorded_by=risk_world["users"]["officer"],
        recorded_at=timezone.now(),
    )

    figures = statistics.criterion_statistics(version.criterion)

    assert (figures.hits, figures.examinations_done, figures.findings) == (1, 1, 1)
    assert figures.yield_percent == Decimal("100.0")


def test_no_examination_done_has_no_yield(risk_world):
    version = criterion(risk_world, CAR_RED)
    score(assessed(risk_world))

    figures = statistics.criterion_statistics(version.criterion)

    assert (figures.hits, figures.examinations_done, figures.findings) == (1, 0, 0)
    assert figures.yield_percent is None


def test_the_criteria_summary_counts_recent_hits_and_yield_in_one_query(
    risk_world, django_assert_num_queries
):
    cars = criterion(risk_world, CAR_RED, code="CARS").criterion
    china = criterion(risk_world, FROM_CHINA, code="CHINA", lane="yellow").criterion
    draft = criterion(risk_world, FROM_CHINA, code="DRAFT", live=False).criterion
    first, second, third = (score(assessed(risk_world)) for _n in range(3))
    _examined(first, "classification")
    _examined(second, "conform")
    # One hit of each criterion is older than 30 days.
    CriterionHit.objects.filter(declaration=third).update(hit_at=timezone.now() - datetime.timedelta(days=31))

    with django_assert_num_queries(1):
        rows = {row.criterion.code: row for row in statistics.criteria_summary()}
    live_only = [row.criterion.code for row in statistics.criteria_summary(live=True)]
    drafts_only = [row.criterion.code for row in statistics.criteria_summary(live=False)]

    assert list(rows) == ["CARS", "CHINA", "DRAFT"]
    assert (rows["CARS"].criterion, rows["CHINA"].criterion, rows["DRAFT"].criterion) == (cars, china, draft)
    assert (rows["CARS"].version_number, rows["CARS"].lane, rows["CARS"].lane_label) == (1, "red", "Red")
    assert (rows["CARS"].hits_recent, rows["CARS"].examinations_done, rows["CARS"].findings) == (2, 2, 1)
    assert rows["CARS"].yield_percent == Decimal("50.0")
    assert (rows["CHINA"].hits_recent, rows["CHINA"].examinations_done, rows["CHINA"].findings) == (2, 2, 1)
    assert (rows["DRAFT"].hits_recent, rows["DRAFT"].examinations_done, rows["DRAFT"].yield_percent) == (
        0,
        0,
        None,
    )
    assert live_only == ["CARS", "CHINA"]
    assert drafts_only == ["DRAFT"]


def test_hits_by_week_over_twelve_weeks_with_the_hit_rate_at_the_criterions_offices(risk_world):
    today = timezone.localdate()
    this_week = today - datetime.timedelta(days=today.weekday())
    three_weeks_ago = this_week - datetime.timedelta(weeks=3)
    version = criterion(risk_world, CAR_RED, offices=["TMA01"])
    hit_now_1, hit_now_2, hit_before, hit_too_old = (score(assessed(risk_world)) for _n in range(4))
    not_hit = score(assessed(risk_world, items=_fish()))
    elsewhere = score(assessed(risk_world, items=_fish()))
    placed = {
        hit_now_1: this_week,
        hit_now_2: this_week,
        not_hit: this_week,
        elsewhere: this_week,
        hit_before: three_weeks_ago,
        hit_too_old: this_week - datetime.timedelta(weeks=12),
    }
    for declaration, day in placed.items():
        Declaration.objects.filter(pk=declaration.pk).update(registered_at=_at(day))
        CriterionHit.objects.filter(declaration=declaration).update(hit_at=_at(day, 11))
    # A declaration of another office counts in no week: the criterion applies at TMA01 only.
    Declaration.objects.filter(pk=elsewhere.pk).update(office=risk_world["other_office"])

    weeks = statistics.criterion_hits_by_week(version.criterion, weeks=12, today=today)

    assert [week.week_start for week in weeks] == [
        this_week - datetime.timedelta(weeks=11 - index) for index in range(12)
    ]
    assert weeks[-1].week_end == this_week + datetime.timedelta(days=6)
    assert [(week.hits, week.registered) for week in weeks] == [(0, 0)] * 8 + [(1, 1), (0, 0), (0, 0), (2, 3)]
    assert weeks[-1].hit_rate == Decimal("66.7")
    assert weeks[-4].hit_rate == Decimal("100.0")
    assert weeks[0].hit_rate is None


def test_a_criterion_for_every_office_counts_the_declarations_of_every_office(risk_world):
    today = timezone.localdate()
    version = criterion(risk_world, CAR_RED)
    hit = score(assessed(risk_world))
    elsewhere = score(assessed(risk_world, items=_fish()))
    Declaration.objects.filter(pk=elsewhere.pk).update(office=risk_world["other_office"])

    weeks = statistics.criterion_hits_by_week(version.criterion, weeks=2, today=today)

    assert hit.lane == "red"
    assert [(week.hits, week.registered) for week in weeks] == [(0, 0), (1, 2)]
    assert weeks[-1].hit_rate == Decimal("50.0")


def test_the_random_rate_table_has_a_cell_per_office_and_lane(risk_world):
    analyst = risk_world["users"]["analyst"]
    random_rate_set(actor=analyst, office=risk_world["office"], lane="red", percent="2.5")
    random_rate_set(actor=analyst, office=risk_world["other_office"], lane="blue", percent="10")

    table = statistics.random_rate_table()

    assert [(row.office.code, row.rates) for row in table] == [
        ("TMA01", {"red": Decimal("2.50"), "yellow": None, "blue": None}),
        ("TMT01", {"red": None, "yellow": None, "blue": Decimal("10.00")}),
    ]


def test_the_office_list_keeps_a_closed_office_of_a_version_scope(risk_world):
    risk_world["other_office"].active = False
    risk_world["other_office"].save()

    assert [office.code for office in statistics.office_list()] == ["TMA01"]
    assert [office.code for office in statistics.office_list(including=["TMT01"])] == ["TMA01", "TMT01"]


def test_percent_rounds_half_up_to_one_place():
    assert statistics.percent(1, 3) == Decimal("33.3")
    assert statistics.percent(2, 3) == Decimal("66.7")
    assert statistics.percent(1, 8) == Decimal("12.5")
    assert statistics.percent(1, 16) == Decimal("6.3")
    assert statistics.percent(0, 0) is None
