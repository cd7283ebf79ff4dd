"""Writing a Kerwen declaration as WCO DM 3.6 XML that validates against the submission schema."""

import datetime
import re
from decimal import ROUND_HALF_UP, Decimal

from lxml import etree

from declarations.choices import direction_of
from declarations.exchange.wcodm.common import (
    COST_CODES,
    DEC_DS_NS,
    DEC_NS,
    LOCODE,
    MD_NS,
    NO_PREFERENCE,
    PREFERENCE,
    STANDARD_DECLARATION,
    UNIT_CODES,
    _q,
)


def _decimal_text(value, *, fraction_digits: int, total_digits: int) -> str:
    """A plain decimal string (no exponent, no trailing zeros) within the schema's digits; more decimals
    than the schema takes are rounded half up. Raises ``ValueError`` when the value is too large."""
    value = Decimal(value)
    if value.as_tuple().exponent < -fraction_digits:
        value = value.quantize(Decimal(1).scaleb(-fraction_digits), rounding=ROUND_HALF_UP)
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("", "-0"):
        text = "0"
    if len(text.lstrip("-").replace(".", "").lstrip("0")) > total_digits:
        raise ValueError(f"{value} has more than {total_digits} digits")
    return text


def _amount_text(value) -> str:
    return _decimal_text(value, fraction_digits=3, total_digits=16)


def _mass_text(value) -> str:
    return _decimal_text(value, fraction_digits=6, total_digits=16)


def _integer_text(value, total_digits: int) -> str:
    return _decimal_text(value, fraction_digits=0, total_digits=total_digits)


def _one_line(value: str, limit: int) -> str:
    """Text as the schema's ``.*[^\\s].*`` patterns take it: one line, at most ``limit`` characters."""
    text = re.sub(r"\s*[\r\n]+\s*", ", ", value or "").strip()
    return text[:limit].rstrip()


def _date_time_text(moment: datetime.datetime) -> str:
    """UDT format 304: CCYYMMDDHHMMSS and the zone, in UTC."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.UTC)
    return moment.strftime("%Y%m%d%H%M%S") + "Z"


class _Builder:
    """Children in the Declaration namespace, skipped when their text is empty."""

    @staticmethod
    def add(parent, name: str, text=None, **attributes):
        if text is None or text == "":
            return None
        element = etree.SubElement(
            parent, _q(name), {key: value for key, value in attributes.items() if value}
        )
        element.text = str(text)
        return element

    @staticmethod
    def group(parent, name: str):
        return etree.SubElement(parent, _q(name))

    @staticmethod
    def prune(element) -> None:
        """Remove ``element`` when nothing was written in it."""
        if element is not None and len(element) == 0 and not (element.text or "").strip():
            element.getparent().remove(element)


def _identifier(value: str, limit: int, what: str) -> str:
    """An identifier as it is: one cut to the schema's length would name someone else."""
    value = (value or "").strip()
    if len(value) > limit:
        raise ValueError(f"the {what} {value!r} is longer than the {limit} characters WCO DM allows")
    return value


def _write_party(parent, name: str, *, code: str, party_name: str, address: str = "", country: str = ""):
    build = _Builder
    party = build.group(parent, name)
    build.add(party, "Name", _one_line(party_name, 70))
    build.add(party, "ID", _identifier(code, 17, f"{name} identity"))
    if address or country:
        address_element = build.group(party, "Address")
        build.add(address_element, "CountryCode", country)
        build.add(address_element, "Line", _one_line(address, 70))
        build.prune(address_element)
    build.prune(party)
    return party


def _document_codes(code: str) -> tuple[str, str]:
    """(CategoryCode, TypeCode) of a Kerwen document type: "N935" -> ("N", "935"), "380" -> ("", "380")."""
    if len(code) <= 3:
        return "", code
    return code[:-3], code[-3:]


