"""Each code the validators emit, one at a time, with its exact field path.

Errors at save (``references_check`` and the draft services) stop the draft from being stored; errors
at lodgement (``lodgement_check``) leave the draft as it was: stored, same version, no history.
"""

import datetime
from decimal import Decimal

import pytest

from customs.models import AuditEvent, BrokerAuthorisation, Country
from customs.reference_cache import reference_cache_clear
from declarations.choices import Status
from declarations.models import Declaration, StatusChange, TaxLine
from declarations.services.drafts import declaration_create, declaration_document_attach, declaration_update
from declarations.services.errors import DeclarationInvalid
from declarations.services.lifecycle import declaration_lodge
from tests.declarations.conftest import CAR, FISH, PISTOL, declaration_data, item_data

pytestmark = pytest.mark.django_db
D = Decimal


def _save_errors(actor, data) -> list[tuple[str, str]]:
    count, audit = Declaration.objects.count(), AuditEvent.objects.count()
    with pytest.raises(DeclarationInvalid) as raised:
        declaration_create(actor=actor, data=data)
    assert Declaration.objects.count() == count
    assert AuditEvent.objects.count() == audit
    return [(error.field, error.code) for error in raised.value.errors]


def _lodgement_errors(actor, declaration) -> list[tuple[str, str]]:
    version, audit = declaration.version, AuditEvent.objects.count()
    with pytest.raises(DeclarationInvalid) as raised:
        declaration_lodge(actor=actor, declaration=declaration)
    declaration.refresh_from_db()
    assert declaration.status == Status.STORED
    assert declaration.version == version
    assert declaration.registration_number is None
    assert not StatusChange.objects.filter(declaration=declaration).exists()
    assert not TaxLine.objects.filter(declaration=declaration).exists()
    assert AuditEvent.objects.count() == audit
    return [(error.field, error.code) for error in raised.value.errors]


def _draft(world, *, actor="trader_a", **overrides):
    return declaration_create(actor=world["users"][actor], data=declaration_data(**overrides))


def _lodge_draft_errors(world, *, actor="trader_a", **overrides):
    return _lodgement_errors(world["users"][actor], _draft(world, actor=actor, **overrides))


def _export(**overrides):
    item = item_data(procedure_code="1000", **overrides.pop("item", {}))
    data = declaration_data(
        items=[item], declaration_type="EX1", destination_country="DE", counterparty_country="DE"
    )
    data.pop("dispatch_country")
    data.update(overrides)
    return data


def test_an_import_needs_its_general_fields(world):
    trader = world["users"]["trader_a"]
    blanks = {
        "counterparty_name": "",
        "counterparty_country": "",
        "dispatch_country": "",
        "incoterm": "",
        "transport_mode": "",
        "invoice_amount": None,
        "invoice_currency": "",
        "total_packages": None,
    }
    draft = declaration_create(actor=trader, data=declaration_data(**blanks))

    assert _lodgement_errors(trader, draft) == [
        ("counterparty_name", "required"),
        ("counterparty_country", "required"),
        ("dispatch_country", "required"),
        ("incoterm", "required"),
        ("transport_mode", "required"),
        ("invoice_amount", "required"),
        ("invoice_currency", "required"),
        ("total_packages", "required"),
    ]


def test_an_export_needs_the_destination_but_not_the_dispatch_country(world):
    trader = world["users"]["trader_a"]
    without_destination = declaration_create(actor=trader, data=_export(destination_country="", lrn="EX-1"))
    complete = declaration_create(actor=trader, data=_export(lrn="EX-2"))

    errors = _lodgement_errors(trader, without_destination)
    lodged = declaration_lodge(actor=trader, declaration=complete)

    assert errors == [("destination_country", "required")]
    assert lodged.status == Status.ASSESSED
    assert lodged.total_taxes == D("0")  # no export duty on a car, no fee on exports


def test_an_item_needs_its_fields(world):
    trader = world["users"]["trader_a"]
    blank_item = {
        name: None if name in ("packages_number", "gross_mass", "net_mass", "invoice_price") else ""
        for name in (
            "commodity_code",
            "description",
            "origin",
            "procedure_code",
            "packages_number",
            "package_kind",
            "gross_mass",
            "net_mass",
            "invoice_price",
        )
    }
    data = {**declaration_data(), "items": [blank_item]}
    draft = declaration_create(actor=trader, data=data)

    assert _lodgement_errors(trader, draft) == [
        ("items[0].commodity_code", "required"),
        ("items[0].description", "required"),
        ("items[0].origin", "required"),
        ("items[0].procedure_code", "required"),
        ("items[0].packages_number", "required"),
        ("items[0].package_kind", "required"),
        ("items[0].gross_mass", "required"),
        ("items[0].net_mass", "required"),
        ("items[0].invoice_price", "required"),
    ]


