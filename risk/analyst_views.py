"""The risk analysts' screens under /office/risk/: criteria (list, new, edit, put live), a criterion's
page with its statistics and hit rate, backtests, and the random selection rates.

Views stay thin: reads go through ``risk.statistics``, writes through ``risk.services``; a refused
write shows each error of the service next to its field, with what the analyst typed. Analysts only
(``risk.services.permissions.is_analyst``, superusers too); the second factor is the middleware's.
"""

import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from customs.charts import bar_chart_svg
from declarations.choices import Lane
from declarations.services.errors import DeclarationInvalid
from risk import statistics
from risk.analyst_forms import (
    BacktestForm,
    ConditionFormSet,
    CriterionForm,
    LiveForm,
    RandomRatesForm,
    attach_service_errors,
    condition_initial,
    operators_by_kind,
)
from risk.choices import LANE_RANK, OPERATORS, ConditionKind, Operator
from risk.models import Backtest, Criterion
from risk.services.backtest import backtest_request
from risk.services.criteria import criterion_create, criterion_revise, criterion_set_live, random_rate_set
from risk.services.permissions import is_analyst

CONDITIONS_PREFIX = "conditions"
STATE_FILTERS = {"live": True, "draft": False}
# The backtest page reloads itself this often (seconds) while the worker runs.
BACKTEST_REFRESH_SECONDS = 2


def analyst_required(view):
    """Signed in, and a risk analyst or superuser; anyone else is refused (403)."""

    @functools.wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if not is_analyst(request.user):
            raise PermissionDenied(_("Only risk analysts may open this page."))
        return view(request, *args, **kwargs)

    return wrapped


def _criterion_or_404(pk) -> Criterion:
    try:
        return statistics.criterion_get(pk)
    except Criterion.DoesNotExist as error:
        raise Http404(_("No such criterion.")) from error


def _lane_label(lane: str) -> str:
    try:
        return Lane(lane).label
    except ValueError:
        return _("No lane yet")


def conditions_in_words(conditions: list[dict]) -> list[str]:
    """Each stored condition as a sentence: "Commodity code starts with one of 8703, 8704"."""
    sentences = []
    for condition in conditions:
        try:
            field = ConditionKind(condition.get("kind")).label
            comparison = Operator(condition.get("operator")).label
        except ValueError:
            field, comparison = condition.get("kind", ""), condition.get("operator", "")
        sentences.append(
            _("%(field)s %(comparison)s %(values)s")
            % {"field": field, "comparison": comparison, "values": ", ".join(condition.get("values") or [])}
        )
    return sentences


@require_GET
@analyst_required
def criteria(request):
    """Every criterion: state, current version, target lane, hits in the last 30 days, yield."""
    state = request.GET.get("state", "")
    rows = statistics.criteria_summary(live=STATE_FILTERS.get(state))
    context = {
        "rows": rows,
        "state": state if state in STATE_FILTERS else "",
        "recent_days": statistics.RECENT_DAYS,
    }
    return render(request, "risk/analyst/criteria.html", context)


def _render_criterion_form(request, form, formset, criterion=None, status=200):
    context = {
        "form": form,
        "formset": formset,
        "criterion": criterion,
        "operators_by_kind": operators_by_kind(),
        "comparisons": [
            (ConditionKind(kind).label, [Operator(operator).label for operator in operators])
            for kind, operators in OPERATORS.items()
        ],
    }
    return render(request, "risk/analyst/criterion_form.html", context, status=status)


def _write(form, formset, write):
    """``write(version_data)`` when the form and its rows parse; the service's errors next to their
    fields otherwise. Returns the new version, or ``None`` when refused."""
    form_valid, rows_valid = form.is_valid(), formset.is_valid()  # both, so every row shows its errors
    if not (form_valid and rows_valid):
        return None
    try:
        return write(form.version_data(formset.conditions()))
    except DeclarationInvalid as error:
        attach_service_errors(error, form, formset)
        formset.check_each_row()
        return None


@require_http_methods(["GET", "POST"])
@analyst_required
def criterion_new(request):
    """A new criterion: its version 1, a draft (put it live from its page, after a backtest)."""
    bound = request.POST if request.method == "POST" else None
    form = CriterionForm(
        bound, offices=statistics.office_list(), initial={"valid_from": timezone.localdate()}
    )
    formset = ConditionFormSet(bound, prefix=CONDITIONS_PREFIX)
    if bound is not None:
        version = _write(
            form,
            formset,
            lambda data: criterion_create(
                actor=request.user, code=form.cleaned_data["code"], name=form.cleaned_data["name"], data=data
            ),
        )
        if version is not None:
            messages.success(
                request,
                _("Criterion %(code)s written (version 1, a draft).") % {"code": version.criterion.code},
            )
            return redirect("risk:criterion", pk=version.criterion_id)
        return _render_criterion_form(request, form, formset, status=400)
    return _render_criterion_form(request, form, formset)


