"""The portal's webhook screens: adding an endpoint (errors next to their fields, nothing stored when
refused), the list of the user's own, pausing and the events, a new secret, removing, the delivery log
with its attempts (posted to a real local receiver), replay, and who may do what."""

import html as html_module
import re

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customs.models import AuditEvent, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from customs.services.events import EventData, events_publish
from customs.services.webhooks import webhook_deliver, webhook_endpoint_create, webhook_endpoint_update
from tests.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.django_db

HOOK_URL = "http://127.0.0.1:9/hooks/kerwen"  # tests allow private addresses (tests/settings.py)


@pytest.fixture
def receiver():
    with WebhookReceiver() as running:
        yield running


def _html(response) -> str:
    return response.content.decode()


def _text(fragment: str) -> str:
    return html_module.unescape(" ".join(re.sub(r"<[^>]+>", " ", fragment).split()))


def _errors_of(html: str, input_id: str) -> list[str]:
    match = re.search(r'<ul class="errorlist" id="' + re.escape(input_id) + r'_error">(.*?)</ul>', html, re.S)
    return (
        [html_module.unescape(text) for text in re.findall(r"<li>(.*?)</li>", match.group(1))]
        if match
        else []
    )


def _delivery_rows(html: str) -> list[str]:
    """The text of each row of the delivery log (not the attempts' rows)."""
    return [_text(row) for row in re.findall(r'<tr data-delivery="\d+"[^>]*>(.*?)</tr>', html, re.S)]


def _publish(world, *, count=1, kind="declaration.registered", broker=True):
    """``count`` events of trader A's declarations (declared by the broker), as the services publish them."""
    with transaction.atomic():
        events_publish(
            [
                EventData(
                    kind=kind,
                    subject_type="declaration",
                    subject_id=number,
                    subject_reference=f"TMA01 2026 C {number}",
                    trader_id=world["trader_a"].pk,
                    broker_id=world["broker"].pk if broker else None,
                    payload={"declaration": {"id": number}},
                )
                for number in range(1, count + 1)
            ]
        )


def _endpoint(world, user="broker", url=HOOK_URL, **kwargs) -> WebhookEndpoint:
    return webhook_endpoint_create(actor=world["users"][user], url=url, **kwargs)


def _detail(client, endpoint, **params):
    return client.get(reverse("portal:webhook-detail", args=[endpoint.pk]), params)


def test_a_broker_adds_an_endpoint_and_sees_its_secret_and_how_to_check_a_post(client, world):
    client.force_login(world["users"]["broker"])

    response = client.post(
        reverse("portal:webhook-list"),
        {
            "url": " https://erp.example.com/kerwen ",
            "description": "ERP, production",
            "kinds": ["transit.released", "declaration.lodged"],
        },
    )

    endpoint = WebhookEndpoint.objects.get()
    page = _html(_detail(client, endpoint))
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:webhook-detail", args=[endpoint.pk]) + "#secret"
    assert (endpoint.broker, endpoint.trader, endpoint.url, endpoint.description) == (
        world["broker"],
        None,
        "https://erp.example.com/kerwen",
        "ERP, production",
    )
    assert endpoint.kinds == ["declaration.lodged", "transit.released"]
    assert endpoint.active
    assert f'value="{endpoint.secret}"' in page
    assert '<label for="endpoint-secret">Secret of this endpoint</label>' in page
    assert "<code>X-Kerwen-Timestamp</code>" in page
    assert "<code>X-Kerwen-Signature</code>" in page
    assert "<code>X-Kerwen-Event-Id</code>" in page
    assert "<code>sha256=</code>" in page and "HMAC-SHA256" in page
    assert (
        "<code>GET /api/v1/events/?after=&lt;cursor&gt;</code>" in page and "<code>events:read</code>" in page
    )
    assert _text(re.search(r'id="endpoint-kinds-shown">(.*?)</dd>', page).group(1)) == (
        "Declaration lodged, Movement released for transit"
    )


