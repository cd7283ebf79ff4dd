"""The reader of ASYCUDA World XML declarations (root element ``ASYCUDA``).

``asycuda_read`` maps a file into the drafts' dict and says, in the report, where every value came from
and why every other value of the file was left out. A source is the element's path below the root, with
the item's index always written and the index of any other element that repeats among its siblings:
``Item[3]/Taxation/Taxation_line[2]/Duty_tax_amount``, ``Identification/Office_segment/...``.

What the file means, element by element (SAD boxes in brackets):
- the type [1] is ``Type_of_declaration`` + ``Declaration_gen_procedure_code`` (IM + 4 = IM4); a type
  Kerwen does not have (EX9) is taken from the first item's CPC, or left to the declarant;
- for an import the trader is the consignee [8] and the counterparty the exporter [2]; for an export
  the other way round. The counterparty's country is the trading country [11];
- amounts are in the ``Amount_foreign_currency`` of each ``Gs_*`` block, with its ``Currency_code``;
  the amount in national currency and the rate are ASYCUDA's own conversion, which Kerwen makes again
  at registration (the rates go to ``exchange_rates``, for comparison);
- ``Taxation_line`` and global taxes are ASYCUDA's assessment: ``file_taxes``, for comparison.

Versions differ in the case of a few tags (``Gs_External_freight``, ``Free_Text_1``) and in the segments
they carry (``Prev_decl``, ``Supplier_documents``, ``Suppliers_documents``, ``SW_scans_*``); empty
elements and elements holding ``<null/>`` mean "no value".
"""

import datetime
import re
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _
from lxml import etree

from declarations.choices import REQUESTED_PROCEDURES, DeclarationType, ValuationMethod
from declarations.exchange.base import (
    FileDocument,
    FileTaxLine,
    ImportedDeclaration,
    ImportReport,
    ImportUnreadable,
    PartyRef,
    draft_text_limits,
)

FORMAT = "asycuda"
COMMODITY_CODE_LENGTH = 10
DATE_FORMATS = ("%m/%d/%y", "%m/%d/%Y", "%Y-%m-%d")  # ASYCUDA World writes month/day/year
THOUSANDS = re.compile(r"-?\d{1,3}(,\d{3})+(\.\d+)?")
INDEX = re.compile(r"\[\d+\]")

# Names that the file writes next to a code Kerwen keeps (or that Kerwen's code lists name): Kerwen
# shows its own name of the code, so these are not reported one by one (paths without indices).
NAMES_OF_CODES = frozenset(
    {
        "Identification/Office_segment/Customs_Clearance_office_name",
        "General_information/Country/Export/Export_country_name",
        "General_information/Country/Destination/Destination_country_name",
        "Item/Packages/Kind_of_packages_name",
        "Item/Tarification/Supplementary_unit/Suppplementary_unit_name",
        "Item/Attached_documents/Attached_document_name",
        "SW_scans_general_segment/Document_type_name",
        "SW_scans_items/Document_type_name",
    }
)
CURRENCY_NAME = "/Currency_name"  # in every amount block: "No foreign currency", "Ska monedhe te huaj"...

# Header cost blocks (either case of a tag, by version) and the drafts' cost each one fills.
COST_BLOCKS = (
    ("freight", ("Valuation/Gs_external_freight", "Valuation/Gs_External_freight")),
    ("insurance", ("Valuation/Gs_insurance",)),
    ("other_costs", ("Valuation/Gs_other_cost",)),
    ("deductions", ("Valuation/Gs_deduction",)),
)
INTERNAL_FREIGHT = "Valuation/Gs_internal_freight"


def asycuda_read(tree) -> ImportedDeclaration:
    """An ASYCUDA World declaration (an lxml tree, or its root element) as an ``ImportedDeclaration``.

    Pure: no database. ``ImportUnreadable`` with ``wrong_format`` when the root is not ``ASYCUDA``, with
    ``no_items`` when the file has no ``Item``.
    """
    root = tree.getroot() if hasattr(tree, "getroot") else tree
    if root.tag != "ASYCUDA":
        message = _("This is not an ASYCUDA declaration: its root element is %(tag)s, not ASYCUDA.") % {
            "tag": root.tag
        }
        raise ImportUnreadable("wrong_format", message, [(root.sourceline or 0, message)])
    items = root.findall("Item")
    if not items:
        message = _("The ASYCUDA declaration has no item.")
        raise ImportUnreadable("no_items", message, [(root.sourceline or 0, message)])
    return _Reader(root).read(items)


