"""Tariff benchmarks: assessment of one item and of 100 items, and tariff search, on the demo tariff.

Run with ``make bench`` (or ``python -m benchmarks.tariff`` with DATABASE_URL set). It loads the demo
data if the database has no tariff yet, then prints its figures. Targets (issue #3): one item with the
measures cached ≤ 1 ms median; a 100-item declaration ≤ 50 ms; search ≤ 50 ms p95.
"""

import os
import random
import statistics
import time


def _setup():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "customs.settings")
    import django

    django.setup()


def _percentile(samples, fraction):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main() -> None:
    _setup()
    import datetime
    from decimal import Decimal

    from django.core.management import call_command

    from customs.services.exchange_rates import exchange_rate_on
    from tariff.engine import AssessmentInput, ItemInput, assess, tariff_snapshot
    from tariff.expressions import Unit
    from tariff.models import CommodityCode, Measure
    from tariff.selectors import commodity_code_search
    from tariff.valuation import Cost, DeclaredCosts

    call_command("migrate", verbosity=0)
    if not Measure.objects.exists():
        call_command("load_demo")
    day = datetime.date.today()
    exchange_rate_on("USD", day)  # fails clearly if the demo rates are missing
    codes = list(CommodityCode.objects.filter(declarable=True, level=10).values_list("code", flat=True))
    random.seed(7)
    started = time.perf_counter()
    snapshot = tariff_snapshot(day)
    load_seconds = time.perf_counter() - started
    quantities = {
        Unit.LITRE: Decimal("100"),
        Unit.LITRE_PURE_ALCOHOL: Decimal("40"),
        Unit.ITEM: Decimal("10"),
        Unit.PAIR: Decimal("10"),
        Unit.HEAD: Decimal("1"),
    }

    def item(code):
        return ItemInput(
            code, "CN", Decimal("1234.56"), Decimal("120"), Decimal("100"), quantities=quantities
        )

    def declaration(items):
        return AssessmentInput(
            day=day,
            direction="IM",
            procedure_code="4000",
            incoterm="FOB",
            invoice_currency="USD",
            items=items,
            costs=DeclaredCosts(freight=Cost(Decimal("800"), "USD"), insurance=Cost(Decimal("40"), "USD")),
        )

    assessable = []
    for code in random.sample(codes, 600):
        try:
            assess(declaration([item(code)]))
            assessable.append(code)
        except ValueError:
            continue
    one_item = []
    for code in (assessable * 4)[:2000]:
        single = declaration([item(code)])
        started = time.perf_counter()
        assess(single)
        one_item.append(time.perf_counter() - started)
    hundred = []
    for _run in range(50):
        many = declaration([item(code) for code in random.sample(assessable, 100)])
        started = time.perf_counter()
        assess(many)
        hundred.append(time.perf_counter() - started)
    words = [
        "frozen fish",
        "horses",
        "wine",
        "cotton",
        "motor cars",
        "tobacco",
        "rice",
        "steel tubes",
        "milk",
        "pistols",
        "coffee",
        "tea",
        "sugar",
        "wool",
        "fresh apples",
        "diesel",
        "paper",
        "glass",
        "furniture",
        "toys",
    ]
    queries = words * 5 + [code[:length] for code in random.sample(codes, 100) for length in (4,)]
    searches = []
    for query in queries:
        started = time.perf_counter()
        commodity_code_search(query, on_day=day)
        searches.append(time.perf_counter() - started)

    ms = 1000
    print(
        f"tariff: {len(snapshot.lines)} lines, {sum(len(v) for v in snapshot.measures.values())} measures "
        f"in force on {day}; snapshot loaded in {load_seconds * ms:.0f} ms (once per day, cached)"
    )
    print(
        f"assess 1 item (cached measures), {len(one_item)} runs: "
        f"median {statistics.median(one_item) * ms:.3f} ms, "
        f"p95 {_percentile(one_item, 0.95) * ms:.3f} ms   [target ≤ 1 ms median]"
    )
    print(
        f"assess 100 items, {len(hundred)} runs: median {statistics.median(hundred) * ms:.1f} ms, "
        f"p95 {_percentile(hundred, 0.95) * ms:.1f} ms   [target ≤ 50 ms]"
    )
    print(
        f"search, {len(searches)} queries (words and codes): "
        f"median {statistics.median(searches) * ms:.1f} ms, "
        f"p95 {_percentile(searches, 0.95) * ms:.1f} ms   [target ≤ 50 ms p95]"
    )


if __name__ == "__main__":
    main()
