"""Officers' and supervisors' screens of the risk module, under /office/risk/: the officer's worklist,
the examination (documentary check or physical examination with findings per item), the supervisor's
board of the office's open examinations with reassignment, the change of lane, and the post-clearance
audit queue.

Views stay thin: reads go through ``risk.selectors`` and ``risk.officer_selectors`` (scoped to the
user's offices: another office's examination is a 404), writes through the risk services, which check
who may act (the assigned officer records; a supervisor of the office reassigns and changes lanes).
Errors of the services are shown next to the field they name, keeping what was typed; a success
redirects (POST-redirect-GET).
"""

import os

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from declarations.choices import Lane
from declarations.models import Declaration
from declarations.presentation import field_label, officer_required
from declarations.selectors import declaration_get_for_officer_view
from declarations.services.errors import DeclarationInvalid, NotAuthorised, TransitionNotAllowed
from risk import officer_selectors
from risk.choices import ExaminationKind, ExaminationStatus
from risk.models import Examination, Finding, PostClearanceAudit
from risk.officer_forms import (
    AuditOutcomeForm,
    FindingForm,
    LaneChangeForm,
    QueryForm,
    ReassignForm,
    ReportForm,
    error_add,
    item_error_target,
    service_errors_apply,
)
from risk.selectors import audit_queue_for_user, examination_list_for_user
from risk.services import assignment, control
from risk.services.permissions import is_supervisor_of

# Rows on the supervisor's board and in the audit queue (the oldest come first; more wait their turn).
BOARD_LIMIT = 200
AUDIT_LIMIT = 200


# ------------------------------------------------------------------------------------------ worklist


@require_GET
@officer_required
def worklist(request):
    """The signed-in officer's open examinations, oldest first."""
    return render(
        request, "risk/officer/worklist.html", {"rows": officer_selectors.worklist_rows(request.user)}
    )


# ------------------------------------------------------------------------------------- examination


def _page_or_404(user, pk) -> dict:
    try:
        return officer_selectors.examination_page(user, pk)
    except Examination.DoesNotExist as error:
        raise Http404(_("No such examination.")) from error


def _may_record(user, examination) -> bool:
    return examination.status == ExaminationStatus.ASSIGNED and examination.officer_id == user.pk


def _render_examination(request, page, *, forms=None, status=200):
    """The examination page; ``forms`` replaces the forms that failed (bound, with their errors). Only
    the assigned officer gets forms: anyone else of the office reads."""
    examination = page["examination"]
    forms = forms or {}
    can_record = _may_record(request.user, examination)
    documentary = examination.kind == ExaminationKind.DOCUMENTARY
    checks_documents, records_findings = can_record and documentary, can_record and not documentary
    finding_forms = forms.get("findings") or {}
    rows = [
        {
            **row,
            "form": (
                finding_forms.get(row["item"].number) or FindingForm(item=row["item"], finding=row["finding"])
            )
            if records_findings
            else None,
        }
        for row in page["rows"]
    ]
    context = {
        **page,
        "rows": rows,
        "can_record": can_record,
        "documentary": documentary,
        "accept_form": (forms.get("accept") or ReportForm(prefix="accept")) if checks_documents else None,
        "query_form": (forms.get("query") or QueryForm(prefix="query")) if checks_documents else None,
        "complete_form": (forms.get("complete") or ReportForm(prefix="complete"))
        if records_findings
        else None,
        "missing": [row["item"].number for row in page["rows"] if row["finding"] is None],
    }
    return render(request, "risk/officer/examination.html", context, status=status)


def _refused(error: NotAuthorised):
    return PermissionDenied(str(error))


@require_GET
@officer_required
def examination_detail(request, pk):
    """The examination: the declaration, the criteria that hit it and what to record."""
    return _render_examination(request, _page_or_404(request.user, pk))


