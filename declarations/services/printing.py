"""Printed documents of a declaration: the assessment notice and the SAD printout, as PDFs.

A request only asks for a document (:func:`declaration_print_request`); a Celery task renders it
(:func:`declaration_print_render`, task ``declarations.render_print``) in the language asked for, and the
page that asked shows "being prepared" until the row is ready (STYLE.md: rendering is task work).

A document is kept per declaration, kind, language and declaration version: an unchanged declaration is
never rendered twice, a changed one (new version) gets a new document.
"""

import datetime
import hashlib
import hmac
import logging
import math
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from customs.codes import qr_svg_base64
from customs.pdf import render_pdf
from customs.queue import enqueue_on_commit
from customs.services.audit import audit_record
from declarations.choices import Status
from declarations.models import Declaration, DeclarationPrint
from declarations.selectors import declaration_detail, declaration_list_for_user
from declarations.services.errors import NotAuthorised, TransitionNotAllowed
from tariff.choices import MeasureType

logger = logging.getLogger(__name__)

RENDER_TASK = "declarations.render_print"
TEMPLATES = {
    DeclarationPrint.Kind.ASSESSMENT_NOTICE: "declarations/pdf/assessment_notice.html",
    DeclarationPrint.Kind.SAD: "declarations/pdf/sad.html",
    DeclarationPrint.Kind.RELEASE_ORDER: "declarations/pdf/release_order.html",
}
# States in which a declaration has no (or no longer a) valid assessment to notify.
_NOT_ASSESSED = frozenset(
    {Status.STORED, Status.LODGED, Status.REGISTERED, Status.REJECTED, Status.CANCELLED}
)
# The SAD has room for one item on its first form and three on each continuation form (SAD/BIS).
_ITEMS_ON_FIRST_FORM = 1
_ITEMS_ON_CONTINUATION_FORM = 3


class PrintNotAvailable(TransitionNotAllowed):
    """This document cannot be printed for the declaration in its current state (HTTP 409)."""

    code = "print_not_available"


def _check_printable(declaration: Declaration, kind: str) -> None:
    if kind not in DeclarationPrint.Kind.values:
        raise ValueError(f"Unknown document kind {kind!r}")
    if kind == DeclarationPrint.Kind.ASSESSMENT_NOTICE and (
        declaration.status in _NOT_ASSESSED or declaration.assessment_number is None
    ):
        raise PrintNotAvailable(
            _(
                "The declaration has not been assessed: there is no assessment notice to print "
                "(status: %(status)s)."
            )
            % {"status": declaration.get_status_display()}
        )
    if kind == DeclarationPrint.Kind.RELEASE_ORDER and declaration.status != Status.RELEASED:
        raise PrintNotAvailable(
            _("The goods have not been released: there is no release order to print (status: %(status)s).")
            % {"status": declaration.get_status_display()}
        )


def release_order_issue(declaration_id: int) -> str:
    """Print the release order (exit note) of a released declaration, in the language of the user who
    created it (or the site's): what task ``declarations.issue_release_order`` does on release.
    Idempotent: the document exists once per language and version; rendering a ready one is a no-op."""
    declaration = Declaration.objects.select_related("created_by").get(pk=declaration_id)
    if declaration.status != Status.RELEASED:
        return "not_released"
    language = declaration.created_by.preferred_language or settings.LANGUAGE_CODE
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    document, _created = DeclarationPrint.objects.get_or_create(
        declaration=declaration,
        kind=DeclarationPrint.Kind.RELEASE_ORDER,
        language=language,
        declaration_version=declaration.version,
    )
    return declaration_print_render(document.pk)


def release_token(declaration: Declaration) -> str:
    """The text of the release order's QR code: what the gate reads off it, and a check code.

    ``KERWEN-RELEASE|<number>|<released at, UTC>|<trader's taxpayer ID>|<items>|<check>``; the check is
    an HMAC of the rest under the server's secret key, so the gate's terminal, asking Kerwen, can tell
    a genuine order from a forged one (:func:`release_token_check`)."""
    released_at = declaration.released_at.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%MZ")
    items = declaration.items.count()
    body = f"KERWEN-RELEASE|{declaration.number}|{released_at}|{declaration.trader.taxpayer_id}|{items}"
    return f"{body}|{_release_check(body)}"