def _text(element) -> str:
    """The element's text, stripped: "" for no element, an empty one or one holding ``<null/>``."""
    if element is None or len(element):
        return ""
    return (element.text or "").strip()


def _find(parent, *paths):
    """The first element of ``paths`` (alternatives, e.g. two spellings of a tag) that has a value."""
    if parent is None:
        return None
    for path in paths:
        element = parent.find(path)
        if _text(element):
            return element
    return None


MAX_FIGURE_CHARACTERS = 64
MAX_FIGURE_EXPONENT = 20  # the largest figure of a declaration is far below 10**20


def _one_line(text: str) -> str:
    """Runs of white space as one space: the files are pretty-printed inside their texts."""
    return " ".join(text.split())


def _decimal(text: str) -> Decimal | None:
    """A figure of the file; ``1,618`` has a thousands separator. None if it is not a number."""
    cleaned = text.replace(" ", "")
    if THOUSANDS.fullmatch(cleaned):
        cleaned = cleaned.replace(",", "")
    if len(cleaned) > MAX_FIGURE_CHARACTERS:
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    # An exponent such as 1e1000000 is a number, but no customs figure: refused before anything (int(),
    # abs(), a quantize) spends minutes or overflows on it.
    if not value.is_finite() or not -MAX_FIGURE_EXPONENT <= value.adjusted() <= MAX_FIGURE_EXPONENT:
        return None
    return value


def _date(text: str) -> datetime.date | None:
    for date_format in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, date_format).date()
        except ValueError:
            continue
    return None


def _tax_fields(line) -> dict[str, object]:
    """A tax line's children by meaning (code, base, rate, amount, mp), whatever their prefix is:
    ``Duty_tax_Base`` in an item, ``Global_tax_base`` (or ``Golbal_tax_MP``) in the global taxes."""
    fields = {}
    for child in line:
        if not isinstance(child.tag, str):
            continue
        name = child.tag.lower()
        for key in ("code", "base", "rate", "amount", "mp"):
            if name.endswith("_" + key) and key not in fields:
                fields[key] = _text(child)
    return fields


