"""Reference data: load the code lists shipped in ``customs/reference_data/`` into the database.

Every list is read from its files (described, with their sources and licences, in
``customs/reference_data/README.md``), checked row by row, then upserted on its code:

- **Idempotent.** Rows are matched on ``code``; a row whose fields (and links) already match is left
  alone, so loading the same files twice changes nothing and never duplicates a row. Entries that are
  in the database but not in the files are left as they are.
- **All or nothing.** Everything runs in one ``transaction.atomic()``. A bad row (a missing code, a
  code given twice, an unknown member country, ...) is never guessed at: it is collected with its file,
  line and reason, and when any row was rejected the whole load is rolled back and
  ``ReferenceDataRejected`` is raised carrying the results of every list.
- **Translations.** ``translations/<list>.csv`` (code, name_ru, name_tk) adds Russian and Turkmen names
  to lists whose source has none; a non-empty cell there replaces the name from the source file.
- **Audited.** A load that created or updated anything appends one ``customs.reference_data.loaded``
  audit event with the counts per list.
"""

import csv
import datetime
import io
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import models, transaction
from django.utils.translation import gettext as _

from customs.choices import ProcedureDirection
from customs.models import (
    AdditionalProcedureCode,
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
from customs.reference_cache import reference_cache_clear
from customs.services.audit import audit_record

COUNTRIES_FILE = "iso3166_country_codes.csv"
CURRENCIES_FILE = "iso4217_currency_codes.csv"
HMRC_PACKAGE_TYPES_FILE = "hmrc_cds_codelists/packageTypes.json"
HMRC_DOCUMENT_TYPES_FILE = "hmrc_cds_codelists/documentTypes.json"
HMRC_PROCEDURE_CODES_FILE = "hmrc_cds_codelists/procedureCodes.json"
HMRC_ADDITIONAL_PROCEDURE_CODES_FILE = "hmrc_cds_codelists/additionalProcedureCodes.json"
HMRC_PROCEDURE_CODE_LINKS_FILE = "hmrc_cds_codelists/linkProcedureCodeToAdditionalProcedureCodes.json"
COUNTRY_GROUPS_FILE = "national/country_groups.csv"
UNITS_OF_MEASURE_FILE = "national/units_of_measure.csv"
TRANSPORT_MODES_FILE = "national/transport_modes.csv"
INCOTERMS_FILE = "national/incoterms.csv"
NATIONAL_DOCUMENT_TYPES_FILE = "national/document_types.csv"
NATIONAL_PROCEDURE_CODES_FILE = "national/procedure_codes.csv"
NATIONAL_ADDITIONAL_PROCEDURE_CODES_FILE = "national/additional_procedure_codes.csv"
TRANSLATIONS_DIRECTORY = "translations"

CODE_MAX_LENGTH = 16
NAME_MAX_LENGTH = 255
SYMBOL_MAX_LENGTH = 16
NAME_COLUMNS = ("code", "name_en", "name_ru", "name_tk")
# Optional columns of the hand-authored CSV files; when a file has no such column the field is not touched.
VALIDITY_COLUMNS = ("valid_from", "valid_to", "active")
YES_NO = {"yes": True, "no": False}
ISO_NO_CURRENCY = "No universal currency"

# Requested procedure (first two digits of a CPC) -> direction. See ``procedure_direction``.
IMPORT_REQUESTED_PROCEDURES = frozenset(
    {"01", "07", "40", "42", "43", "44", "45", "46", "48", "49", "51", "53", "54", "61", "63", "68"}
    | {"71", "76", "77", "78"}
)
EXPORT_REQUESTED_PROCEDURES = frozenset({"10", "11", "21", "22", "23", "31", "95", "96"})
TRANSIT_REQUESTED_PROCEDURES = frozenset({f"8{digit}" for digit in "0123456789"})


class ReferenceDataRejected(Exception):
    """Rows were rejected; the load was rolled back. ``results`` holds every list's counts and rows."""

    def __init__(self, results: dict[str, "ReferenceLoadResult"]):
        self.results = results
        super().__init__(
            _("%(count)d reference data row(s) rejected; nothing was written.")
            % {"count": len(self.rejected_rows)}
        )

    @property
    def rejected_rows(self) -> list["RejectedRow"]:
        return [row for result in self.results.values() for row in result.rejected]


@dataclass(frozen=True)
class RejectedRow:
    """A row that was not loaded: the file (relative to the data directory), its line and why."""

    file: str
    line: int | None
    reason: str

    def __str__(self):
        if self.line is None:
            return f"{self.file}: {self.reason}"
        return _("%(file)s, line %(line)d: %(reason)s") % {
            "file": self.file,
            "line": self.line,
            "reason": self.reason,
        }


@dataclass
class ReferenceLoadResult:
    """What loading one list did: rows created, updated, left unchanged, and the rows rejected."""

    list_name: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)

    def reject(self, file: str, line: int | None, reason: str) -> None:
        self.rejected.append(RejectedRow(file, line, reason))


