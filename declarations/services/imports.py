"""Imports of declarations from other systems' XML (ASYCUDA World, WCO DM 3.6) as drafts, with a report.

``declaration_import_request`` keeps the file and queues ``declarations.import_declaration``, whose
service ``declaration_import_run`` does the work:

1. parse safely (``customs.xmlsafe``: no entities, no DTD, no network, size and depth limits);
2. tell the format by the root element and read it (``declarations.exchange``: pure readers that say
   what they mapped and what they left out, and why);
3. meet Kerwen's registers: the office and the trader by their codes (or the uploader's choice), every
   code against its code list, the commodity codes against the tariff. An unknown code is kept in the
   report with where it was, flagged, and left empty on the draft (a draft never stores an unknown code;
   the commodity code, a plain field, is kept on the draft as well);
4. make the draft, with the file's documents attached as references;
5. what lodging would say now (``declaration_preview``), and where the file has its own tax lines,
   Kerwen's assessment beside them, line by line.

Nothing is half-written: the draft, its items and documents and the report are written in one transaction,
or the import is refused with the reason and nothing else is stored.
"""

import datetime
import hashlib
import logging
import time
from dataclasses import asdict
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from customs.models import DocumentType, Trader
from customs.queue import enqueue_on_commit
from customs.reference_cache import code_exists
from customs.services.audit import audit_record
from customs.xmlsafe import DEFAULT_MAX_BYTES, XmlRefused, xml_parse
from declarations.choices import DeclarationType
from declarations.exchange.base import ImportedDeclaration, ImportReport, ImportUnreadable, draft_text_limits
from declarations.exchange.wcodm.common import UNITS_BY_CODE
from declarations.models import Declaration, DeclarationDocument, DeclarationImport
from declarations.services import drafts
from declarations.services.drafts import GENERAL_TEXT_FIELDS
from declarations.services.errors import DeclarationInvalid, FieldError, NotAuthorised
from declarations.services.offices import office_for_declarations
from declarations.services.permissions import declarant_traders
from declarations.services.validation import (
    GENERAL_CODE_FIELDS,
    ITEM_CODE_FIELDS,
    LIST_LABELS,
    references_check,
)
from tariff.expressions import Unit

logger = logging.getLogger(__name__)

WCO_NAMESPACE_PREFIX = "urn:wco:datamodel:WCO:"

# Field lengths and decimal places of the draft (``declarations.models``): longer text is cut, finer
# figures are rounded, and the report says so.
GENERAL_TEXT_LIMITED = ["lrn", *GENERAL_TEXT_FIELDS]
ITEM_TEXT_LIMITED = ["marks", "commodity_code"]
MONEY_PLACES = Decimal("0.0001")
MASS_PLACES = Decimal("0.000001")
MONEY_FIELDS = [
    "invoice_amount",
    "freight_amount",
    "insurance_amount",
    "other_costs_amount",
    "deductions_amount",
]
ITEM_MONEY_FIELDS = ["invoice_price"]
ITEM_MASS_FIELDS = ["gross_mass", "net_mass"]
LARGEST_FIGURE = Decimal("1e13")  # 18 digits with 4 or 6 after the point

# Units of supplementary quantities: Kerwen's own (``tariff.expressions.Unit``), and the codes other
# systems use for them (UN/ECE Recommendation 20 as WCO DM writes them, plus ASYCUDA's usual ones).
KERWEN_UNITS = {unit.value for unit in Unit}
UNIT_ALIASES = {
    **UNITS_BY_CODE,
    "NMB": "item",
    "PCE": "item",
    "U": "item",
    "C62": "item",  # UN/ECE "one"
    "PR": "pair",
    "KGM": "kg",
    "KG": "kg",
    "L": "l",
}

# The tax codes of other systems' tax lines and the Kerwen tax each compares with.
FILE_TAX_CODES = {
    "import_duty": {"CD", "CET", "DUT", "DTY", "ID", "IMD", "ICD", "DOG"},  # DOG: Albania's doganë
    "export_duty": {"ED", "EXD", "EXP"},
    "excise": {"EXC", "EXT", "AKC", "AKS", "ECS", "ET"},  # AKC: Albania's akcizë; ExT: Grenada's
    "vat": {"VAT", "TVA", "TVS", "TVSH", "GST"},  # TVS(H): Albania's VAT
    "customs_fee": {"CSC", "FEE", "CSF"},  # CSC: the customs service charge (Grenada)
}


