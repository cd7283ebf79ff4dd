"""Transit benchmark: rendering the transit accompanying document (TAD), barcode and QR code included.

Run with ``python -m benchmarks.transit_tad [--documents N] [--items N] [--language en|ru|tk]
[--duplicate]`` and DATABASE_URL, REDIS_URL and DJANGO_SECRET_KEY set. ``--queue N`` instead queues N
TADs (reprints of the demo's released movement) and starts a real Celery worker (``--worker-concurrency``,
default 2) that prints them: it reports the time until all N are ready (target, issue #7: 1,000 within
5 minutes). It migrates the database and
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


QUEUE = os.environ.get("KERWEN_BENCH_QUEUE", "kerwen-bench-transit")
QUEUE_LIMIT_SECONDS = 300


def _queue_benchmark(count: int, concurrency: int) -> None:
    """Queue ``count`` TADs, let a real worker print them, report the time until the last is ready."""
    import subprocess
    import sys

    from django.conf import settings

    from customs.celery import app
    from transit.models import TadPrint, TransitMovement
    from transit.services.documents import RENDER_TASK

    movement = TransitMovement.objects.filter(mrn__isnull=False).order_by("pk").first()
    if movement is None:
        raise SystemExit("No released movement: run load_demo (the transit demo releases one).")
    app.control.purge()
    prints = TadPrint.objects.bulk_create(
        [TadPrint(movement=movement, language="en", duplicate=True) for _ in range(count)]
    )
    ids = [document.pk for document in prints]
    log_path = os.path.join(settings.BASE_DIR, "var", "bench-transit-worker.log")
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    with open(log_path, "w") as log:
        worker = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "customs", "worker", "--concurrency", str(concurrency),
                "--queues", QUEUE, "--hostname", f"bench-transit-{os.getpid()}@%h", "--loglevel", "WARNING",
            ],
            cwd=settings.BASE_DIR,
            env={**os.environ, "CELERY_QUEUE": QUEUE},
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            started = time.monotonic()
            for print_id in ids:
                app.send_task(RENDER_TASK, args=[print_id], queue=QUEUE)
            ready = 0
            while time.monotonic() - started < QUEUE_LIMIT_SECONDS * 2:
                ready = TadPrint.objects.filter(pk__in=ids).exclude(status=TadPrint.Status.PENDING).count()
                if ready == count:
                    break
                time.sleep(1)
            elapsed = time.monotonic() - started
        finally:
            worker.terminate()
            worker.wait(timeout=120)
    failed = TadPrint.objects.filter(pk__in=ids, status=TadPrint.Status.FAILED).count()
    print(
        f"{count} TADs queued: {ready} printed ({failed} failed) in {elapsed:.1f} s by a worker of "
        f"{concurrency} processes, {ready / elapsed:.1f} per second (target: 1,000 within "
        f"{QUEUE_LIMIT_SECONDS} s); {_load()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=50, help="TADs timed (default 50)")
    parser.add_argument("--items", type=int, default=5, help="items per TAD (default 5)")
    parser.add_argument("--language", default="en", choices=["en", "ru", "tk"])
    parser.add_argument("--duplicate", action="store_true", help="print duplicates (the stamp)")
    parser.add_argument("--queue", type=int, default=0, help="queue N TADs for a real worker instead")
    parser.add_argument("--worker-concurrency", type=int, default=2)
    arguments = parser.parse_args()

    if arguments.queue:
        os.environ["CELERY_QUEUE"] = QUEUE  # this process sends to the benchmark worker's queue only
        _setup()
        _demo_offices_ready()
        _queue_benchmark(arguments.queue, arguments.worker_concurrency)
        return
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