@dataclass
class _Entry:
    """One parsed row, ready to upsert: field values plus, for lists with a relation, related codes."""

    code: str
    values: dict
    file: str
    line: int | None
    related_codes: set[str] = field(default_factory=set)


def procedure_direction(code: str) -> str:
    """The direction (``ProcedureDirection``) of a CPC, from its requested procedure (first two digits).

    - Import (IM): 40-49 release for free circulation and home use, 51/53/54 inward processing and
      temporary admission, 61/63/68 re-importation, 71/76/77/78 warehousing and free zones, 01 and 07
      (release with re-dispatch or placing in an excise warehouse).
    - Export (EX): 10/11 export, 21/22/23 temporary export, 31 re-export, 95/96 warehousing of ship's
      and aircraft supplies for export.
    - Transit (TR): the 80 series (national transit codes, as in ASYCUDA code lists).
    - Other (OT): everything else, e.g. 00 (UK simplified entries) and the 90 series (destruction,
      abandonment to the State).
    """
    requested_procedure = code[:2]
    if requested_procedure in IMPORT_REQUESTED_PROCEDURES:
        return ProcedureDirection.IMPORT
    if requested_procedure in EXPORT_REQUESTED_PROCEDURES:
        return ProcedureDirection.EXPORT
    if requested_procedure in TRANSIT_REQUESTED_PROCEDURES:
        return ProcedureDirection.TRANSIT
    return ProcedureDirection.OTHER


# Reading files ------------------------------------------------------------------------------------


def _read_text(
    directory: Path, relative: str, result: ReferenceLoadResult, *, optional: bool = False
) -> str | None:
    path = directory / relative
    if not path.is_file():
        if not optional:
            result.reject(relative, None, _("the file is missing"))
        return None
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        result.reject(relative, None, _("the file is not UTF-8 text: %(error)s") % {"error": error})
        return None


def _csv_rows(
    directory: Path,
    relative: str,
    required_columns: Iterable[str],
    result: ReferenceLoadResult,
    *,
    optional: bool = False,
) -> list[tuple[int, dict[str, str]]]:
    """Rows of a CSV file with a header, as (line number, {column: stripped text}); blank rows skipped.

    A missing file (unless ``optional``) or a missing column rejects the whole file.
    """
    text = _read_text(directory, relative, result, optional=optional)
    if text is None:
        return []
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [column.strip() for column in reader.fieldnames or []]
    missing = [column for column in required_columns if column not in header]
    if missing:
        result.reject(relative, 1, _("missing column(s): %(columns)s") % {"columns": ", ".join(missing)})
        return []
    reader.fieldnames = header
    rows = []
    for row in reader:
        cleaned = {key: (value or "").strip() for key, value in row.items() if key is not None}
        if any(cleaned.values()):
            rows.append((reader.line_num, cleaned))
    return rows


def _json_items(directory: Path, relative: str, result: ReferenceLoadResult) -> list[tuple[int, object]]:
    """Items of a JSON file holding one array, each with the line on which it starts."""
    text = _read_text(directory, relative, result)
    if text is None:
        return []
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        result.reject(relative, error.lineno, _("not valid JSON: %(error)s") % {"error": error.msg})
        return []
    if not isinstance(document, list):
        result.reject(relative, 1, _("the file must hold a JSON array"))
        return []
    decoder = json.JSONDecoder()
    whitespace = re.compile(r"[\s,]*")
    position = whitespace.match(text, text.index("[") + 1).end()
    line, counted_to = 1, 0
    items = []
    while text[position] != "]":
        line += text.count("\n", counted_to, position)
        counted_to = position
        item, position = decoder.raw_decode(text, position)
        items.append((line, item))
        position = whitespace.match(text, position).end()
    return items


