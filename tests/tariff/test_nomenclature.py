"""Importing the nomenclature: HS, national lines, effective dating, all or nothing, the demo file."""

import datetime
import io
import time

import pytest
from django.core.management import CommandError, call_command

from customs.models import AuditEvent
from customs.services.reference import reference_load
from tariff.models import CommodityCode, TariffSection
from tariff.selectors import commodity_code_get, commodity_code_search
from tariff.services import RejectedRow, TariffImportRejected
from tariff.services.nomenclature import (
    HS_DIRECTORY,
    NATIONAL_LINES_FILE,
    national_lines_import,
    national_lines_make_from_ukgt,
    nomenclature_import,
    nomenclature_import_hs,
)
from tests.tariff.factories import UnitOfMeasureFactory

pytestmark = pytest.mark.django_db

START = datetime.date(2022, 1, 1)
CHANGE = datetime.date(2023, 7, 1)
SECTIONS = 'section,name\nI,Live animals; animal products\nXVII,"Vehicles, aircraft, vessels"\n'
HS_HEADER = "section,hscode,description,parent,level\n"
HS_LINES = [
    'I,03,"Fish and crustaceans, molluscs and other aquatic invertebrates",TOTAL,2',
    'I,0303,"Fish, frozen, excluding fish fillets",03,4',
    'I,030311,"Fish; frozen, sockeye salmon",0303,6',
    'I,030389,"Fish; frozen, n.e.c. in heading 0303",0303,6',
    "XVII,87,Vehicles other than railway or tramway rolling stock,TOTAL,2",
    "XVII,8703,Motor cars and other motor vehicles principally designed for the transport of persons,87,4",
    "XVII,870323,Vehicles; spark-ignition engine of a cylinder capacity over 1500 but not over 3000cc,8703,6",
    "XVII,870324,Vehicles; spark-ignition engine of a cylinder capacity over 3000cc,8703,6",
    "TOTAL,99,Commodities not specified according to kind,TOTAL,2",
    "TOTAL,TOTAL,Total of all HS2022 commodities,TOTAL,5",
]
NATIONAL_HEADER = "code,description_en,description_ru,description_tk,supplementary_unit,valid_from,valid_to\n"
NATIONAL_LINES = [
    "8703231100,New motor caravans 1500-3000cc,,,NAR,,",
    "8703231900,Other new cars 1500-3000cc,Прочие новые автомобили,,NAR,,",
    "8703239000,Used cars 1500-3000cc,,,,,",
]


