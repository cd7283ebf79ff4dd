"""Drafts: create, update, copy an item, attach and remove documents.

A draft's data is a plain dict (from the API serializer or the portal form), with codes as strings:

    {"declaration_type": "IM4", "office": "TMA01", "trader": "101012345678", "lrn": "INV-1",
     "counterparty_name": ..., "dispatch_country": "CN", "incoterm": "FOB", "invoice_amount": Decimal,
     "invoice_currency": "USD", "freight_amount": Decimal, "freight_currency": "USD", ...,
     "items": [{"commodity_code": "8703231900", "origin": "CN", "procedure_code": "4000", ...}, ...]}

Saving checks the references (``validation.references_check``), never completeness: a draft may be
half-filled, but it never stores an unknown code.
"""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from customs.files import content_matches
from customs.models import CustomsOffice, Trader
from customs.rows import model_new, row_fetch
from customs.services.audit import audit_record
from declarations.choices import EDITABLE_STATES, Status
from declarations.models import Declaration, DeclarationDocument, DeclarationItem
from declarations.services.errors import (
    DeclarationInvalid,
    FieldError,
    NotAuthorised,
    StaleVersion,
    TransitionNotAllowed,
    lrn_error,
)
from declarations.services.locking import declaration_lock
from declarations.services.offices import office_for_declarations
from declarations.services.permissions import declarant_traders, ensure_declarant
from declarations.services.validation import GENERAL_CODE_FIELDS, ITEM_CODE_FIELDS, references_check
from declarations.services.writing import declaration_write_new, rows_known

GENERAL_TEXT_FIELDS = [
    "counterparty_name",
    "counterparty_address",
    "delivery_place",
    "transport_identity",
    "goods_location",
    "freight_split",
]
GENERAL_NUMBER_FIELDS = [
    "invoice_amount",
    "freight_amount",
    "insurance_amount",
    "other_costs_amount",
    "deductions_amount",
    "total_packages",
]
ITEM_PLAIN_FIELDS = [
    "commodity_code",
    "description",
    "preference_requested",
    "packages_number",
    "marks",
    "gross_mass",
    "net_mass",
    "invoice_price",
    "valuation_method",
    "valuation_justification",
]
MAX_ITEMS = 999


def _apply_general(declaration: Declaration, data: dict) -> None:
    for name in GENERAL_TEXT_FIELDS:
        if name in data:
            setattr(declaration, name, data[name] or ("price" if name == "freight_split" else ""))
    for name in GENERAL_NUMBER_FIELDS:
        if name in data:
            setattr(declaration, name, data[name])
    for name in GENERAL_CODE_FIELDS:
        if name in data:
            setattr(declaration, f"{name}_id", data[name] or None)
    if "lrn" in data:
        declaration.lrn = (data["lrn"] or "").strip()


def _build_items(declaration: Declaration, rows: list[dict]) -> list[DeclarationItem]:
    items = []
    for index, row in enumerate(rows):
        item = model_new(DeclarationItem, declaration=declaration, number=index + 1)
        for name in ITEM_PLAIN_FIELDS:
            if name in row and row[name] is not None:
                setattr(item, name, row[name])
        for name in ITEM_CODE_FIELDS:
            setattr(item, f"{name}_id", row.get(name) or None)
        item.quantities = {str(unit): str(value) for unit, value in (row.get("quantities") or {}).items()}
        items.append(item)
    return items


def _resolve_parties(*, actor, data: dict, errors: list[FieldError]):
    """Office, trader and broker of a new declaration, from their codes, checked for the actor."""
    office = office_for_declarations(data.get("office") or "")
    if office is None:
        errors.append(FieldError("office", "unknown_code", _("Choose an active customs office.")))
    trader = row_fetch(Trader, "taxpayer_id = %s AND active", [data.get("trader") or ""])
    if trader is None:
        errors.append(
            FieldError("trader", "unknown_code", _("There is no active trader with this taxpayer ID."))
        )
    elif trader.pk not in declarant_traders(actor):
        errors.append(
            FieldError(
                "trader", "declarant_not_authorised", _("You are not authorised to declare for this trader.")
            )
        )
    broker = actor.broker if actor.broker_id else None  # cached on the user for the request
    return office, trader, broker


def _check_count(rows, errors):
    if len(rows) > MAX_ITEMS:
        errors.append(
            FieldError(
                "items", "too_many_items", _("A declaration has at most %(max)s items.") % {"max": MAX_ITEMS}
            )
        )


def _lrn_taken(declaration: Declaration) -> bool:
    others = Declaration.objects.filter(lrn=declaration.lrn).exclude(pk=declaration.pk)
    if declaration.broker_id:
        return others.filter(broker_id=declaration.broker_id).exists()
    return others.filter(trader_id=declaration.trader_id, broker__isnull=True).exists()


