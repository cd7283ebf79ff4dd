"""The nomenclature: import the Harmonized System and the national lines into ``TariffSection`` and
``CommodityCode``.

The files are described in ``tariff/reference_data/FORMATS.md``. Shared rules (all or nothing, dry
run, report, progress) are in ``tariff.services``. What is particular to the nomenclature:

- **Effective dating.** Each line of a file is compared with the row of its code in force on the
  line's start date (the import's ``valid_from`` unless the national file gives one):
  - same description(s), unit and end date: left alone (``unchanged``), so importing a file twice
    changes nothing;
  - changed, and the row started that same day: corrected in place (``updated``);
  - changed, and the row started earlier: the row is closed the day before (``closed``) and a new row
    starts on the date (``created``); history is never rewritten;
  - a code with a row starting after the date: unchanged if the line equals the row in force (an open
    end then means "until the next version"), else rejected (import versions in date order).
- **Nothing is deleted.** A code in the database but absent from a file is left as it is: the files are
  not always complete (national lines come in parts) and a line that ceased must be closed on purpose,
  with its end date (admin, or a national file row with ``valid_to``).
- **Declarable.** A line is declarable when no line in force has it as its parent. After each import the
  flags of every line in force are computed again, as on the import date and, for the national file,
  on each start date and on each day after an end date it gives. A flag that changes is versioned like
  a description: corrected in place when the row starts that day, else the row is closed and a new one
  starts with the new flag. So a subheading that gets national lines stops being declarable from that
  date, stays declarable for earlier dates, and becomes declarable again the day after its last
  national line ends.
- **Fields the file lacks are kept.** The HS files have English only and no units: Russian and Turkmen
  descriptions and the supplementary unit of an existing line are carried over to its new version. The
  national file has every column and is authoritative for them (an empty cell empties the field).
- **HS translations.** ``descriptions_ru_tk.csv``, when present in the HS directory, gives Russian and
  Turkmen descriptions of HS lines. A description it gives is part of the line, compared and versioned
  like the English one; a code it lacks, an empty cell, or no file at all leaves that description as
  it is (empty for a new line).
"""

import csv
import datetime
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection, transaction
from django.utils.translation import gettext as _

from customs.models import UnitOfMeasure
from customs.services.audit import audit_record
from tariff.engine import tariff_cache_clear
from tariff.models import CommodityCode, TariffSection
from tariff.services import (
    TARIFF_IMPORT_LOCK_KEY,
    ImportReport,
    Progress,
    TariffImportRejected,
    read_csv_rows,
    report_progress,
)

REFERENCE_DATA_DIRECTORY = Path(__file__).resolve().parent.parent / "reference_data"
HS_DIRECTORY = REFERENCE_DATA_DIRECTORY / "hs"
NATIONAL_LINES_FILE = REFERENCE_DATA_DIRECTORY / "national_lines.csv"
HS_SECTIONS_FILE = "sections.csv"
HS_LINES_FILE = "harmonized-system.csv"
HS_DESCRIPTIONS_FILE = "descriptions_ru_tk.csv"
HS_DESCRIPTION_COLUMNS = ("code", "description_ru", "description_tk")
HS_SECTION_COLUMNS = ("section", "name")
HS_LINE_COLUMNS = ("section", "hscode", "description", "parent", "level")
NATIONAL_LINE_COLUMNS = (
    "code",
    "description_en",
    "description_ru",
    "description_tk",
    "supplementary_unit",
    "valid_from",
    "valid_to",
)
# UN Comtrade adds statistical aggregates (99 "not specified according to kind", TOTAL) under the
# pseudo-section TOTAL; they are not part of the nomenclature and are skipped.
STATISTICAL_SECTION = "TOTAL"
HS_CHAPTER_PARENT = "TOTAL"
HS_LEVELS = (2, 4, 6)
NATIONAL_LEVELS = (8, 10)
LEVEL_NAMES = {2: "chapters", 4: "headings", 6: "subheadings", 8: "lines_8_digits", 10: "lines_10_digits"}
ROMAN_NUMERAL = re.compile(r"M{0,3}(CM|CD|D?C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})")
ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
# Fields of a line compared with the database; ``declarable`` is derived, and handled apart.
LINE_FIELDS = (
    "level",
    "section_id",
    "parent_code",
    "description_en",
    "description_ru",
    "description_tk",
    "supplementary_unit_id",
    "valid_to",
)
TRACKED_FIELDS = (*LINE_FIELDS, "declarable")
# Fields the HS files do not give: kept from the line's current row.
KEPT_FROM_CURRENT = {"description_ru": "", "description_tk": "", "supplementary_unit_id": None}
ONE_DAY = datetime.timedelta(days=1)
CREATE_BATCH_SIZE = 1000


