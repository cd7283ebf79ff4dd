"""Reading a WCO DM 3.6 declaration into an ``ImportedDeclaration`` (see the package's docstring)."""

import datetime
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _
from lxml import etree

from customs.xmlsafe import xml_validate
from declarations.choices import REQUESTED_PROCEDURES, DeclarationType, ValuationMethod, direction_of
from declarations.exchange.base import (
    FileDocument,
    ImportedDeclaration,
    ImportReport,
    ImportUnreadable,
    PartyRef,
    draft_text_limits,
)
from declarations.exchange.wcodm.common import (
    COST_CODES,
    DEC_DS_NS,
    MASS_UNITS,
    MD_NS,
    NO_PREFERENCE,
    UNITS_BY_CODE,
    VALUE_ATTRIBUTES,
    XSI_NS,
    _element_paths,
    _is_element,
    _local,
    _q,
    _reason_for,
    _text,
    _value_with_qualifiers,
    wcodm_cancel_schema,
    wcodm_schema,
)

MAX_FIGURE_CHARACTERS = 64


class _Reader:
    """One reading: the report, the paths of the file's elements, and the helpers that map a value or
    leave it out by its element, so that every entry names where the value was."""

    def __init__(self, declaration):
        self.declaration = declaration
        self.paths = _element_paths(declaration)
        self.report = ImportReport()
        self.reported: set[str] = set()

    def path(self, element) -> str:
        return self.paths[element]

    def find(self, parent, *names):
        element = parent
        for name in names:
            if element is None:
                return None
            element = element.find(name if name.startswith("{") else _q(name))
        return element

    def find_all(self, parent, name) -> list:
        return [] if parent is None else parent.findall(_q(name))

    def text(self, parent, *names) -> tuple:
        element = self.find(parent, *names)
        return element, _text(element)

    def map(self, field_name: str, element, value=None) -> None:
        path = self.path(element)
        self.report.map(field_name, path, _text(element) if value is None else value)
        self.reported.add(path)

    def leave(self, element, reason: str) -> None:
        """Leave out ``element``'s value, or every value under it."""
        for node in element.iter():
            if not _is_element(node):
                continue
            if len(node) == 0 and _text(node):
                path = self.path(node)
                if path not in self.reported:
                    self.report.leave_out(path, _value_with_qualifiers(node), str(reason))
                    self.reported.add(path)

    def fit(self, field_name: str, value: str, limit_name: str | None = None) -> str:
        """``value`` cut to Kerwen's length for the field, flagged when it had to be cut."""
        limit = draft_text_limits().get(limit_name or field_name.rsplit(".", 1)[-1])
        if limit is None or len(value) <= limit:
            return value
        self.report.flag(
            field_name,
            value,
            "too_long",
            _("Kerwen keeps %(limit)s characters here: the value was cut.") % {"limit": limit},
        )
        return value[:limit]

    def decimal(self, field_name: str, element) -> Decimal | None:
        text = _text(element)
        if not text:
            return None
        if len(text) > MAX_FIGURE_CHARACTERS:  # a valid xs:decimal may have a million digits
            self.report.flag(
                field_name, text[:40] + "…", "out_of_range", _("Too large a figure: left empty.")
            )
            return None
        try:
            return Decimal(text)
        except InvalidOperation:  # the schema admits only decimals; kept for a file read without it
            self.report.flag(field_name, text, "not_a_number", _("This is not a number."))
            return None

    def integer(self, field_name: str, element) -> int | None:
        number = self.decimal(field_name, element)
        if number is None:
            return None
        if number != number.to_integral_value():
            self.report.flag(
                field_name, _text(element), "not_a_whole_number", _("This is not a whole number.")
            )
            return None
        return int(number)

    def sweep(self) -> None:
        """Leave out, with the reason of its path, every value the mapping did not report; and the
        attributes that do not travel with a value."""
        for element in self.declaration.iter():
            if not _is_element(element) or element is self.declaration:
                continue
            path = self.paths[element]
            if len(element) == 0 and _text(element) and path not in self.reported:
                self.report.leave_out(path, _value_with_qualifiers(element), _reason_for(path))
                self.reported.add(path)
            for name, value in element.attrib.items():
                qualified = etree.QName(name)
                if qualified.namespace == XSI_NS or (not qualified.namespace and name in VALUE_ATTRIBUTES):
                    continue
                attribute_path = f"{path}/@{qualified.localname}"
                if attribute_path not in self.reported and value.strip():
                    self.report.leave_out(attribute_path, value, _reason_for(path))
                    self.reported.add(attribute_path)
        # In the file's order, wherever the mapping left a value out.
        order = {
            self.paths[node]: position
            for position, node in enumerate(self.declaration.iter())
            if _is_element(node)
        }
        self.report.left_out.sort(key=lambda entry: order.get(entry.source.split("/@")[0], len(order)))


