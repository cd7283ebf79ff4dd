import csv
from collections import Counter
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tariff.expressions import DutyExpressionError, parse_duty_expression

SHIPPED_CSV = Path(__file__).resolve().parents[2] / "reference_data" / "ukgt_2021_vs_eu_cet.csv"
COLUMNS = {"ukgt": ["ukgt_duty_rate"], "cet": ["cet_duty_rate"], "both": ["ukgt_duty_rate", "cet_duty_rate"]}


class Command(BaseCommand):
    help = (
        "Parse every duty expression of a UK Global Tariff CSV (default: the shipped demo rates) and report "
        "how many rows parse, and why the others are rejected (grouped, with counts and one example)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--file", default=str(SHIPPED_CSV), help="CSV with a header row (default: %(default)s)"
        )
        parser.add_argument("--column", choices=sorted(COLUMNS), default="both", help="default: both")

    def handle(self, *args, **options):
        path = Path(options["file"])
        try:
            with path.open(encoding="utf-8-sig", newline="") as file:
                reader = csv.DictReader(file)
                missing = [
                    name for name in COLUMNS[options["column"]] if name not in (reader.fieldnames or [])
                ]
                if missing:
                    raise CommandError(f"{path}: no column {', '.join(missing)}")
                rows = list(reader)
        except OSError as error:
            raise CommandError(f"cannot read {path}: {error}") from error
        for column in COLUMNS[options["column"]]:
            parsed = 0
            reasons: Counter[str] = Counter()
            examples: dict[str, str] = {}
            for row in rows:
                text = row[column] or ""
                try:
                    parse_duty_expression(text)
                except DutyExpressionError as error:
                    key = f"[{error.kind}] {error.reason}"
                    reasons[key] += 1
                    examples.setdefault(key, text)
                else:
                    parsed += 1
            self.stdout.write(f"{column}: {parsed} parsed, {reasons.total()} rejected")
            for reason, count in sorted(reasons.items(), key=lambda item: (-item[1], item[0])):
                self.stdout.write(f"  {count:>6}  {reason}")
                self.stdout.write(f"          e.g. {examples[reason]!r}")
