"""Webhooks: endpoints, the signed POST, retries with backoff until the deadline, the log, replay."""

import datetime
import json
import threading

import pytest
from django.db import transaction
from django.utils import timezone

from customs.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from customs.services.events import EventData, events_publish
from customs.services.users import user_upsert
from customs.services.webhooks import (
    WebhookInvalid,
    WebhookNotAllowed,
    retry_delay,
    webhook_deliver,
    webhook_deliveries_due,
    webhook_delivery_replay,
    webhook_endpoint_create,
    webhook_endpoint_update,
)
from customs.signatures import hmac_signature
from tests.customs.factories import BrokerFactory, TraderFactory
from tests.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver():
    with WebhookReceiver() as running:
        yield running


@pytest.fixture
def parties():
    trader = TraderFactory(taxpayer_id="101011110000")
    other_trader = TraderFactory(taxpayer_id="101022220000")
    broker = BrokerFactory(licence_number="BR-0101")
    return {
        "trader": trader,
        "other_trader": other_trader,
        "broker": broker,
        "trader_user": user_upsert(actor=None, username="hooks_trader", roles=["trader_user"], trader=trader),
        "other_user": user_upsert(
            actor=None, username="hooks_other", roles=["trader_user"], trader=other_trader
        ),
        "broker_user": user_upsert(actor=None, username="hooks_broker", roles=["broker_user"], broker=broker),
        "officer": user_upsert(actor=None, username="hooks_officer", roles=["officer"]),
    }


def _publish(trader, broker=None, kind="declaration.registered", subject_id=7, **payload):
    with transaction.atomic():
        events_publish(
            [
                EventData(
                    kind=kind,
                    subject_type="declaration",
                    subject_id=subject_id,
                    subject_reference=f"TMA01 2026 C {subject_id}",
                    trader_id=trader.pk,
                    broker_id=broker.pk if broker else None,
                    payload={"declaration": {"id": subject_id, "status": "registered"}, **payload},
                )
            ]
        )


def _only_delivery(endpoint) -> WebhookDelivery:
    (delivery,) = WebhookDelivery.objects.filter(endpoint=endpoint)
    return delivery


def test_a_delivery_is_a_json_post_signed_over_timestamp_and_body(parties, receiver):
    endpoint = webhook_endpoint_create(actor=parties["trader_user"], url=receiver.url)
    _publish(parties["trader"])
    delivery = _only_delivery(endpoint)

    assert webhook_deliver(delivery.pk) == "delivered"

    (request,) = receiver.received
    headers = {name.lower(): value for name, value in request.headers.items()}
    body = json.loads(request.body)
    assert body["type"] == "declaration.registered"
    assert body["subject"] == {"type": "declaration", "id": 7, "reference": "TMA01 2026 C 7"}
    assert body["data"] == {"declaration": {"id": 7, "status": "registered"}}
    assert headers["content-type"] == "application/json"
    assert headers["x-kerwen-event-id"] == str(body["id"])
    assert headers["x-kerwen-event-type"] == "declaration.registered"
    assert headers["x-kerwen-delivery-id"] == str(delivery.pk)
    assert headers["x-kerwen-signature"] == hmac_signature(
        endpoint.secret, headers["x-kerwen-timestamp"], request.body
    )
    assert headers["x-kerwen-signature"] != hmac_signature(
        "another secret", headers["x-kerwen-timestamp"], request.body
    )
    assert abs(int(headers["x-kerwen-timestamp"]) - timezone.now().timestamp()) < 60
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)
    assert delivery.delivered_at is not None
    assert list(WebhookAttempt.objects.filter(delivery=delivery).values_list("number", "status_code")) == [
        (1, 200)
    ]


def test_events_reach_only_the_endpoints_of_their_parties_and_kinds(parties, receiver):
    trader_endpoint = webhook_endpoint_create(actor=parties["trader_user"], url=receiver.url)
    broker_endpoint = webhook_endpoint_create(
        actor=parties["broker_user"], url=receiver.url, kinds=["declaration.released"]
    )
    other_endpoint = webhook_endpoint_create(actor=parties["other_user"], url=receiver.url)
    paused = webhook_endpoint_create(actor=parties["trader_user"], url=receiver.url + "/paused")
    webhook_endpoint_update(actor=parties["trader_user"], endpoint=paused, active=False)

    _publish(parties["trader"], parties["broker"], kind="declaration.registered", subject_id=1)
    _publish(parties["trader"], parties["broker"], kind="declaration.released", subject_id=1)

    kinds = lambda endpoint: sorted(  # noqa: E731
        WebhookDelivery.objects.filter(endpoint=endpoint).values_list("event__kind", flat=True)
    )
    assert kinds(trader_endpoint) == ["declaration.registered", "declaration.released"]
    assert kinds(broker_endpoint) == ["declaration.released"]
    assert kinds(other_endpoint) == []
    assert kinds(paused) == []


