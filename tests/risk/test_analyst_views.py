"""The risk analysts' screens: criteria list, new and edit (a new version each time), put live and take
down, the criterion's page with its figures and chart, backtests, random selection rates; and who may
open them."""

import datetime
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from customs.models import AuditEvent
from customs.services.users import user_upsert
from risk.models import Backtest, Criterion, CriterionHit, CriterionVersion, RandomSelectionRate
from risk.services.backtest import backtest_request, backtest_run
from risk.services.criteria import random_rate_set
from tests.risk.conftest import CAR, FISH, assessed, criterion, item_data, score

pytestmark = pytest.mark.django_db
CRITERIA = reverse("risk:criteria")
NEW = reverse("risk:criterion-new")
RATES = reverse("risk:random-rates")
CAR_RED = [{"kind": "commodity_code", "operator": "starts_with", "values": [CAR[:4]]}]


def _analyst(client, verified_login, risk_world):
    return verified_login(client, risk_world["users"]["analyst"])


def _form(rows, *, initial_rows=0, extra=2, deleted=(), **fields) -> dict:
    """What the criterion form posts: the fields, then the condition rows (kind, operator, values) and
    ``extra`` empty rows, as the browser sends them."""
    data = {
        "code": "VEH-01",
        "name": "Passenger cars",
        "lane": "red",
        "valid_from": "2020-01-01",
        "valid_to": "",
        "officer_note": "Check the chassis number.",
        "internal_note": "Undervaluation seen in 2025.",
    }
    data.update(fields)
    all_rows = list(rows) + [("", "", "")] * extra
    data.update(
        {
            "conditions-TOTAL_FORMS": str(len(all_rows)),
            "conditions-INITIAL_FORMS": str(initial_rows),
            "conditions-MIN_NUM_FORMS": "0",
            "conditions-MAX_NUM_FORMS": "1000",
        }
    )
    for index, (kind, operator, values) in enumerate(all_rows):
        data[f"conditions-{index}-kind"] = kind
        data[f"conditions-{index}-operator"] = operator
        data[f"conditions-{index}-values"] = values
        if index in deleted:
            data[f"conditions-{index}-DELETE"] = "on"
    return data


def _errors(form_or_row, name) -> list[str]:
    return [str(message) for message in form_or_row.errors.get(name, [])]


def _rows(response):
    return {row.criterion.code: row for row in response.context["rows"]}


# Who may open the screens


def _every_screen(risk_world):
    version = criterion(risk_world, CAR_RED, live=False)
    backtest = backtest_request(
        actor=risk_world["users"]["analyst"],
        version=version,
        date_from=timezone.localdate(),
        date_to=timezone.localdate(),
    )
    pk = version.criterion_id
    return [
        CRITERIA,
        NEW,
        reverse("risk:criterion", args=[pk]),
        reverse("risk:criterion-edit", args=[pk]),
        reverse("risk:backtest", args=[backtest.pk]),
        reverse("risk:backtest-status", args=[backtest.pk]),
        RATES,
    ]


def test_an_anonymous_visitor_is_sent_to_sign_in_from_every_screen(client, risk_world):
    for url in _every_screen(risk_world):
        response = client.get(url)

        assert response.status_code == 302, url
        assert response["Location"] == f"{reverse('login')}?next={url}"


@pytest.mark.parametrize("name", ["trader_a", "broker", "officer", "supervisor"])
def test_anyone_but_an_analyst_is_refused_every_screen(client, verified_login, risk_world, name):
    screens = _every_screen(risk_world)
    user = risk_world["users"][name]
    if user.requires_second_factor:
        verified_login(client, user)
    else:
        client.force_login(user)

    statuses = {url: client.get(url).status_code for url in screens}

    assert statuses == dict.fromkeys(screens, 403)


def test_an_analyst_and_a_superuser_open_every_screen(client, verified_login, risk_world):
    screens = _every_screen(risk_world)
    superuser = user_upsert(actor=None, username="root", roles=[], is_superuser=True)

    as_analyst = {url: _analyst(client, verified_login, risk_world).get(url).status_code for url in screens}
    client.logout()
    verified_login(client, superuser)
    as_superuser = {url: client.get(url).status_code for url in screens}

    assert as_analyst == dict.fromkeys(screens, 200)
    assert as_superuser == dict.fromkeys(screens, 200)


