"""Exchange rates: import from the ECB's eurofxref XML and CSV files, and the rate in force on a date.

ECB files quote each currency per euro. Kerwen stores rates in national currency per unit of foreign
currency, anchored by the national currency's peg (``EXCHANGE_RATE_PEG``, e.g. ``USD=3.5``: 1 USD =
3.5 TMT). So, for a currency X on a day: ``TMT per X = (3.5 * USD per EUR) / (X per EUR)``.
Rates are stored with 10 decimals (ROUND_HALF_UP); money computed with them is rounded by
``customs.money.round_money`` only.
"""

import csv
import datetime
import io
import urllib.request
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from lxml import etree

from customs.models import Currency, ExchangeRate

RATE_EXPONENT = Decimal("1e-10")
ECB_NAMESPACE = "http://www.ecb.int/vocabulary/2002-08-01/eurofxref"


class ExchangeRateError(Exception):
    """An exchange-rate file or lookup problem; the message is translated and names the cause."""


class ExchangeRateMissing(ExchangeRateError):
    """No rate is in force for the currency on the date."""


@dataclass
class RateImportResult:
    days: list[datetime.date] = field(default_factory=list)
    rates_written: int = 0
    unknown_currencies: set[str] = field(default_factory=set)


def _decimal(text: str, where: str) -> Decimal | None:
    text = (text or "").strip()
    if not text or text.upper() == "N/A":
        return None
    try:
        value = Decimal(text)
    except InvalidOperation as error:
        raise ExchangeRateError(
            _("Rate %(value)r at %(where)s is not a number.") % {"value": text, "where": where}
        ) from error
    if value <= 0:
        raise ExchangeRateError(
            _("Rate %(value)s at %(where)s is not positive.") % {"value": text, "where": where}
        )
    return value


def _parse_day(text: str) -> datetime.date:
    text = text.strip()
    for pattern in ("%Y-%m-%d", "%d %B %Y"):
        try:
            return datetime.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ExchangeRateError(
        _("%(value)r is not a date (expected 2024-01-31 or 31 January 2024).") % {"value": text}
    )