def _declaration_element(root):
    """The ``Declaration`` element: the root, or the child of the ``md:MetaData`` wrapper."""
    if root.tag == _q("Declaration"):
        return root
    if root.tag == f"{{{MD_NS}}}MetaData":
        declaration = root.find(_q("Declaration"))
        if declaration is not None:
            return declaration
        raise ImportUnreadable(
            "not_a_declaration",
            _("The WCO DM message holds no declaration (it may be a response or a notification)."),
        )
    raise ImportUnreadable(
        "wrong_format",
        _("This is not a WCO DM declaration: its root element is %(root)s.") % {"root": _local(root)},
    )


def _validate(tree) -> None:
    """Raise ``schema_invalid`` unless the file follows the submission schema (a cancellation may follow
    the cancellation schema instead)."""
    problems = xml_validate(tree, wcodm_schema())
    if not problems:
        return
    if not xml_validate(tree, wcodm_cancel_schema()):
        return
    first = problems[0]
    raise ImportUnreadable(
        "schema_invalid",
        _("The file does not follow the WCO Data Model 3.6 declaration schema: line %(line)s: %(message)s")
        % {"line": first.line, "message": first.message},
        problems=[(problem.line, problem.message) for problem in problems],
    )


def _declaration_type(direction: str, cpc: str) -> str:
    """The Kerwen model code whose requested procedures admit ``cpc`` (in ``direction`` when known)."""
    requested = cpc[:2]
    candidates = [
        DeclarationType(model).value
        for model, procedures in REQUESTED_PROCEDURES.items()
        if requested in procedures
    ]
    candidates = [code for code in candidates if not direction or direction_of(code) == direction]
    return candidates[0] if len(candidates) == 1 else ""


def _procedures(reader: _Reader, item) -> tuple:
    """(CPC element list, CPC, [additional procedure elements]) of an item: the procedure is the
    GovernmentProcedure with a previous code (or a 2- or 4-character code), the additional procedures are
    the 3-character codes."""
    procedure_elements, cpc, additional = [], "", []
    for procedure in reader.find_all(item, "GovernmentProcedure"):
        current, current_text = reader.text(procedure, "CurrentCode")
        previous, previous_text = reader.text(procedure, "PreviousCode")
        if not cpc and (previous_text or len(current_text) in (2, 4)):
            cpc = current_text + previous_text
            procedure_elements = [element for element in (current, previous) if element is not None]
        elif current_text and len(current_text) == 3 and not previous_text:
            additional.append(current)
    return procedure_elements, cpc, additional


def _date_of(reader: _Reader, field_name: str, element) -> datetime.date | None:
    text = _text(element)
    try:
        return datetime.date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        reader.report.flag(field_name, text, "not_a_date", _("This is not a date."))
        return None


def _read_party(reader: _Reader, element, fields: dict) -> dict:
    """A party's ID, name, address (line, city, region, postcode joined) and country, each mapped to the
    field that ``fields`` names for it (keys ``code``, ``name``, ``address``, ``country``)."""
    party = {"code": "", "name": "", "address": "", "country": ""}
    if element is None:
        return party
    identity, party["code"] = reader.text(element, "ID")
    if party["code"]:
        reader.map(fields["code"], identity)
    name, party["name"] = reader.text(element, "Name")
    if party["name"]:
        reader.map(fields["name"], name)
    address = reader.find(element, "Address")
    lines = []
    for part in ("Line", "CityName", "CountrySubDivisionName", "PostcodeID"):
        node, text = reader.text(address, part)
        if text:
            lines.append((node, text))
    party["address"] = ", ".join(text for _node, text in lines)
    for node, _text_value in lines:
        reader.map(fields["address"], node)
    country, party["country"] = reader.text(address, "CountryCode")
    if party["country"]:
        reader.map(fields["country"], country)
    return party


