"""WCO Data Model 3.6 declarations (DEC-DMS 2, as the UK's Customs Declaration Service uses them).

``wcodm_read`` turns a parsed file into an ``ImportedDeclaration`` (pure: no database); ``wcodm_write``
turns a Kerwen declaration into a file that validates against ``customs/wrapper_submit.xsd``. What the
reader takes (paths under ``Declaration``):

- TypeCode (IM/EX + the additional type letter) and the first item's CPC -> ``declaration_type``, by
  ``REQUESTED_PROCEDURES`` on the CPC's first two digits;
- FunctionalReferenceID -> ``lrn``;
- DeclarationOfficeID, else PresentationOffice/ID, else ExitOffice/ID, else SupervisingOffice/ID ->
  ``office_code``;
- GoodsShipment/Importer (import) or Exporter (export) -> party "trader" (ID, name, address, country);
- Declarant, else Agent, else Submitter -> party "declarant";
- Exporter (import) or GoodsShipment/Consignee (export) -> ``counterparty_name``, ``_address``,
  ``_country`` and party "counterparty";
- GoodsShipment/ExportCountry/ID -> ``dispatch_country``; GoodsShipment/Destination/CountryCode ->
  ``destination_country`` (an item's own, when the header gives none);
- GoodsShipment/TradeTerms ConditionCode -> ``incoterm``, LocationID (else LocationName) ->
  ``delivery_place``;
- BorderTransportMeans ModeCode -> ``transport_mode``, RegistrationNationalityCode ->
  ``transport_nationality``, ID (else Name, else the arrival or departure means' ID) ->
  ``transport_identity``;
- GoodsShipment/Consignment/GoodsLocation/Name (else ID) -> ``goods_location``;
- InvoiceAmount with its currencyID -> ``invoice_amount``, ``invoice_currency`` (else the currency of
  the item prices);
- GoodsShipment/CustomsValuation/FreightChargeAmount -> ``freight_amount``, ``freight_currency``;
  its ChargeDeduction by ``COST_CODES``: AK -> ``insurance_*``, other additions (A*) -> ``other_costs_*``,
  BA -> ``deductions_*``;
- TotalPackageQuantity -> ``total_packages``; CurrencyExchange -> ``exchange_rates``;
- AdditionalDocument (header, except the DE 2/6 deferment account) -> ``documents`` without item;
- GoodsShipment/GovernmentAgencyGoodsItem, in SequenceNumeric order -> ``items``:
  Commodity/Classification TSP + TRC -> ``commodity_code`` (up to 10 digits); Commodity/Description ->
  ``description``; Origin/CountryCode (of type 2 when a preference is requested, else 1) -> ``origin``;
  the GovernmentProcedure with CurrentCode + PreviousCode -> ``procedure_code``, the first with a
  3-character CurrentCode -> ``additional_procedure_code``; Commodity/DutyTaxFee/DutyRegimeCode
  (100: none) -> ``preference_requested``; the first Packaging QuantityQuantity, TypeCode,
  MarksNumbersID -> ``packages_number``, ``package_kind``, ``marks``; Commodity/GoodsMeasure
  GrossMassMeasure, NetNetWeightMeasure -> ``gross_mass``, ``net_mass`` (kg); TariffQuantity and
  DutyTaxFee/SpecificTaxBaseQuantity in a unit of ``UNIT_CODES`` -> ``quantities``;
  Commodity/InvoiceLine/ItemChargeAmount (else StatisticalValueAmount) -> ``invoice_price``;
  CustomsValuation/MethodCode -> ``valuation_method``; AdditionalDocument CategoryCode + TypeCode, ID,
  EffectiveDateTime -> ``documents`` with the item's number;
- GoodsItemQuantity, TotalPackageQuantity, TotalGrossMassMeasure, InvoiceAmount -> ``totals``.

Every other non-empty value is a ``left_out`` entry of the report with the reason (``_LEFT_OUT_REASONS``):
the reader ends with a sweep over every leaf of the file, so nothing is dropped silently. Attributes that
qualify their element's value (``currencyID``, ``unitCode``, ``languageID``, ``formatCode``) travel with
it; ``xsi:*`` attributes describe the file, not the declaration.
"""