# Checking values ----------------------------------------------------------------------------------


def _check_code(code: str, file: str, line: int, result: ReferenceLoadResult) -> bool:
    if not code:
        result.reject(file, line, _("the code is missing"))
        return False
    if len(code) > CODE_MAX_LENGTH:
        result.reject(
            file,
            line,
            _("code %(code)r is longer than %(max)d characters") % {"code": code, "max": CODE_MAX_LENGTH},
        )
        return False
    return True


def _check_names(values: dict, file: str, line: int, result: ReferenceLoadResult) -> bool:
    if not values.get("name_en"):
        result.reject(file, line, _("the English name is missing"))
        return False
    for name_field in ("name_en", "name_ru", "name_tk"):
        if len(values.get(name_field, "")) > NAME_MAX_LENGTH:
            result.reject(
                file,
                line,
                _("%(field)s is longer than %(max)d characters")
                % {"field": name_field, "max": NAME_MAX_LENGTH},
            )
            return False
    return True


def _validity_values(row: dict[str, str], file: str, line: int, result: ReferenceLoadResult) -> dict | None:
    """The optional valid_from / valid_to (YYYY-MM-DD) and active (yes/no) columns of a row."""
    values: dict = {}
    for date_field in ("valid_from", "valid_to"):
        if date_field not in row:
            continue
        try:
            values[date_field] = datetime.date.fromisoformat(row[date_field]) if row[date_field] else None
        except ValueError:
            result.reject(
                file,
                line,
                _("%(field)s %(value)r is not a date (YYYY-MM-DD)")
                % {"field": date_field, "value": row[date_field]},
            )
            return None
    if "active" in row:
        active = _yes_no(row["active"] or "yes", "active", file, line, result)
        if active is None:
            return None
        values["active"] = active
    return values


def _yes_no(text: str, column: str, file: str, line: int, result: ReferenceLoadResult) -> bool | None:
    value = YES_NO.get(text.lower())
    if value is None:
        result.reject(
            file, line, _("%(column)s must be yes or no, not %(value)r") % {"column": column, "value": text}
        )
    return value


def _add_entry(entries: dict[str, _Entry], entry: _Entry, result: ReferenceLoadResult) -> None:
    """Keep the first row of a code; a later row with the same code is rejected, never merged."""
    first = entries.get(entry.code)
    if first is not None:
        result.reject(
            entry.file,
            entry.line,
            _("code %(code)s is already given in %(file)s, line %(line)s")
            % {"code": entry.code, "file": first.file, "line": first.line},
        )
        return
    entries[entry.code] = entry


def _csv_code_list_entries(
    directory: Path,
    relative: str,
    result: ReferenceLoadResult,
    entries: dict[str, _Entry],
    *,
    extra_columns: Iterable[str] = (),
    extra_values: Callable[[dict[str, str], int], dict | None] | None = None,
    related_column: str | None = None,
) -> None:
    """Entries of a hand-authored CSV: code, name_en, name_ru, name_tk, extra columns, optional validity.

    ``related_column`` holds space-separated codes of related entries (group members, allowed codes).
    """
    required_columns = (*NAME_COLUMNS, *extra_columns, *([related_column] if related_column else []))
    for line, row in _csv_rows(directory, relative, required_columns, result):
        code = row["code"]
        if not _check_code(code, relative, line, result):
            continue
        values = {name_field: row[name_field] for name_field in NAME_COLUMNS[1:]}
        if not _check_names(values, relative, line, result):
            continue
        validity = _validity_values(row, relative, line, result)
        if validity is None:
            continue
        values.update(validity)
        if extra_values is not None:
            extra = extra_values(row, line)
            if extra is None:
                continue
            values.update(extra)
        related_codes = set(row[related_column].split()) if related_column else set()
        _add_entry(entries, _Entry(code, values, relative, line, related_codes), result)


def _hmrc_entries(
    directory: Path, relative: str, result: ReferenceLoadResult, entries: dict[str, _Entry]
) -> None:
    """Entries of an HMRC CDS code list: a JSON array of {"code", "en", "cy"} (Welsh is not used)."""
    for line, item in _json_items(directory, relative, result):
        if not isinstance(item, dict):
            result.reject(relative, line, _("the item is not a JSON object"))
            continue
        code = str(item.get("code") or "").strip()
        if not _check_code(code, relative, line, result):
            continue
        values = {"name_en": str(item.get("en") or "").strip()}
        if not _check_names(values, relative, line, result):
            continue
        _add_entry(entries, _Entry(code, values, relative, line), result)


