"""Events of declarations for traders' systems, and the pull API by cursor.

The pull tests commit for real (``transaction=True``): the cursor shows only events of transactions
older than every write transaction still running in the PostgreSQL cluster, which a test inside one open
transaction could never see. Other tests (another xdist worker's database, same cluster) hold write
transactions open for a few seconds, so readers here wait, with a bound, for what must come.
"""

import threading
import time

import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient

from customs.models import ApiClient, Event
from customs.services.events import EventData, event_page, events_publish
from declarations.services.lifecycle import declaration_mark_paid, declaration_query, declaration_submit
from tests.declarations.conftest import declaration_data
from tests.waiting import wait_for

pytestmark = pytest.mark.django_db


def _kinds(declaration) -> list[str]:
    return list(
        Event.objects.filter(subject_type="declaration", subject_id=declaration.pk)
        .order_by("id")
        .values_list("kind", flat=True)
    )


def test_lodgement_with_registration_publishes_lodged_registered_assessed(world):
    declaration = declaration_submit(actor=world["users"]["broker"], data=declaration_data())

    assert _kinds(declaration) == ["declaration.lodged", "declaration.registered", "declaration.assessed"]
    event = Event.objects.get(subject_id=declaration.pk, kind="declaration.registered")
    assert (event.trader_id, event.broker_id) == (world["trader_a"].pk, world["broker"].pk)
    assert event.subject_reference == declaration.number
    assert event.payload["from_status"] == "lodged"
    assert event.payload["to_status"] == "registered"
    assert event.payload["declaration"]["number"] == declaration.number
    assert event.payload["declaration"]["total_taxes"] == str(declaration.total_taxes)


def test_query_payment_and_lane_are_events(world):
    from declarations.services.control import declaration_lane_assign

    declaration = declaration_submit(actor=world["users"]["trader_a"], data=declaration_data())
    declaration_query(actor=world["users"]["officer"], declaration=declaration, reason="Send the invoice.")
    query = Event.objects.get(subject_id=declaration.pk, kind="declaration.queried")
    assert query.payload["reason"] == "Send the invoice."
    assert query.broker_id is None

    other = declaration_submit(actor=world["users"]["trader_a"], data=declaration_data(lrn="LRN-0002"))
    declaration_lane_assign(declaration_id=other.pk, lane="green", explanation="internal: criterion 17")
    declaration_mark_paid(actor=None, declaration=other)
    assert _kinds(other)[3:] == ["declaration.lane_assigned", "declaration.paid", "declaration.released"]
    lane = Event.objects.get(subject_id=other.pk, kind="declaration.lane_assigned")
    assert lane.payload["declaration"]["lane"] == "green"
    assert "criterion 17" not in str(lane.payload)


def _event(trader_id, number) -> EventData:
    return EventData(
        kind="declaration.registered",
        subject_type="declaration",
        subject_id=number,
        subject_reference=f"N{number}",
        trader_id=trader_id,
        broker_id=None,
    )


def _read_all(user, cursor="", limit=3) -> tuple[list[int], str]:
    seen = []
    while True:
        page = event_page(user=user, after=cursor, limit=limit)
        seen.extend(event.subject_id for event in page.events)
        cursor = page.cursor
        if not page.has_more:
            return seen, cursor


@pytest.mark.django_db(transaction=True)
def test_an_event_committed_late_is_not_skipped_by_the_cursor(world):
    """Writer A takes its id first but commits last; a reader that went past B's event still gets A's."""
    trader = world["trader_a"]
    user = world["users"]["trader_a"]
    a_wrote, b_committed, a_may_commit = threading.Event(), threading.Event(), threading.Event()

    def writer_a():
        try:
            with transaction.atomic():
                events_publish([_event(trader.pk, 1)])
                a_wrote.set()
                a_may_commit.wait(timeout=20)
        finally:
            connection.close()

    thread = threading.Thread(target=writer_a)
    thread.start()
    assert a_wrote.wait(timeout=20)
    with transaction.atomic():
        events_publish([_event(trader.pk, 2)])
    b_committed.set()

    # While A runs, the reader sees neither event: B's is newer than the oldest running transaction.
    seen_meanwhile, cursor = _read_all(user)
    a_may_commit.set()
    thread.join(timeout=20)
    seen_after = []

    def both_seen():
        nonlocal cursor
        page_seen, cursor = _read_all(user, cursor)
        seen_after.extend(page_seen)
        return len(seen_after) >= 2

    assert wait_for(both_seen, 60)
    assert seen_meanwhile == []
    assert seen_after == [1, 2]
    assert _read_all(user, cursor) == ([], cursor)