import datetime
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from lxml import etree

from customs.xmlsafe import xml_schema, xml_validate
from declarations.choices import REQUESTED_PROCEDURES, DeclarationType, ValuationMethod, direction_of
from declarations.exchange.base import (
    FileDocument,
    ImportedDeclaration,
    ImportReport,
    ImportUnreadable,
    PartyRef,
)

WCODM_SCHEMA_DIR = Path(__file__).resolve().parent / "schemas" / "wcodm"
MD_NS = "urn:wco:datamodel:WCO:DocumentMetaData-DMS:2"
DEC_NS = "urn:wco:datamodel:WCO:DEC-DMS:2"
DEC_DS_NS = "urn:wco:datamodel:WCO:Declaration_DS:DMS:2"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

# Attributes that qualify their element's value and travel with it (a currency, a unit, a language, a
# date format): the value's entry in the report names them.
VALUE_ATTRIBUTES = frozenset({"currencyID", "unitCode", "languageID", "formatCode"})

# The UK's preference code (DE 4/17) for "no preference"; the writer requests a preference with 300
# (tariff preference by origin).
NO_PREFERENCE = "100"
PREFERENCE = "300"

# Header costs (UK DE 4/9 additions A*, deductions B*). AK is the transport and insurance up to the
# border; Kerwen keeps freight apart (FreightChargeAmount), so AK carries the insurance. Additions other
# than AK are Kerwen's "other dutiable costs"; BA (transport after the border) is Kerwen's deduction.
# Other deductions (duties, interest, buying commissions...) have no place.
COST_CODES = {"insurance": "AK", "other_costs": "AL", "deductions": "BA"}

# Supplementary units: Kerwen's tariff unit <-> UN/ECE Recommendation 20 unit code.
UNIT_CODES = {
    "l": "LTR",
    "lpa": "LPA",
    "item": "NAR",
    "pair": "NPR",
    "head": "HEA",
    "m": "MTR",
    "m2": "MTK",
    "m3": "MTQ",
    "kwh": "KWH",
}
UNITS_BY_CODE = {code: unit for unit, code in UNIT_CODES.items()}
MASS_UNITS = {"KGM": Decimal(1), "TNE": Decimal(1000), "GRM": Decimal("0.001")}

# The additional declaration type letter the writer gives (DE 1/2 A: a standard declaration).
STANDARD_DECLARATION = "A"
LOCODE = re.compile(r"[A-Z]{2}[A-Z0-9]{3}")

# Kerwen's limits on the text fields the reader fills.
_TEXT_LIMITS = {
    "counterparty_name": 255,
    "counterparty_address": 255,
    "delivery_place": 100,
    "transport_identity": 64,
    "goods_location": 100,
    "commodity_code": 10,
    "marks": 255,
    "lrn": 35,
    "reference": 64,
}

_GENERIC_REASON = gettext_lazy("Kerwen has no place for this value.")
_PARTY_DETAILS = gettext_lazy(
    "Kerwen keeps a party's identity, name, address and country, not its contact details."
)
_ITEM_PARTY = gettext_lazy("Kerwen keeps the parties on the declaration, not per item.")
_PREVIOUS_DOCUMENT = gettext_lazy(
    "Kerwen does not link a declaration to previous documents (summary declaration, DUCR, earlier procedure)."
)
_UCR = gettext_lazy("Kerwen does not keep the unique consignment reference (UCR).")
_NATURE = gettext_lazy("Kerwen does not keep the nature of the transaction.")
_TAX_PARTY = gettext_lazy("Kerwen takes tax identities (VAT) from its register of traders.")
_AEO = gettext_lazy("Kerwen takes the AEO status from its register of traders.")
_STATEMENTS = gettext_lazy("Kerwen keeps no additional information statements (DE 2/2).")
_OTHER_TRANSPORT = gettext_lazy(
    "Kerwen keeps one means of transport: its identity at the border (else on arrival or departure), "
    "nationality and mode; not the type of identity, nor a second means."
)
_CONTAINERS = gettext_lazy("Kerwen does not keep container numbers and seals on a declaration.")

