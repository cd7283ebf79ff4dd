"""Who may do what in the risk module: analysts write criteria; supervisors override; officers of the
office examine and audit."""

from django.utils.translation import gettext as _

from customs.choices import Role
from declarations.services.errors import NotAuthorised


def _staff(actor) -> bool:
    return actor is not None and actor.is_authenticated and not actor.trader_id and not actor.broker_id


def is_analyst(actor) -> bool:
    return _staff(actor) and (actor.is_superuser or actor.has_role(Role.RISK_ANALYST))


def _pk(office) -> int:
    """An office or its id."""
    return getattr(office, "pk", office)


def is_supervisor_of(actor, office) -> bool:
    """A supervisor posted at ``office`` (an office or its id)."""
    if not _staff(actor):
        return False
    if actor.is_superuser:
        return True
    return actor.has_role(Role.SUPERVISOR) and actor.offices.filter(pk=_pk(office)).exists()


def is_officer_at(actor, office) -> bool:
    """An officer or supervisor posted at ``office`` (an office or its id): also the transit offices'
    check."""
    if not _staff(actor):
        return False
    if actor.is_superuser:
        return True
    return (actor.has_role(Role.OFFICER) or actor.has_role(Role.SUPERVISOR)) and actor.offices.filter(
        pk=_pk(office)
    ).exists()


def is_criteria_writer(actor) -> bool:
    """Analysts write criteria on their screens; administrators may in Django admin."""
    return is_analyst(actor) or (_staff(actor) and actor.has_role(Role.ADMINISTRATOR))


def ensure_criteria_writer(actor) -> None:
    if not is_criteria_writer(actor):
        raise NotAuthorised(_("Only a risk analyst or an administrator may change selectivity criteria."))


def ensure_analyst(actor) -> None:
    if not is_analyst(actor):
        raise NotAuthorised(_("Only a risk analyst may do this."))


def ensure_supervisor_of(actor, office) -> None:
    if not is_supervisor_of(actor, office):
        raise NotAuthorised(
            _("Only a supervisor of office %(office)s may do this.") % {"office": office.code}
        )


def ensure_officer_at(actor, office) -> None:
    if not is_officer_at(actor, office):
        raise NotAuthorised(_("Only an officer of office %(office)s may do this.") % {"office": office.code})