def test_the_form_groups_the_events_and_none_ticked_means_every_event(client, world):
    client.force_login(world["users"]["trader_a"])

    form = _html(client.get(reverse("portal:webhook-list")))
    response = client.post(reverse("portal:webhook-list"), {"url": HOOK_URL})

    declarations = re.search(r'data-group="declaration">(.*?)</fieldset>', form, re.S).group(1)
    transit = re.search(r'data-group="transit">(.*?)</fieldset>', form, re.S).group(1)
    assert "<legend>Declarations</legend>" in declarations and "<legend>Transit</legend>" in transit
    assert '<label for="id_kinds_0">Declaration lodged</label>' in declarations
    assert 'value="transit.overdue"' in transit and 'value="transit.overdue"' not in declarations
    assert '<label for="id_url">Address (URL)</label>' in form
    assert response.status_code == 302
    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.trader, endpoint.kinds) == (world["trader_a"], [])
    listed = _html(client.get(reverse("portal:webhook-list")))
    assert "All events" in re.search(r'<table id="endpoint-list">(.*?)</table>', listed, re.S).group(1)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://erp.example.com/hooks", "Give the full address of your endpoint, starting with https://."),
        (
            "https://user:secret@erp.example.com/",
            "Put no user name or password in the address; every POST is signed.",
        ),
        ("", "Give the address of your endpoint."),
    ],
)
def test_a_refused_address_is_shown_next_to_the_field_and_nothing_is_added(client, world, url, message):
    client.force_login(world["users"]["broker"])
    audit_before = AuditEvent.objects.count()

    response = client.post(
        reverse("portal:webhook-list"), {"url": url, "description": "ERP", "kinds": ["declaration.lodged"]}
    )

    html = _html(response)
    assert response.status_code == 422
    assert _errors_of(html, "id_url") == [message]
    assert 'id="endpoint-errors"' in html
    assert 'value="declaration.lodged" id="id_kinds_0" checked' in html  # what was ticked stays ticked
    assert not WebhookEndpoint.objects.exists()
    assert AuditEvent.objects.count() == audit_before


def test_the_list_shows_only_the_users_own_endpoints(client, world):
    own = _endpoint(world, description="Ours", kinds=["declaration.released"])
    paused = _endpoint(world, url=HOOK_URL + "/paused")
    webhook_endpoint_update(actor=world["users"]["broker"], endpoint=paused, active=False)
    other_broker = _endpoint(world, user="broker_other", url=HOOK_URL + "/other")
    trader = _endpoint(world, user="trader_a", url=HOOK_URL + "/trader")
    client.force_login(world["users"]["broker"])

    html = _html(client.get(reverse("portal:webhook-list")))

    rows = re.findall(r'<tr data-endpoint="(\d+)" data-active="(\w+)">(.*?)</tr>', html, re.S)
    assert [(int(pk), active) for pk, active, _row in rows] == [(own.pk, "true"), (paused.pk, "false")]
    assert _text(rows[0][2]).startswith(f"{HOOK_URL} Ours Declaration released Active ")
    assert _text(rows[1][2]).startswith(f"{HOOK_URL}/paused — All events Paused ")
    assert other_broker.url not in html and trader.url not in html
    assert 'id="nav-webhooks"' in html