class ImportRefused(Exception):
    def __init__(self, code: str, message: str, problems: list | None = None):
        super().__init__(message)
        self.code, self.message, self.problems = code, message, problems or []


# --- The request ----------------------------------------------------------------------------------------


def declaration_import_request(
    *, actor, content: bytes, filename: str, trader_code: str = "", office_code: str = ""
) -> DeclarationImport:
    """Keep an uploaded file and queue its import; the trader and office given are used when the file's
    own are not Kerwen's. ``NotAuthorised`` for users who do not lodge, ``DeclarationInvalid`` for a file
    too large or empty, or a trader the actor may not declare for."""
    if not (actor.trader_id or actor.broker_id):
        raise NotAuthorised(_("Only trader and broker users import declarations."))
    errors = []
    if not content:
        errors.append(FieldError("file", "required", _("Choose an XML file.")))
    elif len(content) > DEFAULT_MAX_BYTES:
        errors.append(
            FieldError(
                "file",
                "too_large",
                _("The file is %(size)s bytes long; at most %(limit)s bytes are accepted.")
                % {"size": len(content), "limit": DEFAULT_MAX_BYTES},
            )
        )
    trader = None
    if trader_code:
        trader = Trader.objects.filter(taxpayer_id=trader_code, active=True).first()
        if trader is None or trader.pk not in declarant_traders(actor):
            errors.append(
                FieldError(
                    "trader",
                    "declarant_not_authorised",
                    _("You are not authorised to declare for this trader."),
                )
            )
    office = None
    if office_code:
        office = office_for_declarations(office_code)
        if office is None:
            errors.append(FieldError("office", "unknown_code", _("Choose an active customs office.")))
    if errors:
        raise DeclarationInvalid(errors)
    with transaction.atomic():
        record = DeclarationImport.objects.create(
            uploaded_by=actor,
            trader=trader,
            office=office,
            filename=(filename or "declaration.xml")[:255],
            content=content,
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
        )
        audit_record(
            action="declarations.import.requested",
            actor=actor,
            obj=record,
            after={"filename": record.filename, "sha256": record.sha256, "size": record.size},
        )
        enqueue_on_commit("declarations.import_declaration", record.pk)
    return record


def declaration_imports_pending(older_than_seconds: int = 60) -> list[int]:
    """Imports still waiting after a while (their task was lost): the sweeper queues them again."""
    since = timezone.now() - datetime.timedelta(seconds=older_than_seconds)
    return list(
        DeclarationImport.objects.filter(status=DeclarationImport.Status.PENDING, created_at__lt=since)
        .order_by("created_at")
        .values_list("pk", flat=True)[:100]
    )


# --- The work -------------------------------------------------------------------------------------------


def read_file(content: bytes) -> ImportedDeclaration:
    """Parse ``content`` safely and read it with the reader of its format; ``ImportRefused`` otherwise."""
    from declarations.exchange.asycuda import asycuda_read
    from declarations.exchange.wcodm import wcodm_read

    try:
        tree = xml_parse(content)
    except XmlRefused as refused:
        raise ImportRefused(
            refused.code,
            refused.message,
            [{"line": refused.line, "message": refused.message}] if refused.line else [],
        ) from None
    root = tree.getroot()
    tag = root.tag if isinstance(root.tag, str) else ""
    try:
        if tag == "ASYCUDA":
            return asycuda_read(tree)
        if tag.startswith("{" + WCO_NAMESPACE_PREFIX):
            return wcodm_read(tree)
    except ImportUnreadable as unreadable:
        raise ImportRefused(
            unreadable.code,
            unreadable.message,
            [{"line": line, "message": message} for line, message in unreadable.problems],
        ) from None
    raise ImportRefused(
        "unknown_format",
        _(
            "This is not a declaration Kerwen reads: the root element is %(root)s. Send an ASYCUDA World "
            "file (root ASYCUDA) or a WCO Data Model 3.6 declaration."
        )
        % {"root": tag.split("}")[-1] or "?"},
    )


MAX_ATTEMPTS = 3


def _pending_locked(import_id: int):
    return (
        DeclarationImport.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("uploaded_by", "trader", "office")
        .filter(pk=import_id, status=DeclarationImport.Status.PENDING)
        .first()
    )


def _status_of(import_id: int) -> str:
    return DeclarationImport.objects.filter(pk=import_id).values_list("status", flat=True).first() or ""