# Why a value has no place in Kerwen, by its path without the [n] indexes; the longest matching
# prefix gives the reason.
_LEFT_OUT_REASONS = {
    "FunctionCode": gettext_lazy(
        "Kerwen does not keep the message function (9: an original declaration, 13: a request about a "
        "lodged one)."
    ),
    "ID": gettext_lazy(
        "The declaration's number in the system that wrote the file (its MRN): Kerwen gives its own number "
        "on registration."
    ),
    "AcceptanceDateTime": gettext_lazy(
        "The date the other system accepted the declaration: Kerwen records its own on registration."
    ),
    "TotalGrossMassMeasure": gettext_lazy("A total gross mass in a unit Kerwen does not know."),
    "IssueDateTime": gettext_lazy("The date the file was issued: Kerwen records its own dates."),
    "IssueLocationID": gettext_lazy("Kerwen does not keep the place where the declaration was issued."),
    "LoadingListQuantity": gettext_lazy("Kerwen does not keep the number of loading lists."),
    "SpecificCircumstancesCodeCode": gettext_lazy(
        "Kerwen does not keep the specific circumstance indicator."
    ),
    "Authentication": gettext_lazy("Kerwen authenticates a declaration by its own users' signatures."),
    "Submitter": gettext_lazy("Kerwen records who lodges a declaration: the user who imports the file."),
    "AdditionalDocument": gettext_lazy(
        "The deferred payment account (DE 2/6) is not a document: payment is arranged in Kerwen."
    ),
    "AdditionalInformation": _STATEMENTS,
    "Agent": gettext_lazy(
        "Kerwen keeps one declarant, and not the representative's status (direct or indirect representation)."
    ),
    "Amendment": gettext_lazy(
        "The reason and pointers of an amendment: in Kerwen a declaration is changed by an amendment request "
        "on it."
    ),
    "AuthorisationHolder": gettext_lazy(
        "Kerwen checks authorisations in its own register of authorisations."
    ),
    "BorderTransportMeans": gettext_lazy(
        "Kerwen keeps the identity, nationality and mode of the means of transport, not the type of its "
        "identity or its name beside its identity."
    ),
    "Consignment": gettext_lazy(
        "Kerwen does not keep the carrier, the itinerary or the freight payment method on a declaration."
    ),
    "CurrencyExchange": gettext_lazy("An exchange rate without its currency."),
    "Declarant": _PARTY_DETAILS,
    "Exporter": _PARTY_DETAILS,
    "GoodsShipment/ExitDateTime": gettext_lazy("Kerwen records the exit of the goods itself."),
    "GoodsShipment/TransactionNatureCode": _NATURE,
    "GoodsShipment/AEOMutualRecognitionParty": _AEO,
    "GoodsShipment/Buyer": gettext_lazy("Kerwen keeps the trader and one foreign party: not the buyer."),
    "GoodsShipment/Seller": gettext_lazy("Kerwen keeps the trader and one foreign party: not the seller."),
    "GoodsShipment/Consignor": gettext_lazy(
        "Kerwen keeps the trader and one foreign party: not the consignor."
    ),
    "GoodsShipment/Payer": gettext_lazy("Kerwen keeps the trader and one foreign party: not the payer."),
    "GoodsShipment/Surety": gettext_lazy("Kerwen takes guarantees and sureties from its own register."),
    "GoodsShipment/Consignee": gettext_lazy(
        "On an import the consignee is the importer, whom Kerwen keeps as the trader."
    ),
    "GoodsShipment/Importer": gettext_lazy(
        "On an export the importer abroad is not kept: Kerwen keeps the consignee as the foreign party."
    ),
    "GoodsShipment/Consignment/ContainerCode": gettext_lazy("Kerwen does not keep the container indicator."),
    "GoodsShipment/Consignment/ArrivalTransportMeans": _OTHER_TRANSPORT,
    "GoodsShipment/Consignment/DepartureTransportMeans": _OTHER_TRANSPORT,
    "GoodsShipment/Consignment/GoodsLocation": gettext_lazy(
        "Kerwen keeps the location of goods by its code: not its type, qualifier or address."
    ),
    "GoodsShipment/Consignment/LoadingLocation": gettext_lazy("Kerwen does not keep the place of loading."),
    "GoodsShipment/Consignment/TransportEquipment": _CONTAINERS,
    "GoodsShipment/CustomsValuation": gettext_lazy(
        "Kerwen has no place for this deduction (DE 4/9): it deducts only transport costs after the border "
        "(BA)."
    ),
    "GoodsShipment/Destination/RegionID": gettext_lazy(
        "Kerwen keeps the country of destination, not the region."
    ),
    "GoodsShipment/DomesticDutyTaxParty": _TAX_PARTY,
    "GoodsShipment/GovernmentAgencyGoodsItem/CustomsValueAmount": gettext_lazy(
        "Kerwen computes the customs value itself."
    ),
    "GoodsShipment/GovernmentAgencyGoodsItem/StatisticalValueAmount": gettext_lazy(
        "The statistical value: Kerwen keeps the item price given beside it."
    ),
    "GoodsShipment/GovernmentAgencyGoodsItem/TransactionNatureCode": _NATURE,
    "GoodsShipment/GovernmentAgencyGoodsItem/AdditionalDocument": gettext_lazy(
        "Kerwen keeps a document's type, reference and date: not its status, name or written-off quantity."
    ),
    "GoodsShipment/GovernmentAgencyGoodsItem/AdditionalInformation": _STATEMENTS,
    "GoodsShipment/GovernmentAgencyGoodsItem/AEOMutualRecognitionParty": _ITEM_PARTY,
    "GoodsShipment/GovernmentAgencyGoodsItem/Buyer": _ITEM_PARTY,
    "GoodsShipment/GovernmentAgencyGoodsItem/Seller": _ITEM_PARTY,
    "GoodsShipment/GovernmentAgencyGoodsItem/Consignee": _ITEM_PARTY,
    "GoodsShipment/GovernmentAgencyGoodsItem/Consignor": _ITEM_PARTY,
    "GoodsShipment/GovernmentAgencyGoodsItem/Commodity/Classification": gettext_lazy(
        "An additional code (TARIC or national): Kerwen's tariff has no additional codes."
    ),
    "GoodsShipment/GovernmentAgencyGoodsItem/Commodity/DangerousGoods": gettext_lazy(
        "Kerwen does not keep the UN dangerous goods number."
    ),
    "GoodsShipment/GovernmentAgencyGoodsItem/Commodity/DutyTaxFee": gettext_lazy(
        "Kerwen computes duties and taxes itself, from its own tariff: the file's tax types, bases, quota "
        "order numbers and payment methods have no place."
    ),
    "GoodsShipment/GovernmentAgencyGoodsItem/Commodity/TransportEquipment": _CONTAINERS,
    "GoodsShipment/GovernmentAgencyGoodsItem/CustomsValuation/ChargeDeduction": gettext_lazy(
        "Kerwen keeps additions and deductions on the declaration and splits them over the items."
    ),
    "GoodsShipment/GovernmentAgencyGoodsItem/Destination": gettext_lazy(
        "Kerwen keeps one country of destination per declaration: this item's differs from it."
    ),
    "GoodsShipment/GovernmentAgencyGoodsItem/ExportCountry": gettext_lazy(
        "Kerwen keeps one country of dispatch per declaration: this item's differs from it."
    ),
    "GoodsShipment/GovernmentAgencyGoodsItem/DomesticDutyTaxParty": _TAX_PARTY,
    "GoodsShipment/GovernmentAgencyGoodsItem/GovernmentProcedure": gettext_lazy(
        "Kerwen keeps one additional procedure code per item: the first one given."
    ),
    "GoodsShipment/GovernmentAgencyGoodsItem/Origin": gettext_lazy(
        "Kerwen keeps one country of origin per item."
    ),
    "GoodsShipment/GovernmentAgencyGoodsItem/Packaging": gettext_lazy(
        "Kerwen keeps one line of packages per item (number, kind and marks), without its sequence number "
        "or dimensions."
    ),
    "GoodsShipment/GovernmentAgencyGoodsItem/PreviousDocument": _PREVIOUS_DOCUMENT,
    "GoodsShipment/GovernmentAgencyGoodsItem/UCR": _UCR,
    "GoodsShipment/GovernmentAgencyGoodsItem/ValuationAdjustment": gettext_lazy(
        "Kerwen does not keep the valuation indicators (DE 4/13)."
    ),
    "GoodsShipment/Invoice": gettext_lazy("Kerwen keeps the invoice as an attached document."),
    "GoodsShipment/PreviousDocument": _PREVIOUS_DOCUMENT,
    "GoodsShipment/TradeTerms": gettext_lazy(
        "Kerwen keeps the Incoterm and one delivery place: the place is taken from its code."
    ),
    "GoodsShipment/UCR": _UCR,
    "GoodsShipment/Warehouse": gettext_lazy(
        "Kerwen does not keep the warehouse's identity on a declaration."
    ),
    "ObligationGuarantee": gettext_lazy("Kerwen takes guarantees from its own register of guarantees."),
}


