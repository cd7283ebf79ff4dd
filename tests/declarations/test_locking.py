"""``declaration_lock``: the hand-written locking read gives what the ORM's ``select_related`` gives."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from declarations.models import Declaration, OfficeDeclarationSettings
from declarations.services.drafts import declaration_create
from declarations.services.locking import declaration_lock
from tests.declarations.conftest import declaration_data

pytestmark = pytest.mark.django_db


def _fields(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


def _by_the_orm(pk) -> Declaration:
    return Declaration.objects.select_related(
        "office", "office__declaration_settings", "trader", "broker"
    ).get(pk=pk)


@pytest.mark.parametrize("declarant", ["trader_a", "broker"])
@pytest.mark.parametrize("with_settings", [False, True], ids=["office without settings", "with settings"])
def test_the_locked_declaration_comes_with_its_office_settings_trader_and_broker(
    world, declarant, with_settings
):
    if with_settings:
        OfficeDeclarationSettings.objects.create(office=world["office"], register_on_lodgement=False)
    draft = declaration_create(actor=world["users"][declarant], data=declaration_data())
    expected = _by_the_orm(draft.pk)

    with transaction.atomic():
        locked = declaration_lock(draft.pk)
        with CaptureQueriesContext(connection) as reads:
            assert _fields(locked) == _fields(expected)
            assert _fields(locked.office) == _fields(expected.office)
            assert _fields(locked.trader) == _fields(expected.trader)
            if declarant == "broker":
                assert _fields(locked.broker) == _fields(expected.broker) and locked.broker.pk
            else:
                assert locked.broker is None
            if with_settings:
                assert locked.office.declaration_settings.register_on_lodgement is False
                assert locked.office.declaration_settings.office is locked.office
            else:
                with pytest.raises(OfficeDeclarationSettings.DoesNotExist):
                    locked.office.declaration_settings  # noqa: B018 (the access is the test)
            assert locked.number == "" and locked.declarant_name
        assert reads.captured_queries == []  # everything came with the one read
        locked.delivery_place = "Mary"
        locked.save()
    assert Declaration.objects.get(pk=draft.pk).delivery_place == "Mary"


def test_the_lock_is_taken_on_the_declaration_row_only(world):
    draft = declaration_create(actor=world["users"]["trader_a"], data=declaration_data())
    with transaction.atomic(), CaptureQueriesContext(connection) as reads:
        declaration_lock(draft.pk)
    assert reads.captured_queries[-1]["sql"].endswith("FOR UPDATE OF d")


def test_a_declaration_that_is_gone_raises_does_not_exist(world):
    with transaction.atomic(), pytest.raises(Declaration.DoesNotExist):
        declaration_lock(987654)


@pytest.mark.django_db(transaction=True)
def test_locking_outside_a_transaction_is_refused(world):
    """Outside a transaction the row lock would end with the statement, and two officers would both
    believe they hold it."""
    draft = declaration_create(actor=world["users"]["trader_a"], data=declaration_data())
    with pytest.raises(RuntimeError, match="inside transaction.atomic"):
        declaration_lock(draft.pk)
