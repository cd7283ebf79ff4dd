"""``Idempotency-Key`` for the POSTs that create or pay: a retry gets the first response, not a second
effect. Used by the declarations API and the APIs to its right (payments)."""

import hashlib
import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions
from rest_framework.response import Response

from customs.api.errors import ApiConflict
from declarations.models import IdempotencyKey

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Any unique string; a retried POST with the same key returns the first response",
)


def idempotent(request, scope: str, run):
    """Run ``run()`` once per Idempotency-Key of the user and ``scope``; a retry gets the stored
    response. The key's row is inserted first, in the request's transaction: a concurrent retry waits on
    the unique index, then replays. A refused request stores nothing (its transaction rolls back), so it
    may be retried."""
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        return run()
    if len(key) > 128:
        raise exceptions.ValidationError({"Idempotency-Key": [_("At most 128 characters.")]})
    body = json.dumps(request.data, cls=DjangoJSONEncoder, sort_keys=True, default=str)
    request_hash = hashlib.sha256(body.encode()).hexdigest()
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = IdempotencyKey.objects.create(
                    user=request.user, key=key, scope=scope, request_hash=request_hash
                )
        except IntegrityError:
            record = IdempotencyKey.objects.get(user=request.user, key=key, scope=scope)
            if record.request_hash != request_hash:
                raise ApiConflict(
                    _("This Idempotency-Key was used for a different request."),
                    code="idempotency_key_reused",
                ) from None
            response = Response(record.response_body, status=record.response_status)
            response["Idempotent-Replay"] = "true"
            return response
        response = run()
        record.response_status = response.status_code
        record.response_body = response.data
        record.save(update_fields=["response_status", "response_body"])
        return response
