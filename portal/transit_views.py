"""The principal's transit screens in the portal (/portal/transit/): the movements, lodging a T1 from the
form (with its item grid, filled in from an export declaration if asked) or from a CC015C message, the
movement's page; and the user's notifications (/portal/notifications/), counted in the portal header.

Who lodges for whom is ``transit.services.permissions.principal_traders``: a trader user for its trader,
a broker user for the traders that authorised its broker for transit. Staff are not portal users and get
403, as does a broker no trader authorised for transit; another principal's movement is a 404. Views
stay thin: forms parse, ``transit_lodge`` decides, and every ``FieldError`` it returns is shown next to
the input (or the grid cell) it names.
"""

from functools import wraps

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_POST

from customs.models import Notification
from customs.services.notifications import notification_mark_read
from declarations.choices import DeclarationType, Status
from declarations.selectors import FinderQuery, declaration_find
from declarations.services.errors import NotAuthorised
from portal.access import portal_refused, portal_user_required
from portal.declaration_views import _grid_action
from portal.transit_forms import (
    ITEM_PREFIX,
    Cc015cUploadForm,
    TransitForm,
    TransitItemForm,
    TransitItemFormSet,
    errors_to_forms,
    export_item_rows,
    field_path_label,
    principals_for,
)
from transit.choices import TRANSITIONS, MovementStatus
from transit.models import TransitMovement, TransitOffice
from transit.selectors import movement_list_for_user, status_change_list
from transit.services.lifecycle import TransitInvalid, transit_lodge
from transit.services.permissions import principal_traders
from transit.xml.cc015c import TransitMessageInvalid, cc015c_read

S = MovementStatus
# The badge of each status, among the stylesheet's existing badge classes (the text always names the
# status; the colour only adds to it). ``data-status`` on the badge carries the status itself.
STATUS_CLASSES = {
    S.REGISTERED: "status-registered",
    S.RELEASED: "status-paid",
    S.IN_TRANSIT: "status-paid",
    S.ARRIVED: "status-assessed",
    S.DISCHARGED: "status-released",
    S.OVERDUE: "status-rejected",
    S.UNDER_ENQUIRY: "status-queried",
    S.CANCELLED: "status-cancelled",
}
EXPORT_TYPES = (DeclarationType.EX1, DeclarationType.EX3)
MOVEMENTS_PER_PAGE = 50
NOTIFICATIONS_PER_PAGE = 50
# What each move of the lifecycle did, as the history names it.
HISTORY_LABELS = {
    "lodge": pgettext_lazy("transit history", "Lodged"),
    "release": pgettext_lazy("transit history", "Released for transit"),
    "pass_border": pgettext_lazy("transit history", "Border passage recorded"),
    "flag_overdue": pgettext_lazy("transit history", "Flagged overdue"),
    "arrive": pgettext_lazy("transit history", "Arrival recorded"),
    "discharge": pgettext_lazy("transit history", "Discharged"),
    "enquire": pgettext_lazy("transit history", "Enquiry opened"),
    "cancel": pgettext_lazy("transit history", "Cancelled"),
}


def principal_required(view):
    """A portal user that lodges transit for at least one trader today."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not principal_traders(request.user):
            return portal_refused(
                request,
                _(
                    "No trader has authorised your broker for transit today. A trader gives the "
                    "authorisation (scope “transit”) at the customs office; once it is recorded, you can "
                    "lodge transit declarations for that trader here."
                ),
            )
        return view(request, *args, **kwargs)

    return portal_user_required(wrapper)


def status_badge(status: str) -> dict:
    return {"value": status, "label": S(status).label, "css": STATUS_CLASSES.get(status, "status")}


def _with_route(movements):
    return movements.prefetch_related(
        Prefetch("transit_offices", TransitOffice.objects.select_related("office").order_by("sequence"))
    )


# --------------------------------------------------------------------------------------------- list


@principal_required
def movement_list(request):
    """The principal's movements, newest first, with their state, references, route, plate and limit."""
    movements = _with_route(movement_list_for_user(request.user).order_by("-registered_at", "-pk"))
    page = Paginator(movements, MOVEMENTS_PER_PAGE).get_page(request.GET.get("page"))
    rows = [{"movement": movement, "status": status_badge(movement.status)} for movement in page]
    return render(request, "portal/transit/list.html", {"page": page, "rows": rows})


# ------------------------------------------------------------------------------------------ T1 form


def _posted_general(post) -> dict:
    names = list(TransitForm.base_fields) + TransitForm.TRANSIT_OFFICE_FIELDS
    return {name: post.get(name, "") for name in names}


