"""``customs.rows``: instances made without the keyword constructor, rows read and written by hand."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from customs.models import AuditEvent, Trader
from customs.rows import insert_columns, model_new, row_fetch, row_json, rows_stored
from tests.customs.factories import TraderFactory


def _fields(instance):
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


def test_model_new_gives_what_the_constructor_gives():
    at = timezone.now()
    given = {"sequence": 7, "occurred_at": at, "action": "x.y", "before": {"a": 1}, "office_code": "TMA01"}

    assert _fields(model_new(AuditEvent, **given)) == _fields(AuditEvent(**given))


def test_model_new_makes_mutable_defaults_afresh_and_sets_related_objects():
    from declarations.models import Declaration

    first, second = (
        model_new(Declaration, declaration_type="IM4"),
        model_new(Declaration, declaration_type="IM4"),
    )
    first.exchange_rates["USD"] = "3.5"

    assert second.exchange_rates == {}
    trader = Trader(pk=5, taxpayer_id="1")
    made = model_new(Declaration, declaration_type="IM4", trader=trader)
    assert made.trader_id == 5 and made.trader is trader


@pytest.mark.django_db
def test_row_fetch_reads_an_instance_or_none():
    trader = TraderFactory(taxpayer_id="101099999999")

    found = row_fetch(Trader, "taxpayer_id = %s AND active", ["101099999999"])

    assert found == trader and _fields(found) == _fields(Trader.objects.get(pk=trader.pk))
    assert not found._state.adding
    assert row_fetch(Trader, "taxpayer_id = %s AND active", ["nobody"]) is None


@pytest.mark.django_db
def test_a_row_written_from_json_reads_back_field_for_field():
    at = timezone.now().replace(microsecond=123456)
    event = model_new(
        AuditEvent,
        sequence=1,
        occurred_at=at,
        action="tests.rows",
        before=None,
        after={"amount": "12.30", "when": datetime.date(2026, 12, 2).isoformat()},
        previous_hash="0" * 64,
        hash="f" * 64,
    )
    columns = ", ".join(insert_columns(AuditEvent))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO customs_auditevent ({columns}) SELECT {columns} "  # noqa: S608
            "FROM json_populate_record(NULL::customs_auditevent, %s::json) RETURNING id",
            [row_json(event)],
        )
        rows_stored([event], [cursor.fetchone()[0]])

    stored = AuditEvent.objects.get(pk=event.pk)
    assert _fields(stored) == _fields(event)
    assert stored.before is None and stored.after["amount"] == "12.30"
    assert Decimal(stored.after["amount"]) == Decimal("12.30")


@pytest.mark.django_db
def test_row_fetch_converts_values_as_the_orm_does():
    from tests.customs.factories import UserFactory

    event = model_new(
        AuditEvent,
        sequence=1,
        occurred_at=timezone.now(),
        action="tests.rows",
        after={"nested": {"list": [1, "2"]}},
        previous_hash="0" * 64,
        hash="e" * 64,
        actor=UserFactory(),
    )
    event.save()

    found = row_fetch(AuditEvent, "id = %s", [event.pk])

    assert _fields(found) == _fields(AuditEvent.objects.get(pk=event.pk))
    assert found.after == {"nested": {"list": [1, "2"]}}


def test_model_new_refuses_a_name_the_model_does_not_have():
    with pytest.raises(TypeError, match="ofice_code"):
        model_new(AuditEvent, ofice_code="TMA01")


def test_a_naive_time_is_written_in_the_current_time_zone():
    import json

    naive = datetime.datetime(2026, 12, 2, 9, 30)
    row = json.loads(row_json(model_new(AuditEvent, occurred_at=naive)))

    assert datetime.datetime.fromisoformat(row["occurred_at"]) == timezone.make_aware(naive)
