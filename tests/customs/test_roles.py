"""Roles are groups with exactly the permissions of customs.roles; admin access follows them."""

import pytest
from django.contrib.auth.models import Group

from customs.choices import Role
from customs.models import AuditEvent, Country
from customs.roles import roles_sync
from customs.services.users import user_upsert
from tests.customs.factories import CountryFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_every_role_exists_as_a_group_after_migrate():
    assert set(Group.objects.values_list("name", flat=True)) >= {role.value for role in Role}


@pytest.mark.parametrize(
    ("role", "allowed", "refused"),
    [
        (
            Role.OFFICER,
            ["customs.view_trader", "customs.view_country"],
            ["customs.change_trader", "customs.view_auditevent"],
        ),
        (
            Role.SUPERVISOR,
            ["customs.view_auditevent"],
            ["customs.change_country", "customs.change_auditevent"],
        ),
        (
            Role.ADMINISTRATOR,
            ["customs.change_country", "customs.add_user", "customs.view_auditevent"],
            ["customs.change_auditevent", "customs.delete_auditevent"],
        ),
        (Role.CASHIER, ["customs.view_exchangerate"], ["customs.view_broker", "customs.change_exchangerate"]),
        (Role.TRADER_USER, [], ["customs.view_trader", "customs.view_country"]),
        (Role.BROKER_USER, [], ["customs.view_trader"]),
        (Role.BANK_INTEGRATION, [], ["customs.view_trader"]),
    ],
)
def test_role_permissions(role, allowed, refused):
    user = UserFactory(roles=[role.value])

    assert [user.has_perm(name) for name in allowed] == [True] * len(allowed)
    assert [user.has_perm(name) for name in refused] == [False] * len(refused)


def test_sync_is_idempotent_and_restores_a_removed_permission():
    officers = Group.objects.get(name=Role.OFFICER)
    first = roles_sync()
    officers.permissions.clear()

    second = roles_sync()

    assert first == second
    assert officers.permissions.count() == first[Role.OFFICER]


def test_staff_roles_require_a_second_factor_and_portal_roles_do_not():
    assert UserFactory(roles=["officer"]).requires_second_factor is True
    assert UserFactory(roles=["cashier"]).requires_second_factor is True
    assert UserFactory(roles=["administrator"]).requires_second_factor is True
    assert UserFactory(roles=["trader_user"]).requires_second_factor is False
    assert UserFactory(roles=["bank_integration"]).requires_second_factor is False


def test_user_upsert_sets_roles_offices_staff_flag_and_audits(django_user_model):
    from tests.customs.factories import OfficeFactory

    office = OfficeFactory(code="TMA01")
    user = user_upsert(
        actor=None, username="ayna", password="Secret-pass-123", roles=["administrator"], offices=[office]
    )
    user = user_upsert(actor=None, username="ayna", roles=["officer"], offices=[office])

    assert user.is_staff is False
    assert sorted(user.groups.values_list("name", flat=True)) == ["officer"]
    assert list(user.offices.values_list("code", flat=True)) == ["TMA01"]
    assert user.check_password("Secret-pass-123")
    assert list(AuditEvent.objects.order_by("sequence").values_list("action", flat=True)) == [
        "customs.user.created",
        "customs.user.updated",
    ]
    updated = AuditEvent.objects.get(action="customs.user.updated")
    assert (updated.before["roles"], updated.after["roles"]) == (["administrator"], ["officer"])
    assert (updated.before["is_staff"], updated.after["is_staff"]) == (True, False)
    assert updated.after["password_changed"] is False


def test_user_upsert_that_changes_nothing_writes_no_audit_event():
    user_upsert(actor=None, username="ayna", password="Secret-pass-123", roles=["officer"])
    user_upsert(actor=None, username="ayna", password="Secret-pass-123", roles=["officer"])

    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["customs.user.created"]


def test_admin_opens_for_administrators_only(client, verified_login):
    CountryFactory(code="TM")
    administrator = user_upsert(actor=None, username="ayna", roles=["administrator"])
    officer = UserFactory(username="merdan", roles=["officer"])

    officer_response = verified_login(client, officer).get("/admin/customs/country/")
    admin_response = verified_login(client, administrator).get("/admin/customs/country/")
    audit_add = client.get("/admin/customs/auditevent/add/")

    assert officer_response.status_code == 302
    assert admin_response.status_code == 200
    assert "Turkmenistan" in admin_response.content.decode()
    assert audit_add.status_code == 403
    assert Country.objects.count() == 1
