"""Events for traders' systems: published by the services that change declarations and movements, in
their transaction; delivered to webhook endpoints (``customs.services.webhooks``) and paged by cursor.

Publishing is one SQL statement whatever the number of events: it inserts the events and, for every
active endpoint of the parties concerned that wants the kind, a pending delivery; the deliveries are sent
on commit. A rolled-back change publishes nothing.

The cursor: events are ordered by ``(transaction_id, id)``, and a page shows only events whose
transaction is older than the oldest transaction still running (``pg_snapshot_xmin``). Every such
transaction has ended, so no event can later appear before the cursor: a reader that pages to the end
and comes back misses nothing and sees nothing twice, however the writers' commits interleave. The price:
an event shows in the pull API only once every write transaction older than it has ended (any in the
PostgreSQL cluster), which in Kerwen means milliseconds, and at worst the length of a long import run in
one transaction. Webhooks are sent on commit and do not wait for this.
"""

import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customs.jsontext import json_text
from customs.models.events import Event, WebhookDelivery, WebhookEndpoint
from customs.queue import enqueue_on_commit
from customs.selectors import event_list_for_user

# The kinds a trader's system may receive, with what the portal calls them.
EVENT_KINDS: dict[str, str] = {
    "declaration.lodged": _("Declaration lodged"),
    "declaration.registered": _("Declaration registered"),
    "declaration.assessed": _("Declaration assessed"),
    "declaration.lane_assigned": _("Lane given"),
    "declaration.queried": _("Query from customs"),
    "declaration.amendment_requested": _("Amendment requested"),
    "declaration.cancellation_requested": _("Cancellation requested"),
    "declaration.paid": _("Declaration paid"),
    "declaration.control_done": _("Control done"),
    "declaration.released": _("Declaration released"),
    "declaration.cancelled": _("Declaration cancelled"),
    "declaration.rejected": _("Declaration rejected"),
    "transit.registered": _("Transit declaration registered"),
    "transit.released": _("Movement released for transit"),
    "transit.in_transit": _("Movement passed a border"),
    "transit.arrived": _("Movement arrived"),
    "transit.discharged": _("Movement discharged"),
    "transit.overdue": _("Movement overdue"),
    "transit.under_enquiry": _("Movement under enquiry"),
    "transit.cancelled": _("Transit movement cancelled"),
}

PAGE_DEFAULT = 100
PAGE_MAX = 500


@dataclass
class EventData:
    """What a service publishes: the kind, what it is about, who sees it, and the data."""

    kind: str
    subject_type: str
    subject_id: int
    subject_reference: str
    trader_id: int | None
    broker_id: int | None
    payload: dict = field(default_factory=dict)
    occurred_at: datetime.datetime | None = None


_EVENT, _DELIVERY = Event._meta.db_table, WebhookDelivery._meta.db_table
_PUBLISH_SQL = f"""
WITH new_events AS (
    INSERT INTO {_EVENT} (kind, subject_type, subject_id, subject_reference, trader_id, broker_id,
                         payload, occurred_at, transaction_id)
    SELECT kind, subject_type, subject_id, subject_reference, trader_id, broker_id,
           payload, occurred_at, pg_current_xact_id()::text::bigint
    FROM json_to_recordset(%s::json)
         AS given(kind varchar, subject_type varchar, subject_id bigint, subject_reference varchar,
                  trader_id bigint, broker_id bigint, payload jsonb, occurred_at timestamptz)
    RETURNING id, kind, trader_id, broker_id
)
INSERT INTO {_DELIVERY} (endpoint_id, event_id, status, attempts, next_attempt_at, last_error, created_at)
SELECT endpoint.id, new_events.id, 'pending', 0, now(), '', now()
FROM new_events
JOIN {WebhookEndpoint._meta.db_table} AS endpoint
  ON endpoint.active
 AND (endpoint.trader_id = new_events.trader_id OR endpoint.broker_id = new_events.broker_id)
 AND (cardinality(endpoint.kinds) = 0 OR new_events.kind = ANY(endpoint.kinds))
RETURNING id
"""  # noqa: S608 (the table names are ours)