def _party_fields(role: str) -> dict:
    return {"code": role, "name": f"{role}.name", "address": f"{role}.address", "country": f"{role}.country"}


def wcodm_read(tree) -> ImportedDeclaration:
    """Read a WCO DM 3.6 declaration (the ``md:MetaData`` wrapper or a bare ``Declaration``) parsed by
    ``customs.xmlsafe.xml_parse``.

    The file must follow ``customs/wrapper_submit.xsd`` (or, for a cancellation, ``wrapper_cancel.xsd``):
    otherwise ``ImportUnreadable("schema_invalid")`` with every (line, message). An amendment or a
    cancellation reads as what it carries, flagged as such. ``data`` holds every general field of a draft
    (``""`` or ``None`` where the file says nothing; ``freight_split`` has no WCO DM element) and the
    items; the report says where each value came from and why every other value was left out.
    """
    root = tree.getroot() if hasattr(tree, "getroot") else tree
    declaration = _declaration_element(root)
    _validate(tree)
    reader = _Reader(declaration)
    report = reader.report
    data: dict = {
        "declaration_type": "",
        "lrn": "",
        "counterparty_name": "",
        "counterparty_address": "",
        "counterparty_country": None,
        "dispatch_country": None,
        "destination_country": None,
        "incoterm": None,
        "delivery_place": "",
        "transport_mode": None,
        "transport_identity": "",
        "transport_nationality": None,
        "goods_location": "",
        "invoice_amount": None,
        "invoice_currency": None,
        "freight_amount": None,
        "freight_currency": None,
        "insurance_amount": None,
        "insurance_currency": None,
        "other_costs_amount": None,
        "other_costs_currency": None,
        "deductions_amount": None,
        "deductions_currency": None,
        "total_packages": None,
        "items": [],
    }
    imported = ImportedDeclaration(format="wcodm", data=data, report=report)
    shipment = reader.find(declaration, "GoodsShipment")

    lrn_element, lrn = reader.text(declaration, "FunctionalReferenceID")
    if lrn:
        data["lrn"] = reader.fit("lrn", lrn)
        reader.map("lrn", lrn_element)
    _read_message_kind(reader, declaration)

    # Type: the direction from TypeCode, the model from the first item's requested procedure.
    type_element, type_code = reader.text(declaration, "TypeCode")
    direction = type_code[:2] if type_code[:2] in ("IM", "EX") else ""
    goods_items = sorted(
        enumerate(reader.find_all(shipment, "GovernmentAgencyGoodsItem")),
        key=lambda pair: (_sequence(reader.find(pair[1], "SequenceNumeric")), pair[0]),
    )
    first_cpc = _procedures(reader, goods_items[0][1])[1] if goods_items else ""
    model = _declaration_type(direction, first_cpc) if first_cpc else ""
    if model:
        data["declaration_type"] = model
        if type_code:
            reader.map("declaration_type", type_element, model)
        direction = direction or direction_of(model)
    else:
        report.flag(
            "declaration_type",
            " ".join(part for part in (type_code, first_cpc) if part),
            "unknown_type",
            _(
                "Kerwen has no declaration type for the type %(type)s with the procedure %(cpc)s: "
                "choose IM4, IM5, IM7, EX1 or EX3."
            )
            % {"type": type_code or "-", "cpc": first_cpc or "-"},
        )
        if type_code:
            report.leave_out(reader.path(type_element), type_code, _("No Kerwen declaration type fits it."))
            reader.reported.add(reader.path(type_element))
    direction = direction or "IM"

    _read_office(reader, imported, declaration)
    _read_parties(reader, imported, declaration, shipment, direction)
    _read_general(reader, imported, declaration, shipment)
    for index, (_position, goods_item) in enumerate(goods_items):
        data["items"].append(_read_item(reader, imported, index, goods_item))
    _read_totals(reader, imported, declaration)
    reader.sweep()
    return imported


