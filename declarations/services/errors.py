"""What the declaration services raise. Views and the API turn these into one error shape."""

from dataclasses import dataclass

from django.utils.translation import gettext as _


@dataclass(frozen=True)
class FieldError:
    """One problem with one field. ``field`` is a path (``items[2].net_mass``, items counted from 0);
    ``code`` is stable and machine-readable; ``message`` is translated."""

    field: str
    code: str
    message: str


def lrn_error(lrn: str) -> FieldError:
    """The declarant already has a declaration with this LRN (the unique constraints per declarant)."""
    return FieldError(
        "lrn",
        "lrn_not_unique",
        _("You already have a declaration with the reference %(lrn)s.") % {"lrn": lrn},
    )


class DeclarationInvalid(Exception):
    """The declaration cannot be saved or lodged; every problem found, field by field."""

    def __init__(self, errors: list[FieldError]):
        super().__init__("; ".join(f"{error.field}: {error.message}" for error in errors))
        self.errors = errors

    def by_field(self) -> dict[str, list[FieldError]]:
        grouped: dict[str, list[FieldError]] = {}
        for error in self.errors:
            grouped.setdefault(error.field, []).append(error)
        return grouped


class TransitionNotAllowed(Exception):
    """The move is not allowed from the declaration's current state (HTTP 409)."""

    code = "transition_not_allowed"

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        if code:
            self.code = code


class StaleVersion(TransitionNotAllowed):
    """Someone changed the declaration since the caller read it (HTTP 412 with If-Match)."""

    code = "stale_version"

    def __init__(self, current_version: int):
        super().__init__(
            _(
                "The declaration was changed by someone else in the meantime (now version %(version)s). "
                "Reload it and try again."
            )
            % {"version": current_version}
        )
        self.current_version = current_version


class NotAuthorised(Exception):
    """The actor may not do this to this declaration (HTTP 403)."""
