"""Backtesting: run one criterion version (a draft, before it goes live) over the declarations
registered in a past period, and count what it would have hit: by the lane those declarations got, by
office and by trader, and how many it would have sent to a higher lane.

Task work (``risk.run_backtest``): the row records its progress after every chunk, so the analyst's
page shows how far it is.
"""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from customs.queue import enqueue_on_commit
from customs.services.audit import audit_record
from declarations.choices import Status
from declarations.models import Declaration
from declarations.services.errors import DeclarationInvalid, FieldError
from risk.choices import LANE_RANK
from risk.engine import evaluate
from risk.models import Backtest, CriterionVersion
from risk.services.permissions import ensure_analyst
from risk.services.selectivity import criteria_compile, declaration_facts

RUN_TASK = "risk.run_backtest"
CHUNK = 500
MAX_DAYS = 366
TOP_TRADERS = 20


def backtest_request(
    *, actor, version: CriterionVersion, date_from: datetime.date, date_to: datetime.date
) -> Backtest:
    """Ask for a backtest of ``version`` over the declarations registered from ``date_from`` to
    ``date_to`` (at most a year); the worker runs it."""
    ensure_analyst(actor)
    errors = []
    if date_from is None:
        errors.append(FieldError("date_from", "required", _("Give the first day.")))
    if date_to is None:
        errors.append(FieldError("date_to", "required", _("Give the last day.")))
    if date_from and date_to:
        if date_to < date_from:
            errors.append(FieldError("date_to", "before_start", _("The last day is before the first.")))
        elif (date_to - date_from).days >= MAX_DAYS:
            errors.append(FieldError("date_to", "too_long", _("Backtest at most a year at a time.")))
        if date_to > timezone.localdate():
            errors.append(FieldError("date_to", "future", _("A backtest looks at the past only.")))
    if errors:
        raise DeclarationInvalid(errors)
    with transaction.atomic():
        backtest = Backtest.objects.create(
            version=version, date_from=date_from, date_to=date_to, requested_by=actor
        )
        audit_record(
            action="risk.backtest.requested",
            actor=actor,
            obj=backtest,
            after={
                "criterion": version.criterion.code,
                "version": version.number,
                "from": date_from,
                "to": date_to,
            },
        )
        enqueue_on_commit(RUN_TASK, backtest.pk)
    return backtest


def _period(backtest: Backtest):
    start = timezone.make_aware(datetime.datetime.combine(backtest.date_from, datetime.time.min))
    end = timezone.make_aware(
        datetime.datetime.combine(backtest.date_to + datetime.timedelta(days=1), datetime.time.min)
    )
    return (
        Declaration.objects.filter(registered_at__gte=start, registered_at__lt=end)
        .exclude(status__in=[Status.STORED, Status.LODGED])
        .order_by("pk")
    )


def backtest_run(backtest_id: int) -> str:
    """Run the backtest (idempotent: a finished one is not run again; a crashed one starts again)."""
    with transaction.atomic():
        backtest = Backtest.objects.select_for_update().filter(pk=backtest_id).first()
        if backtest is None or backtest.status == Backtest.Status.DONE:
            return backtest.status if backtest else "missing"
        backtest.status, backtest.done, backtest.hits, backtest.error = Backtest.Status.RUNNING, 0, 0, ""
        backtest.total = _period(backtest).count()
        backtest.save(update_fields=["status", "done", "hits", "error", "total"])
    try:
        results = _run(backtest)
    except Exception as error:
        Backtest.objects.filter(pk=backtest_id).update(
            status=Backtest.Status.FAILED,
            error=f"{type(error).__name__}: {error}",
            finished_at=timezone.now(),
        )
        raise
    Backtest.objects.filter(pk=backtest_id).update(
        status=Backtest.Status.DONE,
        hits=results["hits"],
        done=backtest.total,
        results=results,
        finished_at=timezone.now(),
    )
    return Backtest.Status.DONE


def _run(backtest: Backtest) -> dict:
    version = CriterionVersion.objects.select_related("criterion").get(pk=backtest.version_id)
    compiled = criteria_compile([version])
    by_lane: dict[str, int] = {}
    by_office: dict[str, int] = {}
    by_trader: dict[str, int] = {}
    raised = hits = done = 0
    last_pk = 0
    declarations = _period(backtest).select_related("office", "trader", "broker")
    while True:
        chunk = list(declarations.filter(pk__gt=last_pk).prefetch_related("items")[:CHUNK])
        if not chunk:
            break
        for declaration in chunk:
            items = sorted(declaration.items.all(), key=lambda item: item.number)
            if evaluate(compiled, declaration_facts(declaration, items), check_validity=False):
                hits += 1
                lane = declaration.lane or "none"
                by_lane[lane] = by_lane.get(lane, 0) + 1
                by_office[declaration.office.code] = by_office.get(declaration.office.code, 0) + 1
                trader = f"{declaration.trader.name} ({declaration.trader.taxpayer_id})"
                by_trader[trader] = by_trader.get(trader, 0) + 1
                if LANE_RANK[version.lane] > LANE_RANK.get(declaration.lane or "green", 0):
                    raised += 1
        done += len(chunk)
        last_pk = chunk[-1].pk
        Backtest.objects.filter(pk=backtest.pk).update(done=done, hits=hits)
    return {
        "hits": hits,
        "looked_at": done,
        "would_raise": raised,
        "target_lane": version.lane,
        "by_lane": dict(sorted(by_lane.items(), key=lambda entry: -LANE_RANK.get(entry[0], -1))),
        "by_office": dict(sorted(by_office.items(), key=lambda entry: (-entry[1], entry[0]))),
        "by_trader": dict(sorted(by_trader.items(), key=lambda entry: (-entry[1], entry[0]))[:TOP_TRADERS]),
    }
