"""Writing and verifying the hash-chained audit trail."""

import hashlib
import json
from dataclasses import dataclass

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from customs.models import AuditChainHead, AuditEvent
from customs.requestcontext import current_request_id
from customs.rows import insert_sql, model_new, row_json, rows_stored

GENESIS_HASH = "0" * 64


def _canonical(value) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def audit_event_hash(event: AuditEvent) -> str:
    """SHA-256 over the event's content and the previous hash (the chain link)."""
    payload = {
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
    return hashlib.sha256(_canonical(payload).encode()).hexdigest()


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
    """Append an audit event in the caller's transaction.

    ``action`` is namespaced (``declarations.declaration.submitted``). Must run inside
    ``transaction.atomic()``: the event commits or rolls back with the change it records.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("audit_record must be called inside transaction.atomic()")
    sequence, previous_hash = _chain_head_locked()
    actor_is_user = actor is not None and getattr(actor, "pk", None) is not None
    event = model_new(
        AuditEvent,
        sequence=sequence + 1,
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
        previous_hash=previous_hash,
    )
    event.hash = audit_event_hash(event)
    with connection.cursor() as cursor:
        cursor.execute(_APPEND_SQL, [event.sequence, event.hash, row_json(event)])
        rows_stored([event], [cursor.fetchone()[0]])
    return event


_HEAD_TABLE, _EVENT_TABLE = AuditChainHead._meta.db_table, AuditEvent._meta.db_table
# Locks the head (a writer that waited reads the head its predecessor committed: a locking read sees
# the newest version of the row).
_HEAD_SQL = f"SELECT sequence, hash FROM {_HEAD_TABLE} WHERE id = 1 FOR UPDATE"  # noqa: S608
# The head as the newest event left it, when it is missing (a test's flush, a table restored alone).
_HEAD_MAKE_SQL = f"""
    INSERT INTO {_HEAD_TABLE} (id, sequence, hash)
    SELECT 1, COALESCE(MAX(sequence), 0),
           COALESCE((SELECT hash FROM {_EVENT_TABLE} ORDER BY sequence DESC LIMIT 1), %s)
    FROM {_EVENT_TABLE}
    ON CONFLICT (id) DO NOTHING
"""  # noqa: S608
_APPEND_SQL = (
    f"WITH head AS (UPDATE {_HEAD_TABLE} SET sequence = %s, hash = %s WHERE id = 1) "  # noqa: S608
    + insert_sql(AuditEvent, then="RETURNING id")
)


def _chain_head_locked() -> tuple[int, str]:
    """The newest event's sequence and hash, with the head locked until the transaction ends: appends
    form a line, not a tree."""
    with connection.cursor() as cursor:
        cursor.execute(_HEAD_SQL)
        row = cursor.fetchone()
        if row is None:
            cursor.execute(_HEAD_MAKE_SQL, [GENESIS_HASH])
            cursor.execute(_HEAD_SQL)
            row = cursor.fetchone()
    return row[0], row[1]


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
