"""Load N realistic declarations fast, for the finder's benchmark at a million rows.

``manage.py declarations_generate --count 1000000``. The rows are made by PostgreSQL itself
(``INSERT ... SELECT FROM generate_series``), one batch per transaction, so a million take minutes, not
hours. They are spread over the active offices, the traders (demo traders plus ``--traders`` generated
ones, a few big and many small), declarant brokers, declaration types, statuses, lanes and dates over
the past year; ``--items-fraction`` of them get 1-5 items each.

Registration and assessment numbers continue the office's series: each batch locks its
``DocumentSequence`` rows (as ``number_next`` does), numbers its registered declarations in date order
from there, and moves ``last_number`` to the last number given, all in the batch's transaction. A real
registration made afterwards, or at the same time, takes the next number without collision.

Not written, on purpose: status-change history, tax lines and audit events (a generated declaration was
never assessed by the engine, and a forged audit trail would be a lie). Data for benchmarks only.
"""

import datetime
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from customs.models import Broker, Country, CustomsOffice, DocumentSequence, Trader, User
from declarations.choices import ASSESSMENT_SERIES, REGISTRATION_SERIES, Status
from tariff.models import CommodityCode

# (share, status, registered, status before, paid, released, closed): the mix of a year's declarations.
STATUS_MIX = [
    (0.04, Status.STORED, False, "", False, False, False),
    (0.02, Status.LODGED, False, "", False, False, False),
    (0.01, Status.REJECTED, False, "", False, False, True),
    (0.01, Status.CANCELLED, False, "", False, False, True),  # withdrawn before registration
    (0.01, Status.REGISTERED, True, "", False, False, False),
    (0.06, Status.ASSESSED, True, "", False, False, False),
    (0.02, Status.QUERIED, True, Status.ASSESSED, False, False, False),
    (0.01, Status.AMENDMENT_REQUESTED, True, Status.ASSESSED, False, False, False),
    (0.005, Status.CANCELLATION_REQUESTED, True, Status.PAID, True, False, False),
    (0.03, Status.PAID, True, "", True, False, False),
    (0.015, Status.CANCELLED, True, "", False, False, True),  # cancelled by an officer after registration
    (None, Status.RELEASED, True, "", True, True, False),  # the rest
]
# (share, type): most declarations are imports for home use.
TYPE_MIX = [(0.70, "IM4"), (0.20, "EX1"), (0.05, "IM5"), (0.03, "IM7"), (None, "EX3")]
# (share, lane) of registered declarations.
LANE_MIX = [(0.60, "green"), (0.25, "yellow"), (0.10, "red"), (None, "blue")]
PARTNER_COUNTRIES = ["CN", "TR", "RU", "DE", "IR", "AE", "KZ", "UZ", "IT", "US", "IN", "KR", "JP", "FR"]
CURRENCIES = ["USD", "USD", "USD", "EUR", "EUR", "CNY", "RUB", "TRY"]
INCOTERMS = ["FOB", "CIF", "EXW", "DAP", "CPT", "FCA", "CFR"]
TRANSPORT_MODES = ["3", "3", "3", "2", "1", "4"]
GENERATED_TRADER_PREFIX = "9"  # generated taxpayer IDs: 9 and 11 digits, never a real one


def _cases(mix, column: str) -> str:
    """A CASE over ``column`` (uniform in [0, 1), drawn once per row) giving each value of ``mix`` its
    share; a value is an SQL literal (a string is quoted)."""
    parts, edge = [], 0.0
    for share, value, *_rest in mix:
        literal = f"'{value}'" if isinstance(value, str) else str(value)
        if share is None:
            parts.append(f"ELSE {literal}")
        else:
            edge += share
            parts.append(f"WHEN {column} < {edge:.4f} THEN {literal}")
    return "CASE " + " ".join(parts) + " END"


def _status_rows() -> str:
    """The status mix as SQL VALUES, keyed by position (a status may come twice, by two paths)."""
    return ", ".join(
        f"({position}, '{status}', {str(registered).lower()}, '{before}', {str(paid).lower()}, "
        f"{str(released).lower()}, {str(closed).lower()})"
        for position, (_share, status, registered, before, paid, released, closed) in enumerate(STATUS_MIX)
    )


