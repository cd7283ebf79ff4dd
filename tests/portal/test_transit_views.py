"""The principal's transit screens in the portal: lodging a T1 through the form (errors next to their
fields and grid cells, nothing written), the item grid's buttons, filling the items in from an export
declaration, lodging from a CC015C message, the list and the movement's page and who sees them, the
notifications; and an authorisation matrix over every portal transit URL."""

import datetime
import html as html_module
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from customs.models import AuditEvent, CustomsOffice, Notification
from customs.services.notifications import notify
from customs.services.users import user_upsert
from declarations.services.lifecycle import declaration_submit
from tests.customs.factories import BrokerAuthorisationFactory, BrokerFactory
from tests.declarations.conftest import declaration_data, item_data
from tests.payments import conftest as payments_conftest
from tests.tariff.conftest import CAR, FISH
from tests.transit import conftest as transit_conftest
from tests.transit.conftest import ALL_TRANSIT, D, t1_data
from transit.models import TransitItem, TransitMovement, TransitStatusChange
from transit.services.lifecycle import transit_border_passage, transit_lodge, transit_release
from transit.xml.cc015c import cc015c_write

# The transit world (offices with their transit roles, the guarantee GRN-0001 of trader A, officers at
# each office) on top of the portal's ``world``.
pay_world = payments_conftest.pay_world
transit_world = transit_conftest.transit_world

pytestmark = pytest.mark.django_db


def _html(response) -> str:
    return response.content.decode()


