"""Webhooks: traders' and brokers' endpoints, and the delivery of their events as signed JSON POSTs.

A delivery is tried at once (on commit of the change), then again with growing delays (30 s, 90 s,
4.5 min, ... at most 4 h apart; the short ones as Celery countdown tasks, the long ones by the beat
sweeper ``customs.sweep_webhooks`` each minute) until the endpoint answers 2xx or ``WEBHOOK_RETRY_HOURS``
have passed since the event; then it fails, and stays in the delivery log, where its owner can replay it.
The pull API (``customs.services.events.event_page``) has every event too, whatever became of its
deliveries.

Each POST carries ``X-Kerwen-Event-Id``, ``X-Kerwen-Event-Type``, ``X-Kerwen-Delivery-Id``,
``X-Kerwen-Timestamp`` and ``X-Kerwen-Signature`` (``customs.signatures``): the receiver checks the
signature over ``<timestamp>.<body>`` with the endpoint's secret and may refuse old timestamps. A
replay or a retry is the same body (same event id): receivers de-duplicate by event id.

Endpoints may not point into private networks (``WEBHOOK_ALLOW_PRIVATE_NETWORKS``, on only for
development and tests): the address is checked on registration and again before every POST.
"""

import datetime
import http.client
import ipaddress
import json
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlparse

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from customs.models import Broker, Trader
from customs.models.events import (
    DeliveryStatus,
    Event,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    webhook_secret_new,
)
from customs.queue import enqueue_on_commit
from customs.services.audit import audit_record
from customs.services.events import EVENT_KINDS, event_envelope
from customs.signatures import SIGNATURE_HEADER, TIMESTAMP_HEADER, hmac_signature

FIRST_RETRY_SECONDS = 30
RETRY_FACTOR = 3
MAX_RETRY_SECONDS = 4 * 3600
# A worker that takes a delivery moves its next attempt this far ahead, so that no other worker (or the
# sweeper) posts it meanwhile; longer than the POST's timeout.
CLAIM_SECONDS = 120
MAX_ENDPOINTS_PER_OWNER = 10
SWEEP_BATCH = 500
ON_TIME_RETRY_SECONDS = 600
EVENT_ID_HEADER = "X-Kerwen-Event-Id"  # receivers de-duplicate by it: retries and replays repeat it
EVENT_TYPE_HEADER = "X-Kerwen-Event-Type"
DELIVERY_ID_HEADER = "X-Kerwen-Delivery-Id"


class WebhookInvalid(Exception):
    """Refused endpoint data: ``errors`` maps a field to its translated message, ``codes`` to its code."""

    def __init__(self, errors: dict[str, str], codes: dict[str, str]):
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))
        self.errors = errors
        self.codes = codes


class WebhookNotAllowed(Exception):
    pass


# --- Endpoints ------------------------------------------------------------------------------------------


def _owner_of(actor) -> dict:
    if getattr(actor, "broker_id", None):
        return {"broker_id": actor.broker_id}
    if getattr(actor, "trader_id", None):
        return {"trader_id": actor.trader_id}
    raise WebhookNotAllowed(_("Only trader and broker users register webhook endpoints."))


# Addresses that ``is_global`` calls global but that reach other networks: NAT64 and 6to4 prefixes.
_TUNNELLED = (
    ipaddress.ip_network("64:ff9b::/96"),
    ipaddress.ip_network("64:ff9b:1::/48"),
    ipaddress.ip_network("2002::/16"),
)