def parse_ecb_xml(content: bytes) -> dict[datetime.date, dict[str, Decimal]]:
    """Parse an ECB eurofxref XML file (daily or historical): {day: {currency: units per EUR}}."""
    try:
        root = etree.fromstring(content, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as error:
        raise ExchangeRateError(_("The file is not well-formed XML: %(error)s") % {"error": error}) from error
    days: dict[datetime.date, dict[str, Decimal]] = {}
    for day_cube in root.iter(f"{{{ECB_NAMESPACE}}}Cube"):
        if "time" not in day_cube.attrib:
            continue
        day = _parse_day(day_cube.get("time"))
        rates = days.setdefault(day, {})
        for rate_cube in day_cube:
            code = (rate_cube.get("currency") or "").strip().upper()
            value = _decimal(rate_cube.get("rate"), f"{day} {code}")
            if code and value is not None:
                rates[code] = value
    if not days:
        raise ExchangeRateError(_("The XML holds no ECB rates (no Cube element with a time)."))
    return days


def parse_ecb_csv(content: bytes) -> dict[datetime.date, dict[str, Decimal]]:
    """Parse an ECB eurofxref CSV file: a ``Date`` column, then one column per currency."""
    text = content.decode("utf-8-sig")
    rows = [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]
    if not rows or rows[0][0].strip().lower() != "date":
        raise ExchangeRateError(_("The CSV must start with a header row whose first column is Date."))
    header = [cell.strip().upper() for cell in rows[0]]
    days: dict[datetime.date, dict[str, Decimal]] = {}
    for line_number, row in enumerate(rows[1:], start=2):
        day = _parse_day(row[0])
        rates = days.setdefault(day, {})
        for code, cell in zip(header[1:], row[1:], strict=False):
            if not code:
                continue
            value = _decimal(cell, _("line %(line)s, %(code)s") % {"line": line_number, "code": code})
            if value is not None:
                rates[code] = value
    return days


def parse_ecb(content: bytes) -> dict[datetime.date, dict[str, Decimal]]:
    """Parse ECB rates from XML or CSV, told apart by the first character."""
    return parse_ecb_xml(content) if content.lstrip().startswith(b"<") else parse_ecb_csv(content)


def _peg() -> tuple[str, Decimal]:
    code, _sep, value = settings.EXCHANGE_RATE_PEG.partition("=")
    return code.strip().upper(), Decimal(value.strip())


def national_rates(per_euro: dict[str, Decimal]) -> dict[str, Decimal]:
    """Convert one day's rates per euro into national currency per unit of each currency."""
    national = settings.NATIONAL_CURRENCY
    peg_code, peg_value = _peg()
    per_euro = {**per_euro, "EUR": Decimal(1)}
    if peg_code not in per_euro:
        raise ExchangeRateError(
            _("The file has no rate for %(code)s, the currency the national currency is pegged to.")
            % {"code": peg_code}
        )
    national_per_euro = peg_value * per_euro[peg_code]
    rates = {
        code: (national_per_euro / units).quantize(RATE_EXPONENT, rounding=ROUND_HALF_UP)
        for code, units in per_euro.items()
        if code != national
    }
    rates[peg_code] = peg_value.quantize(RATE_EXPONENT)
    return rates


def exchange_rates_import(*, content: bytes, source: str) -> RateImportResult:
    """Import every day of an ECB file, all or nothing. Re-importing a day updates it (upsert)."""
    parsed = parse_ecb(content)
    known = {code: pk for code, pk in Currency.objects.values_list("code", "pk")}
    result = RateImportResult()
    with transaction.atomic():
        for day in sorted(parsed):
            for code, rate in national_rates(parsed[day]).items():
                if code not in known:
                    result.unknown_currencies.add(code)
                    continue
                ExchangeRate.objects.update_or_create(
                    currency_id=known[code], valid_from=day, defaults={"rate": rate, "source": source[:255]}
                )
                result.rates_written += 1
            result.days.append(day)
    return result


def exchange_rates_import_from(location: str, *, timeout: int = 30) -> RateImportResult:
    """Import from a file path or an http(s) URL."""
    if location.startswith(("http://", "https://")):
        with urllib.request.urlopen(location, timeout=timeout) as response:  # noqa: S310 - configured URL
            content = response.read()
    else:
        with open(location, "rb") as handle:
            content = handle.read()
    return exchange_rates_import(content=content, source=location)


@dataclass(frozen=True)
class RateInForce:
    currency: str
    rate: Decimal
    valid_from: datetime.date


def exchange_rate_on(currency_code: str, day: datetime.date) -> RateInForce:
    """The rate of ``currency_code`` in national currency in force on ``day``.

    The national currency is 1. Otherwise the latest rate published on or before ``day``, if it is no
    older than ``EXCHANGE_RATE_MAX_AGE_DAYS`` (weekends and holidays carry the last rate over).
    Raises ExchangeRateMissing, with a message naming the currency and date, when there is none.
    """
    code = currency_code.upper()
    if code == settings.NATIONAL_CURRENCY:
        return RateInForce(code, Decimal(1), day)
    earliest = day - datetime.timedelta(days=settings.EXCHANGE_RATE_MAX_AGE_DAYS)
    found = (
        ExchangeRate.objects.filter(currency__code=code, valid_from__lte=day, valid_from__gte=earliest)
        .order_by("-valid_from")
        .values_list("rate", "valid_from")
        .first()
    )
    if found is None:
        raise ExchangeRateMissing(
            _("No exchange rate for %(currency)s is in force on %(date)s.")
            % {"currency": code, "date": day.isoformat()}
        )
    return RateInForce(code, found[0], found[1])
