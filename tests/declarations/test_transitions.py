"""Every move of TRANSITIONS, from each of its source states, and the moves the table refuses."""

from decimal import Decimal

import pytest

from customs.models import AuditEvent
from declarations.choices import TRANSITIONS, Side, Status
from declarations.models import Declaration, OfficeDeclarationSettings, StatusChange
from declarations.services import lifecycle
from declarations.services.drafts import declaration_create
from declarations.services.errors import DeclarationInvalid, NotAuthorised, TransitionNotAllowed
from tests.declarations.conftest import control_cleared, declaration_data, item_data

pytestmark = pytest.mark.django_db
D = Decimal
S = Status

AUDIT_ACTIONS = {
    "lodge": "lodged",
    "register": "registered",
    "reject": "rejected",
    "query": "queried",
    "respond": "query_answered",
    "request_amendment": "amendment_requested",
    "accept_amendment": "amendment_accepted",
    "refuse_amendment": "amendment_refused",
    "reassess": "reassessed",
    "mark_paid": "paid",
    "release": "released",
    "withdraw": "withdrawn",
    "request_cancellation": "cancellation_requested",
    "refuse_cancellation": "cancellation_refused",
    "cancel": "cancelled",
}


def registers_by_hand(world, office=None):
    OfficeDeclarationSettings.objects.update_or_create(
        office=office or world["office"], defaults={"register_on_lodgement": False}
    )


def declaration_in(world, status, *, declarant="trader_a", lrn="LRN-0001", **overrides):
    """A declaration of trader A (declared by ``declarant``) driven through the services into ``status``.

    No service leaves a declaration ``registered`` (registration assesses at once), so that state is
    set on a lodged declaration directly: the table still allows moves from it.
    """
    users = world["users"]
    actor, officer = users[declarant], users["officer"]
    declaration = declaration_create(actor=actor, data=declaration_data(lrn=lrn, **overrides))
    if status == S.STORED:
        return declaration
    if status in (S.LODGED, S.REGISTERED):
        registers_by_hand(world)
    declaration = lifecycle.declaration_lodge(actor=actor, declaration=declaration)
    if status == S.LODGED:
        return declaration
    if status == S.REGISTERED:
        Declaration.objects.filter(pk=declaration.pk).update(status=S.REGISTERED)
        return Declaration.objects.get(pk=declaration.pk)
    assert declaration.status == S.ASSESSED
    if status == S.ASSESSED:
        return declaration
    if status == S.QUERIED:
        return lifecycle.declaration_query(actor=officer, declaration=declaration, reason="Send the invoice")
    if status == S.AMENDMENT_REQUESTED:
        return lifecycle.declaration_request_amendment(
            actor=actor, declaration=declaration, changes={"delivery_place": "Mary"}, reason="Wrong place"
        )
    if status == S.CANCELLATION_REQUESTED:
        return lifecycle.declaration_request_cancellation(
            actor=actor, declaration=declaration, reason="Goods returned"
        )
    if status == S.PAID:
        paid = lifecycle.declaration_mark_paid(actor=None, declaration=declaration, receipt_reference="R-1")
        return control_cleared(paid)
    if status == S.RELEASED:
        paid = control_cleared(lifecycle.declaration_mark_paid(actor=None, declaration=declaration))
        return lifecycle.declaration_release(actor=officer, declaration=paid)
    if status == S.CANCELLED:
        return lifecycle.declaration_cancel(actor=officer, declaration=declaration, reason="Duplicate")
    raise AssertionError(f"no way to {status}")


def _arguments(name: str) -> dict:
    arguments = {}
    if TRANSITIONS[name].reason_required:
        arguments["reason"] = f"reason for {name}"
    if name == "request_amendment":
        arguments["changes"] = {"delivery_place": "Mary"}
    if name == "reassess":
        arguments["changes"] = {"item_changes": {"1": {"description": "Passenger car, petrol, 1,498 cc"}}}
    if name == "mark_paid":
        arguments["receipt_reference"] = "R-42"
    return arguments


