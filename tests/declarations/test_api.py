"""The declarations API: drafts, lodgement with Idempotency-Key, ETag / If-Match, the error envelope."""

import json

import pytest
from rest_framework.test import APIClient

from declarations.models import Declaration
from tests.declarations.conftest import declaration_data, item_data

pytestmark = pytest.mark.django_db
URL = "/api/v1/declarations/"


def _json(data):
    return json.loads(json.dumps(data, default=str))


@pytest.fixture
def api():
    return APIClient()


def test_create_then_lodge_gives_numbers_and_the_assessment_as_decimal_strings(api, world):
    api.force_authenticate(world["users"]["trader_a"])

    created = api.post(URL, _json(declaration_data()), format="json")
    lodged = api.post(f"{URL}{created.json()['id']}/lodge/", HTTP_IF_MATCH=created["ETag"])

    body = lodged.json()
    assert created.status_code == 201
    assert created.json()["status"] == "stored"
    assert lodged.status_code == 200
    assert body["status"] == "assessed"
    assert body["total_taxes"] == "11558.75"
    assert [line["amount"] for line in body["tax_lines"]] == ["3500.00", "1925.00", "6063.75", "70.00"]
    assert body["items"][0]["gross_mass"] == "1200.000000"
    assert lodged["ETag"] == f'"{body["id"]}-{body["version"]}"'


