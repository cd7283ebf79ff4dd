"""The officer screens: the finder, the declaration page, the moves, the attached files."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from declarations import views
from declarations.choices import TRANSITIONS, Side, Status
from declarations.forms import ActionForm
from declarations.models import Declaration, OfficeDeclarationSettings, StatusChange
from declarations.services.drafts import declaration_create, declaration_document_attach
from declarations.services.lifecycle import (
    declaration_lodge,
    declaration_query,
    declaration_request_amendment,
)
from tests.declarations.conftest import declaration_data, item_data

pytestmark = pytest.mark.django_db
D = Decimal
FINDER = reverse("declarations:finder")


def _lodged(world, user="trader_a", **overrides) -> Declaration:
    """A declaration lodged (hence registered and assessed at TMA01) by ``user``."""
    actor = world["users"][user]
    draft = declaration_create(actor=actor, data=declaration_data(**overrides))
    return declaration_lodge(actor=actor, declaration=draft)


def _found(response) -> list[int]:
    return [declaration.pk for declaration in response.context["page"].rows]


def _officer_client(client, verified_login, world, name="officer"):
    return verified_login(client, world["users"][name])


def test_the_finder_finds_by_the_full_number_and_by_its_last_part(client, verified_login, world):
    first = _lodged(world, lrn="LRN-0001")
    second = _lodged(world, lrn="LRN-0002")
    _officer_client(client, verified_login, world)

    by_full_number = client.get(FINDER, {"number": second.number})
    by_last_part = client.get(FINDER, {"number": str(first.registration_number)})
    by_wrong_office = client.get(FINDER, {"number": second.number.replace("TMA01", "TMT01")})

    assert second.number == f"TMA01 {world['today'].year} C 2"
    assert _found(by_full_number) == [second.pk]
    assert _found(by_last_part) == [first.pk]
    assert _found(by_wrong_office) == []


def test_the_finder_filters_by_lrn(client, verified_login, world):
    _lodged(world, lrn="LRN-0001")
    wanted = _lodged(world, lrn="LRN-0002")
    _officer_client(client, verified_login, world)

    response = client.get(FINDER, {"lrn": "LRN-0002"})

    assert response.status_code == 200
    assert _found(response) == [wanted.pk]


def test_the_finder_filters_by_trader_taxpayer_id_or_name(client, verified_login, world):
    of_a = _lodged(world, lrn="LRN-A")
    of_b = _lodged(world, user="trader_b", lrn="LRN-B", trader="101098765432")
    _officer_client(client, verified_login, world)

    by_name = client.get(FINDER, {"trader": "balkan"})
    by_taxpayer_id = client.get(FINDER, {"trader": "101012345678"})

    assert _found(by_name) == [of_b.pk]
    assert _found(by_taxpayer_id) == [of_a.pk]


def test_the_finder_filters_by_status(client, verified_login, world):
    assessed = _lodged(world, lrn="LRN-0001")
    queried = _lodged(world, lrn="LRN-0002")
    declaration_query(actor=world["users"]["officer"], declaration=queried, reason="Send the invoice.")
    _officer_client(client, verified_login, world)

    only_queried = client.get(FINDER, {"status": Status.QUERIED})
    only_assessed = client.get(FINDER, {"status": Status.ASSESSED})

    assert _found(only_queried) == [queried.pk]
    assert _found(only_assessed) == [assessed.pk]


def test_each_row_links_to_the_declaration_and_names_its_status_in_text_and_class(
    client, verified_login, world
):
    declaration = _lodged(world)
    _officer_client(client, verified_login, world)

    response = client.get(FINDER)

    content = response.content.decode()
    assert _found(response) == [declaration.pk]
    assert 'class="declaration-row status--assessed"' in content
    assert '<span class="status-assessed">Assessed</span>' in content
    assert f'href="{reverse("declarations:detail", args=[declaration.pk])}"' in content


def test_the_finder_pages_by_keyset_with_next_and_previous_and_never_counts(
    client, verified_login, world, monkeypatch
):
    oldest, older, newer, newest = (_lodged(world, lrn=f"LRN-{n}") for n in range(4))
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    _officer_client(client, verified_login, world)

    with CaptureQueriesContext(connection) as queries:
        first_page = client.get(FINDER, {"office": "TMA01"})
    second_page = client.get(FINDER, {"office": "TMA01", "after": first_page.context["page"].next_cursor})
    back = client.get(FINDER, {"office": "TMA01", "before": second_page.context["page"].previous_cursor})

    first, second = first_page.context["page"], second_page.context["page"]
    assert _found(first_page) == [newest.pk, newer.pk]
    assert (first.has_previous, first.has_next) == (False, True)
    assert f'href="?office=TMA01&amp;after={first.next_cursor}"' in first_page.content.decode()
    assert _found(second_page) == [older.pk, oldest.pk]
    assert (second.has_previous, second.has_next) == (True, False)
    assert f'href="?office=TMA01&amp;before={second.previous_cursor}"' in second_page.content.decode()
    assert _found(back) == [newest.pk, newer.pk]
    assert (back.context["page"].has_previous, back.context["page"].has_next) == (False, True)
    assert not [query for query in queries.captured_queries if "COUNT(" in query["sql"].upper()]


def test_rows_created_in_the_same_instant_are_neither_lost_nor_repeated_across_pages(
    client, verified_login, world, monkeypatch
):
    declarations = [_lodged(world, lrn=f"LRN-{n}") for n in range(3)]
    Declaration.objects.update(created_at=declarations[0].created_at)
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    _officer_client(client, verified_login, world)

    first_page = client.get(FINDER)
    second_page = client.get(FINDER, {"after": first_page.context["page"].next_cursor})

    assert _found(first_page) + _found(second_page) == sorted(
        (declaration.pk for declaration in declarations), reverse=True
    )


def test_an_officer_of_another_office_neither_finds_nor_opens_the_declaration(client, verified_login, world):
    declaration = _lodged(world)
    _officer_client(client, verified_login, world, "officer_other")

    found = client.get(FINDER, {"number": declaration.number})
    opened = client.get(reverse("declarations:detail", args=[declaration.pk]))

    assert _found(found) == []
    assert opened.status_code == 404


def test_a_trader_user_cannot_open_the_finder_nor_the_declaration(client, world):
    declaration = _lodged(world)
    client.force_login(world["users"]["trader_a"])

    finder = client.get(FINDER)
    detail = client.get(reverse("declarations:detail", args=[declaration.pk]))

    assert finder.status_code == 403
    assert detail.status_code == 403


def test_an_anonymous_visitor_is_sent_to_sign_in(client, world):
    response = client.get(FINDER)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={FINDER}"


def test_the_declaration_page_shows_the_assessment_and_the_history(client, verified_login, world):
    declaration = _lodged(world)
    _officer_client(client, verified_login, world)

    response = client.get(reverse("declarations:detail", args=[declaration.pk]))

    content = response.content.decode()
    assert response.status_code == 200
    assert f"Declaration {declaration.number}" in content
    assert 'id="assessment-total"><strong>11,558.75</strong>' in content
    assert 'id="declaration-status" class="status-assessed">Assessed</span>' in content
    assert "1 USD = 3.5000000000" in content
    assert [line.measure_type for line in response.context["detail"]["tax_lines"]] == [
        "import_duty",
        "excise",
        "vat",
        "customs_fee",
    ]
    assert [change.to_status for change in response.context["detail"]["history"]] == [
        "lodged",
        "registered",
        "assessed",
    ]
    assert sorted(response.context["action_forms"]) == ["cancel", "query", "reassess"]


def test_the_action_forms_require_a_reason_exactly_where_the_transitions_table_does():
    officer_moves = [transition for transition in TRANSITIONS.values() if transition.side == Side.OFFICER]

    required = {
        transition.name: ActionForm(transition=transition).fields["reason"].required
        for transition in officer_moves
    }

    assert required == {transition.name: transition.reason_required for transition in officer_moves}


def test_a_query_moves_the_state_and_writes_the_status_change(client, verified_login, world):
    declaration = _lodged(world)
    _officer_client(client, verified_login, world)
    url = reverse("declarations:action", args=[declaration.pk, "query"])

    response = client.post(url, {"version": declaration.version, "reason": "Send the freight invoice."})

    declaration.refresh_from_db()
    change = StatusChange.objects.filter(declaration=declaration).latest("pk")
    assert response.status_code == 302
    assert response["Location"] == reverse("declarations:detail", args=[declaration.pk])
    assert declaration.status == Status.QUERIED
    assert (change.action, change.from_status, change.to_status) == ("query", "assessed", "queried")
    assert change.actor == world["users"]["officer"]
    assert change.reason == "Send the freight invoice."


def test_a_stale_version_is_refused_with_a_message_and_nothing_changes(client, verified_login, world):
    declaration = _lodged(world)
    version = declaration.version
    changes = StatusChange.objects.filter(declaration=declaration).count()
    _officer_client(client, verified_login, world)
    url = reverse("declarations:action", args=[declaration.pk, "query"])

    response = client.post(url, {"version": version - 1, "reason": "Send the invoice."}, follow=True)

    declaration.refresh_from_db()
    shown = [str(message) for message in response.context["messages"]]
    assert shown == [
        f"The declaration was changed by someone else in the meantime (now version {version}). "
        "Reload it and try again."
    ]
    assert declaration.status == Status.ASSESSED
    assert declaration.version == version
    assert StatusChange.objects.filter(declaration=declaration).count() == changes


def test_a_query_without_a_reason_is_refused_next_to_the_field_and_nothing_changes(
    client, verified_login, world
):
    declaration = _lodged(world)
    version = declaration.version
    changes = StatusChange.objects.filter(declaration=declaration).count()
    _officer_client(client, verified_login, world)
    url = reverse("declarations:action", args=[declaration.pk, "query"])

    response = client.post(url, {"version": version, "reason": "  "})

    declaration.refresh_from_db()
    assert response.status_code == 400
    assert response.context["action_forms"]["query"].errors == {
        "reason": ["Give the reason; it is kept in the history."]
    }
    assert declaration.status == Status.ASSESSED
    assert declaration.version == version
    assert StatusChange.objects.filter(declaration=declaration).count() == changes


def test_a_declarant_move_cannot_be_posted_to_the_officer_screen(client, verified_login, world):
    declaration = _lodged(world)
    version = declaration.version
    _officer_client(client, verified_login, world)

    response = client.post(
        reverse("declarations:action", args=[declaration.pk, "request_cancellation"]),
        {"version": version, "reason": "Please"},
    )

    declaration.refresh_from_db()
    assert response.status_code == 404
    assert declaration.status == Status.ASSESSED
    assert declaration.version == version


def test_a_trader_user_cannot_post_an_officer_move(client, world):
    declaration = _lodged(world)
    version = declaration.version
    client.force_login(world["users"]["trader_a"])

    response = client.post(
        reverse("declarations:action", args=[declaration.pk, "cancel"]), {"version": version, "reason": "x"}
    )

    declaration.refresh_from_db()
    assert response.status_code == 403
    assert declaration.status == Status.ASSESSED
    assert declaration.version == version


def test_a_move_not_possible_in_this_state_is_refused_with_a_message(client, verified_login, world):
    declaration = _lodged(world)
    version = declaration.version
    _officer_client(client, verified_login, world)

    response = client.post(
        reverse("declarations:action", args=[declaration.pk, "release"]), {"version": version}, follow=True
    )

    declaration.refresh_from_db()
    assert [str(message) for message in response.context["messages"]] == [
        "Release is not possible: the declaration is assessed."
    ]
    assert declaration.status == Status.ASSESSED
    assert declaration.version == version


def test_a_reassessment_applies_the_corrected_price_and_assesses_again(client, verified_login, world):
    declaration = _lodged(world)
    _officer_client(client, verified_login, world)
    item = declaration.items.get(number=1)

    response = client.post(
        reverse("declarations:action", args=[declaration.pk, "reassess"]),
        {
            "version": declaration.version,
            "reason": "Invoice checked: the price is 5,000 USD.",
            "general-invoice_amount": "5000.00",
            "item-1-commodity_code": item.commodity_code,
            "item-1-origin": "CN",
            "item-1-invoice_price": "5000.00",
            "item-1-net_mass": "1100",
            "item-1-gross_mass": "1200",
            "item-1-quantity_item": "1",
        },
    )

    declaration.refresh_from_db()
    item.refresh_from_db()
    change = StatusChange.objects.filter(declaration=declaration).latest("pk")
    assert response.status_code == 302
    assert declaration.status == Status.ASSESSED
    assert item.invoice_price == D("5000.0000")
    assert declaration.customs_value == D("17500.00")
    assert (change.action, change.reason) == ("reassess", "Invoice checked: the price is 5,000 USD.")


def test_an_attached_file_is_served_to_the_office_only(client, verified_login, world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    trader = world["users"]["trader_a"]
    draft = declaration_create(actor=trader, data=declaration_data())
    document = declaration_document_attach(
        actor=trader,
        declaration=draft,
        document_type="ST1",
        reference="CO-2026-17",
        file=SimpleUploadedFile("origin.pdf", b"%PDF-1.4 certificate", content_type="application/pdf"),
    )
    declaration = declaration_lodge(actor=trader, declaration=draft)
    url = reverse("declarations:document-file", args=[declaration.pk, document.pk])
    _officer_client(client, verified_login, world)

    served = client.get(url)
    page = client.get(reverse("declarations:detail", args=[declaration.pk]))
    _officer_client(client, verified_login, world, "officer_other")
    refused = client.get(url)

    assert served.status_code == 200
    assert served["Content-Type"] == "application/pdf"
    assert b"".join(served.streaming_content) == b"%PDF-1.4 certificate"
    assert f'href="{url}"' in page.content.decode()
    assert refused.status_code == 404


def test_the_officer_sees_the_requested_amendment_and_accepting_it_applies_it(client, verified_login, world):
    trader = world["users"]["trader_a"]
    declaration = _lodged(world)
    declaration = declaration_request_amendment(
        actor=trader, declaration=declaration, changes={"delivery_place": "Mary"}, reason="Wrong place."
    )
    _officer_client(client, verified_login, world)
    detail_url = reverse("declarations:detail", args=[declaration.pk])

    page = client.get(detail_url)
    response = client.post(
        reverse("declarations:action", args=[declaration.pk, "accept_amendment"]),
        {"version": declaration.version, "reason": ""},
    )

    declaration.refresh_from_db()
    change = StatusChange.objects.filter(declaration=declaration).latest("pk")
    assert page.context["pending_changes"] == [("delivery place", "Mary")]
    assert sorted(page.context["action_forms"]) == ["accept_amendment", "cancel", "refuse_amendment"]
    assert response.status_code == 302
    assert declaration.status == Status.ASSESSED
    assert declaration.delivery_place == "Mary"
    assert declaration.pending_changes is None
    assert (change.action, change.from_status, change.to_status) == (
        "accept_amendment",
        "amendment_requested",
        "assessed",
    )


def test_a_reassessment_that_changes_nothing_is_refused_and_nothing_changes(client, verified_login, world):
    declaration = _lodged(world)
    version = declaration.version
    _officer_client(client, verified_login, world)

    response = client.post(
        reverse("declarations:action", args=[declaration.pk, "reassess"]),
        {
            "version": version,
            "reason": "Checked.",
            "general-invoice_amount": "10000.0000",
            "item-1-commodity_code": declaration.items.get().commodity_code,
            "item-1-origin": "CN",
            "item-1-invoice_price": "10000.0000",
            "item-1-net_mass": "1100.000000",
            "item-1-gross_mass": "1200.000000",
            "item-1-quantity_item": "1",
        },
    )

    declaration.refresh_from_db()
    assert response.status_code == 400
    assert response.context["action_forms"]["reassess"].non_field_errors() == [
        "Change at least one figure to re-assess."
    ]
    assert declaration.version == version


def test_a_service_error_on_an_item_is_shown_next_to_the_item_field(client, verified_login, world):
    declaration = _lodged(world)
    version = declaration.version
    total = declaration.total_taxes
    _officer_client(client, verified_login, world)

    response = client.post(
        reverse("declarations:action", args=[declaration.pk, "reassess"]),
        {
            "version": version,
            "reason": "Checked.",
            "general-invoice_amount": "10000.0000",
            "item-1-commodity_code": "9999999999",
            "item-1-origin": "CN",
            "item-1-invoice_price": "10000.0000",
            "item-1-net_mass": "1100.000000",
            "item-1-gross_mass": "1200.000000",
            "item-1-quantity_item": "1",
        },
    )

    declaration.refresh_from_db()
    assert response.status_code == 400
    assert list(response.context["item_forms"][0].errors) == ["commodity_code"]
    assert declaration.version == version
    assert declaration.total_taxes == total
    assert declaration.items.get().commodity_code != "9999999999"


def test_the_finder_reads_in_the_same_number_of_queries_for_one_row_or_many(client, verified_login, world):
    _lodged(world, lrn="LRN-0")
    _officer_client(client, verified_login, world)
    client.get(FINDER)  # the session and the user's roles are read once per request either way
    with CaptureQueriesContext(connection) as one_row:
        client.get(FINDER)
    for n in range(1, 4):
        _lodged(world, lrn=f"LRN-{n}")
        _lodged(world, user="trader_b", lrn=f"LRN-B{n}", trader="101098765432")

    with CaptureQueriesContext(connection) as seven_rows:
        response = client.get(FINDER)

    assert len(_found(response)) == 7
    assert len(seven_rows.captured_queries) == len(one_row.captured_queries)


def test_the_declaration_page_reads_in_the_same_number_of_queries_whatever_the_items(
    client, verified_login, world
):
    one_item = _lodged(world, lrn="LRN-1")
    three_items = _lodged(world, lrn="LRN-3", items=[item_data(), item_data(), item_data()])
    _officer_client(client, verified_login, world)
    client.get(reverse("declarations:detail", args=[one_item.pk]))

    with CaptureQueriesContext(connection) as for_one:
        client.get(reverse("declarations:detail", args=[one_item.pk]))
    with CaptureQueriesContext(connection) as for_three:
        response = client.get(reverse("declarations:detail", args=[three_items.pk]))

    assert len(response.context["item_forms"]) == 3
    assert len(for_three.captured_queries) == len(for_one.captured_queries)


def test_an_officer_registers_a_lodged_declaration_without_a_reason(client, verified_login, world):
    OfficeDeclarationSettings.objects.create(office=world["office"], register_on_lodgement=False)
    declaration = _lodged(world)
    _officer_client(client, verified_login, world)

    page = client.get(reverse("declarations:detail", args=[declaration.pk]))
    response = client.post(
        reverse("declarations:action", args=[declaration.pk, "register"]), {"version": declaration.version}
    )

    declaration.refresh_from_db()
    assert sorted(page.context["action_forms"]) == ["register", "reject"]
    assert 'name="reason"' not in page.content.decode().split('id="action-register"')[1].split("</form>")[0]
    assert response.status_code == 302
    assert declaration.status == Status.ASSESSED
    assert declaration.number == f"TMA01 {world['today'].year} C 1"


def test_a_period_that_ends_before_it_starts_is_shown_next_to_the_field(client, verified_login, world):
    _lodged(world)
    _officer_client(client, verified_login, world)

    response = client.get(FINDER, {"date_from": "2026-12-01", "date_to": "2026-11-01"})

    assert response.context["page"] is None
    assert response.context["form"].errors == {"date_to": ["The end of the period is before its start."]}


def test_a_move_posted_without_the_version_is_refused_and_nothing_changes(client, verified_login, world):
    declaration = _lodged(world)
    version = declaration.version
    _officer_client(client, verified_login, world)

    response = client.post(
        reverse("declarations:action", args=[declaration.pk, "query"]), {"reason": "Send the invoice."}
    )

    declaration.refresh_from_db()
    assert response.status_code == 400
    assert "The page is out of date. Reload it and try again." in response.content.decode()
    assert declaration.status == Status.ASSESSED
    assert declaration.version == version


def test_the_time_release_study_shows_hours_by_office_and_lane_with_a_bar(client, verified_login, world):
    import datetime

    from django.utils import timezone

    from declarations.services.control import declaration_lane_assign
    from declarations.services.lifecycle import declaration_mark_paid

    for lrn, hours in (("TRS-1", 2), ("TRS-2", 6)):
        lodged = _lodged(world, lrn=lrn)
        declaration_lane_assign(declaration_id=lodged.pk, lane="green")
        # Green needs no control: the payment releases the goods at once.
        declaration = declaration_mark_paid(actor=None, declaration=Declaration.objects.get(pk=lodged.pk))
        assert declaration.status == Status.RELEASED
        Declaration.objects.filter(pk=declaration.pk).update(
            registered_at=declaration.released_at - datetime.timedelta(hours=hours)
        )
    today = timezone.localdate().isoformat()
    _officer_client(client, verified_login, world)

    response = client.get(reverse("declarations:time-release"), {"date_from": today, "date_to": today})

    rows = response.context["rows"]
    assert response.status_code == 200
    assert rows == [
        {"office": "TMA01", "lane": "green", "declarations": 2, "average_hours": 4.0, "bar_percent": 100}
    ]
    assert 'style="width: 100%"' in response.content.decode()


def test_the_time_release_study_is_for_officers_only(client, world):
    client.force_login(world["users"]["trader_a"])

    assert client.get(reverse("declarations:time-release")).status_code == 403