def _save_checked(declaration: Declaration) -> None:
    """Save a stored declaration; a taken LRN (the unique constraints per declarant) becomes the field error.

    Called inside the service's ``atomic()``, which the raised error rolls back: no savepoint needed.
    """
    try:
        declaration.save()
    except IntegrityError as error:
        if "lrn" in str(error):
            raise DeclarationInvalid([lrn_error(declaration.lrn)]) from error
        raise


def draft_build(*, actor, data: dict) -> tuple[Declaration, list[DeclarationItem]]:
    """A new declaration and its items in memory, checked as a draft is on save (parties, LRN,
    references); ``DeclarationInvalid`` otherwise. Nothing is written."""
    errors: list[FieldError] = []
    if not (actor.trader_id or actor.broker_id):
        raise NotAuthorised(_("Only trader and broker users lodge declarations."))
    office, trader, broker = _resolve_parties(actor=actor, data=data, errors=errors)
    rows = data.get("items") or []
    _check_count(rows, errors)
    if not (data.get("lrn") or "").strip():
        errors.append(FieldError("lrn", "required", _("Give your own reference for this declaration (LRN).")))
    errors.extend(references_check(data, rows))
    if errors:
        raise DeclarationInvalid(errors)
    declaration = model_new(
        Declaration,
        declaration_type=data["declaration_type"],
        office=office,
        trader=trader,
        broker=broker,
        created_by=actor,
        status=Status.STORED,
    )
    _apply_general(declaration, data)
    return declaration, _build_items(declaration, rows)


def draft_insert(declaration: Declaration, items: list[DeclarationItem]) -> None:
    """Insert a built declaration and its items in one statement (``writing.declaration_write_new``),
    in the caller's transaction. A taken LRN is refused by the database's unique constraint (race-free,
    and no query to ask first) and becomes the field error."""
    declaration_write_new(declaration, items, [], [], year=None)


def declaration_create(*, actor, data: dict) -> Declaration:
    """Create a draft for a trader the actor may act for; the actor's broker is the declarant."""
    declaration, items = draft_build(actor=actor, data=data)
    with transaction.atomic():
        draft_insert(declaration, items)
        rows_known(declaration, items=items, tax_lines=[], documents=[], status_changes=[])
        audit_record(
            action="declarations.declaration.created",
            actor=actor,
            obj=declaration,
            office_code=declaration.office.code,
            after={"lrn": declaration.lrn, "type": declaration.declaration_type, "items": len(items)},
        )
    return declaration


def _locked_editable(*, actor, declaration, expected_version) -> Declaration:
    locked = declaration_lock(declaration.pk)
    ensure_declarant(actor, locked)
    if expected_version is not None and locked.version != expected_version:
        raise StaleVersion(locked.version)
    if locked.status not in EDITABLE_STATES:
        raise TransitionNotAllowed(
            _("A %(status)s declaration cannot be edited.") % {"status": locked.get_status_display().lower()}
        )
    return locked


def declaration_update(*, actor, declaration: Declaration, data: dict, expected_version: int | None = None):
    """Change a draft: the general fields given, and the whole item list when ``items`` is given."""
    rows = data.get("items")
    errors: list[FieldError] = []
    if rows is not None:
        _check_count(rows, errors)
    if "lrn" in data and not (data.get("lrn") or "").strip():
        errors.append(FieldError("lrn", "required", _("Give your own reference for this declaration (LRN).")))
    errors.extend(references_check(data, rows or []))
    if "declaration_type" in data and data["declaration_type"] not in {"IM4", "IM5", "IM7", "EX1", "EX3"}:
        errors.append(FieldError("declaration_type", "invalid_choice", _("Choose a declaration type.")))
    if errors:
        raise DeclarationInvalid(errors)
    with transaction.atomic():
        locked = _locked_editable(actor=actor, declaration=declaration, expected_version=expected_version)
        if "office" in data:
            office = CustomsOffice.objects.filter(code=data["office"] or "", active=True).first()
            if office is None:
                raise DeclarationInvalid(
                    [FieldError("office", "unknown_code", _("Choose an active customs office."))]
                )
            locked.office = office
        if "declaration_type" in data:
            locked.declaration_type = data["declaration_type"]
        _apply_general(locked, data)
        if "lrn" in data and _lrn_taken(locked):
            raise DeclarationInvalid([lrn_error(locked.lrn)])
        locked.version += 1
        _save_checked(locked)
        if rows is not None:
            DeclarationItem.objects.filter(declaration=locked).delete()
            DeclarationItem.objects.bulk_create(_build_items(locked, rows))
        audit_record(
            action="declarations.declaration.updated",
            actor=actor,
            obj=locked,
            office_code=locked.office.code,
            after={
                "version": locked.version,
                "fields": sorted(set(data) - {"items"}),
                "items": rows is not None,
            },
        )
    return locked