@require_POST
@officer_required
def examination_accept(request, pk):
    """Documentary check: the documents are in order; the control ends (release follows payment)."""
    page = _page_or_404(request.user, pk)
    examination = page["examination"]
    form = ReportForm(request.POST, prefix="accept")
    if form.is_valid():
        try:
            control.documentary_accept(
                actor=request.user, examination=examination, report=form.cleaned_data["report"]
            )
        except NotAuthorised as error:
            raise _refused(error) from error
        except TransitionNotAllowed as error:
            messages.error(request, str(error))
            return redirect("risk:examination", pk=pk)
        messages.success(request, _("The documents are accepted; the control of the declaration is done."))
        return redirect("declarations:detail", pk=examination.declaration_id)
    return _render_examination(request, page, forms={"accept": form}, status=400)


@require_POST
@officer_required
def examination_query(request, pk):
    """Documentary check: ask the declarant; the check stays open until the documents are accepted."""
    page = _page_or_404(request.user, pk)
    form = QueryForm(request.POST, prefix="query")
    if form.is_valid():
        try:
            control.documentary_query(
                actor=request.user, examination=page["examination"], question=form.cleaned_data["question"]
            )
        except DeclarationInvalid as error:
            service_errors_apply(form, error.errors, rename={"reason": "question"})
        except NotAuthorised as error:
            raise _refused(error) from error
        except TransitionNotAllowed as error:
            messages.error(request, str(error))
            return redirect("risk:examination", pk=pk)
        else:
            messages.success(request, _("The question is sent to the declarant."))
            return redirect("risk:examination", pk=pk)
    return _render_examination(request, page, forms={"query": form}, status=400)


@require_POST
@officer_required
def finding_save(request, pk, item_number):
    """Physical examination: record (or correct) the finding on one item."""
    page = _page_or_404(request.user, pk)
    examination = page["examination"]
    item = next((item for item in page["items"] if item.number == item_number), None)
    if item is None:
        raise Http404(_("There is no item %(n)s.") % {"n": item_number})
    try:
        assignment.ensure_assigned_officer(request.user, examination)
    except NotAuthorised as error:
        raise _refused(error) from error
    form = FindingForm(request.POST, request.FILES, item=item, finding=page["findings"].get(item_number))
    if form.is_valid():
        try:
            control.finding_record(
                actor=request.user,
                examination=examination,
                item_number=item_number,
                result=form.cleaned_data["result"],
                corrections=form.corrections(),
                note=form.cleaned_data["note"],
                photo=form.cleaned_data["photo"] or None,
            )
        except DeclarationInvalid as error:
            for field_error in error.errors:
                target = item_error_target(field_error.field)
                error_add(form, target[1] if target else None, field_error.message)
        except NotAuthorised as error:
            raise _refused(error) from error
        except TransitionNotAllowed as error:
            messages.error(request, str(error))
            return redirect("risk:examination", pk=pk)
        else:
            messages.success(request, _("The finding on item %(n)s is saved.") % {"n": item_number})
            return redirect(reverse("risk:examination", args=[pk]) + f"#item-{item_number}")
    return _render_examination(request, page, forms={"findings": {item_number: form}}, status=400)


@require_POST
@officer_required
def examination_complete(request, pk):
    """Physical examination: every item has its finding; the declaration is re-assessed with the
    corrected values and its control ends (or the goods are held, for prohibited goods)."""
    page = _page_or_404(request.user, pk)
    examination = page["examination"]
    form = ReportForm(request.POST, prefix="complete")
    if not form.is_valid():
        return _render_examination(request, page, forms={"complete": form}, status=400)
    try:
        closed = control.examination_complete(
            actor=request.user, examination=examination, report=form.cleaned_data["report"]
        )
    except DeclarationInvalid as error:
        return _render_examination(request, page, forms=_completion_errors(page, form, error), status=400)
    except NotAuthorised as error:
        raise _refused(error) from error
    except TransitionNotAllowed as error:
        messages.error(request, str(error))
        return redirect("risk:examination", pk=pk)
    if closed.status == ExaminationStatus.HELD:
        messages.warning(request, _("The examination is closed and the goods are held for a supervisor."))
    else:
        messages.success(request, _("The examination is complete; the control of the declaration is done."))
    return redirect("declarations:detail", pk=examination.declaration_id)


