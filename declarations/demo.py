"""Demo declarations for ``make run``: what a broker and a trader at Ashgabat would have on a
morning. Lodged through the same services as any declaration, so the demo shows real numbers,
assessments and history. Idempotent: a declaration whose LRN exists is left alone.
"""

from decimal import Decimal

from django.db import transaction

from customs.models import User
from declarations.models import Declaration
from declarations.services.drafts import declaration_create
from declarations.services.lifecycle import declaration_lodge, declaration_query

D = Decimal


def _item(code, description, origin, packages, gross, net, price, **extra):
    return {
        "commodity_code": code,
        "description": description,
        "origin": origin,
        "procedure_code": extra.pop("procedure_code", "4000"),
        "packages_number": packages,
        "package_kind": "CT",
        "gross_mass": D(gross),
        "net_mass": D(net),
        "invoice_price": D(price),
        **extra,
    }


def _declaration(lrn, items, **general):
    return {
        "declaration_type": "IM4",
        "office": "TMA01",
        "trader": "101012345678",
        "lrn": lrn,
        "dispatch_country": "CN",
        "counterparty_country": "CN",
        "transport_mode": "3",
        "invoice_currency": "USD",
        "invoice_amount": sum((item["invoice_price"] for item in items), D(0)),
        "total_packages": sum(item["packages_number"] for item in items),
        "items": items,
        **general,
    }


DEMO = [
    # (user, LRN, data, what happens after lodgement: "" / "query" / None for a draft)
    (
        "broker",
        "AKY-2026-0101",
        _declaration(
            "AKY-2026-0101",
            [
                _item(
                    "8471300000",
                    "Laptop computers, 14 inch",
                    "CN",
                    20,
                    "180",
                    "150",
                    "12000.00",
                    quantities={"item": D(40)},
                ),
                _item(
                    "6109100000",
                    "T-shirts of cotton, knitted",
                    "CN",
                    40,
                    "820",
                    "800",
                    "6400.00",
                    quantities={"item": D(3200)},
                ),
                _item("0901210000", "Roasted coffee beans", "BR", 10, "260", "250", "1800.00"),
            ],
            counterparty_name="Shenzhen Trading Co. Ltd",
            counterparty_address="88 Futian Road, Shenzhen",
            incoterm="FOB",
            delivery_place="Shenzhen",
            transport_identity="AG 4521 TM",
            freight_amount=D("1500.00"),
            freight_currency="USD",
            insurance_amount=D("120.00"),
            insurance_currency="USD",
        ),
        "",
    ),
    (
        "broker",
        "AKY-2026-0102",
        _declaration(
            "AKY-2026-0102",
            [
                _item(
                    "8703239000",
                    "Passenger car, petrol, 1,800 cc",
                    "DE",
                    1,
                    "1450",
                    "1320",
                    "21500.00",
                    quantities={"item": D(1)},
                )
            ],
            counterparty_name="Autohaus Berlin GmbH",
            counterparty_address="Kurfürstendamm 10, Berlin",
            counterparty_country="DE",
            dispatch_country="DE",
            incoterm="CIF",
            delivery_place="Ashgabat",
            transport_identity="B-KR 2041",
            invoice_currency="EUR",
        ),
        "query",
    ),
    (
        "trader",
        "AA-DRAFT-7",
        _declaration(
            "AA-DRAFT-7",
            [
                _item(
                    "6109100000",
                    "T-shirts of cotton, printed",
                    "TR",
                    12,
                    "240",
                    "230",
                    "2100.00",
                    quantities={"item": D(600)},
                )
            ],
            counterparty_name="Istanbul Tekstil A.S.",
            counterparty_country="TR",
            dispatch_country="TR",
            incoterm="DAP",
            delivery_place="Ashgabat",
        ),
        None,
    ),
]


def declarations_demo_load() -> int:
    """Create the demo declarations that do not exist yet; returns how many were created."""
    created = 0
    officer = User.objects.get(username="officer")
    for username, lrn, data, after in DEMO:
        user = User.objects.get(username=username)
        if Declaration.objects.filter(lrn=lrn, trader__taxpayer_id=data["trader"]).exists():
            continue
        with transaction.atomic():
            declaration = declaration_create(actor=user, data=data)
            if after is not None:
                declaration = declaration_lodge(actor=user, declaration=declaration)
            if after == "query":
                declaration_query(
                    actor=officer,
                    declaration=declaration,
                    reason="Please attach the certificate of conformity of the vehicle.",
                )
        created += 1
    return created
