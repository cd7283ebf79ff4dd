"""Portal forms of the transit screens: the T1 (general part and the item grid, a formset), the upload of
a CC015C message, and how the lodgement service's ``FieldError`` paths find their inputs.

As for declarations, the forms only parse what the user typed: every field may be left empty and
``transit.services.lifecycle.transit_lodge`` says what is missing or wrong, all at once, with paths
such as ``items[2].gross_mass`` that ``errors_to_forms`` puts next to that row's cell.
"""

import re

from django import forms
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from customs.choices import OfficeRole
from customs.models import CustomsOffice, PackageKind, Trader
from payments.models import Guarantee
from portal.declaration_forms import _code, _code_choices, _currency_choices, _decimal, _plain
from transit.data import PartyData, TransitData, TransitItemData
from transit.services.permissions import principal_traders

# Offices of transit offered on the form, in route order (NCTS allows 9; a road T1 rarely passes more than
# a few). Empty slots are skipped.
TRANSIT_OFFICE_SLOTS = 6
MAX_ITEMS = 999
ITEM_PREFIX = "items"
# Seals and containers: separated by commas, semicolons or line breaks (a seal may contain spaces).
LIST_SEPARATORS = re.compile(r"[,;\r\n]+")
# Countries of the itinerary: two-letter codes, also separated by spaces.
COUNTRY_SEPARATORS = re.compile(r"[\s,;]+")
ITEM_PATH = re.compile(r"^items\[(\d+)\](?:\.(\w+))?$")
INDEXED_PATH = re.compile(r"^(\w+)\[(\d+)\]$")
# When nothing was chosen, the service's "there is no X ''" becomes an invitation to choose.
EMPTY_CHOICE_MESSAGES = {
    "principal": _("Choose the principal."),
    "guarantee_reference": _("Choose the guarantee."),
    "departure_office": _("Choose the office of departure."),
    "destination_office": _("Choose the office of destination."),
}
UNKNOWN_VALUE_CODES = ("required", "unknown_code", "unknown_party", "unknown_guarantee")


def _split(text: str, separators=LIST_SEPARATORS) -> list[str]:
    return [part.strip() for part in separators.split(text or "") if part.strip()]


def principals_for(user):
    """The traders ``user`` may lodge transit declarations for (its trader, or those that authorised its
    broker for transit), by name."""
    return Trader.objects.filter(pk__in=principal_traders(user), active=True).order_by("name")


def guarantees_for(traders):
    """The guarantees of ``traders`` that can be used today (not revoked, in their validity period)."""
    today = timezone.localdate()
    return (
        Guarantee.objects.filter(
            trader__in=traders, revoked=False, valid_from__lte=today, valid_to__gte=today
        )
        .select_related("trader")
        .order_by("trader__name", "reference")
    )


def _office_choices(role: str):
    offices = CustomsOffice.objects.filter(active=True, roles__contains=[role]).order_by("code")
    return [("", "—")] + [(office.code, str(office)) for office in offices]


