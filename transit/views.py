"""Officer screens of transit, under /office/transit/: the finder, the movement's page with the moves an
officer may make there, the border post (scan the MRN, record the passage) and the destination (scan the
MRN, record the arrival and its control).

Views stay thin: reads go through ``transit.selectors`` (scoped to the offices the officer works at: a
movement of other offices is a 404) and the small read helpers below; writes through
``transit.services.lifecycle``, which checks who may act at which office. Who may make a move is checked
here first as well (403), so that a refused officer is not shown form errors. A refusal of the service
is shown in the form of the move, with what was typed; a success redirects (POST-redirect-GET).
"""

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_GET, require_POST

from customs.models import Country
from customs.paging import KeysetPage, keyset_page
from customs.selectors import office_list_for_user
from declarations.presentation import officer_required
from declarations.services.errors import NotAuthorised, TransitionNotAllowed
from payments.services.guarantees import guarantee_available
from payments.templatetags.payments_tags import tax_label
from transit.choices import TRANSITIONS, MovementStatus
from transit.forms import ArrivalForm, MovementFinderForm, MrnEntryForm, PassageForm, ReasonForm, ReleaseForm
from transit.models import ArrivalControl, TransitMovement, TransitOffice
from transit.selectors import (
    MovementQuery,
    movement_by_mrn_for_user,
    movement_find,
    movement_get_for_user,
    status_change_list,
)
from transit.services.lifecycle import (
    GuaranteeShort,
    TransitInvalid,
    transit_arrival,
    transit_border_passage,
    transit_cancel,
    transit_discharge,
    transit_release,
)
from transit.services.permissions import is_officer_at
from transit.services.stake import amount_at_stake

PAGE_SIZE = 50
S = MovementStatus
# What each colour of the finder means (its legend), in the order of the lifecycle.
STATUS_MEANINGS = {
    S.REGISTERED: pgettext_lazy("transit legend", "Lodged; waiting for release at the office of departure."),
    S.RELEASED: pgettext_lazy("transit legend", "Released for transit; the guarantee is reserved."),
    S.IN_TRANSIT: pgettext_lazy("transit legend", "Passed at least one office of transit."),
    S.ARRIVED: pgettext_lazy("transit legend", "Arrived at destination; the control is being recorded."),
    S.DISCHARGED: pgettext_lazy("transit legend", "Ended well; the guarantee is released."),
    S.OVERDUE: pgettext_lazy("transit legend", "Past its time limit without arrival: act now."),
    S.UNDER_ENQUIRY: pgettext_lazy("transit legend", "Discrepancies at destination; the guarantee is kept."),
    S.CANCELLED: pgettext_lazy("transit legend", "Cancelled before the goods left."),
}


# ------------------------------------------------------------------------------------ read helpers


def _movement_or_404(user, pk) -> TransitMovement:
    try:
        return movement_get_for_user(user, pk)
    except TransitMovement.DoesNotExist as error:
        raise Http404(_("No such transit movement.")) from error


def _require_officer_at(user, office) -> None:
    """403 unless ``user`` works at ``office`` (the service checks it again)."""
    if not is_officer_at(user, office):
        raise PermissionDenied(
            _("Only an officer of office %(office)s may do this.") % {"office": office.code}
        )


def movement_find_page(user, query: MovementQuery, *, after: str = "", before: str = "") -> KeysetPage:
    """One page of ``movement_find`` (newest first), by keyset on (registered_at, pk): no COUNT(*), and
    as fast on the last page as on the first. The offices of transit come in one more query."""
    stops = Prefetch("transit_offices", TransitOffice.objects.select_related("office").order_by("sequence"))
    movements = movement_find(user, query).prefetch_related(stops)
    return keyset_page(movements, time_field="registered_at", after=after, before=before, page_size=PAGE_SIZE)


def _stops(movement) -> list[TransitOffice]:
    return list(movement.transit_offices.select_related("office", "passed_by").order_by("sequence"))


def _passage_offices(user, stops) -> list:
    """The offices of transit of the route, not passed yet, where ``user`` works."""
    return [stop.office for stop in stops if stop.passed_at is None and is_officer_at(user, stop.office)]


