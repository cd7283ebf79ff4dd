"""Users and their roles."""

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction

from customs.models import Broker, CustomsOffice, Trader, User
from customs.roles import ADMIN_SITE_ROLES
from customs.services.audit import audit_record


def _user_snapshot(user: User) -> dict:
    """What the audit trail records of a user (never the password hash)."""
    return {
        "roles": sorted(user.groups.values_list("name", flat=True)),
        "offices": sorted(user.offices.values_list("code", flat=True)),
        "trader": user.trader_id,
        "broker": user.broker_id,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "is_staff": user.is_staff,
        "is_superuser": user.is_superuser,
    }


def user_upsert(
    *,
    actor: User | None,
    username: str,
    password: str | None = None,
    roles: list[str],
    offices: list[CustomsOffice] = (),
    trader: Trader | None = None,
    broker: Broker | None = None,
    first_name: str = "",
    last_name: str = "",
    is_superuser: bool = False,
) -> User:
    """Create or update a user with exactly these roles and offices.

    Staff of admin roles get ``is_staff`` so they can open Django admin. A change is audited with
    before and after; an upsert that changes nothing writes nothing, so loading the demo twice leaves
    the trail as it was.
    """
    with transaction.atomic():
        user, created = User.objects.select_for_update().get_or_create(username=username)
        before = None if created else _user_snapshot(user)
        user.first_name, user.last_name = first_name, last_name
        user.trader, user.broker = trader, broker
        user.is_superuser = is_superuser
        user.is_staff = is_superuser or bool(set(roles) & ADMIN_SITE_ROLES)
        password_changed = password is not None and (created or not user.check_password(password))
        if password_changed:
            user.set_password(password)
        user.save()
        user.groups.set(Group.objects.filter(name__in=roles))
        user.offices.set(offices)
        if hasattr(user, "_role_names"):
            del user._role_names
        after = _user_snapshot(user)
        if created or password_changed or after != before:
            audit_record(
                action="customs.user.created" if created else "customs.user.updated",
                actor=actor,
                obj=user,
                before=before,
                after={**after, "password_changed": password_changed},
            )
    return user


def user_language(user, *, default: str | None = None) -> str:
    """The language to write to ``user`` in (its documents, its notifications): its preferred language
    when it is one of the site's, else ``default`` (the request's, say), else the site's."""
    languages = dict(settings.LANGUAGES)
    for candidate in (getattr(user, "preferred_language", ""), default):
        code = (candidate or "")[:2]
        if code in languages:
            return code
    return settings.LANGUAGE_CODE