def test_an_analyst_without_the_second_factor_is_sent_to_verify_it(client, risk_world):
    client.force_login(risk_world["users"]["analyst"])

    response = client.get(CRITERIA)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("second-factor-setup"))


def test_an_officers_writes_are_refused_and_change_nothing(client, verified_login, risk_world):
    version = criterion(risk_world, CAR_RED, live=False)
    verified_login(client, risk_world["users"]["officer"])
    events = AuditEvent.objects.count()

    responses = [
        client.post(NEW, _form([("commodity_code", "starts_with", "8704")], code="NEW-01")),
        client.post(
            reverse("risk:criterion-edit", args=[version.criterion_id]),
            _form([("origin", "in", "CN")], initial_rows=1),
        ),
        client.post(reverse("risk:criterion-live", args=[version.criterion_id]), {"live": "1"}),
        client.post(
            reverse("risk:criterion-backtest", args=[version.criterion_id]),
            {"backtest-date_from": "2026-01-01", "backtest-date_to": "2026-01-31"},
        ),
        client.post(RATES, {"rate-TMA01-red": "50"}),
    ]

    version.criterion.refresh_from_db()
    assert [response.status_code for response in responses] == [403] * 5
    assert list(Criterion.objects.values_list("code", flat=True)) == [version.criterion.code]
    assert CriterionVersion.objects.count() == 1
    assert version.criterion.active is False
    assert Backtest.objects.count() == 0
    assert RandomSelectionRate.objects.count() == 0
    assert AuditEvent.objects.count() == events


# The list


def test_the_list_shows_state_version_lane_recent_hits_and_yield_and_links_each(
    client, verified_login, risk_world
):
    live = criterion(risk_world, CAR_RED, code="CARS")
    draft = criterion(
        risk_world,
        [{"kind": "origin", "operator": "in", "values": ["CN"]}],
        code="CHINA",
        lane="yellow",
        live=False,
    )
    score(assessed(risk_world))
    score(assessed(risk_world))
    _analyst(client, verified_login, risk_world)

    response = client.get(CRITERIA)

    content = response.content.decode()
    rows = _rows(response)
    assert response.status_code == 200
    assert list(rows) == ["CARS", "CHINA"]
    assert (rows["CARS"].version_number, rows["CARS"].lane, rows["CARS"].hits_recent) == (1, "red", 2)
    assert rows["CARS"].yield_percent is None
    assert rows["CHINA"].hits_recent == 0
    assert f'href="{reverse("risk:criterion", args=[live.criterion_id])}">CARS</a>' in content
    assert f'href="{reverse("risk:criterion", args=[draft.criterion_id])}">CHINA</a>' in content
    assert '<span class="criterion-state criterion-state--live">Live</span>' in content
    assert '<span class="criterion-state criterion-state--draft">Draft</span>' in content
    assert '<span class="lane-yellow">Yellow</span>' in content


def test_the_list_filters_live_and_draft(client, verified_login, risk_world):
    criterion(risk_world, CAR_RED, code="CARS")
    criterion(risk_world, CAR_RED, code="DRAFT", live=False)
    _analyst(client, verified_login, risk_world)

    live = client.get(CRITERIA, {"state": "live"})
    drafts = client.get(CRITERIA, {"state": "draft"})
    everything = client.get(CRITERIA, {"state": "nonsense"})

    assert list(_rows(live)) == ["CARS"]
    assert list(_rows(drafts)) == ["DRAFT"]
    assert list(_rows(everything)) == ["CARS", "DRAFT"]
    assert '<option value="live" selected>' in live.content.decode()


# New and edit


def test_a_new_criterion_is_written_as_a_draft_version_1(client, verified_login, risk_world):
    _analyst(client, verified_login, risk_world)

    response = client.post(
        NEW,
        _form(
            [("commodity_code", "starts_with", "8703, 8704"), ("value_per_kg", "below", "2,5")],
            code="veh-01",
            offices=["TMA01"],
            valid_to="2030-12-31",
        ),
    )

    version = CriterionVersion.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("risk:criterion", args=[version.criterion_id])
    assert (version.criterion.code, version.criterion.name, version.criterion.active) == (
        "VEH-01",
        "Passenger cars",
        False,
    )
    assert (version.number, version.lane, version.superseded_at) == (1, "red", None)
    assert version.conditions == [
        {"kind": "commodity_code", "operator": "starts_with", "values": ["8703", "8704"]},
        {"kind": "value_per_kg", "operator": "below", "values": ["2.5"]},
    ]
    assert (version.valid_from, version.valid_to) == (datetime.date(2020, 1, 1), datetime.date(2030, 12, 31))
    assert version.offices == ["TMA01"]
    assert (version.officer_note, version.internal_note) == (
        "Check the chassis number.",
        "Undervaluation seen in 2025.",
    )
    assert version.created_by == risk_world["users"]["analyst"]