def wcodm_schema() -> etree.XMLSchema:
    """The compiled submission schema (``customs/wrapper_submit.xsd``), once per process."""
    return xml_schema(WCODM_SCHEMA_DIR / "customs" / "wrapper_submit.xsd", root=WCODM_SCHEMA_DIR)


def wcodm_cancel_schema() -> etree.XMLSchema:
    """The compiled cancellation schema (``customs/wrapper_cancel.xsd``)."""
    return xml_schema(WCODM_SCHEMA_DIR / "customs" / "wrapper_cancel.xsd", root=WCODM_SCHEMA_DIR)


def _q(name: str) -> str:
    return f"{{{DEC_NS}}}{name}"


def _local(element) -> str:
    return etree.QName(element).localname


def _is_element(node) -> bool:
    return isinstance(node.tag, str)


def _element_paths(declaration) -> dict:
    """Every element under ``declaration`` -> its path, e.g. ``GoodsShipment/GovernmentAgencyGoodsItem[2]``:
    local names, with the 1-based position among same-named siblings where there are several (as
    ``ElementTree.getelementpath`` writes them)."""
    paths = {declaration: ""}
    stack = [declaration]
    while stack:
        parent = stack.pop()
        children = [child for child in parent if _is_element(child)]
        counts: dict[str, int] = {}
        for child in children:
            counts[child.tag] = counts.get(child.tag, 0) + 1
        seen: dict[str, int] = {}
        prefix = paths[parent]
        for child in children:
            name = _local(child)
            if counts[child.tag] > 1:
                seen[child.tag] = seen.get(child.tag, 0) + 1
                name = f"{name}[{seen[child.tag]}]"
            paths[child] = f"{prefix}/{name}" if prefix else name
            stack.append(child)
    return paths


def _unindexed(path: str) -> str:
    return re.sub(r"\[\d+\]", "", path)


def _reason_for(path: str) -> str:
    """The reason of ``_LEFT_OUT_REASONS`` for ``path`` (longest matching prefix), else the generic one."""
    parts = _unindexed(path).split("/@")[0].split("/")
    for length in range(len(parts), 0, -1):
        reason = _LEFT_OUT_REASONS.get("/".join(parts[:length]))
        if reason is not None:
            return str(reason)
    return str(_GENERIC_REASON)


def _text(element) -> str:
    return (element.text or "").strip() if element is not None else ""


def _value_with_qualifiers(element) -> str:
    """The element's text with the attributes that qualify it: ``600 currencyID=GBP``."""
    text = _text(element)
    qualifiers = [f"{name}={element.get(name)}" for name in sorted(VALUE_ATTRIBUTES) if element.get(name)]
    return " ".join([text, *qualifiers]) if qualifiers else text


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
        limit = _TEXT_LIMITS.get(limit_name or field_name.rsplit(".", 1)[-1])
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
    try:
        return int(Decimal(_text(element)))
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


# ---------------------------------------------------------------------------------------------------
# Writing


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
