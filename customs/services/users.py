"""Users and their roles."""

from django.contrib.auth.models import Group
from django.db import transaction

from customs.models import Broker, CustomsOffice, Trader, User
from customs.roles import ADMIN_SITE_ROLES
from customs.services.audit import audit_record


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
    """Create or update a user with exactly these roles and offices. Staff of admin roles get
    ``is_staff`` so they can open Django admin. Audited."""
    with transaction.atomic():
        user, created = User.objects.select_for_update().get_or_create(username=username)
        before = (
            None
            if created
            else {"roles": sorted(user.role_names), "offices": sorted(o.code for o in user.offices.all())}
        )
        user.first_name, user.last_name = first_name, last_name
        user.trader, user.broker = trader, broker
        user.is_superuser = is_superuser
        user.is_staff = is_superuser or bool(set(roles) & ADMIN_SITE_ROLES)
        if password is not None:
            user.set_password(password)
        user.save()
        user.groups.set(Group.objects.filter(name__in=roles))
        user.offices.set(offices)
        if hasattr(user, "_role_names"):
            del user._role_names
        audit_record(
            action="customs.user.created" if created else "customs.user.updated",
            actor=actor,
            obj=user,
            before=before,
            after={"roles": sorted(roles), "offices": sorted(office.code for office in offices)},
        )
    return user
