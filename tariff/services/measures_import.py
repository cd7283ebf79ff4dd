"""Import measures (duties, excise, VAT, preferences and reliefs) from a CSV file.

The file is described in ``tariff/reference_data/FORMATS.md``; the shared rules (all or nothing, dry
run, report, progress) in ``tariff.services``. What is particular to measures:

- **Checked, never guessed.** Every expression is parsed with ``tariff.expressions``; a row the parser
  refuses is rejected with the parser's reason. The measure type must be one of ``MeasureType``, the
  prefix must start at least one commodity code in force on the start date, and origin (a country or a
  country group code; empty for erga omnes), procedure code and required document must be in the
  reference lists. A preference (origin given) or a relief (procedure code given) needs its required
  document, since the domain grants neither without one.
- **Upsert key.** (measure type, prefix, origin, procedure code, valid_from). A row matching an existing
  measure on the key updates its expression, document, legal base and end date if they differ, else is
  left alone (``unchanged``): importing a file twice changes nothing.
- **A new rate supersedes the old one.** A new measure of the same series (the key without the start
  date) closes the measure of that series in force on its start date, the day before (``closed``).
  Measures whose dates would still overlap (two open rows of a series in one file, a new open row
  before a later one in the database) are rejected, naming the other row.
- **Nothing is deleted.** Measures in the database but not in the file are left as they are.
"""

import bisect
import datetime
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from django.db import connection, transaction
from django.utils.translation import gettext as _

from customs.models import Country, CountryGroup, DocumentType, ProcedureCode
from customs.services.audit import audit_record
from tariff.choices import MeasureType
from tariff.engine import tariff_cache_clear
from tariff.expressions import DutyExpressionError, parse_duty_expression
from tariff.models import CommodityCode, Measure
from tariff.services import (
    TARIFF_IMPORT_LOCK_KEY,
    ImportReport,
    Progress,
    TariffImportRejected,
    read_csv_rows,
    report_progress,
)

MEASURE_COLUMNS = (
    "measure_type",
    "commodity_prefix",
    "expression",
    "origin",
    "procedure_code",
    "required_document",
    "valid_from",
    "valid_to",
    "legal_base",
)
TEXT_MAX_LENGTH = 255
PREFIX_MAX_DIGITS = 10
# Fields a matching row may change; the others are the key.
UPDATABLE_FIELDS = ("expression", "required_document_id", "legal_base", "valid_to")
SERIES_FIELDS = (
    "measure_type",
    "commodity_prefix",
    "origin_country_id",
    "origin_group_id",
    "procedure_code_id",
)
ONE_DAY = datetime.timedelta(days=1)


@dataclass
class _Incoming:
    line: int
    code: str  # what the rejected-row list shows: "import_duty 8703 CN"
    values: dict

    @property
    def series(self) -> tuple:
        return tuple(self.values[name] for name in SERIES_FIELDS)


def _parse_date(text: str, column: str, line: int, code: str, report: ImportReport):
    """The date, None for an empty cell, or False (and a rejection) for a bad one."""
    if not text:
        return None
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        report.reject(
            line,
            code,
            _("%(column)s %(value)r is not a date (YYYY-MM-DD)") % {"column": column, "value": text},
        )
        return False


class _CodesInForce:
    """Sorted commodity codes in force per day, to check that a prefix starts at least one of them."""

    def __init__(self):
        self.rows = list(CommodityCode.objects.values_list("code", "valid_from", "valid_to"))
        self.by_day: dict[datetime.date, list[str]] = {}

    def starts_some(self, prefix: str, day: datetime.date) -> bool:
        codes = self.by_day.get(day)
        if codes is None:
            codes = sorted(
                {
                    code
                    for code, valid_from, valid_to in self.rows
                    if valid_from <= day and (valid_to is None or valid_to >= day)
                }
            )
            self.by_day[day] = codes
        index = bisect.bisect_left(codes, prefix)
        return index < len(codes) and codes[index].startswith(prefix)


