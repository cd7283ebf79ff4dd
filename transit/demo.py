"""Demo of the transit module for ``make run``: two T1 movements of Altyn Asyr from Ashgabat (TMA01) to
Türkmenbaşy port (TMT01) through Farap (TMF01) under its demo guarantee: one released for transit (its
TAD is printed by the worker), one registered and waiting for the office of departure. Idempotent.
"""

import datetime
from decimal import Decimal

from django.utils import timezone

from customs.models import User
from transit.data import PartyData, TransitData, TransitItemData
from transit.models import TransitMovement
from transit.services.lifecycle import transit_lodge, transit_release

TRADER = "101012345678"
GUARANTEE = "TM-GRN-2026-0001"


def _t1(lrn: str, items: list[TransitItemData]) -> TransitData:
    return TransitData(
        lrn=lrn,
        departure_office="TMA01",
        destination_office="TMT01",
        transit_offices=["TMF01"],
        principal=PartyData(identification=TRADER, name="Altyn Asyr Trading HJ", country="TM"),
        carrier=PartyData(identification="TM-CARR-7", name="Ak Ýol Logistics"),
        transport_identity="AG 4521 TM",
        transport_nationality="TM",
        containers=["MSCU1234565"],
        seals=["TM-2026-00481", "TM-2026-00482"],
        itinerary=["TM"],
        time_limit=timezone.localdate() + datetime.timedelta(days=8),
        guarantee_reference=GUARANTEE,
        items=items,
    )


def transit_demo_load() -> dict:
    trader_user = User.objects.get(username="trader")
    officer = User.objects.get(username="officer")
    created = {"lodged": 0, "released": 0}
    demos = [
        (
            "AA-T1-2026-001",
            [
                TransitItemData(
                    1,
                    "8471300000",
                    "Laptop computers, 14 inch",
                    40,
                    "CT",
                    Decimal("180"),
                    Decimal("150"),
                    Decimal("24000.00"),
                    "USD",
                ),
                TransitItemData(
                    2,
                    "0901210000",
                    "Roasted coffee beans",
                    10,
                    "BG",
                    Decimal("260"),
                    Decimal("250"),
                    Decimal("1800.00"),
                    "USD",
                ),
            ],
            True,
        ),
        (
            "AA-T1-2026-002",
            [
                TransitItemData(
                    1,
                    "6109100000",
                    "T-shirts of cotton, knitted",
                    25,
                    "CT",
                    Decimal("410"),
                    Decimal("380"),
                    Decimal("6200.00"),
                    "USD",
                ),
            ],
            False,
        ),
    ]
    for lrn, items, release in demos:
        if TransitMovement.objects.filter(lrn=lrn, principal__taxpayer_id=TRADER).exists():
            continue
        movement = transit_lodge(actor=trader_user, data=_t1(lrn, items))
        created["lodged"] += 1
        if release:
            transit_release(actor=officer, movement=movement)
            created["released"] += 1
    return created
