"""Lodgement: from draft to registered and assessed, with the assessment computed by hand."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customs.models import AuditEvent
from declarations.choices import Status
from declarations.models import Declaration, OfficeDeclarationSettings, StatusChange, TaxLine
from declarations.services.drafts import declaration_create
from declarations.services.errors import DeclarationInvalid
from declarations.services.lifecycle import declaration_lodge, declaration_register
from tests.declarations.conftest import FISH, declaration_data, item_data

pytestmark = pytest.mark.django_db
D = Decimal


def test_a_car_is_registered_and_assessed_on_lodgement(world):
    trader = world["users"]["trader_a"]
    draft = declaration_create(actor=trader, data=declaration_data())

    lodged = declaration_lodge(actor=trader, declaration=draft)

    year = world["today"].year
    lines = {line.measure_type: line for line in TaxLine.objects.filter(declaration=lodged)}
    assert lodged.status == Status.ASSESSED
    assert lodged.number == f"TMA01 {year} C 1"
    assert lodged.assessment_reference == f"TMA01 {year} A 1"
    assert lodged.customs_value == D("35000.00")
    assert lines["import_duty"].amount == D("3500.00")
    assert lines["excise"].base == D("38500.00")
    assert lines["excise"].amount == D("1925.00")
    assert lines["vat"].base == D("40425.00")
    assert lines["vat"].amount == D("6063.75")
    assert lines["customs_fee"].amount == D("70.00")
    assert lodged.total_taxes == D("11558.75")
    assert lodged.exchange_rates == {"EUR": "4.0000000000", "USD": "3.5000000000"}  # EUR: the MIN 100 EUR
    assert list(StatusChange.objects.filter(declaration=lodged).values_list("to_status", flat=True)) == [
        "lodged",
        "registered",
        "assessed",
    ]
    audit = AuditEvent.objects.get(action="declarations.declaration.lodged", object_id=str(lodged.pk))
    assert audit.after["number"] == f"TMA01 {year} C 1"
    assert audit.after["assessment"] == f"TMA01 {year} A 1"


def test_an_office_that_registers_by_hand_keeps_the_declaration_lodged(world):
    OfficeDeclarationSettings.objects.create(office=world["office"], register_on_lodgement=False)
    trader = world["users"]["trader_a"]
    draft = declaration_create(actor=trader, data=declaration_data())

    lodged = declaration_lodge(actor=trader, declaration=draft)
    registered = declaration_register(actor=world["users"]["officer"], declaration=lodged)

    assert lodged.status == Status.LODGED
    assert lodged.registration_number is None
    assert registered.status == Status.ASSESSED
    assert registered.registration_number == 1


def test_every_lodgement_error_comes_back_at_once_and_nothing_is_written(world):
    trader = world["users"]["trader_a"]
    bad_item = item_data(
        commodity_code="0303000000", net_mass=D("1100"), gross_mass=D("1200"), description=""
    )
    draft = declaration_create(
        actor=trader, data=declaration_data(items=[bad_item], counterparty_name="", total_packages=5)
    )
    version = draft.version

    with pytest.raises(DeclarationInvalid) as raised:
        declaration_lodge(actor=trader, declaration=draft)

    codes = {(error.field, error.code) for error in raised.value.errors}
    draft.refresh_from_db()
    assert codes == {
        ("counterparty_name", "required"),
        ("items[0].description", "required"),
        ("items[0].commodity_code", "commodity_code_not_valid"),
        ("total_packages", "totals_inconsistent"),
    }
    assert draft.status == Status.STORED
    assert draft.version == version
    assert not StatusChange.objects.filter(declaration=draft).exists()


def test_query_count_of_a_lodgement_does_not_grow_with_items(world):
    trader = world["users"]["trader_a"]

    def queries_for(count, lrn):
        items = [item_data(commodity_code=FISH, quantities={}) for _ in range(count)]
        draft = declaration_create(actor=trader, data=declaration_data(items=items, lrn=lrn))
        with CaptureQueriesContext(connection) as captured:
            declaration_lodge(actor=trader, declaration=draft)
        return len(captured.captured_queries)

    queries_for(1, "warm-up")
    assert queries_for(2, "two") == queries_for(40, "forty")
    assert Declaration.objects.filter(status=Status.ASSESSED).count() == 3


def _fields(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


@pytest.mark.parametrize("by_hand", [False, True], ids=["on lodgement", "by an officer"])
def test_a_registration_stores_the_declaration_and_its_items_as_the_service_returns_them(world, by_hand):
    """The registration's one statement (``writing.declaration_write_registered``) writes every field
    as ``save()`` would: the creation time kept, the change time moved, the numbers, each item's value
    and valuation steps, the tax lines and the history with their ids."""
    from declarations.models import DeclarationItem

    if by_hand:
        OfficeDeclarationSettings.objects.create(office=world["office"], register_on_lodgement=False)
    trader = world["users"]["trader_a"]
    items = [item_data(), item_data(commodity_code=FISH, quantities={})]
    draft = declaration_create(actor=trader, data=declaration_data(items=items))
    created_at, updated_at = draft.created_at, draft.updated_at

    declaration = declaration_lodge(actor=trader, declaration=draft)
    if by_hand:
        declaration = declaration_register(actor=world["users"]["officer"], declaration=declaration)

    stored = Declaration.objects.get(pk=declaration.pk)
    assert _fields(stored) == _fields(declaration)
    assert stored.created_at == created_at
    assert stored.updated_at > updated_at
    assert stored.status == Status.ASSESSED
    assert stored.version == (3 if by_hand else 2)
    assert stored.registration_number == 1 and stored.assessment_number == 1
    assert stored.direction == "IM"
    values = list(DeclarationItem.objects.filter(declaration=stored).order_by("number"))
    assert [item.customs_value for item in values] == [D("35000.00"), values[1].customs_value]
    assert values[1].customs_value > 0
    assert all(item.valuation_steps and item.valuation_steps[-1]["amount"] for item in values)
    lines = TaxLine.objects.filter(declaration=stored).order_by("position")
    assert sum(line.amount for line in lines) == stored.total_taxes
    changes = list(StatusChange.objects.filter(declaration=stored).order_by("id"))
    assert [change.to_status for change in changes] == ["lodged", "registered", "assessed"]
    assert all(change.occurred_at == stored.registered_at for change in changes[-2:])


def test_submit_stores_what_create_then_lodge_stores_in_one_transaction(world):
    from declarations.models import DeclarationItem
    from declarations.services.lifecycle import declaration_submit

    trader = world["users"]["trader_a"]
    two_steps = declaration_lodge(
        actor=trader, declaration=declaration_create(actor=trader, data=declaration_data())
    )
    audit_before = AuditEvent.objects.count()

    with CaptureQueriesContext(connection) as captured:
        submitted = declaration_submit(actor=trader, data=declaration_data(lrn="LRN-0002"))

    def stored(declaration):
        lines = TaxLine.objects.filter(declaration=declaration).order_by("position")
        return {
            "status": declaration.status,
            "customs_value": declaration.customs_value,
            "total": declaration.total_taxes,
            "lines": [(line.item_number, line.measure_type, line.base, line.amount) for line in lines],
            "items": list(
                DeclarationItem.objects.filter(declaration=declaration).values_list("number", "customs_value")
            ),
            "history": list(
                StatusChange.objects.filter(declaration=declaration).values_list("action", "to_status")
            ),
        }

    assert stored(submitted) == stored(two_steps)
    assert submitted.registration_number == two_steps.registration_number + 1
    assert list(AuditEvent.objects.filter(sequence__gt=audit_before).values_list("action", flat=True)) == [
        "declarations.declaration.submitted"
    ]
    assert len(captured.captured_queries) <= 17


def test_submit_at_an_office_that_registers_by_hand_leaves_the_declaration_lodged(world):
    from declarations.services.lifecycle import declaration_submit

    OfficeDeclarationSettings.objects.create(office=world["office"], register_on_lodgement=False)

    submitted = declaration_submit(actor=world["users"]["trader_a"], data=declaration_data())

    submitted.refresh_from_db()
    assert submitted.status == Status.LODGED
    assert submitted.registration_number is None
    assert submitted.total_taxes is None
    assert not TaxLine.objects.filter(declaration=submitted).exists()
    assert list(StatusChange.objects.filter(declaration=submitted).values_list("to_status", flat=True)) == [
        "lodged"
    ]
