"""Scoring a declaration (``risk.services.selectivity``): the lane from the hits (red > yellow > blue >
green), every hit kept with its version and why, idempotence, declarations that no longer take a lane,
the trader's profile, and what each lane leads to (examination, post-clearance audit, release)."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from customs.celery import app
from customs.choices import AeoStatus
from customs.models import AuditEvent
from declarations.models import Declaration, DeclarationItem, OfficeDeclarationSettings, StatusChange
from declarations.services.lifecycle import declaration_cancel, declaration_mark_paid, declaration_withdraw
from risk.models import (
    CriterionHit,
    Examination,
    Finding,
    PostClearanceAudit,
    RandomSelectionRate,
    RiskProfileSettings,
    Selectivity,
)
from risk.services.selectivity import declaration_facts, random_draw, selectivity_score
from tests.risk.conftest import CAR, FISH, assessed, criterion, item_data, score

D = Decimal
CARS = [{"kind": "commodity_code", "operator": "starts_with", "values": ["8703"]}]
FROM_CHINA = [{"kind": "origin", "operator": "in", "values": ["CN"]}]
AT_TMA01 = [{"kind": "office", "operator": "in", "values": ["TMA01"]}]
NOTHING = [{"kind": "origin", "operator": "in", "values": ["DE"]}]


@pytest.fixture
def sent_tasks(monkeypatch):
    """The (task name, args) sent to the broker; nothing reaches Redis."""
    sent = []
    monkeypatch.setattr(
        app, "send_task", lambda name, args=(), kwargs=None, **options: sent.append((name, tuple(args)))
    )
    return sent


def _rules(**values) -> RiskProfileSettings:
    rules, _created = RiskProfileSettings.objects.update_or_create(pk=1, defaults=values)
    return rules


@pytest.mark.parametrize(
    ("lanes", "expected"),
    [
        ((), "green"),
        (("blue",), "blue"),
        (("blue", "yellow"), "yellow"),
        (("yellow", "red", "blue"), "red"),
        (("red", "red"), "red"),
    ],
)
def test_the_highest_lane_of_the_hits_wins(risk_world, lanes, expected):
    conditions = [CARS, FROM_CHINA, AT_TMA01]
    for number, lane in enumerate(lanes):
        criterion(risk_world, conditions[number], lane=lane)

    declaration = score(assessed(risk_world))

    selectivity = Selectivity.objects.get(declaration=declaration)
    assert declaration.lane == expected
    assert (selectivity.lane, selectivity.source) == (expected, "criteria" if lanes else "none")
    assert selectivity.criteria_evaluated == len(lanes)
    assert sorted(
        CriterionHit.objects.filter(declaration=declaration).values_list("lane", flat=True)
    ) == sorted(lanes)


def test_every_hit_is_recorded_with_its_version_item_and_explanation(risk_world):
    red = criterion(risk_world, CARS + FROM_CHINA, lane="red", code="CARS-CN")
    blue = criterion(risk_world, AT_TMA01, lane="blue", code="AT-TMA01")
    criterion(risk_world, NOTHING, lane="red", code="FROM-DE")
    items = [item_data(commodity_code=FISH, origin="CN"), item_data(origin="CN")]

    declaration = score(assessed(risk_world, items=items))

    hits = list(CriterionHit.objects.filter(declaration=declaration).order_by("criterion__code"))
    assert [(hit.criterion.code, hit.version, hit.lane, hit.item_number) for hit in hits] == [
        ("AT-TMA01", blue, "blue", None),
        ("CARS-CN", red, "red", 2),
    ]
    assert hits[0].explanation == [
        {"kind": "office", "operator": "in", "values": ["TMA01"], "actual": "TMA01"}
    ]
    assert hits[1].explanation == [
        {"kind": "commodity_code", "operator": "starts_with", "values": ["8703"], "actual": CAR},
        {"kind": "origin", "operator": "in", "values": ["CN"], "actual": "CN"},
    ]
    assert {hit.hit_at for hit in hits} == {Selectivity.objects.get(declaration=declaration).scored_at}
    change = StatusChange.objects.get(declaration=declaration, action="lane_red")
    event = AuditEvent.objects.get(action="declarations.declaration.lane_assigned")
    # The history (which the declarant reads) names the lane only; the criteria are for customs.
    assert change.reason == "Lane: red."
    assert event.after["internal_reason"] == "Selectivity: red lane, criteria CARS-CN."


def test_scoring_twice_gives_one_result_with_the_same_hits(risk_world):
    criterion(risk_world, CARS, lane="red")
    criterion(risk_world, FROM_CHINA, lane="yellow")
    declaration = assessed(risk_world)

    first = selectivity_score(declaration.pk)
    hits = list(CriterionHit.objects.filter(declaration=declaration).values_list("version_id", "lane"))
    second = selectivity_score(declaration.pk)

    assert second.pk == first.pk
    assert Selectivity.objects.filter(declaration=declaration).count() == 1
    assert (
        list(CriterionHit.objects.filter(declaration=declaration).values_list("version_id", "lane")) == hits
    )
    assert len(hits) == 2
    assert Examination.objects.filter(declaration=declaration).count() == 1
    assert StatusChange.objects.filter(declaration=declaration, action__startswith="lane_").count() == 1


def test_a_result_whose_lane_was_lost_gives_the_lane_again(risk_world):
    criterion(risk_world, CARS, lane="blue")
    declaration = score(assessed(risk_world))
    Declaration.objects.filter(pk=declaration.pk).update(lane="", control_done_at=None)

    selectivity_score(declaration.pk)

    again = Declaration.objects.get(pk=declaration.pk)
    assert again.lane == "blue"
    assert again.control_done_at is not None
    assert Selectivity.objects.filter(declaration=declaration).count() == 1


def test_a_cancelled_declaration_is_not_scored(risk_world):
    criterion(risk_world, CARS, lane="red")
    declaration = assessed(risk_world)
    declaration_cancel(actor=risk_world["users"]["officer"], declaration=declaration, reason="Lodged twice")

    assert selectivity_score(declaration.pk) is None

    unchanged = Declaration.objects.get(pk=declaration.pk)
    assert (unchanged.status, unchanged.lane) == ("cancelled", "")
    assert not Selectivity.objects.filter(declaration=declaration).exists()
    assert not CriterionHit.objects.filter(declaration=declaration).exists()
    assert not Examination.objects.filter(declaration=declaration).exists()


def test_a_withdrawn_declaration_is_not_scored(risk_world):
    criterion(risk_world, CARS, lane="red")
    OfficeDeclarationSettings.objects.create(office=risk_world["office"], register_on_lodgement=False)
    lodged = assessed(risk_world)
    assert lodged.status == "lodged"
    declaration_withdraw(actor=risk_world["users"]["trader_a"], declaration=lodged, reason="Wrong invoice")

    assert selectivity_score(lodged.pk) is None

    unchanged = Declaration.objects.get(pk=lodged.pk)
    assert (unchanged.status, unchanged.lane) == ("cancelled", "")
    assert not Selectivity.objects.filter(declaration=lodged).exists()


def test_the_facts_name_the_trader_the_foreign_party_and_the_broker(risk_world):
    by_trader = assessed(risk_world)
    by_broker = assessed(risk_world, actor="broker")
    items = list(DeclarationItem.objects.filter(declaration=by_broker))

    trader_facts = declaration_facts(by_trader, list(DeclarationItem.objects.filter(declaration=by_trader)))
    broker_facts = declaration_facts(by_broker, items)

    assert trader_facts.importer == {"101012345678", "altyn asyr hj"}
    assert trader_facts.exporter == {"shanghai motors ltd"}
    assert trader_facts.declarant == {"101012345678", "altyn asyr hj"}
    assert broker_facts.declarant == {"br-0001", "ak yol brokers"}
    assert (broker_facts.office, broker_facts.declaration_type, broker_facts.incoterm) == (
        "TMA01",
        "IM4",
        "CIF",
    )
    assert broker_facts.transport_mode == "3"
    assert broker_facts.day == timezone.localdate(by_broker.registered_at)
    (item,) = broker_facts.items
    assert (item.number, item.commodity_code, item.origin, item.procedure) == (1, CAR, "CN", "4000")
    assert item.value_per_kg == items[0].customs_value / D("1100")
    assert item.value_per_unit == items[0].customs_value
    assert item.preference is False


def test_the_facts_of_an_export_make_the_trader_the_exporter(risk_world):
    declaration = Declaration(
        declaration_type="EX1",
        office=risk_world["office"],
        trader=risk_world["trader_a"],
        counterparty_name="Berlin Handel GmbH",
        registered_at=timezone.now(),
    )
    declaration.direction = "EX"

    exported = declaration_facts(declaration, [])

    assert exported.exporter == {"101012345678", "altyn asyr hj"}
    assert exported.importer == {"berlin handel gmbh"}


def test_a_broker_criterion_hits_the_declarations_the_broker_lodges(risk_world):
    criterion(risk_world, [{"kind": "declarant", "operator": "in", "values": ["BR-0001"]}], lane="yellow")

    by_broker = score(assessed(risk_world, actor="broker"))
    by_trader = score(assessed(risk_world))

    assert (by_broker.lane, by_trader.lane) == ("yellow", "green")


def test_an_origin_group_criterion_hits_the_countries_of_the_group(risk_world):
    criterion(risk_world, [{"kind": "origin_group", "operator": "in", "values": ["CIS_FTA"]}], lane="yellow")

    from_kazakhstan = score(assessed(risk_world, items=[item_data(origin="KZ")]))
    from_china = score(assessed(risk_world))

    assert (from_kazakhstan.lane, from_china.lane) == ("yellow", "green")


def test_a_draft_or_not_yet_valid_criterion_does_not_score(risk_world):
    criterion(risk_world, CARS, lane="red", live=False)
    criterion(
        risk_world, FROM_CHINA, lane="red", valid_from=timezone.localdate() + datetime.timedelta(days=1)
    )
    criterion(risk_world, AT_TMA01, lane="red", offices=["TMT01"])

    declaration = score(assessed(risk_world))

    assert declaration.lane == "green"
    assert Selectivity.objects.get(declaration=declaration).criteria_evaluated == 2  # the live ones
    assert not CriterionHit.objects.filter(declaration=declaration).exists()


def test_an_aeo_has_lower_random_rates(risk_world):
    trader = risk_world["trader_a"]
    trader.aeo_status = AeoStatus.AEO_F
    trader.save()
    RandomSelectionRate.objects.create(office=risk_world["office"], lane="red", percent=D("10"))
    _rules(aeo_random_factor=D("0.40"))

    declaration = score(assessed(risk_world))

    draws = Selectivity.objects.get(declaration=declaration).random_draws
    draw = random_draw(declaration.number, "red")
    assert draws == {"red": {"rate": "4.00", "configured": "10.00", "draw": str(draw), "selected": draw < 4}}
    assert Selectivity.objects.get(declaration=declaration).profile == {
        "aeo": True,
        "findings": 0,
        "raised": False,
        "notes": [],
    }


def test_an_aeo_has_its_documentary_check_after_release(risk_world):
    trader = risk_world["trader_a"]
    trader.aeo_status = AeoStatus.AEO_C
    trader.save()
    criterion(risk_world, CARS, lane="yellow")

    declaration = score(assessed(risk_world))

    selectivity = Selectivity.objects.get(declaration=declaration)
    assert (declaration.lane, selectivity.source) == ("blue", "criteria")
    assert selectivity.profile["notes"] == ["aeo_yellow_to_blue"]
    assert PostClearanceAudit.objects.filter(declaration=declaration).exists()
    assert not Examination.objects.filter(declaration=declaration).exists()


def test_an_aeo_random_documentary_check_is_after_release_too(risk_world):
    trader = risk_world["trader_a"]
    trader.aeo_status = AeoStatus.AEO_S
    trader.save()
    RandomSelectionRate.objects.create(office=risk_world["office"], lane="yellow", percent=D("100"))
    _rules(aeo_random_factor=D("1.00"))

    declaration = score(assessed(risk_world))

    selectivity = Selectivity.objects.get(declaration=declaration)
    assert (declaration.lane, selectivity.source) == ("blue", "random")
    assert selectivity.profile["notes"] == ["aeo_random_yellow_to_blue"]


def test_an_aeo_keeps_the_documentary_check_when_so_configured(risk_world):
    trader = risk_world["trader_a"]
    trader.aeo_status = AeoStatus.AEO_F
    trader.save()
    _rules(aeo_documentary_to_audit=False)
    criterion(risk_world, CARS, lane="yellow")

    declaration = score(assessed(risk_world))

    assert declaration.lane == "yellow"
    assert Examination.objects.get(declaration=declaration).kind == "documentary"


def test_an_aeo_red_lane_stays_red(risk_world):
    trader = risk_world["trader_a"]
    trader.aeo_status = AeoStatus.AEO_F
    trader.save()
    criterion(risk_world, CARS, lane="red")

    assert score(assessed(risk_world)).lane == "red"


def _finding(risk_world, *, result="value", days_ago=0, trader="trader_a"):
    """A discrepancy found on an earlier declaration of ``trader``."""
    earlier = assessed(risk_world, actor=trader, trader=risk_world[trader].taxpayer_id)
    examination = Examination.objects.create(
        declaration=earlier,
        office=risk_world["office"],
        kind="physical",
        status="done",
        created_at=timezone.now(),
    )
    return Finding.objects.create(
        examination=examination,
        item_number=1,
        result=result,
        recorded_by=risk_world["users"]["officer"],
        recorded_at=timezone.now() - datetime.timedelta(days=days_ago),
    )


def test_recent_findings_raise_the_lane_to_the_configured_minimum(risk_world):
    _finding(risk_world, days_ago=10)
    RandomSelectionRate.objects.create(office=risk_world["office"], lane="blue", percent=D("2"))

    declaration = score(assessed(risk_world))

    selectivity = Selectivity.objects.get(declaration=declaration)
    assert (declaration.lane, selectivity.source) == ("yellow", "profile")
    assert selectivity.profile == {"aeo": False, "findings": 1, "raised": True, "notes": []}
    assert selectivity.random_draws["blue"]["rate"] == "6.00"  # times the findings' factor, 3
    assert Examination.objects.get(declaration=declaration).kind == "documentary"
    assert AuditEvent.objects.get(action="declarations.declaration.lane_assigned").after[
        "internal_reason"
    ] == ("Selectivity: yellow lane, the trader's recent findings.")


def test_a_hit_above_the_profile_s_minimum_keeps_its_lane(risk_world):
    _finding(risk_world)
    _rules(findings_minimum_lane="blue")
    criterion(risk_world, CARS, lane="red")

    declaration = score(assessed(risk_world))

    assert (declaration.lane, Selectivity.objects.get(declaration=declaration).source) == ("red", "criteria")


def test_findings_raise_the_risk_only_within_the_window_above_the_threshold_and_of_the_trader(risk_world):
    _finding(risk_world, days_ago=200)  # outside the 180 days
    _finding(risk_world, result="conform")  # not a discrepancy
    _finding(risk_world, trader="trader_b")  # another trader's

    declaration = score(assessed(risk_world))

    assert declaration.lane == "green"
    assert Selectivity.objects.get(declaration=declaration).profile["findings"] == 0


def test_findings_below_the_threshold_or_without_a_minimum_keep_green(risk_world):
    _finding(risk_world)
    _rules(findings_threshold=2)
    below = score(assessed(risk_world))
    _rules(findings_threshold=1, findings_minimum_lane="")
    no_minimum = score(assessed(risk_world))

    assert below.lane == "green"
    assert Selectivity.objects.get(declaration=below).profile == {
        "aeo": False,
        "findings": 1,
        "raised": False,
        "notes": [],
    }
    assert no_minimum.lane == "green"
    assert Selectivity.objects.get(declaration=no_minimum).profile["raised"] is True


def test_a_post_clearance_audit_discrepancy_counts_as_a_finding(risk_world):
    earlier = assessed(risk_world)
    PostClearanceAudit.objects.create(
        declaration=earlier,
        office=risk_world["office"],
        queued_at=timezone.now(),
        outcome="discrepancy",
        completed_at=timezone.now(),
    )

    declaration = score(assessed(risk_world))

    assert declaration.lane == "yellow"
    assert Selectivity.objects.get(declaration=declaration).profile["findings"] == 1


def test_blue_queues_a_post_clearance_audit_and_payment_releases(risk_world, sent_tasks):
    criterion(risk_world, CARS, lane="blue")
    declaration = score(assessed(risk_world))
    audit = PostClearanceAudit.objects.get(declaration=declaration)

    paid = declaration_mark_paid(actor=None, declaration=declaration, receipt_reference="R-1")

    assert (declaration.lane, declaration.status) == ("blue", "assessed")
    assert declaration.control_done_at is not None
    assert (audit.office, audit.outcome, audit.completed_at) == (risk_world["office"], "", None)
    assert not Examination.objects.filter(declaration=declaration).exists()
    assert paid.status == "released"


def test_green_is_released_once_paid_and_its_release_order_is_queued(
    risk_world, sent_tasks, django_capture_on_commit_callbacks
):
    declaration = score(assessed(risk_world))
    assert (declaration.lane, declaration.status) == ("green", "assessed")

    with django_capture_on_commit_callbacks(execute=True):
        paid = declaration_mark_paid(actor=None, declaration=declaration, receipt_reference="R-1")

    released = Declaration.objects.get(pk=declaration.pk)
    assert paid.status == released.status == "released"
    assert released.released_at is not None
    assert sent_tasks == [("declarations.issue_release_order", (declaration.pk,))]
    assert not PostClearanceAudit.objects.filter(declaration=declaration).exists()
    assert list(
        StatusChange.objects.filter(declaration=declaration).order_by("pk").values_list("action", flat=True)
    ) == ["lodge", "register", "assess", "lane_green", "mark_paid", "release"]


def test_a_declaration_paid_before_scoring_is_released_with_its_green_lane(
    risk_world, sent_tasks, django_capture_on_commit_callbacks
):
    declaration = declaration_mark_paid(actor=None, declaration=assessed(risk_world), receipt_reference="R-1")

    with django_capture_on_commit_callbacks(execute=True):
        selectivity_score(declaration.pk)

    released = Declaration.objects.get(pk=declaration.pk)
    assert (released.lane, released.status) == ("green", "released")
    assert sent_tasks == [("declarations.issue_release_order", (declaration.pk,))]


def test_a_red_or_yellow_lane_waits_for_its_control_even_when_paid(risk_world):
    criterion(risk_world, CARS, lane="red")
    declaration = declaration_mark_paid(actor=None, declaration=assessed(risk_world), receipt_reference="R-1")

    scored = score(declaration)

    assert (scored.lane, scored.status, scored.control_done_at) == ("red", "paid", None)


def test_scoring_is_audited(risk_world):
    criterion(risk_world, CARS, lane="red")

    declaration = score(assessed(risk_world))

    event = AuditEvent.objects.get(
        action="declarations.declaration.lane_assigned", object_id=str(declaration.pk)
    )
    code = CriterionHit.objects.get(declaration=declaration).criterion.code
    assert event.after == {
        "status": "assessed",
        "version": declaration.version,
        "lane": "red",
        "released": False,
        "reason": "Lane: red.",  # what the declarant reads in the history
        "internal_reason": f"Selectivity: red lane, criteria {code}.",
    }
    assert event.actor is None