def _completion_errors(page, complete_form, error: DeclarationInvalid) -> dict:
    """The completion's errors next to the item (and its field) they name; the rest on top of the
    completion form."""
    items = {item.number: item for item in page["items"]}
    finding_forms = {}
    for field_error in error.errors:
        target = item_error_target(field_error.field)
        if target is not None and target[0] in items:
            number, name = target
            form = finding_forms.get(number)
            if form is None:
                form = FindingForm(item=items[number], finding=page["findings"].get(number))
                finding_forms[number] = form
            error_add(form, name, field_error.message)
            continue
        message = field_error.message
        if field_error.field and target is None:
            message = f"{capfirst(field_label(Declaration, field_error.field))}: {message}"
        error_add(complete_form, None, message)
    return {"findings": finding_forms, "complete": complete_form}


@require_GET
@officer_required
def finding_photo(request, pk):
    """A finding's photo, for a user who may see its examination (404 otherwise). Never served from
    MEDIA_URL."""
    try:
        finding = officer_selectors.finding_get_for_user(request.user, pk)
    except Finding.DoesNotExist as error:
        raise Http404(_("No such photo.")) from error
    if not finding.photo:
        raise Http404(_("This finding has no photo."))
    response = FileResponse(
        finding.photo.open("rb"),
        content_type=finding.photo_content_type or "application/octet-stream",
        filename=os.path.basename(finding.photo.name),
        as_attachment=False,
    )
    response["Cache-Control"] = "private, no-store"
    return response


# ------------------------------------------------------------------------------- supervisor's board


def _supervised_or_403(user) -> list:
    offices = officer_selectors.supervised_offices(user)
    if not offices:
        raise PermissionDenied(_("Only a supervisor may open this page."))
    return offices


def _render_board(request, offices, *, bound: ReassignForm | None = None, status=200):
    loads = officer_selectors.officer_loads(offices)
    officers = {load["office"].pk: load["officers"] for load in loads}
    busiest = max((user.open_count for load in loads for user in load["officers"]), default=0) or 1
    rows = []
    for examination in officer_selectors.office_open_examinations(offices)[:BOARD_LIMIT]:
        if bound is not None and bound.examination.pk == examination.pk:
            form = bound
        else:
            candidates = [
                user for user in officers.get(examination.office_id, []) if user.pk != examination.officer_id
            ]
            form = ReassignForm(examination=examination, officers=candidates)
        rows.append({"examination": examination, "form": form})
    context = {
        "offices": offices,
        "loads": [
            {
                "office": load["office"],
                "officers": [
                    {
                        "user": user,
                        "open_count": user.open_count,
                        "bar_percent": round(100 * user.open_count / busiest),
                    }
                    for user in load["officers"]
                ],
            }
            for load in loads
        ],
        "rows": rows,
        "limit": BOARD_LIMIT,
    }
    return render(request, "risk/officer/office_examinations.html", context, status=status)


@require_GET
@officer_required
def office_examinations(request):
    """The open examinations of the supervisor's offices (waiting for an officer first, then the oldest)
    and the officers' loads."""
    return _render_board(request, _supervised_or_403(request.user))