def _is_overdue(movement) -> bool:
    """Past its time limit and not arrived, flagged or not yet (the beat task flags it)."""
    on_the_way = movement.status in TRANSITIONS["arrive"].sources
    return on_the_way and movement.time_limit < timezone.localdate()


def _decimal(text) -> Decimal | None:
    try:
        return Decimal(str(text))
    except (InvalidOperation, TypeError, ValueError):
        return None


def _stake_rows(lines, items) -> list[dict]:
    """The amount at stake item by item, as ``amount_at_stake`` kept it (``stake_lines``), with the
    figures as numbers for the template and the taxes named."""
    descriptions = {item.number: item.description for item in items}
    rows = []
    for line in lines or []:
        rows.append(
            {
                "item": line.get("item"),
                "description": descriptions.get(line.get("item"), ""),
                "commodity_code": line.get("commodity_code", ""),
                "customs_value": _decimal(line.get("customs_value")),
                "amount": _decimal(line.get("amount")),
                "lines_considered": line.get("lines_considered", 1),
                "taxes": [
                    {
                        "code": tax.get("tax", ""),
                        "label": tax_label(tax.get("tax", "")),
                        "base": _decimal(tax.get("base")),
                        "rate": tax.get("rate", ""),
                        "amount": _decimal(tax.get("amount")),
                    }
                    for tax in line.get("taxes", [])
                ],
            }
        )
    return rows


def _essentials(movement, stops) -> dict:
    """What the border post and the destination show of a movement before the officer acts."""
    return {
        "movement": movement,
        "stops": stops,
        "overdue": _is_overdue(movement),
    }


# ------------------------------------------------------------------------------------------ finder


@require_GET
@officer_required
def finder(request):
    """The officer's movements, filtered, newest first, one page at a time; rows coloured by status."""
    form = MovementFinderForm(request.GET or None)
    page, status = None, 200
    if not form.is_bound or form.is_valid():
        query = form.to_query() if form.is_bound else MovementQuery()
        page = movement_find_page(
            request.user, query, after=request.GET.get("after", ""), before=request.GET.get("before", "")
        )
    else:
        status = 400
    parameters = request.GET.copy()
    for name in ("after", "before"):
        parameters.pop(name, None)
    context = {
        "form": form,
        "page": page,
        "querystring": parameters.urlencode(),
        "legend": [(value, label, STATUS_MEANINGS[value]) for value, label in S.choices],
        "today": timezone.localdate(),
        # Not arrived yet: past its time limit, such a movement is overdue even before the beat task
        # flags it.
        "on_the_way": sorted(TRANSITIONS["arrive"].sources),
    }
    return render(request, "transit/office/finder.html", context, status=status)


# -------------------------------------------------------------------------------- movement page


def _actions(user, movement, stops) -> dict:
    """The moves ``user`` may make on ``movement`` now, by the office they work at and its state."""
    at_departure = is_officer_at(user, movement.departure_office)
    at_destination = is_officer_at(user, movement.destination_office)

    def possible(name):
        return movement.status in TRANSITIONS[name].sources

    passage_offices = _passage_offices(user, stops) if possible("pass_border") else []
    return {
        "release": at_departure and possible("release"),
        "cancel": at_departure and possible("cancel"),
        "reprint": at_departure and bool(movement.mrn),
        "passage": bool(passage_offices),
        "passage_offices": passage_offices,
        "arrival": at_destination and possible("arrive"),
        "discharge": at_destination and possible("discharge"),
    }


def _forms(movement, passage_offices, bound: dict) -> dict:
    forms = {
        "release": ReleaseForm(initial={"version": movement.version}),
        "cancel": ReasonForm(name="cancel"),
        "passage": PassageForm(
            offices=passage_offices,
            initial={"office": passage_offices[0].code if passage_offices else ""},
        ),
        "arrival": ArrivalForm(seals=movement.seals),
        "discharge": ReasonForm(name="discharge"),
    }
    forms.update(bound)
    return forms


def _shortage(movement, short: GuaranteeShort) -> dict:
    """What the officer is shown when the guarantee does not cover the amount at stake: the figures, and
    the computation item by item (recomputed here: the refused release wrote nothing)."""
    items = list(movement.items.all())
    _total, lines, _errors = amount_at_stake(items, day=timezone.localdate())
    return {
        "amount_at_stake": short.amount_at_stake,
        "shortfall": short.shortfall,
        "available": guarantee_available(movement.guarantee),
        "lines": _stake_rows(lines, items),
    }