@dataclass
class _Line:
    """One accepted line of a file: its code, the start date, and the field values it sets."""

    line: int
    code: str
    valid_from: datetime.date
    values: dict = field(default_factory=dict)


# The rows in memory ----------------------------------------------------------------------------------


class _Rows:
    """Every commodity-code row, loaded once, changed in memory, then written in bulk.

    Working in memory keeps a full import to a handful of queries; the advisory lock taken before
    loading keeps a concurrent import from planning on the same rows.
    """

    def __init__(self):
        self.rows: list[CommodityCode] = list(
            CommodityCode.objects.defer("search_vector").order_by("code", "valid_from")
        )
        self.by_code: dict[str, list[CommodityCode]] = defaultdict(list)
        for row in self.rows:
            self.by_code[row.code].append(row)
        self.original = {row.pk: {name: getattr(row, name) for name in TRACKED_FIELDS} for row in self.rows}
        self.new: list[CommodityCode] = []

    @staticmethod
    def in_force(row: CommodityCode, day: datetime.date) -> bool:
        return row.valid_from <= day and (row.valid_to is None or row.valid_to >= day)

    def current(self, code: str, day: datetime.date) -> CommodityCode | None:
        """The row of ``code`` in force on ``day``."""
        for row in self.by_code.get(code, ()):
            if self.in_force(row, day):
                return row
        return None

    def later(self, code: str, day: datetime.date) -> CommodityCode | None:
        """The first row of ``code`` starting after ``day``."""
        for row in self.by_code.get(code, ()):
            if row.valid_from > day:
                return row
        return None

    def add(self, row: CommodityCode) -> None:
        self.rows.append(row)
        self.by_code[row.code].append(row)
        self.by_code[row.code].sort(key=lambda version: version.valid_from)
        self.new.append(row)

    def successor(self, row: CommodityCode, day: datetime.date, **changes) -> CommodityCode:
        """Close ``row`` the day before ``day`` and add its next version from ``day`` with ``changes``."""
        values = {name: getattr(row, name) for name in TRACKED_FIELDS}
        values.update(changes)
        row.valid_to = day - ONE_DAY
        successor = CommodityCode(code=row.code, valid_from=day, **values)
        self.add(successor)
        return successor

    def changes(self) -> list[tuple[CommodityCode, dict]]:
        """(row, {field: new value}) for every loaded row changed in memory."""
        changed = []
        for row in self.rows:
            if row.pk is None:
                continue
            before = self.original[row.pk]
            diff = {name: getattr(row, name) for name in TRACKED_FIELDS if getattr(row, name) != before[name]}
            if diff:
                changed.append((row, diff))
        return changed


