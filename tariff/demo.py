"""The demo tariff for ``make run``: HS 2022, the demo national lines, and demo rates.

Demo rates, not law: the import duties are the UK Global Tariff 2021 (``ukgt_duty_rate``, in GBP for
specific rates), chosen because it is a complete, real schedule. On top: VAT 15%, excise on chapters
22, 24, 27 and on cars (8703), a 0% CIS free-trade-area preference with certificate ST-1, licences on
arms (93) and radioactive elements (2844), and a customs fee. ``demo_measures_make`` writes
``reference_data/demo_measures.csv`` from the UK file; the file is shipped so an administrator sees a
real example of the measures format.
"""

import csv
import datetime
from pathlib import Path

from django.db import transaction

from customs.models import DocumentType
from tariff.choices import FeeKind, MeasureType, NonTariffKind
from tariff.expressions import DutyExpressionError, parse_duty_expression
from tariff.models import CustomsFee, NonTariffMeasure
from tariff.services.measures_import import measures_import
from tariff.services.nomenclature import NATIONAL_LINES_FILE, nomenclature_import

REFERENCE_DATA = Path(__file__).resolve().parent / "reference_data"
UK_TARIFF_FILE = REFERENCE_DATA / "ukgt_2021_vs_eu_cet.csv"
DEMO_MEASURES_FILE = REFERENCE_DATA / "demo_measures.csv"
DEMO_START = datetime.date(2022, 1, 1)
MEASURE_COLUMNS = [
    "measure_type",
    "commodity_prefix",
    "expression",
    "origin",
    "procedure_code",
    "required_document",
    "valid_from",
    "valid_to",
    "legal_base",
]
UK_BASE = "Demo rate: UK Global Tariff 2021 (OGL v3)"
# (type, prefix, expression, origin, required document, legal base)
NATIONAL_DEMO_MEASURES = [
    (MeasureType.VAT, "", "15%", "", "", "Demo: VAT 15%"),
    (MeasureType.EXCISE, "2203", "20 USD / hl", "", "", "Demo excise: beer"),
    (
        MeasureType.EXCISE,
        "2204",
        "0.60 USD / % vol / hl",
        "",
        "",
        "Demo excise: wine, per litre of pure alcohol",
    ),
    (
        MeasureType.EXCISE,
        "2208",
        "8 USD / % vol / hl",
        "",
        "",
        "Demo excise: spirits, per litre of pure alcohol",
    ),
    (MeasureType.EXCISE, "2402", "25 USD / 1000 items", "", "", "Demo excise: cigarettes"),
    (MeasureType.EXCISE, "2403", "30%", "", "", "Demo excise: other tobacco"),
    (MeasureType.EXCISE, "2710", "80 USD / tonne", "", "", "Demo excise: fuels"),
    (MeasureType.EXCISE, "8703", "10% MIN 500 USD / item", "", "", "Demo excise: cars"),
    (MeasureType.IMPORT_DUTY, "", "0%", "CIS_FTA", "ST1", "Demo: CIS free trade area, 0% with ST-1"),
]


def demo_measures_make(*, target: Path = DEMO_MEASURES_FILE) -> dict[str, int]:
    """Write the demo measures file: UK import duties on the prefixes that begin a demo national line,
    then the national demo measures. Rates that do not parse are left out and counted."""
    with open(NATIONAL_LINES_FILE, encoding="utf-8", newline="") as lines_file:
        national = [row["code"] for row in csv.DictReader(lines_file)]
    national_set = set(national)
    prefixes_in_use = {code[:length] for code in national for length in (8, 10)}
    counts = {"uk_rows": 0, "written": 0, "unparsed": 0, "no_national_line": 0}
    rows = []
    with open(UK_TARIFF_FILE, encoding="utf-8-sig", newline="") as uk_file:
        for row in csv.DictReader(uk_file):
            counts["uk_rows"] += 1
            code = row["commodity"].strip()
            code = code.zfill(len(code) + 1) if len(code) in (7, 9) else code
            if code not in prefixes_in_use and code + "00" not in national_set:
                counts["no_national_line"] += 1
                continue
            try:
                parse_duty_expression(row["ukgt_duty_rate"])
            except DutyExpressionError:
                counts["unparsed"] += 1
                continue
            rows.append(
                [
                    MeasureType.IMPORT_DUTY,
                    code,
                    row["ukgt_duty_rate"].strip(),
                    "",
                    "",
                    "",
                    DEMO_START,
                    "",
                    UK_BASE,
                ]
            )
    for measure_type, prefix, expression, origin, document, legal_base in NATIONAL_DEMO_MEASURES:
        rows.append([measure_type, prefix, expression, origin, "", document, DEMO_START, "", legal_base])
    with open(target, "w", encoding="utf-8", newline="") as target_file:
        writer = csv.writer(target_file, lineterminator="\n")
        writer.writerow(MEASURE_COLUMNS)
        writer.writerows([[str(cell) for cell in row] for row in rows])
    counts["written"] = len(rows)
    return counts


def tariff_demo_load() -> None:
    """Load the demo tariff; idempotent (the imports leave unchanged rows alone)."""
    with transaction.atomic():
        nomenclature_import(valid_from=DEMO_START)
        measures_import(path=DEMO_MEASURES_FILE)
        documents = {
            document.code: document for document in DocumentType.objects.filter(code__in=["LIC", "PRM"])
        }
        for prefix, kind, document, description in (
            ("93", NonTariffKind.LICENCE, documents.get("LIC"), "Arms and ammunition"),
            ("2844", NonTariffKind.PERMIT, documents.get("PRM"), "Radioactive elements"),
        ):
            NonTariffMeasure.objects.update_or_create(
                commodity_prefix=prefix,
                kind=kind,
                valid_from=DEMO_START,
                defaults={"document_type": document, "description": description},
            )
        CustomsFee.objects.update_or_create(
            code="CF-IM",
            valid_from=DEMO_START,
            defaults={
                "name_en": "Customs clearance fee",
                "name_ru": "Таможенный сбор за таможенное оформление",
                "name_tk": "Gümrük resmileşdirmesi üçin ýygym",
                "kind": FeeKind.PERCENT,
                "direction": "IM",
                "percent": "0.2",
                "minimum": "50",
                "maximum": "5000",
            },
        )
        CustomsFee.objects.update_or_create(
            code="CF-EX",
            valid_from=DEMO_START,
            defaults={
                "name_en": "Export clearance fee",
                "name_ru": "Таможенный сбор при экспорте",
                "name_tk": "Eksport resmileşdirmesi üçin ýygym",
                "kind": FeeKind.FLAT,
                "direction": "EX",
                "amount": "50",
            },
        )
    from tariff.engine import tariff_cache_clear

    tariff_cache_clear()
