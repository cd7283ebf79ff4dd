"""The audit trail: appended in the caller's transaction, hash-chained, append-only, tamper-evident."""

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from customs.models import AuditChainHead, AuditEvent
from customs.requestcontext import current_request_id
from customs.services.audit import GENESIS_HASH, audit_event_hash, audit_record, audit_verify
from tests.customs.factories import TraderFactory, UserFactory

pytestmark = pytest.mark.django_db


def _record_three(actor):
    trader = TraderFactory(name="Altyn Asyr HJ")
    with transaction.atomic():
        audit_record(action="customs.trader.created", actor=actor, obj=trader, after={"name": trader.name})
        audit_record(
            action="customs.trader.updated",
            actor=actor,
            obj=trader,
            before={"aeo": "none"},
            after={"aeo": "aeo_f"},
        )
        audit_record(action="customs.trader.deactivated", actor=actor, obj=trader, office_code="TMA01")
    return trader


def _tamper(sql, params):
    """What a database superuser could do behind the application's back."""
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")  # user triggers off, as a superuser can
        cursor.execute(sql, params)
        cursor.execute("SET session_replication_role = DEFAULT")


def test_events_form_a_chain_with_actor_object_and_request_id():
    actor = UserFactory(username="merdan")
    token = current_request_id.set("req-42")
    try:
        trader = _record_three(actor)
    finally:
        current_request_id.reset(token)

    events = list(AuditEvent.objects.order_by("sequence"))
    assert [event.sequence for event in events] == [1, 2, 3]
    assert events[0].previous_hash == GENESIS_HASH
    assert events[1].previous_hash == events[0].hash
    assert events[2].previous_hash == events[1].hash
    assert events[1].actor_username == "merdan"
    assert events[1].object_type == "customs.trader"
    assert events[1].object_id == str(trader.pk)
    assert events[1].before == {"aeo": "none"}
    assert events[1].after == {"aeo": "aeo_f"}
    assert events[2].office_code == "TMA01"
    assert {event.request_id for event in events} == {"req-42"}
    assert all(audit_event_hash(event) == event.hash for event in events)
    assert audit_verify() == []


def test_event_rolls_back_with_the_change_it_records():
    trader = TraderFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(action="customs.trader.updated", actor=None, obj=trader)
        raise RuntimeError("the change failed")

    assert AuditEvent.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_recording_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError):
        audit_record(action="customs.trader.updated", actor=None)
    assert AuditEvent.objects.count() == 0


def test_database_refuses_update_and_delete():
    _record_three(UserFactory())

    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(sequence=2).update(action="customs.nothing")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(sequence=2).delete()

    assert AuditEvent.objects.get(sequence=2).action == "customs.trader.updated"
    assert AuditEvent.objects.count() == 3


def test_an_edited_row_is_detected():
    _record_three(UserFactory())
    _tamper("UPDATE customs_auditevent SET after = %s WHERE sequence = 2", ['{"aeo": "none"}'])

    problems = audit_verify()

    assert [(p.sequence, p.problem) for p in problems] == [(2, "content does not match its hash (edited)")]


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link():
    _record_three(UserFactory())
    event = AuditEvent.objects.get(sequence=2)
    event.action = "customs.trader.viewed"
    _tamper(
        "UPDATE customs_auditevent SET action = %s, hash = %s WHERE sequence = 2",
        [event.action, audit_event_hash(event)],
    )

    problems = audit_verify()

    assert [(p.sequence, p.problem) for p in problems] == [(3, "link to the previous event is broken")]


def test_a_deleted_row_is_detected_by_the_command(capsys):
    _record_three(UserFactory())
    _tamper("DELETE FROM customs_auditevent WHERE sequence = 2", [])

    with pytest.raises(CommandError) as error:
        call_command("verify_audit")

    assert str(error.value) == "The audit trail is broken: 2 problem(s)."
    assert "event #3: events #2..#2 are missing (deleted)" in capsys.readouterr().err


def test_command_confirms_an_intact_trail(capsys):
    _record_three(UserFactory())

    call_command("verify_audit")

    assert "Audit trail intact: 3 events verified." in capsys.readouterr().out


def test_deleting_the_newest_events_is_detected_by_the_chain_head():
    _record_three(UserFactory())
    _tamper("DELETE FROM customs_auditevent WHERE sequence = 3", [])

    problems = audit_verify()

    assert [(p.sequence, p.problem) for p in problems] == [
        (3, "the chain head names event #3, the newest event is #2 (the newest events were deleted)")
    ]


def test_a_missing_chain_head_is_made_again_from_the_newest_event():
    _record_three(UserFactory())
    third = AuditEvent.objects.get(sequence=3)
    AuditChainHead.objects.all().delete()

    with transaction.atomic():
        fourth = audit_record(action="customs.trader.viewed", actor=None)

    assert (fourth.sequence, fourth.previous_hash) == (4, third.hash)
    assert AuditChainHead.objects.values_list("sequence", "hash").get() == (4, fourth.hash)
    assert audit_verify() == []


def test_the_database_hashes_what_the_verifier_hashes_whatever_the_content():
    """``audit_record`` has PostgreSQL compute each link over the text ``audit_event_hash`` hashes;
    content that could shift the text (letters outside ASCII, quotes, backslashes, separators, a
    nested key named like the link's) must give the same hash."""
    trader = TraderFactory(name='«Türkmen» "Nebit" \\ Гала')
    awkward = [
        {"previous_hash": "", "sequence": 0, "name": trader.name},
        {"text": "line\u2028break\u2029 and tab\t", "emoji": "🚚", "number": 1e-7},
        {"nested": {"previous_hash": "x", "z": [1, "two", {"sequence": 3}]}},
    ]
    with transaction.atomic():
        events = [
            audit_record(action="tests.awkward", actor=UserFactory(username="ýaňy"), obj=trader, after=after)
            for after in awkward
        ]
        events.append(audit_record(action="tests.bare", before={"s": "}"}))

    stored = {event.pk: event for event in AuditEvent.objects.all()}
    for event in events:
        assert event.hash == audit_event_hash(event) == stored[event.pk].hash
        assert event.previous_hash == stored[event.pk].previous_hash
    assert [event.sequence for event in events] == [1, 2, 3, 4]
    assert events[0].previous_hash == GENESIS_HASH
    assert AuditChainHead.objects.values_list("sequence", "hash").get() == (4, events[-1].hash)
    assert audit_verify() == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_form_one_line():
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    def append(writer):
        try:
            for number in range(15):
                with transaction.atomic():
                    audit_record(action=f"tests.writer{writer}", actor=None, after={"n": number})
        finally:
            connections.close_all()

    with ThreadPoolExecutor(3) as pool:
        list(pool.map(append, range(3)))

    assert list(AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True)) == list(
        range(1, 46)
    )
    assert audit_verify() == []