def declaration_import_run(import_id: int) -> str:
    """Read a pending import into a draft (the task's work); returns the import's status afterwards.

    Three steps, so that no transaction stays open while a file is read (an open write transaction holds
    back the events' pull cursor for everyone, ``customs.services.events``): a short one takes the import
    and counts the attempt; the file is parsed and read with no transaction; one transaction writes the
    draft, its parts and the report, or nothing. Idempotent: a finished import is left as it is, and one
    that another worker finished meanwhile too. A file that breaks the reader in a way it did not foresee
    fails with ``internal_error`` (logged) rather than staying "being read"; after ``MAX_ATTEMPTS`` tries
    that never finished (a worker killed mid-way), the import fails with ``gave_up``.
    """
    started = time.monotonic()
    with transaction.atomic():
        record = _pending_locked(import_id)
        if record is None:  # finished, or another worker has it this instant
            return _status_of(import_id)
        if record.attempts >= MAX_ATTEMPTS:
            return _fail(record, "gave_up", _("The file could not be read after several tries."), [], started)
        record.attempts += 1
        record.save(update_fields=["attempts"])
    try:
        imported = read_file(bytes(record.content))
    except ImportRefused as refused:
        return _fail_locked(import_id, refused.code, refused.message, refused.problems, started)
    except Exception:
        logger.exception("Import %s: the reader failed", import_id)
        return _fail_locked(import_id, "internal_error", INTERNAL_ERROR_MESSAGE, [], started)
    try:
        with transaction.atomic():
            record = _pending_locked(import_id)
            if record is None:
                return _status_of(import_id)
            record.format = imported.format
            try:
                with transaction.atomic():  # the draft and its parts, or nothing
                    declaration, report = _draft_make(record, imported)
            except ImportRefused as refused:
                return _fail(record, refused.code, refused.message, refused.problems, started)
            record.status = DeclarationImport.Status.DONE
            record.declaration, record.report = declaration, report
            return _finish(record, started)
    except Exception:
        logger.exception("Import %s: the draft could not be made", import_id)
        return _fail_locked(import_id, "internal_error", INTERNAL_ERROR_MESSAGE, [], started)


INTERNAL_ERROR_MESSAGE = gettext_lazy(
    "Kerwen could not read this file because of an error of its own, which is logged; tell the customs "
    "service's support, with the file."
)


def _fail_locked(import_id: int, code: str, message, problems: list, started: float) -> str:
    with transaction.atomic():
        record = _pending_locked(import_id)
        if record is None:
            return _status_of(import_id)
        return _fail(record, code, message, problems, started)


def _fail(record: DeclarationImport, code: str, message, problems: list, started: float) -> str:
    record.status = DeclarationImport.Status.FAILED
    record.error_code, record.error_message, record.problems = code, str(message), problems
    return _finish(record, started)


def _finish(record: DeclarationImport, started: float) -> str:
    """Save a finished import (in the caller's transaction) and audit it."""
    record.finished_at = timezone.now()
    record.duration_ms = int((time.monotonic() - started) * 1000)
    record.save()
    audit_record(
        action=f"declarations.import.{record.status}",
        actor=record.uploaded_by,
        obj=record,
        after={
            "format": record.format,
            "declaration": record.declaration_id,
            "error": record.error_code,
            "ms": record.duration_ms,
        },
    )
    return record.status


# --- Meeting Kerwen's registers -------------------------------------------------------------------------


def _item_label(field_name: str) -> str:
    """``items[0].origin`` (the drafts' 0-based path) as the report says it: ``items[1].origin``."""
    if field_name.startswith("items[") and "]" in field_name:
        index, rest = field_name[6:].split("]", 1)
        if index.isdigit():
            return f"items[{int(index) + 1}]{rest}"
    return field_name


def _resolve_office(record: DeclarationImport, imported: ImportedDeclaration, report: ImportReport):
    code = (imported.office_code or "").strip().upper()
    office = office_for_declarations(code) if code else None
    if office is not None:
        return office
    if record.office is not None:
        if code:
            report.flag(
                "office",
                code,
                "unknown_office",
                _(
                    "The file's office %(code)s is not a Kerwen office: the draft is for %(office)s, "
                    "as you chose."
                )
                % {"code": code, "office": record.office.code},
            )
        return record.office
    raise ImportRefused(
        "office_required",
        _("The file's office %(code)s is not a Kerwen office; choose the office when you upload.")
        % {"code": code or "?"},
    )