def test_a_retried_lodgement_with_the_same_idempotency_key_creates_one_declaration(api, world):
    api.force_authenticate(world["users"]["trader_a"])
    data = _json(declaration_data())

    first = api.post(URL, data, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    second = api.post(URL, data, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second["Idempotent-Replay"] == "true"
    assert Declaration.objects.count() == 1


def test_a_stale_if_match_is_refused_with_412_and_changes_nothing(api, world):
    api.force_authenticate(world["users"]["trader_a"])
    created = api.post(URL, _json(declaration_data()), format="json")
    url = f"{URL}{created.json()['id']}/"
    api.patch(url, {"delivery_place": "Mary"}, format="json", HTTP_IF_MATCH=created["ETag"])

    stale = api.patch(url, {"delivery_place": "Dashoguz"}, format="json", HTTP_IF_MATCH=created["ETag"])

    assert stale.status_code == 412
    assert stale.json()["error"]["code"] == "stale_version"
    assert Declaration.objects.get().delivery_place == "Mary"


def test_lodgement_errors_come_field_by_field_in_the_envelope(api, world):
    api.force_authenticate(world["users"]["trader_a"])
    created = api.post(URL, _json(declaration_data(counterparty_name="", total_packages=3)), format="json")

    refused = api.post(f"{URL}{created.json()['id']}/lodge/")

    error = refused.json()["error"]
    assert refused.status_code == 400
    assert error["code"] == "validation_error"
    assert error["fields"]["counterparty_name"] == [
        {"code": "required", "message": "This field is required."}
    ]
    assert error["fields"]["total_packages"][0]["code"] == "totals_inconsistent"
    assert Declaration.objects.get().status == "stored"


def test_a_disallowed_move_is_a_409(api, world):
    api.force_authenticate(world["users"]["trader_a"])
    created = api.post(URL, _json(declaration_data()), format="json")
    declaration_id = created.json()["id"]
    api.post(f"{URL}{declaration_id}/lodge/")

    again = api.post(f"{URL}{declaration_id}/lodge/")

    assert again.status_code == 409
    assert again.json()["error"]["code"] == "transition_not_allowed"


def test_submit_creates_and_lodges_in_one_call(api, world):
    api.force_authenticate(world["users"]["trader_a"])

    response = api.post(f"{URL}submit/", _json(declaration_data()), format="json", HTTP_IDEMPOTENCY_KEY="s-1")
    retried = api.post(f"{URL}submit/", _json(declaration_data()), format="json", HTTP_IDEMPOTENCY_KEY="s-1")

    assert response.status_code == 201
    assert response.json()["status"] == "assessed"
    assert response.json()["total_taxes"] == "11558.75"
    assert retried.json() == response.json()
    assert Declaration.objects.count() == 1
    assert response.json() == api.get(f"{URL}{response.json()['id']}/").json()  # made from the rows written


def test_a_submit_that_cannot_be_lodged_stores_nothing(api, world):
    api.force_authenticate(world["users"]["trader_a"])

    refused = api.post(f"{URL}submit/", _json(declaration_data(counterparty_name="")), format="json")

    assert refused.status_code == 400
    assert refused.json()["error"]["fields"]["counterparty_name"][0]["code"] == "required"
    assert Declaration.objects.count() == 0


def test_the_rows_written_out_by_hand_match_the_serializers_of_the_schema(api, world):
    from declarations.api.serializers import (
        DeclarationDocumentSerializer,
        DeclarationTaxLineSerializer,
        StatusChangeSerializer,
    )
    from declarations.services.drafts import declaration_document_attach

    api.force_authenticate(world["users"]["trader_a"])
    created = api.post(URL, _json(declaration_data()), format="json").json()
    declaration = Declaration.objects.get(pk=created["id"])
    declaration_document_attach(
        actor=world["users"]["trader_a"], declaration=declaration, document_type="ST1", reference="ST-77"
    )
    body = api.post(f"{URL}{created['id']}/lodge/").json()

    assert (
        body["tax_lines"]
        == DeclarationTaxLineSerializer(declaration.tax_lines.order_by("position"), many=True).data
    )
    assert (
        body["documents"]
        == DeclarationDocumentSerializer(declaration.documents.order_by("pk"), many=True).data
    )
    assert (
        body["history"]
        == StatusChangeSerializer(declaration.status_changes.order_by("occurred_at", "pk"), many=True).data
    )


def test_create_and_lodge_answer_what_a_read_of_the_declaration_gives(api, world):
    """Both answers are made from the rows the services just wrote (no query for them): they are the
    declaration as a fresh read gives it, items, tax lines, documents and history included."""
    from declarations.services.drafts import declaration_document_attach

    trader = world["users"]["trader_a"]
    api.force_authenticate(trader)
    data = _json(declaration_data(items=[item_data(), item_data(description="Spare wheel")]))
    created = api.post(URL, data, format="json")
    url = f"{URL}{created.json()['id']}/"
    assert created.json() == api.get(url).json()

    declaration = Declaration.objects.get(pk=created.json()["id"])
    declaration_document_attach(actor=trader, declaration=declaration, document_type="ST1", reference="ST-9")
    lodged = api.post(f"{url}lodge/")

    body = lodged.json()
    assert lodged.status_code == 200
    assert body == api.get(url).json()
    assert len(body["items"]) == 2 and body["items"][1]["customs_value"]
    assert [document["reference"] for document in body["documents"]] == ["ST-9"]
    assert [change["to_status"] for change in body["history"]] == ["lodged", "registered", "assessed"]
    assert body["history"][0]["actor"] == trader.username


def test_the_lodgement_answer_equals_a_read_when_the_national_currency_has_no_minor_unit(api, world):
    """The amounts in memory are kept as their columns store them (two places): with a currency
    rounded to whole units the answer still shows what a read gives."""
    from customs.models import Currency
    from tariff.engine import tariff_cache_clear

    Currency.objects.filter(code="TMT").update(minor_unit=0)
    tariff_cache_clear()
    try:
        api.force_authenticate(world["users"]["trader_a"])
        created = api.post(URL, _json(declaration_data()), format="json").json()
        lodged = api.post(f"{URL}{created['id']}/lodge/").json()
        submitted = api.post(f"{URL}submit/", _json(declaration_data(lrn="LRN-0002")), format="json").json()
    finally:
        tariff_cache_clear()

    assert lodged["tax_lines"][0]["amount"] == "3500.00"
    assert lodged == api.get(f"{URL}{created['id']}/").json()
    assert submitted == api.get(f"{URL}{submitted['id']}/").json()


def _validated_both_ways(data):
    """The declaration serializer's result through its per-thread template fields, and through DRF's
    own per-instance fields (as a partial update validates)."""
    from unittest import mock

    from declarations.api.serializers import DeclarationSerializer, FreshFieldsSerializer

    fast = DeclarationSerializer(data=data)
    fast_valid = fast.is_valid()
    with mock.patch.object(FreshFieldsSerializer, "_full", return_value=False):
        plain = DeclarationSerializer(data=data)
        plain_valid = plain.is_valid()
    return (fast_valid, fast.errors, fast.validated_data if fast_valid else None), (
        plain_valid,
        plain.errors,
        plain.validated_data if plain_valid else None,
    )


def test_template_fields_give_the_values_drf_gives():
    data = _json(declaration_data([item_data(), item_data(), item_data()], lrn="TEMPLATE-1"))

    fast, plain = _validated_both_ways(data)

    assert fast[0] is True
    assert fast == plain
    assert len(fast[2]["items"]) == 3


def test_template_fields_give_the_errors_drf_gives():
    data = _json(declaration_data([item_data(), item_data()], lrn="X" * 40))
    data["invoice_amount"] = "12.3.4"
    data["declaration_type"] = "IM9"
    data["items"][1]["commodity_code"] = "87AB"
    data["items"][0]["gross_mass"] = "-1"
    data["items"][0]["quantities"] = {"parsec": "1"}

    fast, plain = _validated_both_ways(data)

    assert fast[0] is False
    assert fast == plain
    assert set(fast[1]) == {"lrn", "invoice_amount", "declaration_type", "items"}
    assert set(fast[1]["items"][0]) == {"gross_mass", "quantities"}
    assert set(fast[1]["items"][1]) == {"commodity_code"}


def test_lodging_a_declaration_the_caller_cannot_see_is_a_404_and_changes_nothing(api, world):
    """The lodge endpoint checks only that the caller sees the declaration, then the service reads it
    locked: another trader's draft, an unknown id and an id that is not a number are all 404."""
    api.force_authenticate(world["users"]["trader_a"])
    created = api.post(URL, _json(declaration_data()), format="json").json()

    api.force_authenticate(world["users"]["trader_b"])
    assert api.post(f"{URL}{created['id']}/lodge/").status_code == 404
    assert api.post(f"{URL}987654/lodge/").status_code == 404
    assert api.post(f"{URL}abc/lodge/").status_code == 404
    assert Declaration.objects.get(pk=created["id"]).status == "stored"

    api.force_authenticate(world["users"]["trader_a"])
    assert api.post(f"{URL}{created['id']}/lodge/").json()["status"] == "assessed"