@require_POST
@officer_required
def examination_reassign(request, pk):
    """A supervisor of the office gives an open examination to another officer, with the reason."""
    try:
        examination = examination_list_for_user(request.user).get(pk=pk)
    except Examination.DoesNotExist as error:
        raise Http404(_("No such examination.")) from error
    if not is_supervisor_of(request.user, examination.office):
        raise PermissionDenied(_("Only a supervisor of the office may reassign an examination."))
    candidates = [
        user
        for load in officer_selectors.officer_loads([examination.office])
        for user in load["officers"]
        if user.pk != examination.officer_id
    ]
    form = ReassignForm(request.POST, examination=examination, officers=candidates)
    if form.is_valid():
        try:
            changed = assignment.examination_reassign(
                actor=request.user,
                examination=examination,
                officer=form.cleaned_data["officer"],
                reason=form.cleaned_data["reason"],
            )
        except DeclarationInvalid as error:
            service_errors_apply(form, error.errors)
        except NotAuthorised as error:
            raise _refused(error) from error
        except TransitionNotAllowed as error:
            messages.error(request, str(error))
            return redirect("risk:office-examinations")
        else:
            messages.success(
                request,
                _("The examination of %(number)s is now assigned to %(officer)s.")
                % {
                    "number": changed.declaration.number,
                    "officer": changed.officer.get_full_name() or changed.officer.username,
                },
            )
            return redirect("risk:office-examinations")
    return _render_board(request, _supervised_or_403(request.user), bound=form, status=400)


@require_POST
@officer_required
def declaration_lane(request, pk):
    """A supervisor of the office changes the declaration's lane, with the reason."""
    try:
        declaration = declaration_get_for_officer_view(request.user, pk)
    except Declaration.DoesNotExist as error:
        raise Http404(_("No such declaration.")) from error
    if not is_supervisor_of(request.user, declaration.office):
        raise PermissionDenied(_("Only a supervisor of the office may change the lane."))
    form = LaneChangeForm(request.POST)
    if form.is_valid():
        try:
            changed = control.lane_change(
                actor=request.user,
                declaration=declaration,
                lane=form.cleaned_data["lane"],
                reason=form.cleaned_data["reason"],
            )
        except DeclarationInvalid as error:
            service_errors_apply(form, error.errors)
        except NotAuthorised as error:
            raise _refused(error) from error
        except TransitionNotAllowed as error:
            messages.error(request, str(error))
            return redirect("declarations:detail", pk=pk)
        else:
            messages.success(
                request, _("The lane is now %(lane)s.") % {"lane": Lane(changed.lane).label.lower()}
            )
            return redirect("declarations:detail", pk=pk)
    return render(
        request, "risk/officer/lane_change.html", {"declaration": declaration, "form": form}, status=400
    )


# ----------------------------------------------------------------------------- post-clearance audit


@require_GET
@officer_required
def audit_list(request):
    """The blue-lane declarations of the user's offices waiting for their audit, oldest first."""
    audits = list(audit_queue_for_user(request.user)[: AUDIT_LIMIT + 1])
    return render(
        request,
        "risk/officer/audits.html",
        {"audits": audits[:AUDIT_LIMIT], "more": len(audits) > AUDIT_LIMIT, "limit": AUDIT_LIMIT},
    )


@require_http_methods(["GET", "POST"])
@officer_required
def audit_detail(request, pk):
    """One post-clearance audit: the declaration and the criteria that sent it blue; record the
    outcome (conform, or a discrepancy with what was found)."""
    try:
        page = officer_selectors.audit_page(request.user, pk)
    except PostClearanceAudit.DoesNotExist as error:
        raise Http404(_("No such audit.")) from error
    audit = page["audit"]
    form = AuditOutcomeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                control.post_clearance_audit_record(
                    actor=request.user,
                    audit=audit,
                    outcome=form.cleaned_data["outcome"],
                    note=form.cleaned_data["note"],
                )
            except DeclarationInvalid as error:
                service_errors_apply(form, error.errors)
            except NotAuthorised as error:
                raise _refused(error) from error
            except TransitionNotAllowed as error:
                messages.error(request, str(error))
                return redirect("risk:audit", pk=pk)
            else:
                messages.success(
                    request,
                    _("The audit of %(number)s is recorded.") % {"number": audit.declaration.number},
                )
                return redirect("risk:audits")
    context = {**page, "form": form if audit.completed_at is None else None}
    return render(request, "risk/officer/audit.html", context, status=status)