def _actor(world, name):
    side = TRANSITIONS[name].side
    if side == Side.DECLARANT:
        return world["users"]["trader_a"]
    if side == Side.OFFICER:
        return world["users"]["officer"]
    return None  # the system (the payments module)


def _snapshot(declaration):
    row = Declaration.objects.get(pk=declaration.pk)
    return (
        row.status,
        row.version,
        StatusChange.objects.filter(declaration=declaration).count(),
        AuditEvent.objects.count(),
    )


MOVES = [
    (name, source)
    for name, transition in TRANSITIONS.items()
    # register assesses at once and assess has no service of its own: both tested below
    if name not in ("assess", "register")
    for source in sorted(transition.sources)
]


@pytest.mark.parametrize(("name", "source"), MOVES)
def test_every_move_from_every_source_state(world, name, source):
    if name == "lodge":
        registers_by_hand(world)
    declaration = declaration_in(world, source)
    status_before = Declaration.objects.get(pk=declaration.pk).status_before
    actor = _actor(world, name)
    changes_before = StatusChange.objects.filter(declaration=declaration).count()
    audit_before = AuditEvent.objects.count()
    arguments = _arguments(name)

    moved = lifecycle.COMMANDS[name](actor=actor, declaration=declaration, **arguments)

    target = TRANSITIONS[name].target or status_before
    change = StatusChange.objects.filter(declaration=declaration).order_by("pk").last()
    event = AuditEvent.objects.order_by("-sequence").first()
    moved.refresh_from_db()
    assert moved.status == target
    assert moved.version == declaration.version + 1
    assert StatusChange.objects.filter(declaration=declaration).count() == changes_before + 1
    assert (change.action, change.from_status, change.to_status) == (name, source, target)
    assert change.actor == actor
    assert change.reason == arguments.get("reason", "")
    assert AuditEvent.objects.count() == audit_before + 1
    assert event.action == f"declarations.declaration.{AUDIT_ACTIONS[name]}"
    assert event.object_id == str(declaration.pk)
    assert event.office_code == "TMA01"
    assert event.actor == actor
    assert event.before == {"status": source}
    assert event.after["status"] == target
    assert event.after["version"] == moved.version
    assert event.after.get("reason") == arguments.get("reason")


def test_registration_passes_through_registered_to_assessed(world):
    declaration = declaration_in(world, S.LODGED)
    officer = world["users"]["officer"]
    audit_before = AuditEvent.objects.count()

    registered = lifecycle.declaration_register(actor=officer, declaration=declaration)

    event = AuditEvent.objects.order_by("-sequence").first()
    year = world["today"].year
    assert registered.status == S.ASSESSED
    assert registered.version == declaration.version + 1
    assert AuditEvent.objects.count() == audit_before + 1
    assert event.action == "declarations.declaration.registered"
    assert event.actor == officer
    assert event.before == {"status": "lodged"}
    assert event.after == {
        "status": "assessed",
        "version": registered.version,
        "number": f"TMA01 {year} C 1",
        "assessment": f"TMA01 {year} A 1",
        "total_taxes": "11558.75",
    }

    rows = list(
        StatusChange.objects.filter(declaration=declaration)
        .order_by("pk")
        .values_list("action", "from_status", "to_status", "actor")
    )
    trader = world["users"]["trader_a"]
    assert rows == [
        ("lodge", "stored", "lodged", trader.pk),
        ("register", "lodged", "registered", officer.pk),
        ("assess", "registered", "assessed", officer.pk),
    ]


# One state outside the sources of each move.
REFUSED_FROM = {
    "lodge": S.ASSESSED,
    "register": S.STORED,
    "reject": S.ASSESSED,
    "query": S.LODGED,
    "respond": S.ASSESSED,
    "request_amendment": S.QUERIED,
    "accept_amendment": S.ASSESSED,
    "refuse_amendment": S.ASSESSED,
    "reassess": S.LODGED,
    "mark_paid": S.LODGED,
    "release": S.ASSESSED,
    "withdraw": S.ASSESSED,
    "request_cancellation": S.QUERIED,
    "refuse_cancellation": S.ASSESSED,
    "cancel": S.RELEASED,
}


