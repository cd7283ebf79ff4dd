"""Who may pay for whom, and which staff may act at which office."""

import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from customs.choices import AuthorisationScope, Role
from customs.selectors import trader_list_for_user
from payments.services.errors import PaymentNotAllowed
from risk.services import permissions as risk_permissions


def payer_traders(actor, *, on_day: datetime.date | None = None) -> set[int]:
    """Ids of the traders whose money the actor handles: its own trader, or the traders that authorise
    its broker for payments (``customs.selectors.trader_list_for_user``)."""
    if actor is None or not actor.is_authenticated:
        return set()
    if actor.trader_id:
        return {actor.trader_id}
    traders = trader_list_for_user(
        actor, on_day=on_day or timezone.localdate(), scope=AuthorisationScope.PAYMENT
    )
    return set(traders.values_list("pk", flat=True))


def ensure_payer(actor, trader_id: int) -> None:
    if trader_id not in payer_traders(actor):
        raise PaymentNotAllowed(_("You may not make payments for this trader."))


def _staff_of(actor, office_id: int, roles) -> bool:
    if actor is None or not actor.is_authenticated:
        return False
    if actor.is_superuser:
        return True
    if actor.trader_id or actor.broker_id:
        return False
    if not any(actor.has_role(role) for role in roles):
        return False
    return actor.offices.filter(pk=office_id).exists()


def is_cashier_of(actor, office_id: int) -> bool:
    return _staff_of(actor, office_id, (Role.CASHIER,))


def is_supervisor_of(actor, office) -> bool:
    return risk_permissions.is_supervisor_of(actor, office)


def ensure_cashier(actor, office) -> None:
    if not is_cashier_of(actor, office.pk):
        raise PaymentNotAllowed(
            _("Only a cashier of office %(office)s may take payments there.") % {"office": office.code}
        )


def ensure_supervisor(actor, office) -> None:
    if not is_supervisor_of(actor, office):
        raise PaymentNotAllowed(
            _("Only a supervisor of office %(office)s may do this.") % {"office": office.code}
        )


def is_finance_staff(actor) -> bool:
    """Supervisors and administrators see revenue and reconciliation."""
    if actor is None or not actor.is_authenticated:
        return False
    return actor.is_superuser or actor.has_role(Role.SUPERVISOR) or actor.has_role(Role.ADMINISTRATOR)