def _plan_line(rows: _Rows, line: _Line, report: ImportReport) -> None:
    """Compare one line of a file with its row in force and change, close or add rows in memory."""
    current = rows.current(line.code, line.valid_from)
    later = rows.later(line.code, line.valid_from)
    values = dict(line.values)
    for name, default in KEPT_FROM_CURRENT.items():
        values.setdefault(name, getattr(current, name) if current is not None else default)
    if later is not None and values["valid_to"] is None:
        values["valid_to"] = later.valid_from - ONE_DAY  # an open end runs until the next version
    differing = (
        {name for name, value in values.items() if getattr(current, name) != value} if current else None
    )
    if differing == set():
        report.unchanged += 1
    elif later is not None:
        # A change before a later version would not reach that version: refuse rather than split history.
        report.reject(
            line.line,
            line.code,
            _(
                "%(code)s already has a version from %(later)s; versions must be imported in date "
                "order, so this one (from %(day)s) is refused"
            )
            % {"code": line.code, "later": later.valid_from.isoformat(), "day": line.valid_from.isoformat()},
        )
    elif current is None:
        rows.add(CommodityCode(code=line.code, valid_from=line.valid_from, declarable=False, **values))
    elif current.valid_from == line.valid_from or differing == {"valid_to"}:
        for name in differing:
            setattr(current, name, values[name])
    else:
        rows.successor(current, line.valid_from, **values)


def _declarable_refresh(rows: _Rows, day: datetime.date, report: ImportReport) -> None:
    """Set the declarable flag of every row in force on ``day``: true when no row in force has it as
    parent. A change on a row that started earlier closes it and starts a new version on ``day``."""
    in_force = [row for row in rows.rows if rows.in_force(row, day)]
    parents = {row.parent_code for row in in_force if row.parent_code}
    for row in in_force:
        declarable = row.code not in parents
        if row.declarable == declarable:
            continue
        # A new row gets its first flag on its start date (always a refresh day): that is no change.
        if row.pk is not None or row.valid_from != day:
            report.details["declarable_changed"] = report.details.get("declarable_changed", 0) + 1
        if row.valid_from == day:
            row.declarable = declarable
        else:
            rows.successor(row, day, declarable=declarable)


def _count(rows: _Rows, report: ImportReport) -> list[tuple[CommodityCode, dict]]:
    """Fill the created / updated / closed counts from what changed in memory."""
    changes = rows.changes()
    report.created = len(rows.new)
    for row, diff in changes:
        before = rows.original[row.pk]["valid_to"]
        if set(diff) == {"valid_to"} and (before is None or row.valid_to < before):
            report.closed += 1
        elif set(diff) != {"declarable"}:
            report.updated += 1
    return changes


def _write(rows: _Rows, changes: list[tuple[CommodityCode, dict]]) -> None:
    """Write the changes with few statements: one UPDATE per distinct change shared by several rows
    (closing on a date, a declarable flag), ``bulk_update`` for the rest, ``bulk_create`` for new rows."""
    shared: dict[frozenset, list[int]] = defaultdict(list)
    for row, diff in changes:
        shared[frozenset(diff.items())].append(row.pk)
    single_rows, single_fields = [], set()
    for row, diff in changes:
        if len(shared[frozenset(diff.items())]) == 1:
            single_rows.append(row)
            single_fields.update(diff)
    for change, primary_keys in shared.items():
        if len(primary_keys) > 1:
            CommodityCode.objects.filter(pk__in=primary_keys).update(**dict(change))
    if single_rows:
        CommodityCode.objects.bulk_update(single_rows, sorted(single_fields), batch_size=500)
    CommodityCode.objects.bulk_create(rows.new, batch_size=CREATE_BATCH_SIZE)


def _finish(
    rows: _Rows,
    report: ImportReport,
    *,
    dry_run: bool,
    actor,
    refresh_days: set[datetime.date],
    audit_after: dict,
) -> None:
    """Refresh the declarable flags, count, then raise (rows rejected), roll back (dry run) or write
    and audit. Runs inside the import's ``transaction.atomic()``."""
    for day in sorted(refresh_days):
        _declarable_refresh(rows, day, report)
    changes = _count(rows, report)
    if report.rejected:
        report.stop_clock()
        raise TariffImportRejected(report)
    _write(rows, changes)
    if dry_run:
        transaction.set_rollback(True)
    else:
        if report.changed:
            audit_record(
                action="tariff.nomenclature.imported",
                actor=actor,
                after={"kind": report.kind, "source": report.source, **audit_after, **report.counts()},
            )
            transaction.on_commit(tariff_cache_clear)
        report.written = True
    report.stop_clock()


