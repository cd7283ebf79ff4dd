"""Importing measures: checked rows, upserts, superseded rates, all or nothing."""

import datetime
import io

import pytest
from django.core.management import CommandError, call_command

from customs.models import AuditEvent
from tariff.expressions import DutyExpressionError, parse_duty_expression
from tariff.models import Measure
from tariff.services import TariffImportRejected
from tariff.services.measures_import import measures_import
from tests.customs.factories import CountryFactory
from tests.tariff.factories import (
    CommodityCodeFactory,
    CountryGroupFactory,
    DocumentTypeFactory,
    MeasureFactory,
    ProcedureCodeFactory,
    TariffSectionFactory,
)

pytestmark = pytest.mark.django_db

START = datetime.date(2022, 1, 1)
HEADER = (
    "measure_type,commodity_prefix,expression,origin,procedure_code,required_document,valid_from,valid_to,"
    "legal_base\n"
)
GOOD_ROWS = [
    "import_duty,0303,10%,,,,2022-01-01,,Tariff decree No 1",
    "import_duty,0303,0%,CIS_FTA,,ST1,2022-01-01,,CIS FTA treaty 2011",
    "import_duty,0303891000,5%,CN,,FORMA,2022-01-01,2022-12-31,GSP",
    "import_duty,0303,0%,,4091,DIP,2022-01-01,,Diplomatic relief",
    "excise,8703,10% MIN 0.20 EUR/kg,,,,2022-01-01,,",
    "vat,,15%,,,,2022-01-01,,Tax code art. 1",
]


@pytest.fixture(autouse=True)
def reference():
    fish = TariffSectionFactory(code="I", position=1)
    vehicles = TariffSectionFactory(code="XVII", position=17, name_en="Vehicles")
    for code in ("03", "0303"):
        CommodityCodeFactory(code=code, section=fish)
    CommodityCodeFactory(code="0303891000", section=fish, declarable=True)
    for code in ("87", "8703"):
        CommodityCodeFactory(code=code, section=vehicles)
    CommodityCodeFactory(code="8703231900", section=vehicles, declarable=True)
    members = [CountryFactory(code=code, name_en=code, alpha3="") for code in ("KZ", "RU")]
    CountryFactory(code="CN", name_en="China", alpha3="CHN")
    CountryGroupFactory(code="CIS_FTA", countries=members)
    ProcedureCodeFactory(code="4000")
    ProcedureCodeFactory(code="4091", name_en="Diplomatic relief")
    for code in ("ST1", "FORMA", "DIP"):
        DocumentTypeFactory(code=code, name_en=code)


def write(tmp_path, rows, name="measures.csv"):
    path = tmp_path / name
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def measure_states():
    return [
        (
            measure.measure_type,
            measure.commodity_prefix,
            measure.expression,
            measure.origin_country.code if measure.origin_country else "",
            measure.origin_group.code if measure.origin_group else "",
            measure.procedure_code.code if measure.procedure_code else "",
            measure.required_document.code if measure.required_document else "",
            measure.valid_from,
            measure.valid_to,
            measure.legal_base,
        )
        for measure in Measure.objects.select_related(
            "origin_country", "origin_group", "procedure_code", "required_document"
        ).order_by("commodity_prefix", "measure_type", "valid_from", "id")
    ]


def test_measures_are_imported_with_their_links(tmp_path):
    calls = []

    report = measures_import(path=write(tmp_path, GOOD_ROWS), progress=lambda *args: calls.append(args))

    assert (report.created, report.updated, report.unchanged, report.closed, report.written) == (
        6,
        0,
        0,
        0,
        True,
    )
    assert calls == [(6, 6)]
    end = datetime.date(2022, 12, 31)
    assert measure_states() == [
        ("vat", "", "15%", "", "", "", "", START, None, "Tax code art. 1"),
        ("import_duty", "0303", "10%", "", "", "", "", START, None, "Tariff decree No 1"),
        ("import_duty", "0303", "0%", "", "CIS_FTA", "", "ST1", START, None, "CIS FTA treaty 2011"),
        ("import_duty", "0303", "0%", "", "", "4091", "DIP", START, None, "Diplomatic relief"),
        ("import_duty", "0303891000", "5%", "CN", "", "", "FORMA", START, end, "GSP"),
        ("excise", "8703", "10% MIN 0.20 EUR/kg", "", "", "", "", START, None, ""),
    ]
    event = AuditEvent.objects.get()
    assert (event.action, event.after["created"], event.after["rejected"]) == (
        "tariff.measures.imported",
        6,
        0,
    )


