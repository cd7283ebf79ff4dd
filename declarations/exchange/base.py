"""What a reader of a foreign declaration format gives back, and the report of what it did.

A reader maps what it can into the drafts' plain dict (``declarations.services.drafts``), with every code
as the file gives it (the import service checks them against the code lists), and says in the report
where each value came from, and what it left out and why. It never drops a value silently: a value with
no place in a Kerwen declaration is a ``left_out`` entry, with its path in the file.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache


@dataclass
class Mapped:
    """A value taken from the file: ``field`` is the draft's field (``items[3].origin`` for an item)."""

    field: str
    source: str  # the element's path in the file, e.g. "Identification/Office_segment/Type"
    value: str


@dataclass
class LeftOut:
    """A value of the file with no place in the draft, or one that could not be read."""

    source: str
    value: str
    reason: str  # translated, e.g. "Kerwen does not keep the manifest reference on a declaration."


@dataclass
class Flagged:
    """A value kept, but which needs the declarant's attention (unknown code, unreadable figure...)."""

    field: str
    value: str
    code: str  # stable machine-readable code: "unknown_code", "not_a_number", "unknown_party", ...
    message: str  # translated


@dataclass
class ImportReport:
    mapped: list[Mapped] = field(default_factory=list)
    left_out: list[LeftOut] = field(default_factory=list)
    flagged: list[Flagged] = field(default_factory=list)

    def map(self, field_name: str, source: str, value) -> None:
        self.mapped.append(Mapped(field_name, source, "" if value is None else str(value)))

    def leave_out(self, source: str, value, reason: str) -> None:
        self.left_out.append(LeftOut(source, "" if value is None else str(value), reason))

    def flag(self, field_name: str, value, code: str, message: str) -> None:
        self.flagged.append(Flagged(field_name, "" if value is None else str(value), code, message))


@dataclass
class PartyRef:
    """A party as the file names it: its code (taxpayer ID, EORI, licence number) and name."""

    role: str  # "trader" (importer of an import, exporter of an export), "declarant", "counterparty"
    code: str
    name: str = ""
    address: str = ""
    country: str = ""


@dataclass
class FileTaxLine:
    """A tax line computed by the system that wrote the file (ASYCUDA's Taxation_line): for comparison."""

    item_number: int | None  # None: a global tax of the declaration
    tax_code: str  # the file's tax code, e.g. "CD", "VAT", "EXC"
    base: Decimal | None
    rate: str  # as written, e.g. "15.0" or "5 per kg"
    amount: Decimal | None
    payment_mode: str = ""


@dataclass
class FileDocument:
    """A document the file lists (box 44): attached to the draft as a reference, without a scan."""

    item_number: int | None
    document_type: str
    reference: str
    issued_on: datetime.date | None = None


@dataclass
class ImportedDeclaration:
    """A declaration read from a file, before it meets Kerwen's registers.

    ``data`` is the drafts' dict (``declarations.services.drafts``): general fields plus ``items``, a list of
    item dicts; figures are ``Decimal`` (or int for counts), codes are plain strings as in the file.
    ``office``, ``trader`` and ``broker`` are NOT in ``data``: the file's codes are in ``office_code`` and
    ``parties``, and the import service resolves them.
    ``totals`` are the file's own header figures (item count, packages, gross mass, invoice amount and
    currency) as the file states them, so that a test and the report can compare them with the items.
    """

    format: str  # "asycuda" or "wcodm"
    data: dict
    office_code: str = ""
    parties: list[PartyRef] = field(default_factory=list)
    documents: list[FileDocument] = field(default_factory=list)
    file_taxes: list[FileTaxLine] = field(default_factory=list)
    exchange_rates: dict[str, Decimal] = field(default_factory=dict)  # currency -> rate given in the file
    totals: dict = field(default_factory=dict)
    report: ImportReport = field(default_factory=ImportReport)


class ImportUnreadable(Exception):
    """The file is XML, but not a declaration this reader can map (wrong root, no items...).

    ``problems`` is a list of (line, message); ``code`` is stable ("wrong_format", "schema_invalid", ...).
    """

    def __init__(self, code: str, message: str, problems: list[tuple[int, str]] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.problems = problems or []


@cache
def draft_text_limits() -> dict[str, int]:
    """The length of each text field a reader fills, as the draft's models define it (general segment,
    items, documents' ``reference``): read from the models, so a migration that changes one changes it
    here too."""
    from declarations.models import Declaration, DeclarationDocument, DeclarationItem

    limits = {}
    for model in (DeclarationDocument, DeclarationItem, Declaration):
        for model_field in model._meta.get_fields():
            max_length = getattr(model_field, "max_length", None)
            if max_length and model_field.get_internal_type() == "CharField":
                limits[model_field.name] = max_length
    return limits
