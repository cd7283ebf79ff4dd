"""The portal's webhook forms: a new endpoint (address, description, the events it wants) and an
endpoint's events.

The forms only parse: whether an address may receive webhooks is
``customs.services.webhooks.webhook_endpoint_create``'s to say, and its ``WebhookInvalid.errors``
(field -> message) are put next to the inputs by ``errors_to_form``.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from customs.services.events import EVENT_KINDS

# The groups of event kinds on the forms, by the prefix of the kind.
KIND_GROUPS = [
    ("declaration.", _("Declarations")),
    ("transit.", _("Transit")),
]


def kind_choices() -> list[tuple[str, str]]:
    return list(EVENT_KINDS.items())


class KindsMixin:
    """``kinds`` as checkboxes, grouped as ``KIND_GROUPS`` says (the template shows one fieldset each)."""

    def kind_groups(self) -> list[dict]:
        boxes = list(self["kinds"])
        groups = []
        for prefix, legend in KIND_GROUPS:
            groups.append(
                {
                    "legend": legend,
                    "slug": prefix.rstrip("."),
                    "boxes": [box for box in boxes if str(box.data["value"]).startswith(prefix)],
                }
            )
        known = tuple(prefix for prefix, _legend in KIND_GROUPS)
        rest = [box for box in boxes if not str(box.data["value"]).startswith(known)]
        if rest:
            groups.append({"legend": _("Other events"), "slug": "other", "boxes": rest})
        return groups


def _kinds_field():
    return forms.MultipleChoiceField(
        label=_("Events to receive"),
        required=False,
        choices=kind_choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Tick none to receive every event."),
    )


class EndpointForm(KindsMixin, forms.Form):
    """A new endpoint of the user's trader or broker."""

    url = forms.CharField(
        label=_("Address (URL)"),
        max_length=500,
        help_text=_("The full address of your system's endpoint, starting with https://."),
        error_messages={"required": _("Give the address of your endpoint.")},
        widget=forms.URLInput(attrs={"autocomplete": "off", "size": 50, "spellcheck": "false"}),
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=200,
        help_text=_("For you: what this endpoint is (e.g. “ERP, production”)."),
    )
    kinds = _kinds_field()


class EndpointKindsForm(KindsMixin, forms.Form):
    """The events an endpoint receives."""

    kinds = _kinds_field()


def errors_to_form(errors: dict, form: forms.Form) -> None:
    """Put each of ``WebhookInvalid.errors`` next to the input it names (or above the form)."""
    for field, message in errors.items():
        form.add_error(field if field in form.fields else None, message)
