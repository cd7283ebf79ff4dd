"""API-key authentication for integrations (banks, brokers' software).

The key travels as ``Authorization: Api-Key <key>``; only its hash is stored (djangorestframework-api-key).
The request acts as the key's user, and ``request.auth`` is the ApiClient, whose scopes
``HasApiScope`` checks.
"""

import datetime
from functools import cache

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions, permissions

from customs.models import ApiClient, User
from customs.rows import column_converters, instance_from_row

KEYWORD = "Api-Key"
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


@cache
def _client_sql() -> tuple[str, tuple, tuple]:
    """The key's client with its user, in one statement built once (every API request reads it; the
    ORM's compiling of the same query cost five times its running)."""
    client_fields, user_fields = ApiClient._meta.concrete_fields, User._meta.concrete_fields
    columns = [f'client."{field.column}"' for field in client_fields]
    columns += [f'account."{field.column}"' for field in user_fields]
    sql = (
        f"SELECT {', '.join(columns)} FROM {ApiClient._meta.db_table} AS client "  # noqa: S608
        f"JOIN {User._meta.db_table} AS account ON account.id = client.user_id "
        "WHERE client.prefix = %s AND NOT client.revoked"
    )
    return (
        sql,
        ([field.attname for field in client_fields], column_converters(ApiClient, "client")),
        ([field.attname for field in user_fields], column_converters(User, "account")),
    )


def _client_of(key: str) -> ApiClient | None:
    """The unrevoked client whose key this is (the prefix finds it, the hash proves it), or None."""
    sql, (client_names, client_converters), (user_names, user_converters) = _client_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, [key.partition(".")[0]])
        row = cursor.fetchone()
    if row is None:
        return None
    client = instance_from_row(ApiClient, client_names, row[: len(client_names)], client_converters)
    client.user = instance_from_row(User, user_names, row[len(client_names) :], user_converters)
    return client if client.is_valid(key) else None


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header.startswith(KEYWORD + " "):
            return None
        key = header[len(KEYWORD) + 1 :].strip()
        client = _client_of(key)
        if client is None:
            raise exceptions.AuthenticationFailed(_("Unknown API key."))
        if client.has_expired:
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
