"""Portal forms of the declaration screens: the general segment, the item grid (a formset), documents,
and the declarant's requests (answer a query, amendment, cancellation).

The forms only parse what the user typed; the declaration services check codes and rules and answer
with ``FieldError`` paths, which ``errors_to_forms`` puts back next to the inputs they name.
"""

import re
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from customs.models import Currency, CustomsOffice, DocumentType, Incoterm, PackageKind, TransportMode
from declarations.choices import DeclarationType, FreightSplit, ValuationMethod
from declarations.services.drafts import MAX_ITEMS

MONEY_ATTRS = {"inputmode": "decimal", "size": 12, "autocomplete": "off"}


def _decimal(label, *, size=12):
    return forms.DecimalField(
        label=label,
        required=False,
        min_value=0,
        max_digits=18,
        decimal_places=6,
        widget=forms.TextInput(attrs={**MONEY_ATTRS, "size": size}),
    )


def _code(label, *, size=4, max_length=2):
    return forms.CharField(
        label=label,
        required=False,
        max_length=max_length,
        widget=forms.TextInput(attrs={"size": size, "autocomplete": "off", "class": "code-input"}),
    )


def _code_choices(queryset, *, blank=True):
    choices = [(entry.code, f"{entry.code} {entry}") for entry in queryset]
    return ([("", "—")] if blank else []) + choices


def _currency_choices():
    codes = Currency.objects.filter(active=True).order_by("code").values_list("code", flat=True)
    return [("", "—")] + [(code, code) for code in codes]