def test_a_rolled_back_change_delivers_nothing(parties):
    endpoint = webhook_endpoint_create(actor=parties["trader_user"], url="http://127.0.0.1:9/hooks")
    with pytest.raises(RuntimeError), transaction.atomic():
        _publish(parties["trader"])
        raise RuntimeError("the service failed after publishing")
    assert not WebhookDelivery.objects.filter(endpoint=endpoint).exists()


def test_a_failed_post_is_retried_with_backoff_and_logged(parties, receiver):
    endpoint = webhook_endpoint_create(actor=parties["trader_user"], url=receiver.url)
    _publish(parties["trader"])
    delivery = _only_delivery(endpoint)
    receiver.answers = [500, 503]

    before = timezone.now()
    assert webhook_deliver(delivery.pk) == "pending"
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.last_status_code) == (1, 500)
    assert delivery.last_error == "The endpoint answered 500."
    assert before + datetime.timedelta(seconds=30) <= delivery.next_attempt_at
    assert delivery.next_attempt_at <= timezone.now() + datetime.timedelta(seconds=30)

    # Not due yet: a second task (or the sweeper) posts nothing.
    assert webhook_deliver(delivery.pk) == "pending"
    assert len(receiver.received) == 1
    assert delivery.pk not in webhook_deliveries_due()

    # Time passes: the sweeper finds it due, the second try fails too, the third succeeds.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert delivery.pk in webhook_deliveries_due()
    assert webhook_deliver(delivery.pk) == "pending"
    delivery.refresh_from_db()
    assert delivery.next_attempt_at >= timezone.now() + datetime.timedelta(seconds=89)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert webhook_deliver(delivery.pk) == "delivered"

    assert len(receiver.received) == 3
    assert len({request.headers["X-Kerwen-Event-Id"] for request in receiver.received}) == 1
    assert list(WebhookAttempt.objects.filter(delivery=delivery).values_list("number", "status_code")) == [
        (1, 500),
        (2, 503),
        (3, 200),
    ]


def test_backoff_grows_to_four_hours():
    assert [retry_delay(attempts).total_seconds() for attempts in (1, 2, 3, 4, 8, 20)] == [
        30,
        90,
        270,
        810,
        4 * 3600,
        4 * 3600,
    ]


def test_retries_stop_after_the_deadline(parties, settings):
    settings.WEBHOOK_RETRY_HOURS = 24
    endpoint = webhook_endpoint_create(actor=parties["trader_user"], url="http://127.0.0.1:9/closed-port")
    _publish(parties["trader"])
    delivery = _only_delivery(endpoint)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        created_at=timezone.now() - datetime.timedelta(hours=23, minutes=59, seconds=50)
    )

    assert webhook_deliver(delivery.pk) == "failed"

    delivery.refresh_from_db()
    assert delivery.next_attempt_at is None
    (attempt,) = WebhookAttempt.objects.filter(delivery=delivery)
    assert attempt.status_code is None
    assert "refused" in attempt.error.lower()
    assert delivery.pk not in webhook_deliveries_due()


def test_replay_sends_the_same_event_again_as_a_new_delivery(parties, receiver):
    endpoint = webhook_endpoint_create(actor=parties["trader_user"], url=receiver.url)
    _publish(parties["trader"])
    delivery = _only_delivery(endpoint)
    webhook_deliver(delivery.pk)

    replay = webhook_delivery_replay(actor=parties["trader_user"], delivery=delivery)
    assert webhook_deliver(replay.pk) == "delivered"

    first, second = receiver.received
    assert first.body == second.body
    assert second.headers["X-Kerwen-Delivery-Id"] == str(replay.pk)
    replay.refresh_from_db()
    assert (replay.replay_of_id, replay.event_id, replay.status) == (
        delivery.pk,
        delivery.event_id,
        "delivered",
    )