def _sequence(element) -> int:
    text = _text(element)
    if len(text) > MAX_FIGURE_CHARACTERS:
        return 0
    try:
        return int(Decimal(text))
    except (InvalidOperation, ValueError):
        return 0


def _read_message_kind(reader: _Reader, declaration) -> None:
    """Flag an amendment, a cancellation or another message that is not an original declaration."""
    _function_element, function_code = reader.text(declaration, "FunctionCode")
    _type_element, type_code = reader.text(declaration, "TypeCode")
    _id_element, number = reader.text(declaration, "ID")
    values = {"type": type_code, "number": number or "-"}
    if type_code == "COR":
        reader.report.flag(
            "declaration_type",
            type_code,
            "amendment_message",
            _(
                "This file is an amendment (%(type)s) of declaration %(number)s: it carries only the values "
                "it changes, and the draft holds just those. To change a lodged declaration in Kerwen, "
                "request an amendment on it."
            )
            % values,
        )
    elif type_code == "INV":
        reader.report.flag(
            "declaration_type",
            type_code,
            "cancellation_message",
            _(
                "This file asks to cancel (invalidate) declaration %(number)s: it carries no goods, and the "
                "draft holds its references only. To cancel a declaration in Kerwen, request its "
                "cancellation."
            )
            % values,
        )
    elif function_code and function_code != "9":
        reader.report.flag(
            "declaration_type",
            function_code,
            "not_an_original",
            _("This file is not an original declaration (message function %(code)s).")
            % {"code": function_code},
        )


def _read_office(reader: _Reader, imported: ImportedDeclaration, declaration) -> None:
    """The office of declaration; else the office of presentation, of exit, the supervising office."""
    candidates = [
        reader.find(declaration, "DeclarationOfficeID"),
        reader.find(declaration, "PresentationOffice", "ID"),
        reader.find(declaration, "ExitOffice", "ID"),
        reader.find(declaration, "SupervisingOffice", "ID"),
    ]
    chosen = None
    for element in candidates:
        if not _text(element):
            continue
        if chosen is None:
            chosen = element
            imported.office_code = _text(element)
            reader.map("office", element)
        else:
            reader.leave(
                element,
                _("Kerwen keeps one office per declaration: it took %(office)s (%(element)s).")
                % {"office": imported.office_code, "element": reader.path(chosen)},
            )
    if chosen is None:
        reader.report.flag("office", "", "missing_office", _("The file names no customs office: choose one."))


def _read_parties(
    reader: _Reader, imported: ImportedDeclaration, declaration, shipment, direction: str
) -> None:
    data = imported.data
    if direction == "EX":
        trader_element = reader.find(declaration, "Exporter")
        counterparty_element = reader.find(shipment, "Consignee")
    else:
        trader_element = reader.find(shipment, "Importer")
        counterparty_element = reader.find(declaration, "Exporter")
    trader = _read_party(reader, trader_element, _party_fields("trader"))
    if trader["code"] or trader["name"]:
        imported.parties.append(PartyRef("trader", **trader))
    else:
        reader.report.flag(
            "trader",
            "",
            "missing_party",
            _("The file names no %(party)s: choose the trader.")
            % {"party": _("exporter") if direction == "EX" else _("importer")},
        )

    declarant_element = next(
        (
            element
            for element in (
                reader.find(declaration, "Declarant"),
                reader.find(declaration, "Agent"),
                reader.find(declaration, "Submitter"),
            )
            if _text(reader.find(element, "ID")) or _text(reader.find(element, "Name"))
        ),
        None,
    )
    if declarant_element is not None:
        declarant = _read_party(reader, declarant_element, _party_fields("declarant"))
        imported.parties.append(PartyRef("declarant", **declarant))

    counterparty = _read_party(
        reader,
        counterparty_element,
        {
            "code": "counterparty",
            "name": "counterparty_name",
            "address": "counterparty_address",
            "country": "counterparty_country",
        },
    )
    for name in ("name", "address"):
        data[f"counterparty_{name}"] = reader.fit(f"counterparty_{name}", counterparty[name])
    data["counterparty_country"] = counterparty["country"] or None
    if any(counterparty.values()):
        imported.parties.append(PartyRef("counterparty", **counterparty))


