"""Loading the shipped reference data: counts, contents, idempotence, all-or-nothing, the command."""

import shutil
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command, execute_from_command_line
from django.core.management.base import CommandError
from django.db import connections

from customs.choices import ProcedureDirection
from customs.models import (
    AdditionalProcedureCode,
    AuditEvent,
    Country,
    CountryGroup,
    Currency,
    DocumentType,
    Incoterm,
    PackageKind,
    ProcedureCode,
    TransportMode,
    UnitOfMeasure,
)
from customs.services.reference import (
    LIST_NAMES,
    ReferenceDataRejected,
    RejectedRow,
    procedure_direction,
    reference_load,
)

SHIPPED_COUNTS = {
    "countries": 249,
    "country_groups": 4,
    "currencies": 307,
    "units_of_measure": 21,
    "package_kinds": 378,
    "document_types": 55,
    "transport_modes": 9,
    "incoterms": 11,
    "additional_procedure_codes": 68,
    "procedure_codes": 33,
}
MODELS = {
    "countries": Country,
    "country_groups": CountryGroup,
    "currencies": Currency,
    "units_of_measure": UnitOfMeasure,
    "package_kinds": PackageKind,
    "document_types": DocumentType,
    "transport_modes": TransportMode,
    "incoterms": Incoterm,
    "additional_procedure_codes": AdditionalProcedureCode,
    "procedure_codes": ProcedureCode,
}


@pytest.fixture
def data_directory(tmp_path):
    """A writable copy of the shipped reference data (without the demo files)."""
    directory = tmp_path / "reference_data"
    shutil.copytree(settings.REFERENCE_DATA_DIR, directory, ignore=shutil.ignore_patterns("demo"))
    return directory


def _database_counts() -> dict[str, int]:
    return {name: model.objects.count() for name, model in MODELS.items()}


def _append_line(path, line: str) -> None:
    with path.open("a", encoding="utf-8") as file:
        file.write(line + "\n")


@pytest.mark.django_db
def test_reference_load_creates_every_shipped_list():
    results = reference_load()

    assert list(results) == list(LIST_NAMES)
    assert {name: result.created for name, result in results.items()} == SHIPPED_COUNTS
    assert {name: result.updated + result.unchanged for name, result in results.items()} == dict.fromkeys(
        LIST_NAMES, 0
    )
    assert all(result.rejected == [] for result in results.values())
    assert _database_counts() == SHIPPED_COUNTS
    assert AuditEvent.objects.filter(action="customs.reference_data.loaded").count() == 1


@pytest.mark.django_db
def test_reference_load_countries_carry_iso_codes_and_three_languages():
    reference_load(only=["countries"])

    turkmenistan = Country.objects.get(code="TM")
    assert (turkmenistan.name_en, turkmenistan.name_ru, turkmenistan.name_tk) == (
        "Turkmenistan",
        "Туркменистан",
        "Türkmenistan",
    )
    assert (turkmenistan.alpha3, turkmenistan.numeric, turkmenistan.active) == ("TKM", "795", True)
    assert Country.objects.get(code="AF").numeric == "004"
    # UNTERM footnote asterisks are dropped; genitive forms of the source are corrected by translations.
    assert Country.objects.get(code="VA").name_ru == "Святой Престол"
    assert Country.objects.get(code="AX").name_ru == "Аландские острова"
    assert Country.objects.get(code="NA").name_en == "Namibia"