@pytest.mark.django_db(transaction=True)
def test_two_workers_never_post_one_delivery_twice(parties, receiver):
    endpoint = webhook_endpoint_create(actor=parties["trader_user"], url=receiver.url)
    _publish(parties["trader"])
    delivery = _only_delivery(endpoint)
    start = threading.Barrier(4)
    results = []

    def work():
        from django.db import connection

        start.wait()
        try:
            results.append(webhook_deliver(delivery.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(receiver.received) == 1
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 1
    assert len(results) == 4 and "delivered" in results


def test_endpoint_addresses_are_checked(parties, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    cases = {
        "ftp://example.org/hooks": "invalid_url",
        "not a url": "invalid_url",
        "https://user:secret@example.org/hooks": "invalid_url",
        "http://example.org/hooks": "https_required",
        "https://127.0.0.1/hooks": "private_address",
        "https://10.1.2.3/hooks": "private_address",
        "https://[::1]/hooks": "private_address",
        "https://localhost/hooks": "private_address",
    }
    for url, code in cases.items():
        with pytest.raises(WebhookInvalid) as refused:
            webhook_endpoint_create(actor=parties["trader_user"], url=url)
        assert refused.value.codes == {"url": code}, url
    with pytest.raises(WebhookInvalid) as refused:
        webhook_endpoint_create(
            actor=parties["trader_user"], url="https://93.184.215.14/hooks", kinds=["nope"]
        )
    assert refused.value.codes == {"kinds": "invalid_choice"}
    assert not WebhookEndpoint.objects.exists()


def test_only_traders_and_brokers_register_endpoints(parties):
    with pytest.raises(WebhookNotAllowed):
        webhook_endpoint_create(actor=parties["officer"], url="https://93.184.215.14/hooks")
    assert not WebhookEndpoint.objects.exists()


def test_a_private_address_is_refused_again_when_posting(parties, settings):
    endpoint = webhook_endpoint_create(actor=parties["trader_user"], url="http://127.0.0.1:9/hooks")
    _publish(parties["trader"])
    delivery = _only_delivery(endpoint)
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False

    assert webhook_deliver(delivery.pk) == "pending"

    (attempt,) = WebhookAttempt.objects.filter(delivery=delivery)
    assert attempt.error == "the address is in a private network"


def test_a_paused_endpoint_is_not_replayed_to(parties, receiver):
    endpoint = webhook_endpoint_create(actor=parties["trader_user"], url=receiver.url)
    _publish(parties["trader"])
    delivery = _only_delivery(endpoint)
    webhook_endpoint_update(actor=parties["trader_user"], endpoint=endpoint, active=False)

    with pytest.raises(WebhookNotAllowed):
        webhook_delivery_replay(
            actor=parties["trader_user"], delivery=WebhookDelivery.objects.get(pk=delivery.pk)
        )
    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 1


def test_a_short_retry_is_sent_on_time_by_a_countdown_task(
    parties, receiver, monkeypatch, django_capture_on_commit_callbacks
):
    from customs.celery import app

    sent = []
    monkeypatch.setattr(
        app, "send_task", lambda name, args=(), kwargs=None, **options: sent.append((name, args, options))
    )
    endpoint = webhook_endpoint_create(actor=parties["trader_user"], url=receiver.url)
    _publish(parties["trader"])
    delivery = _only_delivery(endpoint)
    receiver.answers = [502]

    with django_capture_on_commit_callbacks(execute=True):
        assert webhook_deliver(delivery.pk) == "pending"

    ((name, args, options),) = sent
    assert (name, args) == ("customs.deliver_webhook", (delivery.pk,))
    assert 30 <= options["countdown"] <= 31  # the first retry is due 30 s after the failed try


def test_the_post_goes_to_the_address_that_was_checked_not_a_rebound_one(parties, settings, monkeypatch):
    """DNS rebinding: the name answers a public address when checked and 127.0.0.1 a moment later. The
    name is resolved once, and the connection is made to the address that was checked."""
    import socket

    from customs.services import webhooks

    answers = iter(["93.184.215.14", "127.0.0.1", "127.0.0.1"])
    connected_to = []

    def getaddrinfo(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port or 443))]

    def create_connection(address, *args, **kwargs):
        connected_to.append(address)
        raise ConnectionRefusedError("refused in the test")

    endpoint = webhook_endpoint_create(actor=parties["trader_user"], url="https://rebind.example/hooks")
    _publish(parties["trader"])
    delivery = _only_delivery(endpoint)
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    monkeypatch.setattr(webhooks.socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(webhooks.socket, "create_connection", create_connection)

    webhook_deliver(delivery.pk)

    assert connected_to == [("93.184.215.14", 443)]


@pytest.mark.parametrize(
    "address, public",
    [
        ("93.184.215.14", True),
        ("127.0.0.1", False),
        ("169.254.169.254", False),
        ("10.0.0.8", False),
        ("::ffff:127.0.0.1", False),
        ("64:ff9b::7f00:1", False),
        ("2002:7f00:1::1", False),
        ("2606:2800:220:1::1", True),
    ],
)
def test_which_addresses_are_public(address, public):
    from customs.services.webhooks import address_is_public

    assert address_is_public(address) is public


def test_an_endpoint_that_answers_a_byte_at_a_time_is_cut_off(parties, settings):
    """A timeout bounds each read, not the answer: the whole exchange has a deadline of its own."""
    import socket
    import threading
    import time

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    stop = threading.Event()

    def drip():
        connection, _address = listener.accept()
        connection.recv(65536)
        for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 100:
            if stop.is_set():
                break
            try:
                connection.sendall(bytes([byte]))
            except OSError:
                break
            time.sleep(0.2)
        connection.close()

    dripper = threading.Thread(target=drip, daemon=True)
    dripper.start()
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    endpoint = webhook_endpoint_create(
        actor=parties["trader_user"], url=f"http://127.0.0.1:{listener.getsockname()[1]}/slow"
    )
    _publish(parties["trader"])
    delivery = _only_delivery(endpoint)
    try:
        assert webhook_deliver(delivery.pk) == "pending"
    finally:
        stop.set()
        listener.close()

    (attempt,) = WebhookAttempt.objects.filter(delivery=delivery)
    assert (attempt.status_code, attempt.error) == (None, "no complete answer within 1 s")


def test_a_late_failure_does_not_undo_what_another_worker_did(parties, receiver):
    from customs.services import webhooks

    endpoint = webhook_endpoint_create(actor=parties["trader_user"], url=receiver.url)
    _publish(parties["trader"])
    delivery = _only_delivery(endpoint)
    now = timezone.now()
    claimed_until = webhooks._claim(delivery.pk, now)
    # Meanwhile the claim ran out, another worker took the delivery and it was delivered.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status="delivered", delivered_at=now, next_attempt_at=None
    )

    failure = webhooks.PostResult(status_code=None, error="timed out", excerpt="", duration_ms=10000)
    assert webhooks._record(delivery, failure, started_at=now, claimed_until=claimed_until) == "delivered"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.next_attempt_at) == ("delivered", None)