def _read_amount(reader: _Reader, field_name: str, currency_field: str, element, target: dict) -> bool:
    """Put an amount and its currency into ``target``; False when it is empty."""
    amount = reader.decimal(field_name, element)
    if amount is None:
        return False
    target[field_name] = amount
    target[currency_field] = element.get("currencyID") or None
    reader.map(field_name, element, _value_with_qualifiers(element))
    return True


def _read_general(reader: _Reader, imported: ImportedDeclaration, declaration, shipment) -> None:
    data = imported.data
    for field_name, path in (
        ("dispatch_country", ("ExportCountry", "ID")),
        ("destination_country", ("Destination", "CountryCode")),
    ):
        element, value = reader.text(shipment, *path)
        if value:
            data[field_name] = value
            reader.map(field_name, element)

    terms = reader.find(shipment, "TradeTerms")
    element, value = reader.text(terms, "ConditionCode")
    if value:
        data["incoterm"] = value
        reader.map("incoterm", element)
    place = next(
        (
            node
            for node in (reader.find(terms, "LocationID"), reader.find(terms, "LocationName"))
            if _text(node)
        ),
        None,
    )
    if place is not None:
        data["delivery_place"] = reader.fit("delivery_place", _text(place))
        reader.map("delivery_place", place)

    border = reader.find(declaration, "BorderTransportMeans")
    element, value = reader.text(border, "ModeCode")
    if value:
        data["transport_mode"] = value
        reader.map("transport_mode", element)
    element, value = reader.text(border, "RegistrationNationalityCode")
    if value:
        data["transport_nationality"] = value
        reader.map("transport_nationality", element)
    consignment = reader.find(shipment, "Consignment")
    identity = next(
        (
            node
            for node in (
                reader.find(border, "ID"),
                reader.find(border, "Name"),
                reader.find(consignment, "ArrivalTransportMeans", "ID"),
                reader.find(consignment, "DepartureTransportMeans", "ID"),
            )
            if _text(node)
        ),
        None,
    )
    if identity is not None:
        data["transport_identity"] = reader.fit("transport_identity", _text(identity))
        reader.map("transport_identity", identity)

    location = next(
        (
            node
            for node in (
                reader.find(consignment, "GoodsLocation", "Name"),
                reader.find(consignment, "GoodsLocation", "ID"),
            )
            if _text(node)
        ),
        None,
    )
    if location is not None:
        data["goods_location"] = reader.fit("goods_location", _text(location))
        reader.map("goods_location", location)

    invoice = reader.find(declaration, "InvoiceAmount")
    if _read_amount(reader, "invoice_amount", "invoice_currency", invoice, data) and data["invoice_currency"]:
        reader.report.map("invoice_currency", reader.path(invoice) + "/@currencyID", data["invoice_currency"])

    valuation = reader.find(shipment, "CustomsValuation")
    freight = reader.find(valuation, "FreightChargeAmount")
    _read_amount(reader, "freight_amount", "freight_currency", freight, data)
    for charge in reader.find_all(valuation, "ChargeDeduction"):
        _read_charge(reader, data, charge)

    element = reader.find(declaration, "TotalPackageQuantity")
    packages = reader.integer("total_packages", element)
    if packages is not None:
        data["total_packages"] = packages
        reader.map("total_packages", element)

    for exchange in reader.find_all(declaration, "CurrencyExchange"):
        currency_element, currency = reader.text(exchange, "CurrencyTypeCode")
        rate_element = reader.find(exchange, "RateNumeric")
        rate = reader.decimal(f"exchange_rates.{currency}", rate_element) if currency else None
        if currency and rate is not None:
            imported.exchange_rates[currency] = rate
            reader.map(f"exchange_rates.{currency}", currency_element)
            reader.map(f"exchange_rates.{currency}", rate_element)

    for document in reader.find_all(declaration, "AdditionalDocument"):
        category = _text(reader.find(document, "CategoryCode"))
        if category == "1" and _text(reader.find(document, "TypeCode")) == "DAN":
            continue  # the deferment account (DE 2/6): left out by the sweep, with its reason
        _read_document(reader, imported, document, item_number=None)