def _release_check(body: str) -> str:
    key = f"kerwen-release-order:{settings.SECRET_KEY}".encode()
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()[:16].upper()


def release_token_check(token: str) -> bool:
    """True when ``token`` (the release order's QR text) was made by this server."""
    body, _separator, check = (token or "").strip().rpartition("|")
    return bool(body) and hmac.compare_digest(_release_check(body), check.upper())


def release_order_verify(token: str) -> dict:
    """What the gate learns from a release order's QR text: ``genuine`` (made by this server, for a
    declaration released at that time), the declaration when it is found, and ``reason`` when not
    genuine (``malformed``, ``forged``, ``unknown``, ``not_released``, ``superseded``)."""
    token = (token or "").strip()
    parts = token.split("|")
    if len(parts) != 6 or parts[0] != "KERWEN-RELEASE":
        return {"genuine": False, "reason": "malformed", "declaration": None}
    if not release_token_check(token):
        return {"genuine": False, "reason": "forged", "declaration": None}
    number = parts[1].split()
    declaration = None
    if len(number) == 4 and number[1].isdigit() and number[3].isdigit():
        declaration = (
            Declaration.objects.select_related("office", "trader")
            .filter(
                office__code=number[0],
                registration_year=int(number[1]),
                registration_series=number[2],
                registration_number=int(number[3]),
            )
            .first()
        )
    if declaration is None:
        return {"genuine": False, "reason": "unknown", "declaration": None}
    if declaration.status != Status.RELEASED:
        return {"genuine": False, "reason": "not_released", "declaration": declaration}
    if release_token(declaration) != token:  # an order printed before a later release, or altered
        return {"genuine": False, "reason": "superseded", "declaration": declaration}
    return {"genuine": True, "reason": "", "declaration": declaration}


def declaration_print_request(
    *, actor, declaration: Declaration, kind: str, language: str, retry_failed: bool = False
) -> DeclarationPrint:
    """The document ``kind`` of ``declaration`` in ``language``, asked for by ``actor``.

    Gets the document of the declaration's current version, or creates it and sends the rendering task
    once the transaction commits. A document whose rendering failed stays failed (the wait page shows
    why) unless ``retry_failed``: then it is queued again. Raises
    ``NotAuthorised`` when ``actor`` may not see the declaration, ``PrintNotAvailable`` for the
    assessment notice of a declaration that is not assessed, ``ValueError`` for an unknown kind or
    language.
    """
    if language not in dict(settings.LANGUAGES):
        raise ValueError(f"Unknown document language {language!r}")
    if not declaration_list_for_user(actor).filter(pk=declaration.pk).exists():
        raise NotAuthorised(_("You may not see this declaration."))
    _check_printable(declaration, kind)
    with transaction.atomic():
        document, created = DeclarationPrint.objects.get_or_create(
            declaration=declaration,
            kind=kind,
            language=language,
            declaration_version=declaration.version,
            defaults={"requested_by": actor if getattr(actor, "pk", None) else None},
        )
        if retry_failed and not created and document.status == DeclarationPrint.Status.FAILED:
            # Retry on request: the failure may have been a full disk or a worker killed mid-render.
            updated = DeclarationPrint.objects.filter(
                pk=document.pk, status=DeclarationPrint.Status.FAILED
            ).update(status=DeclarationPrint.Status.PENDING, error="")
            document.refresh_from_db()
            created = bool(updated)
        if created:
            # Who printed which document of a declaration is on the record, once per document.
            audit_record(
                action="declarations.print.requested",
                actor=actor,
                obj=document,
                office_code=declaration.office.code,
                after={"kind": kind, "language": language, "declaration_version": declaration.version},
            )
            enqueue_on_commit(RENDER_TASK, document.pk)
    return document