def test_the_new_form_has_a_label_for_every_field_and_a_few_empty_condition_rows(
    client, verified_login, risk_world
):
    _analyst(client, verified_login, risk_world)

    response = client.get(NEW)

    content = response.content.decode()
    formset = response.context["formset"]
    assert response.status_code == 200
    assert len(formset.forms) == 3
    for name in (
        "code",
        "name",
        "lane",
        "valid_from",
        "valid_to",
        "offices",
        "officer_note",
        "internal_note",
    ):
        assert f'<label for="id_{name}">' in content, name
    for index in range(3):
        for name in ("kind", "operator", "values", "DELETE"):
            assert f'for="id_conditions-{index}-{name}"' in content, (index, name)
    assert '<option value="TMA01">TMA01 Ashgabat</option>' in content
    assert f'value="{timezone.localdate().isoformat()}"' in content
    assert 'id="condition-row-template"' in content
    assert 'src="/static/js/risk-conditions.js"' in content


def test_a_bad_value_per_kg_is_shown_on_its_row_with_what_was_typed_and_nothing_is_written(
    client, verified_login, risk_world
):
    _analyst(client, verified_login, risk_world)
    events = AuditEvent.objects.count()

    response = client.post(
        NEW,
        _form([("commodity_code", "starts_with", "8703"), ("value_per_kg", "below", "abc")], code="VEH-02"),
    )

    rows = response.context["formset"].forms
    content = response.content.decode()
    assert response.status_code == 400
    assert _errors(rows[1], "values") == ["Give a number of zero or more."]
    assert rows[0].errors == {}
    assert 'name="conditions-1-values" value="abc"' in content
    assert 'name="code" value="VEH-02"' in content
    assert "Nothing was saved. Correct the fields marked below." in content
    assert Criterion.objects.count() == 0
    assert CriterionVersion.objects.count() == 0
    assert AuditEvent.objects.count() == events


def test_every_bad_row_gets_its_own_error_at_once(client, verified_login, risk_world):
    _analyst(client, verified_login, risk_world)

    response = client.post(
        NEW,
        _form(
            [
                ("commodity_code", "below", "8703"),
                ("origin", "in", "CN"),
                ("", "in", "CN"),
                ("item_count", "above", ""),
            ]
        ),
    )

    rows = response.context["formset"].forms
    assert response.status_code == 400
    assert _errors(rows[0], "operator") == ["This comparison does not apply to this field."]
    assert rows[1].errors == {}
    assert _errors(rows[2], "kind") == ["Choose what the condition looks at."]
    assert _errors(rows[3], "values") == ["Give at least one value."]
    assert Criterion.objects.count() == 0


def test_the_services_errors_are_shown_next_to_their_fields(client, verified_login, risk_world):
    _analyst(client, verified_login, risk_world)

    response = client.post(
        NEW, _form([], code="", name="", lane="", valid_from="2026-05-01", valid_to="2026-04-30", extra=3)
    )

    form, formset = response.context["form"], response.context["formset"]
    assert response.status_code == 400
    assert _errors(form, "code") == ["Give the criterion a code."]
    assert _errors(form, "name") == ["Give the criterion a name."]
    assert _errors(form, "lane") == ["Choose the lane: red, yellow or blue."]
    assert _errors(form, "valid_to") == ["The end of validity is before its start."]
    assert [str(message) for message in formset.non_form_errors()] == [
        "A criterion needs at least one condition."
    ]
    assert 'id="conditions-errors"' in response.content.decode()
    assert Criterion.objects.count() == 0


