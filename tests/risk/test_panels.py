"""The risk module's panels on the declaration pages: the officer's (lane, why, draws, hits with their
notes, examinations, audit, the supervisor's change of lane) and the portal's (the lane, the check, the
difference to pay; never the criteria, their notes or the draws)."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from customs.hooks import hook_results
from declarations.services.drafts import declaration_create
from declarations.services.lifecycle import declaration_reassess
from risk import panels
from risk.models import Examination, RandomSelectionRate, Selectivity
from risk.services.control import finding_record
from tests.risk.conftest import CAR, assessed, criterion, declaration_data, score

pytestmark = pytest.mark.django_db
D = Decimal
BY_CAR = [{"kind": "commodity_code", "operator": "starts_with", "values": [CAR[:4]]}]
OFFICER_NOTE = "Check the VIN against the invoice."
INTERNAL_NOTE = "Intelligence report 2026/17: undervalued cars from this route."


def _red(risk_world):
    criterion(
        risk_world,
        BY_CAR,
        lane="red",
        code="RC01",
        officer_note=OFFICER_NOTE,
        internal_note=INTERNAL_NOTE,
    )
    return score(assessed(risk_world))


def _officer_page(client, verified_login, risk_world, declaration, name="officer"):
    verified_login(client, risk_world["users"][name])
    return client.get(reverse("declarations:detail", args=[declaration.pk]))


def _portal_page(client, risk_world, declaration, name="trader_a"):
    client.force_login(risk_world["users"][name])
    return client.get(reverse("portal:declaration-detail", args=[declaration.pk]))


def _section(content: str, section_id: str) -> str:
    match = re.search(rf'<section [^>]*id="{section_id}".*?</section>', content, re.DOTALL)
    assert match, f"no section #{section_id}"
    return match.group(0)


def test_both_panels_are_registered_on_their_hooks(risk_world, rf):
    declaration = _red(risk_world)
    request = rf.get("/")
    request.user = risk_world["users"]["officer"]

    officer = hook_results("declarations.officer_panels", request=request, declaration=declaration)
    portal = hook_results("declarations.portal_panels", request=request, declaration=declaration)

    # Risk's panel first (INSTALLED_APPS order), then the payments panel of the app to its right.
    assert [name for name, _context in officer] == [
        panels.OFFICER_TEMPLATE,
        "payments/_declaration_panel.html",
    ]
    assert [name for name, _context in portal] == [
        panels.PORTAL_TEMPLATE,
        "portal/payments/_declaration_panel.html",
    ]


def test_the_officer_panel_shows_the_lane_what_gave_it_and_the_hits_with_their_notes(
    client, verified_login, risk_world
):
    declaration = _red(risk_world)

    response = _officer_page(client, verified_login, risk_world, declaration)

    panel = _section(response.content.decode(), "selectivity")
    assert response.status_code == 200
    assert '<span class="lane-red" id="selectivity-lane">Red</span>' in panel
    assert '<dd id="selectivity-source">Criteria</dd>' in panel
    assert '<span class="code">RC01</span> Test criterion' in panel
    assert f"Item 1: Commodity code {CAR} starts with one of {CAR[:4]}" in panel
    assert f'<dd class="officer-note">{OFFICER_NOTE}</dd>' in panel
    assert f'<dd class="internal-note">{INTERNAL_NOTE}</dd>' in panel
    assert "Not an authorised economic operator; 0 discrepancies found recently" in panel


def test_the_officer_panel_shows_the_random_draws(client, verified_login, risk_world):
    RandomSelectionRate.objects.create(office=risk_world["office"], lane="blue", percent=D("0.01"))
    declaration = score(assessed(risk_world))
    draw = Selectivity.objects.get(declaration=declaration).random_draws["blue"]

    response = _officer_page(client, verified_login, risk_world, declaration)

    panel = _section(response.content.decode(), "selectivity")
    assert draw["rate"] == "0.01"
    assert 'id="random-draws"' in panel
    assert f'<td class="number">{draw["draw"]}</td>' in panel
    assert ("<td>yes</td>" if draw["selected"] else "<td>no</td>") in panel


def test_the_officer_panel_shows_the_examination_with_its_officer_status_and_findings(
    client, verified_login, risk_world
):
    declaration = _red(risk_world)
    examination = Examination.objects.get(declaration=declaration)
    finding_record(
        actor=examination.officer,
        examination=examination,
        item_number=1,
        result="origin",
        corrections={"origin": "US"},
        note="Label says made in the USA.",
    )

    response = _officer_page(client, verified_login, risk_world, declaration)

    panel = _section(response.content.decode(), "selectivity")
    assert f'href="{reverse("risk:examination", args=[examination.pk])}">Physical examination</a>' in panel
    assert '<span class="examination-status examination-status--assigned">Assigned</span>' in panel
    assert examination.officer.username in panel
    assert "Discrepancy: origin" in panel
    assert 'Country of origin: <span class="code">US</span>' in panel
    assert "Label says made in the USA." in panel


def test_only_a_supervisor_of_the_office_gets_the_lane_form(client, verified_login, risk_world):
    declaration = _red(risk_world)

    as_supervisor = _officer_page(client, verified_login, risk_world, declaration, "supervisor")
    as_officer = _officer_page(client, verified_login, risk_world, declaration, "officer")

    lane_url = reverse("risk:declaration-lane", args=[declaration.pk])
    assert f'action="{lane_url}"' in as_supervisor.content.decode()
    assert f'action="{lane_url}"' not in as_officer.content.decode()


def test_the_officer_panel_shows_the_post_clearance_audit(client, verified_login, risk_world):
    criterion(risk_world, BY_CAR, lane="blue", code="BC01")
    declaration = score(assessed(risk_world))

    response = _officer_page(client, verified_login, risk_world, declaration)

    panel = _section(response.content.decode(), "selectivity")
    audit = declaration.post_clearance_audit
    assert '<span class="lane-blue" id="selectivity-lane">Blue</span>' in panel
    assert f'href="{reverse("risk:audit", args=[audit.pk])}">Waiting: record the outcome</a>' in panel


def test_a_draft_has_no_panel(client, verified_login, risk_world, rf):
    draft = declaration_create(actor=risk_world["users"]["trader_a"], data=declaration_data(lrn="DRAFT-1"))
    request = rf.get("/")
    request.user = risk_world["users"]["officer"]

    assert panels.officer_panel(request=request, declaration=draft) is None
    assert panels.portal_panel(request=request, declaration=draft) is None


def test_the_portal_panel_shows_the_lane_and_the_pending_check_but_never_the_criteria(client, risk_world):
    RandomSelectionRate.objects.create(office=risk_world["office"], lane="blue", percent=D("0.01"))
    declaration = _red(risk_world)
    draw = Selectivity.objects.get(declaration=declaration).random_draws["blue"]

    response = _portal_page(client, risk_world, declaration)

    panel = _section(response.content.decode(), "control")
    context = dict(response.context["panels"])[panels.PORTAL_TEMPLATE]
    assert response.status_code == 200
    assert '<span class="lane-red" id="control-lane">Red</span>' in panel
    assert "A check by customs is pending" in panel
    assert "Physical examination: pending" in panel
    assert set(context) == {"lane", "lane_label", "state", "checks", "reassessment"}
    for secret in ("RC01", "Test criterion", OFFICER_NOTE, INTERNAL_NOTE, draw["draw"], "commodity code"):
        assert secret not in panel
    assert OFFICER_NOTE not in response.content.decode()
    assert INTERNAL_NOTE not in response.content.decode()


def test_the_broker_sees_the_same_portal_panel(client, risk_world):
    declaration = _red(risk_world)
    broker_declaration = score(assessed(risk_world, actor="broker"))

    response = _portal_page(client, risk_world, broker_declaration, name="broker")

    panel = _section(response.content.decode(), "control")
    assert declaration.lane == broker_declaration.lane == "red"
    assert "A check by customs is pending" in panel
    assert "RC01" not in panel


def test_the_portal_panel_shows_the_difference_to_pay_after_a_reassessment(client, risk_world):
    declaration = score(assessed(risk_world))
    declaration_reassess(
        actor=risk_world["users"]["officer"],
        declaration=declaration,
        changes={"invoice_amount": D("15000"), "item_changes": {"1": {"invoice_price": D("15000")}}},
        reason="Invoice checked.",
    )

    response = _portal_page(client, risk_world, declaration)

    panel = _section(response.content.decode(), "control")
    context = dict(response.context["panels"])[panels.PORTAL_TEMPLATE]
    assert context["reassessment"]["before"] == D("11558.75")
    assert context["reassessment"]["after"] == D("17338.13")
    assert context["reassessment"]["difference"] == D("5779.38")
    assert '<dd id="control-total-before">11,558.75 TMT</dd>' in panel
    assert '<dd id="control-total-after">17,338.13 TMT</dd>' in panel
    assert '<dt>Difference to pay</dt><dd id="control-difference"><strong>5,779.38 TMT</strong></dd>' in panel


def test_a_green_lane_needs_no_check(client, risk_world):
    declaration = score(assessed(risk_world))

    response = _portal_page(client, risk_world, declaration)

    panel = _section(response.content.decode(), "control")
    assert '<span class="lane-green" id="control-lane">Green</span>' in panel
    assert '<dd id="control-state">No check before release.</dd>' in panel