def test_a_declaration_without_items_cannot_be_lodged(world):
    assert _lodge_draft_errors(world, items=[], invoice_amount=D("1"), total_packages=1) == [
        ("items", "required")
    ]


def test_an_unknown_code_is_refused_at_save(world):
    data = declaration_data(
        items=[item_data(origin="XX", package_kind="BOX")], incoterm="ZZZ", invoice_currency="XYZ"
    )

    assert _save_errors(world["users"]["trader_a"], data) == [
        ("incoterm", "unknown_code"),
        ("invoice_currency", "unknown_code"),
        ("items[0].origin", "unknown_code"),
        ("items[0].package_kind", "unknown_code"),
    ]


def test_an_unknown_office_or_trader_is_refused_at_save(world):
    data = declaration_data(office="XX999", trader="000000000000")

    assert _save_errors(world["users"]["trader_a"], data) == [
        ("office", "unknown_code"),
        ("trader", "unknown_code"),
    ]


def test_a_cost_needs_its_currency_at_save(world):
    data = declaration_data(freight_amount=D("100"))

    assert _save_errors(world["users"]["trader_a"], data) == [("freight_currency", "required")]


def test_a_code_out_of_its_validity_is_refused_at_lodgement(world):
    Country.objects.filter(code="DE").update(valid_to=datetime.date(2026, 6, 30))
    reference_cache_clear()

    errors = _lodge_draft_errors(world, dispatch_country="DE", items=[item_data(origin="DE")])

    assert errors == [("dispatch_country", "code_not_valid"), ("items[0].origin", "code_not_valid")]


def test_an_office_that_does_not_handle_imports_is_refused(world):
    world["office"].roles = ["export"]
    world["office"].save()

    assert _lodge_draft_errors(world) == [("office", "office_not_competent")]


def test_a_procedure_of_the_other_direction_is_not_allowed(world):
    assert _lodge_draft_errors(world, items=[item_data(procedure_code="1000")]) == [
        ("items[0].procedure_code", "procedure_not_allowed")
    ]


def test_an_import_procedure_of_another_type_is_not_allowed(world):
    # 4000 is an import procedure, but not a warehousing one (IM7 admits 71, 72, 76, 77, 78).
    assert _lodge_draft_errors(world, declaration_type="IM7") == [
        ("items[0].procedure_code", "procedure_not_allowed")
    ]


def test_a_commodity_code_outside_the_tariff_is_not_valid(world):
    assert _lodge_draft_errors(world, items=[item_data(commodity_code="0303000000")]) == [
        ("items[0].commodity_code", "commodity_code_not_valid")
    ]


def test_a_heading_is_not_declarable(world):
    assert _lodge_draft_errors(world, items=[item_data(commodity_code="0303")]) == [
        ("items[0].commodity_code", "commodity_code_not_declarable")
    ]


def test_a_valuation_method_other_than_transaction_value_needs_a_justification(world):
    errors = _lodge_draft_errors(world, items=[item_data(valuation_method="2")])
    justified = _draft(
        world,
        lrn="LRN-0002",
        items=[item_data(valuation_method="2", valuation_justification="Identical cars sold in May")],
    )

    lodged = declaration_lodge(actor=world["users"]["trader_a"], declaration=justified)

    assert errors == [("items[0].valuation_justification", "justification_required")]
    assert lodged.status == Status.ASSESSED


def test_the_invoice_amount_must_be_the_sum_of_the_item_prices(world):
    items = [item_data(invoice_price=D("6000.00")), item_data(invoice_price=D("4000.00"))]

    assert _lodge_draft_errors(world, items=items, invoice_amount=D("10000.01")) == [
        ("invoice_amount", "totals_inconsistent")
    ]


def test_the_total_packages_must_be_the_sum_over_the_items(world):
    items = [item_data(packages_number=2), item_data(packages_number=3)]

    assert _lodge_draft_errors(world, items=items, total_packages=4) == [
        ("total_packages", "totals_inconsistent")
    ]


def test_a_currency_without_a_rate_is_refused(world):
    errors = _lodge_draft_errors(world, invoice_currency="GBP")
    freight_errors = _lodge_draft_errors(
        world, lrn="LRN-0002", incoterm="FOB", freight_amount=D("100"), freight_currency="GBP"
    )

    assert errors == [("invoice_currency", "exchange_rate_missing")]
    assert freight_errors == [("freight_currency", "exchange_rate_missing")]


def test_a_broker_without_authorisation_may_not_declare_for_the_trader(world):
    data = declaration_data()

    assert _save_errors(world["users"]["broker_other"], data) == [("trader", "declarant_not_authorised")]


def test_a_broker_authorised_for_exports_only_may_not_lodge_an_import(world):
    draft = _draft(world, actor="broker")
    BrokerAuthorisation.objects.filter(broker=world["broker"]).update(scope=["export"])

    assert _lodgement_errors(world["users"]["broker"], draft) == [("trader", "declarant_not_authorised")]