@require_http_methods(["GET", "POST"])
@analyst_required
def criterion_edit(request, pk):
    """The next version of a criterion, starting from the current one; the current one is superseded
    and keeps its hits."""
    criterion = _criterion_or_404(pk)
    current = statistics.criterion_current_version(criterion)
    if current is None:
        raise Http404(_("This criterion has no version."))
    initial = {
        "code": criterion.code,
        "name": criterion.name,
        "lane": current.lane,
        "valid_from": current.valid_from,
        "valid_to": current.valid_to,
        "offices": list(current.offices),
        "officer_note": current.officer_note,
        "internal_note": current.internal_note,
    }
    bound = request.POST if request.method == "POST" else None
    form = CriterionForm(
        bound, offices=statistics.office_list(including=current.offices), editing=True, initial=initial
    )
    formset = ConditionFormSet(
        bound, prefix=CONDITIONS_PREFIX, initial=[condition_initial(row) for row in current.conditions]
    )
    if bound is None:
        return _render_criterion_form(request, form, formset, criterion)
    if form.is_valid() and formset.is_valid() and not form.has_changed() and not formset.has_changed():
        messages.info(request, _("Nothing was changed: no new version written."))
        return redirect("risk:criterion", pk=criterion.pk)
    version = _write(
        form,
        formset,
        lambda data: criterion_revise(
            actor=request.user, criterion=criterion, data=data, name=form.cleaned_data["name"]
        ),
    )
    if version is None:
        return _render_criterion_form(request, form, formset, criterion, status=400)
    messages.success(
        request,
        _("Criterion %(code)s: version %(number)s written; version %(previous)s is superseded.")
        % {"code": criterion.code, "number": version.number, "previous": current.number},
    )
    return redirect("risk:criterion", pk=criterion.pk)


@require_POST
@analyst_required
def criterion_live(request, pk):
    """Put the criterion live (it scores declarations from now on) or take it down (a draft again)."""
    criterion = _criterion_or_404(pk)
    form = LiveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose whether to put the criterion live or take it down."))
        return redirect("risk:criterion", pk=criterion.pk)
    updated = criterion_set_live(actor=request.user, criterion=criterion, live=form.cleaned_data["live"])
    if updated.active:
        messages.success(request, _("Criterion %(code)s is live.") % {"code": updated.code})
    else:
        messages.success(request, _("Criterion %(code)s is taken down: a draft.") % {"code": updated.code})
    return redirect("risk:criterion", pk=criterion.pk)


def _week_label(week) -> str:
    return date_format(week.week_start, "j M")


def _render_criterion(request, criterion, *, backtest_form=None, status=200):
    current = statistics.criterion_current_version(criterion)
    figures = statistics.criterion_statistics(criterion)
    weeks = statistics.criterion_hits_by_week(criterion)
    hits_chart = bar_chart_svg(
        [(_week_label(week), week.hits) for week in weeks],
        title=_("Hits per week, last %(weeks)s weeks") % {"weeks": len(weeks)},
        unit=_("hits"),
        description=_("Weeks start on Monday."),
        chart_id="hits-chart",
    )
    rate_chart = bar_chart_svg(
        [(_week_label(week), week.hit_rate or 0) for week in weeks],
        title=_("Hit rate per week: hits as a percentage of the declarations registered"),
        unit="%",
        description=_("Declarations registered at the criterion's offices."),
        chart_id="rate-chart",
    )
    versions = [
        (version, figures.hits_by_version.get(version.number, 0)) for version in criterion.versions.all()
    ]
    context = {
        "criterion": criterion,
        "current": current,
        "current_lane_label": _lane_label(current.lane) if current else "",
        "conditions": conditions_in_words(current.conditions) if current else [],
        "versions": versions,
        "figures": figures,
        "weeks": weeks,
        "hits_chart": hits_chart,
        "rate_chart": rate_chart,
        "backtest_form": backtest_form or BacktestForm(),
        "backtests": statistics.criterion_backtests(criterion),
    }
    return render(request, "risk/analyst/criterion.html", context, status=status)


@require_GET
@analyst_required
def criterion(request, pk):
    """The criterion: what the current version says, its versions, its figures and hit rate, backtests."""
    return _render_criterion(request, _criterion_or_404(pk))