def _write_document(parent, document, *, with_date: bool) -> None:
    build = _Builder
    category, type_code = _document_codes(document.document_type_id)
    element = build.group(parent, "AdditionalDocument")
    build.add(element, "CategoryCode", category)
    if with_date and document.issued_on and document.issued_on.year >= 2000:
        effective = build.group(element, "EffectiveDateTime")
        date_string = etree.SubElement(effective, f"{{{DEC_DS_NS}}}DateTimeString", formatCode="102")
        date_string.text = document.issued_on.strftime("%Y%m%d")
    build.add(element, "ID", _one_line(document.reference, 70))
    build.add(element, "TypeCode", type_code)


def wcodm_write(declaration) -> bytes:
    """A WCO DM 3.6 file (the ``md:MetaData`` wrapper with the ``Declaration``) of a Kerwen declaration,
    valid against ``customs/wrapper_submit.xsd``; ``wcodm_read`` gives its data back.

    Reads ``declaration.items.all()``, ``declaration.documents.all()``, ``declaration.trader`` with its
    ``country``, ``declaration.broker`` and ``declaration.office``: prefetch them
    (``select_related("trader__country", "broker", "office")``, ``prefetch_related("items", "documents")``)
    and the writer makes no query. It writes:

    - the envelope: data model 3.6, type DEC;
    - ``AcceptanceDateTime`` (registered_at), ``IssueDateTime`` (lodged_at), ``ID`` (the registration number,
      e.g. ``TMA01 2026 C 10452``), when the declaration has them; ``FunctionCode`` 9;
      ``FunctionalReferenceID`` (lrn); ``TypeCode`` (IM or EX + A, a standard declaration);
      ``GoodsItemQuantity``; ``DeclarationOfficeID`` (office code); ``InvoiceAmount`` with its currency;
      ``TotalGrossMassMeasure`` (the items' gross masses, when all are given); ``TotalPackageQuantity``;
    - the documents of no item as header ``AdditionalDocument`` (type, reference: the header element has
      no date) and the items' documents in their item (type, reference, date);
    - ``BorderTransportMeans`` (transport identity, nationality, mode); ``CurrencyExchange`` (the
      exchange rates used, 5 decimals); ``Declarant`` (the broker's licence number and name, else the
      trader's taxpayer ID and name);
    - the trader as ``Exporter`` (export) or ``GoodsShipment/Importer`` (import), the foreign party as
      ``Exporter`` (import) or ``GoodsShipment/Consignee`` (export): ID, name, address line, country;
    - ``GoodsShipment``: goods location, freight (``CustomsValuation/FreightChargeAmount``), insurance
      (``ChargeDeduction`` AK), other costs (AL), costs after the border (BA), destination and dispatch
      countries, Incoterm and delivery place (``LocationID`` when it is a UN/LOCODE, else
      ``LocationName``);
    - each item: number, commodity code (TSP: 8 digits, TRC: the last 2), description, preference
      (``DutyRegimeCode`` 300 requested, 100 not), masses (kg), the first supplementary quantity as
      ``TariffQuantity`` and the others as ``DutyTaxFee/SpecificTaxBaseQuantity`` (unit codes of
      ``UNIT_CODES``), item price, valuation method, CPC (CurrentCode + PreviousCode), additional
      procedure code, origin (type 2 when a preference is requested, else 1), packages (number, kind,
      marks).

    Not written, having no element: ``freight_split``, ``valuation_justification``, the assessment
    (customs value, taxes), the lane and the state. The schema's limits: amounts keep 3 decimals and
    rates 5 (rounded half up); names and address lines 70 characters, the transport identity 35,
    descriptions and marks 512 (cut); a header document has no date, a date before 2000 is not written;
    line breaks become ", ". An identifier (taxpayer ID, licence number) longer than 17 characters raises
    ``ValueError`` rather than naming someone else. The declaration type travels as the direction and the
    first item's CPC: a declaration whose first item has no CPC reads back without a type.
    """
    build = _Builder
    items = sorted(declaration.items.all(), key=lambda item: item.number)
    documents = list(declaration.documents.all())
    direction = direction_of(declaration.declaration_type)
    trader, broker, office = declaration.trader, declaration.broker, declaration.office
    invoice_currency = declaration.invoice_currency_id or None

    root = etree.Element(f"{{{MD_NS}}}MetaData", nsmap={"md": MD_NS, None: DEC_NS, "ds": DEC_DS_NS})
    for name, text in (("WCODataModelVersionCode", "3.6"), ("WCOTypeName", "DEC")):
        etree.SubElement(root, f"{{{MD_NS}}}{name}").text = text
    dec = etree.SubElement(root, _q("Declaration"))

    if declaration.registered_at:
        acceptance = build.group(dec, "AcceptanceDateTime")
        etree.SubElement(
            acceptance, f"{{{DEC_DS_NS}}}DateTimeString", formatCode="304"
        ).text = _date_time_text(declaration.registered_at)
    build.add(dec, "FunctionCode", "9")
    build.add(dec, "FunctionalReferenceID", _identifier(declaration.lrn, 35, "LRN"))
    build.add(dec, "ID", declaration.number if declaration.registration_number is not None else "")
    if declaration.lodged_at:
        issue = build.group(dec, "IssueDateTime")
        etree.SubElement(issue, f"{{{DEC_DS_NS}}}DateTimeString", formatCode="304").text = _date_time_text(
            declaration.lodged_at
        )
    build.add(dec, "TypeCode", direction + STANDARD_DECLARATION)
    build.add(dec, "GoodsItemQuantity", len(items))
    build.add(dec, "DeclarationOfficeID", office.code)
    if declaration.invoice_amount is not None:
        build.add(dec, "InvoiceAmount", _amount_text(declaration.invoice_amount), currencyID=invoice_currency)
    if items and all(item.gross_mass is not None for item in items):
        total_mass = sum((item.gross_mass for item in items), Decimal(0))
        build.add(dec, "TotalGrossMassMeasure", _mass_text(total_mass), unitCode="KGM")
    if declaration.total_packages is not None:
        build.add(dec, "TotalPackageQuantity", _integer_text(declaration.total_packages, 8))

    for document in documents:
        if document.item_number is None:
            _write_document(dec, document, with_date=False)

    border = build.group(dec, "BorderTransportMeans")
    build.add(border, "ID", _one_line(declaration.transport_identity, 35))
    build.add(border, "RegistrationNationalityCode", declaration.transport_nationality_id)
    build.add(border, "ModeCode", declaration.transport_mode_id)
    build.prune(border)

    for currency, rate in sorted((declaration.exchange_rates or {}).items()):
        exchange = build.group(dec, "CurrencyExchange")
        build.add(exchange, "CurrencyTypeCode", currency)
        build.add(exchange, "RateNumeric", _decimal_text(rate, fraction_digits=5, total_digits=12))

    if broker is not None:
        _write_party(dec, "Declarant", code=broker.licence_number, party_name=broker.name)
    else:
        _write_party(dec, "Declarant", code=trader.taxpayer_id, party_name=trader.name)

    trader_party = {
        "code": trader.taxpayer_id,
        "party_name": trader.name,
        "address": trader.address,
        "country": trader.country.code,
    }
    counterparty = {
        "code": "",
        "party_name": declaration.counterparty_name,
        "address": declaration.counterparty_address,
        "country": declaration.counterparty_country_id or "",
    }
    _write_party(dec, "Exporter", **(trader_party if direction == "EX" else counterparty))

    shipment = build.group(dec, "GoodsShipment")
    if direction == "EX":
        _write_party(shipment, "Consignee", **counterparty)
    consignment = build.group(shipment, "Consignment")
    if declaration.goods_location:
        location = build.group(consignment, "GoodsLocation")
        build.add(location, "Name", _one_line(declaration.goods_location, 256))
    build.prune(consignment)

    valuation = build.group(shipment, "CustomsValuation")
    if declaration.freight_amount is not None:
        build.add(
            valuation,
            "FreightChargeAmount",
            _amount_text(declaration.freight_amount),
            currencyID=declaration.freight_currency_id,
        )
    for kind, code in COST_CODES.items():
        amount = getattr(declaration, f"{kind}_amount")
        if amount is None:
            continue
        charge = build.group(valuation, "ChargeDeduction")
        build.add(charge, "ChargesTypeCode", code)
        build.add(
            charge,
            "OtherChargeDeductionAmount",
            _amount_text(amount),
            currencyID=getattr(declaration, f"{kind}_currency_id"),
        )
    build.prune(valuation)

    if declaration.destination_country_id:
        build.add(build.group(shipment, "Destination"), "CountryCode", declaration.destination_country_id)
    if declaration.dispatch_country_id:
        build.add(build.group(shipment, "ExportCountry"), "ID", declaration.dispatch_country_id)

    item_documents: dict[int, list] = {}
    for document in documents:
        if document.item_number is not None:
            item_documents.setdefault(document.item_number, []).append(document)
    for item in items:
        _write_item(shipment, item, item_documents.get(item.number, []), invoice_currency)

    if direction != "EX":
        _write_party(shipment, "Importer", **trader_party)
    if declaration.incoterm_id or declaration.delivery_place:
        terms = build.group(shipment, "TradeTerms")
        build.add(terms, "ConditionCode", declaration.incoterm_id)
        place = _one_line(declaration.delivery_place, 256)
        build.add(terms, "LocationID" if LOCODE.fullmatch(place) else "LocationName", place)
        build.prune(terms)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _write_item(shipment, item, documents: list, invoice_currency) -> None:
    build = _Builder
    goods_item = build.group(shipment, "GovernmentAgencyGoodsItem")
    build.add(goods_item, "SequenceNumeric", item.number)
    for document in documents:
        _write_document(goods_item, document, with_date=True)

    commodity = build.group(goods_item, "Commodity")
    build.add(commodity, "Description", _one_line(item.description, 512))
    code = item.commodity_code or ""
    for part, kind in ((code[:8], "TSP"), (code[8:], "TRC")):
        if part:
            classification = build.group(commodity, "Classification")
            build.add(classification, "ID", part)
            build.add(classification, "IdentificationTypeCode", kind)
    quantities = [(unit, value) for unit, value in (item.quantities or {}).items() if value not in (None, "")]
    duty = build.group(commodity, "DutyTaxFee")
    build.add(duty, "DutyRegimeCode", PREFERENCE if item.preference_requested else NO_PREFERENCE)
    for unit, value in quantities[1:]:
        extra = build.group(commodity, "DutyTaxFee")
        build.add(extra, "SpecificTaxBaseQuantity", _mass_text(value), unitCode=UNIT_CODES.get(unit, unit))
    measure = build.group(commodity, "GoodsMeasure")
    if item.gross_mass is not None:
        build.add(measure, "GrossMassMeasure", _mass_text(item.gross_mass), unitCode="KGM")
    if item.net_mass is not None:
        build.add(measure, "NetNetWeightMeasure", _mass_text(item.net_mass), unitCode="KGM")
    if quantities:
        unit, value = quantities[0]
        build.add(measure, "TariffQuantity", _mass_text(value), unitCode=UNIT_CODES.get(unit, unit))
    build.prune(measure)
    if item.invoice_price is not None:
        line = build.group(commodity, "InvoiceLine")
        build.add(line, "ItemChargeAmount", _amount_text(item.invoice_price), currencyID=invoice_currency)
    build.prune(commodity)

    if item.valuation_method:
        build.add(build.group(goods_item, "CustomsValuation"), "MethodCode", item.valuation_method)
    if item.procedure_code_id:
        procedure = build.group(goods_item, "GovernmentProcedure")
        build.add(procedure, "CurrentCode", item.procedure_code_id[:2])
        build.add(procedure, "PreviousCode", item.procedure_code_id[2:])
    if item.additional_procedure_code_id:
        build.add(
            build.group(goods_item, "GovernmentProcedure"), "CurrentCode", item.additional_procedure_code_id
        )
    if item.origin_id:
        origin = build.group(goods_item, "Origin")
        build.add(origin, "CountryCode", item.origin_id)
        build.add(origin, "TypeCode", "2" if item.preference_requested else "1")
    if item.packages_number is not None or item.package_kind_id or item.marks:
        packaging = build.group(goods_item, "Packaging")
        build.add(packaging, "SequenceNumeric", "1")
        build.add(packaging, "MarksNumbersID", _one_line(item.marks, 512))
        if item.packages_number is not None:
            build.add(packaging, "QuantityQuantity", _integer_text(item.packages_number, 8))
        build.add(packaging, "TypeCode", item.package_kind_id)
