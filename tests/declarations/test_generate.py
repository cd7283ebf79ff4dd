"""The bulk generator of the finder benchmark: unique numbers, and the series go on without collision."""

import io
from collections import defaultdict

import pytest
from django.core.management import call_command

from customs.models import DocumentSequence
from declarations.choices import Status
from declarations.models import Declaration
from declarations.services.drafts import declaration_create
from declarations.services.lifecycle import declaration_lodge
from tests.declarations.conftest import declaration_data

pytestmark = pytest.mark.django_db


def _lodge(world, lrn):
    trader = world["users"]["trader_a"]
    return declaration_lodge(
        actor=trader, declaration=declaration_create(actor=trader, data=declaration_data(lrn=lrn))
    )


def test_generated_declarations_are_numbered_on_from_the_series_and_real_ones_follow(world):
    first = _lodge(world, "REAL-1")

    call_command("declarations_generate", count=200, batch_size=70, traders=5, stdout=io.StringIO())
    after = _lodge(world, "REAL-2")

    generated = Declaration.objects.filter(lrn__startswith="GEN")
    numbers = defaultdict(list)
    for office, year, series, number in Declaration.objects.filter(
        registration_number__isnull=False
    ).values_list("office__code", "registration_year", "registration_series", "registration_number"):
        numbers[(office, year, series)].append(number)
    sequences = {
        (row.office_code, row.year, row.series): row.last_number for row in DocumentSequence.objects.all()
    }
    assert generated.count() == 200
    assert generated.exclude(status=Status.STORED).filter(lodged_at__isnull=True).count() == 0
    assert set(generated.values_list("office__code", flat=True)) == {"TMA01", "TMT01"}
    assert first.registration_number == 1
    assert after.registration_number == sequences[("TMA01", after.registration_year, "C")]
    for key, given in numbers.items():
        assert sorted(given) == list(range(1, len(given) + 1)), key  # unique and without gaps
        assert sequences[key] == len(given), key
        office, year, _series = key
        assert sequences[(office, year, "A")] == len(given), key