def _lock() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [TARIFF_IMPORT_LOCK_KEY])


def _count_level(report: ImportReport, code: str) -> None:
    name = LEVEL_NAMES[len(code)]
    report.details[name] = report.details.get(name, 0) + 1


# Harmonized System -----------------------------------------------------------------------------------


def _roman_value(numeral: str) -> int | None:
    if not numeral or not ROMAN_NUMERAL.fullmatch(numeral):
        return None
    total = 0
    for index, letter in enumerate(numeral):
        value = ROMAN_VALUES[letter]
        following = ROMAN_VALUES[numeral[index + 1]] if index + 1 < len(numeral) else 0
        total += -value if value < following else value
    return total


def _hs_sections_read(directory: Path, report: ImportReport) -> dict[str, tuple[int, str]]:
    """Sections: Roman numeral -> (position, English name)."""
    sections: dict[str, tuple[int, str]] = {}
    first_line: dict[str, int] = {}
    source, report.source = report.source, str(directory / HS_SECTIONS_FILE)
    for line, row in read_csv_rows(directory / HS_SECTIONS_FILE, HS_SECTION_COLUMNS, report):
        code, name = row["section"], row["name"]
        position = _roman_value(code)
        if position is None:
            report.reject(line, code, _("%(code)r is not a section number (I to XXI)") % {"code": code})
        elif code in sections:
            report.reject(
                line,
                code,
                _("code %(code)s is already given on line %(line)d")
                % {"code": code, "line": first_line[code]},
            )
        elif not name:
            report.reject(line, code, _("the description is missing"))
        else:
            sections[code] = (position, name)
            first_line[code] = line
    report.source = source
    return sections


def _hs_sections_save(sections: dict[str, tuple[int, str]], report: ImportReport) -> dict[str, int]:
    """Upsert the sections on their numeral (names in Russian and Turkmen are kept); section ids by code."""
    existing = TariffSection.objects.select_for_update().in_bulk(list(sections), field_name="code")
    counts = Counter()
    for code, (position, name) in sections.items():
        section = existing.get(code)
        if section is None:
            existing[code] = TariffSection.objects.create(code=code, position=position, name_en=name)
            counts["sections_created"] += 1
        elif (section.position, section.name_en) != (position, name):
            section.position, section.name_en = position, name
            section.save(update_fields=["position", "name_en"])
            counts["sections_updated"] += 1
        else:
            counts["sections_unchanged"] += 1
    report.details["sections"] = len(sections)
    report.details.update(counts)
    return {code: section.pk for code, section in existing.items()}