def _render_detail(request, movement, *, bound=None, refusals=None, shortage=None, status=200):
    stops = _stops(movement)
    items = list(movement.items.all())
    actions = _actions(request.user, movement, stops)
    arrival_control = ArrivalControl.objects.filter(movement=movement).select_related("recorded_by").first()
    countries = {country.code: country for country in Country.objects.filter(code__in=movement.itinerary)}
    context = {
        "movement": movement,
        "stops": stops,
        "items": items,
        "total_packages": sum(item.packages_number for item in items),
        "total_gross_mass": sum((item.gross_mass for item in items), Decimal(0)),
        "itinerary": [
            (code, countries[code].name if code in countries else "") for code in movement.itinerary
        ],
        "parties": [
            (label, movement.parties[role])
            for role, label in (("consignor", _("Consignor")), ("consignee", _("Consignee")))
            if movement.parties.get(role)
        ],
        "stake_rows": _stake_rows(movement.stake_lines, items),
        "guarantee_available": guarantee_available(movement.guarantee),
        "arrival_control": arrival_control,
        "seals_missing": [
            seal for seal in movement.seals if arrival_control and seal not in arrival_control.seals_found
        ],
        "seals_unexpected": [
            seal
            for seal in (arrival_control.seals_found if arrival_control else [])
            if seal not in movement.seals
        ],
        "prints": list(movement.prints.select_related("requested_by").order_by("requested_at", "pk")),
        "history": list(status_change_list(movement)),
        "actions": actions,
        "forms": _forms(movement, actions["passage_offices"], bound or {}),
        "refusals": refusals or {},
        # A refusal of a move whose form is no longer shown (the movement moved on meanwhile).
        "other_refusals": [message for name, message in (refusals or {}).items() if not actions.get(name)],
        "shortage": shortage,
        "overdue": _is_overdue(movement),
    }
    return render(request, "transit/office/detail.html", context, status=status)


@require_GET
@officer_required
def detail(request, pk):
    """The movement: offices and route, parties, transport, seals, guarantee and the amount at stake,
    items, arrival control, documents, history, and the moves the officer may make here."""
    return _render_detail(request, _movement_or_404(request.user, pk))


# ------------------------------------------------------------------------------------------- moves


def _invalid_to_form(error: TransitInvalid, form) -> None:
    """The service's field errors next to their field in ``form``, the others on top of it."""
    for field_error in error.errors:
        name = field_error.field if field_error.field in form.fields else None
        form.add_error(name, field_error.message if name else f"{field_error.field}: {field_error.message}")


def _refused(request, movement, name: str, form, *, refusal: str = "", status: int):
    """Show the move's form again, with what was typed and why it was refused, on the screen it was
    made from."""
    screen = form.cleaned_data.get("screen", "") if hasattr(form, "cleaned_data") else ""
    screen = screen or request.POST.get("screen", "")
    if screen == "border" and name == "passage":
        return _render_border(
            request, MrnEntryForm(), movement, passage_form=form, refusal=refusal, status=status
        )
    if screen == "destination" and name == "arrival":
        return _render_destination(
            request, MrnEntryForm(), movement, arrival_form=form, refusal=refusal, status=status
        )
    return _render_detail(
        request, movement, bound={name: form}, refusals={name: refusal} if refusal else {}, status=status
    )


def _done(request, movement, label):
    messages.success(
        request,
        _("%(action)s: done. The movement %(number)s is now %(status)s.")
        % {
            "action": label,
            "number": movement.mrn or movement.lrn,
            "status": movement.get_status_display().lower(),
        },
    )
    return redirect("transit:detail", pk=movement.pk)