def test_measures_reimport_changes_nothing(tmp_path):
    path = write(tmp_path, GOOD_ROWS)
    measures_import(path=path)
    before = measure_states()

    report = measures_import(path=path)

    assert (report.created, report.updated, report.unchanged, report.closed) == (0, 0, 6, 0)
    assert measure_states() == before
    assert AuditEvent.objects.count() == 1


def test_measure_with_the_same_key_is_updated(tmp_path):
    measures_import(path=write(tmp_path, GOOD_ROWS))
    changed = [GOOD_ROWS[0].replace("10%", "12%").replace("No 1", "No 2"), *GOOD_ROWS[1:]]

    report = measures_import(path=write(tmp_path, changed, "changed.csv"))

    assert (report.created, report.updated, report.unchanged, report.closed) == (0, 1, 5, 0)
    assert list(
        Measure.objects.filter(commodity_prefix="0303", origin_group=None, procedure_code=None).values_list(
            "expression", "legal_base", "valid_from"
        )
    ) == [("12%", "Tariff decree No 2", START)]


def test_new_rate_closes_the_rate_in_force_the_day_before(tmp_path):
    measures_import(path=write(tmp_path, GOOD_ROWS))

    report = measures_import(
        path=write(tmp_path, ["import_duty,0303,12%,,,,2023-01-01,,Decree 2"], "new.csv")
    )

    assert (report.created, report.updated, report.unchanged, report.closed) == (1, 0, 0, 1)
    assert [state for state in measure_states() if state[1:2] == ("0303",) and state[4:6] == ("", "")] == [
        (
            "import_duty",
            "0303",
            "10%",
            "",
            "",
            "",
            "",
            START,
            datetime.date(2022, 12, 31),
            "Tariff decree No 1",
        ),
        ("import_duty", "0303", "12%", "", "", "", "", datetime.date(2023, 1, 1), None, "Decree 2"),
    ]


