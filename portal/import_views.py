"""The declarant's imports of declaration files in the portal (/portal/declarations/import/ and
/portal/declarations/imports/): upload an ASYCUDA World or WCO DM 3.6 file, watch it being read, and read
the import report beside the draft it became (or why it was refused).

``declarations.services.imports.declaration_import_request`` keeps the file and queues the worker's
``declaration_import_run``; these views only show what it wrote. Who may import is the service's to say
(trader and broker users); staff are not portal users and get 403. Imports are read only through
``declaration_import_list_for_user``: another side's import is a 404.
"""

import re
from decimal import Decimal

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from declarations.models import Declaration, DeclarationImport, DeclarationItem
from declarations.presentation import field_label
from declarations.selectors import declaration_import_list_for_user
from declarations.services.errors import DeclarationInvalid, NotAuthorised
from declarations.services.imports import declaration_import_request
from portal.access import portal_user_required
from portal.import_forms import DeclarationImportForm, errors_to_form
from tariff.choices import MeasureType

IMPORTS_PER_PAGE = 50
# The import page reloads itself this often while the worker reads the file.
REFRESH_SECONDS = 2
# The report's paths: ``items[3].origin`` is item 3 (counted from 1, as the report says it).
REPORT_ITEM_PATH = re.compile(r"^items\[(\d+)\](?:\.(\w+))?$")
# Report paths that are not fields of a declaration.
PATH_LABELS = {
    "declarant": gettext_lazy("declarant"),
    "documents": gettext_lazy("documents"),
    "items": gettext_lazy("items"),
}
# The file's own header figures (the report's ``totals``), in this order.
TOTAL_LABELS = {
    "items": gettext_lazy("Items"),
    "packages": gettext_lazy("Packages"),
    "gross_mass": gettext_lazy("Gross mass (kg)"),
    "invoice_amount": gettext_lazy("Invoice amount"),
    "invoice_currency": gettext_lazy("Invoice currency"),
    "customs_value": gettext_lazy("Customs value"),
    "taxes": gettext_lazy("Duties and taxes"),
    "national_currency": gettext_lazy("National currency"),
}
KERWEN_TAX_LABELS = {**dict(MeasureType.choices), "customs_fee": gettext_lazy("Customs fee")}
STATUS_CLASSES = {
    DeclarationImport.Status.PENDING: "status-assessed",
    DeclarationImport.Status.DONE: "status-released",
    DeclarationImport.Status.FAILED: "status-rejected",
}


def status_badge(record: DeclarationImport) -> dict:
    return {
        "value": record.status,
        "label": record.get_status_display(),
        "css": STATUS_CLASSES.get(record.status, "status"),
    }


def report_path_label(path: str) -> str:
    """A report path in words: ``items[2].origin`` is "Item 2: country of origin"."""
    item = REPORT_ITEM_PATH.match(path or "")
    if item:
        prefix = _("Item %(number)s") % {"number": int(item.group(1))}
        name = item.group(2)
        if not name:
            return prefix
        label = PATH_LABELS.get(name) or field_label(DeclarationItem, name)
        return f"{prefix}: {label}"
    if path in PATH_LABELS:
        return str(PATH_LABELS[path])
    return field_label(Declaration, path) if path else "—"


# --------------------------------------------------------------------------------------------- upload


@portal_user_required
def declaration_import_upload(request):
    """Upload a declaration file: it is kept and read by a worker; the import page shows the result."""
    form = DeclarationImportForm(request.POST or None, request.FILES or None, user=request.user)
    leftover: list[str] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            record = declaration_import_request(
                actor=request.user,
                content=upload.read(),
                filename=upload.name,
                trader_code=form.cleaned_data["trader"],
                office_code=form.cleaned_data["office"],
            )
        except DeclarationInvalid as error:
            leftover = errors_to_form(error.errors, form)
        except NotAuthorised as error:
            leftover = [str(error)]
        else:
            messages.success(
                request, _("%(file)s is uploaded; it is being read.") % {"file": record.filename}
            )
            return redirect("portal:declaration-import-detail", pk=record.pk)
    failed = request.method == "POST"
    context = {"form": form, "leftover_errors": leftover}
    return render(request, "portal/imports/upload.html", context, status=422 if failed else 200)