@require_POST
@officer_required
def release(request, pk):
    """Release for transit at the office of departure: the amount at stake reserved on the guarantee,
    the MRN given, the TAD printed by the worker. Refused with the shortfall when the guarantee does not
    cover it, and nothing changes."""
    movement = _movement_or_404(request.user, pk)
    _require_officer_at(request.user, movement.departure_office)
    form = ReleaseForm(request.POST)
    if not form.is_valid():
        return _refused(request, movement, "release", form, status=400)
    try:
        updated = transit_release(
            actor=request.user, movement=movement, expected_version=form.cleaned_data["version"]
        )
    except GuaranteeShort as short:
        return _render_detail(
            request,
            movement,
            refusals={"release": str(short)},
            shortage=_shortage(movement, short),
            status=409,
        )
    except TransitInvalid as error:
        _invalid_to_form(error, form)
        return _refused(request, movement, "release", form, status=400)
    except TransitionNotAllowed as error:
        return _refused(request, movement, "release", form, refusal=str(error), status=409)
    except NotAuthorised as error:
        raise PermissionDenied(str(error)) from error
    return _done(request, updated, TRANSITIONS["release"].label)


def _reason_move(request, pk, name: str, service, office_of):
    movement = _movement_or_404(request.user, pk)
    _require_officer_at(request.user, office_of(movement))
    form = ReasonForm(request.POST, name=name)
    if not form.is_valid():
        return _refused(request, movement, name, form, status=400)
    try:
        updated = service(actor=request.user, movement=movement, reason=form.cleaned_data["reason"])
    except TransitInvalid as error:
        _invalid_to_form(error, form)
        return _refused(request, movement, name, form, status=400)
    except TransitionNotAllowed as error:
        return _refused(request, movement, name, form, refusal=str(error), status=409)
    except NotAuthorised as error:
        raise PermissionDenied(str(error)) from error
    return _done(request, updated, TRANSITIONS[name].label)


@require_POST
@officer_required
def cancel(request, pk):
    """Cancel at the office of departure, before the goods leave, with a reason (the reservation is
    released)."""
    return _reason_move(request, pk, "cancel", transit_cancel, lambda movement: movement.departure_office)


@require_POST
@officer_required
def discharge(request, pk):
    """Discharge at the end of an enquiry, at the office of destination, with the reason (the guarantee's
    reservation is released)."""
    return _reason_move(
        request, pk, "discharge", transit_discharge, lambda movement: movement.destination_office
    )


@require_POST
@officer_required
def passage(request, pk):
    """Record the border passage at one of the officer's offices (the service checks it is on the
    route and not passed yet)."""
    movement = _movement_or_404(request.user, pk)
    form = PassageForm(request.POST, offices=office_list_for_user(request.user))
    if not form.is_valid():
        if form.has_error("office", "not_your_office"):
            raise PermissionDenied(form.errors["office"][0])
        return _refused(request, movement, "passage", form, status=400)
    office = form.cleaned_data["office"]
    try:
        updated = transit_border_passage(actor=request.user, movement=movement, office=office)
    except TransitionNotAllowed as error:
        return _refused(request, movement, "passage", form, refusal=str(error), status=409)
    except NotAuthorised as error:
        raise PermissionDenied(str(error)) from error
    if form.cleaned_data["screen"] == "border":
        messages.success(
            request,
            _("Passage of %(mrn)s recorded at %(office)s. The movement is now %(status)s.")
            % {"mrn": updated.mrn, "office": office.code, "status": updated.get_status_display().lower()},
        )
        return redirect("transit:border")
    return _done(request, updated, TRANSITIONS["pass_border"].label)


@require_POST
@officer_required
def arrival(request, pk):
    """Record the arrival at the office of destination with the seal check and the goods check.
    Conform: discharged at once, the guarantee released. Discrepancies: under enquiry, the guarantee
    kept."""
    movement = _movement_or_404(request.user, pk)
    _require_officer_at(request.user, movement.destination_office)
    form = ArrivalForm(request.POST, seals=movement.seals)
    if not form.is_valid():
        return _refused(request, movement, "arrival", form, status=400)
    data = form.cleaned_data
    try:
        updated = transit_arrival(
            actor=request.user,
            movement=movement,
            seals_intact=data["seals_intact"],
            goods_conform=data["goods_conform"],
            seals_found=data["seals_found"],
            discrepancies=data["discrepancies"],
        )
    except TransitInvalid as error:
        _invalid_to_form(error, form)
        return _refused(request, movement, "arrival", form, status=400)
    except TransitionNotAllowed as error:
        return _refused(request, movement, "arrival", form, refusal=str(error), status=409)
    except NotAuthorised as error:
        raise PermissionDenied(str(error)) from error
    if updated.status == S.DISCHARGED:
        message = _(
            "Arrival of %(number)s recorded: the seals are intact and the goods conform. The movement is "
            "discharged and its guarantee released."
        )
    else:
        message = _(
            "Arrival of %(number)s recorded with discrepancies. The movement is under enquiry and its "
            "guarantee stays reserved."
        )
    messages.success(request, message % {"number": updated.mrn})
    return redirect("transit:detail", pk=updated.pk)