def _resolve_trader(record: DeclarationImport, imported: ImportedDeclaration, report: ImportReport):
    """The file's trader when the uploader may declare for it; else the trader chosen on upload (a trader
    user's own by default), with the reason flagged; else the import is refused."""
    actor = record.uploaded_by
    allowed = declarant_traders(actor)
    chosen = record.trader or (actor.trader if actor.trader_id else None)
    party = next((party for party in imported.parties if party.role == "trader"), None)
    code = (party.code if party else "").strip()
    if not code:
        if chosen is None:
            raise ImportRefused(
                "trader_required", _("The file names no trader; choose the trader when you upload.")
            )
        return chosen
    trader = Trader.objects.filter(taxpayer_id=code, active=True).first()
    if trader is not None and trader.pk in allowed:
        return trader
    # One message whether or not the code is registered: the report must not tell which taxpayer IDs are.
    message = _("%(code)s (%(name)s, as the file names it) is not a trader you may declare for.") % {
        "code": code,
        "name": party.name or "?",
    }
    if chosen is None:
        raise ImportRefused("trader_required", message + " " + _("Choose the trader when you upload."))
    report.flag(
        "trader",
        code,
        "unknown_party",
        message
        + " "
        + (
            _("The draft is for %(trader)s, as you chose.")
            if record.trader
            else _("The draft is for %(trader)s, your own.")
        )
        % {"trader": chosen.name},
    )
    return chosen


def _declarant_check(record: DeclarationImport, imported: ImportedDeclaration, report: ImportReport) -> None:
    party = next((party for party in imported.parties if party.role == "declarant"), None)
    if party is None or not party.code:
        return
    actor = record.uploaded_by
    own_codes = set()
    if actor.broker_id:
        own_codes = {actor.broker.licence_number, actor.broker.taxpayer_id}
    elif actor.trader_id:
        own_codes = {actor.trader.taxpayer_id}
    if party.code not in own_codes:
        report.flag(
            "declarant",
            party.code,
            "other_declarant",
            _("The file's declarant is %(code)s (%(name)s); in Kerwen you are the declarant of this draft.")
            % {"code": party.code, "name": party.name or "?"},
        )


def _code_clean(container: dict, name: str, list_name: str, label: str, report: ImportReport) -> None:
    code = container.get(name)
    if code in (None, ""):
        return
    code = str(code).strip().upper()
    container[name] = code
    if not code_exists(list_name, code):
        container[name] = None
        report.flag(
            label,
            code,
            "unknown_code",
            _(
                "%(code)s is not in Kerwen's code list of %(list)s: left empty on the draft; "
                "choose the right code."
            )
            % {"code": code, "list": LIST_LABELS.get(list_name, list_name)},
        )


def _text_clean(container: dict, name: str, limit: int, label: str, report: ImportReport) -> None:
    value = container.get(name)
    if isinstance(value, str) and len(value) > limit:
        container[name] = value[:limit]
        report.flag(
            label,
            value,
            "truncated",
            _("Longer than the %(limit)s characters Kerwen keeps: cut.") % {"limit": limit},
        )


def _figure_clean(container: dict, name: str, places: Decimal, label: str, report: ImportReport) -> None:
    value = container.get(name)
    if value is None or value == "":
        return
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        container[name] = None
        report.flag(label, value, "not_a_number", _("Not a number: left empty."))
        return
    if not number.is_finite() or abs(number) >= LARGEST_FIGURE:
        container[name] = None
        report.flag(label, value, "out_of_range", _("Too large a figure: left empty."))
        return
    rounded = number.quantize(places, rounding=ROUND_HALF_UP)
    if rounded != number:
        report.flag(
            label,
            value,
            "rounded",
            _("Rounded to %(value)s, the precision Kerwen keeps.") % {"value": rounded},
        )
        number = rounded
    container[name] = number  # as the file wrote it when it fits: 1 stays 1, not 1.000000


