"""Writing and verifying the hash-chained audit trail."""

import hashlib
import json
from dataclasses import dataclass

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from customs.models import AuditEvent
from customs.requestcontext import current_request_id
from customs.rows import model_new, row_insert

GENESIS_HASH = "0" * 64
# One PostgreSQL advisory lock serialises appends so the chain is a line, not a tree.
AUDIT_CHAIN_LOCK_KEY = 7_351_001


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
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [AUDIT_CHAIN_LOCK_KEY])
        # Read after the lock is held (its own statement, so its snapshot sees the last commit).
        cursor.execute(
            f"SELECT sequence, hash FROM {AuditEvent._meta.db_table} ORDER BY sequence DESC LIMIT 1"
        )
        row = cursor.fetchone()
    last = {"sequence": row[0], "hash": row[1]} if row else None
    actor_is_user = actor is not None and getattr(actor, "pk", None) is not None
    event = model_new(
        AuditEvent,
        sequence=(last["sequence"] + 1) if last else 1,
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
        previous_hash=last["hash"] if last else GENESIS_HASH,
    )
    event.hash = audit_event_hash(event)
    row_insert(event)
    return event


@dataclass(frozen=True)
class AuditProblem:
    sequence: int
    problem: str

    def __str__(self):
        return f"event #{self.sequence}: {self.problem}"


def audit_verify(batch_size: int = 5000) -> list[AuditProblem]:
    """Walk the whole chain in order and report every broken link.

    An edited row no longer matches its own hash; a deleted row leaves a hole in the sequence and a
    next row whose ``previous_hash`` points at nothing; a re-hashed edit breaks the next link.
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
    return problems