def test_every_move_has_a_refused_state():
    assert set(REFUSED_FROM) == set(TRANSITIONS) - {"assess"}
    assert all(state not in TRANSITIONS[name].sources for name, state in REFUSED_FROM.items())


@pytest.mark.parametrize(("name", "source"), sorted(REFUSED_FROM.items()))
def test_a_move_from_a_state_outside_its_sources_is_refused_and_changes_nothing(world, name, source):
    declaration = declaration_in(world, source)
    before = _snapshot(declaration)

    with pytest.raises(TransitionNotAllowed):
        lifecycle.COMMANDS[name](actor=_actor(world, name), declaration=declaration, **_arguments(name))

    assert _snapshot(declaration) == before


@pytest.mark.parametrize(
    ("name", "source", "who"),
    [
        ("register", S.LODGED, "trader_a"),
        ("register", S.LODGED, "broker"),
        ("register", S.LODGED, "officer_other"),
        ("reject", S.LODGED, "trader_a"),
        ("query", S.ASSESSED, "officer_other"),
        ("release", S.PAID, "trader_a"),
        ("cancel", S.ASSESSED, "trader_a"),
        ("lodge", S.STORED, "officer"),
        ("lodge", S.STORED, "trader_b"),
        ("lodge", S.STORED, "broker_other"),
        ("lodge", S.STORED, "broker"),  # trader A declared itself: the broker is not its declarant
        ("respond", S.QUERIED, "officer"),
        ("request_amendment", S.ASSESSED, "supervisor"),
        ("withdraw", S.STORED, "trader_b"),
    ],
)
def test_a_move_by_the_wrong_side_is_not_authorised_and_changes_nothing(world, name, source, who):
    declaration = declaration_in(world, source)
    before = _snapshot(declaration)

    with pytest.raises(NotAuthorised):
        lifecycle.COMMANDS[name](actor=world["users"][who], declaration=declaration, **_arguments(name))

    assert _snapshot(declaration) == before


REASONED = sorted(
    (name, sorted(transition.sources)[0])
    for name, transition in TRANSITIONS.items()
    if transition.reason_required
)


@pytest.mark.parametrize(("name", "source"), REASONED)
@pytest.mark.parametrize("reason", ["", "   "])
def test_a_move_needing_a_reason_is_refused_without_one(world, name, source, reason):
    if source == S.REGISTERED:
        source = S.ASSESSED
    declaration = declaration_in(world, source)
    before = _snapshot(declaration)

    with pytest.raises(DeclarationInvalid) as raised:
        lifecycle.COMMANDS[name](
            actor=_actor(world, name), declaration=declaration, **{**_arguments(name), "reason": reason}
        )

    assert [(error.field, error.code) for error in raised.value.errors] == [("reason", "required")]
    assert _snapshot(declaration) == before


def test_a_query_and_its_answer_return_to_the_state_before(world):
    declaration = declaration_in(world, S.ASSESSED)
    users = world["users"]

    queried = lifecycle.declaration_query(actor=users["officer"], declaration=declaration, reason="Invoice?")
    answered = lifecycle.declaration_respond(actor=users["trader_a"], declaration=queried, reason="Attached")

    assert queried.status == S.QUERIED
    assert queried.status_before == S.ASSESSED
    assert answered.status == S.ASSESSED
    assert answered.status_before == ""
    assert list(
        StatusChange.objects.filter(declaration=declaration, action__in=["query", "respond"])
        .order_by("pk")
        .values_list("action", "from_status", "to_status", "reason")
    ) == [("query", "assessed", "queried", "Invoice?"), ("respond", "queried", "assessed", "Attached")]


def test_a_query_of_a_registered_declaration_returns_to_registered(world):
    declaration = declaration_in(world, S.REGISTERED)
    users = world["users"]

    queried = lifecycle.declaration_query(actor=users["officer"], declaration=declaration, reason="Invoice?")
    answered = lifecycle.declaration_respond(actor=users["trader_a"], declaration=queried, reason="Attached")

    assert answered.status == S.REGISTERED