def _left_out_reasons() -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Why a value has no place in a draft: by the path's last element, else by the first prefix of the
    path that matches (paths without indices). Built per read, in the language of the read."""
    by_name = {
        "Amount_national_currency": _("Kerwen converts amounts itself; the national amount is not kept."),
        "Currency_rate": _("Kerwen converts at the rate in force on registration, not at the file's rate."),
    }
    computed = _("Kerwen computes this figure itself; the file's figure is not kept.")
    taxes = _("Kerwen computes the duties and taxes itself; the file's figures are kept for comparison.")
    licences = _("Kerwen checks licences as attached documents; it does not keep their write-off.")
    places = _("Kerwen records the place and date of lodgement itself.")
    transit = _("Kerwen keeps transit on its own transit declaration.")
    supplier = _("Kerwen does not keep the supplier apart from the counterparty.")
    item_costs = _("Kerwen spreads the declaration's costs over the items itself.")
    totals = _("A total of the file, kept for comparison: Kerwen computes it from the items.")
    containers = _("Kerwen does not keep containers on a declaration.")
    by_prefix = [
        ("Export_release/", _("Kerwen records the exit of the goods itself.")),
        ("Assessment_notice/", _("Kerwen makes its own assessment notice.")),
        ("Global_taxes/", taxes),
        ("Property/Forms/", _("Kerwen numbers the printed forms itself.")),
        ("Property/Nbers/Total_number_of_items", totals),
        ("Property/Nbers/", _("Kerwen does not keep loading lists.")),
        ("Property/Sad_flow", _("Kerwen takes the direction from the declaration type.")),
        ("Property/Place_of_declaration", places),
        ("Property/Date_of_declaration", places),
        ("Property/", _("This is a setting of the ASYCUDA screen, not part of the declaration.")),
        ("Identification/Type/Type_of_transit_document", transit),
        ("Identification/Manifest_reference_number", _("Kerwen does not keep the manifest reference.")),
        ("Identification/", _("Kerwen gives its own registration, assessment and receipt numbers.")),
        ("Traders/Financial/", _("Kerwen does not keep the financial party.")),
        ("Traders/", _("Kerwen has no place for this detail of the party.")),
        ("Declarant/Declarant_representative", _("Kerwen records the user who lodges.")),
        ("Declarant/", _("Kerwen has no place for this detail of the declarant.")),
        ("General_information/Country/Country_first_destination", _("Kerwen does not keep this country.")),
        ("General_information/Country/Country_of_origin_name", _("Kerwen keeps the origin per item.")),
        ("General_information/Country/", _("Kerwen does not keep regions of countries.")),
        ("General_information/Value_details", computed),
        ("General_information/", _("Kerwen has no free text on the general segment.")),
        ("Transport/Means_of_transport/Inland_mode_of_transport", _("Kerwen keeps the mode at the border.")),
        ("Transport/Means_of_transport/", _("Kerwen keeps the means of transport at the border.")),
        ("Transport/Container_flag", containers),
        ("Transport/Border_office/", _("Kerwen does not keep the office of entry or exit.")),
        ("Transport/Place_of_loading/", _("Kerwen does not keep the place of loading.")),
        ("Transport/Delivery_terms/", _("Kerwen keeps the Incoterm and its place only.")),
        ("Transport/", _("Kerwen does not keep this transport detail.")),
        ("Financial/Amounts/Totals_taxes", totals),
        ("Financial/Amounts/", taxes),
        ("Financial/", _("Kerwen does not keep payment details on a declaration.")),
        ("Warehouse/", _("Kerwen does not keep the warehouse and its time limit on a declaration.")),
        ("Transit/", transit),
        (INTERNAL_FREIGHT + "/", _("Kerwen has no internal freight.")),
        ("Valuation/Calculation_working_mode", _("This is a setting of ASYCUDA's calculation of the value.")),
        ("Valuation/Total", totals),
        ("Valuation/Weight/", totals),
        ("Valuation/", computed),
        ("Container/", containers),
        ("Prev_decl/", _("Kerwen does not keep the write-off of a previous declaration.")),
        ("Supplier_documents/", supplier),
        ("Suppliers_documents/", supplier),
        ("SW_scans", _("Kerwen keeps scanned documents as uploads.")),
        ("Item/IncoTerms/", _("Kerwen keeps the delivery terms on the declaration, not per item.")),
        ("Item/Tarification/HScode/", _("Kerwen's commodity code has no further national precision.")),
        ("Item/Tarification/Quota", _("Kerwen does not keep quota references on an item.")),
        ("Item/Tarification/Value_item", computed),
        ("Item/Tarification/Attached_doc_item", _("The item's documents are read one by one.")),
        ("Item/Tarification/Item_price", _("The item price was taken from the item's invoice amount.")),
        ("Item/Tarification/", _("Kerwen does not keep this tariff detail.")),
        ("Item/Goods_description/Description_of_goods", _("Kerwen shows the tariff's own description.")),
        ("Item/Goods_description/Country_of_origin_region", _("Kerwen does not keep the region of origin.")),
        ("Item/Previous_doc/", _("Kerwen does not keep a previous document on an item.")),
        ("Item/Free_", _("Kerwen has no free text on an item.")),
        ("Item/Taxation/", taxes),
        ("Item/Valuation_item/Item_Invoice/", _("Kerwen prices every item in the invoice currency.")),
        ("Item/Valuation_item/item_", item_costs),
        ("Item/Valuation_item/Market_valuer/", _("Kerwen does not keep a market valuation.")),
        ("Item/Valuation_item/", computed),
        ("Item/Attached_documents/Attached_document_from_rule", _("An ASYCUDA mark of a required document.")),
        ("Item/Suppliers_link/", _("Kerwen does not link items to supplier documents.")),
        ("Item/Licence_number", licences),
        ("Item/Amount_deducted_from_licence", licences),
        ("Item/Quantity_deducted_from_licence", licences),
        ("Item/write_off_unit/", _("Kerwen does not keep write-off units.")),
        ("", _("Kerwen has no place for this value.")),
    ]
    return by_name, by_prefix


class _Reader:
    """One read: the file's root, the report and what has been reported so far."""

    def __init__(self, root):
        self.root = root
        self.tree = root.getroottree()
        self.report = ImportReport()
        self.reported: set = set()  # elements already mapped or left out (lxml keeps their proxies)
        self.data: dict = {}
        self.parties: list[PartyRef] = []
        self.documents: list[FileDocument] = []
        self.file_taxes: list[FileTaxLine] = []
        self.exchange_rates: dict[str, Decimal] = {}
        self.totals: dict = {}
        self.office_code = ""
        self.direction = "IM"

    # -- the report --------------------------------------------------------------------------------

    def source(self, element) -> str:
        path = self.tree.getpath(element)[len("/ASYCUDA/") :]
        if path == "Item" or path.startswith("Item/"):  # a single item: write its index all the same
            path = "Item[1]" + path[4:]
        return path

    def mark(self, field_name: str, element) -> None:
        self.reported.add(element)
        self.report.map(field_name, self.source(element), _text(element))

    def drop(self, element, reason: str) -> None:
        self.reported.add(element)
        self.report.leave_out(self.source(element), _text(element), reason)

    def put(self, target: dict, key: str, field_name: str, element, value) -> None:
        target[key] = value
        self.mark(field_name, element)

    def not_a_number(self, field_name: str, element) -> None:
        value = _text(element)
        self.drop(element, _("This is not a number."))
        self.report.flag(
            field_name, value, "not_a_number", _("The file gives %(value)s, not a number.") % {"value": value}
        )

    # -- typed values ------------------------------------------------------------------------------

    def code(self, target, key, field_name, element) -> str:
        if element is None:
            return ""
        value = _text(element).upper()
        self.put(target, key, field_name, element, value)
        return value

    def text(self, target, key, field_name, elements, separator=" ") -> None:
        """A text field from one or more elements, joined; cut to the model's length, and flagged then."""
        elements = [element for element in elements if element is not None]
        if not elements:
            return
        target[key] = self.cut(
            field_name, key, separator.join(_one_line(_text(element)) for element in elements)
        )
        for element in elements:
            self.mark(field_name, element)

    def figure(self, target, key, field_name, element) -> Decimal | None:
        if element is None:
            return None
        value = _decimal(_text(element))
        if value is None:
            self.not_a_number(field_name, element)
            return None
        self.put(target, key, field_name, element, value)
        return value

    def count(self, target, key, field_name, element) -> int | None:
        if element is None:
            return None
        value = _decimal(_text(element))
        if value is None:
            self.not_a_number(field_name, element)
            return None
        if value < 0 or value != value.to_integral_value():
            self.drop(element, _("A number of packages is a whole number."))
            self.report.flag(
                field_name,
                _text(element),
                "not_a_whole_number",
                _("The file gives %(value)s packages, not a whole number.") % {"value": _text(element)},
            )
            return None
        self.put(target, key, field_name, element, int(value))
        return int(value)

    def rate(self, block) -> None:
        """The block's currency rate, if the file gives one, into ``exchange_rates`` (first one wins)."""
        currency = _text(block.find("Currency_code")).upper() if block is not None else ""
        rate = _decimal(_text(block.find("Currency_rate"))) if currency else None
        if rate is not None and rate > 0:
            self.exchange_rates.setdefault(currency, rate)

    # -- the read ----------------------------------------------------------------------------------

    def read(self, items) -> ImportedDeclaration:
        self.read_type()
        self.read_parties()
        self.read_places_and_transport()
        self.read_valuation()
        self.read_totals(items)
        self.read_reference()
        self.data["items"] = [self.read_item(number, item) for number, item in enumerate(items, 1)]
        self.read_general_documents()
        self.read_global_taxes()
        self.leave_out_the_rest()
        return ImportedDeclaration(
            format=FORMAT,
            data=self.data,
            office_code=self.office_code,
            parties=self.parties,
            documents=self.documents,
            file_taxes=self.file_taxes,
            exchange_rates=self.exchange_rates,
            totals=self.totals,
            report=self.report,
        )

    def read_type(self) -> None:
        root = self.root
        office = _find(root, "Identification/Office_segment/Customs_clearance_office_code")
        if office is not None:
            self.office_code = _text(office).upper()
            self.mark("office", office)
        kind = _find(root, "Identification/Type/Type_of_declaration")
        procedure = _find(root, "Identification/Type/Declaration_gen_procedure_code")
        given = (_text(kind) + _text(procedure)).upper()
        if given in DeclarationType.values:
            self.data["declaration_type"] = given
            for element in (kind, procedure):
                if element is not None:
                    self.mark("declaration_type", element)
        else:
            for element in (kind, procedure):
                if element is not None:
                    self.drop(element, _("Kerwen has no declaration type %(type)s.") % {"type": given})
            cpc = _find(root, "Item/Tarification/Extended_customs_procedure")
            requested = _text(cpc)[:2]
            derived = [code for code, procedures in REQUESTED_PROCEDURES.items() if requested in procedures]
            if derived:
                self.data["declaration_type"] = str(derived[0])
                self.mark("declaration_type", cpc)
            else:
                self.report.flag(
                    "declaration_type",
                    given,
                    "unknown_type",
                    _(
                        "Neither the file's type %(type)s nor its procedure code gives a Kerwen declaration"
                        " type: choose the type."
                    )
                    % {"type": given or "-"},
                )
        if "declaration_type" in self.data:
            self.direction = self.data["declaration_type"][:2]
        elif _text(kind).upper() in ("IM", "EX"):
            self.direction = _text(kind).upper()
        else:
            self.direction = "EX" if _text(root.find("Property/Sad_flow")).upper() == "E" else "IM"

    def read_parties(self) -> None:
        root = self.root
        own, other = ("Consignee", "Exporter") if self.direction == "IM" else ("Exporter", "Consignee")
        code = _find(root, f"Traders/{own}/{own}_code")
        name = _find(root, f"Traders/{own}/{own}_name")
        if code is not None or name is not None:
            self.parties.append(self.party("trader", code, name))
        code = _find(root, "Declarant/Declarant_code")
        name = _find(root, "Declarant/Declarant_name")
        if code is not None or name is not None:
            self.parties.append(self.party("declarant", code, name))

        code = _find(root, f"Traders/{other}/{other}_code")
        name = _find(root, f"Traders/{other}/{other}_name")
        country = _find(root, "General_information/Country/Trading_country")
        if name is not None:  # ASYCUDA writes the name on the first line, the address on the others
            lines = [_one_line(line) for line in _text(name).splitlines() if line.strip()]
            self.data["counterparty_name"] = self.cut("counterparty_name", "counterparty_name", lines[0])
            self.mark("counterparty_name", name)
            if len(lines) > 1:
                self.data["counterparty_address"] = self.cut(
                    "counterparty_address", "counterparty_address", ", ".join(lines[1:])
                )
                self.mark("counterparty_address", name)
        if code is not None:
            self.mark("counterparty", code)
        self.code(self.data, "counterparty_country", "counterparty_country", country)
        if code is not None or name is not None:
            self.parties.append(
                PartyRef(
                    role="counterparty",
                    code=_text(code).upper(),
                    name=self.data.get("counterparty_name", ""),
                    address=self.data.get("counterparty_address", ""),
                    country=self.data.get("counterparty_country", ""),
                )
            )

    def cut(self, field_name: str, key: str, value: str) -> str:
        """A text cut to the model's length of ``key``, and flagged then."""
        limit = draft_text_limits().get(key)
        if limit and len(value) > limit:
            self.report.flag(
                field_name,
                value,
                "too_long",
                _("The file's text is longer than %(limit)s characters; the rest was cut.")
                % {"limit": limit},
            )
            return value[:limit]
        return value

    def party(self, role: str, code, name) -> PartyRef:
        """A trader or the declarant: code and name (first line), address (the other lines)."""
        lines = [_one_line(line) for line in _text(name).splitlines() if line.strip()]
        for element in (code, name):
            if element is not None:
                self.mark(role, element)
        return PartyRef(
            role=role, code=_text(code).upper(), name=lines[0] if lines else "", address=", ".join(lines[1:])
        )

    def read_places_and_transport(self) -> None:
        root, data = self.root, self.data
        country = "General_information/Country/"
        self.code(
            data, "dispatch_country", "dispatch_country", _find(root, country + "Export/Export_country_code")
        )
        destination = _find(root, country + "Destination/Destination_country_code")
        self.code(data, "destination_country", "destination_country", destination)

        means = "Transport/Means_of_transport/"
        border, departure = means + "Border_information/", means + "Departure_arrival_information/"
        self.code(data, "transport_mode", "transport_mode", _find(root, border + "Mode"))
        identity = _find(root, border + "Identity", departure + "Identity")
        self.text(data, "transport_identity", "transport_identity", [identity])
        nationality = _find(root, border + "Nationality", departure + "Nationality")
        self.code(data, "transport_nationality", "transport_nationality", nationality)

        # The delivery terms of the declaration; a version that has them per item only: the first item's.
        incoterm = _find(root, "Transport/Delivery_terms/Code", "Item/IncoTerms/Code")
        self.code(data, "incoterm", "incoterm", incoterm)
        place = _find(root, "Transport/Delivery_terms/Place", "Item/IncoTerms/Place")
        self.text(data, "delivery_place", "delivery_place", [place])
        self.text(data, "goods_location", "goods_location", [_find(root, "Transport/Location_of_goods")])

    def read_valuation(self) -> None:
        root, data = self.root, self.data
        invoice = root.find("Valuation/Gs_Invoice")
        amount = _find(invoice, "Amount_foreign_currency", "Amount_national_currency")
        self.figure(data, "invoice_amount", "invoice_amount", amount)
        currency = self.code(data, "invoice_currency", "invoice_currency", _find(invoice, "Currency_code"))
        if amount is not None and not currency:
            self.report.flag(
                "invoice_currency",
                "",
                "missing_currency",
                _("The file gives the invoice amount without its currency: choose the currency."),
            )
        self.rate(invoice)

        for cost, paths in COST_BLOCKS:
            block = next((root.find(path) for path in paths if root.find(path) is not None), None)
            self.read_cost(cost, block)
            self.rate(block)

        internal = root.find(INTERNAL_FREIGHT)
        self.rate(internal)
        amount = _decimal(_text(_find(internal, "Amount_foreign_currency")))
        if amount:
            self.report.flag(
                "other_costs_amount",
                amount,
                "internal_freight",
                _(
                    "The file has an internal freight of %(amount)s %(currency)s: add it to the other costs"
                    " if it belongs in the customs value."
                )
                % {"amount": amount, "currency": _text(_find(internal, "Currency_code")).upper()},
            )

    def read_cost(self, cost: str, block) -> None:
        """A cost of the declaration; a zero amount is no cost, an amount without currency is not kept."""
        amount_element = _find(block, "Amount_foreign_currency", "Amount_national_currency")
        currency_element = _find(block, "Currency_code")
        if amount_element is None:
            return
        amount = _decimal(_text(amount_element))
        if amount is None:
            self.not_a_number(f"{cost}_amount", amount_element)
        elif amount == 0:
            for element in (amount_element, currency_element):
                if element is not None:
                    self.drop(element, _("The amount is zero: there is no such cost."))
        elif currency_element is None:
            self.drop(amount_element, _("The file gives this amount without its currency."))
            self.report.flag(
                f"{cost}_amount",
                _text(amount_element),
                "missing_currency",
                _("The file gives an amount of %(amount)s without its currency: enter this cost yourself.")
                % {"amount": _text(amount_element)},
            )
        else:
            self.put(self.data, f"{cost}_amount", f"{cost}_amount", amount_element, amount)
            self.code(self.data, f"{cost}_currency", f"{cost}_currency", currency_element)

    def read_totals(self, items) -> None:
        """The file's own header figures, for comparison; the total of packages is also the draft's."""
        root, totals = self.root, self.totals
        declared = _find(root, "Property/Nbers/Total_number_of_items")
        number = _decimal(_text(declared))
        totals["items"] = int(number) if number is not None else None
        if totals["items"] != len(items):
            self.report.flag(
                "items",
                _text(declared),
                "item_count_differs",
                _("The file says it has %(declared)s items, but it has %(found)s.")
                % {"declared": _text(declared) or "-", "found": len(items)},
            )
        totals["packages"] = self.count(
            self.data,
            "total_packages",
            "total_packages",
            _find(root, "Property/Nbers/Total_number_of_packages"),
        )
        totals["invoice_amount"] = _decimal(
            _text(
                _find(root, "Valuation/Total/Total_invoice", "Valuation/Gs_Invoice/Amount_foreign_currency")
            )
        )
        totals["invoice_currency"] = self.data.get("invoice_currency", "")
        totals["gross_mass"] = _decimal(
            _text(_find(root, "Valuation/Weight/Gross_weight", "Valuation/Total/Total_weight"))
        )
        totals["customs_value"] = _decimal(_text(_find(root, "Valuation/Total_CIF")))  # national currency
        totals["taxes"] = _decimal(_text(_find(root, "Financial/Amounts/Totals_taxes")))

    def read_reference(self) -> None:
        """The LRN: the declarant's reference, else the file's registration (or assessment) number."""
        reference = _find(self.root, "Declarant/Reference/Number")
        if reference is not None:
            self.text(self.data, "lrn", "lrn", [reference])
            return
        for segment in ("Identification/Registration", "Identification/Assessment"):
            number = _find(self.root, segment + "/Number")
            if number is None:
                continue
            serial = _find(self.root, segment + "/Serial_number")
            day = _find(self.root, segment + "/Date")
            year = _date(_text(day)) if day is not None else None
            parts = [self.office_code, str(year.year) if year else "", _text(serial).upper(), _text(number)]
            self.data["lrn"] = self.cut("lrn", "lrn", " ".join(part for part in parts if part))
            for element in (number, serial, day if year else None):
                if element is not None:
                    self.mark("lrn", element)
            return

    def read_item(self, number: int, item) -> dict:
        row: dict = {}

        def field(key):
            return f"items[{number}].{key}"

        code = _find(item, "Tarification/HScode/Commodity_code")
        precision = _find(item, "Tarification/HScode/Precision_1")
        if code is not None or precision is not None:
            given = _text(code) + _text(precision)
            digits = "".join(character for character in given if character.isdigit())
            if len(digits) > COMMODITY_CODE_LENGTH:
                self.report.flag(
                    field("commodity_code"),
                    digits,
                    "commodity_code_too_long",
                    _("The commodity code %(code)s has more than 10 digits; the first 10 were kept.")
                    % {"code": digits},
                )
            elif digits != given.replace(" ", "").replace(".", ""):
                self.report.flag(
                    field("commodity_code"),
                    given,
                    "not_a_commodity_code",
                    _("The commodity code %(code)s has characters other than digits.") % {"code": given},
                )
            row["commodity_code"] = digits[:COMMODITY_CODE_LENGTH]
            for element in (code, precision):
                if element is not None:
                    self.mark(field("commodity_code"), element)

        description = _find(
            item, "Goods_description/Commercial_Description", "Goods_description/Description_of_goods"
        )
        self.text(row, "description", field("description"), [description])
        self.code(row, "origin", field("origin"), _find(item, "Goods_description/Country_of_origin_code"))
        preference = _find(item, "Tarification/Preference_code")
        if preference is not None:
            self.put(row, "preference_requested", field("preference_requested"), preference, True)
        self.code(
            row,
            "procedure_code",
            field("procedure_code"),
            _find(item, "Tarification/Extended_customs_procedure"),
        )
        additional = _find(item, "Tarification/National_customs_procedure")
        self.code(row, "additional_procedure_code", field("additional_procedure_code"), additional)

        self.count(
            row, "packages_number", field("packages_number"), _find(item, "Packages/Number_of_packages")
        )
        self.code(row, "package_kind", field("package_kind"), _find(item, "Packages/Kind_of_packages_code"))
        marks = [_find(item, "Packages/Marks1_of_packages"), _find(item, "Packages/Marks2_of_packages")]
        self.text(row, "marks", field("marks"), marks)
        self.figure(
            row, "gross_mass", field("gross_mass"), _find(item, "Valuation_item/Weight_itm/Gross_weight_itm")
        )
        self.figure(
            row, "net_mass", field("net_mass"), _find(item, "Valuation_item/Weight_itm/Net_weight_itm")
        )
        self.read_quantities(row, field("quantities"), item)
        self.read_price(row, field("invoice_price"), item)

        method = _find(item, "Tarification/Valuation_method_code")
        if method is not None and _text(method) in ValuationMethod.values:
            self.put(row, "valuation_method", field("valuation_method"), method, _text(method))
        elif method is not None:
            self.drop(method, _("Kerwen has no valuation method %(code)s.") % {"code": _text(method)})
            self.report.flag(
                field("valuation_method"),
                _text(method),
                "unknown_code",
                _("The valuation method %(code)s is not one of 1 to 6: choose the method.")
                % {"code": _text(method)},
            )

        for document in item.findall("Attached_documents"):
            self.document(
                number,
                _find(document, "Attached_document_code"),
                _find(document, "Attached_document_reference"),
                _find(document, "Attached_document_date"),
            )
        for line in item.findall("Taxation/Taxation_line"):
            self.tax_line(number, line)
        for block in item.iterfind("Valuation_item/*"):
            if len(block):  # an amount block: Item_Invoice, item_external_freight...
                self.rate(block)
        return row

    def read_quantities(self, row: dict, field_name: str, item) -> None:
        quantities: dict[str, Decimal] = {}
        for unit in item.findall("Tarification/Supplementary_unit"):
            code = _find(unit, "Suppplementary_unit_code", "Supplementary_unit_code")
            quantity = _find(unit, "Suppplementary_unit_quantity", "Supplementary_unit_quantity")
            if code is None and quantity is None:
                continue
            if code is None or quantity is None:
                self.drop(
                    code if quantity is None else quantity, _("A quantity needs both its unit and a figure.")
                )
                continue
            value = _decimal(_text(quantity))
            unit_code = _text(code).upper()
            if value is None:
                self.not_a_number(field_name, quantity)
                self.drop(code, _("This unit's quantity is not a number."))
            elif unit_code in quantities:
                self.drop(quantity, _("The file gives this unit twice; the first quantity was kept."))
                self.drop(code, _("The file gives this unit twice; the first quantity was kept."))
            else:
                quantities[unit_code] = value
                self.mark(field_name, code)
                self.mark(field_name, quantity)
        if quantities:
            row["quantities"] = quantities

    def read_price(self, row: dict, field_name: str, item) -> None:
        """The item price in the invoice currency: the item's invoice amount, else Item_price."""
        invoice = item.find("Valuation_item/Item_Invoice")
        amount = _find(invoice, "Amount_foreign_currency")
        price = _find(item, "Tarification/Item_price")
        used = amount if amount is not None else price
        value = self.figure(row, "invoice_price", field_name, used)
        other = price if used is amount else None
        if value is not None and other is not None and _decimal(_text(other)) != value:
            self.report.flag(
                field_name,
                _text(other),
                "values_differ",
                _("The item's Item_price %(price)s differs from its invoice amount %(amount)s.")
                % {"price": _text(other), "amount": value},
            )
        currency = _text(_find(invoice, "Currency_code")).upper()
        if value is not None and currency and currency != self.data.get("invoice_currency", currency):
            self.report.flag(
                field_name,
                currency,
                "currency_differs",
                _("The item is priced in %(currency)s, not in the invoice currency.")
                % {"currency": currency},
            )

    def document(self, item_number, code, reference, issued, item_element=None) -> None:
        if code is None and reference is None:
            return
        field_name = f"documents[{len(self.documents) + 1}]"
        for name, element in (
            ("document_type", code),
            ("reference", reference),
            ("item_number", item_element),
        ):
            if element is not None:
                self.mark(f"{field_name}.{name}", element)
        issued_on = _date(_text(issued)) if issued is not None else None
        if issued is not None and issued_on is None:
            self.drop(issued, _("This is not a date."))
            self.report.flag(
                field_name + ".issued_on",
                _text(issued),
                "not_a_date",
                _("The file gives %(value)s, not a date.") % {"value": _text(issued)},
            )
        elif issued is not None:
            self.mark(field_name + ".issued_on", issued)
        self.documents.append(
            FileDocument(
                item_number=item_number,
                document_type=_text(code).upper(),
                reference=self.cut(field_name + ".reference", "reference", _one_line(_text(reference))),
                issued_on=issued_on,
            )
        )

    def read_general_documents(self) -> None:
        """Documents of the declaration: the supplier's invoice (``Suppliers_documents``) and scans."""
        for supplier in self.root.findall("Suppliers_documents"):
            self.document(
                None,
                _find(supplier, "Suppliers_document_type_code"),
                _find(supplier, "Suppliers_document_invoice_nbr"),
                _find(supplier, "Suppliers_document_date"),
            )
        for segment in ("SW_scans_general_segment", "SW_scans_items"):
            for scan in self.root.findall(segment):
                link = _find(scan, "Item_number")
                number = _decimal(_text(link))
                self.document(
                    int(number) if number is not None and number > 0 else None,
                    _find(scan, "Document_type_code"),
                    _find(scan, "Document_reference"),
                    _find(scan, "Document_reference_date"),
                    item_element=link,
                )

    def tax_line(self, item_number, line) -> None:
        fields = _tax_fields(line)
        if fields.get("code"):
            self.file_taxes.append(
                FileTaxLine(
                    item_number=item_number,
                    tax_code=str(fields["code"]).upper(),
                    base=_decimal(str(fields.get("base", ""))),
                    rate=str(fields.get("rate", "")),
                    amount=_decimal(str(fields.get("amount", ""))),
                    payment_mode=str(fields.get("mp", "")),
                )
            )

    def read_global_taxes(self) -> None:
        """Global taxes: every element under ``Global_taxes`` that holds a tax code."""
        segment = self.root.find("Global_taxes")
        if segment is None:
            return
        for line in segment.iter(etree.Element):
            if line is not segment and any(
                isinstance(child.tag, str) and child.tag.lower().endswith("_code") for child in line
            ):
                self.tax_line(None, line)

    def leave_out_the_rest(self) -> None:
        """Every value of the file not reported yet is left out, with the reason of its path."""
        reasons = _left_out_reasons()
        reason_of_path: dict[str, str | None] = {}  # None: a name of a code, not reported
        for element in self.root.iter(etree.Element):
            if len(element) or element in self.reported:
                continue
            value = (element.text or "").strip()
            if not value:
                continue
            source = self.source(element)
            path = INDEX.sub("", source)
            if path not in reason_of_path:
                reason_of_path[path] = _reason(path, reasons)
            if reason_of_path[path] is not None:
                self.report.leave_out(source, value, reason_of_path[path])


def _reason(path: str, reasons) -> str | None:
    """The reason to leave out a value at ``path`` (without indices); None for a name of a code."""
    if path in NAMES_OF_CODES or path.endswith(CURRENCY_NAME):
        return None
    by_name, by_prefix = reasons
    name = path.rsplit("/", 1)[-1]
    if name in by_name:
        return by_name[name]
    return next(reason for prefix, reason in by_prefix if path.startswith(prefix))