def _hs_lines_read(
    directory: Path, sections: dict[str, tuple[int, str]], valid_from: datetime.date, report: ImportReport
) -> list[tuple[_Line, str]]:
    """Accepted lines of the HS file, each with its section numeral."""
    source, report.source = report.source, str(directory / HS_LINES_FILE)
    accepted: dict[str, tuple[_Line, str]] = {}
    for line, row in read_csv_rows(directory / HS_LINES_FILE, HS_LINE_COLUMNS, report):
        section, code, description = row["section"], row["hscode"], row["description"]
        if section == STATISTICAL_SECTION:
            report.skipped += 1
            continue
        if not code.isdigit() or len(code) not in HS_LEVELS:
            report.reject(
                line,
                code,
                _("%(code)r is not a chapter, heading or subheading code (2, 4 or 6 digits)")
                % {"code": code},
            )
            continue
        if row["level"] != str(len(code)):
            report.reject(
                line,
                code,
                _("level %(level)r does not match the %(digits)d digits of the code")
                % {"level": row["level"], "digits": len(code)},
            )
            continue
        if code in accepted:
            report.reject(
                line,
                code,
                _("code %(code)s is already given on line %(line)d")
                % {"code": code, "line": accepted[code][0].line},
            )
            continue
        if not description:
            report.reject(line, code, _("the description is missing"))
            continue
        if section not in sections:
            report.reject(line, code, _("unknown section %(section)r") % {"section": section})
            continue
        expected_parent = HS_CHAPTER_PARENT if len(code) == 2 else code[:-2]
        if row["parent"] != expected_parent:
            report.reject(
                line,
                code,
                _("the parent %(parent)r does not match the code (expected %(expected)s)")
                % {"parent": row["parent"], "expected": expected_parent},
            )
            continue
        values = {
            "level": len(code),
            "parent_code": "" if len(code) == 2 else expected_parent,
            "description_en": description,
            "valid_to": None,
        }
        accepted[code] = (_Line(line, code, valid_from, values), section)
    lines = []
    for code, (line, section) in accepted.items():
        if line.values["parent_code"] and line.values["parent_code"] not in accepted:
            report.reject(
                line.line,
                code,
                _("unknown parent %(parent)s: it is not an accepted line of the file")
                % {"parent": line.values["parent_code"]},
            )
            continue
        lines.append((line, section))
    report.source = source
    return lines


def _hs_descriptions_read(
    directory: Path, codes: set[str], report: ImportReport
) -> dict[str, dict[str, str]]:
    """Russian and Turkmen descriptions of ``descriptions_ru_tk.csv`` by code, only those given (a blank
    cell is left out); nothing when the file is absent. ``codes`` are the accepted lines of the HS file."""
    path = directory / HS_DESCRIPTIONS_FILE
    if not path.exists():
        return {}
    source, report.source = report.source, str(path)
    descriptions: dict[str, dict[str, str]] = {}
    first_line: dict[str, int] = {}
    for line, row in read_csv_rows(path, HS_DESCRIPTION_COLUMNS, report):
        code = row["code"]
        if code in first_line:
            report.reject(
                line,
                code,
                _("code %(code)s is already given on line %(line)d")
                % {"code": code, "line": first_line[code]},
            )
            continue
        first_line[code] = line
        if code not in codes:
            report.reject(
                line,
                code,
                _("unknown code %(code)r: it is not an accepted line of %(file)s")
                % {"code": code, "file": HS_LINES_FILE},
            )
            continue
        descriptions[code] = {name: row[name] for name in HS_DESCRIPTION_COLUMNS[1:] if row[name]}
    report.source = source
    return descriptions


def nomenclature_import_hs(
    *,
    directory: Path | str | None = None,
    valid_from: datetime.date,
    dry_run: bool = False,
    progress: Progress | None = None,
    actor=None,
) -> ImportReport:
    """Import the Harmonized System (``sections.csv`` and ``harmonized-system.csv`` of ``directory``,
    by default the shipped HS 2022 files) in force from ``valid_from``, all or nothing. Russian and
    Turkmen descriptions come from the directory's ``descriptions_ru_tk.csv`` when there is one.

    Sections are upserted on their numeral. Lines (chapters, headings, subheadings) follow the
    effective-dating rules of this module. Rows of the statistical pseudo-section TOTAL are skipped.
    Raises ``TariffImportRejected`` (nothing written) when any row is rejected.
    """
    directory = Path(directory or HS_DIRECTORY)
    report = ImportReport(kind="hs", source=str(directory), dry_run=dry_run)
    with transaction.atomic():
        _lock()
        sections = _hs_sections_read(directory, report)
        if not sections:
            # Without sections every line would be rejected too: report the sections file alone.
            if not report.rejected:
                report.reject(None, "", _("%(file)s has no sections") % {"file": HS_SECTIONS_FILE})
            report.stop_clock()
            raise TariffImportRejected(report)
        lines = _hs_lines_read(directory, sections, valid_from, report)
        translations = _hs_descriptions_read(directory, {line.code for line, _section in lines}, report)
        section_ids = _hs_sections_save(sections, report)
        rows = _Rows()
        total = len(lines)
        for done, (line, section) in enumerate(lines, start=1):
            line.values["section_id"] = section_ids[section]
            line.values.update(translations.get(line.code, {}))
            _count_level(report, line.code)
            _plan_line(rows, line, report)
            report_progress(progress, done, total)
        _finish(
            rows,
            report,
            dry_run=dry_run,
            actor=actor,
            refresh_days={valid_from},
            audit_after={"valid_from": valid_from},
        )
    if progress is not None and not total:
        progress(0, 0)
    return report