def test_an_accepted_amendment_is_reassessed_with_the_new_figures(world):
    declaration = declaration_in(world, S.ASSESSED)
    users = world["users"]
    # Two cars for 20,000 USD instead of one for 10,000 (CIF, 1 USD = 3.5 TMT):
    # customs value 70,000.00; duty 10% = 7,000.00 (above the 2 × 100 EUR × 4.0 = 800 minimum);
    # excise 5% × 77,000.00 = 3,850.00; VAT 15% × 80,850.00 = 12,127.50; fee 0.2% × 70,000 = 140.00;
    # total 23,117.50 (it was 11,558.75).
    changes = {
        "invoice_amount": D("20000.00"),
        "items": [item_data(invoice_price=D("20000.00"), quantities={"item": D("2")})],
    }
    requested = lifecycle.declaration_request_amendment(
        actor=users["trader_a"], declaration=declaration, changes=changes, reason="Two cars, not one"
    )

    accepted = lifecycle.declaration_accept_amendment(actor=users["officer"], declaration=requested)

    event = AuditEvent.objects.filter(action="declarations.declaration.amendment_accepted").get()
    accepted.refresh_from_db()
    assert requested.status == S.AMENDMENT_REQUESTED
    assert requested.pending_changes["invoice_amount"] == "20000.00"
    assert accepted.status == S.ASSESSED
    assert accepted.pending_changes is None
    assert accepted.invoice_amount == D("20000.00")
    assert accepted.customs_value == D("70000.00")
    assert accepted.total_taxes == D("23117.50")
    assert list(accepted.tax_lines.order_by("position").values_list("amount", flat=True)) == [
        D("7000.00"),
        D("3850.00"),
        D("12127.50"),
        D("140.00"),
    ]
    assert accepted.registration_number == 1  # the numbers stay
    assert event.before == {"status": "amendment_requested"}
    assert event.after["before"] == {"customs_value": "35000.00", "total_taxes": "11558.75"}
    assert event.after["after"] == {"customs_value": "70000.00", "total_taxes": "23117.50"}


def test_a_refused_amendment_returns_to_assessed_and_drops_the_changes(world):
    declaration = declaration_in(world, S.AMENDMENT_REQUESTED)

    refused = lifecycle.declaration_refuse_amendment(
        actor=world["users"]["officer"], declaration=declaration, reason="No evidence"
    )

    refused.refresh_from_db()
    assert refused.status == S.ASSESSED
    assert refused.pending_changes is None
    assert refused.delivery_place == "Ashgabat"
    assert refused.total_taxes == D("11558.75")


def test_a_cancellation_request_is_granted_or_refused(world):
    users = world["users"]
    granted = declaration_in(world, S.CANCELLATION_REQUESTED, lrn="LRN-0001")
    refused = declaration_in(world, S.CANCELLATION_REQUESTED, lrn="LRN-0002")

    cancelled = lifecycle.declaration_cancel(actor=users["officer"], declaration=granted, reason="Agreed")
    kept = lifecycle.declaration_refuse_cancellation(
        actor=users["officer"], declaration=refused, reason="Goods already used"
    )

    assert cancelled.status == S.CANCELLED
    assert cancelled.closed_at is not None
    assert cancelled.status_before == ""
    assert kept.status == S.ASSESSED
    assert kept.status_before == ""


def test_a_paid_declaration_is_released(world):
    declaration = declaration_in(world, S.ASSESSED)

    paid = lifecycle.declaration_mark_paid(actor=None, declaration=declaration, receipt_reference="R-7")
    released = lifecycle.declaration_release(
        actor=world["users"]["officer"], declaration=control_cleared(paid)
    )

    event = AuditEvent.objects.filter(action="declarations.declaration.paid").get()
    assert paid.status == S.PAID
    assert paid.paid_at is not None
    assert event.after["receipt"] == "R-7"
    assert released.status == S.RELEASED
    assert released.released_at is not None