def events_publish(events: list[EventData]) -> None:
    """Record ``events`` in the caller's transaction, with a pending delivery per endpoint that wants
    each; the deliveries are sent after commit (and by the sweeper if that send is lost). The events
    travel as one JSON parameter, and the statement's text never changes (planned once)."""
    if not events:
        return
    now = timezone.now()
    rows = [
        {
            "kind": event.kind,
            "subject_type": event.subject_type,
            "subject_id": event.subject_id,
            "subject_reference": (event.subject_reference or "")[:64],
            "trader_id": event.trader_id,
            "broker_id": event.broker_id,
            "payload": event.payload,
            "occurred_at": (event.occurred_at or now).isoformat(),
        }
        for event in events
    ]
    with connection.cursor() as cursor:
        cursor.execute(_PUBLISH_SQL, [json_text(rows)])
        delivery_ids = [row[0] for row in cursor.fetchall()]
    for delivery_id in delivery_ids:
        enqueue_on_commit("customs.deliver_webhook", delivery_id)


def event_envelope(event: Event) -> dict:
    """An event as traders' systems receive it, in a webhook's body and in the pull API."""
    return {
        "id": event.pk,
        "type": event.kind,
        "occurred_at": event.occurred_at.isoformat(),
        "subject": {"type": event.subject_type, "id": event.subject_id, "reference": event.subject_reference},
        "data": event.payload,
    }


def cursor_of(event: Event) -> str:
    return f"{event.transaction_id}-{event.pk}"


class BadCursor(ValueError):
    pass


def _cursor_parse(cursor: str) -> tuple[int, int]:
    try:
        transaction_text, id_text = cursor.split("-", 1)
        return int(transaction_text), int(id_text)
    except ValueError:
        raise BadCursor(cursor) from None


@dataclass
class EventPage:
    events: list[Event]
    cursor: str  # where the next page starts: the last event's cursor, or the one given if none came
    has_more: bool


def event_page(*, user, after: str = "", limit: int = PAGE_DEFAULT) -> EventPage:
    """The user's events after cursor ``after`` (from the start if empty), oldest first.

    Only events of transactions that have ended are shown (see the module's docstring); ``BadCursor`` for
    a cursor this service did not give.
    """
    limit = max(1, min(limit, PAGE_MAX))
    events = event_list_for_user(user).filter(
        transaction_id__lt=RawSQL("pg_snapshot_xmin(pg_current_snapshot())::text::bigint", [])
    )
    if after:
        transaction_id, event_id = _cursor_parse(after)
        events = events.filter(
            Q(transaction_id__gt=transaction_id) | Q(transaction_id=transaction_id, id__gt=event_id)
        )
    rows = list(events.order_by("transaction_id", "id")[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    return EventPage(events=rows, cursor=cursor_of(rows[-1]) if rows else after, has_more=has_more)


PURGE_BATCH = 5000


def events_purge(*, now=None) -> dict[str, int]:
    """Delete the events older than ``EVENTS_RETENTION_DAYS`` (0: keep them for ever), with their
    deliveries and the deliveries' attempts, a batch at a time so that no long transaction holds the
    tables (the daily beat task's work)."""
    days = settings.EVENTS_RETENTION_DAYS
    removed = {"events": 0, "deliveries": 0}
    if days <= 0:
        return removed
    cutoff = (now or timezone.now()) - datetime.timedelta(days=days)
    while True:
        with transaction.atomic():
            batch = list(
                Event.objects.filter(occurred_at__lt=cutoff)
                .order_by("id")
                .values_list("id", flat=True)[:PURGE_BATCH]
            )
            if not batch:
                return removed
            _total, deleted = WebhookDelivery.objects.filter(event_id__in=batch).delete()
            removed["deliveries"] += deleted.get(WebhookDelivery._meta.label, 0)
            _total, deleted = Event.objects.filter(id__in=batch).delete()
            removed["events"] += deleted.get(Event._meta.label, 0)