def _posted_rows(post) -> list[dict]:
    """The grid rows as typed (raw strings), to rebuild the grid after a copy / add / remove."""
    try:
        total = int(post.get(f"{ITEM_PREFIX}-TOTAL_FORMS", "0"))
    except ValueError:
        total = 0
    return [
        {name: post.get(f"{ITEM_PREFIX}-{index}-{name}", "") for name in TransitItemForm.COLUMNS}
        for index in range(min(total, 999))
    ]


def _rebuilt_grid(post, action, index) -> list[dict]:
    rows = _posted_rows(post)
    if action == "copy" and index < len(rows):
        rows.insert(index + 1, dict(rows[index]))
    elif action == "remove" and index < len(rows):
        del rows[index]
    elif action == "add":
        rows.append({})
    return rows or [{}]


def _export_declaration(user, principal: str, number: str):
    """(the export declaration of ``principal`` registered as ``number`` that ``user`` may see, or None;
    the reason when there is none)."""
    if not number:
        return None, _("Give the registration number of the export declaration.")
    found = list(
        declaration_find(user, FinderQuery(number=number))
        .filter(trader__taxpayer_id=principal, declaration_type__in=EXPORT_TYPES)
        .exclude(status__in=[Status.CANCELLED, Status.REJECTED])[:2]
    )
    if not found:
        return None, _("No export declaration (EX1 or EX3) of this principal has the number %(number)s.") % {
            "number": number
        }
    if len(found) > 1:
        return None, _(
            "Several export declarations have this number: give it in full, e.g. TMA01 2026 C 10452."
        )
    return found[0], ""


def _fill_from_previous(request, form_kwargs):
    """The form again with the items of the export declaration named as previous document (nothing
    saved); or, when there is no such declaration, with the reason next to the field."""
    post = request.POST.copy()
    form = TransitForm(post, **form_kwargs)
    form.is_valid()
    principal = form.cleaned_data.get("principal", "")
    number = " ".join(post.get("previous_document", "").split())
    if not principal:
        form.add_error("principal", _("Choose the principal whose export declaration it is."))
        return form, TransitItemFormSet(prefix=ITEM_PREFIX, initial=_posted_rows(post) or [{}])
    declaration, problem = _export_declaration(request.user, principal, number)
    if declaration is None:
        form.add_error("previous_document", problem)
        return form, TransitItemFormSet(prefix=ITEM_PREFIX, initial=_posted_rows(post) or [{}])
    rows = export_item_rows(declaration)
    post["previous_document"] = declaration.number
    form = TransitForm(post, **form_kwargs)
    form.is_valid()
    messages.success(
        request,
        _("The %(count)s items of export declaration %(number)s are filled in. Check them, then lodge.")
        % {"count": len(rows), "number": declaration.number},
    )
    return form, TransitItemFormSet(prefix=ITEM_PREFIX, initial=rows or [{}])


@principal_required
def movement_new(request):
    """Lodge a T1: the general part, the offices, transport and guarantee, and the item grid. The grid's
    buttons (add, copy, remove a row) and "fill in the items" work without JavaScript: the page comes
    back with everything typed, nothing saved."""
    form_kwargs = {"principals": principals_for(request.user)}
    grid_errors: list[str] = []
    leftover: list[str] = []
    lodging = False
    if request.method == "POST":
        grid_action = _grid_action(request.POST)
        if grid_action is not None:
            form = TransitForm(initial=_posted_general(request.POST), **form_kwargs)
            formset = TransitItemFormSet(
                prefix=ITEM_PREFIX, initial=_rebuilt_grid(request.POST, *grid_action)
            )
        elif "fill_previous" in request.POST:
            form, formset = _fill_from_previous(request, form_kwargs)
        else:
            lodging = True
            form = TransitForm(request.POST, **form_kwargs)
            formset = TransitItemFormSet(request.POST, prefix=ITEM_PREFIX)
            if form.is_valid() and formset.is_valid():
                kept = formset.kept_forms()
                data = form.to_data([row.to_item(number) for number, row in enumerate(kept, start=1)])
                try:
                    movement = transit_lodge(actor=request.user, data=data)
                except TransitInvalid as error:
                    grid_errors, leftover = errors_to_forms(error.errors, form=form, kept_forms=kept)
                except NotAuthorised as error:
                    leftover = [str(error)]
                else:
                    messages.success(
                        request,
                        _("The transit declaration %(lrn)s is registered at %(office)s.")
                        % {"lrn": movement.lrn, "office": movement.departure_office.code},
                    )
                    return redirect("portal:transit-detail", pk=movement.pk)
    else:
        form = TransitForm(**form_kwargs)
        formset = TransitItemFormSet(prefix=ITEM_PREFIX, initial=[{}])
    has_errors = lodging and bool(grid_errors or leftover or form.errors or formset.total_error_count())
    context = {
        "form": form,
        "formset": formset,
        "grid_errors": grid_errors,
        "leftover_errors": leftover,
        "has_errors": has_errors,
    }
    return render(request, "portal/transit/form.html", context, status=422 if has_errors else 200)


