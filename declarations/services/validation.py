"""Validation of a declaration, in two depths, every problem at once with a stable code per field.

- ``references_check`` runs on every save of a draft: each code given must exist in its code list
  (so nothing unknown is stored), figures must not be negative, net mass within gross mass.
- ``lodgement_check`` runs on lodgement and registration: mandatory fields per declaration type,
  codes valid on the day, the commodity code declarable on the day, CPC matching the type, totals
  consistent, exchange rates in force, the declarant authorised, then the tariff engine itself (which
  names any field it cannot assess) and the documents the tariff requires: licences and permits of the
  non-tariff measures, the proof of origin of a requested preference, the document of a relief.

Reads come from the in-memory code lists (``customs.reference_cache``) and the tariff snapshot, so
the number of queries does not grow with the number of items.
"""

import datetime
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext as _

from customs.choices import AuthorisationScope
from customs.reference_cache import code_exists, code_valid_on, procedure_direction
from customs.selectors import trader_list_for_user
from declarations.choices import REQUESTED_PROCEDURES, ValuationMethod, direction_of
from declarations.services.errors import FieldError
from tariff.choices import NonTariffKind
from tariff.engine import PREFERENCE, RELIEF, Assessment, AssessmentError, tariff_snapshot

# General-segment code fields and the code list each refers to.
GENERAL_CODE_FIELDS = {
    "counterparty_country": "country",
    "dispatch_country": "country",
    "destination_country": "country",
    "transport_nationality": "country",
    "incoterm": "incoterm",
    "transport_mode": "transport_mode",
    "invoice_currency": "currency",
    "freight_currency": "currency",
    "insurance_currency": "currency",
    "other_costs_currency": "currency",
    "deductions_currency": "currency",
}
ITEM_CODE_FIELDS = {
    "origin": "country",
    "procedure_code": "procedure_code",
    "additional_procedure_code": "additional_procedure_code",
    "package_kind": "package_kind",
}
COSTS = ("freight", "insurance", "other_costs", "deductions")

GENERAL_MANDATORY = {
    "IM": [
        "counterparty_name",
        "counterparty_country",
        "dispatch_country",
        "incoterm",
        "transport_mode",
        "invoice_amount",
        "invoice_currency",
        "total_packages",
    ],
    "EX": [
        "counterparty_name",
        "counterparty_country",
        "destination_country",
        "incoterm",
        "transport_mode",
        "invoice_amount",
        "invoice_currency",
        "total_packages",
    ],
}
ITEM_MANDATORY = [
    "commodity_code",
    "description",
    "origin",
    "procedure_code",
    "packages_number",
    "package_kind",
    "gross_mass",
    "net_mass",
    "invoice_price",
]


def _missing(value) -> bool:
    return value is None or value == ""


def _required(field_name: str) -> FieldError:
    return FieldError(field_name, "required", _("This field is required."))


def _unknown(field_name: str, code: str, list_name: str) -> FieldError:
    return FieldError(
        field_name,
        "unknown_code",
        _("%(code)s is not in the code list of %(list)s.") % {"code": code, "list": LIST_LABELS[list_name]},
    )


LIST_LABELS = {
    "country": "countries",
    "currency": "currencies",
    "procedure_code": "procedure codes (CPC)",
    "additional_procedure_code": "additional procedure codes",
    "package_kind": "package kinds",
    "document_type": "document types",
    "transport_mode": "transport modes",
    "incoterm": "Incoterms",
}


GENERAL_FIGURES = [f"{cost}_amount" for cost in ("invoice", *COSTS)] + ["total_packages"]
ITEM_FIGURES = ["packages_number", "gross_mass", "net_mass", "invoice_price"]


def _negative(value) -> bool:
    if value is None or value == "":
        return False
    try:
        return Decimal(str(value)) < 0
    except ArithmeticError:  # not a number: the form or serializer says so
        return False


def _negative_error(field_name: str) -> FieldError:
    return FieldError(field_name, "min_value", _("This figure cannot be negative."))


def references_check(general: dict, items: list[dict]) -> list[FieldError]:
    """Problems that stop a draft from being saved: unknown codes, negative figures, net > gross."""
    errors = []
    for name, list_name in GENERAL_CODE_FIELDS.items():
        code = general.get(name)
        if code and not code_exists(list_name, code):
            errors.append(_unknown(name, code, list_name))
    for name in GENERAL_FIGURES:
        if _negative(general.get(name)):
            errors.append(_negative_error(name))
    for cost in COSTS:
        if general.get(f"{cost}_amount") is not None and not general.get(f"{cost}_currency"):
            errors.append(FieldError(f"{cost}_currency", "required", _("Give the currency of this amount.")))
    for index, item in enumerate(items):
        prefix = f"items[{index}]"
        for name, list_name in ITEM_CODE_FIELDS.items():
            code = item.get(name)
            if code and not code_exists(list_name, code):
                errors.append(_unknown(f"{prefix}.{name}", code, list_name))
        for name in ITEM_FIGURES:
            if _negative(item.get(name)):
                errors.append(_negative_error(f"{prefix}.{name}"))
        gross, net = item.get("gross_mass"), item.get("net_mass")
        if gross is not None and net is not None and net > gross:
            errors.append(
                FieldError(
                    f"{prefix}.net_mass",
                    "net_mass_exceeds_gross",
                    _("The net mass cannot exceed the gross mass."),
                )
            )
    return errors