@pytest.mark.django_db
def test_reference_load_currencies_collapse_duplicates_and_deactivate_withdrawn():
    reference_load(only=["currencies"])

    us_dollar = Currency.objects.get(code="USD")
    assert (
        us_dollar.name_en,
        us_dollar.name_ru,
        us_dollar.numeric,
        us_dollar.minor_unit,
        us_dollar.active,
    ) == (
        "US Dollar",
        "Доллар США",
        "840",
        2,
        True,
    )
    assert Currency.objects.get(code="JPY").minor_unit == 0
    assert Currency.objects.get(code="KWD").minor_unit == 3
    assert Currency.objects.get(code="TMT").name_tk == "Türkmen manady"
    # EUR is listed once per country that uses it: one row.
    assert Currency.objects.filter(code="EUR").count() == 1
    assert Currency.objects.get(code="EUR").active is True
    # Current for Türkiye, withdrawn under the old name Turkey: active.
    assert Currency.objects.get(code="TRY").active is True
    kuna = Currency.objects.get(code="HRK")
    assert (kuna.name_en, kuna.active, kuna.valid_to) == ("Kuna", False, None)
    special_drawing_right = Currency.objects.get(code="XDR")
    assert (special_drawing_right.minor_unit, special_drawing_right.active) == (0, False)
    assert Currency.objects.filter(active=True).count() == 165


@pytest.mark.django_db
def test_reference_load_procedure_codes_have_direction_and_allowed_additional_codes():
    reference_load(only=["additional_procedure_codes", "procedure_codes"])

    home_use = ProcedureCode.objects.get(code="4000")
    assert home_use.direction == ProcedureDirection.IMPORT
    assert sorted(home_use.allowed_additional_codes.values_list("code", flat=True)) == [
        "000",
        "N01",
        "N02",
        "N03",
    ]
    permanent_export = ProcedureCode.objects.get(code="1040")
    assert permanent_export.direction == ProcedureDirection.EXPORT
    assert permanent_export.allowed_additional_codes.count() == 21
    assert ProcedureCode.objects.get(code="5300").allowed_additional_codes.filter(code="D01").exists()
    assert ProcedureCode.objects.get(code="8000").direction == ProcedureDirection.TRANSIT
    assert ProcedureCode.objects.get(code="9100").direction == ProcedureDirection.OTHER
    assert ProcedureCode.objects.filter(direction=ProcedureDirection.IMPORT).count() == 12
    assert ProcedureCode.objects.filter(direction=ProcedureDirection.EXPORT).count() == 17
    assert (
        AdditionalProcedureCode.objects.get(code="000").name_ru
        == "Иной дополнительный код процедуры не применяется"
    )


@pytest.mark.parametrize(
    ("code", "direction"),
    [
        ("4000", ProcedureDirection.IMPORT),
        ("4071", ProcedureDirection.IMPORT),
        ("5300", ProcedureDirection.IMPORT),
        ("6123", ProcedureDirection.IMPORT),
        ("7800", ProcedureDirection.IMPORT),
        ("1000", ProcedureDirection.EXPORT),
        ("2300", ProcedureDirection.EXPORT),
        ("3171", ProcedureDirection.EXPORT),
        ("8000", ProcedureDirection.TRANSIT),
        ("9100", ProcedureDirection.OTHER),
        ("0012", ProcedureDirection.OTHER),
    ],
)
def test_procedure_direction_follows_the_requested_procedure(code, direction):
    assert procedure_direction(code) == direction


@pytest.mark.django_db
def test_reference_load_incoterms_flags_follow_valuation():
    reference_load(only=["incoterms"])

    flags = {
        incoterm.code: (
            incoterm.includes_main_carriage,
            incoterm.includes_insurance,
            incoterm.includes_costs_beyond_border,
        )
        for incoterm in Incoterm.objects.all()
    }
    assert flags == {
        "EXW": (False, False, False),
        "FCA": (False, False, False),
        "FAS": (False, False, False),
        "FOB": (False, False, False),
        "CFR": (True, False, False),
        "CIF": (True, True, False),
        "CPT": (True, False, False),
        "CIP": (True, True, False),
        "DAP": (True, True, True),
        "DPU": (True, True, True),
        "DDP": (True, True, True),
    }
    assert Incoterm.objects.get(code="FOB").name_ru == "Франко борт"