def test_a_code_in_use_is_refused_on_the_code(client, verified_login, risk_world):
    criterion(risk_world, CAR_RED, code="VEH-01")
    _analyst(client, verified_login, risk_world)

    response = client.post(NEW, _form([("origin", "in", "CN")], code="veh-01"))

    assert response.status_code == 400
    assert _errors(response.context["form"], "code") == ["Another criterion has this code."]
    assert CriterionVersion.objects.count() == 1


def test_an_unknown_office_is_refused_on_the_offices(client, verified_login, risk_world):
    _analyst(client, verified_login, risk_world)

    response = client.post(NEW, _form([("origin", "in", "CN")], offices=["XX999"]))

    assert response.status_code == 400
    assert _errors(response.context["form"], "offices") == [
        "Select a valid choice. XX999 is not one of the available choices."
    ]
    assert Criterion.objects.count() == 0


def test_editing_writes_the_next_version_and_the_old_one_keeps_its_hits(client, verified_login, risk_world):
    first = criterion(risk_world, CAR_RED, code="CARS")
    hit_declaration = score(assessed(risk_world))
    _analyst(client, verified_login, risk_world)
    url = reverse("risk:criterion-edit", args=[first.criterion_id])

    shown = client.get(url)
    response = client.post(
        url,
        _form(
            [("commodity_code", "starts_with", "8703"), ("origin", "in", "cn, hk")],
            initial_rows=1,
            code="IGNORED",
            name="Cars from China",
            lane="yellow",
        ),
    )

    first.refresh_from_db()
    second = CriterionVersion.objects.get(criterion=first.criterion, number=2)
    hit = CriterionHit.objects.get(declaration=hit_declaration)
    assert [row.initial for row in shown.context["formset"].forms[:1]] == [
        {"kind": "commodity_code", "operator": "starts_with", "values": "8703"}
    ]
    assert len(shown.context["formset"].forms) == 4
    assert 'name="code" value="CARS"' in shown.content.decode()
    assert response.status_code == 302
    assert response["Location"] == reverse("risk:criterion", args=[first.criterion_id])
    assert first.superseded_at is not None
    assert (second.lane, second.superseded_at, second.created_by) == (
        "yellow",
        None,
        risk_world["users"]["analyst"],
    )
    assert second.conditions == [
        {"kind": "commodity_code", "operator": "starts_with", "values": ["8703"]},
        {"kind": "origin", "operator": "in", "values": ["CN", "HK"]},
    ]
    assert Criterion.objects.get(pk=first.criterion_id).code == "CARS"
    assert Criterion.objects.get(pk=first.criterion_id).name == "Cars from China"
    assert hit.version == first
    assert first.conditions == CAR_RED


def test_a_condition_ticked_remove_is_left_out_of_the_next_version(client, verified_login, risk_world):
    first = criterion(
        risk_world,
        CAR_RED + [{"kind": "origin", "operator": "in", "values": ["CN"]}],
        code="CARS",
        valid_to=None,
    )
    _analyst(client, verified_login, risk_world)

    response = client.post(
        reverse("risk:criterion-edit", args=[first.criterion_id]),
        _form(
            [("commodity_code", "starts_with", "8703"), ("origin", "in", "CN")],
            initial_rows=2,
            deleted=(1,),
            name="Test criterion",
            officer_note="",
            internal_note="",
        ),
    )

    assert response.status_code == 302
    assert CriterionVersion.objects.get(criterion=first.criterion, number=2).conditions == CAR_RED


def test_an_edit_that_changes_nothing_writes_no_version(client, verified_login, risk_world):
    first = criterion(risk_world, CAR_RED, code="CARS")
    _analyst(client, verified_login, risk_world)

    response = client.post(
        reverse("risk:criterion-edit", args=[first.criterion_id]),
        _form(
            [("commodity_code", "starts_with", "8703")],
            initial_rows=1,
            name="Test criterion",
            officer_note="",
            internal_note="",
        ),
        follow=True,
    )

    assert [str(message) for message in response.context["messages"]] == [
        "Nothing was changed: no new version written."
    ]
    assert CriterionVersion.objects.filter(criterion=first.criterion).count() == 1


