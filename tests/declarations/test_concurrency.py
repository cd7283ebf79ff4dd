"""Concurrent moves on PostgreSQL: each thread has its own connection and its own transaction."""

import json
import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from customs.models import AuditEvent
from declarations.choices import Status
from declarations.models import Declaration, IdempotencyKey, StatusChange
from declarations.services import lifecycle
from declarations.services.drafts import declaration_create
from declarations.services.errors import StaleVersion, TransitionNotAllowed
from tests.declarations.conftest import declaration_data
from tests.declarations.test_transitions import declaration_in

pytestmark = pytest.mark.django_db(transaction=True)
URL = "/api/v1/declarations/"
S = Status


def _at_once(calls: list) -> list:
    """Run the calls in threads released together; each call's result or the exception it raised."""
    results: list = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def worker(index):
        try:
            barrier.wait(timeout=30)
            results[index] = calls[index]()
        except BaseException as error:  # the test looks at what each call raised
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return results


def test_two_officers_registering_the_same_declaration_at_once_register_it_once(world):
    declaration = declaration_in(world, S.LODGED)
    officers = [world["users"]["officer"], world["users"]["supervisor"]]

    results = _at_once(
        [
            lambda officer=officer: lifecycle.declaration_register(actor=officer, declaration=declaration)
            for officer in officers
        ]
    )

    registered = [result for result in results if isinstance(result, Declaration)]
    refused = [result for result in results if isinstance(result, Exception)]
    declaration.refresh_from_db()
    assert len(registered) == 1
    assert len(refused) == 1
    assert type(refused[0]) is TransitionNotAllowed
    assert declaration.status == S.ASSESSED
    assert declaration.registration_number == 1
    assert StatusChange.objects.filter(declaration=declaration, action="register").count() == 1
    assert AuditEvent.objects.filter(action="declarations.declaration.registered").count() == 1


def test_two_officers_acting_on_the_same_version_one_is_told_it_is_stale(world):
    declaration = declaration_in(world, S.ASSESSED)
    version = declaration.version
    users = world["users"]

    results = _at_once(
        [
            lambda: lifecycle.declaration_query(
                actor=users["officer"], declaration=declaration, reason="Invoice?", expected_version=version
            ),
            lambda: lifecycle.declaration_cancel(
                actor=users["supervisor"], declaration=declaration, reason="Dup", expected_version=version
            ),
        ]
    )

    done = [result for result in results if isinstance(result, Declaration)]
    stale = [result for result in results if isinstance(result, StaleVersion)]
    declaration.refresh_from_db()
    assert len(done) == 1
    assert len(stale) == 1
    assert stale[0].current_version == version + 1
    assert declaration.version == version + 1
    assert declaration.status == done[0].status


def test_a_double_post_with_one_idempotency_key_creates_one_declaration(world):
    trader = world["users"]["trader_a"]
    body = json.loads(json.dumps(declaration_data(), default=str))

    def post():
        client = APIClient()
        client.force_authenticate(trader)
        response = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="same-key")
        return response.status_code, response.json(), response.get("Idempotent-Replay")

    first, second = _at_once([post, post])

    assert first[0] == second[0] == 201
    assert first[1] == second[1]
    assert sorted([first[2], second[2]], key=str) == [None, "true"]
    assert Declaration.objects.count() == 1
    assert IdempotencyKey.objects.count() == 1


def test_a_double_lodgement_with_one_idempotency_key_lodges_once(world):
    trader = world["users"]["trader_a"]
    declaration = declaration_in(world, S.STORED)

    def post():
        client = APIClient()
        client.force_authenticate(trader)
        response = client.post(f"{URL}{declaration.pk}/lodge/", HTTP_IDEMPOTENCY_KEY="lodge-key")
        return response.status_code, response.json()

    first, second = _at_once([post, post])

    declaration.refresh_from_db()
    assert first == second
    assert first[0] == 200
    assert first[1]["number"] == declaration.number
    assert declaration.registration_number == 1
    assert StatusChange.objects.filter(declaration=declaration, action="lodge").count() == 1


def test_twenty_concurrent_lodgements_at_one_office_are_numbered_one_to_twenty(world):
    trader = world["users"]["trader_a"]
    drafts = [declaration_create(actor=trader, data=declaration_data(lrn=f"LRN-{n}")) for n in range(20)]

    results = _at_once(
        [lambda draft=draft: lifecycle.declaration_lodge(actor=trader, declaration=draft) for draft in drafts]
    )

    assert [type(result) for result in results] == [Declaration] * 20
    numbers = list(Declaration.objects.values_list("registration_number", flat=True))
    assessments = list(Declaration.objects.values_list("assessment_number", flat=True))
    assert sorted(numbers) == list(range(1, 21))
    assert sorted(assessments) == list(range(1, 21))
    assert set(Declaration.objects.values_list("status", flat=True)) == {S.ASSESSED}


def test_concurrent_submits_and_lodgements_share_one_gap_free_numbering(world):
    """``declaration_submit`` takes its numbers inside its one insert statement, ``declaration_lodge``
    by ``number_next``: mixed, at one office, they neither deadlock nor leave a gap, and a taken LRN
    gives its numbers back."""
    trader = world["users"]["trader_a"]
    drafts = [declaration_create(actor=trader, data=declaration_data(lrn=f"LODGE-{n}")) for n in range(8)]
    lodges = [
        lambda draft=draft: lifecycle.declaration_lodge(actor=trader, declaration=draft) for draft in drafts
    ]
    submits = [
        lambda n=n: lifecycle.declaration_submit(actor=trader, data=declaration_data(lrn=f"SUBMIT-{n}"))
        for n in range(8)
    ]
    taken = [lambda: lifecycle.declaration_submit(actor=trader, data=declaration_data(lrn="LODGE-0"))]

    results = _at_once([call for pair in zip(lodges, submits, strict=True) for call in pair] + taken)

    assert [type(result) for result in results[:16]] == [Declaration] * 16
    refused = results[16]
    assert isinstance(refused, lifecycle.DeclarationInvalid)
    assert [error.code for error in refused.errors] == ["lrn_not_unique"]
    registered = Declaration.objects.exclude(registration_number=None)
    assert sorted(registered.values_list("registration_number", flat=True)) == list(range(1, 17))
    assert sorted(registered.values_list("assessment_number", flat=True)) == list(range(1, 17))
