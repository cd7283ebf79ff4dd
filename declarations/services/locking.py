"""The one way a service locks a declaration for a state change."""

from declarations.models import Declaration


def declaration_lock(pk) -> Declaration:
    """Re-read declaration ``pk`` locked FOR UPDATE until commit, with its office, the office's
    settings, its trader and broker. Only the declaration row is locked (``of=self``): locking the
    office row too would make every other declaration of that office wait on it, and deadlock
    against the audit chain's lock."""
    return (
        Declaration.objects.select_for_update(of=("self",))
        .select_related("office", "office__declaration_settings", "trader", "broker")
        .get(pk=pk)
    )