def _apply_translations(
    directory: Path, list_name: str, entries: dict[str, _Entry], result: ReferenceLoadResult
) -> None:
    """Russian and Turkmen names from ``translations/<list>.csv``, if that file exists."""
    relative = f"{TRANSLATIONS_DIRECTORY}/{list_name}.csv"
    seen: dict[str, int] = {}
    for line, row in _csv_rows(directory, relative, ("code", "name_ru", "name_tk"), result, optional=True):
        code = row["code"]
        if not _check_code(code, relative, line, result):
            continue
        if code in seen:
            result.reject(
                relative,
                line,
                _("code %(code)s is already given on line %(line)d") % {"code": code, "line": seen[code]},
            )
            continue
        seen[code] = line
        entry = entries.get(code)
        if entry is None:
            result.reject(relative, line, _("there is no code %(code)s in this list") % {"code": code})
            continue
        names = {name_field: row[name_field] for name_field in ("name_ru", "name_tk") if row[name_field]}
        if not _check_names({"name_en": entry.values["name_en"], **names}, relative, line, result):
            continue
        entry.values.update(names)


# Writing ----------------------------------------------------------------------------------------------


def _save(
    model: type[models.Model],
    entries: Iterable[_Entry],
    result: ReferenceLoadResult,
    *,
    relation: tuple[str, type[models.Model]] | None = None,
) -> None:
    """Upsert entries on their code, counting created, updated and unchanged rows.

    ``relation`` (many-to-many field name, target model) sets that field to exactly the targets whose
    codes the entry lists; an entry naming an unknown code is rejected.
    """
    entries = list(entries)
    existing = model.objects.select_for_update().in_bulk([entry.code for entry in entries], field_name="code")
    targets: dict[str, models.Model] = {}
    relation_field, target_model = relation or ("", None)
    if relation is not None:
        wanted = set().union(*(entry.related_codes for entry in entries))
        targets = target_model.objects.in_bulk(list(wanted), field_name="code")
    for entry in entries:
        related_ids = None
        if relation is not None:
            unknown = sorted(entry.related_codes - targets.keys())
            if unknown:
                result.reject(
                    entry.file,
                    entry.line,
                    _("not in the list of %(kind)s: %(codes)s")
                    % {"kind": target_model._meta.verbose_name_plural, "codes": ", ".join(unknown)},
                )
                continue
            related_ids = {targets[code].pk for code in entry.related_codes}
        current = existing.get(entry.code)
        if current is not None:
            fields_match = all(getattr(current, name) == value for name, value in entry.values.items())
            relation_matches = related_ids is None or related_ids == set(
                getattr(current, relation_field).values_list("pk", flat=True)
            )
            if fields_match and relation_matches:
                result.unchanged += 1
                continue
        instance, created = model.objects.update_or_create(code=entry.code, defaults=entry.values)
        if related_ids is not None:
            getattr(instance, relation_field).set(related_ids)
        if created:
            result.created += 1
        else:
            result.updated += 1


# The lists --------------------------------------------------------------------------------------------


def countries_load(*, directory: Path, result: ReferenceLoadResult) -> None:
    """ISO 3166-1 countries: alpha-2 as code, alpha-3, numeric (zero-padded to 3 digits), English short
    name, Russian short name (UNTERM, footnote asterisks dropped; the official Russian name where UNTERM
    has none); Turkmen names from the translations file."""
    relative = COUNTRIES_FILE
    columns = (
        "ISO3166-1-Alpha-2",
        "ISO3166-1-Alpha-3",
        "ISO3166-1-numeric",
        "official_name_en",
        "UNTERM Russian Short",
        "official_name_ru",
    )
    entries: dict[str, _Entry] = {}
    for line, row in _csv_rows(directory, relative, columns, result):
        code, alpha3, numeric = row["ISO3166-1-Alpha-2"], row["ISO3166-1-Alpha-3"], row["ISO3166-1-numeric"]
        if not _check_code(code, relative, line, result):
            continue
        if not re.fullmatch(r"[A-Z]{2}", code) or not re.fullmatch(r"[A-Z]{3}", alpha3):
            result.reject(
                relative,
                line,
                _("%(alpha2)r / %(alpha3)r are not ISO alpha-2 and alpha-3 codes")
                % {"alpha2": code, "alpha3": alpha3},
            )
            continue
        if not re.fullmatch(r"\d{1,3}", numeric):
            result.reject(
                relative, line, _("numeric code %(value)r is not 1 to 3 digits") % {"value": numeric}
            )
            continue
        values = {
            "name_en": row["official_name_en"],
            "name_ru": row["UNTERM Russian Short"].rstrip("* ") or row["official_name_ru"],
            "alpha3": alpha3,
            "numeric": numeric.zfill(3),
        }
        if _check_names(values, relative, line, result):
            _add_entry(entries, _Entry(code, values, relative, line), result)
    _apply_translations(directory, "countries", entries, result)
    _save(Country, entries.values(), result)


