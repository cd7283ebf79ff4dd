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

from declarations.exchange.wcodm.common import WCODM_SCHEMA_DIR, wcodm_cancel_schema, wcodm_schema
from declarations.exchange.wcodm.read import wcodm_read
from declarations.exchange.wcodm.write import wcodm_write

__all__ = ["WCODM_SCHEMA_DIR", "wcodm_cancel_schema", "wcodm_read", "wcodm_schema", "wcodm_write"]