# ----------------------------------------------------------------------------------------------- list


@portal_user_required
def declaration_import_list(request):
    """The imports of the user's trader or broker, newest first."""
    imports = (
        declaration_import_list_for_user(request.user)
        .select_related("declaration", "uploaded_by")
        .defer("report", "problems")  # the list shows neither; a report of 190 items is large
    )
    page = Paginator(imports, IMPORTS_PER_PAGE).get_page(request.GET.get("page"))
    rows = [{"record": record, "status": status_badge(record)} for record in page]
    return render(request, "portal/imports/list.html", {"page": page, "rows": rows})


# ------------------------------------------------------------------------------------------ the import


def _import_or_404(user, pk) -> DeclarationImport:
    try:
        return (
            declaration_import_list_for_user(user)
            .select_related("declaration", "trader", "office", "uploaded_by")
            .get(pk=pk)
        )
    except DeclarationImport.DoesNotExist as error:
        raise Http404(_("There is no such import.")) from error


def _duration(milliseconds) -> str:
    if milliseconds is None:
        return "—"
    if milliseconds < 1000:
        return _("%(ms)s ms") % {"ms": milliseconds}
    return _("%(seconds)s s") % {"seconds": f"{milliseconds / 1000:.1f}"}


def _with_labels(entries, key="field") -> list[dict]:
    return [{**entry, "label": report_path_label(entry.get(key, ""))} for entry in entries or []]


def _tax_rows(rows) -> list[dict]:
    shown = []
    for row in rows or []:
        difference = row.get("amount_difference")
        shown.append(
            {
                **row,
                "kerwen_tax_label": KERWEN_TAX_LABELS.get(row.get("kerwen_tax"), row.get("kerwen_tax") or ""),
                "difference_css": (
                    ""
                    if difference in (None, "")
                    else "difference--zero"
                    if Decimal(difference) == 0
                    else "difference--nonzero"
                ),
            }
        )
    return shown


def _totals(totals: dict) -> list[tuple[str, object]]:
    known = [(str(label), totals[key]) for key, label in TOTAL_LABELS.items() if key in (totals or {})]
    other = [(key, value) for key, value in (totals or {}).items() if key not in TOTAL_LABELS]
    return known + other


def _report(record: DeclarationImport) -> dict:
    report = record.report or {}
    return {
        "format": report.get("format") or record.format,
        "items": report.get("items"),
        "documents_attached": report.get("documents_attached"),
        "flagged": _with_labels(report.get("flagged")),
        "lodgement_errors": _with_labels(report.get("lodgement_errors")),
        "tax_comparison": _tax_rows(report.get("tax_comparison")),
        "totals": _totals(report.get("totals") or {}),
        "exchange_rates": sorted((report.get("exchange_rates") or {}).items()),
        "assessment": report.get("assessment"),
        "assessment_problem": _with_labels([report["assessment_problem"]])[0]
        if report.get("assessment_problem")
        else None,
        "mapped": _with_labels(report.get("mapped")),
        "left_out": report.get("left_out") or [],
    }


@portal_user_required
def declaration_import_page(request, pk):
    """The import: "being read" (the page reloads itself), the report beside its draft, or the reason
    the file was refused with its problems by line."""
    record = _import_or_404(request.user, pk)
    pending = record.status == DeclarationImport.Status.PENDING
    context = {
        "record": record,
        "status": status_badge(record),
        "pending": pending,
        "refresh_seconds": REFRESH_SECONDS,
        "format_label": DeclarationImport.Format(record.format).label if record.format else "",
        "duration": _duration(record.duration_ms),
        "report": _report(record) if record.status == DeclarationImport.Status.DONE else None,
    }
    response = render(request, "portal/imports/detail.html", context)
    if pending:
        response["Refresh"] = str(REFRESH_SECONDS)
    return response
