"""The declarant's declaration screens: list, entry form with the item grid, the declaration page
(check, lodge, documents, assessment, history) and the declarant's requests.

Views stay thin: forms parse, services decide, and every ``FieldError`` a service returns is shown next
to the input (or the item row) it names.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from customs.choices import AuthorisationScope
from customs.hooks import hook_results
from customs.models import Trader
from customs.selectors import trader_list_for_user
from declarations.models import GENERAL_SEGMENT_FIELDS, Declaration, DeclarationDocument, DeclarationItem
from declarations.presentation import document_file_response, field_label, print_links
from declarations.selectors import (
    declaration_actions_for,
    declaration_detail,
    declaration_import_list_for_user,
    declaration_list_for_user,
)
from declarations.services.drafts import (
    ATTACHABLE_STATES,
    declaration_create,
    declaration_document_attach,
    declaration_document_remove,
    declaration_update,
)
from declarations.services.errors import DeclarationInvalid, NotAuthorised, TransitionNotAllowed
from declarations.services.lifecycle import (
    declaration_lodge,
    declaration_preview,
    declaration_request_amendment,
    declaration_request_cancellation,
    declaration_respond,
    declaration_withdraw,
)
from declarations.services.permissions import is_declarant_side
from portal.declaration_forms import (
    ITEM_PREFIX,
    AmendmentForm,
    DeclarationForm,
    DocumentForm,
    ItemForm,
    ItemFormSet,
    ReasonForm,
    declaration_initial,
    errors_to_forms,
    item_initial,
)

# General fields shown on the declaration page, in order (model field names).
GENERAL_FACTS = list(GENERAL_SEGMENT_FIELDS)


def _traders(user):
    """Traders the user may declare imports or exports for today."""
    today = timezone.localdate()
    ids = set()
    for scope in (AuthorisationScope.IMPORT, AuthorisationScope.EXPORT):
        ids |= set(trader_list_for_user(user, on_day=today, scope=scope).values_list("pk", flat=True))
    return Trader.objects.filter(pk__in=ids).order_by("name")


def _declaration_or_404(user, pk) -> Declaration:
    try:
        return declaration_list_for_user(user).get(pk=pk)
    except Declaration.DoesNotExist as error:
        raise Http404(_("There is no such declaration.")) from error


@login_required
def declaration_list(request):
    """The user's declarations, newest first."""
    declarations = declaration_list_for_user(request.user).order_by("-created_at", "-pk")
    return render(request, "portal/declarations/list.html", {"declarations": declarations})


# ------------------------------------------------------------------------------------------ entry form


def _posted_rows(post) -> list[dict]:
    """The grid rows as typed (raw strings), to rebuild the grid after a copy / add / remove."""
    try:
        total = int(post.get(f"{ITEM_PREFIX}-TOTAL_FORMS", "0"))
    except ValueError:
        total = 0
    rows = []
    for index in range(min(total, 999)):
        row = {name: post.get(f"{ITEM_PREFIX}-{index}-{name}", "") for name in ItemForm.COLUMNS}
        row["preference_requested"] = bool(row["preference_requested"])
        rows.append(row)
    return rows


def _grid_action(post):
    """('copy'|'remove', row index) or ('add', None) for the grid's buttons without JavaScript."""
    for action in ("copy", "remove"):
        value = post.get(f"grid_{action}")
        if value is not None and value.isdigit():
            return action, int(value)
    if "grid_add" in post:
        return "add", None
    return None


def _rebuilt_grid(post, action, index) -> list[dict]:
    rows = _posted_rows(post)
    if action == "copy" and index < len(rows):
        rows.insert(index + 1, dict(rows[index]))
    elif action == "remove" and index < len(rows):
        del rows[index]
    elif action == "add":
        rows.append({})
    return rows


