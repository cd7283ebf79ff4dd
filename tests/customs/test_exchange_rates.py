"""Exchange-rate import from the real ECB files, and the rate in force on a date."""

import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from customs.models import ExchangeRate
from customs.services.exchange_rates import (
    ExchangeRateError,
    ExchangeRateMissing,
    exchange_rate_on,
    exchange_rates_import,
    exchange_rates_import_from,
)
from tests.customs.factories import CurrencyFactory

ECB_DIR = Path(settings.BASE_DIR) / "customs" / "reference_data" / "demo"
DAILY_2017 = ECB_DIR / "ecb_eurofxref-daily_2017-03-08.xml"
HIST_90D = ECB_DIR / "ecb_eurofxref-hist-90d_2019-12-17_2020-01-28.xml"

pytestmark = pytest.mark.django_db


@pytest.fixture
def currencies():
    for code, minor in (("USD", 2), ("EUR", 2), ("JPY", 0), ("GBP", 2), ("RUB", 2), ("TMT", 2)):
        CurrencyFactory(code=code, name_en=code, minor_unit=minor)


def test_daily_xml_converts_euro_rates_to_national_currency_through_the_usd_peg(currencies):
    result = exchange_rates_import_from(str(DAILY_2017))

    assert result.days == [datetime.date(2017, 3, 8)]
    assert result.rates_written == 5  # USD EUR JPY GBP RUB; TMT is the national currency itself
    assert "CHF" in result.unknown_currencies
    rates = dict(ExchangeRate.objects.values_list("currency__code", "rate"))
    # 1 USD = 3.5 TMT (the peg); 1 EUR = 3.5 * 1.0556 USD = 3.6946 TMT; 1 JPY = 3.6946 / 120.65 TMT.
    assert rates["USD"] == Decimal("3.5000000000")
    assert rates["EUR"] == Decimal("3.6946000000")
    assert rates["JPY"] == Decimal("0.0306224617")
    assert rates["GBP"] == Decimal("4.2587576222")  # 3.6946 / 0.86753
    assert "TMT" not in rates


def test_historical_xml_imports_every_day_and_reimport_changes_nothing(currencies):
    first = exchange_rates_import_from(str(HIST_90D))
    count = ExchangeRate.objects.count()
    second = exchange_rates_import_from(str(HIST_90D))

    assert len(first.days) == 28
    assert first.days[0] == datetime.date(2019, 12, 17)
    assert first.days[-1] == datetime.date(2020, 1, 28)
    assert count == 28 * 5
    assert ExchangeRate.objects.count() == count
    assert second.rates_written == first.rates_written


def test_rate_in_force_carries_friday_over_the_weekend(currencies):
    exchange_rates_import_from(str(HIST_90D))

    saturday = exchange_rate_on("EUR", datetime.date(2020, 1, 25))
    monday = exchange_rate_on("eur", datetime.date(2020, 1, 27))

    assert saturday.valid_from == datetime.date(2020, 1, 24)
    assert saturday.rate == Decimal("3.8622500000")  # 3.5 * 1.1035
    assert monday.valid_from == datetime.date(2020, 1, 27)
    assert monday.rate == Decimal("3.8587500000")  # 3.5 * 1.1025


def test_missing_rate_fails_clearly(currencies):
    exchange_rates_import_from(str(HIST_90D))

    with pytest.raises(ExchangeRateMissing) as before_first:
        exchange_rate_on("USD", datetime.date(2019, 12, 1))
    with pytest.raises(ExchangeRateMissing) as too_old:
        exchange_rate_on("USD", datetime.date(2020, 2, 10))
    with pytest.raises(ExchangeRateMissing) as unknown:
        exchange_rate_on("XYZ", datetime.date(2020, 1, 20))

    assert str(before_first.value) == "No exchange rate for USD is in force on 2019-12-01."
    assert str(too_old.value) == "No exchange rate for USD is in force on 2020-02-10."
    assert str(unknown.value) == "No exchange rate for XYZ is in force on 2020-01-20."


def test_national_currency_is_one_without_any_rate(currencies):
    found = exchange_rate_on("TMT", datetime.date(2030, 1, 1))

    assert found.rate == Decimal(1)


def test_ecb_daily_csv_format(currencies):
    content = b"Date, USD, JPY, GBP, \n08 March 2017, 1.0556, 120.65, 0.86753, \n"

    result = exchange_rates_import(content=content, source="eurofxref.csv")

    assert result.days == [datetime.date(2017, 3, 8)]
    assert exchange_rate_on("JPY", datetime.date(2017, 3, 8)).rate == Decimal("0.0306224617")


def test_ecb_historical_csv_format_skips_not_available(currencies):
    content = b"Date,USD,JPY,RUB,\n2020-01-28,1.1005,120.02,N/A,\n2020-01-27,1.1025,120.11,68.9,\n"

    result = exchange_rates_import(content=content, source="eurofxref-hist.csv")

    assert sorted(result.days) == [datetime.date(2020, 1, 27), datetime.date(2020, 1, 28)]
    assert exchange_rate_on("RUB", datetime.date(2020, 1, 28)).valid_from == datetime.date(2020, 1, 27)


def test_a_bad_value_rejects_the_whole_file(currencies):
    content = b"Date,USD,JPY\n2020-01-28,1.1005,120.02\n2020-01-27,1.1025,abc\n"

    with pytest.raises(ExchangeRateError) as error:
        exchange_rates_import(content=content, source="bad.csv")

    assert str(error.value) == "Rate 'abc' at line 3, JPY is not a number."
    assert ExchangeRate.objects.count() == 0


def test_a_file_without_the_peg_currency_is_refused(currencies):
    content = b"Date,JPY\n2020-01-28,120.02\n"

    with pytest.raises(ExchangeRateError) as error:
        exchange_rates_import(content=content, source="no-usd.csv")

    assert "USD" in str(error.value)
    assert ExchangeRate.objects.count() == 0


def test_command_reports_what_it_imported(currencies, capsys):
    call_command("import_exchange_rates", str(DAILY_2017))

    output = capsys.readouterr().out
    assert "Imported 5 rates for 1 day(s), 2017-03-08 to 2017-03-08." in output
    assert "Skipped currencies not in the currency list: AUD, BGN" in output


def test_command_fails_on_a_missing_file(currencies, tmp_path):
    with pytest.raises(CommandError) as error:
        call_command("import_exchange_rates", str(tmp_path / "none.xml"))

    assert "none.xml" in str(error.value)
    assert ExchangeRate.objects.count() == 0
