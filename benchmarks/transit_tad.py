"""Transit benchmark: rendering the transit accompanying document (TAD), barcode and QR code included.

Run with ``python -m benchmarks.transit_tad [--documents N] [--items N] [--language en|ru|tk]
[--duplicate]`` and DATABASE_URL, REDIS_URL and DJANGO_SECRET_KEY set. It migrates the database and
loads the demo offices if they are missing, renders a few TADs to warm up (templates, fonts, the office
query), then renders ``--documents`` (default 50) with ``transit.tad.tad_render`` one after the other
and prints the median and p95 time per document. Target (issue #7): ≤ 300 ms median.

Each document is a 5-item T1 from the demo office of departure TMA01 through TMF01 (Farap) to a foreign
office of destination (printed by its code alone), with its own MRN and, in its QR code, a compact JWS
shaped as the token ``transit.signing`` makes (EdDSA header, the movement's claims, a 64-byte signature:
about 440 characters). What is timed is all of ``tad_render``: the office names query, the Code 128
barcode, the QR code, the template and WeasyPrint. Figures depend on the machine and its load: the load
average is printed with them. The script prints figures and asserts nothing.
"""

import argparse
import base64
import datetime
import json
import os
import random
import statistics
import time
from decimal import Decimal

MS = 1000
TARGET_MEDIAN_MS = 300
WARM_UP_DOCUMENTS = 3


def _setup(settings_module: str = "customs.settings") -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    import django

    django.setup()


def _percentile(samples, fraction):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def _demo_offices_ready() -> None:
    from django.core.management import call_command

    from customs.models import CustomsOffice

    call_command("migrate", verbosity=0)
    if CustomsOffice.objects.filter(code__in=["TMA01", "TMF01"]).count() != 2:
        call_command("load_demo")


def _base64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _token(generator: random.Random, data) -> str:
    """A compact JWS shaped as the TAD's token (``transit.signing``): an EdDSA header with a kid, the
    movement's short claims, a 64-byte signature (random bytes: nothing here verifies it)."""
    claims = {
        "mrn": data.mrn,
        "dep": data.departure_office,
        "dst": data.destination_office,
        "trn": data.transit_offices,
        "prn": data.principal.identification,
        "pla": data.transport_identity,
        "sea": data.seals,
        "itm": len(data.items),
        "gms": format(data.total_gross_mass, "f"),
        "grn": data.guarantee_reference,
        "tlm": data.time_limit.isoformat(),
        "iat": int(data.issued_at.timestamp()),
    }
    header = _base64url(json.dumps({"alg": "EdDSA", "kid": "20260101000000"}, separators=(",", ":")).encode())
    payload = _base64url(json.dumps(claims, separators=(",", ":")).encode())
    return f"{header}.{payload}.{_base64url(generator.randbytes(64))}"


def _transit_data(serial: int, items: int):
    from transit.data import PartyData, TransitData, TransitItemData

    # The MRN's layout (transit.mrn): year, country, office, serial, procedure category J, check digit.
    mrn = f"26TMTMA01{serial:07d}J{serial % 10}"
    return TransitData(
        lrn=f"BENCH-TAD-{serial:06d}",
        departure_office="TMA01",
        destination_office="KZ000510",
        transit_offices=["TMF01"],
        principal=PartyData(
            identification="101012345678",
            name="Altyn Asyr Trading HJ",
            street="Görogly köçesi 15",
            city="Aşgabat",
            postcode="744000",
            country="TM",
        ),
        carrier=PartyData(identification="KZ990011223", name="Kazakh Trans Logistics LLP", country="KZ"),
        transport_identity="AG 1234 TM",
        transport_nationality="TM",
        containers=["MSKU1234565"],
        seals=[f"TM-S-{serial:06d}-1", f"TM-S-{serial:06d}-2"],
        itinerary=["TM", "UZ", "KZ"],
        time_limit=datetime.date(2026, 3, 20),
        guarantee_reference="26TM0000000000123G",
        previous_document="EX TMA01 2026 C 42",
        items=[
            TransitItemData(
                number=number,
                commodity_code="8703231981",
                description=f"Passenger cars, spark-ignition, 1,500-3,000 cm³, model {number}",
                packages_number=number,
                package_kind="VN",
                gross_mass=Decimal("1450.000") * number,
                value=Decimal("18500.00") * number,
                currency="USD",
            )
            for number in range(1, items + 1)
        ],
        mrn=mrn,
        issued_at=datetime.datetime(2026, 3, 10, 9, 30, tzinfo=datetime.UTC),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=50, help="TADs timed (default 50)")
    parser.add_argument("--items", type=int, default=5, help="items per TAD (default 5)")
    parser.add_argument("--language", default="en", choices=["en", "ru", "tk"])
    parser.add_argument("--duplicate", action="store_true", help="print duplicates (the stamp)")
    arguments = parser.parse_args()

    _setup()
    from transit.tad import tad_render

    _demo_offices_ready()
    generator = random.Random(7)
    documents = [_transit_data(serial, arguments.items) for serial in range(arguments.documents)]
    tokens = [_token(generator, data) for data in documents]

    for serial in range(WARM_UP_DOCUMENTS):
        warm_up = _transit_data(900_000 + serial, arguments.items)
        tad_render(warm_up, token=_token(generator, warm_up), language=arguments.language)

    seconds, sizes = [], []
    for data, token in zip(documents, tokens, strict=True):
        started = time.perf_counter()
        pdf = tad_render(data, token=token, duplicate=arguments.duplicate, language=arguments.language)
        seconds.append(time.perf_counter() - started)
        sizes.append(len(pdf))

    median, p95 = statistics.median(seconds) * MS, _percentile(seconds, 0.95) * MS
    print(
        f"TAD rendering ({arguments.documents} documents, {arguments.items} items, "
        f"{arguments.language}{', duplicate' if arguments.duplicate else ''}; "
        f"token {len(tokens[0])} characters): median {median:.1f} ms, p95 {p95:.1f} ms per document "
        f"(target median ≤ {TARGET_MEDIAN_MS} ms)"
    )
    print(f"PDF size median {statistics.median(sizes) / 1024:.0f} KiB; {_load()}")


if __name__ == "__main__":
    main()