# National lines --------------------------------------------------------------------------------------


def _date_or_none(text: str) -> datetime.date | None:
    return datetime.date.fromisoformat(text) if text else None


def _national_lines_read(
    path: Path, valid_from: datetime.date, rows: _Rows, report: ImportReport
) -> list[_Line]:
    units = dict(UnitOfMeasure.objects.values_list("code", "pk"))
    accepted: dict[str, _Line] = {}
    for line, row in read_csv_rows(path, NATIONAL_LINE_COLUMNS, report):
        code = row["code"]
        if not code.isdigit() or not 2 <= len(code) <= 10:
            report.reject(line, code, _("%(code)r is not a commodity code (8 or 10 digits)") % {"code": code})
            continue
        if len(code) not in NATIONAL_LEVELS:
            report.reject(
                line,
                code,
                _("a national line has 8 or 10 digits; %(code)s has %(digits)d")
                % {"code": code, "digits": len(code)},
            )
            continue
        if code in accepted:
            report.reject(
                line,
                code,
                _("code %(code)s is already given on line %(line)d")
                % {"code": code, "line": accepted[code].line},
            )
            continue
        if not row["description_en"]:
            report.reject(line, code, _("the English description is missing"))
            continue
        unit = row["supplementary_unit"]
        if unit and unit not in units:
            report.reject(line, code, _("unknown supplementary unit %(unit)r") % {"unit": unit})
            continue
        try:
            starts = _date_or_none(row["valid_from"]) or valid_from
            ends = _date_or_none(row["valid_to"])
        except ValueError:
            report.reject(line, code, _("valid_from and valid_to must be dates (YYYY-MM-DD) or empty"))
            continue
        if ends is not None and ends < starts:
            report.reject(
                line,
                code,
                _("valid_to %(valid_to)s is before valid_from %(valid_from)s")
                % {"valid_to": ends.isoformat(), "valid_from": starts.isoformat()},
            )
            continue
        values = {
            "level": len(code),
            "description_en": row["description_en"],
            "description_ru": row["description_ru"],
            "description_tk": row["description_tk"],
            "supplementary_unit_id": units[unit] if unit else None,
            "valid_to": ends,
        }
        accepted[code] = _Line(line, code, starts, values)
    lines = []
    for code, line in accepted.items():
        subheading = rows.current(code[:6], line.valid_from)
        if subheading is None:
            report.reject(
                line.line,
                code,
                _("unknown parent: there is no HS subheading %(parent)s in force on %(day)s")
                % {"parent": code[:6], "day": line.valid_from.isoformat()},
            )
            continue
        eight_digit_parent = len(code) == 10 and (
            (code[:8] in accepted) or rows.current(code[:8], line.valid_from) is not None
        )
        line.values["parent_code"] = code[:8] if eight_digit_parent else code[:6]
        line.values["section_id"] = subheading.section_id
        lines.append(line)
    return lines


