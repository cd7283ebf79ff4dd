"""Demo of the risk module for ``make run``: a few criteria an analyst of Ashgabat would write, random
selection rates at TMA01, and the demo declarations scored, so that the officer's worklist, the
post-clearance audit queue and the analyst's screens have something to show. Idempotent.
"""

import datetime
from decimal import Decimal

from customs.models import CustomsOffice, User
from declarations.models import Declaration
from risk.models import Criterion, RandomSelectionRate
from risk.services.criteria import VersionData, criterion_create
from risk.services.selectivity import selectivity_score

START = datetime.date(2026, 1, 1)
CRITERIA = [
    # code, name, live, lane, conditions, officer note, internal note
    (
        "DEMO-CARS-EU",
        "Used and new cars from the EU",
        True,
        "red",
        [
            {"kind": "commodity_code", "operator": "starts_with", "values": ["8703"]},
            {"kind": "origin", "operator": "in", "values": ["DE", "FR", "IT", "NL", "BE"]},
        ],
        "Check the VIN and the engine capacity against the certificate of conformity.",
        "Intelligence report 2026/14: odometer and engine-capacity fraud on EU cars.",
    ),
    (
        "DEMO-TEXTILE-LOW",
        "Knitted garments at a low value per kg",
        True,
        "yellow",
        [
            {"kind": "commodity_code", "operator": "starts_with", "values": ["61"]},
            {"kind": "value_per_kg", "operator": "below", "values": ["40"]},
        ],
        "Compare the invoice price with the reference prices for knitted garments.",
        "Undervaluation of Chinese textiles seen at Farap and Ashgabat in 2026.",
    ),
    (
        "DEMO-LAPTOP-CN",
        "Laptops from China below 150 TMT per unit (draft)",
        False,
        "yellow",
        [
            {"kind": "commodity_code", "operator": "in", "values": ["8471300000"]},
            {"kind": "origin", "operator": "in", "values": ["CN"]},
            {"kind": "value_per_unit", "operator": "below", "values": ["150"]},
        ],
        "Check the invoice against the manufacturer's price list.",
        "Draft: backtest before putting it live.",
    ),
]
RATES = {"TMA01": {"red": Decimal("2.00"), "yellow": Decimal("5.00"), "blue": Decimal("3.00")}}


def risk_demo_load() -> dict:
    """Create the demo criteria and rates that do not exist yet, then score the demo declarations that
    have no lane. Returns what was done."""
    analyst = User.objects.get(username="analyst")
    created = 0
    for code, name, live, lane, conditions, officer_note, internal_note in CRITERIA:
        if Criterion.objects.filter(code=code).exists():
            continue
        criterion_create(
            actor=analyst,
            code=code,
            name=name,
            live=live,
            data=VersionData(
                lane=lane,
                conditions=conditions,
                valid_from=START,
                officer_note=officer_note,
                internal_note=internal_note,
            ),
        )
        created += 1
    for office_code, rates in RATES.items():
        office = CustomsOffice.objects.get(code=office_code)
        for lane, percent in rates.items():
            RandomSelectionRate.objects.get_or_create(office=office, lane=lane, defaults={"percent": percent})
    scored = 0
    for declaration_id in Declaration.objects.filter(lane="", registered_at__isnull=False).values_list(
        "pk", flat=True
    ):
        if selectivity_score(declaration_id) is not None:
            scored += 1
    return {"criteria": created, "scored": scored}