# --------------------------------------------------------------------------------------- CC015C upload


@principal_required
def movement_upload(request):
    """Lodge the T1 that a CC015C message carries: the message is checked against the NCTS phase 5
    schema and its business rules (problems listed with their lines), then lodged as from the form."""
    form = Cc015cUploadForm(request.POST or None, request.FILES or None)
    problems, lodge_errors, refusal = [], [], ""
    if request.method == "POST" and form.is_valid():
        try:
            data = cc015c_read(form.cleaned_data["message"].read())
        except TransitMessageInvalid as invalid:
            problems = invalid.problems
        else:
            try:
                movement = transit_lodge(actor=request.user, data=data)
            except TransitInvalid as error:
                lodge_errors = [(field_path_label(item.field), item.message) for item in error.errors]
            except NotAuthorised as error:
                refusal = str(error)
            else:
                messages.success(
                    request,
                    _("The transit declaration %(lrn)s of the message is registered at %(office)s.")
                    % {"lrn": movement.lrn, "office": movement.departure_office.code},
                )
                return redirect("portal:transit-detail", pk=movement.pk)
    failed = request.method == "POST"
    context = {"form": form, "problems": problems, "lodge_errors": lodge_errors, "refusal": refusal}
    return render(request, "portal/transit/upload.html", context, status=422 if failed else 200)


# ----------------------------------------------------------------------------------- movement page


def _movement_or_404(user, pk) -> TransitMovement:
    try:
        return _with_route(movement_list_for_user(user).select_related("reservation")).get(pk=pk)
    except TransitMovement.DoesNotExist as error:
        raise Http404(_("There is no such transit movement.")) from error


def _route(movement: TransitMovement) -> list[dict]:
    """The offices in route order, each with when the goods were seen there."""
    stops = [
        {"role": _("Office of departure"), "office": movement.departure_office, "at": movement.released_at}
    ]
    stops += [
        {
            "role": _("Office of transit"),
            "office": stop.office,
            "at": stop.passed_at,
            "sequence": stop.sequence,
        }
        for stop in movement.transit_offices.all()
    ]
    stops.append(
        {"role": _("Office of destination"), "office": movement.destination_office, "at": movement.arrived_at}
    )
    return stops


def _history(movement: TransitMovement) -> list[dict]:
    rows = []
    for change in status_change_list(movement):
        transition = TRANSITIONS.get(change.action)
        label = HISTORY_LABELS.get(change.action) or (transition.label if transition else change.action)
        rows.append({"change": change, "action": label, "status": status_badge(change.to_status)})
    return rows


@principal_required
def movement_page(request, pk):
    """The movement: its state and history, the route with the passages, the goods, the amount at stake
    held on the guarantee, and the transit accompanying document once released."""
    movement = _movement_or_404(request.user, pk)
    try:
        arrival = movement.arrival_control
    except TransitMovement.arrival_control.RelatedObjectDoesNotExist:
        arrival = None
    context = {
        "movement": movement,
        "status": status_badge(movement.status),
        "route": _route(movement),
        "items": list(movement.items.all()),
        "history": _history(movement),
        "reservation": movement.reservation,
        "arrival": arrival,
    }
    return render(request, "portal/transit/detail.html", context)


# ------------------------------------------------------------------------------------- notifications


def _notifications(user):
    return Notification.objects.filter(user=user).order_by("-created_at", "-pk")


@portal_user_required
def notification_list(request):
    """The user's notifications, newest first; the unread ones marked."""
    page = Paginator(_notifications(request.user), NOTIFICATIONS_PER_PAGE).get_page(request.GET.get("page"))
    unread = _notifications(request.user).filter(read_at__isnull=True).count()
    return render(request, "portal/transit/notifications.html", {"page": page, "unread": unread})


@portal_user_required
@require_POST
def notification_read(request, pk):
    """Mark one of the user's notifications read; with ``open``, then follow its link."""
    notification = _notifications(request.user).filter(pk=pk).first()
    if notification is None:
        raise Http404(_("There is no such notification."))
    notification_mark_read(user=request.user, notification_id=notification.pk)
    link = notification.link
    if (
        request.POST.get("open")
        and link
        and url_has_allowed_host_and_scheme(link, allowed_hosts={request.get_host()}, require_https=False)
    ):
        return redirect(link)
    return redirect("portal:notification-list")