class TransitForm(forms.Form):
    """The general part of a T1. ``principals`` are the traders the user may lodge for."""

    principal = forms.ChoiceField(label=_("Principal (holder of the procedure)"), required=False)
    lrn = forms.CharField(
        label=_("Your reference (LRN)"),
        max_length=22,
        required=False,
        widget=forms.TextInput(attrs={"size": 24, "autocomplete": "off"}),
    )
    departure_office = forms.ChoiceField(label=_("Office of departure"), required=False)
    destination_office = forms.ChoiceField(label=_("Office of destination"), required=False)
    carrier_name = forms.CharField(label=_("Carrier"), max_length=255, required=False)
    carrier_identification = forms.CharField(label=_("Carrier identification"), max_length=32, required=False)
    transport_identity = forms.CharField(
        label=_("Means of transport (plate)"),
        max_length=35,
        required=False,
        widget=forms.TextInput(attrs={"size": 16, "autocomplete": "off"}),
    )
    transport_nationality = _code(_("Nationality of the means of transport"))
    containers = forms.CharField(
        label=_("Containers"),
        required=False,
        help_text=_("Container numbers, separated by commas."),
        widget=forms.TextInput(attrs={"size": 40, "autocomplete": "off"}),
    )
    seals = forms.CharField(
        label=_("Seals"),
        required=False,
        help_text=_("Seal identities, separated by commas."),
        widget=forms.TextInput(attrs={"size": 40, "autocomplete": "off"}),
    )
    itinerary = forms.CharField(
        label=_("Itinerary (countries of routing)"),
        required=False,
        help_text=_("Two-letter country codes in route order, e.g. TM KZ RU."),
        widget=forms.TextInput(attrs={"size": 24, "autocomplete": "off", "class": "code-input"}),
    )
    time_limit = forms.DateField(
        label=_("Time limit"),
        required=False,
        help_text=_("The date by which the goods must reach the office of destination."),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    guarantee_reference = forms.ChoiceField(label=_("Guarantee"), required=False)
    previous_document = forms.CharField(
        label=_("Previous document"),
        max_length=70,
        required=False,
        help_text=_(
            "An export declaration number (e.g. TMA01 2026 C 10452) or a manifest reference. "
            "“Fill in the items” copies the items of the export declaration into the grid."
        ),
        widget=forms.TextInput(attrs={"size": 28, "autocomplete": "off"}),
    )

    # The inputs of each part of the form, in Tab order (the route, with the offices of transit, and the
    # previous document are laid out by the template).
    GENERAL_FIELDS = ["principal", "lrn", "guarantee_reference", "time_limit"]
    TRANSPORT_FIELDS = [
        "carrier_name",
        "carrier_identification",
        "transport_identity",
        "transport_nationality",
        "containers",
        "seals",
    ]
    TRANSIT_OFFICE_FIELDS = [f"transit_office_{slot}" for slot in range(1, TRANSIT_OFFICE_SLOTS + 1)]

    def __init__(self, *args, principals=(), **kwargs):
        super().__init__(*args, **kwargs)
        principals = list(principals)
        blank = [] if len(principals) == 1 else [("", "—")]
        self.fields["principal"].choices = blank + [
            (trader.taxpayer_id, f"{trader.name} ({trader.taxpayer_id})") for trader in principals
        ]
        guarantees = list(guarantees_for(principals))
        choices = [("", "—")]
        if len(principals) == 1:
            choices += [(g.reference, self._guarantee_label(g)) for g in guarantees]
        else:
            # One group per principal: the guarantee must be the principal's own.
            for trader in principals:
                own = [
                    (g.reference, self._guarantee_label(g)) for g in guarantees if g.trader_id == trader.pk
                ]
                if own:
                    choices.append((trader.name, own))
        self.fields["guarantee_reference"].choices = choices
        self.fields["departure_office"].choices = _office_choices(OfficeRole.TRANSIT_DEPARTURE)
        self.fields["destination_office"].choices = _office_choices(OfficeRole.TRANSIT_DESTINATION)
        border_offices = _office_choices(OfficeRole.TRANSIT_BORDER)
        for slot, name in enumerate(self.TRANSIT_OFFICE_FIELDS, start=1):
            self.fields[name] = forms.ChoiceField(
                label=_("Office of transit %(number)s") % {"number": slot},
                required=False,
                choices=border_offices,
            )

    @staticmethod
    def _guarantee_label(guarantee) -> str:
        return f"{guarantee.reference} ({guarantee.get_kind_display()})"

    def general_fields(self):
        return [self[name] for name in self.GENERAL_FIELDS]

    def transport_fields(self):
        return [self[name] for name in self.TRANSPORT_FIELDS]

    def transit_office_fields(self):
        return [self[name] for name in self.TRANSIT_OFFICE_FIELDS]

    def clean_transport_nationality(self):
        return (self.cleaned_data.get("transport_nationality") or "").strip().upper()

    def used_transit_office_fields(self) -> list[str]:
        """The office-of-transit inputs that were filled in, in route order: ``transit_offices[1]`` of
        the service is the second of these."""
        return [name for name in self.TRANSIT_OFFICE_FIELDS if self.cleaned_data.get(name)]

    def to_data(self, items: list[TransitItemData]) -> TransitData:
        """The ``TransitData`` for ``transit_lodge``: codes upper case, lists split, the principal and the
        carrier as parties."""
        data = self.cleaned_data
        principal = Trader.objects.filter(taxpayer_id=data["principal"]).select_related("country").first()
        carrier_name = data["carrier_name"].strip()
        carrier_identification = data["carrier_identification"].strip()
        return TransitData(
            lrn=data["lrn"].strip(),
            departure_office=data["departure_office"],
            destination_office=data["destination_office"],
            transit_offices=[data[name] for name in self.used_transit_office_fields()],
            principal=PartyData(
                identification=data["principal"],
                name=principal.name if principal else "",
                street=principal.address if principal else "",
                country=principal.country.code if principal else "",
            ),
            carrier=PartyData(identification=carrier_identification, name=carrier_name)
            if carrier_name or carrier_identification
            else None,
            transport_identity=data["transport_identity"].strip(),
            transport_nationality=data["transport_nationality"],
            containers=[container.upper() for container in _split(data["containers"])],
            seals=_split(data["seals"]),
            itinerary=[country.upper() for country in _split(data["itinerary"], COUNTRY_SEPARATORS)],
            time_limit=data["time_limit"],
            guarantee_reference=data["guarantee_reference"],
            previous_document=data["previous_document"].strip(),
            items=items,
        )


class TransitItemForm(forms.Form):
    """One row of the item grid. Every field is optional: the service names what is missing."""

    commodity_code = forms.CharField(
        label=_("Commodity code"),
        required=False,
        max_length=12,
        widget=forms.TextInput(attrs={"size": 11, "inputmode": "numeric", "autocomplete": "off"}),
    )
    description = forms.CharField(
        label=_("Description of goods"),
        required=False,
        widget=forms.TextInput(attrs={"size": 24, "autocomplete": "off"}),
    )
    packages_number = forms.IntegerField(
        label=_("Packages"),
        required=False,
        min_value=0,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "size": 5, "autocomplete": "off"}),
    )
    package_kind = forms.ChoiceField(label=_("Kind of packages"), required=False)
    gross_mass = _decimal(_("Gross mass (kg)"), size=9)
    net_mass = _decimal(_("Net mass (kg)"), size=9)
    value = _decimal(_("Value"), size=11)
    currency = forms.ChoiceField(label=_("Currency"), required=False)

    # The grid's columns, in Tab order.
    COLUMNS = [
        "commodity_code",
        "description",
        "packages_number",
        "package_kind",
        "gross_mass",
        "net_mass",
        "value",
        "currency",
    ]

    def __init__(self, *args, package_kinds=None, currencies=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["package_kind"].choices = package_kinds or [("", "—")]
        self.fields["currency"].choices = currencies or [("", "—")]

    def columns(self):
        return [self[name] for name in self.COLUMNS]

    def is_blank(self) -> bool:
        """True for a row left empty (dropped, not lodged)."""
        return not any(self.cleaned_data.get(name) not in (None, "") for name in self.COLUMNS)

    def to_item(self, number: int) -> TransitItemData:
        data = self.cleaned_data
        return TransitItemData(
            number=number,
            commodity_code=(data["commodity_code"] or "").strip(),
            description=(data["description"] or "").strip(),
            packages_number=data["packages_number"],
            package_kind=data["package_kind"] or "",
            gross_mass=data["gross_mass"],
            net_mass=data["net_mass"],
            value=data["value"],
            currency=data["currency"] or "",
        )


class BaseTransitItemFormSet(forms.BaseFormSet):
    """The item grid; the package kinds and currencies are read once for every row."""

    def get_form_kwargs(self, index):
        kwargs = super().get_form_kwargs(index)
        if not hasattr(self, "_choices"):
            self._choices = {
                "package_kinds": _code_choices(PackageKind.objects.filter(active=True).order_by("code")),
                "currencies": _currency_choices(),
            }
        return {**kwargs, **self._choices}

    def kept_forms(self) -> list:
        """The rows to lodge, in order, empty rows left out. (Call after ``is_valid``.)"""
        return [form for form in self.forms if not form.is_blank()]


TransitItemFormSet = forms.formset_factory(
    TransitItemForm,
    formset=BaseTransitItemFormSet,
    extra=0,
    max_num=MAX_ITEMS,
    validate_max=True,
    absolute_max=MAX_ITEMS,
)


def export_item_rows(declaration) -> list[dict]:
    """The items of an export declaration as rows of the grid: code, description, packages, masses, and
    the item price as the value, in the invoice currency."""
    currency = declaration.invoice_currency_id or ""
    return [
        {
            "commodity_code": item.commodity_code,
            "description": item.description,
            "packages_number": item.packages_number,
            "package_kind": item.package_kind_id or "",
            "gross_mass": _plain(item.gross_mass),
            "net_mass": _plain(item.net_mass),
            "value": _plain(item.invoice_price),
            "currency": currency if item.invoice_price is not None else "",
        }
        for item in declaration.items.order_by("number")
    ]


def errors_to_forms(errors, *, form, kept_forms) -> tuple[list[str], list[str]]:
    """Put each service ``FieldError`` next to its input. Returns (messages about the items as a whole,
    messages that fit no input).

    ``kept_forms`` are the grid rows sent to the service, so ``items[2]`` is ``kept_forms[2]``; the
    offices of transit were sent without their empty slots, so ``transit_offices[1]`` is the second
    slot filled in; a seal or a country of the itinerary is named in the message of its field.
    """
    grid, leftover = [], []
    transit_fields = form.used_transit_office_fields()
    seals = _split(form.cleaned_data.get("seals", ""))
    itinerary = _split(form.cleaned_data.get("itinerary", ""), COUNTRY_SEPARATORS)
    for error in errors:
        item = ITEM_PATH.match(error.field)
        indexed = INDEXED_PATH.match(error.field)
        if item:
            index, name = int(item.group(1)), item.group(2)
            if index >= len(kept_forms):
                grid.append(error.message)
                continue
            row = kept_forms[index]
            row.add_error(name if name in row.fields else None, error.message)
        elif error.field == "items":
            grid.append(error.message)
        elif (
            indexed and indexed.group(1) == "transit_offices" and int(indexed.group(2)) < len(transit_fields)
        ):
            form.add_error(transit_fields[int(indexed.group(2))], error.message)
        elif indexed and indexed.group(1) in ("seals", "itinerary"):
            name, index = indexed.group(1), int(indexed.group(2))
            values = seals if name == "seals" else itinerary
            value = values[index] if index < len(values) else ""
            form.add_error(name, f"{value}: {error.message}" if value else error.message)
        elif (
            error.field in EMPTY_CHOICE_MESSAGES
            and error.code in UNKNOWN_VALUE_CODES
            and not form.cleaned_data.get(error.field)
        ):
            form.add_error(error.field, str(EMPTY_CHOICE_MESSAGES[error.field]))
        elif error.field in form.fields:
            form.add_error(error.field, error.message)
        else:
            leftover.append(error.message)
    return grid, leftover


def field_path_label(path: str) -> str:
    """A ``FieldError`` path in words, for a list of problems (the upload page): ``items[1].gross_mass``
    is "Item 2: Gross mass (kg)"."""
    item = ITEM_PATH.match(path)
    if item:
        prefix = gettext("Item %(number)s") % {"number": int(item.group(1)) + 1}
        name = item.group(2)
        field = TransitItemForm.base_fields.get(name) if name else None
        return f"{prefix}: {field.label}" if field else prefix
    indexed = INDEXED_PATH.match(path)
    if indexed and indexed.group(1) == "transit_offices":
        return gettext("Office of transit %(number)s") % {"number": int(indexed.group(2)) + 1}
    if indexed and indexed.group(1) in TransitForm.base_fields:
        label = TransitForm.base_fields[indexed.group(1)].label
        return f"{label} {int(indexed.group(2)) + 1}"
    if path == "items":
        return gettext("Items")
    field = TransitForm.base_fields.get(path)
    return str(field.label) if field else path


class Cc015cUploadForm(forms.Form):
    """A CC015C message (NCTS phase 5 XML) to lodge the T1 it carries."""

    MAX_BYTES = 16 * 1024 * 1024

    message = forms.FileField(
        label=_("CC015C message (XML file)"),
        help_text=_("An NCTS phase 5 declaration data message (IE015), as your software exports it."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xml,application/xml,text/xml"}),
    )

    def clean_message(self):
        message = self.cleaned_data["message"]
        if message.size > self.MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(megabytes)s MB.")
                % {"megabytes": self.MAX_BYTES // (1024 * 1024)}
            )
        return message
