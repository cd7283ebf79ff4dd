"""The portal's upload form for a declaration file (ASYCUDA World XML or WCO DM 3.6 XML) to import as a
draft.

The form only parses: it takes the file and what was chosen. Whether the trader may be declared for and
whether the office takes declarations is ``declarations.services.imports.declaration_import_request``'s
to say; ``errors_to_form`` puts each ``FieldError`` it returns next to the input it names.
"""

from django import forms
from django.core.validators import FileExtensionValidator
from django.utils.translation import gettext_lazy as _

from customs.models import CustomsOffice, Trader
from customs.xmlsafe import DEFAULT_MAX_BYTES
from declarations.services.permissions import declarant_traders


def trader_label(trader: Trader) -> str:
    return f"{trader.name} ({trader.taxpayer_id})"


def importable_traders(user) -> list[Trader]:
    """The traders ``user`` may declare for today (its own trader, or those authorising its broker)."""
    return list(Trader.objects.filter(pk__in=declarant_traders(user), active=True).order_by("name"))


class DeclarationImportForm(forms.Form):
    """A declaration file, and the trader and office to use where the file's own are not Kerwen's."""

    file = forms.FileField(
        label=_("Declaration file (XML)"),
        help_text=_(
            "An ASYCUDA World declaration (root element ASYCUDA) or a WCO Data Model 3.6 declaration, "
            "as your software exports it; at most 16 MB."
        ),
        validators=[FileExtensionValidator(["xml"], message=_("Choose an XML file (ending in .xml)."))],
        error_messages={"required": _("Choose an XML file."), "empty": _("The file is empty.")},
        widget=forms.ClearableFileInput(attrs={"accept": ".xml,application/xml,text/xml"}),
    )
    # Plain text fields shown as selects: the import service says whether the choice is allowed, so a
    # value that is not (or no longer) on the list gets the service's reason next to the field.
    trader = forms.CharField(
        label=_("Trader"),
        required=False,
        help_text=_(
            "The trader the draft is for. Leave “Use the file's trader” to take the importer or exporter "
            "the file names, if it is a trader you declare for."
        ),
        widget=forms.Select(),
    )
    office = forms.CharField(
        label=_("Customs office"),
        required=False,
        help_text=_(
            "The office the draft is lodged at, when the file's office is not a Kerwen office "
            "(a file from another country's system)."
        ),
        widget=forms.Select(),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["trader"].widget.choices = [("", _("Use the file's trader"))] + [
            (trader.taxpayer_id, trader_label(trader)) for trader in importable_traders(user)
        ]
        self.fields["office"].widget.choices = [("", _("Use the file's office"))] + [
            (office.code, str(office))
            for office in CustomsOffice.objects.filter(active=True).order_by("code")
        ]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > DEFAULT_MAX_BYTES:
            # Said before the file is read into memory; the service says the same of what it is given.
            raise forms.ValidationError(
                _("The file is %(size)s bytes long; at most %(limit)s bytes are accepted.")
                % {"size": upload.size, "limit": DEFAULT_MAX_BYTES}
            )
        return upload

    def clean_trader(self):
        return self.cleaned_data["trader"].strip()

    def clean_office(self):
        return self.cleaned_data["office"].strip().upper()


def errors_to_form(errors, form: forms.Form) -> list[str]:
    """Put each ``FieldError`` next to the input it names; the messages of no input are returned."""
    leftover = []
    for error in errors:
        if error.field in form.fields:
            form.add_error(error.field, error.message)
        else:
            leftover.append(error.message)
    return leftover