def country_groups_load(*, directory: Path, result: ReferenceLoadResult) -> None:
    """Country groups with their members (space-separated alpha-2 codes of loaded countries)."""
    entries: dict[str, _Entry] = {}
    _csv_code_list_entries(directory, COUNTRY_GROUPS_FILE, result, entries, related_column="members")
    _save(CountryGroup, entries.values(), result, relation=("countries", Country))


def currencies_load(*, directory: Path, result: ReferenceLoadResult) -> None:
    """ISO 4217 currencies. The file has one row per country and currency, current and historic:

    - rows of one code collapse into one currency; current rows (no WithdrawalDate) must agree on
      name, numeric code and minor unit, else the later row is rejected;
    - a code with a current row is active and takes its name from the first current row; a code with
      only withdrawn rows is inactive and takes the row withdrawn last (valid_to stays empty: ISO gives
      only a month or a range);
    - a minor unit of ``-`` (N.A.: SDR, gold, bond-market units, XTS, XXX) is stored as 0 and the code
      is inactive, since no invoice is paid in it; withdrawn currencies with no minor unit store 0;
    - rows "No universal currency" (an entity without a currency of its own) are skipped.
    """
    relative = CURRENCIES_FILE
    columns = ("Entity", "Currency", "AlphabeticCode", "NumericCode", "MinorUnit", "WithdrawalDate")
    current: dict[str, tuple[int, dict[str, str]]] = {}
    withdrawn: dict[str, tuple[str, int, dict[str, str]]] = {}
    for line, row in _csv_rows(directory, relative, columns, result):
        code = row["AlphabeticCode"]
        if not code and not row["NumericCode"] and row["Currency"] == ISO_NO_CURRENCY:
            continue
        if not _check_code(code, relative, line, result):
            continue
        if not re.fullmatch(r"[A-Z]{3}", code):
            result.reject(relative, line, _("%(code)r is not an ISO 4217 alphabetic code") % {"code": code})
            continue
        if row["NumericCode"] and not re.fullmatch(r"\d{3}", row["NumericCode"]):
            result.reject(
                relative, line, _("numeric code %(value)r is not 3 digits") % {"value": row["NumericCode"]}
            )
            continue
        if row["MinorUnit"] not in ("", "-") and not row["MinorUnit"].isdigit():
            result.reject(
                relative, line, _("minor unit %(value)r is not a number") % {"value": row["MinorUnit"]}
            )
            continue
        if not row["Currency"]:
            result.reject(relative, line, _("the English name is missing"))
            continue
        if row["WithdrawalDate"]:
            # The withdrawal is a month ("2003-01") or a range ("1989 to 1990"): order on its last date.
            dates = re.findall(r"\d{4}(?:-\d{2})?", row["WithdrawalDate"])
            withdrawn_on = dates[-1] if dates else ""
            if code not in withdrawn or withdrawn_on > withdrawn[code][0]:
                withdrawn[code] = (withdrawn_on, line, row)
            continue
        if code in current:
            first_line, first = current[code]
            keys = ("Currency", "NumericCode", "MinorUnit")
            if any(first[key] != row[key] for key in keys):
                result.reject(
                    relative,
                    line,
                    _("code %(code)s differs from line %(line)d in name, numeric code or minor unit")
                    % {"code": code, "line": first_line},
                )
            continue
        current[code] = (line, row)
    entries: dict[str, _Entry] = {}
    for code in sorted(current.keys() | withdrawn.keys()):
        is_current = code in current
        line, row = current[code] if is_current else withdrawn[code][1:]
        minor_unit = row["MinorUnit"]
        values = {
            "name_en": row["Currency"],
            "numeric": row["NumericCode"],
            "minor_unit": int(minor_unit) if minor_unit.isdigit() else 0,
            "active": is_current and minor_unit.isdigit(),
        }
        if _check_names(values, relative, line, result):
            entries[code] = _Entry(code, values, relative, line)
    _apply_translations(directory, "currencies", entries, result)
    _save(Currency, entries.values(), result)