def _read_charge(reader: _Reader, data: dict, charge) -> None:
    """A header addition or deduction (DE 4/9) into insurance, other costs or deductions; amounts of
    one kind in one currency add up."""
    code_element, code = reader.text(charge, "ChargesTypeCode")
    amount_element = reader.find(charge, "OtherChargeDeductionAmount")
    if code == COST_CODES["insurance"]:
        kind = "insurance"
    elif code == COST_CODES["deductions"]:
        kind = "deductions"
    elif code.startswith("A"):
        kind = "other_costs"
    else:
        return  # a deduction Kerwen does not make: the sweep leaves it out
    amount = reader.decimal(f"{kind}_amount", amount_element)
    if amount is None:
        return
    currency = amount_element.get("currencyID") or None
    if data[f"{kind}_amount"] is not None and data[f"{kind}_currency"] != currency:
        reader.leave(
            charge,
            _("Kerwen keeps one currency per cost: this one is in %(currency)s, the others in %(other)s.")
            % {"currency": currency or "-", "other": data[f"{kind}_currency"] or "-"},
        )
        return
    data[f"{kind}_amount"] = (data[f"{kind}_amount"] or Decimal(0)) + amount
    data[f"{kind}_currency"] = currency
    reader.map(f"{kind}_amount", code_element)
    reader.map(f"{kind}_amount", amount_element, _value_with_qualifiers(amount_element))


def _read_document(reader: _Reader, imported: ImportedDeclaration, document, *, item_number) -> None:
    category_element, category = reader.text(document, "CategoryCode")
    type_element, type_code = reader.text(document, "TypeCode")
    reference_element, reference = reader.text(document, "ID")
    index = len(imported.documents)
    prefix = f"documents[{index}]"
    if not reference or not type_code:
        reader.leave(
            document,
            _(
                "A document without a reference or type (a statement such as a Y code with its status): "
                "Kerwen attaches documents by type and reference."
            ),
        )
        return
    date_element = reader.find(document, "EffectiveDateTime", f"{{{DEC_DS_NS}}}DateTimeString")
    issued_on = _date_of(reader, f"{prefix}.issued_on", date_element) if _text(date_element) else None
    imported.documents.append(
        FileDocument(
            item_number=item_number,
            document_type=category + type_code,
            reference=reader.fit(f"{prefix}.reference", reference),
            issued_on=issued_on,
        )
    )
    for element in (category_element, type_element):
        if element is not None:
            reader.map(f"{prefix}.document_type", element)
    reader.map(f"{prefix}.reference", reference_element)
    if issued_on is not None:
        reader.map(f"{prefix}.issued_on", date_element, _value_with_qualifiers(date_element))