def test_a_draft_is_withdrawn(world):
    declaration = declaration_in(world, S.STORED)

    withdrawn = lifecycle.declaration_withdraw(actor=world["users"]["trader_a"], declaration=declaration)

    assert withdrawn.status == S.CANCELLED
    assert withdrawn.closed_at is not None
    assert withdrawn.registration_number is None


def test_a_lodged_declaration_is_rejected_at_an_office_that_registers_by_hand(world):
    declaration = declaration_in(world, S.LODGED)

    rejected = lifecycle.declaration_reject(
        actor=world["users"]["officer"], declaration=declaration, reason="Wrong office"
    )

    rejected.refresh_from_db()
    assert rejected.status == S.REJECTED
    assert rejected.closed_at is not None
    assert rejected.registration_number is None
    assert rejected.total_taxes is None


def test_registrations_and_assessments_are_numbered_per_office_and_year_without_gaps(world):
    trader = world["users"]["trader_a"]
    year = world["today"].year

    lodged = []
    for index in range(1, 4):
        draft = declaration_create(actor=trader, data=declaration_data(lrn=f"LRN-{index}"))
        lodged.append(lifecycle.declaration_lodge(actor=trader, declaration=draft))
    failing = declaration_create(actor=trader, data=declaration_data(lrn="LRN-BAD", counterparty_name=""))
    with pytest.raises(DeclarationInvalid):
        lifecycle.declaration_lodge(actor=trader, declaration=failing)
    draft = declaration_create(actor=trader, data=declaration_data(lrn="LRN-4"))
    lodged.append(lifecycle.declaration_lodge(actor=trader, declaration=draft))
    OfficeDeclarationSettings.objects.create(office=world["other_office"], register_on_lodgement=True)
    elsewhere = declaration_create(actor=trader, data=declaration_data(lrn="LRN-T", office="TMT01"))
    elsewhere = lifecycle.declaration_lodge(actor=trader, declaration=elsewhere)

    failing.refresh_from_db()
    assert [declaration.number for declaration in lodged] == [f"TMA01 {year} C {n}" for n in range(1, 5)]
    assert [declaration.assessment_reference for declaration in lodged] == [
        f"TMA01 {year} A {n}" for n in range(1, 5)
    ]
    assert [declaration.registration_series for declaration in lodged] == ["C"] * 4
    assert failing.status == S.STORED
    assert failing.registration_number is None
    assert elsewhere.number == f"TMT01 {year} C 1"


# The same moves through the API.
API = "/api/v1/declarations/"