def _read(path: Path, report: ImportReport) -> list[_Incoming]:
    """Check every row; the accepted ones, with their values as model fields."""
    countries = dict(Country.objects.values_list("code", "pk"))
    groups = dict(CountryGroup.objects.values_list("code", "pk"))
    procedure_codes = dict(ProcedureCode.objects.values_list("code", "pk"))
    documents = dict(DocumentType.objects.values_list("code", "pk"))
    codes_in_force = _CodesInForce()
    measure_types = set(MeasureType.values)
    accepted: list[_Incoming] = []
    first_line: dict[tuple, int] = {}
    for line, row in read_csv_rows(path, MEASURE_COLUMNS, report):
        measure_type, prefix, origin = row["measure_type"], row["commodity_prefix"], row["origin"]
        procedure_code, document = row["procedure_code"], row["required_document"]
        code = " ".join(part for part in (measure_type, prefix or "*", origin, procedure_code) if part)

        def reject(reason, line=line, code=code):
            report.reject(line, code, reason)

        if measure_type not in measure_types:
            reject(
                _("unknown measure type %(value)r (one of: %(known)s)")
                % {"value": measure_type, "known": ", ".join(MeasureType.values)}
            )
            continue
        if prefix and (not prefix.isdigit() or not 2 <= len(prefix) <= PREFIX_MAX_DIGITS):
            reject(_("commodity prefix %(value)r is not 2 to 10 digits (or empty)") % {"value": prefix})
            continue
        valid_from = _parse_date(row["valid_from"], "valid_from", line, code, report)
        valid_to = _parse_date(row["valid_to"], "valid_to", line, code, report)
        if valid_from is False or valid_to is False:
            continue
        if valid_from is None:
            reject(_("valid_from is missing"))
            continue
        if valid_to is not None and valid_to < valid_from:
            reject(
                _("valid_to %(valid_to)s is before valid_from %(valid_from)s")
                % {"valid_to": valid_to.isoformat(), "valid_from": valid_from.isoformat()}
            )
            continue
        if prefix and not codes_in_force.starts_some(prefix, valid_from):
            reject(
                _("no commodity code in force on %(day)s starts with %(prefix)s")
                % {"day": valid_from.isoformat(), "prefix": prefix}
            )
            continue
        expression = row["expression"]
        if not expression:
            reject(_("the duty expression is missing"))
            continue
        if len(expression) > TEXT_MAX_LENGTH:
            reject(_("the duty expression is longer than %(max)d characters") % {"max": TEXT_MAX_LENGTH})
            continue
        try:
            parse_duty_expression(expression)
        except DutyExpressionError as error:
            reject(str(error))  # the parser's reason, naming the expression
            continue
        if origin and origin in countries and origin in groups:
            reject(_("origin %(origin)r is both a country and a country group code") % {"origin": origin})
            continue
        if origin and origin not in countries and origin not in groups:
            reject(_("unknown origin %(origin)r: not a country or country group code") % {"origin": origin})
            continue
        if procedure_code and procedure_code not in procedure_codes:
            reject(_("unknown procedure code %(code)r") % {"code": procedure_code})
            continue
        if document and document not in documents:
            reject(_("unknown document type %(code)r") % {"code": document})
            continue
        if (origin or procedure_code) and not document:
            reject(_("a preference (origin) or a relief (procedure code) needs a required document"))
            continue
        if len(row["legal_base"]) > TEXT_MAX_LENGTH:
            reject(_("the legal base is longer than %(max)d characters") % {"max": TEXT_MAX_LENGTH})
            continue
        values = {
            "measure_type": measure_type,
            "commodity_prefix": prefix,
            "origin_country_id": countries.get(origin) if origin else None,
            "origin_group_id": groups.get(origin) if origin and origin not in countries else None,
            "procedure_code_id": procedure_codes[procedure_code] if procedure_code else None,
            "required_document_id": documents[document] if document else None,
            "expression": expression,
            "legal_base": row["legal_base"],
            "valid_from": valid_from,
            "valid_to": valid_to,
        }
        incoming = _Incoming(line, code, values)
        key = (*incoming.series, valid_from)
        if key in first_line:
            reject(
                _(
                    "the same measure (type, prefix, origin, procedure code, valid_from) is already on "
                    "line %(line)d"
                )
                % {"line": first_line[key]}
            )
            continue
        first_line[key] = line
        accepted.append(incoming)
    return accepted


def _overlaps(first: Measure, second: Measure) -> bool:
    """Whether two measures of a series, ``first`` starting no later than ``second``, share a day."""
    return first.valid_to is None or first.valid_to >= second.valid_from