@pytest.mark.django_db(transaction=True)
def test_paging_misses_nothing_and_repeats_nothing_under_concurrent_writers(world):
    trader = world["trader_a"]
    user = world["users"]["trader_a"]
    numbers = iter(range(1, 10_000))
    lock = threading.Lock()
    seen: list[int] = []
    stop = threading.Event()

    def writer():
        try:
            for _ in range(15):
                with lock:
                    batch = [next(numbers), next(numbers)]
                with transaction.atomic():
                    events_publish([_event(trader.pk, batch[0])])
                    events_publish([_event(trader.pk, batch[1])])
        finally:
            connection.close()

    def reader():
        cursor = ""
        try:
            while not stop.is_set():
                page_seen, cursor = _read_all(user, cursor, limit=4)
                seen.extend(page_seen)
            deadline = time.monotonic() + 60
            while len(seen) < 90 and time.monotonic() < deadline:
                page_seen, cursor = _read_all(user, cursor, limit=4)
                seen.extend(page_seen)
                time.sleep(0.05)
        finally:
            connection.close()

    writers = [threading.Thread(target=writer) for _ in range(3)]
    reading = threading.Thread(target=reader)
    reading.start()
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    stop.set()
    reading.join(timeout=60)

    written = set(Event.objects.filter(trader=trader).values_list("subject_id", flat=True))
    assert len(written) == 90
    assert sorted(seen) == sorted(written)  # every event once: none missed, none twice


def _visible(user, count: int) -> bool:
    """Wait until ``count`` events of ``user`` are past every running write transaction (module docstring)."""
    return wait_for(lambda: len(event_page(user=user, limit=500).events) >= count, 60)


@pytest.mark.django_db(transaction=True)
def test_pull_api_pages_by_cursor_and_is_scoped_to_the_party(world):
    users = world["users"]
    declaration_submit(actor=users["broker"], data=declaration_data())
    declaration_submit(actor=users["trader_b"], data=declaration_data(lrn="B-1", trader="101098765432"))
    _row, key = ApiClient.objects.create_key(
        name="Broker's system", user=users["broker"], scopes=["events:read"]
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")

    assert _visible(users["broker"], 3) and _visible(users["trader_b"], 3)
    first = client.get("/api/v1/events/", {"limit": 2})
    assert first.status_code == 200, first.content
    assert [event["type"] for event in first.json()["events"]] == [
        "declaration.lodged",
        "declaration.registered",
    ]
    assert first.json()["has_more"] is True
    second = client.get("/api/v1/events/", {"after": first.json()["cursor"], "limit": 2})
    assert [event["type"] for event in second.json()["events"]] == ["declaration.assessed"]
    assert second.json()["has_more"] is False
    assert second.json()["events"][0]["cursor"] == second.json()["cursor"]
    again = client.get("/api/v1/events/", {"after": second.json()["cursor"]})
    assert again.json() == {"events": [], "cursor": second.json()["cursor"], "has_more": False}

    trader_b = APIClient()
    trader_b.force_authenticate(users["trader_b"])
    assert {event["subject"]["reference"] for event in trader_b.get("/api/v1/events/").json()["events"]} == {
        Event.objects.filter(trader=world["trader_b"]).first().subject_reference
    }


@pytest.mark.django_db(transaction=True)
def test_pull_api_authorisation(world):
    users = world["users"]
    declaration_submit(actor=users["trader_a"], data=declaration_data())
    _row, no_scope = ApiClient.objects.create_key(
        name="Reads declarations only", user=users["trader_a"], scopes=["declarations:read"]
    )
    assert _visible(users["trader_a"], 3)
    anonymous = APIClient()
    assert anonymous.get("/api/v1/events/").status_code in (401, 403)
    scoped_out = APIClient()
    scoped_out.credentials(HTTP_AUTHORIZATION=f"Api-Key {no_scope}")
    assert scoped_out.get("/api/v1/events/").status_code == 403
    officer = APIClient()
    officer.force_authenticate(users["officer"])
    assert officer.get("/api/v1/events/").status_code == 403
    other_broker = APIClient()
    other_broker.force_authenticate(users["broker_other"])
    assert other_broker.get("/api/v1/events/").json()["events"] == []
    trader_a = APIClient()
    trader_a.force_authenticate(users["trader_a"])
    assert len(trader_a.get("/api/v1/events/").json()["events"]) == 3
    bad = trader_a.get("/api/v1/events/", {"after": "yesterday"})
    assert bad.status_code == 400
    assert bad.json()["error"]["fields"]["after"][0]["message"] == "This is not a cursor that Kerwen gave."