def _read_item(reader: _Reader, imported: ImportedDeclaration, index: int, goods_item) -> dict:
    data = imported.data
    prefix = f"items[{index + 1}]"  # 1-based, as the report shows items (and ASYCUDA's reader)
    item: dict = {
        "commodity_code": "",
        "description": "",
        "origin": None,
        "preference_requested": False,
        "procedure_code": None,
        "additional_procedure_code": None,
        "packages_number": None,
        "package_kind": None,
        "marks": "",
        "gross_mass": None,
        "net_mass": None,
        "quantities": {},
        "invoice_price": None,
        "valuation_method": None,
    }
    sequence = reader.find(goods_item, "SequenceNumeric")
    reader.map(f"{prefix}.number", sequence, str(index + 1))
    if _sequence(sequence) != index + 1:
        reader.report.flag(
            f"{prefix}.number",
            _text(sequence),
            "renumbered",
            _("The file numbers this item %(file)s: Kerwen numbers it %(number)s.")
            % {"file": _text(sequence), "number": index + 1},
        )
    commodity = reader.find(goods_item, "Commodity")

    # Commodity code: the 8-digit TSP code and the 2-digit TARIC (TRC) code, as Kerwen keeps them.
    parts = {}
    for classification in reader.find_all(commodity, "Classification"):
        code_element, code = reader.text(classification, "ID")
        kind_element, kind = reader.text(classification, "IdentificationTypeCode")
        if kind in ("TSP", "TRC") and kind not in parts and code:
            parts[kind] = (code_element, kind_element)
    if "TSP" in parts:
        code = _text(parts["TSP"][0]) + (_text(parts["TRC"][0]) if "TRC" in parts else "")
        item["commodity_code"] = reader.fit(f"{prefix}.commodity_code", code)
        for code_element, kind_element in parts.values():
            reader.map(f"{prefix}.commodity_code", code_element)
            if kind_element is not None:
                reader.map(f"{prefix}.commodity_code", kind_element)

    element, value = reader.text(commodity, "Description")
    if value:
        item["description"] = value
        reader.map(f"{prefix}.description", element)

    procedure_elements, cpc, additional = _procedures(reader, goods_item)
    if cpc:
        item["procedure_code"] = cpc
        for element in procedure_elements:
            reader.map(f"{prefix}.procedure_code", element)
    if additional:
        item["additional_procedure_code"] = _text(additional[0])
        reader.map(f"{prefix}.additional_procedure_code", additional[0])

    # Preference (DE 4/17): 100 is no preference; any other code asks for one.
    regime = next(
        (
            node
            for node in reader.find_all(commodity, "DutyTaxFee")
            if _text(reader.find(node, "DutyRegimeCode"))
        ),
        None,
    )
    if regime is not None:
        element = reader.find(regime, "DutyRegimeCode")
        item["preference_requested"] = _text(element) != NO_PREFERENCE
        reader.map(f"{prefix}.preference_requested", element)

    origins = [
        node for node in reader.find_all(goods_item, "Origin") if _text(reader.find(node, "CountryCode"))
    ]
    wanted = "2" if item["preference_requested"] else "1"
    origin = next((node for node in origins if _text(reader.find(node, "TypeCode")) == wanted), None)
    origin = origin if origin is not None else (origins[0] if origins else None)
    if origin is not None:
        item["origin"] = _text(reader.find(origin, "CountryCode"))
        reader.map(f"{prefix}.origin", reader.find(origin, "CountryCode"))
        if _text(reader.find(origin, "TypeCode")):
            reader.map(f"{prefix}.origin", reader.find(origin, "TypeCode"))

    packaging = next(iter(reader.find_all(goods_item, "Packaging")), None)
    element = reader.find(packaging, "QuantityQuantity")
    number = reader.integer(f"{prefix}.packages_number", element)
    if number is not None:
        item["packages_number"] = number
        reader.map(f"{prefix}.packages_number", element)
    element, value = reader.text(packaging, "TypeCode")
    if value:
        item["package_kind"] = value
        reader.map(f"{prefix}.package_kind", element)
    element, value = reader.text(packaging, "MarksNumbersID")
    if value:
        item["marks"] = reader.fit(f"{prefix}.marks", value)
        reader.map(f"{prefix}.marks", element)

    measure = reader.find(commodity, "GoodsMeasure")
    for field_name, name in (("gross_mass", "GrossMassMeasure"), ("net_mass", "NetNetWeightMeasure")):
        element = reader.find(measure, name)
        mass = reader.decimal(f"{prefix}.{field_name}", element)
        if mass is None:
            continue
        unit = element.get("unitCode") or "KGM"
        if unit not in MASS_UNITS:
            reader.leave(
                element, _("Kerwen keeps masses in kilograms: the unit %(unit)s is unknown.") % {"unit": unit}
            )
            continue
        item[field_name] = mass * MASS_UNITS[unit] if unit != "KGM" else mass
        reader.map(f"{prefix}.{field_name}", element, _value_with_qualifiers(element))
    # The supplementary quantity, and further ones as the base of a specific tax in a unit Kerwen knows.
    quantity_elements = [reader.find(measure, "TariffQuantity")]
    for duty in reader.find_all(commodity, "DutyTaxFee"):
        base = reader.find(duty, "SpecificTaxBaseQuantity")
        if base is not None and base.get("unitCode") in UNITS_BY_CODE:
            quantity_elements.append(base)
    for element in quantity_elements:
        quantity = reader.decimal(f"{prefix}.quantities", element)
        if quantity is None:
            continue
        unit = UNITS_BY_CODE.get(element.get("unitCode") or "")
        if unit is None and not element.get("unitCode"):
            reader.leave(
                element,
                _(
                    "A supplementary quantity without its unit (the file's tariff implies it): enter it in "
                    "the unit of the commodity code in Kerwen's tariff."
                ),
            )
        elif unit is None:
            reader.leave(
                element,
                _("A supplementary quantity in a unit Kerwen does not know (%(unit)s).")
                % {"unit": element.get("unitCode")},
            )
        elif unit not in item["quantities"]:
            item["quantities"][unit] = quantity
            reader.map(f"{prefix}.quantities.{unit}", element, _value_with_qualifiers(element))

    price = reader.find(commodity, "InvoiceLine", "ItemChargeAmount")
    if not _text(price):
        price = reader.find(goods_item, "StatisticalValueAmount")
    amount = reader.decimal(f"{prefix}.invoice_price", price)
    if amount is not None:
        item["invoice_price"] = amount
        reader.map(f"{prefix}.invoice_price", price, _value_with_qualifiers(price))
        currency = price.get("currencyID") or ""
        if currency and not data["invoice_currency"]:
            data["invoice_currency"] = currency
            reader.report.map("invoice_currency", reader.path(price) + "/@currencyID", currency)
        elif currency and currency != data["invoice_currency"]:
            reader.report.flag(
                f"{prefix}.invoice_price",
                f"{amount} {currency}",
                "currency_mismatch",
                _("This price is in %(currency)s, the invoice in %(invoice)s.")
                % {"currency": currency, "invoice": data["invoice_currency"]},
            )

    element, value = reader.text(goods_item, "CustomsValuation", "MethodCode")
    if value in ValuationMethod.values:
        item["valuation_method"] = value
        reader.map(f"{prefix}.valuation_method", element)
    elif value:
        reader.leave(element, _("Not a valuation method Kerwen knows (1 to 6)."))

    # Countries given per item: Kerwen keeps them on the declaration.
    for field_name, path in (
        ("dispatch_country", ("ExportCountry", "ID")),
        ("destination_country", ("Destination", "CountryCode")),
    ):
        element, value = reader.text(goods_item, *path)
        if not value:
            continue
        if data[field_name] is None:
            data[field_name] = value
        if data[field_name] == value:
            reader.map(field_name, element)

    for document in reader.find_all(goods_item, "AdditionalDocument"):
        _read_document(reader, imported, document, item_number=index + 1)
    return item


def _read_totals(reader: _Reader, imported: ImportedDeclaration, declaration) -> None:
    data, totals = imported.data, imported.totals
    element = reader.find(declaration, "GoodsItemQuantity")
    count = reader.integer("totals.items", element)
    totals["items"] = count if count is not None else len(data["items"])
    if count is not None:
        reader.map("totals.items", element)
        if count != len(data["items"]):
            reader.report.flag(
                "items",
                str(count),
                "item_count_mismatch",
                _("The file says it has %(count)s items but holds %(held)s.")
                % {"count": count, "held": len(data["items"])},
            )
    totals["packages"] = data["total_packages"]
    element = reader.find(declaration, "TotalGrossMassMeasure")
    mass = reader.decimal("totals.gross_mass", element)
    unit = (element.get("unitCode") or "KGM") if element is not None else "KGM"
    totals["gross_mass"] = mass * MASS_UNITS[unit] if mass is not None and unit in MASS_UNITS else None
    if totals["gross_mass"] is not None:
        reader.map("totals.gross_mass", element, _value_with_qualifiers(element))
    totals["invoice_amount"] = data["invoice_amount"]
    totals["invoice_currency"] = data["invoice_currency"] or ""