def test_pause_resume_and_the_events_of_an_endpoint(client, world):
    endpoint = _endpoint(world, kinds=["declaration.lodged"])
    client.force_login(world["users"]["broker"])

    paused = client.post(reverse("portal:webhook-pause", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    state_paused = (endpoint.active, endpoint.kinds)
    paused_page = _html(_detail(client, endpoint))
    resumed = client.post(reverse("portal:webhook-resume", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    state_resumed = endpoint.active
    kinds = client.post(
        reverse("portal:webhook-kinds", args=[endpoint.pk]),
        {"kinds": ["transit.arrived", "declaration.paid"]},
    )
    endpoint.refresh_from_db()
    refused_kinds = client.post(
        reverse("portal:webhook-kinds", args=[endpoint.pk]), {"kinds": ["nothing.such"]}
    )
    get_pause = client.get(reverse("portal:webhook-pause", args=[endpoint.pk]))

    assert paused.status_code == 302
    assert paused["Location"] == reverse("portal:webhook-detail", args=[endpoint.pk]) + "#settings"
    assert state_paused == (False, ["declaration.lodged"])
    assert 'id="endpoint-resume"' in paused_page and 'id="endpoint-paused-note"' in paused_page
    assert resumed.status_code == 302 and state_resumed is True
    assert kinds.status_code == 302
    assert (endpoint.active, endpoint.kinds) == (True, ["declaration.paid", "transit.arrived"])
    assert refused_kinds.status_code == 422
    assert _errors_of(_html(refused_kinds), "id_kinds") == [
        "Select a valid choice. nothing.such is not one of the available choices."
    ]
    assert get_pause.status_code == 405


def test_a_new_secret_after_confirming(client, world):
    endpoint = _endpoint(world)
    old_secret = endpoint.secret
    client.force_login(world["users"]["broker"])

    confirm = client.get(reverse("portal:webhook-rotate", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    after_confirm_page = endpoint.secret
    rotated = client.post(reverse("portal:webhook-rotate", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    page = _html(_detail(client, endpoint))

    assert confirm.status_code == 200 and 'id="confirm-rotate"' in _html(confirm)
    assert after_confirm_page == old_secret
    assert rotated.status_code == 302
    assert endpoint.secret != old_secret and endpoint.secret.startswith("whsec_")
    assert f'value="{endpoint.secret}"' in page and old_secret not in page


def test_removing_an_endpoint_after_confirming(client, world):
    endpoint = _endpoint(world)
    _publish(world)
    client.force_login(world["users"]["broker"])

    confirm = client.get(reverse("portal:webhook-delete", args=[endpoint.pk]))
    still_there = WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    removed = client.post(reverse("portal:webhook-delete", args=[endpoint.pk]))

    assert confirm.status_code == 200 and 'id="confirm-delete"' in _html(confirm)
    assert still_there
    assert removed.status_code == 302 and removed["Location"] == reverse("portal:webhook-list")
    assert not WebhookEndpoint.objects.exists()
    assert not WebhookDelivery.objects.exists()


def test_the_delivery_log_shows_each_delivery_and_its_attempts(client, world, receiver):
    endpoint = _endpoint(world, url=receiver.url)
    _publish(world)
    delivery = WebhookDelivery.objects.get()
    receiver.answers = [500]
    assert webhook_deliver(delivery.pk) == "pending"
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert webhook_deliver(delivery.pk) == "delivered"
    client.force_login(world["users"]["broker"])

    html = _html(_detail(client, endpoint))

    (row,) = _delivery_rows(html)
    attempts = re.search(
        r'<details id="attempts-' + str(delivery.pk) + r'">(.*?)</details>', html, re.S
    ).group(1)
    attempt_rows = [_text(row) for row in re.findall(r"<tr data-attempt=\"\d+\">(.*?)</tr>", attempts, re.S)]
    assert row.startswith("Declaration registered TMA01 2026 C 1 ")
    assert " Delivered 2 200 " in row
    assert f'<tr data-delivery="{delivery.pk}" data-status="delivered">' in html
    assert '<span class="status-released" data-status="delivered">Delivered</span>' in html
    assert "2 attempts" in attempts
    assert len(attempt_rows) == 2
    assert re.fullmatch(r"1 \S+ \d\d:\d\d:\d\d 500 — \d+ try again later", attempt_rows[0]), attempt_rows[0]
    assert re.fullmatch(r"2 \S+ \d\d:\d\d:\d\d 200 — \d+ ok", attempt_rows[1]), attempt_rows[1]


def test_replay_sends_a_delivery_again_as_a_new_one(client, world, django_capture_on_commit_callbacks):
    endpoint = _endpoint(world)
    _publish(world)
    original = WebhookDelivery.objects.get()
    client.force_login(world["users"]["broker"])

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(reverse("portal:webhook-replay", args=[endpoint.pk, original.pk]))
    html = _html(client.get(response["Location"]))

    replay = WebhookDelivery.objects.exclude(pk=original.pk).get()
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:webhook-detail", args=[endpoint.pk]) + "#deliveries"
    assert (replay.endpoint, replay.event_id, replay.replay_of, replay.status) == (
        endpoint,
        original.event_id,
        original,
        "pending",
    )
    assert len(callbacks) == 1  # the delivery task, sent on commit
    assert WebhookDelivery.objects.count() == 2
    rows = re.findall(r'<tr data-delivery="(\d+)" data-status="(\w+)"( data-replay-of="\d+")?>', html)
    assert rows == [
        (str(replay.pk), "pending", f' data-replay-of="{original.pk}"'),
        (str(original.pk), "pending", ""),
    ]
    assert (
        f"The event Declaration registered of TMA01 2026 C 1 is sent again, as delivery {replay.pk}." in html
    )


def test_the_delivery_log_has_pages_of_fifty_in_as_many_queries_as_one(client, world):
    endpoint = _endpoint(world)
    _publish(world, count=51)
    client.force_login(world["users"]["broker"])

    with CaptureQueriesContext(connection) as full_page:
        first = _html(_detail(client, endpoint))
    with CaptureQueriesContext(connection) as one_row:
        second = _html(_detail(client, endpoint, page=2))

    assert len(full_page) == len(one_row)

    assert len(_delivery_rows(first)) == 50
    assert len(_delivery_rows(second)) == 1
    assert "51 deliveries, newest first." in first
    assert 'id="page-next" href="?page=2#deliveries"' in first


def test_another_partys_endpoint_and_deliveries_are_not_found(client, world):
    endpoint = _endpoint(world)
    _publish(world)
    delivery = WebhookDelivery.objects.get()
    secret = endpoint.secret
    client.force_login(world["users"]["broker_other"])

    answers = [
        _detail(client, endpoint).status_code,
        client.post(reverse("portal:webhook-pause", args=[endpoint.pk])).status_code,
        client.post(reverse("portal:webhook-kinds", args=[endpoint.pk]), {"kinds": []}).status_code,
        client.post(reverse("portal:webhook-rotate", args=[endpoint.pk])).status_code,
        client.post(reverse("portal:webhook-delete", args=[endpoint.pk])).status_code,
        client.post(reverse("portal:webhook-replay", args=[endpoint.pk, delivery.pk])).status_code,
    ]
    own = _endpoint(world, user="broker_other", url=HOOK_URL + "/own")
    mixed = client.post(reverse("portal:webhook-replay", args=[own.pk, delivery.pk])).status_code

    endpoint.refresh_from_db()
    assert answers == [404] * 6
    assert mixed == 404
    assert (endpoint.active, endpoint.secret) == (True, secret)
    assert WebhookDelivery.objects.count() == 1


def test_officers_are_refused_and_anonymous_users_sent_to_sign_in(client, world, verified_login):
    endpoint = _endpoint(world)
    verified_login(client, world["users"]["officer"])

    listing = client.get(reverse("portal:webhook-list"))
    create = client.post(reverse("portal:webhook-list"), {"url": HOOK_URL})
    detail = _detail(client, endpoint)
    client.logout()
    anonymous = client.get(reverse("portal:webhook-list"))

    assert (listing.status_code, create.status_code, detail.status_code) == (403, 403, 403)
    assert "The portal screens are for traders and customs brokers." in _html(listing)
    assert 'id="nav-webhooks"' not in _html(listing)
    assert WebhookEndpoint.objects.count() == 1
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")


def test_every_post_needs_the_csrf_token(world):
    endpoint = _endpoint(world)
    _publish(world)
    delivery = WebhookDelivery.objects.get()
    client = Client(enforce_csrf_checks=True)
    client.force_login(world["users"]["broker"])

    answers = [
        client.post(reverse("portal:webhook-list"), {"url": HOOK_URL + "/new"}).status_code,
        client.post(reverse("portal:webhook-pause", args=[endpoint.pk])).status_code,
        client.post(reverse("portal:webhook-rotate", args=[endpoint.pk])).status_code,
        client.post(reverse("portal:webhook-delete", args=[endpoint.pk])).status_code,
        client.post(reverse("portal:webhook-replay", args=[endpoint.pk, delivery.pk])).status_code,
    ]

    assert answers == [403] * 5
    assert WebhookEndpoint.objects.count() == 1
    assert WebhookDelivery.objects.count() == 1
    assert not WebhookAttempt.objects.exists()