def _clean(data: dict, report: ImportReport) -> None:
    """Codes checked against the code lists, text cut to the draft's lengths, figures to its precision."""
    for name, list_name in GENERAL_CODE_FIELDS.items():
        _code_clean(data, name, list_name, name, report)
    limits = draft_text_limits()
    for name in GENERAL_TEXT_LIMITED:
        if name in limits:
            _text_clean(data, name, limits[name], name, report)
    for name in MONEY_FIELDS:
        _figure_clean(data, name, MONEY_PLACES, name, report)
    for cost in ("freight", "insurance", "other_costs", "deductions"):
        if (
            data.get(f"{cost}_amount") is not None
            and not data.get(f"{cost}_currency")
            and data.get("invoice_currency")
        ):
            data[f"{cost}_currency"] = data["invoice_currency"]
            report.flag(
                f"{cost}_currency",
                "",
                "currency_assumed",
                _("The file gives no currency for this amount: the invoice currency %(currency)s is assumed.")
                % {"currency": data["invoice_currency"]},
            )
    for number, item in enumerate(data.get("items") or [], start=1):
        prefix = f"items[{number}]"
        for name, list_name in ITEM_CODE_FIELDS.items():
            _code_clean(item, name, list_name, f"{prefix}.{name}", report)
        for name in ITEM_TEXT_LIMITED:
            _text_clean(item, name, limits[name], f"{prefix}.{name}", report)
        for name in ITEM_MONEY_FIELDS:
            _figure_clean(item, name, MONEY_PLACES, f"{prefix}.{name}", report)
        for name in ITEM_MASS_FIELDS:
            _figure_clean(item, name, MASS_PLACES, f"{prefix}.{name}", report)
        _quantities_clean(item, f"{prefix}.quantities", report)
    # What the draft's own check still refuses (a negative figure, net above gross): left empty, flagged.
    for error in references_check(data, data.get("items") or []):
        container, name = _container_of(data, error.field)
        if container is None:
            continue
        value = container.get(name)
        container[name] = None
        report.flag(_item_label(error.field), value, error.code, error.message + " " + _("Left empty."))


def _quantities_clean(item: dict, label: str, report: ImportReport) -> None:
    """Supplementary quantities in Kerwen's units: the file's unit codes (UN/ECE Recommendation 20, and
    ASYCUDA's NMB) translated; a unit Kerwen does not know is flagged with its quantity and left out."""
    quantities = {}
    for unit, quantity in (item.get("quantities") or {}).items():
        code = str(unit).strip()
        kerwen_unit = code.lower() if code.lower() in KERWEN_UNITS else UNIT_ALIASES.get(code.upper())
        if kerwen_unit is None:
            report.flag(
                label,
                f"{quantity} {code}",
                "unknown_unit",
                _("Kerwen has no unit %(unit)s: the quantity is left out; give it in the tariff's unit.")
                % {"unit": code},
            )
            continue
        if kerwen_unit in quantities:  # NMB and PCE are both Kerwen's "item": the first one stands
            report.flag(
                label,
                f"{quantity} {code}",
                "duplicate_unit",
                _("The file gives a second quantity in %(unit)s: it is left out; check the quantity.")
                % {"unit": kerwen_unit},
            )
            continue
        figure = {"quantity": quantity}
        _figure_clean(figure, "quantity", MASS_PLACES, label, report)
        if figure["quantity"] is not None:
            quantities[kerwen_unit] = figure["quantity"]
    item["quantities"] = quantities


def _container_of(data: dict, field_name: str):
    if field_name.startswith("items["):
        index_text, rest = field_name[6:].split("]", 1)
        items = data.get("items") or []
        index = int(index_text)
        return (items[index], rest.lstrip(".")) if index < len(items) else (None, "")
    return data, field_name


def _declaration_type(data: dict, report: ImportReport) -> None:
    if data.get("declaration_type") in DeclarationType.values:
        return
    given = data.get("declaration_type") or ""
    data["declaration_type"] = DeclarationType.EX1 if str(given).startswith("EX") else DeclarationType.IM4
    report.flag(
        "declaration_type",
        given,
        "type_assumed",
        _("Kerwen could not tell the type of declaration from the file: %(type)s is assumed; check it.")
        % {"type": data["declaration_type"]},
    )


def _lrn(record: DeclarationImport, data: dict, trader, report: ImportReport) -> None:
    lrn = (data.get("lrn") or "").strip()
    if not lrn:
        data["lrn"] = f"IMPORT-{record.pk}"
        report.flag(
            "lrn", "", "lrn_assumed", _("The file has no reference: %(lrn)s is given.") % {"lrn": data["lrn"]}
        )
        return
    actor = record.uploaded_by
    taken = Declaration.objects.filter(lrn=lrn)
    taken = (
        taken.filter(broker_id=actor.broker_id)
        if actor.broker_id
        else taken.filter(trader=trader, broker=None)
    )
    if taken.exists():
        data["lrn"] = f"{lrn[:24]}/IMP{record.pk}"[:35]
        report.flag(
            "lrn",
            lrn,
            "lrn_not_unique",
            _("You already have a declaration with the reference %(lrn)s: this draft is %(new)s.")
            % {"lrn": lrn, "new": data["lrn"]},
        )


