"""WCO DM export of a declaration, schema-valid, and the round trip through the import: an equivalent
declaration comes back."""

import datetime
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from customs.models import AdditionalProcedureCode, DocumentType
from customs.xmlsafe import xml_parse, xml_validate
from declarations.exchange.wcodm import wcodm_schema
from declarations.models import Declaration, DeclarationDocument, DeclarationItem
from declarations.services.exports import declaration_wcodm_export
from declarations.services.imports import declaration_import_request, declaration_import_run
from declarations.services.lifecycle import declaration_submit
from tests.declarations.conftest import FISH, declaration_data, item_data

pytestmark = pytest.mark.django_db
D = Decimal

GENERAL = [
    "declaration_type",
    "counterparty_name",
    "counterparty_address",
    "counterparty_country_id",
    "dispatch_country_id",
    "destination_country_id",
    "incoterm_id",
    "delivery_place",
    "transport_mode_id",
    "transport_identity",
    "transport_nationality_id",
    "goods_location",
    "invoice_amount",
    "invoice_currency_id",
    "freight_amount",
    "freight_currency_id",
    "insurance_amount",
    "insurance_currency_id",
    "other_costs_amount",
    "other_costs_currency_id",
    "total_packages",
]
ITEM = [
    "number",
    "commodity_code",
    "description",
    "origin_id",
    "preference_requested",
    "procedure_code_id",
    "additional_procedure_code_id",
    "packages_number",
    "package_kind_id",
    "marks",
    "gross_mass",
    "net_mass",
    "quantities",
    "invoice_price",
    "valuation_method",
]


def _lodged(world) -> Declaration:
    AdditionalProcedureCode.objects.get_or_create(code="000", defaults={"name_en": "No additional procedure"})
    DocumentType.objects.get_or_create(code="N935", defaults={"name_en": "Invoice"})
    DocumentType.objects.get_or_create(code="N741", defaults={"name_en": "Air waybill"})
    items = [
        item_data(additional_procedure_code="000", marks="SH-1 / 1"),
        item_data(
            commodity_code=FISH,
            description="Frozen tuna, whole",
            packages_number=40,
            package_kind="CT",
            gross_mass=D("820.5"),
            net_mass=D("800.125"),
            invoice_price=D("2450.75"),
            quantities={"kg": D("790.5")},  # a quantity in kg apart from the net mass travels as KGM
        ),
    ]
    declaration = declaration_submit(
        actor=world["users"]["broker"],
        data=declaration_data(
            items=items,
            freight_amount=D("350.00"),
            freight_currency="USD",
            insurance_amount=D("42.50"),
            insurance_currency="USD",
            goods_location="ASHGABAT-TERMINAL-1",
            transport_nationality="TM",
        ),
    )
    DeclarationDocument.objects.create(
        declaration=declaration,
        item_number=None,
        document_type_id="N935",
        reference="INV-2026-0042",
        uploaded_by=world["users"]["broker"],
    )
    DeclarationDocument.objects.create(
        declaration=declaration,
        item_number=2,
        document_type_id="N741",
        reference="AWB-555-1234",
        issued_on=datetime.date(2026, 11, 20),
        uploaded_by=world["users"]["broker"],
    )
    return declaration


def test_the_export_validates_against_the_wco_dm_schemas(world):
    declaration = _lodged(world)
    content, filename = declaration_wcodm_export(declaration)
    assert xml_validate(xml_parse(content), wcodm_schema()) == []
    assert filename == declaration.number.replace(" ", "-") + ".wcodm.xml"
    assert declaration.number.encode() in content


def test_round_trip_export_import_gives_an_equivalent_declaration(world):
    original = _lodged(world)
    content, _name = declaration_wcodm_export(original)

    record = declaration_import_request(actor=world["users"]["broker"], content=content, filename="round.xml")
    assert declaration_import_run(record.pk) == "done"
    record.refresh_from_db()
    copy = record.declaration

    assert (copy.office_id, copy.trader_id, copy.broker_id) == (
        original.office_id,
        original.trader_id,
        original.broker_id,
    )
    for name in GENERAL:
        assert getattr(copy, name) == getattr(original, name), name
    # The same reference is taken by the original: the copy's is told apart, and the report says so.
    assert copy.lrn.startswith(original.lrn + "/IMP")
    assert [entry["code"] for entry in record.report["flagged"] if entry["field"] == "lrn"] == [
        "lrn_not_unique"
    ]
    original_items = list(DeclarationItem.objects.filter(declaration=original).order_by("number"))
    copy_items = list(DeclarationItem.objects.filter(declaration=copy).order_by("number"))
    assert len(copy_items) == 2
    for ours, theirs in zip(original_items, copy_items, strict=True):
        for name in ITEM:
            assert getattr(theirs, name) == getattr(ours, name), (ours.number, name)

    def documents(declaration):
        rows = DeclarationDocument.objects.filter(declaration=declaration)
        return sorted(rows.values_list("item_number", "document_type_id", "reference", "issued_on"), key=str)

    assert documents(copy) == documents(original)
    assert record.report["lodgement_errors"] == []
    assert record.report["assessment"]["total"] == str(original.total_taxes)


def test_the_export_for_whoever_may_see_the_declaration(world, verified_login, client):
    declaration = _lodged(world)
    users = world["users"]
    api = APIClient()
    api.force_authenticate(users["trader_a"])
    response = api.get(f"/api/v1/declarations/{declaration.pk}/wcodm/", HTTP_ACCEPT="application/xml")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml; charset=utf-8"
    assert xml_validate(xml_parse(response.content), wcodm_schema()) == []
    other = APIClient()
    other.force_authenticate(users["trader_b"])
    assert other.get(f"/api/v1/declarations/{declaration.pk}/wcodm/").status_code == 404

    verified_login(client, users["officer"])
    page = client.get(f"/documents/declarations/{declaration.pk}/wcodm.xml")
    assert page.status_code == 200
    assert (
        page["Content-Disposition"]
        == f'attachment; filename="{declaration.number.replace(" ", "-")}.wcodm.xml"'
    )
    verified_login(client, users["officer_other"])
    assert client.get(f"/documents/declarations/{declaration.pk}/wcodm.xml").status_code == 404