@require_POST
@analyst_required
def criterion_backtest(request, pk):
    """Backtest the current version (a draft too: that is the point) over a past period."""
    criterion = _criterion_or_404(pk)
    current = statistics.criterion_current_version(criterion)
    if current is None:
        raise Http404(_("This criterion has no version."))
    form = BacktestForm(request.POST)
    if form.is_valid():
        try:
            backtest = backtest_request(
                actor=request.user,
                version=current,
                date_from=form.cleaned_data["date_from"],
                date_to=form.cleaned_data["date_to"],
            )
        except DeclarationInvalid as error:
            for field_error in error.errors:
                name = field_error.field if field_error.field in form.fields else None
                form.add_error(name, field_error.message)
        else:
            messages.success(request, _("Backtest asked for; it runs in the background."))
            return redirect("risk:backtest", pk=backtest.pk)
    return _render_criterion(request, criterion, backtest_form=form, status=400)


def _backtest_or_404(pk) -> Backtest:
    try:
        return statistics.backtest_get(pk)
    except Backtest.DoesNotExist as error:
        raise Http404(_("No such backtest.")) from error


def _finished(backtest: Backtest) -> bool:
    return backtest.status in (Backtest.Status.DONE, Backtest.Status.FAILED)


def _percent_done(backtest: Backtest) -> int:
    """``Backtest.percent_done``, but 0 while waiting: before the worker counts the declarations the
    total is 0, which the model reads as 100 %."""
    return 0 if backtest.status == Backtest.Status.PENDING else backtest.percent_done


def _most_first(counts: dict | None) -> list[tuple[str, int]]:
    return sorted((counts or {}).items(), key=lambda entry: (-entry[1], entry[0]))


@require_GET
@analyst_required
def backtest(request, pk):
    """A backtest: its progress while it runs (the page reloads itself), then what it would have hit."""
    backtest = _backtest_or_404(pk)
    results = backtest.results or {}
    # Stored as JSON objects, whose key order PostgreSQL does not keep: most hits first here.
    by_office = _most_first(results.get("by_office"))
    context = {
        "backtest": backtest,
        "criterion": backtest.version.criterion,
        "finished": _finished(backtest),
        "percent_done": _percent_done(backtest),
        "refresh_seconds": BACKTEST_REFRESH_SECONDS,
        "results": results,
        "target_lane_label": _lane_label(results.get("target_lane") or backtest.version.lane),
        "by_lane": [
            (lane, _lane_label(lane), count)
            for lane, count in sorted(
                (results.get("by_lane") or {}).items(), key=lambda entry: -LANE_RANK.get(entry[0], -1)
            )
        ],
        "by_office": by_office,
        "by_trader": _most_first(results.get("by_trader")),
        "office_chart": bar_chart_svg(
            by_office,
            title=_("Hits by office"),
            unit=_("hits"),
            description=_("Declarations the version would have hit, by the office they were lodged at."),
            chart_id="office-chart",
        )
        if backtest.status == Backtest.Status.DONE
        else "",
    }
    response = render(request, "risk/analyst/backtest.html", context)
    if not context["finished"]:
        # The HTTP Refresh header: works without JavaScript, and the page needs no <head> of its own.
        response["Refresh"] = str(BACKTEST_REFRESH_SECONDS)
    return response


@require_GET
@analyst_required
def backtest_status(request, pk):
    """How far a backtest is, as JSON (for a script, or a page that polls)."""
    backtest = _backtest_or_404(pk)
    return JsonResponse(
        {
            "id": backtest.pk,
            "status": backtest.status,
            "status_label": backtest.get_status_display(),
            "percent_done": _percent_done(backtest),
            "done": backtest.done,
            "total": backtest.total,
            "hits": backtest.hits,
            "finished": _finished(backtest),
        }
    )


@require_http_methods(["GET", "POST"])
@analyst_required
def random_rates(request):
    """The random selection rates, offices × lanes; saving writes each changed cell through the service,
    all of them or none."""
    table = statistics.random_rate_table()
    form = RandomRatesForm(request.POST if request.method == "POST" else None, table=table)
    if request.method == "GET":
        return render(request, "risk/analyst/random_rates.html", {"form": form})
    if form.is_valid():
        changed = form.changed_cells()
        refused = []
        with transaction.atomic():
            for name, office, lane, typed in changed:
                try:
                    with transaction.atomic():
                        random_rate_set(actor=request.user, office=office, lane=lane, percent=typed)
                except DeclarationInvalid as error:
                    refused.append((name, error))
            if refused:
                transaction.set_rollback(True)
        for name, error in refused:
            for field_error in error.errors:
                form.add_error(name, field_error.message)
        if not refused:
            if changed:
                messages.success(
                    request, _("Random selection rates saved: %(count)s changed.") % {"count": len(changed)}
                )
            else:
                messages.info(request, _("Nothing was changed."))
            return redirect("risk:random-rates")
    return render(request, "risk/analyst/random_rates.html", {"form": form}, status=400)