def test_a_refused_edit_keeps_the_current_version(client, verified_login, risk_world):
    first = criterion(risk_world, CAR_RED, code="CARS")
    _analyst(client, verified_login, risk_world)

    response = client.post(
        reverse("risk:criterion-edit", args=[first.criterion_id]),
        _form([("commodity_code", "starts_with", "8703"), ("item_count", "above", "many")], initial_rows=1),
    )

    first.refresh_from_db()
    assert response.status_code == 400
    assert _errors(response.context["formset"].forms[1], "values") == ["Give a number of zero or more."]
    assert first.superseded_at is None
    assert CriterionVersion.objects.filter(criterion=first.criterion).count() == 1


# Live or draft


def test_put_live_then_take_down(client, verified_login, risk_world):
    version = criterion(risk_world, CAR_RED, code="CARS", live=False)
    _analyst(client, verified_login, risk_world)
    url = reverse("risk:criterion-live", args=[version.criterion_id])

    put_live = client.post(url, {"live": "1"}, follow=True)
    live_state = Criterion.objects.get(pk=version.criterion_id).active
    taken_down = client.post(url, {"live": "0"}, follow=True)

    assert live_state is True
    assert [str(message) for message in put_live.context["messages"]] == ["Criterion CARS is live."]
    assert [str(message) for message in taken_down.context["messages"]] == [
        "Criterion CARS is taken down: a draft."
    ]
    assert Criterion.objects.get(pk=version.criterion_id).active is False
    assert list(
        AuditEvent.objects.filter(action__startswith="risk.criterion.")
        .order_by("pk")
        .values_list("action", flat=True)
    ) == ["risk.criterion.created", "risk.criterion.live", "risk.criterion.taken_down"]
    assert client.get(url).status_code == 405


def test_a_live_criterion_scores_and_a_draft_does_not(client, verified_login, risk_world):
    version = criterion(risk_world, CAR_RED, code="CARS", live=False)
    _analyst(client, verified_login, risk_world)

    green = score(assessed(risk_world))
    client.post(reverse("risk:criterion-live", args=[version.criterion_id]), {"live": "1"})
    red = score(assessed(risk_world))

    assert (green.lane, red.lane) == ("green", "red")


# The criterion's page


def test_the_criterion_page_shows_the_conditions_in_words_versions_and_figures(
    client, verified_login, risk_world
):
    version = criterion(
        risk_world,
        CAR_RED + [{"kind": "value_per_kg", "operator": "below", "values": ["50"]}],
        code="CARS",
        offices=["TMA01"],
        officer_note="Open the boot.",
    )
    score(assessed(risk_world))
    score(assessed(risk_world))
    score(
        assessed(risk_world, items=[item_data(commodity_code=FISH, description="Frozen fish", quantities={})])
    )
    _analyst(client, verified_login, risk_world)

    response = client.get(reverse("risk:criterion", args=[version.criterion_id]))

    content = response.content.decode()
    weeks = response.context["weeks"]
    assert response.status_code == 200
    assert response.context["conditions"] == [
        "Commodity code starts with one of 8703",
        "Customs value per kg of net mass is below 50",
    ]
    assert response.context["figures"].hits == 2
    assert [(number.number, hits) for number, hits in response.context["versions"]] == [(1, 2)]
    assert len(weeks) == 12
    assert (weeks[-1].hits, weeks[-1].registered, weeks[-1].hit_rate) == (2, 3, Decimal("66.7"))
    assert 'id="figure-hits">2</dd>' in content
    assert 'id="figure-yield">—</dd>' in content
    assert "Open the boot." in content
    assert content.count('<rect class="chart__bar"') == 24
    assert '<title id="hits-chart-title">Hits per week, last 12 weeks</title>' in content
    assert '<td class="number">66.7 %</td>' in content
    assert 'id="criterion-live-submit">Take down</button>' in content


def test_an_unknown_criterion_is_not_found(client, verified_login, risk_world):
    _analyst(client, verified_login, risk_world)

    assert client.get(reverse("risk:criterion", args=[999999])).status_code == 404
    assert client.get(reverse("risk:criterion-edit", args=[999999])).status_code == 404
    assert client.get(reverse("risk:backtest", args=[999999])).status_code == 404


# Backtests


