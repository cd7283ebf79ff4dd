"""Officer screens of the declarations module (finder, declaration view, actions).

Views stay thin: reads go through ``declarations.selectors`` (scoped to the user), writes through the
lifecycle services; errors of the services are shown to the officer, a success redirects (POST-redirect-GET).
"""

import datetime

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from customs.hooks import hook_results
from customs.selectors import office_list_for_user
from declarations.choices import TRANSITIONS, Side, Status
from declarations.forms import (
    ActionForm,
    FinderForm,
    ReassessGeneralForm,
    ReassessItemForm,
    ReleaseCheckForm,
    TimeReleaseForm,
)
from declarations.models import GENERAL_SEGMENT_FIELDS, Declaration, DeclarationItem
from declarations.presentation import document_file_response, field_label, officer_required, print_links
from declarations.selectors import (
    FinderQuery,
    declaration_actions_for,
    declaration_detail,
    declaration_find_page,
    declaration_get_for_officer_view,
    time_release_study,
)
from declarations.services import lifecycle
from declarations.services.errors import DeclarationInvalid, NotAuthorised, TransitionNotAllowed
from declarations.services.printing import release_order_verify

PAGE_SIZE = 50
# Moves whose service takes no reason at all.
MOVES_WITHOUT_REASON = frozenset({"register", "release"})
# General fields shown on the declaration page, in the order of the form.
GENERAL_FIELDS = [
    *GENERAL_SEGMENT_FIELDS[:3],
    "broker",
    *GENERAL_SEGMENT_FIELDS[3:],
    "lane",
    "customs_value",
    "total_taxes",
    "reference_date",
    "version",
    "created_by",
    "created_at",
    "lodged_at",
    "registered_at",
    "assessed_at",
    "paid_at",
    "released_at",
    "closed_at",
]


def _declaration_or_404(user, pk) -> Declaration:
    try:
        return declaration_get_for_officer_view(user, pk)
    except Declaration.DoesNotExist as error:
        raise Http404(_("No such declaration.")) from error


@require_GET
@officer_required
def finder(request):
    """Find declarations by number, LRN, parties, office, state, lane and period; one page at a time."""
    form = FinderForm(request.GET or None, offices=list(office_list_for_user(request.user)))
    page = None
    if not form.is_bound or form.is_valid():
        # No filter yet: the newest declarations of the officer's offices.
        query = form.to_query() if form.is_bound else FinderQuery()
        page = declaration_find_page(
            request.user,
            query,
            after=request.GET.get("after", ""),
            before=request.GET.get("before", ""),
            page_size=PAGE_SIZE,
        )
    parameters = request.GET.copy()
    for name in ("after", "before"):
        parameters.pop(name, None)
    context = {
        "form": form,
        "page": page,
        "querystring": parameters.urlencode(),
    }
    return render(request, "declarations/finder.html", context)


def _value(declaration, name):
    """The shown value of a general field: the label of a choice, the code of a reference."""
    field = Declaration._meta.get_field(name)
    if name in {"trader", "broker", "office", "created_by"}:
        related = getattr(declaration, name)
        if related is None:
            return ""
        if name == "trader":
            return f"{related.name} ({related.taxpayer_id})"
        if name == "broker":
            return f"{related.name} ({related.licence_number})"
        return str(related)
    if field.is_relation:
        return getattr(declaration, field.attname) or ""
    if field.choices:
        return getattr(declaration, f"get_{name}_display")()
    value = getattr(declaration, name)
    return "" if value is None else value


def _pending_changes(declaration) -> list[tuple[str, object]]:
    """The amendment the declarant asks for, as (field label, new value) rows."""
    rows = []
    for key, value in (declaration.pending_changes or {}).items():
        if key == "items" and isinstance(value, list):
            numbered = [(index, row) for index, row in enumerate(value, start=1)]
        elif key == "item_changes" and isinstance(value, dict):
            numbered = list(value.items())
        else:
            rows.append((field_label(Declaration, key), value))
            continue
        for number, row in numbered:
            for item_key, item_value in (row or {}).items():
                label = _("Item %(n)s: %(field)s") % {
                    "n": number,
                    "field": field_label(DeclarationItem, item_key),
                }
                rows.append((label, item_value))
    return rows


def _action_forms(request, declaration, bound=None):
    """One form per officer move the user may make now; ``bound`` replaces the one that failed."""
    forms_by_name = {}
    for transition in declaration_actions_for(request.user, declaration):
        if transition.side != Side.OFFICER:
            continue
        if bound is not None and bound.transition.name == transition.name:
            forms_by_name[transition.name] = bound
        else:
            forms_by_name[transition.name] = ActionForm(
                transition=transition, initial={"version": declaration.version}
            )
    return forms_by_name


def _render_detail(
    request, declaration, *, bound_action=None, general_form=None, item_forms=None, status=200
):
    detail = declaration_detail(declaration)
    action_forms = _action_forms(request, declaration, bound=bound_action)
    if "reassess" in action_forms and item_forms is None:
        general_form = ReassessGeneralForm(declaration=declaration)
        item_forms = [ReassessItemForm(item=item) for item, _lines in detail["items"]]
    context = {
        "declaration": declaration,
        "general": [
            (Declaration._meta.get_field(name).verbose_name, _value(declaration, name))
            for name in GENERAL_FIELDS
        ],
        "detail": detail,
        "grand_total": sum((line.amount for line in detail["tax_lines"]), 0),
        "action_forms": action_forms,
        "general_form": general_form,
        "item_forms": item_forms or [],
        "pending_changes": _pending_changes(declaration),
        "print_links": print_links(declaration),
        # What later modules show on the page (the risk module's lane, hits and examination).
        "panels": hook_results("declarations.officer_panels", request=request, declaration=declaration),
    }
    return render(request, "declarations/detail.html", context, status=status)