def declaration_print_render(print_id: int) -> str:
    """Render the document ``print_id`` to PDF and store it; returns its status.

    Idempotent: a ready document is not rendered again. The row is locked while rendering, so two
    workers given the same id render it once. A document of an older version of the declaration is
    marked failed (the declaration changed since it was asked for; a new request prints the new one).
    An error while rendering marks the document failed, with the error kept on the row for support
    (the wait page says only that it failed and offers to try again).
    """
    with transaction.atomic():
        document = DeclarationPrint.objects.select_for_update().filter(pk=print_id).first()
        if document is None:
            logger.warning("Print %s no longer exists", print_id)
            return "missing"
        if document.status != DeclarationPrint.Status.PENDING:
            return document.status
        declaration = _declaration_for_print(document.declaration_id)
        try:
            with translation.override(document.language):  # an error message in the document's language
                _check_current(declaration, document)
            pdf = render_pdf(
                TEMPLATES[document.kind],
                declaration_print_context(declaration, document.kind, language=document.language),
                language=document.language,
            )
        except PrintNotAvailable as refused:
            document.status, document.error = DeclarationPrint.Status.FAILED, str(refused)
            document.save(update_fields=["status", "error"])
            return document.status
        except Exception as error:
            logger.exception("Rendering print %s failed", print_id)
            document.status, document.error = (
                DeclarationPrint.Status.FAILED,
                f"{type(error).__name__}: {error}",
            )
            document.save(update_fields=["status", "error"])
            return document.status
        document.file.save(print_filename(document, declaration), ContentFile(pdf), save=False)
        document.status = DeclarationPrint.Status.READY
        document.error = ""
        document.rendered_at = timezone.now()
        document.save(update_fields=["file", "status", "error", "rendered_at"])
    return document.status


def _check_current(declaration: Declaration, document: DeclarationPrint) -> None:
    if declaration.version != document.declaration_version:
        raise PrintNotAvailable(
            _("The declaration changed after this document was asked for; ask for it again.")
        )
    _check_printable(declaration, document.kind)


def declaration_print_sweep(*, older_than: timedelta = timedelta(minutes=2)) -> int:
    """Send the rendering task again for documents pending longer than ``older_than`` (a broker outage
    may have lost it); returns how many. Rendering is idempotent, so a duplicate costs nothing."""
    stale = DeclarationPrint.objects.filter(
        status=DeclarationPrint.Status.PENDING, requested_at__lt=timezone.now() - older_than
    ).values_list("pk", flat=True)
    count = 0
    with transaction.atomic():
        for print_id in stale:
            enqueue_on_commit(RENDER_TASK, print_id)
            count += 1
    return count


def print_filename(document: DeclarationPrint, declaration: Declaration) -> str:
    """``assessment-notice-tma01-2026-a-1-en.pdf``, ``sad-tma01-2026-c-1-ru.pdf``, ``sad-lrn-0001-tk.pdf``."""
    if document.kind == DeclarationPrint.Kind.ASSESSMENT_NOTICE:
        reference = declaration.assessment_reference
    elif document.kind == DeclarationPrint.Kind.RELEASE_ORDER:
        reference = declaration.number
    else:
        reference = declaration.number or declaration.lrn
    return f"{document.kind.replace('_', '-')}-{slugify(reference) or declaration.pk}-{document.language}.pdf"


def _declaration_for_print(declaration_id: int) -> Declaration:
    return Declaration.objects.select_related(
        "office",
        "trader",
        "trader__country",
        "broker",
        "counterparty_country",
        "dispatch_country",
        "destination_country",
        "incoterm",
        "transport_mode",
        "transport_nationality",
        "invoice_currency",
    ).get(pk=declaration_id)


def _tax_label(measure_type: str, stored_label: str) -> str:
    """The tax's name in the document's language (the stored label is in the language of assessment;
    a fee keeps its own name)."""
    if measure_type in MeasureType.values:
        return str(MeasureType(measure_type).label)
    return stored_label


