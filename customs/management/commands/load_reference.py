from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from customs.services.reference import LIST_NAMES, ReferenceDataRejected, ReferenceLoadResult, reference_load


class Command(BaseCommand):
    help = (
        "Load the reference code lists (countries, currencies, units, ...) from the shipped files, all or "
        "nothing. Exits non-zero, listing the rejected rows, if any row is rejected."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dir",
            dest="directory",
            type=Path,
            default=None,
            help="directory holding the files (default: settings.REFERENCE_DATA_DIR)",
        )
        parser.add_argument(
            "--only",
            default="",
            help="comma-separated lists to load, of: " + ", ".join(LIST_NAMES),
        )

    def handle(self, *args, directory, only, **options):
        wanted = [name.strip().replace("-", "_") for name in only.split(",") if name.strip()] or None
        unknown = sorted(set(wanted or []) - set(LIST_NAMES))
        if unknown:
            raise CommandError(
                _("Unknown list(s): %(unknown)s. Known lists: %(known)s.")
                % {"unknown": ", ".join(unknown), "known": ", ".join(LIST_NAMES)}
            )
        if directory is not None and not directory.is_dir():
            raise CommandError(_("%(directory)s is not a directory.") % {"directory": directory})
        try:
            results = reference_load(directory=directory, only=wanted)
        except ReferenceDataRejected as error:
            self._write_counts(error.results)
            self.stderr.write(_("Rejected rows:"))
            for row in error.rejected_rows:
                self.stderr.write(f"  {row}")
            raise CommandError(str(error)) from error
        self._write_counts(results)
        self.stdout.write(
            self.style.SUCCESS(
                _("Reference data loaded: %(created)d created, %(updated)d updated, %(unchanged)d unchanged.")
                % {
                    "created": sum(result.created for result in results.values()),
                    "updated": sum(result.updated for result in results.values()),
                    "unchanged": sum(result.unchanged for result in results.values()),
                }
            )
        )

    def _write_counts(self, results: dict[str, ReferenceLoadResult]) -> None:
        for name, result in results.items():
            self.stdout.write(
                _(
                    "%(list)s: %(created)d created, %(updated)d updated, %(unchanged)d unchanged, "
                    "%(rejected)d rejected"
                )
                % {
                    "list": name,
                    "created": result.created,
                    "updated": result.updated,
                    "unchanged": result.unchanged,
                    "rejected": len(result.rejected),
                }
            )
