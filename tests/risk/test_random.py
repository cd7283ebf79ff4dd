"""Random selection: a draw reproducible from the secret seed, the declaration's number and the lane; the
share selected matches the configured percentage; an audit replays a stored draw."""

import math
from decimal import Decimal

import pytest

from customs.choices import AeoStatus
from customs.models import AuditEvent
from declarations.services.errors import DeclarationInvalid
from risk.models import RandomSelectionRate, Selectivity
from risk.services.criteria import random_rate_set
from risk.services.selectivity import lane_decide, profile_settings, random_draw
from tests.risk.conftest import assessed, score

D = Decimal
NUMBER = "TMA01 2026 C 10452"


def test_the_same_seed_number_and_lane_give_the_same_draw(settings):
    settings.RISK_RANDOM_SEED = "seed-one"

    first = random_draw(NUMBER, "red")

    assert random_draw(NUMBER, "red") == first
    assert D(0) <= first < D(100)
    assert first == first.quantize(D("0.000001"))
    assert random_draw(NUMBER, "yellow") != first
    assert random_draw("TMA01 2026 C 10453", "red") != first


def test_another_seed_gives_another_draw(settings):
    settings.RISK_RANDOM_SEED = "seed-one"
    first = random_draw(NUMBER, "red")
    settings.RISK_RANDOM_SEED = "seed-two"

    assert random_draw(NUMBER, "red") != first


def test_without_a_seed_the_draw_comes_from_the_secret_key(settings):
    settings.RISK_RANDOM_SEED = ""
    settings.SECRET_KEY = "key-one"
    first = random_draw(NUMBER, "red")
    settings.SECRET_KEY = "key-two"

    assert random_draw(NUMBER, "red") != first
    settings.SECRET_KEY = "key-one"
    assert random_draw(NUMBER, "red") == first


def _binomial_bounds(trials: int, probability: float, z: float = 3.2905) -> tuple[float, float]:
    """The two-sided 99.9% normal bounds of a binomial count."""
    mean = trials * probability
    spread = z * math.sqrt(trials * probability * (1 - probability))
    return mean - spread, mean + spread


def test_over_ten_thousand_numbers_the_share_selected_matches_the_rate(settings):
    settings.RISK_RANDOM_SEED = "statistics"
    numbers = [f"TMA01 2026 C {number}" for number in range(1, 10_001)]

    for lane, percent in (("red", 10), ("yellow", 2), ("blue", 50)):
        selected = sum(1 for number in numbers if random_draw(number, lane) < percent)
        low, high = _binomial_bounds(len(numbers), percent / 100)
        assert low <= selected <= high, (lane, selected, low, high)


def test_the_lanes_are_drawn_independently(settings):
    settings.RISK_RANDOM_SEED = "independence"
    numbers = [f"TMA01 2026 C {number}" for number in range(1, 10_001)]

    both = sum(
        1 for number in numbers if random_draw(number, "red") < 10 and random_draw(number, "yellow") < 10
    )

    low, high = _binomial_bounds(len(numbers), 0.01)
    assert low <= both <= high


def test_an_audit_replays_the_stored_draws_from_the_seed(risk_world, settings):
    settings.RISK_RANDOM_SEED = "audited-seed"
    office, analyst = risk_world["office"], risk_world["users"]["analyst"]
    random_rate_set(actor=analyst, office=office, lane="red", percent="100")
    random_rate_set(actor=analyst, office=office, lane="yellow", percent="0.5")
    random_rate_set(actor=analyst, office=office, lane="blue", percent=D("37.5"))

    declaration = score(assessed(risk_world))

    selectivity = Selectivity.objects.get(declaration=declaration)
    assert set(selectivity.random_draws) == {"red", "yellow", "blue"}
    for lane, stored in selectivity.random_draws.items():
        replayed = random_draw(declaration.number, lane)
        assert D(stored["draw"]) == replayed
        assert stored["selected"] is (replayed < D(stored["rate"]))
    assert selectivity.random_draws["red"]["selected"] is True
    assert (declaration.lane, selectivity.source) == ("red", "random")
    lane, source, notes = lane_decide(
        hits=[], draws=selectivity.random_draws, profile=selectivity.profile, rules=profile_settings()
    )
    assert (lane, source, notes) == ("red", "random", [])


def test_another_seed_would_not_replay_the_draw(risk_world, settings):
    settings.RISK_RANDOM_SEED = "audited-seed"
    RandomSelectionRate.objects.create(office=risk_world["office"], lane="blue", percent=D("50"))
    declaration = score(assessed(risk_world))
    stored = Selectivity.objects.get(declaration=declaration).random_draws["blue"]["draw"]

    settings.RISK_RANDOM_SEED = "guessed-seed"

    assert random_draw(declaration.number, "blue") != D(stored)


def test_a_zero_rate_draws_nothing(risk_world):
    RandomSelectionRate.objects.create(office=risk_world["office"], lane="red", percent=D("0"))

    declaration = score(assessed(risk_world))

    assert Selectivity.objects.get(declaration=declaration).random_draws == {}
    assert declaration.lane == "green"


def test_a_random_rate_is_set_in_percent_rounded_half_up_and_audited(risk_world):
    office, analyst = risk_world["office"], risk_world["users"]["analyst"]

    random_rate_set(actor=analyst, office=office, lane="red", percent="2")
    rate = random_rate_set(actor=analyst, office=office, lane="red", percent="12.345")

    assert rate.percent == D("12.35")
    assert RandomSelectionRate.objects.get(office=office, lane="red").percent == D("12.35")
    events = AuditEvent.objects.filter(action="risk.random_rate.set").order_by("sequence")
    assert [(event.before, event.after) for event in events] == [
        ({"percent": None}, {"lane": "red", "percent": "2.00"}),
        ({"percent": "2.00"}, {"lane": "red", "percent": "12.35"}),
    ]


@pytest.mark.parametrize(
    ("lane", "percent", "field"),
    [
        ("red", "-1", "percent"),
        ("red", "100.01", "percent"),
        ("red", "ten", "percent"),
        ("red", "NaN", "percent"),
    ]
    + [("green", "5", "lane")],
)
def test_a_wrong_random_rate_is_refused(risk_world, lane, percent, field):
    with pytest.raises(DeclarationInvalid) as raised:
        random_rate_set(
            actor=risk_world["users"]["analyst"], office=risk_world["office"], lane=lane, percent=percent
        )

    assert [error.field for error in raised.value.errors] == [field]
    assert not RandomSelectionRate.objects.exists()
    assert not AuditEvent.objects.filter(action="risk.random_rate.set").exists()


def test_the_profile_s_factor_on_a_rate_rounds_half_up(risk_world):
    trader = risk_world["trader_a"]
    trader.aeo_status = AeoStatus.AEO_F
    trader.save()
    RandomSelectionRate.objects.create(office=risk_world["office"], lane="red", percent=D("0.05"))

    declaration = score(assessed(risk_world))

    assert Selectivity.objects.get(declaration=declaration).random_draws["red"]["rate"] == "0.03"  # 0.025
