"""The demo declarations: lodged through the services on top of the demo tariff, loaded once."""

import pytest
from django.utils import timezone

from customs.demo import demo_load
from customs.reference_cache import reference_cache_clear
from declarations.demo import declarations_demo_load
from declarations.models import Declaration, TaxLine
from tariff.demo import tariff_demo_load
from tariff.engine import tariff_cache_clear

pytestmark = pytest.mark.django_db


def test_demo_declarations_are_assessed_queried_and_drafted_and_load_once():
    demo_load(today=timezone.localdate())
    tariff_demo_load()
    tariff_cache_clear()
    reference_cache_clear()

    first = declarations_demo_load()
    second = declarations_demo_load()

    statuses = dict(Declaration.objects.values_list("lrn", "status"))
    imported = Declaration.objects.get(lrn="AKY-2026-0101")
    assert (first, second) == (3, 0)
    assert statuses == {"AKY-2026-0101": "assessed", "AKY-2026-0102": "queried", "AA-DRAFT-7": "stored"}
    assert imported.number == f"TMA01 {timezone.localdate().year} C 1"
    assert imported.total_taxes == sum(
        TaxLine.objects.filter(declaration=imported).values_list("amount", flat=True)
    )
    assert imported.total_taxes > 0
    tariff_cache_clear()
