"""The payments world (offices, traders, the guarantee GRN-0001 of trader A) plus what transit needs:
offices with their transit roles (TMA01 departure, TMF01 border, TMT01 destination), officers at each,
and a T1 of trader A to lodge."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from customs.choices import OfficeRole
from customs.models import CustomsOffice
from customs.services.users import user_upsert
from tests.customs.factories import OfficeFactory
from tests.payments.conftest import (  # noqa: F401 (fixtures for the transit tests)
    CAR,
    FISH,
    _fresh_reference_cache,
    pay_world,
    world,
)
from tests.tariff.conftest import small_tariff  # noqa: F401 (the fixture ``world`` needs)
from transit.data import PartyData, TransitData, TransitItemData

D = Decimal
ALL_TRANSIT = [OfficeRole.TRANSIT_DEPARTURE, OfficeRole.TRANSIT_DESTINATION, OfficeRole.TRANSIT_BORDER]


@pytest.fixture
def transit_world(pay_world):  # noqa: F811 (the imported fixture)
    """``pay_world`` with transit roles on its offices, the border office TMF01, and officers
    ``departure_officer`` (TMA01), ``border_officer`` (TMF01), ``destination_officer`` (TMT01)."""
    CustomsOffice.objects.filter(code__in=["TMA01", "TMT01"]).update(roles=ALL_TRANSIT)
    border = OfficeFactory(
        code="TMF01", name_en="Farap", country=pay_world["office"].country, roles=ALL_TRANSIT
    )
    users = pay_world["users"]
    users["departure_officer"] = user_upsert(
        actor=None, username="departure_officer", roles=["officer"], offices=[pay_world["office"]]
    )
    users["border_officer"] = user_upsert(
        actor=None, username="border_officer", roles=["officer"], offices=[border]
    )
    users["destination_officer"] = user_upsert(
        actor=None, username="destination_officer", roles=["officer"], offices=[pay_world["other_office"]]
    )
    return {**pay_world, "border_office": border}


def t1_data(**overrides) -> TransitData:
    """A T1 of trader A from Ashgabat to Türkmenbaşy via Farap: one car, 10,000 USD."""
    data = TransitData(
        lrn=overrides.pop("lrn", "T1-0001"),
        departure_office="TMA01",
        destination_office="TMT01",
        transit_offices=["TMF01"],
        principal=PartyData(identification="101012345678", name="Altyn Asyr HJ", country="TM"),
        carrier=PartyData(identification="CARR-1", name="Ak Ýol Logistics"),
        transport_identity="AG 1234 TM",
        transport_nationality="TM",
        containers=["MSCU1234565"],
        seals=["TM-S-0001", "TM-S-0002"],
        itinerary=["TM"],
        time_limit=timezone.localdate() + datetime.timedelta(days=8),
        guarantee_reference="GRN-0001",
        items=[
            TransitItemData(
                number=1,
                commodity_code=CAR,
                description="Passenger car, petrol, 1,500 cc",
                packages_number=1,
                package_kind="PK",
                gross_mass=D("1200"),
                net_mass=D("1100"),
                value=D("10000.00"),
                currency="USD",
            )
        ],
    )
    for name, value in overrides.items():
        setattr(data, name, value)
    return data