@pytest.mark.django_db
def test_reference_load_country_groups_and_small_lists():
    reference_load(
        only=["countries", "country_groups", "units_of_measure", "transport_modes", "document_types"]
    )

    def members(code):
        return set(CountryGroup.objects.get(code=code).countries.values_list("code", flat=True))

    assert "KZ" in members("CIS_FTA")
    assert members("EAEU") == {"AM", "BY", "KG", "KZ", "RU"}
    assert len(members("EU")) == 27
    assert len(members("GSP")) == 91
    assert CountryGroup.objects.get(code="CIS_FTA").name_tk == "GDA-nyň erkin söwda zolagy"
    pure_alcohol = UnitOfMeasure.objects.get(code="LPA")
    assert (pure_alcohol.symbol, pure_alcohol.name_ru) == ("l alc. 100%", "литр чистого (100%) спирта")
    assert TransportMode.objects.get(code="3").name_tk == "Awtomobil ulagy"
    assert (
        DocumentType.objects.get(code="N935").name_en
        == "Invoice on the basis of which the customs value is declared"
    )
    assert DocumentType.objects.get(code="380").name_ru == "Коммерческий счёт (инвойс)"


@pytest.mark.django_db
def test_reference_load_twice_creates_no_duplicates_and_changes_nothing():
    reference_load()
    counts_after_first_load = _database_counts()

    results = reference_load()

    assert {name: (result.created, result.updated) for name, result in results.items()} == dict.fromkeys(
        LIST_NAMES, (0, 0)
    )
    assert {name: result.unchanged for name, result in results.items()} == SHIPPED_COUNTS
    assert _database_counts() == counts_after_first_load
    assert AuditEvent.objects.filter(action="customs.reference_data.loaded").count() == 1


@pytest.mark.django_db
def test_reference_load_updates_a_changed_row(data_directory):
    reference_load(directory=data_directory, only=["transport_modes"])
    path = data_directory / "national" / "transport_modes.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("Rail transport", "Railway"), encoding="utf-8")

    results = reference_load(directory=data_directory, only=["transport_modes"])

    assert (results["transport_modes"].created, results["transport_modes"].updated) == (0, 1)
    assert results["transport_modes"].unchanged == 8
    assert TransportMode.objects.get(code="2").name_en == "Railway"


@pytest.mark.django_db
def test_reference_load_rejects_a_row_without_code_and_writes_nothing(data_directory):
    _append_line(data_directory / "national" / "units_of_measure.csv", ",kg,kilogram,килограмм,kilogram")

    with pytest.raises(ReferenceDataRejected) as raised:
        reference_load(directory=data_directory)

    assert raised.value.rejected_rows == [
        RejectedRow("national/units_of_measure.csv", 23, "the code is missing")
    ]
    assert str(raised.value.rejected_rows[0]) == "national/units_of_measure.csv, line 23: the code is missing"
    assert raised.value.results["countries"].created == 249
    assert _database_counts() == dict.fromkeys(LIST_NAMES, 0)
    assert AuditEvent.objects.count() == 0


@pytest.mark.django_db
def test_reference_load_rejected_load_leaves_earlier_data_untouched(data_directory):
    reference_load(directory=data_directory)
    path = data_directory / "national" / "incoterms.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("Free On Board", "Changed"), encoding="utf-8")
    _append_line(data_directory / "national" / "country_groups.csv", "XX_GROUP,Broken group,,,KZ XX")

    with pytest.raises(ReferenceDataRejected) as raised:
        reference_load(directory=data_directory)

    assert [str(row) for row in raised.value.rejected_rows] == [
        "national/country_groups.csv, line 6: not in the list of countries: XX"
    ]
    assert Incoterm.objects.get(code="FOB").name_en == "Free On Board"
    assert not CountryGroup.objects.filter(code="XX_GROUP").exists()
    assert _database_counts() == SHIPPED_COUNTS


