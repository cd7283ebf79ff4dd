"""The path every other risk test builds on: a live criterion hits, the lane is given, the examination
assigned; no hit is green, released on payment."""

from declarations.choices import Status
from declarations.services.lifecycle import declaration_mark_paid
from risk.models import CriterionHit, Examination, Selectivity
from tests.risk.conftest import CAR, assessed, criterion, score


def test_a_matching_criterion_sends_the_declaration_red_and_assigns_an_officer(risk_world):
    version = criterion(
        risk_world, [{"kind": "commodity_code", "operator": "starts_with", "values": [CAR[:4]]}]
    )
    declaration = score(assessed(risk_world))

    hit = CriterionHit.objects.get(declaration=declaration)
    examination = Examination.objects.get(declaration=declaration)
    assert declaration.lane == "red"
    assert declaration.control_done_at is None
    assert hit.version == version
    assert hit.item_number == 1
    assert hit.explanation == [
        {"kind": "commodity_code", "operator": "starts_with", "values": [CAR[:4]], "actual": CAR}
    ]
    assert examination.kind == "physical"
    assert examination.status == "assigned"
    assert examination.officer.username in {"officer", "officer2"}


def test_no_hit_is_green_and_payment_releases(risk_world):
    declaration = score(assessed(risk_world))

    paid = declaration_mark_paid(actor=None, declaration=declaration)

    assert Selectivity.objects.get(declaration=declaration).source == "none"
    assert declaration.lane == "green"
    assert paid.status == Status.RELEASED