def national_lines_import(
    *,
    path: Path | str | None = None,
    valid_from: datetime.date,
    dry_run: bool = False,
    progress: Progress | None = None,
    actor=None,
) -> ImportReport:
    """Import national lines (8 or 10 digits) from the CSV at ``path`` (by default the shipped demo
    ``national_lines.csv``), in force from ``valid_from`` unless a row gives its own dates.

    Each line's 6-digit subheading must be in force on its start date; a 10-digit line hangs under its
    8-digit line when there is one. Declarable flags are set again, so a subheading that gets national
    lines stops being declarable. Raises ``TariffImportRejected`` (nothing written) when any row is
    rejected.
    """
    path = Path(path or NATIONAL_LINES_FILE)
    report = ImportReport(kind="national_lines", source=str(path), dry_run=dry_run)
    with transaction.atomic():
        _lock()
        rows = _Rows()
        lines = _national_lines_read(path, valid_from, rows, report)
        total = len(lines)
        for done, line in enumerate(lines, start=1):
            _count_level(report, line.code)
            _plan_line(rows, line, report)
            report_progress(progress, done, total)
        _finish(
            rows,
            report,
            dry_run=dry_run,
            actor=actor,
            refresh_days={valid_from}
            | {line.valid_from for line in lines}
            | {line.values["valid_to"] + ONE_DAY for line in lines if line.values["valid_to"]},
            audit_after={"valid_from": valid_from},
        )
    if progress is not None and not total:
        progress(0, 0)
    return report


def nomenclature_import(
    *,
    hs_directory: Path | str | None = None,
    national_path: Path | str | None = None,
    import_hs: bool = True,
    import_national: bool = True,
    valid_from: datetime.date,
    dry_run: bool = False,
    progress_for=None,
    actor=None,
) -> list[ImportReport]:
    """The HS then the national lines, in one transaction: both are written or neither.

    A dry run runs both for real (the national lines need the HS lines), then rolls back everything.
    ``progress_for(kind)`` returns the ``progress`` callable for the import of that kind ("hs",
    "national_lines"), e.g. to draw one progress bar each.
    """
    reports: list[ImportReport] = []

    def progress(kind):
        return progress_for(kind) if progress_for is not None else None

    with transaction.atomic():
        if import_hs:
            reports.append(
                nomenclature_import_hs(
                    directory=hs_directory, valid_from=valid_from, progress=progress("hs"), actor=actor
                )
            )
        if import_national:
            reports.append(
                national_lines_import(
                    path=national_path,
                    valid_from=valid_from,
                    progress=progress("national_lines"),
                    actor=actor,
                )
            )
        if dry_run:
            transaction.set_rollback(True)
            for report in reports:
                report.written, report.dry_run = False, True
    return reports


# The demo national lines ---------------------------------------------------------------------------


# The supplementary unit of a demo line: the unit its UK rate is charged on, else a few well-known
# headings (customs statistics count cars in pieces, shoes in pairs, animals in heads, ...).
UNIT_OF_RATE = {
    "lpa": "LPA",
    "l": "LTR",
    "item": "NAR",
    "pair": "NPR",
    "head": "HEA",
    "m": "MTR",
    "m2": "MTK",
    "m3": "MTQ",
    "kwh": "KWH",
}
UNIT_PRIORITY = ["lpa", "l", "pair", "head", "item", "m3", "m2", "m", "kwh"]
UNIT_OF_PREFIX = {
    "0101": "HEA",
    "0102": "HEA",
    "0103": "HEA",
    "0104": "HEA",
    "2203": "LTR",
    "2204": "LTR",
    "2205": "LTR",
    "2206": "LTR",
    "2208": "LPA",
    "2402": "MIL",
    "2716": "MWH",
    "6401": "NPR",
    "6402": "NPR",
    "6403": "NPR",
    "6404": "NPR",
    "6405": "NPR",
    "8415": "NAR",
    "8418": "NAR",
    "8450": "NAR",
    "8471": "NAR",
    "8517": "NAR",
    "8528": "NAR",
    "8701": "NAR",
    "8702": "NAR",
    "8703": "NAR",
    "8704": "NAR",
    "8711": "NAR",
    "9302": "NAR",
    "9303": "NAR",
}