def _editor(request, declaration=None):
    """New draft (``declaration`` None) or edit a draft: the general form and the item grid."""
    trader_fixed = declaration.trader if declaration is not None else None
    traders = _traders(request.user)
    form_kwargs = {"traders": traders, "trader_fixed": trader_fixed}
    leftover: list[str] = []
    if request.method == "POST":
        grid_action = _grid_action(request.POST)
        if grid_action is not None:
            # Copy / add / remove a row without JavaScript: re-show everything typed, save nothing.
            general = {name: request.POST.get(name, "") for name in DeclarationForm.base_fields}
            form = DeclarationForm(initial=general, **form_kwargs)
            formset = ItemFormSet(prefix=ITEM_PREFIX, initial=_rebuilt_grid(request.POST, *grid_action))
        else:
            form = DeclarationForm(request.POST, **form_kwargs)
            formset = ItemFormSet(request.POST, prefix=ITEM_PREFIX)
            if form.is_valid() and formset.is_valid():
                kept = formset.kept_forms()
                data = form.to_data()
                data["items"] = [row.to_item() for row in kept]
                try:
                    if declaration is None:
                        saved = declaration_create(actor=request.user, data=data)
                    else:
                        data.pop("trader", None)
                        saved = declaration_update(
                            actor=request.user,
                            declaration=declaration,
                            data=data,
                            expected_version=form.cleaned_data.get("version"),
                        )
                except DeclarationInvalid as error:
                    leftover = errors_to_forms(error.errors, form=form, formset=formset, kept_forms=kept)
                except (TransitionNotAllowed, NotAuthorised) as error:
                    leftover = [str(error)]
                else:
                    messages.success(request, _("The draft %(lrn)s is saved.") % {"lrn": saved.lrn})
                    return redirect("portal:declaration-detail", pk=saved.pk)
    elif declaration is not None:
        form = DeclarationForm(initial=declaration_initial(declaration), **form_kwargs)
        items = declaration.items.order_by("number")
        formset = ItemFormSet(prefix=ITEM_PREFIX, initial=[item_initial(item) for item in items])
    else:
        form = DeclarationForm(initial={"declaration_type": "IM4"}, **form_kwargs)
        formset = ItemFormSet(prefix=ITEM_PREFIX, initial=[{}])
    context = {
        "form": form,
        "formset": formset,
        "declaration": declaration,
        "leftover_errors": leftover,
        "has_errors": bool(leftover) or (form.is_bound and (form.errors or not formset.is_valid())),
    }
    return render(request, "portal/declarations/form.html", context)


@login_required
def declaration_new(request):
    return _editor(request)


@login_required
def declaration_edit(request, pk):
    declaration = _declaration_or_404(request.user, pk)
    if not declaration.is_editable:
        messages.error(request, _("A lodged declaration cannot be edited; request an amendment instead."))
        return redirect("portal:declaration-detail", pk=pk)
    return _editor(request, declaration)


# ------------------------------------------------------------------------------------ declaration page


def _fact_value(declaration, name):
    value = getattr(declaration, name)
    if name in ("declaration_type", "freight_split"):
        return getattr(declaration, f"get_{name}_display")()
    if name == "trader":
        return f"{value.name} ({value.taxpayer_id})"
    if name == "office":
        return f"{value.code} {value}"
    if hasattr(value, "code"):
        return value.code
    return value


def _page_errors(errors, items) -> tuple[dict, dict, list]:
    """Service errors grouped for the page: general field -> messages, item index -> (label, message),
    and the rest."""
    from portal.declaration_forms import ITEM_PATH

    general, by_item, rest = {}, {}, []
    for error in errors or []:
        match = ITEM_PATH.match(error.field)
        if match and int(match.group(1)) < len(items):
            name = match.group(2) or ""
            label = field_label(DeclarationItem, name) if name else ""
            by_item.setdefault(int(match.group(1)), []).append((label, error.message))
        elif error.field in GENERAL_FACTS:
            general.setdefault(error.field, []).append(error.message)
        else:
            rest.append(error.message)
    return general, by_item, rest


def _render_page(request, declaration, *, errors=None, forms=None, status=200, check=None):
    detail = declaration_detail(declaration)
    items = [item for item, _lines in detail["items"]]
    general_errors, item_errors, other_errors = _page_errors(errors, items)
    facts = [
        (name, field_label(Declaration, name), _fact_value(declaration, name), general_errors.get(name, []))
        for name in GENERAL_FACTS
    ]
    rows = [
        {"item": item, "lines": lines, "errors": item_errors.get(index, [])}
        for index, (item, lines) in enumerate(detail["items"])
    ]
    actions = {transition.name for transition in declaration_actions_for(request.user, declaration)}
    forms = forms or {}
    context = {
        "declaration": declaration,
        "detail": detail,
        "facts": facts,
        "rows": rows,
        "errors": errors or [],
        "other_errors": other_errors,
        "actions": actions,
        "check": check,
        "print_links": print_links(declaration),
        # The import this draft came from, if the user may see it (its report's points to check).
        "source_import": declaration_import_list_for_user(request.user)
        .filter(declaration=declaration)
        .first()
        if declaration.is_editable
        else None,
        "can_attach": declaration.status in ATTACHABLE_STATES
        and is_declarant_side(request.user, declaration),
        "document_form": forms.get("document") or DocumentForm(),
        "respond_form": forms.get("respond") or ReasonForm(prefix="respond", label=_("Your answer")),
        "cancellation_form": forms.get("cancellation")
        or ReasonForm(prefix="cancel", label=_("Reason for the cancellation")),
        "amendment_form": forms.get("amendment") or AmendmentForm(prefix="amend", items=items),
        # What later modules show on the page (the risk module's lane and check).
        "panels": hook_results("declarations.portal_panels", request=request, declaration=declaration),
    }
    return render(request, "portal/declarations/detail.html", context, status=status)