def test_an_lrn_is_unique_per_declarant(world):
    trader = world["users"]["trader_a"]
    _draft(world, lrn="INV-1")
    other = _draft(world, lrn="INV-2")
    version = other.version

    at_create = _save_errors(trader, declaration_data(lrn="INV-1"))
    with pytest.raises(DeclarationInvalid) as at_update:
        declaration_update(actor=trader, declaration=other, data={"lrn": "INV-1"})
    by_broker = _draft(world, actor="broker", lrn="INV-1")  # another declarant: its own LRNs

    other.refresh_from_db()
    assert at_create == [("lrn", "lrn_not_unique")]
    assert [(error.field, error.code) for error in at_update.value.errors] == [("lrn", "lrn_not_unique")]
    assert other.lrn == "INV-2"
    assert other.version == version
    assert by_broker.lrn == "INV-1"


def test_the_net_mass_cannot_exceed_the_gross_mass(world):
    data = declaration_data(items=[item_data(), item_data(gross_mass=D("10"), net_mass=D("10.000001"))])

    assert _save_errors(world["users"]["trader_a"], data) == [("items[1].net_mass", "net_mass_exceeds_gross")]


def _kazakh_fish(**overrides):
    return item_data(
        commodity_code=FISH,
        description="Frozen fish",
        origin="KZ",
        preference_requested=True,
        gross_mass=D("1000"),
        net_mass=D("900"),
        invoice_price=D("2000.00"),
        quantities={},
        **overrides,
    )


def test_a_preference_needs_its_proof_of_origin(world):
    trader = world["users"]["trader_a"]
    draft = _draft(world, items=[_kazakh_fish()], dispatch_country="KZ")

    errors = _lodgement_errors(trader, draft)
    declaration_document_attach(actor=trader, declaration=draft, document_type="ST1", reference="ST1-77")
    lodged = declaration_lodge(actor=trader, declaration=draft)

    duty = TaxLine.objects.get(declaration=lodged, measure_type="import_duty")
    assert errors == [("items[0].preference_requested", "proof_of_origin_missing")]
    assert lodged.status == Status.ASSESSED
    assert duty.expression == "0%"
    assert duty.amount == D("0.00")


def test_a_relief_needs_its_document(world):
    trader = world["users"]["trader_a"]
    draft = _draft(world, items=[item_data(procedure_code="4091")])

    errors = _lodgement_errors(trader, draft)
    declaration_document_attach(actor=trader, declaration=draft, document_type="DIP", reference="DIP-1")
    lodged = declaration_lodge(actor=trader, declaration=draft)

    assert errors == [("items[0].procedure_code", "relief_document_missing")]
    assert TaxLine.objects.get(declaration=lodged, measure_type="import_duty").amount == D("0.00")
    assert TaxLine.objects.get(declaration=lodged, measure_type="vat").amount == D("0.00")


def test_a_licensed_good_needs_its_licence(world):
    trader = world["users"]["trader_a"]
    pistol = item_data(commodity_code=PISTOL, description="Sport pistol", quantities={})
    draft = _draft(world, items=[item_data(), pistol])

    errors = _lodgement_errors(trader, draft)
    declaration_document_attach(
        actor=trader, declaration=draft, document_type="LIC", reference="LIC-9", item_number=2
    )
    lodged = declaration_lodge(actor=trader, declaration=draft)

    assert errors == [("items[1].documents", "document_required")]
    assert lodged.status == Status.ASSESSED


def test_a_licence_for_another_item_does_not_count(world):
    trader = world["users"]["trader_a"]
    pistol = item_data(commodity_code=PISTOL, description="Sport pistol", quantities={})
    draft = _draft(world, items=[item_data(commodity_code=CAR), pistol])
    declaration_document_attach(
        actor=trader, declaration=draft, document_type="LIC", reference="LIC-9", item_number=1
    )
    draft.refresh_from_db()

    assert _lodgement_errors(trader, draft) == [("items[1].documents", "document_required")]


def test_a_declaration_has_at_most_999_items(world):
    items = [item_data() for _ in range(1000)]

    assert _save_errors(world["users"]["trader_a"], declaration_data(items=items)) == [
        ("items", "too_many_items")
    ]


def test_999_items_may_be_saved(world):
    draft = _draft(world, items=[item_data() for _ in range(999)])

    assert draft.items.count() == 999


def test_a_negative_figure_is_refused_at_save(world):
    data = declaration_data(
        items=[item_data(gross_mass=D("-1"), net_mass=D("-2")), item_data(invoice_price=D("-5"))],
        invoice_amount=D("-1"),
        freight_amount=D("-10"),
        freight_currency="USD",
    )

    assert _save_errors(world["users"]["trader_a"], data) == [
        ("invoice_amount", "min_value"),
        ("freight_amount", "min_value"),
        ("items[0].gross_mass", "min_value"),
        ("items[0].net_mass", "min_value"),
        ("items[1].invoice_price", "min_value"),
    ]