def declaration_item_copy(*, actor, declaration: Declaration, item_number: int) -> DeclarationItem:
    """Append a copy of item ``item_number`` as the last item of a draft."""
    with transaction.atomic():
        locked = _locked_editable(actor=actor, declaration=declaration, expected_version=None)
        items = list(locked.items.order_by("number"))
        source = next((item for item in items if item.number == item_number), None)
        if source is None:
            raise DeclarationInvalid(
                [FieldError("item", "not_found", _("There is no item %(n)s.") % {"n": item_number})]
            )
        if len(items) >= MAX_ITEMS:
            raise DeclarationInvalid([FieldError("items", "too_many_items", _("The declaration is full."))])
        source.pk = None
        source.number = len(items) + 1
        source.customs_value = None
        source.valuation_steps = []
        source.save(force_insert=True)
        locked.version += 1
        locked.save(update_fields=["version", "updated_at"])
        audit_record(
            action="declarations.item.copied",
            actor=actor,
            obj=locked,
            office_code=locked.office.code,
            after={"from": item_number, "to": source.number},
        )
    return source


# States in which the declarant may attach documents: a draft, a lodged declaration awaiting
# registration, or one whose query the declarant answers.
ATTACHABLE_STATES = frozenset({Status.STORED, Status.QUERIED, Status.LODGED})
# The content types of attached documents (each file is checked against its type's signature).
ALLOWED_CONTENT_TYPES = {"application/pdf", "image/png", "image/jpeg", "image/tiff"}
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024


def declaration_document_attach(
    *,
    actor,
    declaration: Declaration,
    document_type: str,
    reference: str,
    issued_on=None,
    item_number=None,
    file=None,
) -> DeclarationDocument:
    """Attach a document (type, reference, date, optional PDF or image) to the declaration or one item."""
    from customs.reference_cache import code_exists

    errors = []
    if not code_exists("document_type", document_type or ""):
        errors.append(FieldError("document_type", "unknown_code", _("Choose a document type.")))
    if not (reference or "").strip():
        errors.append(FieldError("reference", "required", _("This field is required.")))
    if file is not None:
        content_type = getattr(file, "content_type", "") or ""
        if content_type not in ALLOWED_CONTENT_TYPES or not content_matches(file, content_type):
            errors.append(FieldError("file", "file_type", _("Upload a PDF or an image (PNG, JPEG, TIFF).")))
        if file.size > MAX_DOCUMENT_BYTES:
            errors.append(FieldError("file", "file_too_large", _("The file is larger than 10 MB.")))
    with transaction.atomic():
        locked = declaration_lock(declaration.pk)
        ensure_declarant(actor, locked)
        if locked.status not in ATTACHABLE_STATES:
            raise TransitionNotAllowed(_("Documents can no longer be attached to this declaration."))
        if item_number is not None and not locked.items.filter(number=item_number).exists():
            errors.append(
                FieldError("item_number", "not_found", _("There is no item %(n)s.") % {"n": item_number})
            )
        if errors:
            raise DeclarationInvalid(errors)
        document = DeclarationDocument(
            declaration=locked,
            item_number=item_number,
            document_type_id=document_type,
            reference=reference.strip(),
            issued_on=issued_on,
            uploaded_by=actor,
            content_type=getattr(file, "content_type", "") if file is not None else "",
        )
        if file is not None:
            document.file.save(file.name, file, save=False)
        document.save()
        locked.version += 1
        locked.save(update_fields=["version", "updated_at"])
        audit_record(
            action="declarations.document.attached",
            actor=actor,
            obj=locked,
            office_code=locked.office.code,
            after={"type": document_type, "reference": document.reference, "item": item_number},
        )
    return document


def declaration_document_remove(*, actor, document: DeclarationDocument) -> None:
    with transaction.atomic():
        locked = declaration_lock(document.declaration_id)
        ensure_declarant(actor, locked)
        if locked.status not in EDITABLE_STATES:
            raise TransitionNotAllowed(_("Documents of a lodged declaration cannot be removed."))
        before = {"type": document.document_type_id, "reference": document.reference}
        document.delete()
        locked.version += 1
        locked.save(update_fields=["version", "updated_at"])
        audit_record(
            action="declarations.document.removed",
            actor=actor,
            obj=locked,
            office_code=locked.office.code,
            before=before,
        )