def test_a_draft_is_backtested_from_its_page_and_the_results_are_shown(
    client, verified_login, risk_world, django_capture_on_commit_callbacks
):
    car_of_a = score(assessed(risk_world))
    car_of_b = score(assessed(risk_world, actor="trader_b", trader="101098765432"))
    score(
        assessed(risk_world, items=[item_data(commodity_code=FISH, description="Frozen fish", quantities={})])
    )
    draft = criterion(risk_world, CAR_RED, code="DRAFT", live=False)
    today = timezone.localdate()
    _analyst(client, verified_login, risk_world)

    with django_capture_on_commit_callbacks() as callbacks:
        asked = client.post(
            reverse("risk:criterion-backtest", args=[draft.criterion_id]),
            {
                "backtest-date_from": (today - datetime.timedelta(days=7)).isoformat(),
                "backtest-date_to": today.isoformat(),
            },
        )
    backtest = Backtest.objects.get()
    waiting = client.get(reverse("risk:backtest", args=[backtest.pk]))
    waiting_status = client.get(reverse("risk:backtest-status", args=[backtest.pk])).json()
    backtest_run(backtest.pk)
    done = client.get(reverse("risk:backtest", args=[backtest.pk]))
    done_status = client.get(reverse("risk:backtest-status", args=[backtest.pk])).json()

    content = done.content.decode()
    assert (car_of_a.lane, car_of_b.lane) == ("green", "green")
    assert asked.status_code == 302
    assert asked["Location"] == reverse("risk:backtest", args=[backtest.pk])
    assert len(callbacks) == 1
    assert (backtest.version, backtest.date_to, backtest.requested_by) == (
        draft,
        today,
        risk_world["users"]["analyst"],
    )
    assert waiting["Refresh"] == "2"
    assert (
        '<progress id="backtest-progress-bar" max="100" value="0">0 %</progress>' in waiting.content.decode()
    )
    assert waiting_status == {
        "id": backtest.pk,
        "status": "pending",
        "status_label": "Waiting",
        "percent_done": 0,
        "done": 0,
        "total": 0,
        "hits": 0,
        "finished": False,
    }
    assert "Refresh" not in done
    assert done_status["status"] == "done"
    assert (done_status["total"], done_status["done"], done_status["hits"]) == (3, 3, 2)
    assert done_status["finished"] is True
    assert done.context["results"]["hits"] == 2
    assert done.context["results"]["looked_at"] == 3
    assert done.context["results"]["would_raise"] == 2
    assert [(lane, count) for lane, _label, count in done.context["by_lane"]] == [("green", 2)]
    assert done.context["by_office"] == [("TMA01", 2)]
    assert done.context["by_trader"] == [
        ("Altyn Asyr HJ (101012345678)", 1),
        ("Balkan Import HJ (101098765432)", 1),
    ]
    assert 'id="result-would-raise">2</dd>' in content
    assert content.count('<rect class="chart__bar"') == 1
    assert "<title>TMA01: 2 hits</title>" in content
    assert Criterion.objects.get(pk=draft.criterion_id).active is False


def test_a_backtest_of_the_future_is_refused_next_to_its_field(client, verified_login, risk_world):
    version = criterion(risk_world, CAR_RED, live=False)
    today = timezone.localdate()
    _analyst(client, verified_login, risk_world)

    response = client.post(
        reverse("risk:criterion-backtest", args=[version.criterion_id]),
        {
            "backtest-date_from": today.isoformat(),
            "backtest-date_to": (today + datetime.timedelta(days=1)).isoformat(),
        },
    )

    assert response.status_code == 400
    assert _errors(response.context["backtest_form"], "date_to") == ["A backtest looks at the past only."]
    assert f'value="{(today + datetime.timedelta(days=1)).isoformat()}"' in response.content.decode()
    assert Backtest.objects.count() == 0


def test_a_backtest_without_dates_names_both(client, verified_login, risk_world):
    version = criterion(risk_world, CAR_RED, live=False)
    _analyst(client, verified_login, risk_world)

    response = client.post(
        reverse("risk:criterion-backtest", args=[version.criterion_id]),
        {"backtest-date_from": "", "backtest-date_to": ""},
    )

    form = response.context["backtest_form"]
    assert response.status_code == 400
    assert (_errors(form, "date_from"), _errors(form, "date_to")) == (
        ["Give the first day."],
        ["Give the last day."],
    )
    assert Backtest.objects.count() == 0


