import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from tariff.services import ImportReport, TariffImportRejected
from tariff.services.nomenclature import (
    NATIONAL_LINES_FILE,
    national_lines_make_from_ukgt,
    nomenclature_import,
)

# HS 2022 entered into force on 1 January 2022.
DEFAULT_VALID_FROM = datetime.date(2022, 1, 1)
BAR_WIDTH = 30


class ProgressBar:
    """A text progress bar on a stream: ``label [#####.........] 52% 6100/11800``.

    On a terminal it redraws one line; elsewhere (a log) it writes one line per update.
    """

    def __init__(self, stream, label: str):
        self.stream = stream
        self.label = label
        self.redraw = hasattr(stream, "isatty") and stream.isatty()

    def __call__(self, done: int, total: int) -> None:
        filled = BAR_WIDTH * done // total if total else BAR_WIDTH
        percent = 100 * done // total if total else 100
        bar = f"{self.label} [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {percent:3d}% {done}/{total}"
        if self.redraw:
            self.stream.write("\r" + bar, ending="\n" if done >= total else "")
            self.stream.flush()
        else:
            self.stream.write(bar)


def write_reports(command: BaseCommand, reports: list[ImportReport]) -> None:
    """Each report's summary and its further counts, on stdout."""
    for report in reports:
        command.stdout.write(report.summary())
        if report.details:
            command.stdout.write(
                "  " + ", ".join(f"{name}: {count}" for name, count in sorted(report.details.items()))
            )


def raise_rejected(command: BaseCommand, error: TariffImportRejected, done: list[ImportReport]) -> None:
    """Print the reports and the rejected rows, then fail (exit status 1)."""
    write_reports(command, [*done, error.report])
    command.stderr.write(_("Rejected rows:"))
    for row in error.report.rejected:
        command.stderr.write(f"  {row}")
    raise CommandError(str(error)) from error


class Command(BaseCommand):
    help = (
        "Import the nomenclature: the Harmonized System (sections, chapters, headings, subheadings) "
        "then the national lines, in one transaction, all or nothing. Exits with status 1, listing the "
        "rejected rows, if any row is rejected. The file formats are in tariff/reference_data/FORMATS.md."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--hs-dir",
            type=Path,
            default=None,
            help="directory with sections.csv and harmonized-system.csv (default: the shipped HS 2022)",
        )
        parser.add_argument(
            "--national",
            type=Path,
            default=None,
            help=f"national lines CSV (default: the shipped demo lines, {NATIONAL_LINES_FILE.name})",
        )
        parser.add_argument(
            "--only",
            choices=["hs", "national"],
            default=None,
            help="import only the HS or only the national lines (default: both)",
        )
        parser.add_argument(
            "--valid-from",
            type=datetime.date.fromisoformat,
            default=DEFAULT_VALID_FROM,
            help=f"first day the imported lines are in force, YYYY-MM-DD (default: {DEFAULT_VALID_FROM})",
        )
        parser.add_argument("--dry-run", action="store_true", help="check and count, then write nothing")
        parser.add_argument(
            "--make-national-lines-from",
            type=Path,
            default=None,
            metavar="UKGT_CSV",
            help=(
                "instead of importing, write the demo national lines (to --national or the shipped file) "
                "from the UK Global Tariff 2021 CSV (ukgt_2021_vs_eu_cet.csv)"
            ),
        )

    def handle(self, *args, hs_dir, national, only, valid_from, dry_run, make_national_lines_from, **options):
        if make_national_lines_from is not None:
            if not make_national_lines_from.is_file():
                raise CommandError(_("%(path)s is not a file.") % {"path": make_national_lines_from})
            counts = national_lines_make_from_ukgt(
                source=make_national_lines_from, target=national, hs_directory=hs_dir
            )
            self.stdout.write(", ".join(f"{name}: {count}" for name, count in counts.items()))
            return
        if hs_dir is not None and not hs_dir.is_dir():
            raise CommandError(_("%(path)s is not a directory.") % {"path": hs_dir})
        if national is not None and not national.is_file():
            raise CommandError(_("%(path)s is not a file.") % {"path": national})
        try:
            reports = nomenclature_import(
                hs_directory=hs_dir,
                national_path=national,
                import_hs=only in (None, "hs"),
                import_national=only in (None, "national"),
                valid_from=valid_from,
                dry_run=dry_run,
                progress_for=lambda kind: ProgressBar(self.stderr, kind),
            )
        except TariffImportRejected as error:
            raise_rejected(self, error, [])
        write_reports(self, reports)
