"""API-key authentication for integrations (banks, brokers' software).

The key travels as ``Authorization: Api-Key <key>``; only its hash is stored (djangorestframework-api-key).
The request acts as the key's user, and ``request.auth`` is the ApiClient, whose scopes
``HasApiScope`` checks.
"""

import datetime

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions, permissions

from customs.models import ApiClient

KEYWORD = "Api-Key"
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header.startswith(KEYWORD + " "):
            return None
        key = header[len(KEYWORD) + 1 :].strip()
        try:
            client = ApiClient.objects.get_from_key(key)
        except ApiClient.DoesNotExist:
            raise exceptions.AuthenticationFailed(_("Unknown API key.")) from None
        if not client.is_valid(key):
            raise exceptions.AuthenticationFailed(_("This API key is revoked or expired."))
        if not client.user.is_active:
            raise exceptions.AuthenticationFailed(_("The account of this API key is disabled."))
        now = timezone.now()
        # Written at most once a minute: a busy integration must not pay a write on every request.
        if client.last_used_at is None or now - client.last_used_at > LAST_USED_RESOLUTION:
            ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
        return client.user, client

    def authenticate_header(self, request):
        return KEYWORD


class HasApiScope(permissions.BasePermission):
    """A view sets ``required_scope``; API-key requests must carry it. Session users pass through."""

    message = _("This API key does not have the scope this endpoint needs.")

    def has_permission(self, request, view):
        if not isinstance(request.auth, ApiClient):
            return True
        required = getattr(view, "required_scope", None)
        return required is None or required in request.auth.scopes


class ReadWriteScopes:
    """A view mixin for ``HasApiScope``: API keys need ``read_scope`` for GET and HEAD, ``write_scope``
    for everything else."""

    read_scope: str | None = None
    write_scope: str | None = None

    @property
    def required_scope(self):
        return self.read_scope if self.request.method in ("GET", "HEAD") else self.write_scope