def units_of_measure_load(*, directory: Path, result: ReferenceLoadResult) -> None:
    """Units for supplementary quantities and specific duties (UN/ECE Rec 20 codes, with symbols)."""
    relative = UNITS_OF_MEASURE_FILE

    def symbol(row: dict[str, str], line: int) -> dict | None:
        if len(row["symbol"]) > SYMBOL_MAX_LENGTH:
            result.reject(
                relative, line, _("the symbol is longer than %(max)d characters") % {"max": SYMBOL_MAX_LENGTH}
            )
            return None
        return {"symbol": row["symbol"]}

    entries: dict[str, _Entry] = {}
    _csv_code_list_entries(
        directory, relative, result, entries, extra_columns=("symbol",), extra_values=symbol
    )
    _save(UnitOfMeasure, entries.values(), result)


def package_kinds_load(*, directory: Path, result: ReferenceLoadResult) -> None:
    """UN/ECE Rec 21 package kinds from the HMRC CDS list, with translations."""
    entries: dict[str, _Entry] = {}
    _hmrc_entries(directory, HMRC_PACKAGE_TYPES_FILE, result, entries)
    _apply_translations(directory, "package_kinds", entries, result)
    _save(PackageKind, entries.values(), result)


def document_types_load(*, directory: Path, result: ReferenceLoadResult) -> None:
    """Document types: the HMRC CDS list (UN/EDIFACT 1001 transport and commercial documents) plus the
    national supplement (invoice N935, certificates of origin, licences, relief documents)."""
    entries: dict[str, _Entry] = {}
    _hmrc_entries(directory, HMRC_DOCUMENT_TYPES_FILE, result, entries)
    _csv_code_list_entries(directory, NATIONAL_DOCUMENT_TYPES_FILE, result, entries)
    _apply_translations(directory, "document_types", entries, result)
    _save(DocumentType, entries.values(), result)


def transport_modes_load(*, directory: Path, result: ReferenceLoadResult) -> None:
    """Modes of transport at the border, UN/ECE Recommendation 19."""
    entries: dict[str, _Entry] = {}
    _csv_code_list_entries(directory, TRANSPORT_MODES_FILE, result, entries)
    _save(TransportMode, entries.values(), result)


def incoterms_load(*, directory: Path, result: ReferenceLoadResult) -> None:
    """Incoterms 2020 with the three valuation flags (yes/no columns)."""
    relative = INCOTERMS_FILE
    flags = ("includes_main_carriage", "includes_insurance", "includes_costs_beyond_border")

    def flag_values(row: dict[str, str], line: int) -> dict | None:
        values = {}
        for flag in flags:
            value = _yes_no(row[flag], flag, relative, line, result)
            if value is None:
                return None
            values[flag] = value
        return values

    entries: dict[str, _Entry] = {}
    _csv_code_list_entries(
        directory, relative, result, entries, extra_columns=flags, extra_values=flag_values
    )
    _save(Incoterm, entries.values(), result)


def additional_procedure_codes_load(*, directory: Path, result: ReferenceLoadResult) -> None:
    """Additional procedure codes: the HMRC CDS list plus the national supplement (relief codes)."""
    entries: dict[str, _Entry] = {}
    _hmrc_entries(directory, HMRC_ADDITIONAL_PROCEDURE_CODES_FILE, result, entries)
    _csv_code_list_entries(directory, NATIONAL_ADDITIONAL_PROCEDURE_CODES_FILE, result, entries)
    _apply_translations(directory, "additional_procedure_codes", entries, result)
    _save(AdditionalProcedureCode, entries.values(), result)


