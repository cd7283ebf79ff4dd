"""The current request's id and user, for the audit trail and logs (set by RequestIdMiddleware)."""

import contextvars
import uuid

current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("current_request_id", default="")


def new_request_id() -> str:
    return uuid.uuid4().hex
