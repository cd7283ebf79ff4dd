"""The declarant's declaration screens: the entry form with its item grid, errors next to their field,
who may see and choose what, and lodging from the page."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from declarations.choices import Status
from declarations.models import Declaration, DeclarationItem
from declarations.services.drafts import declaration_create
from tests.declarations.conftest import CAR, declaration_data

pytestmark = pytest.mark.django_db
D = Decimal


def _car_row(**overrides) -> dict:
    row = {
        "commodity_code": CAR,
        "description": "Passenger car, petrol, 1,500 cc",
        "origin": "cn",
        "procedure_code": "4000",
        "packages_number": "1",
        "package_kind": "PK",
        "gross_mass": "1200",
        "net_mass": "1100",
        "quantity": "1",
        "quantity_unit": "item",
        "invoice_price": "10000",
        "valuation_method": "1",
    }
    row.update(overrides)
    return row


def _form_data(rows, **overrides) -> dict:
    data = {
        "declaration_type": "IM4",
        "office": "TMA01",
        "trader": "101012345678",
        "lrn": "LRN-PORTAL-1",
        "counterparty_name": "Shanghai Motors Ltd",
        "counterparty_address": "1 Harbour Road, Shanghai",
        "counterparty_country": "CN",
        "dispatch_country": "CN",
        "destination_country": "",
        "incoterm": "CIF",
        "delivery_place": "Ashgabat",
        "transport_mode": "3",
        "transport_identity": "AG 1234",
        "transport_nationality": "",
        "goods_location": "",
        "invoice_amount": "15000",
        "invoice_currency": "USD",
        "freight_split": "price",
        "total_packages": "2",
        "items-TOTAL_FORMS": str(len(rows)),
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "999",
        "save": "1",
    }
    for index, row in enumerate(rows):
        for name, value in row.items():
            data[f"items-{index}-{name}"] = value
    data.update(overrides)
    return data


def _cell(html: str, input_id: str) -> str:
    """The grid cell (<td>...</td>) holding the input ``input_id``."""
    match = re.search(
        r'<td class="grid-cell[^"]*">(?:(?!</td>).)*id="' + input_id + r'"(?:(?!</td>).)*</td>', html, re.S
    )
    assert match, f"no cell for {input_id}"
    return match.group(0)


def test_a_draft_with_two_items_is_created_from_the_form(client, world):
    client.force_login(world["users"]["trader_a"])
    rows = [_car_row(), _car_row(invoice_price="5000", description="Second car", gross_mass="1300.5")]

    response = client.post(reverse("portal:declaration-new"), _form_data(rows))

    declaration = Declaration.objects.get()
    items = list(DeclarationItem.objects.filter(declaration=declaration).order_by("number"))
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:declaration-detail", args=[declaration.pk])
    assert declaration.status == Status.STORED
    assert declaration.lrn == "LRN-PORTAL-1"
    assert declaration.trader == world["trader_a"]
    assert declaration.broker is None
    assert declaration.created_by == world["users"]["trader_a"]
    assert declaration.office.code == "TMA01"
    assert declaration.counterparty_country_id == "CN"
    assert declaration.incoterm_id == "CIF"
    assert declaration.transport_mode_id == "3"
    assert declaration.invoice_amount == D("15000")
    assert declaration.invoice_currency_id == "USD"
    assert declaration.total_packages == 2
    assert declaration.destination_country_id is None
    assert [item.number for item in items] == [1, 2]
    assert [item.commodity_code for item in items] == [CAR, CAR]
    assert [item.description for item in items] == ["Passenger car, petrol, 1,500 cc", "Second car"]
    assert [item.origin_id for item in items] == ["CN", "CN"]
    assert [item.package_kind_id for item in items] == ["PK", "PK"]
    assert [item.gross_mass for item in items] == [D("1200"), D("1300.5")]
    assert [item.net_mass for item in items] == [D("1100"), D("1100")]
    assert [item.invoice_price for item in items] == [D("10000"), D("5000")]
    assert [item.quantities for item in items] == [{"item": "1"}, {"item": "1"}]


def test_a_service_error_shows_next_to_its_input_and_keeps_what_was_typed(client, world):
    client.force_login(world["users"]["trader_a"])
    rows = [_car_row(), _car_row(description="Heavier than it weighs", net_mass="1300", invoice_price="5000")]

    response = client.post(reverse("portal:declaration-new"), _form_data(rows))

    html = response.content.decode()
    net_cell = _cell(html, "id_items-1-net_mass")
    assert response.status_code == 200
    assert "The net mass cannot exceed the gross mass." in net_cell
    assert 'value="1300"' in net_cell
    assert "The net mass cannot exceed" not in _cell(html, "id_items-0-net_mass")
    assert html.count("The net mass cannot exceed the gross mass.") == 1
    assert 'value="Heavier than it weighs"' in _cell(html, "id_items-1-description")
    assert 'value="LRN-PORTAL-1"' in html
    assert 'value="Shanghai Motors Ltd"' in html
    assert 'id="form-errors"' in html
    assert Declaration.objects.count() == 0
    assert DeclarationItem.objects.count() == 0


def test_an_unknown_general_code_shows_next_to_its_field(client, world):
    client.force_login(world["users"]["trader_a"])

    response = client.post(reverse("portal:declaration-new"), _form_data([_car_row()], dispatch_country="XX"))

    html = response.content.decode()
    field = re.search(
        r'<div class="field field--error">(?:(?!</div>).)*id_dispatch_country.*?</div>', html, re.S
    )
    assert response.status_code == 200
    assert field is not None
    assert "XX is not in the code list of countries." in field.group(0)
    assert Declaration.objects.count() == 0


def test_copy_item_without_javascript_duplicates_the_row_and_saves_nothing(client, world):
    client.force_login(world["users"]["trader_a"])
    rows = [_car_row(description="First"), _car_row(description="Second")]
    data = _form_data(rows)
    del data["save"]
    data["grid_copy"] = "0"

    response = client.post(reverse("portal:declaration-new"), data)

    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="items-TOTAL_FORMS" value="3"' in html
    assert 'value="First"' in _cell(html, "id_items-0-description")
    assert 'value="First"' in _cell(html, "id_items-1-description")
    assert 'value="Second"' in _cell(html, "id_items-2-description")
    assert "field--error" not in html
    assert Declaration.objects.count() == 0


def test_a_broker_chooses_only_traders_that_authorised_it(client, world):
    client.force_login(world["users"]["broker"])

    page = client.get(reverse("portal:declaration-new")).content.decode()
    response = client.post(reverse("portal:declaration-new"), _form_data([_car_row()], trader="101098765432"))

    html = response.content.decode()
    field = re.search(r'<div class="field field--error">(?:(?!</div>).)*id_trader.*?</div>', html, re.S)
    assert '<option value="101012345678"' in page
    assert "101098765432" not in page
    assert response.status_code == 200
    assert field is not None
    assert "Select a valid choice." in field.group(0)
    assert Declaration.objects.count() == 0


def test_a_broker_declares_for_an_authorising_trader(client, world):
    client.force_login(world["users"]["broker"])

    response = client.post(
        reverse("portal:declaration-new"), _form_data([_car_row()], invoice_amount="10000")
    )

    declaration = Declaration.objects.get()
    assert response.status_code == 302
    assert declaration.trader == world["trader_a"]
    assert declaration.broker == world["broker"]


def test_trader_b_gets_404_on_trader_as_declaration(client, world):
    declaration = declaration_create(actor=world["users"]["trader_a"], data=declaration_data())
    client.force_login(world["users"]["trader_b"])

    detail = client.get(reverse("portal:declaration-detail", args=[declaration.pk]))
    edit = client.get(reverse("portal:declaration-edit", args=[declaration.pk]))
    lodge = client.post(reverse("portal:declaration-lodge", args=[declaration.pk]))
    listing = client.get(reverse("portal:declaration-list"))

    declaration.refresh_from_db()
    assert detail.status_code == 404
    assert edit.status_code == 404
    assert lodge.status_code == 404
    assert "LRN-0001" not in listing.content.decode()
    assert declaration.status == Status.STORED


def test_the_list_shows_the_users_declarations(client, world):
    declaration_create(actor=world["users"]["trader_a"], data=declaration_data(lrn="FIRST"))
    declaration_create(actor=world["users"]["trader_a"], data=declaration_data(lrn="SECOND"))
    declaration_create(
        actor=world["users"]["trader_b"], data=declaration_data(lrn="OTHER", trader="101098765432")
    )
    client.force_login(world["users"]["trader_a"])

    html = client.get(reverse("portal:declaration-list")).content.decode()

    assert html.index("SECOND") < html.index("FIRST")
    assert "OTHER" not in html
    assert html.count("Altyn Asyr HJ") == 2


def test_editing_a_draft_shows_its_items_and_saves_the_change(client, world):
    declaration = declaration_create(actor=world["users"]["trader_a"], data=declaration_data())
    client.force_login(world["users"]["trader_a"])
    url = reverse("portal:declaration-edit", args=[declaration.pk])

    page = client.get(url).content.decode()
    data = _form_data([_car_row(invoice_price="12000")], lrn="LRN-0001", invoice_amount="12000", version="1")
    response = client.post(url, data)

    declaration.refresh_from_db()
    assert 'value="10000"' in _cell(page, "id_items-0-invoice_price")
    assert response.status_code == 302
    assert declaration.version == 2
    assert declaration.invoice_amount == D("12000")
    assert list(declaration.items.values_list("invoice_price", flat=True)) == [D("12000")]


def test_check_shows_the_assessment_without_writing(client, world):
    declaration = declaration_create(actor=world["users"]["trader_a"], data=declaration_data())
    client.force_login(world["users"]["trader_a"])

    response = client.get(reverse("portal:declaration-detail", args=[declaration.pk]) + "?check=1")

    html = response.content.decode()
    declaration.refresh_from_db()
    assert response.status_code == 200
    assert re.search(r'id="preview-total"><strong>11,558.75 TMT</strong>', html)
    assert declaration.status == Status.STORED
    assert declaration.total_taxes is None


def test_lodge_from_the_page_assesses_and_shows_the_total(client, world):
    declaration = declaration_create(actor=world["users"]["trader_a"], data=declaration_data())
    client.force_login(world["users"]["trader_a"])
    url = reverse("portal:declaration-detail", args=[declaration.pk])

    response = client.post(reverse("portal:declaration-lodge", args=[declaration.pk]))
    page = client.get(url).content.decode()

    declaration.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == url
    assert declaration.status == Status.ASSESSED
    assert declaration.total_taxes == D("11558.75")
    assert 'id="assessment-total"><strong>11,558.75 TMT</strong>' in page
    assert f'id="declaration-number">{declaration.number}<' in page
    assert 'data-tax="import_duty"' in page


def test_lodge_errors_show_on_the_item_row_and_nothing_is_written(client, world):
    data = declaration_data()
    data["items"][0]["description"] = ""
    declaration = declaration_create(actor=world["users"]["trader_a"], data={**data, "counterparty_name": ""})
    client.force_login(world["users"]["trader_a"])

    response = client.post(reverse("portal:declaration-lodge", args=[declaration.pk]))

    html = response.content.decode()
    item_errors = re.search(r'data-item-errors="1">.*?</tr>', html, re.S).group(0)
    general = re.search(r'data-field="counterparty_name".*?</dd>', html, re.S).group(0)
    declaration.refresh_from_db()
    assert response.status_code == 422
    assert "Description of goods: This field is required." in item_errors
    assert "This field is required." in general
    assert declaration.status == Status.STORED
    assert declaration.version == 1


def _assessed(world):
    from declarations.services.lifecycle import declaration_lodge

    trader = world["users"]["trader_a"]
    return declaration_lodge(
        actor=trader, declaration=declaration_create(actor=trader, data=declaration_data())
    )


def test_the_declarant_requests_an_amendment_of_an_item_price(client, world):
    declaration = _assessed(world)
    client.force_login(world["users"]["trader_a"])

    response = client.post(
        reverse("portal:declaration-amend", args=[declaration.pk]),
        {
            "amend-item_1_commodity_code": CAR,
            "amend-item_1_invoice_price": "9000",
            "amend-reason": "The supplier's credit note lowers the price.",
        },
    )

    declaration.refresh_from_db()
    assert response.status_code == 302
    assert declaration.status == Status.AMENDMENT_REQUESTED
    assert declaration.pending_changes["invoice_amount"] == "9000"
    assert [row["invoice_price"] for row in declaration.pending_changes["items"]] == ["9000"]
    assert [row["commodity_code"] for row in declaration.pending_changes["items"]] == [CAR]
    assert declaration.status_changes.last().reason == "The supplier's credit note lowers the price."


def test_an_amendment_without_a_change_is_refused_on_the_page(client, world):
    declaration = _assessed(world)
    client.force_login(world["users"]["trader_a"])

    response = client.post(
        reverse("portal:declaration-amend", args=[declaration.pk]),
        {
            "amend-item_1_commodity_code": CAR,
            "amend-item_1_invoice_price": "10000",
            "amend-reason": "No change",
        },
    )

    declaration.refresh_from_db()
    assert response.status_code == 422
    assert "Change at least one commodity code or item price." in response.content.decode()
    assert declaration.status == Status.ASSESSED
    assert declaration.pending_changes is None


def test_cancellation_needs_a_reason_and_then_is_requested(client, world):
    declaration = _assessed(world)
    client.force_login(world["users"]["trader_a"])
    url = reverse("portal:declaration-command", args=[declaration.pk, "request_cancellation"])

    refused = client.post(url, {"cancel-reason": ""})
    declaration.refresh_from_db()
    status_after_refusal = declaration.status
    accepted = client.post(url, {"cancel-reason": "The goods were never shipped."})

    declaration.refresh_from_db()
    assert refused.status_code == 422
    assert status_after_refusal == Status.ASSESSED
    assert accepted.status_code == 302
    assert declaration.status == Status.CANCELLATION_REQUESTED


def test_the_declarant_answers_a_query(client, world):
    from declarations.services.lifecycle import declaration_query

    declaration = declaration_query(
        actor=world["users"]["officer"], declaration=_assessed(world), reason="Send the invoice."
    )
    client.force_login(world["users"]["trader_a"])

    page = client.get(reverse("portal:declaration-detail", args=[declaration.pk])).content.decode()
    response = client.post(
        reverse("portal:declaration-command", args=[declaration.pk, "respond"]),
        {"respond-reason": "Invoice attached."},
    )

    declaration.refresh_from_db()
    assert "Send the invoice." in page
    assert response.status_code == 302
    assert declaration.status == Status.ASSESSED
    assert declaration.status_changes.last().reason == "Invoice attached."


def test_a_document_of_the_wrong_type_is_refused_next_to_the_file_input(client, world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    declaration = declaration_create(actor=world["users"]["trader_a"], data=declaration_data())
    client.force_login(world["users"]["trader_a"])

    response = client.post(
        reverse("portal:declaration-document-add", args=[declaration.pk]),
        {
            "document_type": "ST1",
            "reference": "CO-1",
            "file": SimpleUploadedFile("notes.txt", b"hello", content_type="text/plain"),
        },
    )

    html = response.content.decode()
    field = re.search(r'<div class="field field--error">(?:(?!</div>).)*id_file.*?</div>', html, re.S)
    assert response.status_code == 422
    assert field is not None
    assert "Upload a PDF or an image (PNG, JPEG, TIFF)." in field.group(0)
    assert declaration.documents.count() == 0


def test_withdraw_a_draft(client, world):
    declaration = declaration_create(actor=world["users"]["trader_a"], data=declaration_data())
    client.force_login(world["users"]["trader_a"])

    response = client.post(reverse("portal:declaration-command", args=[declaration.pk, "withdraw"]))

    declaration.refresh_from_db()
    assert response.status_code == 302
    assert declaration.status == Status.CANCELLED


def test_a_forty_item_declaration_is_saved_from_the_grid(client, world, django_assert_max_num_queries):
    client.force_login(world["users"]["trader_a"])
    rows = [_car_row(description=f"Car {number}", invoice_price="100") for number in range(1, 41)]

    with django_assert_max_num_queries(60):
        response = client.post(
            reverse("portal:declaration-new"), _form_data(rows, invoice_amount="4000", total_packages="40")
        )

    declaration = Declaration.objects.get()
    assert response.status_code == 302
    assert declaration.items.count() == 40
    assert declaration.items.get(number=40).description == "Car 40"


def test_an_attached_file_is_served_to_the_declarant_only_and_never_from_media_url(client, world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from declarations.services.drafts import declaration_document_attach

    pdf = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
    declaration = declaration_create(actor=world["users"]["trader_a"], data=declaration_data())
    document = declaration_document_attach(
        actor=world["users"]["trader_a"],
        declaration=declaration,
        document_type="ST1",
        reference="CO-9",
        file=SimpleUploadedFile("origin.pdf", pdf, content_type="application/pdf"),
    )
    url = reverse("portal:declaration-document-file", args=[declaration.pk, document.pk])
    client.force_login(world["users"]["trader_a"])

    page = client.get(reverse("portal:declaration-detail", args=[declaration.pk])).content.decode()
    served = client.get(url)
    client.force_login(world["users"]["trader_b"])
    refused = client.get(url)

    assert f'href="{url}"' in page
    assert "/media/" not in page
    assert served.status_code == 200
    assert served["Content-Type"] == "application/pdf"
    assert b"".join(served.streaming_content) == pdf
    assert refused.status_code == 404