def _text(fragment: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", fragment).split())


def _errors_of(html: str, input_id: str) -> list[str]:
    """The messages Django renders next to the input ``input_id`` (its ``<ul id="..._error">``)."""
    match = re.search(r'<ul class="errorlist" id="' + re.escape(input_id) + r'_error">(.*?)</ul>', html, re.S)
    return (
        [html_module.unescape(text) for text in re.findall(r"<li>(.*?)</li>", match.group(1))]
        if match
        else []
    )


def _element(html: str, element_id: str) -> str:
    match = re.search(
        r'id="' + re.escape(element_id) + r'"[^>]*>(.*?)</(?:dd|td|p|div|strong|span|h1|h2)>', html, re.S
    )
    assert match, f"no element #{element_id}"
    return _text(match.group(1))


def _counts():
    return (
        TransitMovement.objects.count(),
        TransitItem.objects.count(),
        TransitStatusChange.objects.count(),
        AuditEvent.objects.count(),
    )


def _transit_broker(world, username="broker_transit"):
    """A broker user whose broker trader A authorised for transit (the world's broker is authorised for
    import and export only)."""
    broker = BrokerFactory(name="Transit Brokers", licence_number="BR-0200")
    BrokerAuthorisationFactory(broker=broker, trader=world["trader_a"], scope=["transit"])
    return user_upsert(actor=None, username=username, roles=["broker_user"], broker=broker)


def _row(**values) -> dict:
    row = {
        "commodity_code": CAR,
        "description": "Passenger car, petrol, 1,500 cc",
        "packages_number": "1",
        "package_kind": "PK",
        "gross_mass": "1200",
        "net_mass": "1100",
        "value": "10000.00",
        "currency": "USD",
    }
    row.update(values)
    return row


def _form(rows=None, **general) -> dict:
    """The POST of the T1 form: trader A's T1 of ``t1_data`` (Ashgabat to Türkmenbaşy via Farap)."""
    rows = [_row()] if rows is None else rows
    data = {
        "principal": "101012345678",
        "lrn": "T1-0001",
        "guarantee_reference": "GRN-0001",
        "time_limit": (timezone.localdate() + datetime.timedelta(days=8)).isoformat(),
        "departure_office": "TMA01",
        "destination_office": "TMT01",
        "transit_office_1": "TMF01",
        "itinerary": "TM",
        "carrier_name": "Ak Ýol Logistics",
        "carrier_identification": "CARR-1",
        "transport_identity": "AG 1234 TM",
        "transport_nationality": "tm",
        "containers": "MSCU1234565",
        "seals": "TM-S-0001, TM-S-0002",
        "previous_document": "",
        "items-TOTAL_FORMS": str(len(rows)),
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "999",
    }
    for index, row in enumerate(rows):
        data.update({f"items-{index}-{name}": value for name, value in row.items()})
    data.update(general)
    return data


def _movement(world, actor="trader_a", **overrides) -> TransitMovement:
    return transit_lodge(actor=world["users"][actor], data=t1_data(**overrides))


def _released(world, **overrides) -> TransitMovement:
    return transit_release(actor=world["users"]["departure_officer"], movement=_movement(world, **overrides))


def _message(**overrides) -> bytes:
    return cc015c_write(
        t1_data(**overrides),
        message_sender="KERWEN.TM",
        message_recipient="NTA.TM",
        prepared_at=timezone.now(),
    )


def _upload(content: bytes, name="cc015c.xml"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return {"message": SimpleUploadedFile(name, content, content_type="application/xml")}


# ------------------------------------------------------------------------------------------ the form


def test_the_form_offers_the_principal_its_guarantees_and_the_offices_by_role(client, transit_world):
    CustomsOffice.objects.filter(code="TMT01").update(roles=["transit_destination"])
    client.force_login(transit_world["users"]["trader_a"])

    response = client.get(reverse("portal:transit-new"))

    html = _html(response)
    assert response.status_code == 200
    assert '<option value="101012345678">Altyn Asyr HJ (101012345678)</option>' in html
    assert '<option value="GRN-0001">GRN-0001 (Comprehensive)</option>' in html
    departure = re.search(r'<select name="departure_office".*?</select>', html, re.S).group(0)
    destination = re.search(r'<select name="destination_office".*?</select>', html, re.S).group(0)
    first_transit = re.search(r'<select name="transit_office_1".*?</select>', html, re.S).group(0)
    assert re.findall(r'value="(\w+)"', departure) == ["TMA01", "TMF01"]
    assert re.findall(r'value="(\w+)"', destination) == ["TMA01", "TMF01", "TMT01"]
    assert re.findall(r'value="(\w+)"', first_transit) == ["TMA01", "TMF01"]
    assert '<label class="visually-hidden" for="id_items-0-gross_mass">Gross mass (kg)' in html
    assert 'id="item-row-template"' in html


def test_lodging_through_the_form_registers_the_movement_with_its_items(client, transit_world):
    client.force_login(transit_world["users"]["trader_a"])
    rows = [
        _row(),
        _row(commodity_code=FISH, description="Frozen fish", package_kind="CT", packages_number="40"),
    ]

    response = client.post(reverse("portal:transit-new"), _form(rows=rows))

    movement = TransitMovement.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:transit-detail", args=[movement.pk])
    assert (movement.lrn, movement.status, movement.mrn) == ("T1-0001", "registered", None)
    assert (movement.departure_office.code, movement.destination_office.code) == ("TMA01", "TMT01")
    assert [stop.office.code for stop in movement.transit_offices.all()] == ["TMF01"]
    assert movement.principal == transit_world["trader_a"]
    assert movement.created_by == transit_world["users"]["trader_a"]
    assert (movement.carrier_name, movement.carrier_identification) == ("Ak Ýol Logistics", "CARR-1")
    assert (movement.transport_identity, movement.transport_nationality.code) == ("AG 1234 TM", "TM")
    assert movement.containers == ["MSCU1234565"]
    assert movement.seals == ["TM-S-0001", "TM-S-0002"]
    assert movement.itinerary == ["TM"]
    assert movement.guarantee == transit_world["guarantee"]
    assert movement.time_limit == timezone.localdate() + datetime.timedelta(days=8)
    assert list(
        movement.items.values_list(
            "number",
            "commodity_code",
            "description",
            "packages_number",
            "package_kind",
            "gross_mass",
            "net_mass",
            "value",
            "currency",
        )
    ) == [
        (1, CAR, "Passenger car, petrol, 1,500 cc", 1, "PK", D("1200"), D("1100"), D("10000.00"), "USD"),
        (2, FISH, "Frozen fish", 40, "CT", D("1200"), D("1100"), D("10000.00"), "USD"),
    ]
    page = client.get(response["Location"])
    assert _element(_html(page), "movement-status") == "Registered"


def test_the_offices_of_transit_keep_their_order_and_skip_empty_slots(client, transit_world):
    client.force_login(transit_world["users"]["trader_a"])

    client.post(
        reverse("portal:transit-new"),
        _form(transit_office_1="", transit_office_3="TMF01", transit_office_5="TMA01"),
    )

    movement = TransitMovement.objects.get()
    assert [stop.office.code for stop in movement.transit_offices.all()] == ["TMF01", "TMA01"]


def test_every_error_is_shown_next_to_its_field_and_grid_cell_and_nothing_is_written(client, transit_world):
    client.force_login(transit_world["users"]["trader_a"])
    rows = [
        _row(commodity_code="12"),
        {},  # an empty row is dropped: the service's items[1] is the grid's third row
        _row(gross_mass="0", description=""),
    ]
    before = _counts()

    response = client.post(
        reverse("portal:transit-new"),
        _form(
            rows=rows,
            lrn="",
            transport_nationality="XX",
            time_limit=(timezone.localdate() + datetime.timedelta(days=90)).isoformat(),
            guarantee_reference="",
            seals="TM-S-0001",
            itinerary="TM QQ",
            destination_office="",
        ),
    )

    html = _html(response)
    assert response.status_code == 422
    assert _counts() == before
    assert 'id="form-errors"' in html
    assert _errors_of(html, "id_lrn") == ["Give the local reference number."]
    assert _errors_of(html, "id_transport_nationality") == ["Unknown country."]
    assert _errors_of(html, "id_time_limit") == ["The time limit must be between today and 60 days from now."]
    assert _errors_of(html, "id_guarantee_reference") == ["Choose the guarantee."]
    assert _errors_of(html, "id_itinerary") == ["QQ: Unknown country."]
    assert _errors_of(html, "id_destination_office") == ["Choose the office of destination."]
    assert _errors_of(html, "id_departure_office") == []
    assert _errors_of(html, "id_items-0-commodity_code") == ["A commodity code has 6, 8 or 10 digits."]
    assert _errors_of(html, "id_items-1-gross_mass") == []
    assert _errors_of(html, "id_items-2-gross_mass") == ["The gross mass must be above zero."]
    assert _errors_of(html, "id_items-2-description") == ["Describe the goods."]
    # What was typed comes back.
    assert 'name="items-2-gross_mass" value="0"' in html
    assert 'name="transport_identity" value="AG 1234 TM"' in html


def test_a_duplicate_lrn_is_refused_next_to_the_lrn(client, transit_world):
    _movement(transit_world)
    client.force_login(transit_world["users"]["trader_a"])
    before = _counts()

    response = client.post(reverse("portal:transit-new"), _form())

    assert response.status_code == 422
    assert _errors_of(_html(response), "id_lrn") == ["This LRN is already used by this principal."]
    assert _counts() == before


def test_a_declaration_without_items_says_so_above_the_grid(client, transit_world):
    client.force_login(transit_world["users"]["trader_a"])

    response = client.post(reverse("portal:transit-new"), _form(rows=[{}]))

    assert response.status_code == 422
    grid_errors = re.search(r'<ul class="errorlist" id="grid-errors">(.*?)</ul>', _html(response), re.S)
    assert _text(grid_errors.group(1)) == "A transit declaration needs at least one item."
    assert TransitMovement.objects.count() == 0


def test_what_the_form_cannot_read_is_refused_before_the_service(client, transit_world):
    client.force_login(transit_world["users"]["trader_a"])

    response = client.post(
        reverse("portal:transit-new"), _form(rows=[_row(gross_mass="heavy")], time_limit="soon")
    )

    html = _html(response)
    assert response.status_code == 422
    assert _errors_of(html, "id_items-0-gross_mass") == ["Enter a number."]
    assert _errors_of(html, "id_time_limit") == ["Enter a valid date."]
    assert TransitMovement.objects.count() == 0


def test_the_grid_buttons_copy_add_and_remove_rows_without_saving(client, transit_world):
    client.force_login(transit_world["users"]["trader_a"])
    rows = [_row(description="First"), _row(description="Second")]

    copied = _html(client.post(reverse("portal:transit-new"), {**_form(rows=rows), "grid_copy": "0"}))
    added = _html(client.post(reverse("portal:transit-new"), {**_form(rows=rows), "grid_add": "1"}))
    removed = _html(client.post(reverse("portal:transit-new"), {**_form(rows=rows), "grid_remove": "0"}))

    assert re.findall(r'name="items-\d+-description" value="(\w+)"', copied) == ["First", "First", "Second"]
    assert 'name="items-TOTAL_FORMS" value="3"' in added
    assert re.findall(r'name="items-\d+-description" value="(\w+)"', removed) == ["Second"]
    assert 'name="lrn" value="T1-0001"' in copied
    assert 'value="TMF01" selected' in copied
    assert TransitMovement.objects.count() == 0


# ---------------------------------------------------------------------------- previous document


def _export_declaration(world, *, actor="trader_a", declaration_type="EX1", **overrides):
    """A registered export declaration of trader A at TMA01 with two items (a car and fish)."""
    CustomsOffice.objects.filter(code="TMA01").update(roles=[*ALL_TRANSIT, "import", "export"])
    items = [
        item_data(procedure_code="1000"),
        item_data(
            procedure_code="1000",
            commodity_code=FISH,
            description="Frozen fish",
            packages_number=40,
            package_kind="CT",
            gross_mass=D("2400.5"),
            net_mass=D("2000"),
            invoice_price=D("3000.00"),
            quantities={},
        ),
    ]
    data = declaration_data(
        items=items,
        declaration_type=declaration_type,
        destination_country="DE",
        counterparty_country="DE",
        **overrides,
    )
    data.pop("dispatch_country")
    return declaration_submit(actor=world["users"][actor], data=data)


def test_the_previous_export_declaration_fills_in_the_items(client, transit_world):
    export = _export_declaration(transit_world)
    client.force_login(transit_world["users"]["trader_a"])
    before = _counts()

    response = client.post(
        reverse("portal:transit-new"),
        {**_form(rows=[{}], previous_document=f"  {export.number.lower()} "), "fill_previous": "1"},
    )

    html = _html(response)
    assert response.status_code == 200
    assert _counts() == before
    assert export.number.startswith("TMA01 ")
    assert f'name="previous_document" value="{export.number}"' in html
    assert 'name="items-TOTAL_FORMS" value="2"' in html
    values = {
        name: re.findall(rf'name="items-\d+-{name}"[^>]*value="([^"]*)"', html)
        for name in ("commodity_code", "description", "packages_number", "gross_mass", "net_mass", "value")
    }
    assert values == {
        "commodity_code": [CAR, FISH],
        "description": ["Passenger car, petrol, 1,500 cc", "Frozen fish"],
        "packages_number": ["1", "40"],
        "gross_mass": ["1200", "2400.5"],
        "net_mass": ["1100", "2000"],
        "value": ["10000", "3000"],
    }
    assert re.findall(r'<select name="items-\d+-package_kind".*?value="(\w+)" selected', html, re.S) == [
        "PK",
        "CT",
    ]
    assert re.findall(r'<select name="items-\d+-currency".*?value="(\w+)" selected', html, re.S) == [
        "USD",
        "USD",
    ]
    assert f"The 2 items of export declaration {export.number} are filled in." in html
    # Lodged from the filled-in grid, the movement keeps the export as its previous document.
    lodged = client.post(
        reverse("portal:transit-new"),
        _form(
            rows=[_row(), _row(commodity_code=FISH, description="Frozen fish", package_kind="CT")],
            previous_document=export.number,
        ),
    )
    assert lodged.status_code == 302
    assert TransitMovement.objects.get().previous_document == export.number


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("import", "No export declaration (EX1 or EX3) of this principal has the number {number}."),
        ("other_trader", "No export declaration (EX1 or EX3) of this principal has the number {number}."),
        ("unknown", "No export declaration (EX1 or EX3) of this principal has the number {number}."),
        ("empty", "Give the registration number of the export declaration."),
    ],
)
def test_a_previous_document_that_is_no_export_of_the_principal_fills_nothing(
    client, transit_world, case, expected
):
    if case == "import":
        CustomsOffice.objects.filter(code="TMA01").update(roles=[*ALL_TRANSIT, "import", "export"])
        number = declaration_submit(
            actor=transit_world["users"]["trader_a"], data=declaration_data(lrn="IM-1")
        ).number
    elif case == "other_trader":
        number = _export_declaration(transit_world, actor="trader_b", trader="101098765432").number
    else:
        number = {"unknown": "TMA01 2026 C 999", "empty": ""}[case]
    client.force_login(transit_world["users"]["trader_a"])
    rows = [_row(description="Typed")]

    response = client.post(
        reverse("portal:transit-new"), {**_form(rows=rows, previous_document=number), "fill_previous": "1"}
    )

    html = _html(response)
    assert response.status_code == 200
    assert _errors_of(html, "id_previous_document") == [expected.format(number=number)]
    assert re.findall(r'name="items-\d+-description" value="(\w+)"', html) == ["Typed"]
    assert TransitMovement.objects.count() == 0