def test_events_past_the_retention_are_purged_with_their_deliveries(parties, receiver, settings):
    from customs.models import Event
    from customs.services.events import events_purge

    settings.EVENTS_RETENTION_DAYS = 30
    endpoint = webhook_endpoint_create(actor=parties["trader_user"], url=receiver.url)
    _publish(parties["trader"], subject_id=1)
    _publish(parties["trader"], subject_id=2)
    old = WebhookDelivery.objects.get(endpoint=endpoint, event__subject_id=1)
    webhook_deliver(old.pk)
    webhook_delivery_replay(actor=parties["trader_user"], delivery=old)
    Event.objects.filter(subject_id=1).update(occurred_at=timezone.now() - datetime.timedelta(days=31))

    assert events_purge() == {"events": 1, "deliveries": 2}

    assert list(Event.objects.values_list("subject_id", flat=True)) == [2]
    assert list(WebhookDelivery.objects.values_list("event__subject_id", flat=True)) == [2]
    assert not WebhookAttempt.objects.exists()  # the old delivery's attempt went with it
    settings.EVENTS_RETENTION_DAYS = 0
    Event.objects.update(occurred_at=timezone.now() - datetime.timedelta(days=3650))
    assert events_purge() == {"events": 0, "deliveries": 0}  # 0: kept for ever
    assert Event.objects.count() == 1