def address_is_public(address: str) -> bool:
    """Whether an IP address is on the public internet (not loopback, private, link-local, tunnelled)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.version == 6 and any(ip in network for network in _TUNNELLED):
        return False
    return ip.is_global


def _addresses(host: str, port: int | None = None) -> list[str]:
    """The IP addresses of ``host``, resolved once (``OSError`` when it has none)."""
    return list(dict.fromkeys(info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)))


def _private_address(host: str) -> bool:
    """Whether ``host`` is, or resolves to, an address that is not on the public internet."""
    try:
        addresses = _addresses(host)
    except (OSError, UnicodeError):
        return False  # unknown host: the POST will fail and say so
    return not all(address_is_public(address) for address in addresses)


def url_problem(url: str) -> tuple[str, str] | None:
    """Why ``url`` cannot receive webhooks, as (code, translated message), or ``None``."""
    parsed = urlparse(url or "")
    if parsed.scheme not in ("https", "http") or not parsed.hostname:
        return "invalid_url", _("Give the full address of your endpoint, starting with https://.")
    if parsed.username or parsed.password:
        return "invalid_url", _("Put no user name or password in the address; every POST is signed.")
    if not settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS:
        if parsed.scheme != "https":
            return "https_required", _("The address must start with https://.")
        if _private_address(parsed.hostname):
            return "private_address", _("The address is in a private network; give a public one.")
    return None


def _kinds_clean(kinds) -> list[str]:
    kinds = sorted(set(kinds or []))
    unknown = [kind for kind in kinds if kind not in EVENT_KINDS]
    if unknown:
        raise WebhookInvalid(
            {"kinds": _("Unknown event kinds: %(kinds)s.") % {"kinds": ", ".join(unknown)}},
            {"kinds": "invalid_choice"},
        )
    return kinds


def webhook_endpoint_create(*, actor, url: str, description: str = "", kinds=()) -> WebhookEndpoint:
    """Register an endpoint for the actor's trader or broker (at most ``MAX_ENDPOINTS_PER_OWNER``)."""
    owner = _owner_of(actor)
    url = (url or "").strip()
    problem = url_problem(url)
    if problem:
        raise WebhookInvalid({"url": problem[1]}, {"url": problem[0]})
    kinds = _kinds_clean(kinds)
    with transaction.atomic():
        # The owner's row locked first: two registrations at once cannot both pass the count.
        owner_model = Broker if "broker_id" in owner else Trader
        owner_model.objects.select_for_update().filter(pk=next(iter(owner.values()))).first()
        if WebhookEndpoint.objects.filter(**owner).count() >= MAX_ENDPOINTS_PER_OWNER:
            raise WebhookInvalid(
                {
                    "url": _("You have the most endpoints allowed (%(max)s); remove one first.")
                    % {"max": MAX_ENDPOINTS_PER_OWNER}
                },
                {"url": "too_many_endpoints"},
            )
        endpoint = WebhookEndpoint.objects.create(
            **owner, url=url, description=(description or "").strip()[:200], kinds=kinds, created_by=actor
        )
        audit_record(
            action="customs.webhook_endpoint.created",
            actor=actor,
            obj=endpoint,
            after={"url": url, "kinds": kinds},
        )
    return endpoint


def webhook_endpoint_update(*, actor, endpoint: WebhookEndpoint, active: bool, kinds=()) -> WebhookEndpoint:
    """Pause or resume an endpoint, or change the kinds it receives."""
    kinds = _kinds_clean(kinds)
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        before = {"active": locked.active, "kinds": locked.kinds}
        locked.active, locked.kinds = active, kinds
        locked.save(update_fields=["active", "kinds"])
        audit_record(
            action="customs.webhook_endpoint.updated",
            actor=actor,
            obj=locked,
            before=before,
            after={"active": active, "kinds": kinds},
        )
    return locked