def procedure_codes_load(*, directory: Path, result: ReferenceLoadResult) -> None:
    """Procedure codes (CPC, four digits) with their direction (``procedure_direction``) and allowed
    additional procedure codes: for HMRC codes from the HMRC link file, for national codes from the
    ``allowed_additional_codes`` column (space-separated). The additional codes must be loaded."""
    entries: dict[str, _Entry] = {}
    _hmrc_entries(directory, HMRC_PROCEDURE_CODES_FILE, result, entries)
    hmrc_codes = set(entries)
    _csv_code_list_entries(
        directory,
        NATIONAL_PROCEDURE_CODES_FILE,
        result,
        entries,
        related_column="allowed_additional_codes",
    )
    linked: dict[str, int] = {}
    for line, item in _json_items(directory, HMRC_PROCEDURE_CODE_LINKS_FILE, result):
        parent = str(item.get("parentCode") or "").strip() if isinstance(item, dict) else ""
        children = item.get("childCodes") if isinstance(item, dict) else None
        if not parent or not isinstance(children, list):
            result.reject(
                HMRC_PROCEDURE_CODE_LINKS_FILE, line, _("expected parentCode and a list of childCodes")
            )
            continue
        if parent not in hmrc_codes:
            result.reject(
                HMRC_PROCEDURE_CODE_LINKS_FILE,
                line,
                _("procedure code %(code)s is not in the HMRC list") % {"code": parent},
            )
            continue
        if parent in linked:
            result.reject(
                HMRC_PROCEDURE_CODE_LINKS_FILE,
                line,
                _("code %(code)s is already given on line %(line)d")
                % {"code": parent, "line": linked[parent]},
            )
            continue
        linked[parent] = line
        entries[parent].related_codes = {str(child).strip() for child in children}
    for code in list(entries):
        entry = entries[code]
        if not re.fullmatch(r"\d{4}", code):
            result.reject(
                entry.file, entry.line, _("procedure code %(code)r is not four digits") % {"code": code}
            )
            del entries[code]
            continue
        entry.values["direction"] = procedure_direction(code)
    _apply_translations(directory, "procedure_codes", entries, result)
    _save(
        ProcedureCode,
        entries.values(),
        result,
        relation=("allowed_additional_codes", AdditionalProcedureCode),
    )


# Order matters: groups need countries, procedure codes need additional procedure codes.
LOADERS: dict[str, Callable[..., None]] = {
    "countries": countries_load,
    "country_groups": country_groups_load,
    "currencies": currencies_load,
    "units_of_measure": units_of_measure_load,
    "package_kinds": package_kinds_load,
    "document_types": document_types_load,
    "transport_modes": transport_modes_load,
    "incoterms": incoterms_load,
    "additional_procedure_codes": additional_procedure_codes_load,
    "procedure_codes": procedure_codes_load,
}
LIST_NAMES = tuple(LOADERS)


class _RollBack(Exception):
    pass


def reference_load(
    *,
    directory: Path | None = None,
    only: Iterable[str] | None = None,
    actor=None,
) -> dict[str, ReferenceLoadResult]:
    """Load the reference lists (all, or those named in ``only``) from ``directory``, all or nothing.

    ``directory`` defaults to ``settings.REFERENCE_DATA_DIR``. Returns the result per list, in load
    order. When any row is rejected, nothing is written and ``ReferenceDataRejected`` is raised with
    the results (counts as they would have been, and the rejected rows with file, line and reason).
    """
    directory = Path(directory or settings.REFERENCE_DATA_DIR)
    wanted = set(LIST_NAMES if only is None else only)
    unknown = sorted(wanted - set(LIST_NAMES))
    if unknown:
        raise ValueError(
            _("Unknown reference list(s): %(unknown)s. Known lists: %(known)s.")
            % {"unknown": ", ".join(unknown), "known": ", ".join(LIST_NAMES)}
        )
    results = {name: ReferenceLoadResult(name) for name in LIST_NAMES if name in wanted}
    try:
        with transaction.atomic():
            for name, result in results.items():
                LOADERS[name](directory=directory, result=result)
            if any(result.rejected for result in results.values()):
                raise _RollBack
            if any(result.created or result.updated for result in results.values()):
                audit_record(
                    action="customs.reference_data.loaded",
                    actor=actor,
                    after={
                        name: {
                            "created": result.created,
                            "updated": result.updated,
                            "unchanged": result.unchanged,
                        }
                        for name, result in results.items()
                    },
                )
    except _RollBack:
        raise ReferenceDataRejected(results) from None
    transaction.on_commit(reference_cache_clear)
    return results