def demo_supplementary_unit(code: str, rate_text: str) -> str:
    """The demo supplementary unit of a line (a unit code of the units list, or empty)."""
    from tariff.expressions import DutyExpressionError, parse_duty_expression

    try:
        rate_units = {str(unit) for unit in parse_duty_expression(rate_text).units}
    except DutyExpressionError:
        rate_units = set()
    for unit in UNIT_PRIORITY:
        if unit in rate_units:
            return UNIT_OF_RATE[unit]
    return UNIT_OF_PREFIX.get(code[:4], "")


def national_lines_make_from_ukgt(
    *, source: Path | str, target: Path | str | None = None, hs_directory: Path | str | None = None
) -> dict[str, int]:
    """Write demo national lines (``national_lines.csv`` format) from the UK Global Tariff 2021 CSV.

    - Codes lost their leading zero upstream: 7 digits are padded to 8, 9 digits to 10.
    - A code whose 6-digit subheading is not in HS 2022 (the UK file follows HS 2017) is skipped.
    - An 8-digit code with 10-digit codes under it in the file is dropped (the 10-digit ones are kept);
      every other 8-digit code gets "00", so all lines have 10 digits and none is another's parent.
    - Descriptions: English, whitespace collapsed; Russian and Turkmen are left empty.
    - Supplementary unit: the unit the line's UK rate is charged on, else a known heading's unit
      (``demo_supplementary_unit``); most lines have none.

    Returns the counts reported in ``FORMATS.md``.
    """
    hs_directory = Path(hs_directory or HS_DIRECTORY)
    target = Path(target or NATIONAL_LINES_FILE)
    with open(hs_directory / HS_LINES_FILE, encoding="utf-8-sig", newline="") as hs_file:
        subheadings = {
            row["hscode"]
            for row in csv.DictReader(hs_file)
            if row["section"] != STATISTICAL_SECTION and len(row["hscode"]) == 6
        }
    with open(source, encoding="utf-8-sig", newline="") as uk_file:
        uk_rows = list(csv.DictReader(uk_file))
    counts = Counter(uk_rows=len(uk_rows))
    descriptions: dict[str, str] = {}
    units: dict[str, str] = {}
    for row in uk_rows:
        code = row["commodity"].strip()
        code = code.zfill(len(code) + 1) if len(code) in (7, 9) else code
        if not code.isdigit() or len(code) not in NATIONAL_LEVELS:
            counts["bad_code"] += 1
            continue
        if code[:6] not in subheadings:
            counts["without_hs2022_subheading"] += 1
            continue
        descriptions[code] = " ".join(row["description"].split())
        units[code] = demo_supplementary_unit(code, row.get("ukgt_duty_rate", ""))
    eight_digit_with_children = {code[:8] for code in descriptions if len(code) == 10}
    lines: dict[str, str] = {}
    line_units: dict[str, str] = {}
    for code, description in descriptions.items():
        line_units[code if len(code) == 10 else code + "00"] = units[code]
        if len(code) == 10:
            lines[code] = description
            counts["ten_digit_kept"] += 1
        elif code in eight_digit_with_children:
            counts["eight_digit_dropped_for_children"] += 1
        else:
            lines[code + "00"] = description
            counts["eight_digit_extended"] += 1
    with open(target, "w", encoding="utf-8", newline="") as target_file:
        writer = csv.writer(target_file, lineterminator="\n")
        writer.writerow(NATIONAL_LINE_COLUMNS)
        for code in sorted(lines):
            writer.writerow([code, lines[code], "", "", line_units[code], "", ""])
    counts["written"] = len(lines)
    counts["subheadings_with_lines"] = len({code[:6] for code in lines})
    return dict(counts)
