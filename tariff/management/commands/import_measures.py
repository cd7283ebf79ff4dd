from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from tariff.management.commands.import_nomenclature import ProgressBar, raise_rejected, write_reports
from tariff.services import TariffImportRejected
from tariff.services.measures_import import measures_import


class Command(BaseCommand):
    help = (
        "Import measures (duties, excise, VAT, preferences, reliefs) from a CSV file, all or nothing. "
        "Exits with status 1, listing the rejected rows, if any row is rejected. The file format is in "
        "tariff/reference_data/FORMATS.md."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="the measures CSV")
        parser.add_argument("--dry-run", action="store_true", help="check and count, then write nothing")

    def handle(self, *args, file, dry_run, **options):
        if not file.is_file():
            raise CommandError(_("%(path)s is not a file.") % {"path": file})
        try:
            report = measures_import(
                path=file, dry_run=dry_run, progress=ProgressBar(self.stderr, "measures")
            )
        except TariffImportRejected as error:
            raise_rejected(self, error, [])
        write_reports(self, [report])
