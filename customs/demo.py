"""Demo data for ``make run``: Turkmen offices, traders, a broker, one user per role, today's rates.

Idempotent: every row is upserted on its natural key, so running it again changes nothing. The demo
password and TOTP secret are public (README); never load the demo into a production database.
"""

import datetime

from django.conf import settings
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework_api_key.crypto import KeyGenerator, concatenate

from customs.choices import AeoStatus, ApiScope, AuthorisationScope, OfficeKind, OfficeRole, Role
from customs.demo_secrets import DEMO_BROKER_API_KEY, DEMO_PASSWORD, DEMO_TOTP_BASE32, DEMO_TOTP_KEY
from customs.models import (
    ApiClient,
    Broker,
    BrokerAuthorisation,
    Country,
    Currency,
    CustomsOffice,
    ExchangeRate,
    Trader,
    User,
)
from customs.services.exchange_rates import national_rates, parse_ecb
from customs.services.users import user_upsert

IMP, EXP = OfficeRole.IMPORT, OfficeRole.EXPORT
DEP, DEST, BORDER = OfficeRole.TRANSIT_DEPARTURE, OfficeRole.TRANSIT_DESTINATION, OfficeRole.TRANSIT_BORDER
OFFICES = [
    ("TMA01", "Ashgabat", "Ашхабад", "Aşgabat", OfficeKind.INLAND, [IMP, EXP, DEP, DEST]),
    (
        "TMA02",
        "Ashgabat airport",
        "Аэропорт Ашхабад",
        "Aşgabat howa menzili",
        OfficeKind.AIRPORT,
        [IMP, EXP, DEP, DEST, BORDER],
    ),
    (
        "TMT01",
        "Türkmenbaşy port",
        "Порт Туркменбаши",
        "Türkmenbaşy porty",
        OfficeKind.SEA,
        [IMP, EXP, DEP, DEST, BORDER],
    ),
    ("TMF01", "Farap", "Фарап", "Farap", OfficeKind.BORDER, [IMP, EXP, DEP, DEST, BORDER]),
    ("TMS01", "Serhetabat", "Серхетабат", "Serhetabat", OfficeKind.RAIL, [IMP, EXP, DEP, DEST, BORDER]),
    ("TMG01", "Saragt", "Сарахс", "Saragt", OfficeKind.BORDER, [IMP, EXP, DEP, DEST, BORDER]),
    ("TMD01", "Dashoguz", "Дашогуз", "Daşoguz", OfficeKind.INLAND, [IMP, EXP, DEP, DEST]),
    ("TMI01", "Imamnazar", "Имамназар", "Imamnazar", OfficeKind.BORDER, [IMP, EXP, DEP, DEST, BORDER]),
]

TRADERS = [
    ("101012345678", "Altyn Asyr Trading HJ", "Görogly köçesi 15, Aşgabat", "TM", AeoStatus.AEO_F),
    ("101098765432", "Balkan Import HJ", "Magtymguly şaýoly 4, Türkmenbaşy", "TM", AeoStatus.NONE),
    ("102055501234", "Lebap Cotton Export HJ", "Türkmenabat", "TM", AeoStatus.AEO_C),
]
BROKER = ("BR-0001", "Ak Ýol Customs Brokers", "101077700011", datetime.date(2024, 1, 1))

USERS = [
    # username, roles, office codes, link, first name, last name, superuser
    ("admin", [Role.ADMINISTRATOR], [], None, "Aýna", "Administratorowa", True),
    ("officer", [Role.OFFICER], ["TMA01"], None, "Merdan", "Orazow", False),
    ("officer2", [Role.OFFICER], ["TMA01", "TMT01"], None, "Jeren", "Annaýewa", False),
    ("supervisor", [Role.SUPERVISOR, Role.OFFICER], ["TMA01"], None, "Batyr", "Gurbanow", False),
    ("analyst", [Role.RISK_ANALYST], [], None, "Maral", "Hojaýewa", False),
    ("cashier", [Role.CASHIER], ["TMA01"], None, "Gülşat", "Myradowa", False),
    ("broker", [Role.BROKER_USER], [], ("broker", "BR-0001"), "Serdar", "Berdiýew", False),
    ("trader", [Role.TRADER_USER], [], ("trader", "101012345678"), "Aman", "Atabaýew", False),
    ("bank", [Role.BANK_INTEGRATION], [], None, "Bank", "Integration", False),
]

# Cross rates of the last day of the shipped ECB file, re-dated to today so that the demo has rates in
# force (the national currency TMT is pegged at 3.5 per USD).
DEMO_RATES_FILE = "ecb_eurofxref-hist-90d_2019-12-17_2020-01-28.xml"


