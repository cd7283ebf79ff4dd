"""What the risk module adds to the declaration pages (hooks of ``customs.hooks``, registered in
``RiskConfig.ready``).

- ``declarations.officer_panels``: the selectivity panel for customs staff: the lane and what gave it,
  the random draws, the criteria that hit with their explanation and notes (the internal note too),
  the examinations with their findings, the post-clearance audit, and for a supervisor of the office
  the form to change the lane.
- ``declarations.portal_panels``: what the declarant may know: the lane, whether a check is pending or
  done, and after a re-assessment the difference to pay. Never the criteria, their notes, the random
  draws, the officers or their reports: the context given to the template holds none of them.
"""

from declarations.choices import Lane
from declarations.services.control import LANE_STATES
from risk.choices import ExaminationStatus, SelectionSource
from risk.officer_forms import LaneChangeForm
from risk.officer_selectors import declaration_check_state, declaration_reassessment, hit_rows
from risk.selectors import declaration_selectivity
from risk.services.permissions import is_supervisor_of

OFFICER_TEMPLATE = "risk/_declaration_panel.html"
PORTAL_TEMPLATE = "risk/_portal_panel.html"


def officer_panel(*, request, declaration):
    """The selectivity panel on the officer's declaration page; ``None`` for a declaration that was
    never registered (selectivity scores registered declarations only)."""
    data = declaration_selectivity(declaration)
    selectivity = data["selectivity"]
    if selectivity is None and not declaration.lane and declaration.registered_at is None:
        return None
    draws = []
    if selectivity is not None:
        for lane in (Lane.RED, Lane.YELLOW, Lane.BLUE):
            draw = (selectivity.random_draws or {}).get(lane)
            if draw:
                draws.append({"lane": lane, "label": Lane(lane).label, **draw})
    may_change_lane = (
        is_supervisor_of(request.user, declaration.office)
        and bool(declaration.lane)
        and declaration.status in LANE_STATES
    )
    context = {
        "declaration": declaration,
        "selectivity": selectivity,
        "source_label": SelectionSource(selectivity.source).label if selectivity is not None else "",
        "profile": (selectivity.profile or {}) if selectivity is not None else {},
        "draws": draws,
        "hits": hit_rows(data["hits"]),
        "examinations": [
            {"examination": examination, "findings": list(examination.findings.all())}
            for examination in data["examinations"]
        ],
        "audit": data["audit"],
        "reassessment": declaration_reassessment(declaration),
        "lane_form": LaneChangeForm() if may_change_lane else None,
    }
    return OFFICER_TEMPLATE, context


def portal_panel(*, request, declaration):
    """The lane and its check on the portal's declaration page; ``None`` before the lane is given."""
    if not declaration.lane:
        return None
    examinations = declaration_selectivity(declaration)["examinations"]
    checks = [
        {
            "kind": examination.get_kind_display(),
            "state": _check_state(examination.status),
            "completed_at": examination.completed_at,
        }
        for examination in examinations
        if examination.status != ExaminationStatus.CANCELLED
    ]
    context = {
        "lane": declaration.lane,
        "lane_label": declaration.get_lane_display(),
        "state": declaration_check_state(declaration, examinations),
        "checks": checks,
        "reassessment": declaration_reassessment(declaration),
    }
    return PORTAL_TEMPLATE, context


def _check_state(status: str) -> str:
    if status == ExaminationStatus.HELD:
        return "held"
    if status == ExaminationStatus.DONE:
        return "done"
    return "pending"