# --------------------------------------------------------------------------- border post, destination


def _lookup(request) -> tuple[MrnEntryForm, TransitMovement | None, int]:
    """The MRN entry of the border post and the destination: (form, movement found, HTTP status)."""
    form = MrnEntryForm(request.GET or None)
    if not form.is_bound:
        return form, None, 200
    if not form.is_valid():
        return form, None, 400
    movement = movement_by_mrn_for_user(request.user, form.cleaned_data["mrn"])
    if movement is None:
        form.add_error(
            "mrn",
            _("No movement with MRN %(mrn)s concerns your offices. Check the MRN on the document.")
            % {"mrn": form.cleaned_data["mrn"]},
        )
        return form, None, 404
    # The movement is shown: the field is emptied for the next scan.
    return MrnEntryForm(), movement, 200


def _passage_blocked(user, movement, stops) -> str:
    """Why no passage can be recorded here, or '' when it can."""
    if movement.status not in TRANSITIONS["pass_border"].sources:
        return _("No passage can be recorded: the movement is %(status)s.") % {
            "status": movement.get_status_display().lower()
        }
    mine = [stop for stop in stops if is_officer_at(user, stop.office)]
    if not mine:
        return _("None of your offices is an office of transit of this movement.")
    if all(stop.passed_at is not None for stop in mine):
        return _("The passage at %(office)s is recorded already.") % {
            "office": ", ".join(stop.office.code for stop in mine)
        }
    return ""


def _render_border(request, entry_form, movement, *, passage_form=None, refusal="", status=200):
    context = {"entry_form": entry_form, "movement": None, "refusal": refusal}
    if movement is not None:
        stops = _stops(movement)
        offices = _passage_offices(request.user, stops)
        blocked = _passage_blocked(request.user, movement, stops)
        context.update(_essentials(movement, stops))
        context.update(
            {
                "passage_offices": offices,
                "passage_blocked": blocked,
                "passage_form": passage_form
                or PassageForm(offices=offices, initial={"office": offices[0].code if offices else ""}),
            }
        )
        entry_form.fields["mrn"].widget.attrs.pop("autofocus", None)
    return render(request, "transit/office/border.html", context, status=status)


@require_GET
@officer_required
def border(request):
    """The border post: scan (or type) the MRN, check the movement's essentials, record the passage."""
    entry_form, movement, status = _lookup(request)
    return _render_border(request, entry_form, movement, status=status)


def _arrival_blocked(user, movement) -> str:
    if not is_officer_at(user, movement.destination_office):
        return _("The office of destination is %(office)s: only its officers record the arrival.") % {
            "office": movement.destination_office.code
        }
    if movement.status not in TRANSITIONS["arrive"].sources:
        return _("No arrival can be recorded: the movement is %(status)s.") % {
            "status": movement.get_status_display().lower()
        }
    return ""


def _render_destination(request, entry_form, movement, *, arrival_form=None, refusal="", status=200):
    context = {"entry_form": entry_form, "movement": None, "refusal": refusal}
    if movement is not None:
        context.update(_essentials(movement, _stops(movement)))
        context.update(
            {
                "arrival_blocked": _arrival_blocked(request.user, movement),
                "arrival_form": arrival_form or ArrivalForm(seals=movement.seals),
            }
        )
        entry_form.fields["mrn"].widget.attrs.pop("autofocus", None)
    return render(request, "transit/office/destination.html", context, status=status)


@require_GET
@officer_required
def destination(request):
    """The office of destination: scan (or type) the MRN, then record the arrival and its control."""
    entry_form, movement, status = _lookup(request)
    return _render_destination(request, entry_form, movement, status=status)