@login_required
def declaration_page(request, pk):
    """The declaration: its data, documents, assessment and history, and what the user may do now.
    ``?check=1`` adds what lodging now would give (errors, or the assessment), writing nothing."""
    declaration = _declaration_or_404(request.user, pk)
    check = None
    errors = None
    if request.GET.get("check") and declaration.is_editable:
        errors, assessment = declaration_preview(actor=request.user, declaration=declaration)
        check = {"assessment": assessment, "ok": not errors}
    return _render_page(request, declaration, errors=errors, check=check)


@login_required
@require_POST
def declaration_lodge_view(request, pk):
    declaration = _declaration_or_404(request.user, pk)
    try:
        lodged = declaration_lodge(actor=request.user, declaration=declaration)
    except DeclarationInvalid as error:
        messages.error(request, _("The declaration cannot be lodged yet: correct the fields marked below."))
        return _render_page(request, declaration, errors=error.errors, status=422)
    except (TransitionNotAllowed, NotAuthorised) as error:
        messages.error(request, str(error))
        return redirect("portal:declaration-detail", pk=pk)
    if lodged.number:
        messages.success(request, _("Lodged and registered as %(number)s.") % {"number": lodged.number})
    else:
        messages.success(request, _("Lodged; the office will register it."))
    return redirect("portal:declaration-detail", pk=pk)


@login_required
@require_POST
def declaration_document_add(request, pk):
    declaration = _declaration_or_404(request.user, pk)
    form = DocumentForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            declaration_document_attach(
                actor=request.user,
                declaration=declaration,
                document_type=data["document_type"],
                reference=data["reference"],
                issued_on=data["issued_on"],
                item_number=data["item_number"],
                file=data["file"] or None,
            )
        except DeclarationInvalid as error:
            for field_error in error.errors:
                form.add_error(
                    field_error.field if field_error.field in form.fields else None, field_error.message
                )
        except (TransitionNotAllowed, NotAuthorised) as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The document is attached."))
            return redirect(reverse("portal:declaration-detail", args=[pk]) + "#documents")
    return _render_page(request, declaration, forms={"document": form}, status=422)


@login_required
@require_POST
def declaration_document_delete(request, pk, document_pk):
    declaration = _declaration_or_404(request.user, pk)
    document = get_object_or_404(DeclarationDocument, pk=document_pk, declaration=declaration)
    try:
        declaration_document_remove(actor=request.user, document=document)
    except (TransitionNotAllowed, NotAuthorised) as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The document is removed."))
    return redirect(reverse("portal:declaration-detail", args=[pk]) + "#documents")


REASON_COMMANDS = {
    "respond": ("respond", declaration_respond, _("Your answer is sent.")),
    "request_cancellation": ("cancel", declaration_request_cancellation, _("Cancellation requested.")),
}
FORM_KEYS = {"respond": "respond", "request_cancellation": "cancellation"}


@login_required
@require_POST
def declaration_command(request, pk, action):
    """Answer a query, request cancellation, withdraw."""
    declaration = _declaration_or_404(request.user, pk)
    if action == "withdraw":
        try:
            declaration_withdraw(actor=request.user, declaration=declaration)
        except (TransitionNotAllowed, NotAuthorised) as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("The declaration is withdrawn."))
        return redirect("portal:declaration-detail", pk=pk)
    if action not in REASON_COMMANDS:
        raise Http404(_("There is no such action."))
    prefix, service, done = REASON_COMMANDS[action]
    form = ReasonForm(request.POST, prefix=prefix)
    if form.is_valid():
        try:
            service(actor=request.user, declaration=declaration, reason=form.cleaned_data["reason"])
        except DeclarationInvalid as error:
            for field_error in error.errors:
                form.add_error("reason" if field_error.field == "reason" else None, field_error.message)
        except (TransitionNotAllowed, NotAuthorised) as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, done)
            return redirect("portal:declaration-detail", pk=pk)
    return _render_page(request, declaration, forms={FORM_KEYS[action]: form}, status=422)


@login_required
@require_POST
def declaration_amend(request, pk):
    """Request an amendment of an assessed declaration: new commodity codes / item prices."""
    declaration = _declaration_or_404(request.user, pk)
    items = list(declaration.items.order_by("number"))
    form = AmendmentForm(request.POST, prefix="amend", items=items)
    if form.is_valid():
        changes = form.changes()
        if not changes:
            form.add_error(None, _("Change at least one commodity code or item price."))
        else:
            try:
                declaration_request_amendment(
                    actor=request.user,
                    declaration=declaration,
                    changes=changes,
                    reason=form.cleaned_data["reason"],
                )
            except DeclarationInvalid as error:
                for field_error in error.errors:
                    form.add_error(form.field_for_path(field_error.field), field_error.message)
            except (TransitionNotAllowed, NotAuthorised) as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Amendment requested; an officer will decide."))
                return redirect("portal:declaration-detail", pk=pk)
    return _render_page(request, declaration, forms={"amendment": form}, status=422)


@login_required
@require_GET
def declaration_document_file(request, pk, document_pk):
    """An attached document's file, for the declarant's side (404 for anyone else)."""
    return document_file_response(request.user, pk, document_pk)
