"""The transit demo: two movements of Altyn Asyr, one released against the demo guarantee; once."""

import pytest
from django.utils import timezone

from customs.demo import demo_load
from customs.reference_cache import reference_cache_clear
from payments.demo import payments_demo_load
from payments.services.guarantees import guarantee_available
from tariff.demo import tariff_demo_load
from tariff.engine import tariff_cache_clear
from transit.demo import transit_demo_load
from transit.models import TransitMovement
from transit.mrn import mrn_valid

pytestmark = pytest.mark.django_db


def test_the_transit_demo_loads_once():
    demo_load(today=timezone.localdate())
    tariff_demo_load()
    tariff_cache_clear()
    reference_cache_clear()
    payments_demo_load()
    assert transit_demo_load() == {"lodged": 2, "released": 1}
    assert transit_demo_load() == {"lodged": 0, "released": 0}
    released = TransitMovement.objects.get(status="released")
    assert mrn_valid(released.mrn) and released.amount_at_stake > 0
    assert guarantee_available(released.guarantee) == released.guarantee.amount - released.amount_at_stake
    assert TransitMovement.objects.get(status="registered").lrn == "AA-T1-2026-002"
    tariff_cache_clear()