def _rate_places(value: Decimal) -> int:
    """Decimals to show an exchange rate exactly: all its significant ones, at least four."""
    exponent = value.normalize().as_tuple().exponent
    return max(4, -exponent if isinstance(exponent, int) else 4)


def declaration_print_context(declaration: Declaration, kind: str, *, language: str) -> dict:
    """What the templates of the assessment notice and the SAD get; names are in ``language``."""
    with translation.override(language):
        detail = declaration_detail(declaration)
        national = settings.NATIONAL_CURRENCY
        lines = []
        for line in detail["tax_lines"]:
            line.print_label = _tax_label(line.measure_type, line.label)
            lines.append(line)
        documents = detail["documents"]
        items = []
        for item, item_lines in detail["items"]:
            items.append(
                {
                    "item": item,
                    "tax_lines": item_lines,
                    "documents": [
                        document
                        for document in documents
                        if document.item_number is None or document.item_number == item.number
                    ],
                    "quantities": sorted(
                        (unit, Decimal(str(value))) for unit, value in item.quantities.items()
                    ),
                    "origin_name": item.origin.name if item.origin_id else "",
                    "package_kind_name": item.package_kind.name if item.package_kind_id else "",
                }
            )
        totals = [
            {
                "measure_type": measure_type,
                "label": _tax_label(measure_type, total["label"]),
                "amount": total["amount"],
            }
            for measure_type, total in detail["totals"].items()
        ]
        rates = [
            {"currency": currency, "value": Decimal(value), "places": _rate_places(Decimal(value))}
            for currency, value in sorted(declaration.exchange_rates.items())
        ]
        invoice_rate = next(
            (rate for rate in rates if rate["currency"] == declaration.invoice_currency_id), None
        )
        is_import = declaration.direction == "IM"
        trader_party = {
            "name": declaration.trader.name,
            "address": declaration.trader.address,
            "country": declaration.trader.country.name,
            "identifier": declaration.trader.taxpayer_id,
        }
        foreign_party = {
            "name": declaration.counterparty_name,
            "address": declaration.counterparty_address,
            "country": declaration.counterparty_country.name if declaration.counterparty_country_id else "",
            "identifier": "",
        }
        if declaration.broker_id:
            declarant = {"name": declaration.broker.name, "identifier": declaration.broker.licence_number}
        else:
            declarant = {"name": declaration.trader.name, "identifier": declaration.trader.taxpayer_id}
        extra_items = max(0, len(items) - _ITEMS_ON_FIRST_FORM)
        forms = 1 + math.ceil(extra_items / _ITEMS_ON_CONTINUATION_FORM)
        return {
            "declaration": declaration,
            "kind": kind,
            "national_currency": national,
            "office_name": declaration.office.name,
            "items": items,
            "fees": [line for line in lines if line.item_number is None],
            "totals": totals,
            "grand_total": declaration.total_taxes,
            "rates": rates,
            "invoice_rate": invoice_rate,
            "exporter": foreign_party if is_import else trader_party,
            "importer": trader_party if is_import else foreign_party,
            "declarant": declarant,
            "forms": forms,
            "dispatch_country_name": declaration.dispatch_country.name
            if declaration.dispatch_country_id
            else "",
            "destination_country_name": (
                declaration.destination_country.name if declaration.destination_country_id else ""
            ),
            "transport_mode_name": declaration.transport_mode.name if declaration.transport_mode_id else "",
            "transport_nationality_name": (
                declaration.transport_nationality.name if declaration.transport_nationality_id else ""
            ),
            "is_draft": not declaration.number,
            **_release_context(declaration, kind, items),
        }


def _release_context(declaration: Declaration, kind: str, items: list) -> dict:
    if kind != DeclarationPrint.Kind.RELEASE_ORDER:
        return {}
    token = release_token(declaration)
    return {
        "release_token": token,
        "release_qr_base64": qr_svg_base64(token, box_size=6),
        "total_gross_mass": sum((entry["item"].gross_mass or Decimal(0)) for entry in items),
        "total_packages_counted": sum((entry["item"].packages_number or 0) for entry in items),
    }
