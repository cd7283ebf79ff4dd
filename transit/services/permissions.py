"""Who may act on a transit movement: the principal's side, or an officer of the office concerned
(``is_officer_at(actor, office)`` and ``ensure_officer_at``, from the risk module)."""

from django.utils import timezone
from django.utils.translation import gettext as _

from customs.choices import AuthorisationScope
from customs.selectors import trader_list_for_user
from declarations.services.errors import NotAuthorised
from declarations.services.permissions import OFFICER_ROLES

# An officer (or supervisor) posted at the office: the risk module's check, for the transit offices.
from risk.services.permissions import ensure_officer_at, is_officer_at

__all__ = ["OFFICER_ROLES", "ensure_officer_at", "ensure_principal", "is_officer_at", "principal_traders"]


def principal_traders(actor) -> set[int]:
    """Traders the actor lodges transit for: its own, or those authorising its broker for transit
    (``customs.selectors.trader_list_for_user``)."""
    if actor is None or not actor.is_authenticated:
        return set()
    if actor.trader_id:
        return {actor.trader_id}
    traders = trader_list_for_user(actor, on_day=timezone.localdate(), scope=AuthorisationScope.TRANSIT)
    return set(traders.values_list("pk", flat=True))


def ensure_principal(actor, trader_id: int) -> None:
    if trader_id not in principal_traders(actor):
        raise NotAuthorised(_("You may not lodge transit declarations for this principal."))
