"""Data exchange benchmark: reading ASYCUDA World and WCO DM files into drafts, and writing WCO DM.

Run with ``python -m benchmarks.exchange [--repeat N] [--data DIR]`` and DATABASE_URL, REDIS_URL and
DJANGO_SECRET_KEY set. It migrates the database and loads the demo if it is missing (the demo broker
BR-0001 imports for the demo trader at TMA01), then for every sample file of ``DIR`` (default
``../shared/data``: ``asycuda/*.xml`` and ``wco-dm/declarations/*.xml``) times, ``--repeat`` times
(default 3):

- *read*: the safe parse and the reader alone (``declarations.services.imports.read_file``);
- *import*: the whole import as the worker does it (``declaration_import_run``: read, match the registers,
  write the draft with its items and documents, what lodging would say, the tax comparison), in a
  transaction that is rolled back, so nothing stays behind;
- *export*: writing the draft just made as WCO DM and validating it against the schemas.

Target (issue #8): every file within seconds, the 190-item file included. It prints the median of each
figure per file, and the load average; it asserts nothing.
"""

import argparse
import os
import statistics
import time
from pathlib import Path

MS = 1000


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "customs.settings")
    import django

    django.setup()


def _demo_ready() -> None:
    from django.core.management import call_command

    from customs.models import Broker

    call_command("migrate", verbosity=0)
    if not Broker.objects.filter(licence_number="BR-0001").exists():
        call_command("load_demo")


class _Rollback(Exception):
    pass


def _one(path: Path, user) -> tuple[float, float, float, int, str]:
    from django.db import transaction

    from declarations.models import DeclarationImport
    from declarations.services.exports import declaration_wcodm_export
    from declarations.services.imports import declaration_import_request, declaration_import_run, read_file

    content = path.read_bytes()
    started = time.perf_counter()
    read_file(content)
    read_ms = (time.perf_counter() - started) * MS
    outcome = {}
    try:
        with transaction.atomic():
            record = declaration_import_request(
                actor=user,
                content=content,
                filename=path.name,
                trader_code="101012345678",
                office_code="TMA01",
            )
            started = time.perf_counter()
            declaration_import_run(record.pk)
            outcome["import_ms"] = (time.perf_counter() - started) * MS
            record = DeclarationImport.objects.get(pk=record.pk)
            outcome["status"] = (
                record.status if record.status == "done" else f"{record.status}: {record.error_code}"
            )
            outcome["items"] = (record.report or {}).get("items", 0)
            outcome["export_ms"] = float("nan")
            if record.declaration_id:
                started = time.perf_counter()
                declaration_wcodm_export(record.declaration)
                outcome["export_ms"] = (time.perf_counter() - started) * MS
            raise _Rollback
    except _Rollback:
        pass
    return read_ms, outcome["import_ms"], outcome["export_ms"], outcome["items"], outcome["status"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--data", type=Path, default=Path(__file__).resolve().parents[1].parent / "shared" / "data"
    )
    options = parser.parse_args()
    _setup()
    _demo_ready()
    from django.db import connection

    from customs.models import User

    user = User.objects.get(username="broker")
    files = sorted((options.data / "asycuda").glob("*.xml")) + sorted(
        (options.data / "wco-dm" / "declarations").glob("*.xml")
    )
    if not files:
        raise SystemExit(f"No sample files under {options.data}")
    _one(files[0], user)  # warm up: schemas, code lists, tariff snapshot
    print(f"{'file':<72} {'items':>5} {'read ms':>8} {'import ms':>9} {'export ms':>9}  status")
    slowest = (0.0, "")
    for path in files:
        runs = [_one(path, user) for _ in range(options.repeat)]
        read_ms = statistics.median(run[0] for run in runs)
        import_ms = statistics.median(run[1] for run in runs)
        export_ms = statistics.median(run[2] for run in runs)
        items, status = runs[0][3], runs[0][4]
        slowest = max(slowest, (import_ms, path.name))
        print(
            f"{path.name[:72]:<72} {items:>5} {read_ms:>8.1f} {import_ms:>9.1f} {export_ms:>9.1f}  {status}"
        )
    one, five, fifteen = os.getloadavg()
    print(f"slowest import: {slowest[1]} in {slowest[0]:.0f} ms (target: within seconds)")
    print(f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores; {connection.vendor}")


if __name__ == "__main__":
    main()
