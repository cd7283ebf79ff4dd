"""Who may act on a transit movement: the principal's side, or an officer of the office concerned."""

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from customs.choices import AuthorisationScope, Role
from customs.models import BrokerAuthorisation
from declarations.services.errors import NotAuthorised

OFFICER_ROLES = (Role.OFFICER, Role.SUPERVISOR)


def principal_traders(actor) -> set[int]:
    """Traders the actor lodges transit for: its own, or those authorising its broker for transit."""
    if actor is None or not actor.is_authenticated:
        return set()
    if actor.trader_id:
        return {actor.trader_id}
    if actor.broker_id:
        today = timezone.localdate()
        return set(
            BrokerAuthorisation.objects.filter(
                broker_id=actor.broker_id,
                revoked=False,
                valid_from__lte=today,
                scope__contains=[AuthorisationScope.TRANSIT],
            )
            .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today))
            .values_list("trader_id", flat=True)
        )
    return set()


def is_officer_at(actor, office_id: int) -> bool:
    if actor is None or not actor.is_authenticated:
        return False
    if actor.is_superuser:
        return True
    if actor.trader_id or actor.broker_id or not any(actor.has_role(role) for role in OFFICER_ROLES):
        return False
    return actor.offices.filter(pk=office_id).exists()


def ensure_officer_at(actor, office) -> None:
    if not is_officer_at(actor, office.pk):
        raise NotAuthorised(_("Only an officer of office %(office)s may do this.") % {"office": office.code})


def ensure_principal(actor, trader_id: int) -> None:
    if trader_id not in principal_traders(actor):
        raise NotAuthorised(_("You may not lodge transit declarations for this principal."))