def _documents(declaration: Declaration, imported: ImportedDeclaration, actor, report: ImportReport) -> int:
    known = set(DocumentType.objects.filter(active=True).values_list("code", flat=True))
    rows = []
    item_count = len(imported.data.get("items") or [])
    for document in imported.documents:
        label = f"items[{document.item_number}].documents" if document.item_number else "documents"
        code = (document.document_type or "").strip().upper()
        if code not in known:
            report.flag(
                label,
                f"{code} {document.reference}".strip(),
                "unknown_code",
                _("%(code)s is not in Kerwen's list of document types: not attached; attach it yourself.")
                % {"code": code or "?"},
            )
            continue
        if document.item_number is not None and not 1 <= document.item_number <= item_count:
            report.flag(label, document.reference, "unknown_item", _("No such item: not attached."))
            continue
        rows.append(
            DeclarationDocument(
                declaration=declaration,
                item_number=document.item_number,
                document_type_id=code,
                reference=(document.reference or "-")[:64],
                issued_on=document.issued_on,
                uploaded_by=actor,
            )
        )
    DeclarationDocument.objects.bulk_create(rows)
    return len(rows)


def _draft_make(record: DeclarationImport, imported: ImportedDeclaration) -> tuple[Declaration, dict]:
    report = imported.report
    data = dict(imported.data)
    data["items"] = [dict(item) for item in imported.data.get("items") or []]
    office = _resolve_office(record, imported, report)
    trader = _resolve_trader(record, imported, report)
    _declarant_check(record, imported, report)
    _declaration_type(data, report)
    _clean(data, report)
    _lrn(record, data, trader, report)
    data["office"], data["trader"] = office.code, trader.taxpayer_id
    actor = record.uploaded_by
    try:
        declaration, items = drafts.draft_build(actor=actor, data=data)
    except DeclarationInvalid as invalid:
        raise ImportRefused(
            "draft_invalid",
            _("The file cannot become a draft: %(errors)s")
            % {
                "errors": "; ".join(
                    f"{_item_label(error.field)}: {error.message}" for error in invalid.errors
                )
            },
        ) from None
    try:
        drafts.draft_insert(declaration, items)
    except DeclarationInvalid as taken:  # the LRN was taken meanwhile, by a concurrent lodgement
        raise ImportRefused(
            "draft_invalid",
            "; ".join(f"{_item_label(error.field)}: {error.message}" for error in taken.errors),
        ) from None
    attached = _documents(declaration, imported, actor, report)
    audit_record(
        action="declarations.declaration.created",
        actor=actor,
        obj=declaration,
        office_code=office.code,
        after={
            "lrn": declaration.lrn,
            "type": declaration.declaration_type,
            "items": len(items),
            "import": record.pk,
        },
    )
    summary = {
        "format": imported.format,
        "items": len(items),
        "documents_attached": attached,
        "totals": _jsonable(imported.totals),
        "exchange_rates": {currency: str(rate) for currency, rate in imported.exchange_rates.items()},
        "mapped": [asdict(entry) for entry in report.mapped],
        "left_out": [asdict(entry) for entry in report.left_out],
        "flagged": [asdict(entry) for entry in report.flagged],
    }
    summary.update(_lodgement_view(declaration, actor, imported))
    return declaration, summary


def _jsonable(value):
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


# --- What lodging would say, and the file's taxes beside Kerwen's ---------------------------------------


def _kerwen_tax(file_code: str) -> str:
    code = (file_code or "").strip().upper()
    for measure_type, codes in FILE_TAX_CODES.items():
        if code in codes:
            return measure_type
    return ""