def write_hs(directory, lines=HS_LINES, sections=SECTIONS):
    directory.mkdir(exist_ok=True)
    (directory / "sections.csv").write_text(sections, encoding="utf-8")
    (directory / "harmonized-system.csv").write_text(HS_HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    return directory


DESCRIPTIONS_HEADER = "code,description_ru,description_tk\n"
DESCRIPTIONS = [
    '03,"Рыба и ракообразные, моллюски и прочие водные беспозвоночные",'
    '"Balyk we çäge şekilliler, mollýusklar we beýleki suwda ýaşaýan oňurgasyzlar"',
    "0303,Рыба мороженая,",
    "87,Средства наземного транспорта,Ýerüsti ulag serişdeleri",
]


def write_descriptions(directory, lines=DESCRIPTIONS):
    (directory / "descriptions_ru_tk.csv").write_text(
        DESCRIPTIONS_HEADER + "\n".join(lines) + "\n", encoding="utf-8"
    )
    return directory


def translations():
    """{(code, valid_from): (valid_to, Russian, Turkmen)} of every row with a translation."""
    return {
        (row.code, row.valid_from): (row.valid_to, row.description_ru, row.description_tk)
        for row in CommodityCode.objects.exclude(description_ru="", description_tk="")
    }


def write_national(path, lines=NATIONAL_LINES):
    path.write_text(NATIONAL_HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def line_states(on_day=None):
    """(code, level, parent, declarable, valid_from, valid_to) of every row, or of those in force."""
    rows = CommodityCode.objects.order_by("code", "valid_from")
    return [
        (row.code, row.level, row.parent_code, row.declarable, row.valid_from, row.valid_to)
        for row in rows
        if on_day is None or (row.valid_from <= on_day and (row.valid_to is None or row.valid_to >= on_day))
    ]


def test_hs_import_creates_sections_and_lines_with_parents_and_declarable_flags(tmp_path):
    report = nomenclature_import_hs(directory=write_hs(tmp_path / "hs"), valid_from=START)

    assert (report.created, report.updated, report.unchanged, report.closed, report.skipped) == (
        8,
        0,
        0,
        0,
        2,
    )
    assert report.details == {
        "sections": 2,
        "sections_created": 2,
        "chapters": 2,
        "headings": 2,
        "subheadings": 4,
    }
    assert report.written is True
    assert report.rejected == []
    assert list(TariffSection.objects.values_list("code", "position", "name_en")) == [
        ("I", 1, "Live animals; animal products"),
        ("XVII", 17, "Vehicles, aircraft, vessels"),
    ]
    assert line_states() == [
        ("03", 2, "", False, START, None),
        ("0303", 4, "03", False, START, None),
        ("030311", 6, "0303", True, START, None),
        ("030389", 6, "0303", True, START, None),
        ("87", 2, "", False, START, None),
        ("8703", 4, "87", False, START, None),
        ("870323", 6, "8703", True, START, None),
        ("870324", 6, "8703", True, START, None),
    ]
    assert CommodityCode.objects.get(code="870323").section.code == "XVII"
    event = AuditEvent.objects.get()
    assert event.action == "tariff.nomenclature.imported"
    assert event.after["kind"] == "hs"
    assert event.after["valid_from"] == "2022-01-01"
    assert (event.after["created"], event.after["unchanged"], event.after["rejected"]) == (8, 0, 0)


def test_hs_reimport_changes_nothing_and_is_not_audited(tmp_path):
    directory = write_hs(tmp_path / "hs")
    nomenclature_import_hs(directory=directory, valid_from=START)
    before = line_states()

    report = nomenclature_import_hs(directory=directory, valid_from=CHANGE)

    assert (report.created, report.updated, report.unchanged, report.closed) == (0, 0, 8, 0)
    assert report.details["sections_unchanged"] == 2
    assert line_states() == before
    assert AuditEvent.objects.count() == 1


def test_hs_changed_description_closes_the_old_row_and_starts_a_new_one(tmp_path):
    nomenclature_import_hs(directory=write_hs(tmp_path / "hs"), valid_from=START)
    changed = [line.replace("sockeye salmon", "Pacific salmon (sockeye)") for line in HS_LINES]

    report = nomenclature_import_hs(directory=write_hs(tmp_path / "hs2", changed), valid_from=CHANGE)

    assert (report.created, report.updated, report.unchanged, report.closed) == (1, 0, 7, 1)
    versions = CommodityCode.objects.filter(code="030311").order_by("valid_from")
    assert [(row.description_en, row.valid_from, row.valid_to, row.declarable) for row in versions] == [
        ("Fish; frozen, sockeye salmon", START, datetime.date(2023, 6, 30), True),
        ("Fish; frozen, Pacific salmon (sockeye)", CHANGE, None, True),
    ]
    day_before = commodity_code_get("030311", on_day=datetime.date(2023, 6, 30))
    assert day_before.description_en == "Fish; frozen, sockeye salmon"
    assert (
        commodity_code_get("0303.11", on_day=CHANGE).description_en
        == "Fish; frozen, Pacific salmon (sockeye)"
    )
    assert AuditEvent.objects.count() == 2


def test_hs_change_on_the_day_the_row_starts_corrects_it_in_place(tmp_path):
    nomenclature_import_hs(directory=write_hs(tmp_path / "hs"), valid_from=START)
    changed = [line.replace("sockeye salmon", "Pacific salmon") for line in HS_LINES]

    report = nomenclature_import_hs(directory=write_hs(tmp_path / "hs2", changed), valid_from=START)

    assert (report.created, report.updated, report.unchanged, report.closed) == (0, 1, 7, 0)
    assert list(CommodityCode.objects.filter(code="030311").values_list("description_en", "valid_to")) == [
        ("Fish; frozen, Pacific salmon", None)
    ]


def test_hs_import_keeps_translations_and_unit_on_a_new_version(tmp_path):
    nomenclature_import_hs(directory=write_hs(tmp_path / "hs"), valid_from=START)
    kilogram = UnitOfMeasureFactory()
    CommodityCode.objects.filter(code="030311").update(description_ru="Нерка", supplementary_unit=kilogram)
    changed = [line.replace("sockeye salmon", "Pacific salmon") for line in HS_LINES]

    nomenclature_import_hs(directory=write_hs(tmp_path / "hs2", changed), valid_from=CHANGE)

    new = CommodityCode.objects.get(code="030311", valid_from=CHANGE)
    assert (new.description_en, new.description_ru, new.supplementary_unit_id) == (
        "Fish; frozen, Pacific salmon",
        "Нерка",
        kilogram.pk,
    )


def test_hs_import_reads_russian_and_turkmen_descriptions_when_the_file_is_there(tmp_path):
    report = nomenclature_import_hs(directory=write_descriptions(write_hs(tmp_path / "hs")), valid_from=START)

    assert (report.created, report.rejected) == (8, [])
    assert translations() == {
        ("03", START): (
            None,
            "Рыба и ракообразные, моллюски и прочие водные беспозвоночные",
            "Balyk we çäge şekilliler, mollýusklar we beýleki suwda ýaşaýan oňurgasyzlar",
        ),
        ("0303", START): (None, "Рыба мороженая", ""),
        ("87", START): (None, "Средства наземного транспорта", "Ýerüsti ulag serişdeleri"),
    }
    # A code the file lacks is left empty.
    assert CommodityCode.objects.get(code="030311").description_ru == ""


def test_hs_changed_translation_is_versioned_like_the_english_description(tmp_path):
    directory = write_descriptions(write_hs(tmp_path / "hs"))
    nomenclature_import_hs(directory=directory, valid_from=START)
    again = nomenclature_import_hs(directory=directory, valid_from=START)
    CommodityCode.objects.filter(code="030311").update(description_tk="Gyzyl losos")
    changed = [
        DESCRIPTIONS[0],
        "0303,Рыба мороженая,Doňdurylan balyk",
        "87,Средства наземного транспорта,Ýerüsti ulag serişdeleri",
    ]

    report = nomenclature_import_hs(
        directory=write_descriptions(write_hs(tmp_path / "hs2"), changed), valid_from=CHANGE
    )

    assert (again.created, again.updated, again.unchanged, again.closed) == (0, 0, 8, 0)
    assert (report.created, report.updated, report.unchanged, report.closed) == (1, 0, 7, 1)
    assert translations()[("0303", START)] == (CHANGE - datetime.timedelta(days=1), "Рыба мороженая", "")
    assert translations()[("0303", CHANGE)] == (None, "Рыба мороженая", "Doňdurylan balyk")
    # Neither a code missing from the file nor a file without the code empties a translation.
    assert translations()[("030311", START)] == (None, "", "Gyzyl losos")
    without_file = nomenclature_import_hs(directory=write_hs(tmp_path / "hs3"), valid_from=CHANGE)
    assert (without_file.created, without_file.unchanged) == (0, 8)
    assert translations()[("0303", CHANGE)] == (None, "Рыба мороженая", "Doňdurylan balyk")


def test_hs_descriptions_with_unknown_or_duplicate_codes_are_rejected(tmp_path):
    bad = [*DESCRIPTIONS, "0304,Филе рыбное,Balyk filesi", "0303,Рыба мороженая снова,"]
    directory = write_descriptions(write_hs(tmp_path / "hs"), bad)

    with pytest.raises(TariffImportRejected) as caught:
        nomenclature_import_hs(directory=directory, valid_from=START)

    file = str(directory / "descriptions_ru_tk.csv")
    assert caught.value.report.rejected == [
        RejectedRow(
            5, "0304", "unknown code '0304': it is not an accepted line of harmonized-system.csv", file
        ),
        RejectedRow(6, "0303", "code 0303 is already given on line 3", file),
    ]
    assert CommodityCode.objects.count() == 0


def test_hs_code_missing_from_a_later_import_is_not_deleted(tmp_path):
    nomenclature_import_hs(directory=write_hs(tmp_path / "hs"), valid_from=START)
    without_030389 = [line for line in HS_LINES if ",030389," not in line]

    report = nomenclature_import_hs(directory=write_hs(tmp_path / "hs2", without_030389), valid_from=CHANGE)

    assert (report.created, report.unchanged, report.closed) == (0, 7, 0)
    assert list(CommodityCode.objects.filter(code="030389").values_list("valid_from", "valid_to")) == [
        (START, None)
    ]


def test_hs_import_rejects_bad_rows_and_writes_nothing(tmp_path):
    bad = [
        *HS_LINES,
        "I,03AB,Letters in the code,03,4",
        "I,0304,Level does not match,03,6",
        "I,030499,Parent heading not in the file,0304,6",
        "I,030390,,0303,6",
        'I,030311,"Fish; frozen, sockeye salmon again",0303,6',
        "XXX,0305,Unknown section,03,4",
        "I,030391,Parent does not match the code,0304,6",
    ]
    directory = write_hs(tmp_path / "hs", bad)

    with pytest.raises(TariffImportRejected) as caught:
        nomenclature_import_hs(directory=directory, valid_from=START)

    file = str(directory / "harmonized-system.csv")
    assert caught.value.report.rejected == [
        RejectedRow(
            12, "03AB", "'03AB' is not a chapter, heading or subheading code (2, 4 or 6 digits)", file
        ),
        RejectedRow(13, "0304", "level '6' does not match the 4 digits of the code", file),
        RejectedRow(15, "030390", "the description is missing", file),
        RejectedRow(16, "030311", "code 030311 is already given on line 4", file),
        RejectedRow(17, "0305", "unknown section 'XXX'", file),
        RejectedRow(18, "030391", "the parent '0304' does not match the code (expected 0303)", file),
        RejectedRow(14, "030499", "unknown parent 0304: it is not an accepted line of the file", file),
    ]
    assert caught.value.report.written is False
    assert str(caught.value) == "7 row(s) rejected; nothing was written."
    assert CommodityCode.objects.count() == 0
    assert TariffSection.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_hs_import_of_an_earlier_version_than_the_database_is_refused(tmp_path):
    directory = write_hs(tmp_path / "hs")
    nomenclature_import_hs(directory=directory, valid_from=CHANGE)

    with pytest.raises(TariffImportRejected) as caught:
        nomenclature_import_hs(directory=directory, valid_from=START)

    first = caught.value.report.rejected[0]
    assert (first.line, first.code) == (2, "03")
    assert first.reason == (
        "03 already has a version from 2023-07-01; versions must be imported in date order, so this one "
        "(from 2022-01-01) is refused"
    )
    assert len(caught.value.report.rejected) == 8
    assert CommodityCode.objects.filter(valid_from=START).count() == 0


def test_hs_dry_run_reports_and_writes_nothing(tmp_path):
    calls = []

    report = nomenclature_import_hs(
        directory=write_hs(tmp_path / "hs"),
        valid_from=START,
        dry_run=True,
        progress=lambda done, total: calls.append((done, total)),
    )

    assert (report.created, report.skipped, report.written, report.dry_run) == (8, 2, False, True)
    assert report.summary().endswith("(dry run, nothing written)")
    assert calls == [(8, 8)]
    assert CommodityCode.objects.count() == 0
    assert TariffSection.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_national_lines_hang_under_their_subheading_which_stops_being_declarable(tmp_path):
    nomenclature_import_hs(directory=write_hs(tmp_path / "hs"), valid_from=START)
    number = UnitOfMeasureFactory(code="NAR", symbol="p/st", name_en="number of items")

    report = national_lines_import(path=write_national(tmp_path / "national.csv"), valid_from=START)

    assert (report.created, report.updated, report.unchanged, report.closed) == (3, 0, 0, 0)
    assert report.details == {"lines_10_digits": 3, "declarable_changed": 1}
    assert line_states()[6:] == [
        ("870323", 6, "8703", False, START, None),
        ("8703231100", 10, "870323", True, START, None),
        ("8703231900", 10, "870323", True, START, None),
        ("8703239000", 10, "870323", True, START, None),
        ("870324", 6, "8703", True, START, None),
    ]
    line = CommodityCode.objects.get(code="8703231900")
    assert (line.section.code, line.supplementary_unit_id, line.description_ru) == (
        "XVII",
        number.pk,
        "Прочие новые автомобили",
    )
    assert CommodityCode.objects.get(code="8703239000").supplementary_unit_id is None
    assert AuditEvent.objects.order_by("-sequence").first().after["kind"] == "national_lines"

    again = national_lines_import(path=tmp_path / "national.csv", valid_from=START)

    assert (again.created, again.updated, again.unchanged, again.closed, again.details) == (
        0,
        0,
        3,
        0,
        {"lines_10_digits": 3},
    )
    assert AuditEvent.objects.count() == 2


def test_national_lines_from_a_later_day_version_the_subheading_flag(tmp_path):
    nomenclature_import_hs(directory=write_hs(tmp_path / "hs"), valid_from=START)
    UnitOfMeasureFactory(code="NAR")

    report = national_lines_import(path=write_national(tmp_path / "national.csv"), valid_from=CHANGE)

    assert (report.created, report.closed, report.details["declarable_changed"]) == (4, 1, 1)
    assert [state for state in line_states() if state[0] == "870323"] == [
        ("870323", 6, "8703", True, START, datetime.date(2023, 6, 30)),
        ("870323", 6, "8703", False, CHANGE, None),
    ]
    assert commodity_code_get("870323", on_day=datetime.date(2023, 6, 30)).declarable is True
    assert commodity_code_get("870323", on_day=CHANGE).declarable is False

    hs_again = nomenclature_import_hs(directory=tmp_path / "hs", valid_from=START)
    national_again = national_lines_import(path=tmp_path / "national.csv", valid_from=CHANGE)

    assert (hs_again.created, hs_again.updated, hs_again.unchanged, hs_again.closed) == (0, 0, 8, 0)
    assert (national_again.created, national_again.unchanged, national_again.closed) == (0, 3, 0)
    assert CommodityCode.objects.filter(code="870323").count() == 2


def test_national_ten_digit_lines_hang_under_their_eight_digit_line(tmp_path):
    nomenclature_import_hs(directory=write_hs(tmp_path / "hs"), valid_from=START)
    lines = ["87032310,Cars with a petrol engine,,,,,", "8703231010,New cars with a petrol engine,,,,,"]

    national_lines_import(path=write_national(tmp_path / "national.csv", lines), valid_from=START)

    assert line_states()[6:9] == [
        ("870323", 6, "8703", False, START, None),
        ("87032310", 8, "870323", False, START, None),
        ("8703231010", 10, "87032310", True, START, None),
    ]


def test_national_line_with_its_own_dates_versions_the_subheading_flag_on_both(tmp_path):
    nomenclature_import_hs(directory=write_hs(tmp_path / "hs"), valid_from=START)
    lines = ["8703231100,Motor caravans,,,,2022-03-01,2022-12-31"]

    national_lines_import(path=write_national(tmp_path / "national.csv", lines), valid_from=START)

    assert [state for state in line_states() if state[0].startswith("870323")] == [
        ("870323", 6, "8703", True, START, datetime.date(2022, 2, 28)),
        ("870323", 6, "8703", False, datetime.date(2022, 3, 1), datetime.date(2022, 12, 31)),
        ("870323", 6, "8703", True, datetime.date(2023, 1, 1), None),
        ("8703231100", 10, "870323", True, datetime.date(2022, 3, 1), datetime.date(2022, 12, 31)),
    ]


def test_national_lines_with_bad_rows_are_rejected_and_nothing_is_written(tmp_path):
    nomenclature_import_hs(directory=write_hs(tmp_path / "hs"), valid_from=START)
    before = line_states()
    lines = [
        *NATIONAL_LINES,
        "87O3231200,Letter O instead of zero,,,,,",
        "870323,A subheading is not a national line,,,,,",
        "0101210000,Pure-bred breeding horses,,,,,",
        "8703231300,Unknown unit,,,XYZ,,",
        "8703231400,,Без английского описания,,,,",
        "8703239000,Used cars again,,,,,",
        "8703231500,Ends before it starts,,,,2023-01-01,2022-12-31",
        "8703231600,Not a date,,,,1 July 2023,",
    ]
    path = write_national(tmp_path / "national.csv", lines)

    with pytest.raises(TariffImportRejected) as caught:
        national_lines_import(path=path, valid_from=START)

    file = str(path)
    assert caught.value.report.rejected == [
        RejectedRow(2, "8703231100", "unknown supplementary unit 'NAR'", file),
        RejectedRow(3, "8703231900", "unknown supplementary unit 'NAR'", file),
        RejectedRow(5, "87O3231200", "'87O3231200' is not a commodity code (8 or 10 digits)", file),
        RejectedRow(6, "870323", "a national line has 8 or 10 digits; 870323 has 6", file),
        RejectedRow(8, "8703231300", "unknown supplementary unit 'XYZ'", file),
        RejectedRow(9, "8703231400", "the English description is missing", file),
        RejectedRow(10, "8703239000", "code 8703239000 is already given on line 4", file),
        RejectedRow(11, "8703231500", "valid_to 2022-12-31 is before valid_from 2023-01-01", file),
        RejectedRow(12, "8703231600", "valid_from and valid_to must be dates (YYYY-MM-DD) or empty", file),
        RejectedRow(
            7,
            "0101210000",
            "unknown parent: there is no HS subheading 010121 in force on 2022-01-01",
            file,
        ),
    ]
    assert line_states() == before
    assert AuditEvent.objects.count() == 1


def test_national_lines_duplicate_code_is_rejected(tmp_path):
    nomenclature_import_hs(directory=write_hs(tmp_path / "hs"), valid_from=START)
    lines = ["8703231100,Motor caravans,,,,,", "8703231100,Motor caravans again,,,,,"]

    with pytest.raises(TariffImportRejected) as caught:
        national_lines_import(path=write_national(tmp_path / "national.csv", lines), valid_from=START)

    assert [(row.line, row.code, row.reason) for row in caught.value.report.rejected] == [
        (3, "8703231100", "code 8703231100 is already given on line 2")
    ]
    assert not CommodityCode.objects.filter(level=10).exists()


def test_missing_file_and_missing_column_are_rejected(tmp_path):
    with pytest.raises(TariffImportRejected) as missing:
        national_lines_import(path=tmp_path / "absent.csv", valid_from=START)
    (tmp_path / "short.csv").write_text("code,description_en\n8703231100,Cars\n", encoding="utf-8")
    with pytest.raises(TariffImportRejected) as short:
        national_lines_import(path=tmp_path / "short.csv", valid_from=START)
    with pytest.raises(TariffImportRejected) as no_hs:
        nomenclature_import_hs(directory=tmp_path / "no-hs", valid_from=START)

    assert no_hs.value.report.rejected == [
        RejectedRow(None, "", "the file is missing", str(tmp_path / "no-hs" / "sections.csv"))
    ]
    assert [(row.line, row.reason) for row in missing.value.report.rejected] == [
        (None, "the file is missing")
    ]
    assert [(row.line, row.reason) for row in short.value.report.rejected] == [
        (1, "missing column(s): description_ru, description_tk, supplementary_unit, valid_from, valid_to")
    ]


def test_combined_dry_run_checks_national_lines_against_the_new_hs_and_writes_nothing(tmp_path):
    UnitOfMeasureFactory(code="NAR")

    reports = nomenclature_import(
        hs_directory=write_hs(tmp_path / "hs"),
        national_path=write_national(tmp_path / "national.csv"),
        valid_from=START,
        dry_run=True,
    )

    assert [(report.kind, report.created, report.written, report.dry_run) for report in reports] == [
        ("hs", 8, False, True),
        ("national_lines", 3, False, True),
    ]
    assert CommodityCode.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_combined_import_rejected_in_the_national_lines_writes_no_hs_either(tmp_path):
    with pytest.raises(TariffImportRejected) as caught:
        nomenclature_import(
            hs_directory=write_hs(tmp_path / "hs"),
            national_path=write_national(tmp_path / "national.csv"),
            valid_from=START,
        )

    assert caught.value.report.kind == "national_lines"
    assert CommodityCode.objects.count() == 0
    assert TariffSection.objects.count() == 0


def test_import_nomenclature_command_prints_progress_and_reports(tmp_path):
    UnitOfMeasureFactory(code="NAR")
    out, err = io.StringIO(), io.StringIO()

    call_command(
        "import_nomenclature",
        "--hs-dir",
        str(write_hs(tmp_path / "hs")),
        "--national",
        str(write_national(tmp_path / "national.csv")),
        "--valid-from",
        "2022-01-01",
        stdout=out,
        stderr=err,
    )

    assert err.getvalue().splitlines() == [
        "hs [##############################] 100% 8/8",
        "national_lines [##############################] 100% 3/3",
    ]
    assert "0 updated" in out.getvalue()
    assert "national_lines " + str(tmp_path / "national.csv") + ": 3 created, 0 updated" in out.getvalue()
    assert CommodityCode.objects.count() == 11


def test_import_nomenclature_command_fails_listing_the_rejected_rows(tmp_path):
    out, err = io.StringIO(), io.StringIO()
    hs = write_hs(tmp_path / "hs", [*HS_LINES, "I,0304,,03,4"])

    with pytest.raises(CommandError, match=r"^1 row\(s\) rejected; nothing was written\.$"):
        call_command("import_nomenclature", "--hs-dir", str(hs), "--only", "hs", stdout=out, stderr=err)

    assert f"  {hs / 'harmonized-system.csv'}, line 12 [0304]: the description is missing" in err.getvalue()
    assert "1 rejected" in out.getvalue()
    assert CommodityCode.objects.count() == 0


def test_national_lines_are_made_from_the_uk_global_tariff(tmp_path):
    hs = write_hs(tmp_path / "hs")
    uk = tmp_path / "ukgt.csv"
    uk.write_text(
        "commodity,description,cet_duty_rate,ukgt_duty_rate\n"
        "3031100,Frozen sockeye salmon,2.0%,2.0%\n"  # 7 digits: 03031100 -> 0303110000
        "3038910,Frozen fish n.e.s.,8.0%,8.0%\n"  # 8-digit parent of the next line: dropped
        "303891011,Frozen tilapia,8.0%,8.0%\n"  # 9 digits: 0303891011
        "87032319,Other new cars,10.0%,10.0%\n"
        '8703231100,"Motor caravans\n   (new)",10.0%,10.0%\n'
        "1012100,Pure-bred breeding horses,0.0%,0.0%\n",  # 010121 is not in this HS
        encoding="utf-8",
    )
    target = tmp_path / "national.csv"

    counts = national_lines_make_from_ukgt(source=uk, target=target, hs_directory=hs)

    assert counts == {
        "uk_rows": 6,
        "without_hs2022_subheading": 1,
        "eight_digit_extended": 2,
        "eight_digit_dropped_for_children": 1,
        "ten_digit_kept": 2,
        "written": 4,
        "subheadings_with_lines": 3,
    }
    assert target.read_text(encoding="utf-8").splitlines() == [
        "code,description_en,description_ru,description_tk,supplementary_unit,valid_from,valid_to",
        "0303110000,Frozen sockeye salmon,,,,,",
        "0303891011,Frozen tilapia,,,,,",
        "8703231100,Motor caravans (new),,,NAR,,",  # cars are counted in pieces
        "8703231900,Other new cars,,,NAR,,",
    ]


def test_shipped_hs_and_national_lines_import_in_seconds():
    """The real files: HS 2022 has 21 sections, 96 chapters, 1,228 headings and 5,612 subheadings (the
    file's 97 / 1,229 / 5,613 count UN Comtrade's 99 / 9999 / 999999 aggregates, skipped with TOTAL)."""
    reference_load(only=["units_of_measure"])  # the demo lines name their supplementary units
    progress = []
    started = time.monotonic()

    hs, national = nomenclature_import(
        hs_directory=HS_DIRECTORY,
        national_path=NATIONAL_LINES_FILE,
        valid_from=START,
        progress_for=lambda kind: lambda done, total: progress.append((kind, done, total)),
    )

    seconds = time.monotonic() - started
    assert (hs.created, hs.skipped, hs.rejected) == (6936, 4, [])
    assert hs.details == {
        "sections": 21,
        "sections_created": 21,
        "chapters": 96,
        "headings": 1228,
        "subheadings": 5612,
    }
    assert (national.created, national.rejected) == (10891, [])
    assert national.details == {"lines_10_digits": 10891, "declarable_changed": 5242}
    assert TariffSection.objects.count() == 21
    assert CommodityCode.objects.count() == 6936 + 10891
    assert CommodityCode.objects.filter(declarable=True).count() == 10891 + 5612 - 5242
    assert progress[:2] == [("hs", 500, 6936), ("hs", 1000, 6936)]
    assert progress[13:15] == [("hs", 6936, 6936), ("national_lines", 500, 10891)]
    assert progress[-1] == ("national_lines", 10891, 10891)
    assert seconds < 20


def test_shipped_hs_descriptions_make_russian_and_turkmen_search_work():
    """The shipped ``descriptions_ru_tk.csv`` translates every chapter (and the headings it lists)."""
    nomenclature_import_hs(directory=HS_DIRECTORY, valid_from=START)

    chapters = CommodityCode.objects.filter(level=2)
    assert chapters.count() == 96
    assert not chapters.filter(description_ru="").exists()
    assert not chapters.filter(description_tk="").exists()
    fish = CommodityCode.objects.get(code="03")
    assert fish.description_ru == "Рыба и ракообразные, моллюски и прочие водные беспозвоночные"
    assert fish.description_tk.startswith("Balyk we çäge şekilliler")
    for query in ("рыба", "рыбы", "balyk"):
        found = [line.code for line in commodity_code_search(query, on_day=START, limit=10)]
        assert any(code[:2] == "03" for code in found[:5]), (query, found)