def _offices():
    turkmenistan = Country.objects.get(code="TM")
    for code, name_en, name_ru, name_tk, kind, roles in OFFICES:
        CustomsOffice.objects.update_or_create(
            code=code,
            defaults={
                "name_en": name_en,
                "name_ru": name_ru,
                "name_tk": name_tk,
                "kind": kind,
                "roles": [str(role) for role in roles],
                "country": turkmenistan,
                "active": True,
            },
        )


def _parties():
    countries = {
        country.code: country for country in Country.objects.filter(code__in={t[3] for t in TRADERS})
    }
    for taxpayer_id, name, address, country, aeo in TRADERS:
        Trader.objects.update_or_create(
            taxpayer_id=taxpayer_id,
            defaults={"name": name, "address": address, "country": countries[country], "aeo_status": aeo},
        )
    licence, name, taxpayer_id, valid_from = BROKER
    broker, _ = Broker.objects.update_or_create(
        licence_number=licence,
        defaults={"name": name, "taxpayer_id": taxpayer_id, "licence_valid_from": valid_from},
    )
    for taxpayer_id in ("101012345678", "101098765432"):
        BrokerAuthorisation.objects.update_or_create(
            broker=broker,
            trader=Trader.objects.get(taxpayer_id=taxpayer_id),
            valid_from=valid_from,
            defaults={"scope": [scope.value for scope in AuthorisationScope], "revoked": False},
        )


def _users():
    for username, roles, office_codes, link, first_name, last_name, superuser in USERS:
        trader = broker = None
        if link and link[0] == "trader":
            trader = Trader.objects.get(taxpayer_id=link[1])
        if link and link[0] == "broker":
            broker = Broker.objects.get(licence_number=link[1])
        user = user_upsert(
            actor=None,
            username=username,
            password=DEMO_PASSWORD,
            roles=[role.value for role in roles],
            offices=list(CustomsOffice.objects.filter(code__in=office_codes)),
            trader=trader,
            broker=broker,
            first_name=first_name,
            last_name=last_name,
            is_superuser=superuser,
        )
        if user.requires_second_factor:
            TOTPDevice.objects.update_or_create(
                user=user, name="demo authenticator", defaults={"key": DEMO_TOTP_KEY, "confirmed": True}
            )


def _rates(today: datetime.date):
    content = (settings.BASE_DIR / "customs" / "reference_data" / "demo" / DEMO_RATES_FILE).read_bytes()
    per_euro = parse_ecb(content)
    latest = max(per_euro)
    currencies = {currency.code: currency for currency in Currency.objects.all()}
    for code, rate in national_rates(per_euro[latest]).items():
        if code in currencies:
            ExchangeRate.objects.update_or_create(
                currency=currencies[code],
                valid_from=today,
                defaults={"rate": rate, "source": f"demo: ECB cross rates of {latest}, USD = 3.5"},
            )


def demo_api_key(*, key: str, name: str, user, scopes: list[str]) -> None:
    """An API key whose value the README publishes (demo only), created once."""
    prefix = key.split(".", 1)[0]
    if ApiClient.objects.filter(prefix=prefix).exists():
        return
    hashed = KeyGenerator().hash(key)
    ApiClient.objects.create(
        id=concatenate(prefix, hashed), prefix=prefix, hashed_key=hashed, name=name, user=user, scopes=scopes
    )


def _broker_software_key() -> None:
    demo_api_key(
        key=DEMO_BROKER_API_KEY,
        name="Ak Ýol's declarations software (demo)",
        user=User.objects.get(username="broker"),
        scopes=[
            ApiScope.REFERENCE_READ,
            ApiScope.DECLARATIONS_READ,
            ApiScope.DECLARATIONS_WRITE,
            ApiScope.TRANSIT_READ,
            ApiScope.EVENTS_READ,
        ],
    )


def demo_load(*, today: datetime.date | None = None) -> None:
    """Load reference data and the demo on top of it, all or nothing."""
    from customs.services.reference import reference_load

    with transaction.atomic():
        reference_load()
        _offices()
        _parties()
        _users()
        _broker_software_key()
        _rates(today or datetime.date.today())


def demo_logins_text() -> str:
    """What ``make run`` prints under the address."""
    lines = [f"Demo logins (password for all: {DEMO_PASSWORD})"]
    for username, roles, office_codes, link, *_rest in USERS:
        where = ", ".join(office_codes) or (f"{link[0]} {link[1]}" if link else "")
        role_labels = ", ".join(str(role.label) for role in roles)
        lines.append(f"  {username:<11} {role_labels}{' at ' + where if where else ''}")
    lines.append(
        "Staff also need a code: run `make totp`, or add the secret "
        f"{DEMO_TOTP_BASE32} to an authenticator app."
    )
    return "\n".join(str(line) for line in lines)