@require_GET
@officer_required
def detail(request, pk):
    """The declaration: general segment, items, assessment, documents, history, and the officer's moves."""
    declaration = _declaration_or_404(request.user, pk)
    return _render_detail(request, declaration)


def _attach_errors(error: DeclarationInvalid, form: ActionForm, reassess_forms: list) -> None:
    """Put each service error next to its field: the reason, a general figure, an item's field, or on top
    of the form. ``reassess_forms``: the general form, then one form per item."""
    by_number = {item_form.item.number: item_form for item_form in reassess_forms[1:]}
    for field_error in error.errors:
        if field_error.field == "reason":
            form.add_error("reason", field_error.message)
            continue
        if reassess_forms and field_error.field in reassess_forms[0].fields:
            reassess_forms[0].add_error(field_error.field, field_error.message)
            continue
        if field_error.field.startswith("items[") and "]" in field_error.field:
            index_text, _sep, rest = field_error.field[len("items[") :].partition("]")
            item_form = by_number.get(int(index_text) + 1) if index_text.isdigit() else None
            name = rest.lstrip(".")
            if item_form is not None and name in item_form.fields:
                item_form.add_error(name, field_error.message)
                continue
        message = f"{field_error.field}: {field_error.message}" if field_error.field else field_error.message
        form.add_error(None, message)


@require_POST
@officer_required
def action(request, pk, name):
    """Make one officer move: call its service with the version the officer saw; show what went wrong."""
    transition = TRANSITIONS.get(name)
    if transition is None or transition.side != Side.OFFICER or name not in lifecycle.COMMANDS:
        raise Http404(_("No such action."))
    declaration = _declaration_or_404(request.user, pk)
    form = ActionForm(request.POST, transition=transition)
    general_form, item_forms = None, []
    if name == "reassess":
        general_form = ReassessGeneralForm(request.POST, declaration=declaration)
        item_forms = [
            ReassessItemForm(request.POST, item=item) for item in declaration.items.order_by("number")
        ]
    reassess_forms = [general_form, *item_forms] if general_form is not None else []

    def refused():
        return _render_detail(
            request,
            declaration,
            bound_action=form,
            general_form=general_form,
            item_forms=item_forms,
            status=400,
        )

    if not all([form.is_valid(), *[each.is_valid() for each in reassess_forms]]):
        return refused()
    arguments = {"expected_version": form.cleaned_data["version"]}
    if name not in MOVES_WITHOUT_REASON:
        arguments["reason"] = form.cleaned_data["reason"]
    if name == "reassess":
        changes = general_form.changes()
        item_changes = {
            str(item_form.item.number): item_form.changes() for item_form in item_forms if item_form.changes()
        }
        if not item_changes and not changes:
            form.add_error(None, _("Change at least one figure to re-assess."))
            return refused()
        if item_changes:
            changes["item_changes"] = item_changes
        arguments["changes"] = changes
    try:
        updated = lifecycle.COMMANDS[name](actor=request.user, declaration=declaration, **arguments)
    except DeclarationInvalid as error:
        _attach_errors(error, form, reassess_forms)
        return refused()
    except (TransitionNotAllowed, NotAuthorised) as error:
        # A stale version is a TransitionNotAllowed: the officer is told to reload.
        messages.error(request, str(error))
        return redirect("declarations:detail", pk=declaration.pk)
    messages.success(
        request,
        _("%(action)s: done. The declaration is now %(status)s.")
        % {"action": transition.label, "status": Status(updated.status).label.lower()},
    )
    return redirect("declarations:detail", pk=declaration.pk)


@require_GET
@officer_required
def document_file(request, pk, document_pk):
    """The scanned file of an attached document, for users who may see the declaration."""
    return document_file_response(request.user, pk, document_pk)


@require_GET
@officer_required
def time_release(request):
    """The WCO Time Release Study of the officer's offices: hours from registration to release, by
    office and lane, over a period (the last 30 days unless asked)."""
    today = timezone.localdate()
    initial = {"date_from": today - datetime.timedelta(days=30), "date_to": today}
    form = TimeReleaseForm(request.GET or initial)
    rows = []
    if form.is_valid():
        rows = time_release_study(
            date_from=form.cleaned_data["date_from"],
            date_to=form.cleaned_data["date_to"],
            offices=office_list_for_user(request.user),
        )
    longest = max((row["average_hours"] for row in rows), default=0) or 1
    for row in rows:
        row["bar_percent"] = round(100 * row["average_hours"] / longest)
    return render(request, "declarations/time_release.html", {"form": form, "rows": rows})


@require_GET
@officer_required
def release_check(request):
    """The gate: is this release order genuine, and are its goods released? (A scanner types the QR
    code's text into the field and presses Enter.)"""
    form = ReleaseCheckForm(request.GET or None)
    result = None
    if form.is_valid():
        result = release_order_verify(form.cleaned_data["token"])
        reasons = {
            "malformed": _("This is not the QR code of a Kerwen release order."),
            "forged": _(
                "NOT GENUINE: the check code does not match. Hold the goods and call the supervisor."
            ),
            "unknown": _("NOT GENUINE: no declaration has this number."),
            "not_released": _("NOT RELEASED: the declaration is %(status)s."),
            "superseded": _("NOT GENUINE: this order does not match the declaration's release."),
        }
        message = reasons.get(result["reason"], "")
        if result["reason"] == "not_released":
            message = message % {"status": result["declaration"].get_status_display().lower()}
        result["message"] = message
    return render(request, "declarations/release_check.html", {"form": form, "result": result})