# -------------------------------------------------------------------------------------- CC015C upload


def test_a_cc015c_message_is_lodged(client, transit_world):
    client.force_login(transit_world["users"]["trader_a"])

    response = client.post(reverse("portal:transit-upload"), _upload(_message(lrn="CC-0001")))

    movement = TransitMovement.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:transit-detail", args=[movement.pk])
    assert (movement.lrn, movement.status, movement.principal) == (
        "CC-0001",
        "registered",
        transit_world["trader_a"],
    )
    assert [stop.office.code for stop in movement.transit_offices.all()] == ["TMF01"]
    assert movement.seals == ["TM-S-0001", "TM-S-0002"]
    # CC015C carries eight digits of the commodity code (the HS subheading and the CN code).
    assert list(movement.items.values_list("commodity_code", "gross_mass", "package_kind")) == [
        (CAR[:8], D("1200"), "PK")
    ]


def test_a_message_that_breaks_the_schema_is_refused_with_its_lines(client, transit_world):
    content = _message().replace(b"<grossMass>1200</grossMass>", b"<grossMass>heavy</grossMass>", 1)
    line = content[: content.index(b"heavy")].count(b"\n") + 1
    client.force_login(transit_world["users"]["trader_a"])
    before = _counts()

    response = client.post(reverse("portal:transit-upload"), _upload(content))

    html = _html(response)
    assert response.status_code == 422
    assert _counts() == before
    assert 'id="message-problems"' in html
    rows = re.findall(r'<tr data-line="(\d+)">(.*?)</tr>', html, re.S)
    assert [int(number) for number, _row_html in rows] == [line]
    assert "grossMass" in _text(rows[0][1])


