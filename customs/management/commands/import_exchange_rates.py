from django.core.management.base import BaseCommand, CommandError

from customs.services.exchange_rates import ExchangeRateError, exchange_rates_import_from


class Command(BaseCommand):
    help = "Import exchange rates from an ECB eurofxref XML or CSV file or URL (all or nothing)."

    def add_arguments(self, parser):
        parser.add_argument("location", help="a file path or an http(s) URL")

    def handle(self, *args, location, **options):
        try:
            result = exchange_rates_import_from(location)
        except (ExchangeRateError, OSError) as error:
            raise CommandError(f"{location}: {error}") from error
        first, last = min(result.days), max(result.days)
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {result.rates_written} rates for {len(result.days)} day(s), {first} to {last}."
            )
        )
        if result.unknown_currencies:
            self.stdout.write(
                "Skipped currencies not in the currency list: " + ", ".join(sorted(result.unknown_currencies))
            )