def _lodgement_view(declaration: Declaration, actor, imported: ImportedDeclaration) -> dict:
    from declarations.services.lifecycle import declaration_preview

    declaration = Declaration.objects.select_related("office", "trader", "broker").get(pk=declaration.pk)
    errors, assessment = declaration_preview(actor=actor, declaration=declaration)
    assessment_problem = None
    if assessment is None and imported.file_taxes:
        # Lodging would refuse the draft, but the tariff engine may still compute its taxes (it needs
        # neither a procedure code nor a package kind): the comparison is worth having early.
        assessment, assessment_problem = _assessment_anyway(declaration)
    view = {
        "lodgement_errors": [
            {"field": _item_label(error.field), "code": error.code, "message": error.message}
            for error in errors
        ],
        "assessment": None,
        "tax_comparison": [],
    }
    if assessment is not None:
        view["assessment"] = {
            "currency": assessment.national_currency,
            "customs_value": str(assessment.customs_value),
            "total": str(assessment.total),
            "day": assessment.day.isoformat(),
            # Computed although lodging would still refuse the draft (``lodgement_errors``).
            "provisional": bool(errors),
        }
    if imported.file_taxes:
        view["tax_comparison"] = _tax_comparison(imported, assessment)
    view["assessment_problem"] = assessment_problem
    return view


def _assessment_anyway(declaration: Declaration):
    """The engine's assessment of a draft that lodging would still refuse, or why it cannot be made
    (``{"field", "message"}``: the first field the engine cannot assess)."""
    from declarations.services.assessment import assessment_input
    from tariff.engine import AssessmentError, assess

    items = list(declaration.items.all())
    documents = list(declaration.documents.all())
    try:
        return assess(assessment_input(declaration, items, documents, day=timezone.localdate())), ""
    except AssessmentError as error:
        return None, {"field": _item_label(error.field or ""), "message": str(error)}


def _tax_comparison(imported: ImportedDeclaration, assessment) -> list[dict]:
    """The file's tax lines beside Kerwen's, per item and tax; Kerwen's lines the file lacks come last.

    The file's amounts are in the national currency of the service it was made for, which the file does
    not name. When its office is one of Kerwen's, that is Kerwen's national currency, and the difference
    of each amount is given; for a file of another country's office the amounts stand side by side."""
    ours: dict[tuple[int | None, str], object] = {}
    currency = ""
    if assessment is not None:
        currency = assessment.national_currency
        for item in assessment.items:
            for tax in item.taxes:
                ours.setdefault((item.number, tax.measure_type), tax)
        for fee in assessment.fees:
            ours.setdefault((None, fee.measure_type), fee)
    made_for_us = (
        bool(imported.office_code) and office_for_declarations(imported.office_code.upper()) is not None
    )
    file_currency = settings.NATIONAL_CURRENCY if made_for_us else ""
    rows, used = [], set()
    for line in imported.file_taxes:
        measure_type = _kerwen_tax(line.tax_code)
        key = (line.item_number, measure_type)
        tax = ours.get(key) if measure_type else None
        if tax is not None:
            used.add(key)
        row = {
            "item": line.item_number,
            "file_tax": line.tax_code,
            "file_base": None if line.base is None else str(line.base),
            "file_rate": line.rate,
            "file_amount": None if line.amount is None else str(line.amount),
            "file_currency": file_currency,
            "kerwen_tax": measure_type,
            "kerwen_base": None if tax is None else str(tax.base),
            "kerwen_rate": "" if tax is None else tax.expression,
            "kerwen_amount": None if tax is None else str(tax.amount),
            "kerwen_currency": currency,
            "amount_difference": None,
            "note": "",
        }
        if tax is None:
            row["note"] = (
                _("Kerwen has no such tax on this item.")
                if assessment is not None and measure_type
                else _("Kerwen does not know this tax code.")
                if not measure_type
                else _("Kerwen cannot assess the draft yet.")
            )
        elif line.amount is not None and file_currency and file_currency == currency:
            row["amount_difference"] = str(tax.amount - line.amount)
        rows.append(row)
    for (item_number, measure_type), tax in ours.items():
        if (item_number, measure_type) in used:
            continue
        rows.append(
            {
                "item": item_number,
                "file_tax": "",
                "file_base": None,
                "file_rate": "",
                "file_amount": None,
                "file_currency": file_currency,
                "kerwen_tax": measure_type,
                "kerwen_base": str(tax.base),
                "kerwen_rate": tax.expression,
                "kerwen_amount": str(tax.amount),
                "kerwen_currency": currency,
                "amount_difference": None,
                "note": _("The file has no such tax on this item."),
            }
        )
    rows.sort(key=lambda row: (row["item"] is None, row["item"] or 0))
    return rows