def webhook_endpoint_rotate_secret(*, actor, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """A new signing secret; the old one stops signing at once."""
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        locked.secret = webhook_secret_new()
        locked.save(update_fields=["secret"])
        audit_record(action="customs.webhook_endpoint.secret_rotated", actor=actor, obj=locked)
    return locked


def webhook_endpoint_delete(*, actor, endpoint: WebhookEndpoint) -> None:
    with transaction.atomic():
        audit_record(
            action="customs.webhook_endpoint.deleted", actor=actor, obj=endpoint, before={"url": endpoint.url}
        )
        endpoint.delete()


# --- Deliveries -----------------------------------------------------------------------------------------


def retry_delay(attempts: int) -> datetime.timedelta:
    """The wait after the ``attempts``-th failed try: 30 s, 90 s, 4.5 min, ..., at most 4 h."""
    seconds = FIRST_RETRY_SECONDS * RETRY_FACTOR ** max(attempts - 1, 0)
    return datetime.timedelta(seconds=min(seconds, MAX_RETRY_SECONDS))


def delivery_body(event: Event) -> bytes:
    """The JSON body of every delivery of ``event`` (the same for retries and replays)."""
    return json.dumps(
        event_envelope(event), cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":")
    ).encode()


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """HTTP to the address that was checked, not to whatever the name resolves to a moment later (DNS
    rebinding); the Host header still names the host."""

    def __init__(self, host, port, *, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self):
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to the checked address; the certificate is checked for the host name (SNI)."""

    def __init__(self, host, port, *, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self):
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


@dataclass
class PostResult:
    status_code: int | None
    error: str
    excerpt: str
    duration_ms: int


def _cut_off(connection: http.client.HTTPConnection, expired: threading.Event) -> None:
    """End a POST that has run out of time: a timeout bounds each read, not the whole answer, so an
    endpoint that sends a byte now and then would otherwise hold the worker for as long as it likes."""
    expired.set()
    if connection.sock is not None:
        try:
            connection.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _post(url: str, body: bytes, headers: dict) -> PostResult:
    """POST ``body`` to ``url``: no redirect followed (a redirect is an answer like any non-2xx one), the
    name resolved once and the connection made to that checked address, and the whole exchange ended
    after ``WEBHOOK_TIMEOUT_SECONDS``."""
    started = time.monotonic()
    timeout = settings.WEBHOOK_TIMEOUT_SECONDS
    status_code, error, excerpt = None, "", ""
    parsed = urlparse(url)
    https = parsed.scheme == "https"
    try:
        addresses = _addresses(parsed.hostname or "", parsed.port)
    except (OSError, UnicodeError) as failure:
        return PostResult(
            None, (_("the address cannot be resolved: %(error)s") % {"error": failure})[:255], "", 0
        )
    if not settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS and not all(address_is_public(a) for a in addresses):
        return PostResult(None, _("the address is in a private network"), "", 0)
    connection_class = _PinnedHTTPSConnection if https else _PinnedHTTPConnection
    connection = connection_class(parsed.hostname, parsed.port, address=addresses[0], timeout=timeout)
    expired = threading.Event()
    timer = threading.Timer(timeout, _cut_off, args=(connection, expired))
    timer.daemon = True
    timer.start()
    try:
        target = (parsed.path or "/") + (f"?{parsed.query}" if parsed.query else "")
        connection.request("POST", target, body=body, headers=headers)
        response = connection.getresponse()
        status_code = response.status
        excerpt = response.read(500).decode("utf-8", "replace")
    except (OSError, http.client.HTTPException, ValueError) as failure:
        if expired.is_set():
            status_code = None
            error = _("no complete answer within %(seconds)s s") % {"seconds": timeout}
        else:
            error = str(failure)[:255] or failure.__class__.__name__
    finally:
        timer.cancel()
        connection.close()
    return PostResult(status_code, error, excerpt[:500], int((time.monotonic() - started) * 1000))


def _claim(delivery_id: int, now):
    """Take a due pending delivery for this worker (no other worker posts it meanwhile): the time the
    claim runs to, or ``None`` when it is not due or another worker has it."""
    claimed_until = now + datetime.timedelta(seconds=CLAIM_SECONDS)
    taken = WebhookDelivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=claimed_until)
    return claimed_until if taken else None


def webhook_deliver(delivery_id: int) -> str:
    """Try a delivery once if it is due; returns its status afterwards (the task's work).

    Idempotent: a delivery already delivered, failed, not due, or being tried by another worker is left
    alone.
    """
    now = timezone.now()
    claimed_until = _claim(delivery_id, now)
    if claimed_until is None:
        return WebhookDelivery.objects.filter(pk=delivery_id).values_list("status", flat=True).first() or ""
    delivery = WebhookDelivery.objects.select_related("endpoint", "event").get(pk=delivery_id)
    endpoint, event = delivery.endpoint, delivery.event
    if not endpoint.active:
        WebhookDelivery.objects.filter(pk=delivery_id).update(
            status=DeliveryStatus.FAILED, last_error=_("The endpoint is paused.")[:255]
        )
        return DeliveryStatus.FAILED
    body = delivery_body(event)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Kerwen-Webhooks/1",
        EVENT_ID_HEADER: str(event.pk),
        EVENT_TYPE_HEADER: event.kind,
        DELIVERY_ID_HEADER: str(delivery.pk),
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: hmac_signature(endpoint.secret, timestamp, body),
    }
    result = _post(endpoint.url, body, headers)
    return _record(delivery, result, started_at=now, claimed_until=claimed_until)


def _record(delivery: WebhookDelivery, result: PostResult, *, started_at, claimed_until) -> str:
    """Log the attempt. A success delivers; a failure schedules the next try, but only while this
    worker's claim still holds (else another worker has the delivery, and its outcome stands)."""
    succeeded = result.status_code is not None and 200 <= result.status_code < 300
    with transaction.atomic():
        locked = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        claim_held = locked.status == DeliveryStatus.PENDING and locked.next_attempt_at == claimed_until
        locked.attempts += 1
        WebhookAttempt.objects.create(
            delivery=locked,
            number=locked.attempts,
            attempted_at=started_at,
            status_code=result.status_code,
            error=result.error,
            response_excerpt=result.excerpt,
            duration_ms=result.duration_ms,
        )
        locked.last_status_code = result.status_code
        locked.last_error = result.error or (
            "" if succeeded else _("The endpoint answered %(code)s.") % {"code": result.status_code}
        )
        if succeeded:
            if locked.status != DeliveryStatus.DELIVERED:  # the first success stands (and beats a give-up)
                locked.status, locked.delivered_at, locked.next_attempt_at = (
                    DeliveryStatus.DELIVERED,
                    timezone.now(),
                    None,
                )
        elif not succeeded and claim_held:
            next_at = timezone.now() + retry_delay(locked.attempts)
            deadline = locked.created_at + datetime.timedelta(hours=settings.WEBHOOK_RETRY_HOURS)
            if next_at > deadline:
                locked.status, locked.next_attempt_at = DeliveryStatus.FAILED, None
            else:
                locked.next_attempt_at = next_at
                delay = (next_at - timezone.now()).total_seconds()
                if delay <= ON_TIME_RETRY_SECONDS:
                    # On time, from the worker; longer waits are left to the sweeper (a countdown task
                    # held for hours by a worker is fragile), which also catches any lost retry.
                    enqueue_on_commit("customs.deliver_webhook", locked.pk, countdown=max(int(delay) + 1, 1))
        locked.save(
            update_fields=[
                "attempts",
                "last_status_code",
                "last_error",
                "status",
                "delivered_at",
                "next_attempt_at",
            ]
        )
    return locked.status


def webhook_delivery_replay(*, actor, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery's event again to its endpoint, as a new delivery (its own attempts and retries);
    ``WebhookNotAllowed`` while the endpoint is paused."""
    if not delivery.endpoint.active:
        raise WebhookNotAllowed(_("The endpoint is paused: resume it, then replay."))
    now = timezone.now()
    with transaction.atomic():
        replay = WebhookDelivery.objects.create(
            endpoint=delivery.endpoint,
            event=delivery.event,
            status=DeliveryStatus.PENDING,
            next_attempt_at=now,
            created_at=now,
            replay_of=delivery,
        )
        audit_record(
            action="customs.webhook_delivery.replayed",
            actor=actor,
            obj=replay,
            after={"event": delivery.event_id, "replay_of": delivery.pk},
        )
        enqueue_on_commit("customs.deliver_webhook", replay.pk)
    return replay


def webhook_deliveries_due(now=None) -> list[int]:
    """Pending deliveries whose attempt is due (their task was lost, or it is time to retry)."""
    now = now or timezone.now()
    return list(
        WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
