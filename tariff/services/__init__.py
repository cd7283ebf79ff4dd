"""Writes of the tariff: the imports of the nomenclature (``nomenclature``) and of measures
(``measures_import``).

Every import shares the rules and the report defined here:

- **All or nothing.** One ``transaction.atomic()``; every row is checked first. When any row is rejected,
  nothing is written and ``TariffImportRejected`` is raised, carrying the ``ImportReport`` (counts as they
  would have been, and every rejected row with its line, code and a translated reason). Raising rather than
  returning ``written=False`` follows ``customs.services.reference`` and means a caller cannot mistake a
  refused import for a done one.
- **Dry run.** ``dry_run=True`` checks and counts everything, then rolls back; the report says
  ``written=False, dry_run=True``. A dry run with rejected rows raises like a real one.
- **Progress.** ``progress(done, total)`` is called every ``PROGRESS_EVERY`` rows and once at the end.
"""

import csv
import io
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.utils.translation import gettext as _

PROGRESS_EVERY = 500
# One PostgreSQL advisory lock serialises tariff imports, so two imports never plan on the same rows.
TARIFF_IMPORT_LOCK_KEY = 7_351_101

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class RejectedRow:
    """A row that was not imported: its line in the file (1 = the header), its code and why."""

    line: int | None
    code: str
    reason: str
    file: str = ""

    def __str__(self):
        place = self.file
        if self.line is not None:
            place = (
                _("%(file)s, line %(line)d") % {"file": self.file, "line": self.line}
                if self.file
                else _("line %(line)d") % {"line": self.line}
            )
        code = f" [{self.code}]" if self.code else ""
        return f"{place}{code}: {self.reason}"


@dataclass
class ImportReport:
    """What an import did (or, for a dry run or a refused import, would have done).

    - ``created``: rows added (new lines, new versions of changed lines);
    - ``updated``: rows changed in place (a change on the day the row starts);
    - ``unchanged``: rows of the file already in the database as they are;
    - ``closed``: rows given an end date because a new version starts after them;
    - ``skipped``: rows deliberately not imported (documented per import, e.g. statistical codes);
    - ``details``: further counts of one import (lines per level, sections, declarable flags changed).
    """

    kind: str
    source: str = ""
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    closed: int = 0
    skipped: int = 0
    details: dict[str, int] = field(default_factory=dict)
    rejected: list[RejectedRow] = field(default_factory=list)
    written: bool = False
    dry_run: bool = False
    seconds: float = 0.0
    _started: float = field(default_factory=time.monotonic, repr=False, compare=False)

    def reject(self, line: int | None, code: str, reason: str) -> None:
        self.rejected.append(RejectedRow(line, code, reason, self.source))

    def stop_clock(self) -> None:
        self.seconds = round(time.monotonic() - self._started, 3)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.closed or self.details.get("declarable_changed"))

    def counts(self) -> dict[str, int]:
        """The counts, for the audit event and the command's summary."""
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "closed": self.closed,
            "skipped": self.skipped,
            "rejected": len(self.rejected),
            **self.details,
        }

    def summary(self) -> str:
        counts = (
            _(
                "%(created)d created, %(updated)d updated, %(unchanged)d unchanged, %(closed)d closed, "
                "%(skipped)d skipped, %(rejected)d rejected"
            )
            % self.counts()
        )
        if self.written:
            state = _("written") if self.changed else _("no change")
        elif self.dry_run and not self.rejected:
            state = _("dry run, nothing written")
        else:
            state = _("nothing written")
        return _("%(kind)s %(source)s: %(counts)s in %(seconds).2f s (%(state)s)") % {
            "kind": self.kind,
            "source": self.source,
            "counts": counts,
            "seconds": self.seconds,
            "state": state,
        }


class TariffImportRejected(Exception):
    """Rows were rejected; nothing was written. ``report`` lists them (``report.rejected``)."""

    def __init__(self, report: ImportReport):
        self.report = report
        super().__init__(
            _("%(count)d row(s) rejected; nothing was written.") % {"count": len(report.rejected)}
        )


def read_csv_rows(
    path: Path, required_columns: Iterable[str], report: ImportReport
) -> list[tuple[int, dict[str, str]]]:
    """Rows of a UTF-8 CSV file with a header, as (line number, {column: stripped text}).

    Blank rows are skipped. A missing or unreadable file, or a missing column, is one rejected "row"
    (line 1 for the header), so the import refuses the whole file.
    """
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        report.reject(None, "", _("the file is missing"))
        return []
    except (OSError, UnicodeDecodeError) as error:
        report.reject(None, "", _("the file cannot be read as UTF-8 text: %(error)s") % {"error": error})
        return []
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [column.strip() for column in reader.fieldnames or []]
    missing = [column for column in required_columns if column not in header]
    if missing:
        report.reject(1, "", _("missing column(s): %(columns)s") % {"columns": ", ".join(missing)})
        return []
    reader.fieldnames = header
    rows = []
    next_line = 2
    for row in reader:
        line, next_line = next_line, reader.line_num + 1
        cleaned = {key: (value or "").strip() for key, value in row.items() if key is not None}
        if any(cleaned.values()):
            rows.append((line, cleaned))
    return rows


def report_progress(progress: Progress | None, done: int, total: int) -> None:
    """Call ``progress`` every ``PROGRESS_EVERY`` rows and at the end."""
    if progress is not None and (done % PROGRESS_EVERY == 0 or done == total):
        progress(done, total)
