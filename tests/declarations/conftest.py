"""A small world to declare in: the small tariff, an office, traders, a broker, users of every side."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from customs.models import Country, PackageKind, ProcedureCode, TransportMode
from customs.reference_cache import reference_cache_clear
from customs.services.users import user_upsert
from declarations.services.offices import office_cache_clear
from tests.customs.factories import BrokerAuthorisationFactory, BrokerFactory, OfficeFactory, TraderFactory
from tests.tariff.conftest import CAR, FISH, PISTOL, small_tariff  # noqa: F401 (fixture)

D = Decimal
__all__ = ["CAR", "FISH", "PISTOL"]


@pytest.fixture(autouse=True)
def _fresh_reference_cache():
    reference_cache_clear()
    office_cache_clear()
    yield
    reference_cache_clear()
    office_cache_clear()


@pytest.fixture
def world(small_tariff, db):  # noqa: F811 (the imported fixture)
    """Offices TMA01 (registers on lodgement) and TMT01; trader A (with broker authorisation), trader B;
    users: trader_a, trader_b, broker (authorised by A), broker_other (no authorisation), officer
    (TMA01), officer_other (TMT01), supervisor (TMA01)."""
    from customs.models import ExchangeRate

    # The small tariff's rates are of 2026-11-27; declarations are lodged today, so give today's too.
    today = timezone.localdate()
    for rate in list(ExchangeRate.objects.all()):
        ExchangeRate.objects.get_or_create(
            currency=rate.currency, valid_from=today, defaults={"rate": rate.rate}
        )
    ProcedureCode.objects.create(code="1000", name_en="Permanent export", direction="EX")
    PackageKind.objects.create(code="CT", name_en="Carton")
    PackageKind.objects.create(code="PK", name_en="Package")
    TransportMode.objects.create(code="3", name_en="Road transport")
    TransportMode.objects.create(code="1", name_en="Sea transport")
    Country.objects.get_or_create(code="US", defaults={"name_en": "United States"})
    office = OfficeFactory(code="TMA01", name_en="Ashgabat", country=Country.objects.get(code="TM"))
    other_office = OfficeFactory(code="TMT01", name_en="Türkmenbaşy port", country=office.country)
    trader_a = TraderFactory(name="Altyn Asyr HJ", taxpayer_id="101012345678", country=office.country)
    trader_b = TraderFactory(name="Balkan Import HJ", taxpayer_id="101098765432", country=office.country)
    broker = BrokerFactory(name="Ak Yol Brokers", licence_number="BR-0001")
    other_broker = BrokerFactory(name="Other Brokers", licence_number="BR-0002")
    BrokerAuthorisationFactory(broker=broker, trader=trader_a, valid_from=datetime.date(2020, 1, 1))
    users = {
        "trader_a": user_upsert(actor=None, username="trader_a", roles=["trader_user"], trader=trader_a),
        "trader_b": user_upsert(actor=None, username="trader_b", roles=["trader_user"], trader=trader_b),
        "broker": user_upsert(actor=None, username="broker", roles=["broker_user"], broker=broker),
        "broker_other": user_upsert(
            actor=None, username="broker_other", roles=["broker_user"], broker=other_broker
        ),
        "officer": user_upsert(actor=None, username="officer", roles=["officer"], offices=[office]),
        "officer_other": user_upsert(
            actor=None, username="officer_other", roles=["officer"], offices=[other_office]
        ),
        "supervisor": user_upsert(
            actor=None, username="supervisor", roles=["supervisor", "officer"], offices=[office]
        ),
    }
    return {
        "office": office,
        "other_office": other_office,
        "trader_a": trader_a,
        "trader_b": trader_b,
        "broker": broker,
        "users": users,
        "today": today,
    }


def item_data(**overrides) -> dict:
    """One car from China, 1,000 USD, CIF-style figures that the tests compute by hand."""
    data = {
        "commodity_code": CAR,
        "description": "Passenger car, petrol, 1,500 cc",
        "origin": "CN",
        "procedure_code": "4000",
        "packages_number": 1,
        "package_kind": "PK",
        "gross_mass": D("1200"),
        "net_mass": D("1100"),
        "invoice_price": D("10000.00"),
        "quantities": {"item": D("1")},
    }
    data.update(overrides)
    return data


def declaration_data(items=None, **overrides) -> dict:
    """An IM4 of trader A at TMA01, CIF, in USD; the totals follow the items."""
    items = items if items is not None else [item_data()]
    data = {
        "declaration_type": "IM4",
        "office": "TMA01",
        "trader": "101012345678",
        "lrn": "LRN-0001",
        "counterparty_name": "Shanghai Motors Ltd",
        "counterparty_address": "1 Harbour Road, Shanghai",
        "counterparty_country": "CN",
        "dispatch_country": "CN",
        "incoterm": "CIF",
        "delivery_place": "Ashgabat",
        "transport_mode": "3",
        "transport_identity": "AG 1234",
        "invoice_amount": sum((item["invoice_price"] for item in items), D(0)),
        "invoice_currency": "USD",
        "total_packages": sum(item["packages_number"] for item in items),
        "items": items,
    }
    data.update(overrides)
    return data


def control_cleared(declaration, lane="green"):
    """``declaration`` with a lane whose control is done but not released: a paid declaration as the
    risk module leaves it only when something else held the release (the manual release's case)."""
    from declarations.models import Declaration

    Declaration.objects.filter(pk=declaration.pk).update(lane=lane, control_done_at=timezone.now())
    return Declaration.objects.get(pk=declaration.pk)