# One batch: the declarations g = %(first)s .. %(last)s of this run, their items, and per office and
# year the last registration number given (to move the sequences). Ids are taken from the table's own
# identity sequence so that the items can refer to them in the same statement.
BATCH_SQL = """
WITH src AS (
    SELECT g,
           nextval(pg_get_serial_sequence('declarations_declaration', 'id')) AS id,
           (%(offices)s::bigint[])[1 + floor(random() * cardinality(%(offices)s::bigint[]))::int]
               AS office_id,
           (%(traders)s::bigint[])[
               1 + floor(power(random(), 2) * cardinality(%(traders)s::bigint[]))::int] AS trader_id,
           random() < %(broker_share)s AS via_broker,
           (%(brokers)s::bigint[])[1 + floor(random() * cardinality(%(brokers)s::bigint[]))::int]
               AS any_broker_id,
           random() AS status_draw,
           random() AS type_draw,
           random() AS lane_draw,
           %(start)s::timestamptz + (g - 1) * %(step)s::interval + random() * %(step)s::interval
               AS created_at,
           (%(countries)s::text[])[1 + floor(random() * cardinality(%(countries)s::text[]))::int] AS partner,
           (%(currencies)s::text[])[1 + floor(random() * cardinality(%(currencies)s::text[]))::int]
               AS currency,
           (%(incoterms)s::text[])[1 + floor(random() * cardinality(%(incoterms)s::text[]))::int]
               AS incoterm,
           (%(modes)s::text[])[1 + floor(random() * cardinality(%(modes)s::text[]))::int] AS transport_mode,
           round((200 + power(random(), 3) * 250000)::numeric, 2) AS invoice_amount,
           CASE WHEN random() < %(items_fraction)s THEN 1 + floor(random() * 5)::int ELSE 0 END
               AS item_count,
           interval '5 minutes' + random() * interval '10 hours' AS lodge_lag,
           interval '1 hour' + random() * interval '23 hours' AS pay_lag,
           random() * interval '6 hours' AS release_lag
    FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g
),
drawn AS (
    SELECT src.*, {status_case} AS status_path, {type_case} AS declaration_type, {lane_case} AS lane
    FROM src
),
timed AS (
    SELECT drawn.*, mix.status, mix.registered, mix.status_before, mix.paid, mix.released, mix.closed,
           CASE WHEN mix.status <> 'stored' THEN drawn.created_at + drawn.lodge_lag END AS lodged_at,
           CASE WHEN mix.registered THEN drawn.created_at + drawn.lodge_lag + interval '2 seconds' END
               AS registered_at
    FROM drawn
    JOIN (VALUES {status_rows}) AS mix(path, status, registered, status_before, paid, released, closed)
      ON mix.path = drawn.status_path
),
dated AS (
    SELECT timed.*,
           CASE WHEN registered THEN
               extract(year FROM registered_at AT TIME ZONE %(time_zone)s)::int END AS registration_year,
           CASE WHEN paid THEN registered_at + pay_lag END AS paid_at,
           CASE WHEN released THEN registered_at + pay_lag + release_lag END AS released_at,
           CASE WHEN closed THEN coalesce(lodged_at, created_at) + interval '3 hours' END AS closed_at
    FROM timed
),
numbered AS (
    SELECT dated.*,
           CASE WHEN registered THEN
               row_number() OVER (PARTITION BY office_id, registration_year, registered ORDER BY g) END
               AS rank_in_series
    FROM dated
),
ready AS (
    SELECT numbered.*, base.registration_base, base.assessment_base
    FROM numbered
    LEFT JOIN unnest(%(base_offices)s::bigint[], %(base_years)s::int[], %(base_registrations)s::int[],
                     %(base_assessments)s::int[])
              AS base(office_id, year, registration_base, assessment_base)
           ON base.office_id = numbered.office_id AND base.year = numbered.registration_year
),
declarations AS (
    INSERT INTO declarations_declaration (
        id, declaration_type, direction, office_id, trader_id, broker_id, created_by_id, lrn,
        counterparty_name, counterparty_address, counterparty_country_id, dispatch_country_id,
        destination_country_id, incoterm_id, delivery_place, transport_mode_id, transport_identity,
        goods_location, invoice_amount, invoice_currency_id, freight_amount, freight_currency,
        freight_split, total_packages, status, status_before, lane, version,
        registration_year, registration_series, registration_number, assessment_number, reference_date,
        exchange_rates, customs_value, total_taxes, assessment_warnings,
        created_at, updated_at, lodged_at, registered_at, assessed_at, paid_at, released_at, closed_at)
    SELECT id, declaration_type, left(declaration_type, 2), office_id, trader_id,
           CASE WHEN via_broker THEN any_broker_id END,
           CASE WHEN via_broker THEN %(broker_user)s::bigint ELSE %(trader_user)s::bigint END,
           %(lrn_prefix)s || g,
           'Partner company ' || (g %% 5000), 'Street ' || (g %% 97) || ', city', partner,
           CASE WHEN declaration_type LIKE 'IM%%' THEN partner END,
           CASE WHEN declaration_type LIKE 'EX%%' THEN partner END,
           incoterm, 'Ashgabat', transport_mode, 'AG ' || (1000 + g %% 9000), '',
           invoice_amount, currency, round(invoice_amount * 0.04, 2), currency,
           'price', greatest(item_count, 1) * 3,
           status, status_before, CASE WHEN registered THEN lane ELSE '' END,
           CASE WHEN status = 'stored' THEN 1 ELSE 3 END,
           registration_year, CASE WHEN registered THEN %(registration_series)s ELSE '' END,
           CASE WHEN registered THEN registration_base + rank_in_series END,
           CASE WHEN registered THEN assessment_base + rank_in_series END,
           CASE WHEN registered THEN (registered_at AT TIME ZONE %(time_zone)s)::date END,
           CASE WHEN registered THEN jsonb_build_object(currency, '3.5000000000') ELSE '{{}}'::jsonb END,
           CASE WHEN registered THEN round(invoice_amount * 3.64, 2) END,
           CASE WHEN registered THEN round(invoice_amount * 3.64 * 0.22, 2) END,
           '[]'::jsonb,
           created_at, coalesce(released_at, closed_at, paid_at, registered_at, lodged_at, created_at),
           lodged_at, registered_at, registered_at, paid_at, released_at, closed_at
    FROM ready
    RETURNING office_id, registration_year, registration_number, assessment_number
),
items AS (
    INSERT INTO declarations_declarationitem (
        declaration_id, number, commodity_code, description, origin_id, preference_requested,
        procedure_code_id, packages_number, package_kind_id, marks, gross_mass, net_mass, quantities,
        invoice_price, valuation_method, valuation_justification, customs_value, valuation_steps)
    SELECT ready.id, item.number,
           (%(codes)s::text[])[1 + floor(random() * cardinality(%(codes)s::text[]))::int],
           'Goods of line ' || item.number, ready.partner, false,
           CASE WHEN ready.declaration_type LIKE 'IM%%' THEN %(import_procedure)s
                ELSE %(export_procedure)s END,
           3, %(package_kind)s, 'No marks', 120 * item.number, 100 * item.number, '{{}}'::jsonb,
           round(ready.invoice_amount / ready.item_count, 2), '1', '',
           CASE WHEN ready.registered THEN round(ready.invoice_amount / ready.item_count * 3.64, 2) END,
           '[]'::jsonb
    FROM ready CROSS JOIN LATERAL generate_series(1, ready.item_count) AS item(number)
    WHERE ready.item_count > 0
    RETURNING 1
)
SELECT office_id, registration_year, max(registration_number), max(assessment_number),
       (SELECT count(*) FROM items)
FROM declarations
WHERE registration_number IS NOT NULL
GROUP BY office_id, registration_year
""".format(
    status_case=_cases(
        [(share, position) for position, (share, *_rest) in enumerate(STATUS_MIX)], "status_draw"
    ),
    type_case=_cases(TYPE_MIX, "type_draw"),
    lane_case=_cases(LANE_MIX, "lane_draw"),
    status_rows=_status_rows(),
)