def test_expression_the_parser_refuses_is_rejected_with_its_reason(tmp_path):
    rows = ["import_duty,0303,ten percent,,,,2022-01-01,,", "import_duty,8703,12% + EA,,,,2022-01-01,,"]
    reasons = []
    for text in ("ten percent", "12% + EA"):
        with pytest.raises(DutyExpressionError) as caught:
            parse_duty_expression(text)
        reasons.append(str(caught.value))

    with pytest.raises(TariffImportRejected) as caught:
        measures_import(path=write(tmp_path, [*GOOD_ROWS, *rows]))

    assert [(row.line, row.code, row.reason) for row in caught.value.report.rejected] == [
        (8, "import_duty 0303", reasons[0]),
        (9, "import_duty 8703", reasons[1]),
    ]
    assert reasons == [
        "unrecognised term 'ten percent' in 'ten percent'",
        "unsupported agricultural component 'EA' in '12% + EA'",
    ]
    assert Measure.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_unknown_origin_procedure_document_and_other_bad_rows_are_rejected(tmp_path):
    rows = [
        "import_duty,0303,0%,XX,,ST1,2022-01-01,,",
        "import_duty,0303,0%,,9999,DIP,2022-01-01,,",
        "import_duty,0303,0%,KZ,,NOPE,2022-01-01,,",
        "import_duty,0303,0%,KZ,,,2022-01-01,,",
        "duty,0303,10%,,,,2022-01-01,,",
        "import_duty,03A3,10%,,,,2022-01-01,,",
        "import_duty,9701,10%,,,,2022-01-01,,",
        "import_duty,0303,10%,,,,,,",
        "import_duty,0303,10%,,,,2022-13-01,,",
        "import_duty,0303,10%,,,,2022-06-01,2022-05-31,",
        "import_duty,0303,,,,,2022-06-01,,",
        "import_duty,0303,11%,,,,2022-01-01,,",
    ]

    with pytest.raises(TariffImportRejected) as caught:
        measures_import(path=write(tmp_path, [GOOD_ROWS[0], *rows]))

    assert [(row.line, row.code, row.reason) for row in caught.value.report.rejected] == [
        (3, "import_duty 0303 XX", "unknown origin 'XX': not a country or country group code"),
        (4, "import_duty 0303 9999", "unknown procedure code '9999'"),
        (5, "import_duty 0303 KZ", "unknown document type 'NOPE'"),
        (
            6,
            "import_duty 0303 KZ",
            "a preference (origin) or a relief (procedure code) needs a required document",
        ),
        (7, "duty 0303", "unknown measure type 'duty' (one of: import_duty, export_duty, excise, vat)"),
        (8, "import_duty 03A3", "commodity prefix '03A3' is not 2 to 10 digits (or empty)"),
        (9, "import_duty 9701", "no commodity code in force on 2022-01-01 starts with 9701"),
        (10, "import_duty 0303", "valid_from is missing"),
        (11, "import_duty 0303", "valid_from '2022-13-01' is not a date (YYYY-MM-DD)"),
        (12, "import_duty 0303", "valid_to 2022-05-31 is before valid_from 2022-06-01"),
        (13, "import_duty 0303", "the duty expression is missing"),
        (
            14,
            "import_duty 0303",
            "the same measure (type, prefix, origin, procedure code, valid_from) is already on line 2",
        ),
    ]
    assert Measure.objects.count() == 0


def test_measure_overlapping_another_of_its_series_is_rejected(tmp_path):
    MeasureFactory(commodity_prefix="0303", expression="12%", valid_from=datetime.date(2023, 1, 1))
    rows = [
        "import_duty,0303,10%,,,,2022-01-01,,",
        "excise,0303,1%,,,,2022-01-01,,",
        "excise,0303,2%,,,,2022-06-01,,",
    ]

    with pytest.raises(TariffImportRejected) as caught:
        measures_import(path=write(tmp_path, rows))

    assert [(row.line, row.code, row.reason) for row in caught.value.report.rejected] == [
        (2, "import_duty 0303", "its dates overlap the measure in force from 2023-01-01 (the database)"),
        (4, "excise 0303", "its dates overlap the measure in force from 2022-01-01 (line 3)"),
    ]
    assert list(Measure.objects.values_list("expression", "valid_to")) == [("12%", None)]


def test_measures_dry_run_reports_and_writes_nothing(tmp_path):
    report = measures_import(path=write(tmp_path, GOOD_ROWS), dry_run=True)

    assert (report.created, report.written, report.dry_run) == (6, False, True)
    assert Measure.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_import_measures_command(tmp_path):
    out, err = io.StringIO(), io.StringIO()

    call_command("import_measures", str(write(tmp_path, GOOD_ROWS)), stdout=out, stderr=err)

    assert err.getvalue() == "measures [##############################] 100% 6/6\n"
    assert ": 6 created, 0 updated, 0 unchanged, 0 closed, 0 skipped, 0 rejected in " in out.getvalue()
    assert Measure.objects.count() == 6


def test_import_measures_command_fails_listing_the_rejected_rows(tmp_path):
    out, err = io.StringIO(), io.StringIO()
    path = write(tmp_path, [*GOOD_ROWS, "import_duty,0303,ten percent,,,,2022-01-01,,"])

    with pytest.raises(CommandError, match=r"^1 row\(s\) rejected; nothing was written\.$"):
        call_command("import_measures", str(path), "--dry-run", stdout=out, stderr=err)

    assert (
        f"  {path}, line 8 [import_duty 0303]: unrecognised term 'ten percent' in 'ten percent'"
        in err.getvalue()
    )
    assert Measure.objects.count() == 0