def _general_values(declaration) -> dict:
    return {
        "counterparty_name": declaration.counterparty_name,
        "counterparty_country": declaration.counterparty_country_id,
        "dispatch_country": declaration.dispatch_country_id,
        "destination_country": declaration.destination_country_id,
        "transport_nationality": declaration.transport_nationality_id,
        "incoterm": declaration.incoterm_id,
        "transport_mode": declaration.transport_mode_id,
        "invoice_amount": declaration.invoice_amount,
        "invoice_currency": declaration.invoice_currency_id,
        "freight_currency": declaration.freight_currency_id,
        "insurance_currency": declaration.insurance_currency_id,
        "other_costs_currency": declaration.other_costs_currency_id,
        "deductions_currency": declaration.deductions_currency_id,
        "total_packages": declaration.total_packages,
    }


def _item_values(item) -> dict:
    return {
        "commodity_code": item.commodity_code,
        "description": item.description,
        "origin": item.origin_id,
        "procedure_code": item.procedure_code_id,
        "additional_procedure_code": item.additional_procedure_code_id,
        "packages_number": item.packages_number,
        "package_kind": item.package_kind_id,
        "gross_mass": item.gross_mass,
        "net_mass": item.net_mass,
        "invoice_price": item.invoice_price,
    }


def lodgement_check(
    declaration, items: list, documents: list, *, actor, day: datetime.date
) -> tuple[list[FieldError], Assessment | None]:
    """Every problem that stops lodgement, and the assessment when there are none.

    ``items`` and ``documents`` are the declaration's rows (passed in so callers read them once).
    """
    from declarations.services.assessment import assessment_input

    errors: list[FieldError] = []
    direction = direction_of(declaration.declaration_type)
    general = _general_values(declaration)
    for name in GENERAL_MANDATORY[direction]:
        if _missing(general[name]):
            errors.append(_required(name))
    for name, list_name in GENERAL_CODE_FIELDS.items():
        code = general.get(name)
        if code and not code_valid_on(list_name, code, day):
            errors.append(
                FieldError(
                    name,
                    "code_not_valid",
                    _("%(code)s is not valid on %(day)s.") % {"code": code, "day": day.isoformat()},
                )
            )
    office = declaration.office
    office_role = "import" if direction == "IM" else "export"
    if not office.can(office_role):
        errors.append(
            FieldError(
                "office",
                "office_not_competent",
                _("Office %(office)s does not handle %(what)s declarations.")
                % {"office": office.code, "what": _("import") if direction == "IM" else _("export")},
            )
        )
    if not items:
        errors.append(FieldError("items", "required", _("A declaration needs at least one item.")))
    _check_declarant(declaration, actor, day, direction, errors)
    _check_rates(declaration, day, errors)

    snapshot = tariff_snapshot(day)
    allowed_procedures = REQUESTED_PROCEDURES[declaration.declaration_type]
    for index, item in enumerate(items):
        prefix = f"items[{index}]"
        values = _item_values(item)
        for name in ITEM_MANDATORY:
            if _missing(values[name]):
                errors.append(_required(f"{prefix}.{name}"))
        for name, list_name in ITEM_CODE_FIELDS.items():
            code = values.get(name)
            if code and not code_valid_on(list_name, code, day):
                errors.append(
                    FieldError(
                        f"{prefix}.{name}",
                        "code_not_valid",
                        _("%(code)s is not valid on %(day)s.") % {"code": code, "day": day.isoformat()},
                    )
                )
        cpc = values["procedure_code"]
        if cpc and (procedure_direction(cpc) != direction or cpc[:2] not in allowed_procedures):
            errors.append(
                FieldError(
                    f"{prefix}.procedure_code",
                    "procedure_not_allowed",
                    _("Procedure %(cpc)s does not fit a %(type)s declaration.")
                    % {"cpc": cpc, "type": declaration.declaration_type},
                )
            )
        code = values["commodity_code"]
        if code:
            line = snapshot.lines.get(code)
            if line is None:
                errors.append(
                    FieldError(
                        f"{prefix}.commodity_code",
                        "commodity_code_not_valid",
                        _("%(code)s is not a commodity code of the tariff in force on %(day)s.")
                        % {"code": code, "day": day.isoformat()},
                    )
                )
            elif not line.declarable:
                errors.append(
                    FieldError(
                        f"{prefix}.commodity_code",
                        "commodity_code_not_declarable",
                        _("%(code)s is not a declarable line; choose one of its subdivisions.")
                        % {"code": code},
                    )
                )
        if item.valuation_method != ValuationMethod.TRANSACTION_VALUE and not item.valuation_justification:
            errors.append(
                FieldError(
                    f"{prefix}.valuation_justification",
                    "justification_required",
                    _("Methods 2 to 6 need the justification of the value."),
                )
            )
    _check_totals(declaration, items, errors)
    if errors:
        return errors, None

    try:
        from tariff.engine import assess

        assessment = assess(assessment_input(declaration, items, documents, day=day))
    except AssessmentError as error:
        return [FieldError(error.field, "assessment_failed", str(error))], None
    for index, assessed in enumerate(assessment.items):
        prefix = f"items[{index}]"
        # One error per missing document: a relief of duty and VAT names the same document twice.
        for what, document in dict.fromkeys(assessed.missing_documents):
            if what == PREFERENCE:
                errors.append(
                    FieldError(
                        f"{prefix}.preference_requested",
                        "proof_of_origin_missing",
                        _("A preference needs the proof of origin %(document)s attached.")
                        % {"document": document},
                    )
                )
            elif what == RELIEF:
                errors.append(
                    FieldError(
                        f"{prefix}.procedure_code",
                        "relief_document_missing",
                        _("This procedure's relief needs document %(document)s attached.")
                        % {"document": document},
                    )
                )
        for restriction in assessed.restrictions:
            if restriction.satisfied:
                continue
            code = "prohibited" if restriction.kind == NonTariffKind.PROHIBITED else "document_required"
            errors.append(FieldError(f"{prefix}.documents", code, restriction.description))
    return errors, (None if errors else assessment)


