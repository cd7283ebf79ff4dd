"""The trader and broker portal, and the public tariff pages (no login needed)."""

import datetime

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from customs.selectors import trader_list_for_user
from portal.forms import SimulatorForm
from tariff.engine import AssessmentError, assess, line_measures
from tariff.selectors import (
    CommodityCodeNotFound,
    commodity_code_ancestors,
    commodity_code_children,
    commodity_code_get,
    commodity_code_search,
    tariff_sections,
)


@login_required
def home(request):
    """Portal home: whom the user acts for (its trader, or the traders that authorised its broker)."""
    today = datetime.date.today()
    context = {"traders": trader_list_for_user(request.user, on_day=today), "today": today}
    return render(request, "portal/home.html", context)


def _day(request) -> datetime.date:
    try:
        return datetime.date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        return datetime.date.today()


def tariff_browse(request):
    """The tariff tree by section and chapter, and full-text search of it."""
    day = _day(request)
    query = request.GET.get("q", "").strip()
    context = {
        "day": day,
        "query": query,
        "results": commodity_code_search(query, on_day=day) if query else None,
        "sections": tariff_sections() if not query else None,
        "chapters": commodity_code_children("", on_day=day) if not query else None,
    }
    return render(request, "portal/tariff_browse.html", context)


def tariff_line(request, code):
    """One line: its place in the tree, children, and the measures and restrictions in force."""
    day = _day(request)
    try:
        line = commodity_code_get(code, on_day=day)
    except CommodityCodeNotFound as error:
        raise Http404(str(error)) from error
    context = {
        "day": day,
        "line": line,
        "ancestors": commodity_code_ancestors(code, on_day=day),
        "children": commodity_code_children(code, on_day=day),
        "measures": line_measures(code, day) if line.declarable else None,
    }
    return render(request, "portal/tariff_line.html", context)


def tariff_simulator(request):
    """The duty simulator: one item, every tax with its base, rate, formula and amount."""
    submitted = "invoice_amount" in request.GET
    form = SimulatorForm(request.GET) if submitted else SimulatorForm(initial=request.GET.dict())
    assessment = None
    if submitted and form.is_valid():
        try:
            assessment = assess(form.to_assessment_input())
        except AssessmentError as error:
            form.add_engine_error(error.field, str(error))
    return render(request, "portal/tariff_simulator.html", {"form": form, "assessment": assessment})