def test_a_failed_backtest_says_so(client, verified_login, risk_world):
    version = criterion(risk_world, CAR_RED, live=False)
    backtest = backtest_request(
        actor=risk_world["users"]["analyst"],
        version=version,
        date_from=timezone.localdate(),
        date_to=timezone.localdate(),
    )
    Backtest.objects.filter(pk=backtest.pk).update(status="failed", error="RuntimeError: boom")
    _analyst(client, verified_login, risk_world)

    response = client.get(reverse("risk:backtest", args=[backtest.pk]))

    assert "Refresh" not in response
    assert 'id="backtest-failed"' in response.content.decode()
    assert "RuntimeError: boom" in response.content.decode()


# Random selection rates


def _rates_post(**cells) -> dict:
    data = {
        f"rate-{office}-{lane}": "" for office in ("TMA01", "TMT01") for lane in ("red", "yellow", "blue")
    }
    data.update({f"rate-{key.replace('_', '-')}": value for key, value in cells.items()})
    return data


def test_the_rates_table_has_a_labelled_cell_per_office_and_lane(client, verified_login, risk_world):
    random_rate_set(
        actor=risk_world["users"]["analyst"], office=risk_world["office"], lane="red", percent="2.5"
    )
    _analyst(client, verified_login, risk_world)

    response = client.get(RATES)

    content = response.content.decode()
    assert response.status_code == 200
    assert re.findall(r'<tr data-office="(\w+)">', content) == ["TMA01", "TMT01"]
    assert (
        '<label class="visually-hidden" for="id_rate-TMA01-red">TMA01, Red lane (percent)</label>' in content
    )
    assert 'name="rate-TMA01-red" value="2.50"' in content
    assert content.count('inputmode="decimal"') == 6


def test_saving_the_rates_writes_only_the_changed_cells(client, verified_login, risk_world):
    random_rate_set(
        actor=risk_world["users"]["analyst"], office=risk_world["office"], lane="red", percent="2.5"
    )
    events = AuditEvent.objects.filter(action="risk.random_rate.set").count()
    _analyst(client, verified_login, risk_world)

    response = client.post(
        RATES, _rates_post(TMA01_red="2.50", TMA01_yellow="5", TMT01_blue="0,5"), follow=True
    )

    assert [str(message) for message in response.context["messages"]] == [
        "Random selection rates saved: 2 changed."
    ]
    assert dict(
        ((office, lane), percent)
        for office, lane, percent in RandomSelectionRate.objects.values_list(
            "office__code", "lane", "percent"
        )
    ) == {
        ("TMA01", "red"): Decimal("2.50"),
        ("TMA01", "yellow"): Decimal("5.00"),
        ("TMT01", "blue"): Decimal("0.50"),
    }
    assert AuditEvent.objects.filter(action="risk.random_rate.set").count() == events + 2


def test_a_bad_percent_is_shown_in_its_cell_and_nothing_is_saved(client, verified_login, risk_world):
    random_rate_set(
        actor=risk_world["users"]["analyst"], office=risk_world["office"], lane="red", percent="2.5"
    )
    _analyst(client, verified_login, risk_world)

    response = client.post(
        RATES, _rates_post(TMA01_red="3", TMA01_yellow="150", TMT01_red="ten", TMT01_blue="1")
    )

    form = response.context["form"]
    content = response.content.decode()
    assert response.status_code == 400
    assert _errors(form, "rate-TMA01-yellow") == ["Give a percentage from 0 to 100."]
    assert _errors(form, "rate-TMT01-red") == ["Give a percentage from 0 to 100."]
    assert _errors(form, "rate-TMA01-red") == []
    assert 'name="rate-TMA01-yellow" value="150"' in content
    assert list(RandomSelectionRate.objects.values_list("office__code", "lane", "percent")) == [
        ("TMA01", "red", Decimal("2.50"))
    ]


def test_emptying_a_set_rate_is_refused(client, verified_login, risk_world):
    random_rate_set(
        actor=risk_world["users"]["analyst"], office=risk_world["office"], lane="red", percent="2.5"
    )
    _analyst(client, verified_login, risk_world)

    response = client.post(RATES, _rates_post(TMA01_red=""))

    assert response.status_code == 400
    assert _errors(response.context["form"], "rate-TMA01-red") == ["Give a percentage from 0 to 100."]
    assert RandomSelectionRate.objects.get().percent == Decimal("2.50")
