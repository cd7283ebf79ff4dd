"""Who may act on a declaration: its declarant's side, or an officer of its office."""

import datetime

from django.db.models import Q
from django.utils.translation import gettext as _

from customs.choices import AuthorisationScope, Role
from customs.models import BrokerAuthorisation
from declarations.services.errors import NotAuthorised

OFFICER_ROLES = (Role.OFFICER, Role.SUPERVISOR)


def declarant_traders(actor, *, on_day: datetime.date | None = None) -> set[int]:
    """Ids of the traders the actor may declare for today: its own, or those authorising its broker
    for imports or exports."""
    on_day = on_day or datetime.date.today()
    if actor.trader_id:
        return {actor.trader_id}
    if actor.broker_id:
        return set(
            BrokerAuthorisation.objects.filter(
                broker_id=actor.broker_id, revoked=False, valid_from__lte=on_day
            )
            .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on_day))
            .filter(
                Q(scope__contains=[AuthorisationScope.IMPORT])
                | Q(scope__contains=[AuthorisationScope.EXPORT])
            )
            .values_list("trader_id", flat=True)
        )
    return set()


def is_declarant_side(actor, declaration) -> bool:
    """True when the actor is the declaration's trader, or the broker that declares it while still
    authorised by the trader."""
    if actor is None:
        return False
    if actor.trader_id:
        return declaration.trader_id == actor.trader_id
    if actor.broker_id:
        return declaration.broker_id == actor.broker_id and declaration.trader_id in declarant_traders(actor)
    return False


def is_officer_of(actor, declaration) -> bool:
    """True when the actor is an officer (or supervisor) posted at the declaration's office."""
    if actor is None:
        return False
    if actor.is_superuser:
        return True
    if actor.trader_id or actor.broker_id:
        return False  # a user acting for a trader or a broker is never the officer of its declarations
    if not any(actor.has_role(role) for role in OFFICER_ROLES):
        return False
    return actor.offices.filter(pk=declaration.office_id).exists()


def ensure_declarant(actor, declaration) -> None:
    if not is_declarant_side(actor, declaration):
        raise NotAuthorised(_("Only the declarant may do this."))


def ensure_officer(actor, declaration) -> None:
    if not is_officer_of(actor, declaration):
        raise NotAuthorised(
            _("Only an officer of office %(office)s may do this.") % {"office": declaration.office.code}
        )