class DeclarationForm(forms.Form):
    """The general segment of a declaration. ``traders`` are those the user may declare for."""

    declaration_type = forms.ChoiceField(label=_("Type of declaration"), choices=DeclarationType.choices)
    office = forms.ChoiceField(label=_("Customs office"))
    trader = forms.ChoiceField(label=_("Trader (importer or exporter)"))
    lrn = forms.CharField(label=_("Your reference (LRN)"), max_length=35)
    counterparty_name = forms.CharField(label=_("Foreign party name"), max_length=255, required=False)
    counterparty_address = forms.CharField(label=_("Foreign party address"), max_length=255, required=False)
    counterparty_country = _code(_("Foreign party country"))
    dispatch_country = _code(_("Country of dispatch"))
    destination_country = _code(_("Country of destination"))
    incoterm = forms.ChoiceField(label=_("Delivery terms (Incoterm)"), required=False)
    delivery_place = forms.CharField(label=_("Delivery place"), max_length=100, required=False)
    transport_mode = forms.ChoiceField(label=_("Mode of transport at the border"), required=False)
    transport_identity = forms.CharField(
        label=_("Identity of the means of transport"), max_length=64, required=False
    )
    transport_nationality = _code(_("Nationality of the means of transport"))
    goods_location = forms.CharField(label=_("Location of goods"), max_length=100, required=False)
    invoice_amount = _decimal(_("Invoice amount"))
    invoice_currency = forms.ChoiceField(label=_("Invoice currency"), required=False)
    freight_amount = _decimal(_("Freight"))
    freight_currency = forms.ChoiceField(label=_("Freight currency"), required=False)
    insurance_amount = _decimal(_("Insurance"))
    insurance_currency = forms.ChoiceField(label=_("Insurance currency"), required=False)
    other_costs_amount = _decimal(_("Other costs"))
    other_costs_currency = forms.ChoiceField(label=_("Other costs currency"), required=False)
    deductions_amount = _decimal(_("Costs beyond the border (deducted)"))
    deductions_currency = forms.ChoiceField(label=_("Deductions currency"), required=False)
    freight_split = forms.ChoiceField(
        label=_("Split freight"), choices=FreightSplit.choices, initial=FreightSplit.PRICE
    )
    total_packages = forms.IntegerField(
        label=_("Total packages"),
        required=False,
        min_value=0,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "size": 6}),
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    FIELDSETS = [
        (_("Declaration"), ["declaration_type", "office", "trader", "lrn"]),
        (
            _("Foreign party and countries"),
            [
                "counterparty_name",
                "counterparty_address",
                "counterparty_country",
                "dispatch_country",
                "destination_country",
            ],
        ),
        (
            _("Delivery and transport"),
            [
                "incoterm",
                "delivery_place",
                "transport_mode",
                "transport_identity",
                "transport_nationality",
                "goods_location",
            ],
        ),
        (
            _("Invoice and costs"),
            [
                "invoice_amount",
                "invoice_currency",
                "freight_amount",
                "freight_currency",
                "insurance_amount",
                "insurance_currency",
                "other_costs_amount",
                "other_costs_currency",
                "deductions_amount",
                "deductions_currency",
                "freight_split",
                "total_packages",
            ],
        ),
    ]
    CODE_FIELDS = ["counterparty_country", "dispatch_country", "destination_country", "transport_nationality"]
    CURRENCY_FIELDS = [
        "invoice_currency",
        "freight_currency",
        "insurance_currency",
        "other_costs_currency",
        "deductions_currency",
    ]

    def __init__(self, *args, traders=(), trader_fixed=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["office"].choices = [("", "—")] + [
            (office.code, f"{office.code} {office}")
            for office in CustomsOffice.objects.filter(active=True).order_by("code")
        ]
        if trader_fixed is not None:
            # A draft keeps its trader: shown, not changeable.
            self.fields["trader"].choices = [(trader_fixed.taxpayer_id, self._trader_label(trader_fixed))]
            self.fields["trader"].disabled = True
            self.fields["trader"].initial = trader_fixed.taxpayer_id
        else:
            traders = list(traders)
            blank = [] if len(traders) == 1 else [("", "—")]
            self.fields["trader"].choices = blank + [
                (trader.taxpayer_id, self._trader_label(trader)) for trader in traders
            ]
        self.fields["incoterm"].choices = _code_choices(Incoterm.objects.filter(active=True).order_by("code"))
        self.fields["transport_mode"].choices = _code_choices(
            TransportMode.objects.filter(active=True).order_by("code")
        )
        currencies = _currency_choices()
        for name in self.CURRENCY_FIELDS:
            self.fields[name].choices = currencies

    @staticmethod
    def _trader_label(trader) -> str:
        return f"{trader.name} ({trader.taxpayer_id})"

    def fieldsets(self):
        return [(legend, [self[name] for name in names]) for legend, names in self.FIELDSETS]

    def to_data(self) -> dict:
        """The service's ``data`` dict: codes as strings (upper case), figures as Decimal or None."""
        data = {name: value for name, value in self.cleaned_data.items() if name != "version"}
        for name in self.CODE_FIELDS:
            data[name] = (data[name] or "").strip().upper()
        for name, value in list(data.items()):
            if isinstance(value, str) and name not in ("lrn",):
                data[name] = value.strip()
        return data


QUANTITY_UNITS = [("", "—"), ("item", _("pieces")), ("l", _("litres"))]


class ItemForm(forms.Form):
    """One row of the item grid. Every field is optional: a draft may be half filled."""

    commodity_code = forms.CharField(
        label=_("Commodity code"),
        required=False,
        max_length=10,
        widget=forms.TextInput(attrs={"size": 11, "inputmode": "numeric", "autocomplete": "off"}),
    )
    description = forms.CharField(
        label=_("Description of goods"),
        required=False,
        widget=forms.TextInput(attrs={"size": 24, "autocomplete": "off"}),
    )
    origin = _code(_("Origin"))
    preference_requested = forms.BooleanField(label=_("Preference"), required=False)
    procedure_code = _code(_("CPC"), size=5, max_length=4)
    packages_number = forms.IntegerField(
        label=_("Packages"),
        required=False,
        min_value=0,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "size": 5, "autocomplete": "off"}),
    )
    package_kind = forms.ChoiceField(label=_("Kind of packages"), required=False)
    gross_mass = _decimal(_("Gross mass (kg)"), size=9)
    net_mass = _decimal(_("Net mass (kg)"), size=9)
    quantity = _decimal(_("Supplementary quantity"), size=7)
    quantity_unit = forms.ChoiceField(label=_("Unit"), required=False, choices=QUANTITY_UNITS)
    invoice_price = _decimal(_("Item price"), size=11)
    valuation_method = forms.ChoiceField(
        label=_("Valuation method"),
        choices=ValuationMethod.choices,
        initial=ValuationMethod.TRANSACTION_VALUE,
        required=False,
    )

    # The grid's columns, in Tab order.
    COLUMNS = [
        "commodity_code",
        "description",
        "origin",
        "preference_requested",
        "procedure_code",
        "packages_number",
        "package_kind",
        "gross_mass",
        "net_mass",
        "quantity",
        "quantity_unit",
        "invoice_price",
        "valuation_method",
    ]

    def __init__(self, *args, package_kinds=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["package_kind"].choices = package_kinds or [("", "—")]

    def columns(self):
        """The row's bound fields in the grid's column order."""
        return [self[name] for name in self.COLUMNS]

    def clean(self):
        data = super().clean()
        if data.get("quantity") is not None and not data.get("quantity_unit"):
            self.add_error("quantity_unit", _("Choose the unit of the quantity."))
        return data

    def is_blank(self) -> bool:
        """True for a row left empty (it is dropped, not saved)."""
        data = self.cleaned_data
        return not any(
            data.get(name) not in (None, "", False)
            for name in self.COLUMNS
            if name not in ("valuation_method", "quantity_unit")
        )

    def to_item(self) -> dict:
        data = self.cleaned_data
        item = {
            "commodity_code": (data["commodity_code"] or "").strip(),
            "description": (data["description"] or "").strip(),
            "origin": (data["origin"] or "").strip().upper(),
            "preference_requested": bool(data["preference_requested"]),
            "procedure_code": (data["procedure_code"] or "").strip(),
            "packages_number": data["packages_number"],
            "package_kind": data["package_kind"] or "",
            "gross_mass": data["gross_mass"],
            "net_mass": data["net_mass"],
            "invoice_price": data["invoice_price"],
            "valuation_method": data["valuation_method"] or ValuationMethod.TRANSACTION_VALUE,
            "quantities": {},
        }
        if data.get("quantity") is not None and data.get("quantity_unit"):
            item["quantities"] = {data["quantity_unit"]: data["quantity"]}
        return item


class BaseItemFormSet(forms.BaseFormSet):
    """The item grid; each form gets the package kinds read once."""

    def get_form_kwargs(self, index):
        kwargs = super().get_form_kwargs(index)
        if not hasattr(self, "_package_kinds"):
            self._package_kinds = _code_choices(PackageKind.objects.filter(active=True).order_by("code"))
        kwargs["package_kinds"] = self._package_kinds
        return kwargs

    def kept_forms(self) -> list:
        """The rows to save, in order, empty rows left out. (Call after ``is_valid``.)"""
        return [form for form in self.forms if not form.is_blank()]


ItemFormSet = forms.formset_factory(
    ItemForm,
    formset=BaseItemFormSet,
    extra=0,
    max_num=MAX_ITEMS,
    validate_max=True,
    absolute_max=MAX_ITEMS,
)
ITEM_PREFIX = "items"


def item_initial(item) -> dict:
    """A stored item as the initial values of one row of the grid."""
    unit, quantity = "", None
    for key in ("item", "l"):
        if key in (item.quantities or {}):
            unit, quantity = key, Decimal(item.quantities[key])
            break
    return {
        "commodity_code": item.commodity_code,
        "description": item.description,
        "origin": item.origin_id or "",
        "preference_requested": item.preference_requested,
        "procedure_code": item.procedure_code_id or "",
        "packages_number": item.packages_number,
        "package_kind": item.package_kind_id or "",
        "gross_mass": _plain(item.gross_mass),
        "net_mass": _plain(item.net_mass),
        "quantity": _plain(quantity),
        "quantity_unit": unit,
        "invoice_price": _plain(item.invoice_price),
        "valuation_method": item.valuation_method,
    }


def _plain(value):
    """A stored decimal without its trailing zeros (1200.000000 -> 1200), as the user typed it."""
    if value is None:
        return None
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def declaration_initial(declaration) -> dict:
    initial = {
        "declaration_type": declaration.declaration_type,
        "office": declaration.office.code,
        "trader": declaration.trader.taxpayer_id,
        "lrn": declaration.lrn,
        "version": declaration.version,
    }
    for name in (
        "counterparty_name",
        "counterparty_address",
        "delivery_place",
        "transport_identity",
        "goods_location",
        "freight_split",
        "total_packages",
    ):
        initial[name] = getattr(declaration, name)
    for name in (
        DeclarationForm.CODE_FIELDS + DeclarationForm.CURRENCY_FIELDS + ["incoterm", "transport_mode"]
    ):
        initial[name] = getattr(declaration, f"{name}_id") or ""
    for name in ("invoice", "freight", "insurance", "other_costs", "deductions"):
        initial[f"{name}_amount"] = _plain(getattr(declaration, f"{name}_amount"))
    return initial


ITEM_PATH = re.compile(r"^items\[(\d+)\](?:\.(\w+))?$")
# Service item fields that are not columns of the grid but belong to one: shown on the nearest input.
ITEM_FIELD_ALIASES = {"quantities": "quantity", "additional_procedure_code": "procedure_code"}


def errors_to_forms(errors, *, form, formset, kept_forms) -> list[str]:
    """Put each service ``FieldError`` next to its input; return the messages that fit no input.

    ``kept_forms`` are the grid rows that were sent to the service, so ``items[2]`` is ``kept_forms[2]``.
    """
    leftover = []
    for error in errors:
        match = ITEM_PATH.match(error.field)
        if match:
            index, name = int(match.group(1)), match.group(2)
            if index >= len(kept_forms):
                leftover.append(error.message)
                continue
            row = kept_forms[index]
            name = ITEM_FIELD_ALIASES.get(name, name)
            row.add_error(name if name in row.fields else None, error.message)
        elif error.field in form.fields and error.field != "version":
            form.add_error(error.field, error.message)
        else:
            leftover.append(error.message)
    return leftover


class DocumentForm(forms.Form):
    """Attach a document (box 44) to the declaration or one item."""

    document_type = forms.ChoiceField(label=_("Document type"))
    reference = forms.CharField(label=_("Document reference"), max_length=64)
    issued_on = forms.DateField(
        label=_("Date of issue"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    item_number = forms.IntegerField(
        label=_("Item number"),
        required=False,
        min_value=1,
        help_text=_("Leave empty when the document covers every item."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "size": 4}),
    )
    file = forms.FileField(
        label=_("Scanned document (PDF or image)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/png,image/jpeg,image/tiff"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["document_type"].choices = [("", "—")] + [
            (entry.code, f"{entry.code} {entry}")
            for entry in DocumentType.objects.filter(active=True).order_by("code")
        ]


class ReasonForm(forms.Form):
    """An answer to a query, or the reason of a request (kept in the history)."""

    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))

    def __init__(self, *args, label=None, **kwargs):
        super().__init__(*args, **kwargs)
        if label:
            self.fields["reason"].label = label


class AmendmentForm(forms.Form):
    """A requested amendment: a new commodity code and item price per item, and the reason."""

    reason = forms.CharField(
        label=_("Reason for the amendment"), widget=forms.Textarea(attrs={"rows": 3, "cols": 60})
    )

    def __init__(self, *args, items=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.items = list(items)
        for item in self.items:
            self.fields[f"item_{item.number}_commodity_code"] = forms.CharField(
                label=_("Item %(n)s: commodity code") % {"n": item.number},
                max_length=10,
                initial=item.commodity_code,
                widget=forms.TextInput(attrs={"size": 11, "inputmode": "numeric"}),
            )
            self.fields[f"item_{item.number}_invoice_price"] = forms.DecimalField(
                label=_("Item %(n)s: item price") % {"n": item.number},
                min_value=0,
                max_digits=18,
                decimal_places=4,
                initial=_plain(item.invoice_price),
                widget=forms.TextInput(attrs=MONEY_ATTRS),
            )

    def rows(self):
        return [
            (item, self[f"item_{item.number}_commodity_code"], self[f"item_{item.number}_invoice_price"])
            for item in self.items
        ]

    def field_for_path(self, path: str):
        """The input of a service error path (``items[0].commodity_code``), or None."""
        match = ITEM_PATH.match(path)
        if match and match.group(2) in ("commodity_code", "invoice_price"):
            name = f"item_{int(match.group(1)) + 1}_{match.group(2)}"
            return name if name in self.fields else None
        return "reason" if path == "reason" else None

    def changes(self) -> dict:
        """``changes`` for ``declaration_request_amendment``: the full item list with the new values,
        and the invoice amount that follows the prices; empty when nothing changed."""
        from declarations.services.drafts import ITEM_PLAIN_FIELDS
        from declarations.services.validation import ITEM_CODE_FIELDS

        data = self.cleaned_data
        rows, changed = [], False
        for item in self.items:
            row = {name: getattr(item, name) for name in ITEM_PLAIN_FIELDS}
            row.update({name: getattr(item, f"{name}_id") or "" for name in ITEM_CODE_FIELDS})
            row["quantities"] = dict(item.quantities or {})
            code = data[f"item_{item.number}_commodity_code"].strip()
            price = data[f"item_{item.number}_invoice_price"]
            if code != item.commodity_code or price != item.invoice_price:
                changed = True
            row["commodity_code"], row["invoice_price"] = code, price
            rows.append(row)
        if not changed:
            return {}
        return {"items": rows, "invoice_amount": sum((row["invoice_price"] for row in rows), Decimal(0))}
