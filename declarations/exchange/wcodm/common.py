"""What the WCO DM reader and writer share: namespaces, code tables, the reasons for values left out,
the schemas, and small helpers over elements."""

import re
from decimal import Decimal
from pathlib import Path

from django.utils.translation import gettext_lazy
from lxml import etree

from customs.xmlsafe import xml_schema

WCODM_SCHEMA_DIR = Path(__file__).resolve().parents[1] / "schemas" / "wcodm"
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
    "kg": "KGM",  # a quantity in kg of net mass given apart from the net mass (the engine's override)
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