def test_a_message_that_is_not_xml_is_refused(client, transit_world):
    client.force_login(transit_world["users"]["trader_a"])

    response = client.post(reverse("portal:transit-upload"), _upload(b"<CC015C><unclosed>"))

    assert response.status_code == 422
    assert 'id="problem-list"' in _html(response)
    assert TransitMovement.objects.count() == 0


def test_a_valid_message_the_service_refuses_lists_the_problems_by_field(client, transit_world):
    _movement(transit_world)  # its LRN T1-0001 is taken
    client.force_login(transit_world["users"]["trader_a"])
    before = _counts()

    response = client.post(reverse("portal:transit-upload"), _upload(_message()))

    html = _html(response)
    assert response.status_code == 422
    assert _counts() == before
    assert "Your reference (LRN): This LRN is already used by this principal." in _text(html)


def test_another_principals_message_is_refused(client, transit_world):
    client.force_login(transit_world["users"]["trader_b"])

    response = client.post(reverse("portal:transit-upload"), _upload(_message()))

    assert response.status_code == 422
    assert "You may not lodge transit declarations for this principal." in _html(response)
    assert TransitMovement.objects.count() == 0


# ------------------------------------------------------------------------------- list and the page


def test_the_list_shows_the_principals_movements_with_status_and_route(client, transit_world):
    registered = _movement(transit_world, lrn="T1-A")
    released = _released(transit_world, lrn="T1-B")
    client.force_login(transit_world["users"]["trader_a"])

    html = _html(client.get(reverse("portal:transit-list")))

    rows = re.findall(r'<tr data-movement="(\d+)" data-status="(\w+)">(.*?)</tr>', html, re.S)
    assert [(int(pk), status) for pk, status, _cells in rows] == [
        (released.pk, "released"),
        (registered.pk, "registered"),
    ]
    cells = [_text(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", rows[0][2], re.S)]
    limit = released.time_limit.strftime("%m/%d/%Y")
    assert cells == [
        "Released for transit",
        released.mrn,
        "T1-B",
        "Altyn Asyr HJ",
        "TMA01",
        "TMF01",
        "TMT01",
        "AG 1234 TM",
        limit,
    ]
    assert '<span class="status-registered" data-status="registered">Registered</span>' in html


def test_the_list_reads_a_fixed_number_of_queries(client, transit_world, django_assert_max_num_queries):
    for number in range(5):
        _movement(transit_world, lrn=f"T1-{number}")
    client.force_login(transit_world["users"]["trader_a"])
    client.get(reverse("portal:transit-list"))  # warm the session

    with django_assert_max_num_queries(8):
        response = client.get(reverse("portal:transit-list"))

    assert len(re.findall(r"<tr data-movement=", _html(response))) == 5


def test_trader_b_sees_nothing_of_trader_as_movements(client, transit_world):
    movement = _released(transit_world)
    client.force_login(transit_world["users"]["trader_b"])

    listing = client.get(reverse("portal:transit-list"))
    page = client.get(reverse("portal:transit-detail", args=[movement.pk]))

    assert listing.status_code == 200
    assert 'id="movement-list-empty"' in _html(listing)
    assert movement.mrn not in _html(listing) and "T1-0001" not in _html(listing)
    assert page.status_code == 404


def test_a_broker_authorised_for_transit_sees_and_lodges_for_trader_a(client, transit_world):
    movement = _movement(transit_world)
    client.force_login(_transit_broker(transit_world))

    listing = _html(client.get(reverse("portal:transit-list")))
    lodged = client.post(reverse("portal:transit-new"), _form(lrn="T1-BROKER"))

    assert f'data-movement="{movement.pk}"' in listing
    assert lodged.status_code == 302
    assert TransitMovement.objects.get(lrn="T1-BROKER").principal == transit_world["trader_a"]


def test_a_broker_acting_for_two_principals_chooses_one_and_its_own_guarantee(client, transit_world):
    from payments.services.guarantees import guarantee_create

    broker_user = _transit_broker(transit_world)
    BrokerAuthorisationFactory(broker=broker_user.broker, trader=transit_world["trader_b"], scope=["transit"])
    guarantee_create(
        actor=None,
        reference="GRN-B",
        kind="comprehensive",
        trader=transit_world["trader_b"],
        issuer=transit_world["bank"],
        amount=D("5000.00"),
        valid_from=datetime.date(2020, 1, 1),
        valid_to=datetime.date(2099, 12, 31),
    )
    client.force_login(broker_user)

    form = _html(client.get(reverse("portal:transit-new")))
    unchosen = client.post(reverse("portal:transit-new"), _form(principal=""))
    crossed = client.post(reverse("portal:transit-new"), _form(principal="101098765432"))

    assert '<option value="" selected>—</option>' in form
    assert re.findall(r'<optgroup label="([^"]+)">\s*<option value="([^"]+)"', form) == [
        ("Altyn Asyr HJ", "GRN-0001"),
        ("Balkan Import HJ", "GRN-B"),
    ]
    assert _errors_of(_html(unchosen), "id_principal") == ["Choose the principal."]
    assert _errors_of(_html(crossed), "id_guarantee_reference") == ["There is no such guarantee."]
    assert TransitMovement.objects.count() == 0


def test_a_broker_without_the_transit_authorisation_is_refused(client, transit_world):
    _movement(transit_world)
    client.force_login(transit_world["users"]["broker"])

    response = client.get(reverse("portal:transit-list"))

    assert response.status_code == 403
    assert "No trader has authorised your broker for transit today." in _html(response)
    assert "T1-0001" not in _html(response)


def test_the_page_of_a_released_movement_shows_route_passages_stake_and_the_tad(client, transit_world):
    movement = _released(transit_world)
    movement = transit_border_passage(
        actor=transit_world["users"]["border_officer"],
        movement=movement,
        office=transit_world["border_office"],
    )
    client.force_login(transit_world["users"]["trader_a"])

    response = client.get(reverse("portal:transit-detail", args=[movement.pk]))

    html = _html(response)
    assert response.status_code == 200
    assert _element(html, "movement-status") == "In transit"
    assert _element(html, "movement-mrn") == movement.mrn
    assert f'href="{reverse("transit-prints:tad", args=[movement.pk])}"' in html
    amount = f"{movement.amount_at_stake:,.2f}"
    assert _element(html, "amount-at-stake") == f"{amount} TMT"
    assert _element(html, "reservation-status") == f"{amount} TMT held until the movement is discharged"
    route = re.findall(r'<tr data-office="(\w+)">(.*?)</tr>', html, re.S)
    assert [code for code, _cells in route] == ["TMA01", "TMF01", "TMT01"]
    assert "Not yet" not in _text(route[1][1])
    assert "Not yet" in _text(route[2][1])
    history = re.findall(r'<tr data-action="(\w+)"><td>[^<]*</td><td>([^<]*)</td>', html)
    assert history == [
        ("lodge", "Lodged"),
        ("release", "Released for transit"),
        ("pass_border", "Border passage recorded"),
    ]
    assert '<dt>Nationality of the means of transport</dt><dd class="code">TM</dd>' in html
    assert 'data-item="1"' in html


def test_a_registered_movement_has_no_tad_link_yet(client, transit_world):
    movement = _movement(transit_world)
    client.force_login(transit_world["users"]["trader_a"])

    html = _html(client.get(reverse("portal:transit-detail", args=[movement.pk])))

    assert 'id="tad-link"' not in html
    assert _element(html, "amount-at-stake") == (
        "Computed and reserved on the guarantee when the goods are released"
    )


# ------------------------------------------------------------------------------------ notifications


def _notify(user, subject, *, link="/portal/transit/1/", kind="transit.overdue", obj=None):
    (notification,) = notify(users=[user], kind=kind, subject=subject, body=f"{subject}.", link=link, obj=obj)
    return notification


def test_the_notifications_page_lists_the_users_notifications_newest_first(client, transit_world):
    user = transit_world["users"]["trader_a"]
    older = _notify(user, "Transit A is overdue", kind="first")
    newer = _notify(user, "Transit B is overdue", kind="second")
    read = _notify(user, "Transit C is overdue", kind="third")
    Notification.objects.filter(pk=read.pk).update(read_at=timezone.now())
    Notification.objects.filter(pk=older.pk).update(created_at=timezone.now() - datetime.timedelta(hours=1))
    _notify(transit_world["users"]["trader_b"], "Not for A")
    client.force_login(user)

    html = _html(client.get(reverse("portal:notification-list")))

    listed = re.findall(r'<article class="panel" id="notification-(\d+)"[^>]*data-read="(\d)"', html)
    assert [(int(pk), flag) for pk, flag in listed] == [(read.pk, "1"), (newer.pk, "0"), (older.pk, "0")]
    assert _element(html, "notifications-unread") == "2 unread notifications."
    assert _element(html, "nav-notifications-unread") == "(2 unread)"
    assert "Not for A" not in html
    assert f'id="notification-{read.pk}-read"' not in html
    assert f'id="notification-{newer.pk}-read"' in html


def test_a_notification_is_marked_read_and_opened(client, transit_world):
    movement = _movement(transit_world)
    user = transit_world["users"]["trader_a"]
    notification = _notify(user, "Transit is overdue", link=f"/portal/transit/{movement.pk}/")
    client.force_login(user)

    marked = client.post(reverse("portal:notification-read", args=[notification.pk]))
    first_read_at = Notification.objects.get(pk=notification.pk).read_at
    opened = client.post(reverse("portal:notification-read", args=[notification.pk]), {"open": "1"})

    assert marked.status_code == 302
    assert marked["Location"] == reverse("portal:notification-list")
    assert first_read_at is not None
    assert opened["Location"] == f"/portal/transit/{movement.pk}/"
    assert Notification.objects.get(pk=notification.pk).read_at == first_read_at
    assert 'id="nav-notifications-unread"' not in _html(client.get(reverse("portal:transit-list")))


def test_a_link_to_another_site_is_not_followed(client, transit_world):
    user = transit_world["users"]["trader_a"]
    notification = _notify(user, "Odd", link="https://evil.example/")
    client.force_login(user)

    response = client.post(reverse("portal:notification-read", args=[notification.pk]), {"open": "1"})

    assert response["Location"] == reverse("portal:notification-list")


def test_another_users_notification_cannot_be_marked_read(client, transit_world):
    notification = _notify(transit_world["users"]["trader_a"], "For A")
    client.force_login(transit_world["users"]["trader_b"])

    response = client.post(reverse("portal:notification-read", args=[notification.pk]))

    assert response.status_code == 404
    assert Notification.objects.get(pk=notification.pk).read_at is None


def test_the_portal_header_and_home_link_to_transit(client, transit_world):
    client.force_login(transit_world["users"]["trader_a"])

    html = _html(client.get(reverse("portal:home")))

    assert f'<a href="{reverse("portal:transit-list")}" id="nav-transit">' in html
    assert f'id="home-transit" href="{reverse("portal:transit-list")}"' in html
    assert f'<a href="{reverse("portal:notification-list")}" id="nav-notifications">Notifications</a>' in html


# -------------------------------------------------------------------------- authorisation matrix


@pytest.fixture
def matrix_world(transit_world):
    """Trader A's movement (released) and a notification of trader A's user; a broker user that A
    authorised for transit."""
    movement = _released(transit_world, lrn="T1-MATRIX")
    notification = _notify(
        transit_world["users"]["trader_a"], "Transit overdue", link=f"/portal/transit/{movement.pk}/"
    )
    transit_world["users"]["broker_transit"] = _transit_broker(transit_world)
    return {**transit_world, "movement": movement, "notification": notification}


PRINCIPALS = {"trader_a", "broker_transit"}
USERS = ["anonymous", "trader_a", "broker_transit", "trader_b", "broker", "officer"]
# What each user gets, by default: A's side succeeds; B sees only what is its own (nothing); the broker
# that A authorised for import and export only, not for transit, and staff are refused.
REFUSED = {"broker": 403, "officer": 403}


def _matrix(name, arguments, expected: dict, *, data=None, files=None, variant="get"):
    return pytest.param(name, arguments, data, files, expected, id=f"{name}-{variant}")


MATRIX = [
    _matrix("transit-list", lambda m: [], {"principal": 200, "trader_b": 200}),
    _matrix("transit-new", lambda m: [], {"principal": 200, "trader_b": 200}),
    # Trader B cannot choose A as principal: the form refuses the choice.
    _matrix(
        "transit-new",
        lambda m: [],
        {"principal": 302, "trader_b": 422},
        data=lambda m: _form(lrn="T1-NEW"),
        variant="post",
    ),
    _matrix("transit-upload", lambda m: [], {"principal": 200, "trader_b": 200}),
    _matrix(
        "transit-upload",
        lambda m: [],
        {"principal": 302, "trader_b": 422},
        files=lambda m: _upload(_message(lrn="CC-NEW")),
        variant="post",
    ),
    _matrix("transit-detail", lambda m: [m["movement"].pk], {"principal": 200, "trader_b": 404}),
    # Notifications are per user, for every portal user (transit authorisation or not).
    _matrix(
        "notification-list",
        lambda m: [],
        {"principal": 200, "trader_b": 200, "broker": 200},
    ),
    _matrix(
        "notification-read",
        lambda m: [m["notification"].pk],
        {"trader_a": 302, "broker_transit": 404, "trader_b": 404, "broker": 404},
        data=lambda m: {},
        variant="post",
    ),
]


@pytest.mark.parametrize("who", USERS)
@pytest.mark.parametrize(("name", "arguments", "data", "files", "expected"), MATRIX)
def test_authorisation_matrix(
    client, matrix_world, verified_login, who, name, arguments, data, files, expected
):
    url = reverse(f"portal:{name}", args=arguments(matrix_world))
    if who == "officer":
        verified_login(client, matrix_world["users"]["departure_officer"])  # staff pass their second factor
    elif who != "anonymous":
        client.force_login(matrix_world["users"][who])
    before = _counts()

    if data is None and files is None:
        response = client.get(url)
    else:
        response = client.post(
            url, {**(data(matrix_world) if data else {}), **(files(matrix_world) if files else {})}
        )

    wanted = {"anonymous": 302, **REFUSED, **{user: expected.get("principal") for user in PRINCIPALS}}
    wanted.update({key: value for key, value in expected.items() if key != "principal"})
    assert response.status_code == wanted[who]
    if who == "anonymous":
        assert response["Location"].startswith(reverse("login") + "?next=")
    if who not in PRINCIPALS:
        assert _counts() == before
    if who != "trader_a":
        assert Notification.objects.get(pk=matrix_world["notification"].pk).read_at is None
    if who in ("trader_b", "broker", "officer") and response.status_code in (200, 403, 422):
        html = _html(response)
        assert matrix_world["movement"].mrn not in html
        assert "T1-MATRIX" not in html