class Command(BaseCommand):
    help = "Load N generated declarations (for benchmarks), numbered on from each office's series."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=1000, help="declarations to add (default 1000)")
        parser.add_argument("--batch-size", type=int, default=50_000, help="declarations per transaction")
        parser.add_argument("--traders", type=int, default=300, help="generated traders to spread over")
        parser.add_argument("--items-fraction", type=float, default=0.2, help="share with 1-5 items")
        parser.add_argument("--broker-share", type=float, default=0.4, help="share lodged by a broker")
        parser.add_argument("--days", type=int, default=365, help="spread over the past N days")

    def handle(self, *args, count, batch_size, traders, items_fraction, broker_share, days, **options):
        if count < 1 or batch_size < 1:
            raise CommandError("--count and --batch-size must be positive.")
        references = self._references(traders)
        now = timezone.now()
        # Created over [now - days, now - 2 days]: every later step (lodged, paid, released) is in the past.
        start = now - datetime.timedelta(days=days)
        step = (datetime.timedelta(days=days) - datetime.timedelta(days=2)) / count
        lrn_prefix = f"GEN{int(time.time() * 1000):x}-"
        started = time.monotonic()
        items_total = 0
        for first in range(1, count + 1, batch_size):
            last = min(count, first + batch_size - 1)
            items_total += self._batch(
                references,
                first=first,
                last=last,
                start=start,
                step=step,
                lrn_prefix=lrn_prefix,
                items_fraction=items_fraction,
                broker_share=broker_share,
            )
            elapsed = time.monotonic() - started
            self.stdout.write(
                f"  {last:>10,} / {count:,} declarations, {items_total:,} items "
                f"({elapsed:.0f} s, {last / elapsed:,.0f} declarations/s)"
            )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE declarations_declaration")
            cursor.execute("ANALYZE declarations_declarationitem")
        self.stdout.write(
            self.style.SUCCESS(
                f"{count:,} declarations and {items_total:,} items loaded "
                f"in {time.monotonic() - started:.0f} s."
            )
        )

    def _references(self, generated_traders: int) -> dict:
        offices = list(CustomsOffice.objects.filter(active=True).order_by("code").values_list("pk", "code"))
        if not offices:
            raise CommandError("No active customs office: run `manage.py load_demo` first.")
        trader_user = User.objects.filter(trader__isnull=False).order_by("pk").first()
        broker_user = User.objects.filter(broker__isnull=False).order_by("pk").first()
        if trader_user is None:
            raise CommandError("No trader user to create the declarations: run `manage.py load_demo` first.")
        home = Country.objects.filter(code="TM").first() or Country.objects.order_by("code").first()
        existing = set(
            Trader.objects.filter(taxpayer_id__startswith=GENERATED_TRADER_PREFIX).values_list(
                "taxpayer_id", flat=True
            )
        )
        Trader.objects.bulk_create(
            [
                Trader(
                    taxpayer_id=taxpayer_id,
                    name=f"Generated Trader {index:04d} HJ",
                    address="Aşgabat",
                    country=home,
                )
                for index in range(1, generated_traders + 1)
                if (taxpayer_id := f"{GENERATED_TRADER_PREFIX}{index:011d}") not in existing
            ]
        )
        # Demo traders first: the power-law pick gives the first traders the most declarations.
        demo = list(
            Trader.objects.filter(active=True)
            .exclude(taxpayer_id__startswith=GENERATED_TRADER_PREFIX)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        generated = list(
            Trader.objects.filter(active=True, taxpayer_id__startswith=GENERATED_TRADER_PREFIX)
            .order_by("taxpayer_id")
            .values_list("pk", flat=True)[:generated_traders]
        )
        brokers = list(Broker.objects.order_by("pk").values_list("pk", flat=True))
        codes = list(
            CommodityCode.objects.filter(declarable=True, level=10).values_list("code", flat=True)[:20000]
        )

        def existing_codes(model_path: str, wanted: list[str]) -> list[str]:
            from django.apps import apps

            model = apps.get_model(model_path)
            known = set(model.objects.filter(code__in=wanted).values_list("code", flat=True))
            return [code for code in wanted if code in known] or [None]

        return {
            "offices": [pk for pk, _code in offices],
            "office_codes": dict(offices),
            "traders": demo + generated,
            "brokers": brokers or [None],
            "broker_user": broker_user.pk if broker_user else trader_user.pk,
            "trader_user": trader_user.pk,
            "codes": codes or [""],
            "countries": existing_codes("customs.Country", PARTNER_COUNTRIES),
            "currencies": existing_codes("customs.Currency", CURRENCIES),
            "incoterms": existing_codes("customs.Incoterm", INCOTERMS),
            "modes": existing_codes("customs.TransportMode", TRANSPORT_MODES),
            "import_procedure": existing_codes("customs.ProcedureCode", ["4000"])[0],
            "export_procedure": existing_codes("customs.ProcedureCode", ["1000"])[0],
            "package_kind": existing_codes("customs.PackageKind", ["CT", "PK", "PX"])[0],
        }

    def _batch(
        self, references, *, first, last, start, step, lrn_prefix, items_fraction, broker_share
    ) -> int:
        """Insert declarations ``first..last`` of this run in one transaction; the number of items."""
        batch_start = start + (first - 1) * step
        batch_end = start + last * step + datetime.timedelta(days=2)  # the latest registration of the batch
        years = sorted({timezone.localtime(batch_start).year, timezone.localtime(batch_end).year})
        with transaction.atomic():
            bases = self._lock_series(references, years)
            with connection.cursor() as cursor:
                cursor.execute(
                    BATCH_SQL,
                    {
                        **{key: value for key, value in references.items() if key != "office_codes"},
                        "first": first,
                        "last": last,
                        "start": start,
                        "step": step,
                        "lrn_prefix": lrn_prefix,
                        "items_fraction": items_fraction,
                        "broker_share": broker_share if references["brokers"] != [None] else 0,
                        "time_zone": settings.TIME_ZONE,
                        "registration_series": REGISTRATION_SERIES,
                        "base_offices": [office for office, _year in bases],
                        "base_years": [year for _office, year in bases],
                        "base_registrations": [registration for registration, _a in bases.values()],
                        "base_assessments": [assessment for _r, assessment in bases.values()],
                    },
                )
                rows = cursor.fetchall()
            items = 0
            for office_id, year, last_registration, last_assessment, item_count in rows:
                office_code = references["office_codes"][office_id]
                for series, last_number in (
                    (REGISTRATION_SERIES, last_registration),
                    (ASSESSMENT_SERIES, last_assessment),
                ):
                    DocumentSequence.objects.filter(office_code=office_code, year=year, series=series).update(
                        last_number=last_number
                    )
                items = item_count
        return items

    def _lock_series(self, references, years) -> dict[tuple[int, int], tuple[int, int]]:
        """Lock the C and A series of every office in ``years``; where each one's numbering goes on from.

        The C series goes on from its ``last_number``, or from the highest number already on a declaration
        of the series if that is higher (numbers written by hand), so that no number is ever given twice.
        The A series (not unique in the schema) goes on from its ``last_number``.
        """
        office_codes = references["office_codes"]
        keys = [
            (code, year, series)
            for code in office_codes.values()
            for year in years
            for series in (REGISTRATION_SERIES, ASSESSMENT_SERIES)
        ]
        DocumentSequence.objects.bulk_create(
            [
                DocumentSequence(office_code=code, year=year, series=series, last_number=0)
                for code, year, series in keys
            ],
            ignore_conflicts=True,
        )
        locked = {
            (row.office_code, row.year, row.series): row.last_number
            for row in DocumentSequence.objects.select_for_update().filter(
                office_code__in=list(office_codes.values()),
                year__in=years,
                series__in=[REGISTRATION_SERIES, ASSESSMENT_SERIES],
            )
        }
        used = {}
        with connection.cursor() as cursor:
            for office_id in office_codes:
                for year in years:
                    # Served by the unique index declaration_registration_unique.
                    cursor.execute(
                        "SELECT max(registration_number) FROM declarations_declaration "
                        "WHERE office_id = %s AND registration_year = %s AND registration_series = %s "
                        "AND registration_number IS NOT NULL",
                        [office_id, year, REGISTRATION_SERIES],
                    )
                    used[(office_id, year)] = cursor.fetchone()[0] or 0
        bases = {}
        for office_id, code in office_codes.items():
            for year in years:
                bases[(office_id, year)] = (
                    max(locked[(code, year, REGISTRATION_SERIES)], used[(office_id, year)]),
                    locked[(code, year, ASSESSMENT_SERIES)],
                )
        return bases