def measures_import(
    *,
    path: Path | str,
    dry_run: bool = False,
    progress: Progress | None = None,
    actor=None,
) -> ImportReport:
    """Import the measures of the CSV at ``path``, all or nothing (see the module docstring).

    Raises ``TariffImportRejected`` (nothing written) when any row is rejected.
    """
    path = Path(path)
    report = ImportReport(kind="measures", source=str(path), dry_run=dry_run)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [TARIFF_IMPORT_LOCK_KEY])
        incoming = _read(path, report)
        series_wanted = {item.series for item in incoming}
        prefixes = {item.values["commodity_prefix"] for item in incoming}
        existing = [
            measure
            for measure in Measure.objects.select_for_update().filter(commodity_prefix__in=prefixes)
            if tuple(getattr(measure, name) for name in SERIES_FIELDS) in series_wanted
        ]
        by_series: dict[tuple, list[Measure]] = defaultdict(list)
        for measure in existing:
            by_series[tuple(getattr(measure, name) for name in SERIES_FIELDS)].append(measure)
        original_valid_to = {measure.pk: measure.valid_to for measure in existing}
        line_of: dict[int, _Incoming] = {}  # id() of a measure from the file -> its row
        to_update: list[Measure] = []
        to_create: list[Measure] = []
        total = len(incoming)
        ordered = sorted(incoming, key=lambda item: item.values["valid_from"])
        for done, item in enumerate(ordered, start=1):
            series = by_series[item.series]
            valid_from = item.values["valid_from"]
            match = next((measure for measure in series if measure.valid_from == valid_from), None)
            if match is None:
                measure = Measure(**item.values)
                for other in series:
                    # Only a measure the file does not give is superseded; the file's own rows must agree.
                    superseded = other.pk is not None and id(other) not in line_of
                    if superseded and other.valid_from < valid_from and _overlaps(other, measure):
                        other.valid_to = valid_from - ONE_DAY
                series.append(measure)
                to_create.append(measure)
                line_of[id(measure)] = item
            else:
                line_of[id(match)] = item
                differing = [name for name in UPDATABLE_FIELDS if getattr(match, name) != item.values[name]]
                if differing:
                    for name in differing:
                        setattr(match, name, item.values[name])
                    to_update.append(match)
                else:
                    report.unchanged += 1
            report_progress(progress, done, total)
        for series in by_series.values():
            series.sort(key=lambda measure: measure.valid_from)
            for first, second in zip(series, series[1:], strict=False):
                if not _overlaps(first, second):
                    continue
                item = line_of.get(id(second)) or line_of.get(id(first))
                if item is None:
                    continue
                other = first if line_of.get(id(second)) is item else second
                other_item = line_of.get(id(other))
                where = (
                    _("line %(line)d") % {"line": other_item.line}
                    if other_item is not None
                    else _("the database")
                )
                values = {"valid_from": other.valid_from.isoformat(), "where": where}
                if other.valid_to is None:
                    reason = _("its dates overlap the measure in force from %(valid_from)s (%(where)s)")
                else:
                    values["valid_to"] = other.valid_to.isoformat()
                    reason = _(
                        "its dates overlap the measure from %(valid_from)s to %(valid_to)s (%(where)s)"
                    )
                report.reject(item.line, item.code, reason % values)
        updated_ids = {id(measure) for measure in to_update}
        closed = [
            measure
            for measure in existing
            if id(measure) not in updated_ids and measure.valid_to != original_valid_to[measure.pk]
        ]
        report.created, report.updated, report.closed = len(to_create), len(to_update), len(closed)
        if report.rejected:
            report.stop_clock()
            raise TariffImportRejected(report)
        closing_days: dict[datetime.date, list[int]] = defaultdict(list)
        for measure in closed:
            closing_days[measure.valid_to].append(measure.pk)
        for day, primary_keys in closing_days.items():
            Measure.objects.filter(pk__in=primary_keys).update(valid_to=day)
        Measure.objects.bulk_update(to_update, UPDATABLE_FIELDS, batch_size=500)
        Measure.objects.bulk_create(to_create, batch_size=1000)
        if dry_run:
            transaction.set_rollback(True)
        else:
            if report.changed:
                audit_record(
                    action="tariff.measures.imported",
                    actor=actor,
                    after={"kind": report.kind, "source": report.source, **report.counts()},
                )
                transaction.on_commit(tariff_cache_clear)
            report.written = True
        report.stop_clock()
    if progress is not None and not total:
        progress(0, 0)
    return report