@pytest.mark.django_db
def test_reference_load_rejects_duplicates_and_bad_values_with_file_and_line(data_directory):
    _append_line(data_directory / "national" / "document_types.csv", "380,Commercial invoice again,,")
    _append_line(data_directory / "national" / "incoterms.csv", "XYZ,Made up,,,maybe,no,no")
    _append_line(data_directory / "national" / "procedure_codes.csv", "4200,Made up,,,000 ZZZ")
    links = data_directory / "hmrc_cds_codelists" / "linkProcedureCodeToAdditionalProcedureCodes.json"
    links.write_text(
        '[\n  {\n    "parentCode": "1040",\n    "childCodes": ["000"]\n  },\n'
        '  {\n    "parentCode": "9999",\n    "childCodes": ["000"]\n  }\n]\n',
        encoding="utf-8",
    )

    with pytest.raises(ReferenceDataRejected) as raised:
        reference_load(directory=data_directory)

    assert [str(row) for row in raised.value.rejected_rows] == [
        "national/document_types.csv, line 16: code 380 is already given in "
        "hmrc_cds_codelists/documentTypes.json, line 2",
        "national/incoterms.csv, line 13: includes_main_carriage must be yes or no, not 'maybe'",
        "hmrc_cds_codelists/linkProcedureCodeToAdditionalProcedureCodes.json, line 6: "
        "procedure code 9999 is not in the HMRC list",
        "national/procedure_codes.csv, line 19: not in the list of additional procedure codes: ZZZ",
    ]
    assert _database_counts() == dict.fromkeys(LIST_NAMES, 0)


@pytest.mark.django_db
def test_reference_load_reports_a_missing_file(data_directory):
    (data_directory / "national" / "transport_modes.csv").unlink()

    with pytest.raises(ReferenceDataRejected) as raised:
        reference_load(directory=data_directory, only=["transport_modes"])

    assert [str(row) for row in raised.value.rejected_rows] == [
        "national/transport_modes.csv: the file is missing"
    ]


def test_reference_load_refuses_an_unknown_list():
    with pytest.raises(ValueError, match="Unknown reference list"):
        reference_load(only=["planets"])


@pytest.mark.django_db
def test_load_reference_command_prints_counts_per_list():
    output = StringIO()

    call_command("load_reference", stdout=output)

    assert output.getvalue().splitlines() == [
        f"{name}: {count} created, 0 updated, 0 unchanged, 0 rejected"
        for name, count in SHIPPED_COUNTS.items()
    ] + ["Reference data loaded: 1135 created, 0 updated, 0 unchanged."]


@pytest.mark.django_db
def test_load_reference_command_only_loads_the_named_lists(data_directory):
    output = StringIO()

    call_command(
        "load_reference", "--dir", str(data_directory), "--only", "countries,transport-modes", stdout=output
    )

    assert output.getvalue().splitlines() == [
        "countries: 249 created, 0 updated, 0 unchanged, 0 rejected",
        "transport_modes: 9 created, 0 updated, 0 unchanged, 0 rejected",
        "Reference data loaded: 258 created, 0 updated, 0 unchanged.",
    ]
    assert Currency.objects.count() == 0


@pytest.mark.django_db
def test_load_reference_command_exits_non_zero_listing_rejected_rows(data_directory, capsys, monkeypatch):
    # run_from_argv closes the connections when done, which would end the test's transaction.
    monkeypatch.setattr(connections, "close_all", lambda: None)
    _append_line(data_directory / "national" / "units_of_measure.csv", ",kg,kilogram,килограмм,kilogram")

    with pytest.raises(SystemExit) as exited:
        execute_from_command_line(["manage.py", "load_reference", "--dir", str(data_directory)])

    assert exited.value.code == 1
    captured = capsys.readouterr()
    assert "units_of_measure: 21 created, 0 updated, 0 unchanged, 1 rejected" in captured.out.splitlines()
    assert captured.err.splitlines() == [
        "Rejected rows:",
        "  national/units_of_measure.csv, line 23: the code is missing",
        "CommandError: 1 reference data row(s) rejected; nothing was written.",
    ]
    assert _database_counts() == dict.fromkeys(LIST_NAMES, 0)


def test_load_reference_command_refuses_an_unknown_list():
    with pytest.raises(CommandError, match="Unknown list"):
        call_command("load_reference", "--only", "planets")
