"""Reference-data API: the authorisation matrix, API keys with scopes, the error envelope."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from customs.models import ApiClient, Country, ExchangeRate
from customs.services.users import user_upsert
from tests.customs.factories import BrokerFactory, CountryFactory, CurrencyFactory, TraderFactory, UserFactory

pytestmark = pytest.mark.django_db
COUNTRIES = "/api/v1/customs/countries/"


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def countries():
    CountryFactory(code="TM")
    CountryFactory(code="KZ", name_en="Kazakhstan", name_ru="Казахстан", name_tk="Gazagystan", alpha3="KAZ")


def _key(user, scopes, revoked=False, **extra):
    client, key = ApiClient.objects.create_key(
        name="integration", user=user, scopes=scopes, revoked=revoked, **extra
    )
    return key


@pytest.mark.parametrize(
    ("who", "read_status", "write_status"),
    [
        ("anonymous", 401, 401),
        ("trader", 200, 403),
        ("broker", 200, 403),
        ("officer", 200, 403),
        ("administrator", 200, 201),
    ],
)
def test_reference_read_and_write_matrix(api, countries, verified_login, who, read_status, write_status):
    users = {
        "trader": lambda: UserFactory(roles=["trader_user"], trader=TraderFactory()),
        "broker": lambda: UserFactory(roles=["broker_user"], broker=BrokerFactory()),
        "officer": lambda: UserFactory(roles=["officer"]),
        "administrator": lambda: user_upsert(actor=None, username="ayna", roles=["administrator"]),
    }
    if who in users:
        verified_login(api, users[who]())

    read = api.get(COUNTRIES)
    write = api.post(COUNTRIES, {"code": "UZ", "name_en": "Uzbekistan"}, format="json")

    assert read.status_code == read_status
    assert write.status_code == write_status
    assert Country.objects.filter(code="UZ").exists() is (write_status == 201)
    if read_status == 200:
        assert [row["code"] for row in read.json()["results"]] == ["KZ", "TM"]


def test_names_follow_the_requested_language(api, countries, verified_login):
    verified_login(api, UserFactory(roles=["officer"]))

    russian = api.get(COUNTRIES + "KZ/", HTTP_ACCEPT_LANGUAGE="ru")
    turkmen = api.get(COUNTRIES + "KZ/", HTTP_ACCEPT_LANGUAGE="tk")

    assert russian.json()["name"] == "Казахстан"
    assert turkmen.json()["name"] == "Gazagystan"


def test_api_key_with_scope_reads(api, countries):
    key = _key(UserFactory(roles=["bank_integration"]), ["reference:read"])

    response = api.get(COUNTRIES, HTTP_AUTHORIZATION=f"Api-Key {key}")

    assert response.status_code == 200
    assert response.json()["count"] == 2
    assert ApiClient.objects.get().last_used_at is not None


def test_api_key_without_the_scope_is_refused(api, countries):
    key = _key(UserFactory(roles=["bank_integration"]), ["payments:callback"])

    response = api.get(COUNTRIES, HTTP_AUTHORIZATION=f"Api-Key {key}")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize("problem", ["revoked", "unknown", "expired", "inactive user"])
def test_bad_api_keys_are_refused(api, countries, problem):
    yesterday = timezone.now() - datetime.timedelta(days=1)
    key = _key(
        UserFactory(is_active=problem != "inactive user"),
        ["reference:read"],
        revoked=problem == "revoked",
        expiry_date=yesterday if problem == "expired" else None,
    )
    if problem == "unknown":
        key = key[:-4] + "zzzz"

    response = api.get(COUNTRIES, HTTP_AUTHORIZATION=f"Api-Key {key}")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_api_keys_are_stored_hashed():
    key = _key(UserFactory(), ["reference:read"])

    stored = ApiClient.objects.get()

    assert key not in stored.hashed_key
    assert stored.is_valid(key)


def test_validation_errors_come_field_by_field(api, verified_login):
    verified_login(api, user_upsert(actor=None, username="ayna", roles=["administrator"]))

    response = api.post(COUNTRIES, {"code": "", "name_en": ""}, format="json")

    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "validation_error"
    assert body["fields"]["code"] == [{"code": "blank", "message": "This field may not be blank."}]
    assert body["fields"]["name_en"] == [{"code": "blank", "message": "This field may not be blank."}]


def test_rate_on_date_endpoint(api, verified_login):
    usd = CurrencyFactory(code="USD")
    ExchangeRate.objects.create(currency=usd, valid_from=datetime.date(2026, 11, 20), rate=Decimal("3.5"))
    verified_login(api, UserFactory(roles=["officer"]))

    found = api.get("/api/v1/customs/exchange-rates/on-date/", {"currency": "USD", "date": "2026-11-22"})
    missing = api.get("/api/v1/customs/exchange-rates/on-date/", {"currency": "USD", "date": "2026-11-01"})

    assert found.status_code == 200
    assert found.json() == {
        "currency": "USD",
        "date": "2026-11-22",
        "rate": "3.5000000000",
        "valid_from": "2026-11-20",
        "national_currency": "TMT",
    }
    assert missing.status_code == 409
    assert missing.json()["error"] == {
        "code": "exchange_rate_missing",
        "message": "No exchange rate for USD is in force on 2026-11-01.",
    }


def test_openapi_schema_and_docs_are_served_without_a_cdn(client):
    schema = client.get("/api/schema/")
    docs = client.get("/api/docs/")

    assert schema.status_code == 200
    assert b"/api/v1/customs/exchange-rates/on-date/" in schema.content
    assert b"ApiKey" in schema.content
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower()
    assert b"drf_spectacular_sidecar" in docs.content
