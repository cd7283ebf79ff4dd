"""One error envelope for the whole API: machine-readable codes, translated messages, field by field.

{"error": {"code": "validation_error", "message": "...", "fields": {"taxpayer_id": [{"code": "unique",
 "message": "..."}]}}}
"""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.views import exception_handler


class ApiConflict(exceptions.APIException):
    """A command not allowed in the object's current state (409)."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


def _flatten(detail):
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        items = []
        for item in detail:
            flattened = _flatten(item)
            items.extend(flattened if isinstance(flattened, list) else [flattened])
        return items
    return [{"code": getattr(detail, "code", "invalid"), "message": str(detail)}]


def error_envelope_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(getattr(exc, "message_dict", None) or exc.messages)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        body = {
            "code": "validation_error",
            "message": _("Some fields are not valid."),
            "fields": _flatten(detail),
        }
    else:
        codes = exc.get_codes() if hasattr(exc, "get_codes") else "error"
        body = {
            "code": codes if isinstance(codes, str) else "error",
            "message": str(exc.detail) if hasattr(exc, "detail") else str(exc),
        }
    response.data = {"error": body}
    return response
