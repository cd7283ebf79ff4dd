"""The Time Release Study measure: registration to release, by office and lane."""

import datetime

import pytest
from django.utils import timezone

from declarations.models import Declaration
from declarations.selectors import time_release_study
from declarations.services.drafts import declaration_create
from declarations.services.lifecycle import declaration_lodge, declaration_mark_paid, declaration_release
from tests.declarations.conftest import control_cleared, declaration_data

pytestmark = pytest.mark.django_db


def _released(world, lrn, hours, lane):
    trader, officer = world["users"]["trader_a"], world["users"]["officer"]
    declaration = declaration_lodge(
        actor=trader, declaration=declaration_create(actor=trader, data=declaration_data(lrn=lrn))
    )
    declaration = declaration_mark_paid(actor=None, declaration=declaration, receipt_reference="R-1")
    declaration = declaration_release(actor=officer, declaration=control_cleared(declaration, lane))
    registered = declaration.released_at - datetime.timedelta(hours=hours)
    Declaration.objects.filter(pk=declaration.pk).update(registered_at=registered, lane=lane)


def test_average_hours_from_registration_to_release_per_office_and_lane(world):
    _released(world, "A", 2, "green")
    _released(world, "B", 4, "green")
    _released(world, "C", 30, "red")
    today = timezone.localdate()

    rows = time_release_study(date_from=today, date_to=today)

    assert rows == [
        {"office": "TMA01", "lane": "green", "declarations": 2, "average_hours": 3.0},
        {"office": "TMA01", "lane": "red", "declarations": 1, "average_hours": 30.0},
    ]


def test_declarations_not_released_in_the_period_do_not_count(world):
    _released(world, "A", 2, "green")
    yesterday = timezone.localdate() - datetime.timedelta(days=1)

    assert time_release_study(date_from=yesterday, date_to=yesterday) == []