def _check_declarant(declaration, actor, day, direction, errors):
    """The trader must be one the actor may act for (its own, or one that authorised its broker)."""
    if actor is None or not (actor.trader_id or actor.broker_id):
        return  # an officer registering a lodged declaration: the declarant was checked on lodgement
    scope = AuthorisationScope.IMPORT if direction == "IM" else AuthorisationScope.EXPORT
    if actor.trader_id:  # a trader declares for itself while it is active
        allowed = declaration.trader_id == actor.trader_id and declaration.trader.active
    else:
        allowed = (
            trader_list_for_user(actor, on_day=day, scope=scope).filter(pk=declaration.trader_id).exists()
        )
    if not allowed:
        errors.append(
            FieldError(
                "trader",
                "declarant_not_authorised",
                _("You are not authorised to declare %(what)s for this trader on %(day)s.")
                % {"what": _("imports") if direction == "IM" else _("exports"), "day": day.isoformat()},
            )
        )
    if actor.broker_id and declaration.broker_id != actor.broker_id:
        errors.append(
            FieldError("broker", "declarant_not_authorised", _("The declarant must be your broker."))
        )


def _check_rates(declaration, day, errors):
    snapshot_rates = tariff_snapshot(day).rates
    national = settings.NATIONAL_CURRENCY
    needed = {"invoice_currency": declaration.invoice_currency_id}
    for cost in COSTS:
        if getattr(declaration, f"{cost}_amount") is not None:
            needed[f"{cost}_currency"] = getattr(declaration, f"{cost}_currency_id")
    for name, currency in needed.items():
        if currency and currency != national and currency not in snapshot_rates:
            errors.append(
                FieldError(
                    name,
                    "exchange_rate_missing",
                    _("There is no exchange rate for %(currency)s in force on %(day)s.")
                    % {"currency": currency, "day": day.isoformat()},
                )
            )


def _check_totals(declaration, items, errors):
    prices = [item.invoice_price for item in items]
    if declaration.invoice_amount is not None and items and all(price is not None for price in prices):
        total = sum(prices, Decimal(0))
        if total != declaration.invoice_amount:
            errors.append(
                FieldError(
                    "invoice_amount",
                    "totals_inconsistent",
                    _("The invoice amount %(amount)s is not the sum of the item prices, %(total)s.")
                    % {"amount": declaration.invoice_amount, "total": total},
                )
            )
    packages = [item.packages_number for item in items]
    if declaration.total_packages is not None and items and all(number is not None for number in packages):
        total = sum(packages)
        if total != declaration.total_packages:
            errors.append(
                FieldError(
                    "total_packages",
                    "totals_inconsistent",
                    _("The total number of packages %(declared)s is not the sum over the items, %(total)s.")
                    % {"declared": declaration.total_packages, "total": total},
                )
            )
