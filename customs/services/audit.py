"""Writing and verifying the hash-chained audit trail."""

import hashlib
import json
from dataclasses import dataclass

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from customs.models import AuditChainHead, AuditEvent
from customs.requestcontext import current_request_id
from customs.rows import insert_columns, model_new, row_json, rows_stored

GENESIS_HASH = "0" * 64


def _canonical(value) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _hashed_fields(event: AuditEvent) -> dict:
    return {
        "sequence": event.sequence,
        "occurred_at": event.occurred_at.isoformat(),
        "action": event.action,
        "actor_id": event.actor_id,
        "actor_username": event.actor_username,
        "office_code": event.office_code,
        "request_id": event.request_id,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "object_repr": event.object_repr,
        "before": event.before,
        "after": event.after,
        "previous_hash": event.previous_hash,
    }


def audit_event_hash(event: AuditEvent) -> str:
    """SHA-256 over the event's content and the previous hash (the chain link): what
    ``audit_verify`` checks. ``audit_record`` has PostgreSQL compute the same over the same text."""
    return hashlib.sha256(_canonical(_hashed_fields(event)).encode()).hexdigest()


def _json_safe(value):
    return None if value is None else json.loads(_canonical(value))


def audit_record(
    *,
    action: str,
    actor=None,
    obj=None,
    office_code: str = "",
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEvent:
    """Append an audit event in the caller's transaction, in one statement (``_APPEND_SQL``).

    ``action`` is namespaced (``declarations.declaration.submitted``). Must run inside
    ``transaction.atomic()``: the event commits or rolls back with the change it records.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("audit_record must be called inside transaction.atomic()")
    actor_is_user = actor is not None and getattr(actor, "pk", None) is not None
    event = model_new(
        AuditEvent,
        occurred_at=timezone.now(),
        action=action,
        actor=actor if actor_is_user else None,
        actor_username=actor.get_username() if actor_is_user else "",
        office_code=office_code,
        request_id=current_request_id.get(),
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:255] if obj is not None else "",
        before=_json_safe(before),
        after=_json_safe(after),
    )
    parameters = [*_hashed_around_the_link(event), row_json(event, exclude=_LINK)]
    with connection.cursor() as cursor:
        cursor.execute(_APPEND_SQL, parameters)
        row = cursor.fetchone()
        if row is None:  # no chain head (a test's flush, a table restored alone): made again, then append
            cursor.execute(_HEAD_MAKE_SQL, [GENESIS_HASH])
            cursor.execute(_APPEND_SQL, parameters)
            row = cursor.fetchone()
    pk, event.sequence, event.previous_hash, event.hash = row
    rows_stored([event], [pk])
    return event


def _hashed_around_the_link(event: AuditEvent) -> tuple[str, str]:
    """The text ``audit_event_hash`` hashes, but for the previous hash and the sequence, which only the
    locked chain head knows: the text before the previous hash, and the text between it and the
    sequence (the last key in sorted order; the text ends with the sequence and ``}``). The keys of the
    top level come last of their name in the text: nested objects (before, after) sort ahead of
    ``previous_hash``, and no string value holds an unescaped quote."""
    event.sequence, event.previous_hash = 0, ""
    text = _canonical(_hashed_fields(event))
    marker, end = '"previous_hash":"', ',"sequence":0}'
    split = text.rindex(marker + '"') + len(marker)
    if not text.endswith(end):
        raise RuntimeError("the sequence is no longer the last key hashed")
    return text[:split], text[split : -len("0}")]


_HEAD_TABLE, _EVENT_TABLE = AuditChainHead._meta.db_table, AuditEvent._meta.db_table
_LINK = ("sequence", "previous_hash", "hash")  # filled by the statement from the chain head
_APPEND_COLUMNS = insert_columns(AuditEvent, exclude=_LINK)
# One statement: lock the head (a writer that waited reads the head its predecessor committed: a
# locking read sees the newest version of the row), compute the link (PostgreSQL's sha256 over the
# same UTF-8 text as ``audit_event_hash``, with the head's hash and the next sequence put in), move
# the head and insert the event. No head, no row: the caller makes the head and runs it again.
_APPEND_SQL = f"""
WITH previous AS MATERIALIZED (SELECT sequence, hash FROM {_HEAD_TABLE} WHERE id = 1 FOR UPDATE),
link AS MATERIALIZED (
    SELECT previous.sequence + 1 AS sequence, previous.hash AS previous_hash,
        encode(sha256(convert_to(
            %s || previous.hash || %s || (previous.sequence + 1)::text || '}}', 'UTF8'
        )), 'hex') AS hash
    FROM previous
),
moved AS (
    UPDATE {_HEAD_TABLE} AS head SET sequence = link.sequence, hash = link.hash FROM link WHERE head.id = 1
)
INSERT INTO {_EVENT_TABLE} ({", ".join(_APPEND_COLUMNS)}, sequence, previous_hash, hash)
SELECT {", ".join(f"row.{column}" for column in _APPEND_COLUMNS)},
    link.sequence, link.previous_hash, link.hash
FROM json_populate_record(NULL::{_EVENT_TABLE}, %s::json) AS row, link
RETURNING id, sequence, previous_hash, hash
"""  # noqa: S608 (names from the models)
# The head as the newest event left it, when it is missing.
_HEAD_MAKE_SQL = f"""
    INSERT INTO {_HEAD_TABLE} (id, sequence, hash)
    SELECT 1, COALESCE(MAX(sequence), 0),
           COALESCE((SELECT hash FROM {_EVENT_TABLE} ORDER BY sequence DESC LIMIT 1), %s)
    FROM {_EVENT_TABLE}
    ON CONFLICT (id) DO NOTHING
"""  # noqa: S608


@dataclass(frozen=True)
class AuditProblem:
    sequence: int
    problem: str

    def __str__(self):
        return f"event #{self.sequence}: {self.problem}"


def audit_verify(batch_size: int = 5000) -> list[AuditProblem]:
    """Walk the whole chain in order and report every broken link.

    An edited row no longer matches its own hash; a deleted row leaves a hole in the sequence and a
    next row whose ``previous_hash`` points at nothing; a re-hashed edit breaks the next link. The
    newest events, deleted, leave no broken link: the chain head, which names the newest event
    written, shows them.
    """
    problems: list[AuditProblem] = []
    expected_previous = GENESIS_HASH
    expected_sequence = 1
    with transaction.atomic():
        for event in AuditEvent.objects.order_by("sequence").iterator(chunk_size=batch_size):
            if event.sequence != expected_sequence:
                problems.append(
                    AuditProblem(
                        event.sequence,
                        f"events #{expected_sequence}..#{event.sequence - 1} are missing (deleted)",
                    )
                )
            if event.previous_hash != expected_previous:
                problems.append(AuditProblem(event.sequence, "link to the previous event is broken"))
            if audit_event_hash(event) != event.hash:
                problems.append(AuditProblem(event.sequence, "content does not match its hash (edited)"))
            expected_previous = event.hash
            expected_sequence = event.sequence + 1
        head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and (head.sequence, head.hash) != (expected_sequence - 1, expected_previous):
        problems.append(
            AuditProblem(
                head.sequence,
                f"the chain head names event #{head.sequence}, the newest event is "
                f"#{expected_sequence - 1} (the newest events were deleted)",
            )
        )
    return problems