def _api(user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    return client


def _wire(data):
    import json

    return json.loads(json.dumps(data, default=str))


def test_an_amendment_requested_and_accepted_through_the_api(world):
    declaration = declaration_in(world, S.ASSESSED)
    users = world["users"]
    changes = {
        "invoice_amount": "20000.00",
        "items": [_wire(item_data(invoice_price=D("20000.00"), quantities={"item": D("2")}))],
    }

    requested = _api(users["trader_a"]).post(
        f"{API}{declaration.pk}/amend/", {"reason": "Two cars", "changes": changes}, format="json"
    )
    accepted = _api(users["officer"]).post(f"{API}{declaration.pk}/accept-amendment/", {}, format="json")

    assert requested.status_code == 200
    assert requested.json()["status"] == "amendment_requested"
    assert requested.json()["total_taxes"] == "11558.75"
    assert accepted.status_code == 200
    assert accepted.json()["status"] == "assessed"
    assert accepted.json()["total_taxes"] == "23117.50"
    assert accepted.json()["items"][0]["quantities"] == {"item": "2.000000"}


def test_an_officer_reassesses_a_tariff_line_through_the_api(world):
    from tests.declarations.conftest import FISH

    declaration = declaration_in(world, S.ASSESSED)

    reassessed = _api(world["users"]["officer"]).post(
        f"{API}{declaration.pk}/reassess/",
        {"reason": "Examined: frozen fish", "item_changes": {"1": {"commodity_code": FISH}}},
        format="json",
    )

    # Fish: duty 8% × 35,000.00 = 2,800.00 (minimum 0.50 EUR × 4.0 × 1,100 kg = 2,200.00); no excise;
    # VAT 15% × 37,800.00 = 5,670.00; fee 70.00. Total 8,540.00.
    body = reassessed.json()
    event = AuditEvent.objects.filter(action="declarations.declaration.reassessed").get()
    assert reassessed.status_code == 200
    assert body["status"] == "assessed"
    assert body["items"][0]["commodity_code"] == FISH
    assert [line["amount"] for line in body["tax_lines"]] == ["2800.00", "5670.00", "70.00"]
    assert body["total_taxes"] == "8540.00"
    assert event.after["before"] == {"customs_value": "35000.00", "total_taxes": "11558.75"}
    assert event.after["after"] == {"customs_value": "35000.00", "total_taxes": "8540.00"}
    assert event.after["reason"] == "Examined: frozen fish"


def test_a_command_with_a_stale_if_match_is_refused_with_412_and_changes_nothing(world):
    declaration = declaration_in(world, S.ASSESSED)
    stale = f'"{declaration.pk}-{declaration.version - 1}"'
    before = _snapshot(declaration)

    response = _api(world["users"]["officer"]).post(
        f"{API}{declaration.pk}/query/", {"reason": "Invoice?"}, format="json", HTTP_IF_MATCH=stale
    )

    assert response.status_code == 412
    assert response.json()["error"]["code"] == "stale_version"
    assert _snapshot(declaration) == before


def test_a_move_the_state_does_not_allow_is_a_409_through_the_api(world):
    declaration = declaration_in(world, S.ASSESSED)
    before = _snapshot(declaration)

    response = _api(world["users"]["officer"]).post(f"{API}{declaration.pk}/release/")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "transition_not_allowed"
    assert _snapshot(declaration) == before


def test_a_missing_reason_is_a_400_on_the_reason_field(world):
    declaration = declaration_in(world, S.ASSESSED)
    before = _snapshot(declaration)

    response = _api(world["users"]["officer"]).post(f"{API}{declaration.pk}/query/", {}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"]["reason"][0]["code"] == "required"
    assert _snapshot(declaration) == before


def test_an_officer_corrects_the_value_through_the_api(world):
    declaration = declaration_in(world, S.ASSESSED)

    reassessed = _api(world["users"]["officer"]).post(
        f"{API}{declaration.pk}/reassess/",
        {
            "reason": "Price list shows 12,000 USD",
            "changes": {"invoice_amount": "12000.00"},
            "item_changes": {"1": {"invoice_price": "12000.00"}},
        },
        format="json",
    )

    # 12,000.00 USD × 3.5 = 42,000.00; duty 10% = 4,200.00; excise 5% × 46,200.00 = 2,310.00;
    # VAT 15% × 48,510.00 = 7,276.50; fee 0.2% × 42,000.00 = 84.00. Total 13,870.50.
    body = reassessed.json()
    assert reassessed.status_code == 200, body
    assert body["invoice_amount"] == "12000.0000"
    assert body["customs_value"] == "42000.00"
    assert [line["amount"] for line in body["tax_lines"]] == ["4200.00", "2310.00", "7276.50", "84.00"]
    assert body["total_taxes"] == "13870.50"


def test_a_cancellation_refused_returns_a_paid_declaration_to_paid(world):
    declaration = declaration_in(world, S.PAID)
    users = world["users"]

    requested = lifecycle.declaration_request_cancellation(
        actor=users["trader_a"], declaration=declaration, reason="Goods returned"
    )
    refused = lifecycle.declaration_refuse_cancellation(
        actor=users["officer"], declaration=requested, reason="Goods already released to the buyer"
    )
    released = lifecycle.declaration_release(actor=users["officer"], declaration=refused)

    assert requested.status_before == S.PAID
    assert refused.status == S.PAID
    assert released.status == S.RELEASED


@pytest.mark.parametrize(
    "changes",
    [{"lrn": "LRN-0002"}, {"office": "TMT01"}, {"declaration_type": "IM7"}, {"trader": "101098765432"}],
)
def test_an_amendment_cannot_change_who_declares_where_or_the_reference(world, changes):
    declaration_in(world, S.STORED, lrn="LRN-0002")
    declaration = declaration_in(world, S.ASSESSED)
    before = _snapshot(declaration)

    with pytest.raises(DeclarationInvalid) as raised:
        lifecycle.declaration_request_amendment(
            actor=world["users"]["trader_a"], declaration=declaration, changes=changes, reason="Change"
        )

    (name,) = changes
    assert [(error.field, error.code) for error in raised.value.errors] == [
        (f"changes.{name}", "not_amendable")
    ]
    assert _snapshot(declaration) == before


def test_a_reassessment_cannot_change_the_reference(world):
    declaration_in(world, S.STORED, lrn="LRN-0002")
    declaration = declaration_in(world, S.ASSESSED)
    before = _snapshot(declaration)

    with pytest.raises(DeclarationInvalid) as raised:
        lifecycle.declaration_reassess(
            actor=world["users"]["officer"], declaration=declaration, changes={"lrn": "LRN-0002"}, reason="x"
        )

    assert [(error.field, error.code) for error in raised.value.errors] == [("changes.lrn", "not_amendable")]
    assert _snapshot(declaration) == before


def test_an_amendment_is_checked_for_the_declarant_and_the_state_before_its_changes(world):
    declaration = declaration_in(world, S.ASSESSED)
    queried = declaration_in(world, S.QUERIED, lrn="LRN-0002")
    bad = {"items": [item_data(origin="XX")]}

    with pytest.raises(NotAuthorised):
        lifecycle.declaration_request_amendment(
            actor=world["users"]["trader_b"], declaration=declaration, changes=bad, reason="Change"
        )
    with pytest.raises(TransitionNotAllowed):
        lifecycle.declaration_request_amendment(
            actor=world["users"]["trader_a"], declaration=queried, changes={}, reason="Change"
        )


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({"net_mass": D("5000")}, ("items[0].net_mass", "net_mass_exceeds_gross")),
        ({"origin": "XX"}, ("items[0].origin", "unknown_code")),
        ({"package_kind": "BOX"}, ("items[0].package_kind", "unknown_code")),
    ],
)
def test_a_reassessment_with_a_bad_item_correction_is_refused_and_changes_nothing(world, row, expected):
    declaration = declaration_in(world, S.ASSESSED)
    before = _snapshot(declaration)

    with pytest.raises(DeclarationInvalid) as raised:
        lifecycle.declaration_reassess(
            actor=world["users"]["officer"],
            declaration=declaration,
            changes={"item_changes": {"1": row}},
            reason="Checked",
        )

    assert [(error.field, error.code) for error in raised.value.errors] == [expected]
    assert _snapshot(declaration) == before
    assert Declaration.objects.get(pk=declaration.pk).items.get().net_mass == D("1100")


def test_an_officer_corrects_only_general_fields_through_the_api(world):
    declaration = declaration_in(world, S.ASSESSED)

    reassessed = _api(world["users"]["officer"]).post(
        f"{API}{declaration.pk}/reassess/",
        {"reason": "Truck seen at the border", "changes": {"transport_identity": "AG 9999"}},
        format="json",
    )

    assert reassessed.status_code == 200, reassessed.json()
    assert reassessed.json()["transport_identity"] == "AG 9999"
    assert reassessed.json()["total_taxes"] == "11558.75"


def test_a_reassessment_cannot_replace_the_item_list_through_the_api(world):
    declaration = declaration_in(world, S.ASSESSED)
    before = _snapshot(declaration)

    refused = _api(world["users"]["officer"]).post(
        f"{API}{declaration.pk}/reassess/",
        {"reason": "Checked", "changes": {"items": []}},
        format="json",
    )

    assert refused.status_code == 400
    assert list(refused.json()["error"]["fields"]) == ["changes"]
    assert _snapshot(declaration) == before
