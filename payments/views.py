"""Officer-side payment screens, under /office/payments/: the cashier's desk (find a declaration, take
cash or a cheque, the receipt), the cashier's daybook and cash-up, the supervisor's refunds, the
reconciliation of bank statements and the revenue report.

Views stay thin: writes go through ``payments.services`` (which check who may act at which office),
reads through ``payments.selectors`` and the small read helpers below (scoped to the offices where the
user holds the role: another office's declaration, payment or refund is a 404). A ``PaymentError`` is
shown next to the field it names, or on top of the form, with what was typed; a success redirects
(POST-redirect-GET). Staff pass a second factor first (the middleware's gate, checked here again).
"""

import csv
import datetime
import functools
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, prefetch_related_objects
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from customs.charts import bar_chart_svg
from customs.choices import Role
from customs.models import CustomsOffice
from declarations.choices import OFFICER_VISIBLE_STATES
from declarations.models import Declaration
from payments.choices import CASHIER_ROUTES, MatchStatus, PaymentRoute, RefundStatus
from payments.forms import (
    CashierPaymentForm,
    CashUpForm,
    DaybookForm,
    DeclarationLookupForm,
    RefundRefuseForm,
    RevenueForm,
    StatementUploadForm,
    service_error_apply,
)
from payments.models import CashUp, Payment, Refund
from payments.selectors import refunds_for_user, revenue_offices_for_user, revenue_report, statements_for_user
from payments.services import cashier as cashier_services
from payments.services import collection, reconciliation, refunds
from payments.services.dues import PAYABLE_STATES, declaration_dues
from payments.services.errors import PaymentError, PaymentNotAllowed
from payments.services.ledger import national_currency
from payments.services.permissions import is_cashier_of, is_finance_staff, is_supervisor_of
from payments.templatetags.payments_tags import tax_label

ZERO = Decimal("0.00")
PAYMENT_ROLES = (Role.CASHIER, Role.SUPERVISOR, Role.ADMINISTRATOR)
# Decided refunds shown under the pending ones; statements in the list; lines on a statement's page;
# problems of a refused statement listed next to the file field.
RECENT_REFUNDS = 20
STATEMENTS_LIMIT = 100
STATEMENT_LINES_LIMIT = 2000
PROBLEMS_SHOWN = 50
# Longer periods of the revenue report are charted by month, not by day.
CHART_DAYS_MAX = 62


def payments_staff_required(view):
    """Signed in with a verified second factor, and a cashier, supervisor, administrator or superuser;
    anyone else is refused (403). Each view then checks the role it needs at which office."""

    @functools.wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        user = request.user
        if (
            user.trader_id
            or user.broker_id
            or not (user.is_superuser or any(user.has_role(role) for role in PAYMENT_ROLES))
        ):
            raise PermissionDenied(_("Only cashiers, supervisors and administrators may open this page."))
        if user.requires_second_factor and not user.is_verified():
            raise PermissionDenied(_("Verify your second factor first."))
        return view(request, *args, **kwargs)

    return wrapped


# ------------------------------------------------------------------------------------ read helpers


def _offices_with_role(user, role) -> list[CustomsOffice]:
    """The active offices where ``user`` holds ``role`` (every office for a superuser)."""
    offices = CustomsOffice.objects.filter(active=True).order_by("code")
    if user.is_superuser:
        return list(offices)
    if not user.has_role(role):
        return []
    return list(offices.filter(staff=user))


def _cashier_offices_or_403(user) -> list[CustomsOffice]:
    offices = _offices_with_role(user, Role.CASHIER)
    if not offices:
        raise PermissionDenied(_("Only a cashier may open this page."))
    return offices


def _supervised_offices_or_403(user) -> list[CustomsOffice]:
    offices = _offices_with_role(user, Role.SUPERVISOR)
    if not offices:
        raise PermissionDenied(_("Only a supervisor may open this page."))
    return offices


def _finance_staff_or_403(user) -> None:
    if not is_finance_staff(user):
        raise PermissionDenied(_("Only supervisors and administrators may open this page."))


def _cashier_declarations(offices):
    return Declaration.objects.filter(office__in=offices, status__in=OFFICER_VISIBLE_STATES).select_related(
        "office", "trader"
    )


def declaration_lookup(offices, text: str) -> Declaration | None:
    """The declaration of ``offices`` that ``text`` names: its registration number (``TMA01 2026 C
    12``), its assessment number (``TMA01 2026 A 7``) or its id (``57``)."""
    declarations = _cashier_declarations(offices)
    parts = text.split()
    if len(parts) == 4 and parts[1].isdigit() and parts[3].isdigit():
        office, year, series, number = parts[0].upper(), int(parts[1]), parts[2].upper(), int(parts[3])
        declarations = declarations.filter(office__code=office, registration_year=year)
        if series == "A":
            declarations = declarations.filter(assessment_number=number)
        else:
            declarations = declarations.filter(registration_series=series, registration_number=number)
    elif text.isdigit() and len(text) < 19:
        declarations = declarations.filter(pk=int(text))
    else:
        return None
    return declarations.first()


def _dues_panel(declaration, dues) -> dict:
    """What ``payments/_dues_table.html`` shows (the context of the declaration page's panel)."""
    taxes = sorted(set(dues.assessed_by_tax) | set(dues.credited_by_tax))
    return {
        "declaration": declaration,
        "dues": dues,
        "tax_rows": [
            {
                "tax": tax,
                "assessed": dues.assessed_by_tax.get(tax, ZERO),
                "credited": dues.credited_by_tax.get(tax, ZERO),
                "outstanding": dues.outstanding_by_tax.get(tax, ZERO),
            }
            for tax in taxes
        ],
        "receipts": list(declaration.receipts.select_related("payment").order_by("issued_at", "pk")),
        "refunds": [],
    }


def _day_closed(user, office) -> bool:
    return CashUp.objects.filter(cashier=user, office=office, day=timezone.localdate()).exists()


def _cashiers_of(offices):
    """The active cashiers posted at ``offices``, for a supervisor to choose a daybook."""
    return (
        get_user_model()
        .objects.filter(offices__in=offices, groups__name=Role.CASHIER, is_active=True)
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


def _decimal_or_none(text) -> Decimal | None:
    try:
        value = Decimal(text)
    except (InvalidOperation, TypeError, ValueError):
        return None
    return value if value.is_finite() else None


# ---------------------------------------------------------------------------------------- cashier


def _render_cashier(
    request, offices, *, lookup, declaration=None, payment_form=None, refusal=None, status=200
):
    """The desk; ``refusal`` is what the service said when the payment form is no longer shown (the
    declaration was paid meanwhile, the day is closed)."""
    context = {"lookup_form": lookup, "offices": offices, "declaration": declaration, "refusal": refusal}
    if declaration is not None:
        dues = declaration_dues(declaration)
        payable = declaration.status in PAYABLE_STATES and dues.due > ZERO
        day_closed = payable and _day_closed(request.user, declaration.office)
        if payable and not day_closed and payment_form is None:
            payment_form = CashierPaymentForm(initial={"amount": dues.due, "method": PaymentRoute.CASH})
        context.update(
            {
                "panel": _dues_panel(declaration, dues),
                "due": dues.due,
                "payable": payable,
                "day_closed": day_closed,
                "payment_form": payment_form if payable and not day_closed else None,
            }
        )
    return render(request, "payments/office/cashier.html", context, status=status)


@require_GET
@payments_staff_required
def cashier(request):
    """The cashier's desk: the declaration the payer names, what it owes tax by tax, and the payment."""
    offices = _cashier_offices_or_403(request.user)
    lookup = DeclarationLookupForm(request.GET or None)
    declaration, status = None, 200
    if lookup.is_bound:
        if lookup.is_valid():
            declaration = declaration_lookup(offices, lookup.cleaned_data["declaration"])
            if declaration is None:
                lookup.add_error(
                    "declaration",
                    _("No declaration of your offices (%(offices)s) has this number.")
                    % {"offices": ", ".join(office.code for office in offices)},
                )
                status = 404
        else:
            status = 400
    return _render_cashier(request, offices, lookup=lookup, declaration=declaration, status=status)


@require_POST
@payments_staff_required
def cashier_pay(request, pk):
    """Take the amount due in cash or by cheque; the receipt follows. Refused: nothing is written."""
    offices = _cashier_offices_or_403(request.user)
    declaration = _cashier_declarations(offices).filter(pk=pk).first()
    if declaration is None:
        raise Http404(_("No such declaration at your offices."))
    lookup = DeclarationLookupForm(initial={"declaration": declaration.number or str(declaration.pk)})
    form = CashierPaymentForm(request.POST)
    if not form.is_valid():
        return _render_cashier(
            request, offices, lookup=lookup, declaration=declaration, payment_form=form, status=400
        )
    try:
        payment = collection.cashier_pay(
            actor=request.user,
            declaration=declaration,
            method=form.cleaned_data["method"],
            amount=form.cleaned_data["amount"],
            cheque_number=form.cleaned_data["cheque_number"],
        )
    except PaymentNotAllowed as error:
        raise PermissionDenied(error.message) from error
    except PaymentError as error:
        # Shown again with the amount due now (a changed amount is for the cashier to confirm).
        service_error_apply(form, error)
        declaration.refresh_from_db()
        return _render_cashier(
            request,
            offices,
            lookup=lookup,
            declaration=declaration,
            payment_form=form,
            refusal=error.message,
            status=error.status,
        )
    receipt = payment.receipts.order_by("pk").first()
    messages.success(
        request,
        _("Payment of %(amount)s %(currency)s recorded: receipt %(receipt)s.")
        % {"amount": payment.amount, "currency": payment.currency, "receipt": receipt.number},
    )
    url = reverse("payments:cashier-payment", args=[payment.pk])
    if form.change is not None:
        url += "?" + urlencode({"tendered": f"{form.cleaned_data['tendered']:.2f}"})
    return redirect(url)


@require_GET
@payments_staff_required
def cashier_payment(request, pk):
    """A payment taken at the desk: its receipt, the link to print it, the change to give for cash."""
    offices = {
        office.pk: office
        for role in (Role.CASHIER, Role.SUPERVISOR)
        for office in _offices_with_role(request.user, role)
    }
    if not offices:
        raise PermissionDenied(_("Only a cashier or a supervisor may open this page."))
    payment = (
        Payment.objects.filter(pk=pk, office_id__in=offices, route__in=CASHIER_ROUTES)
        .select_related("trader", "office", "recorded_by")
        .first()
    )
    if payment is None:
        raise Http404(_("No such payment at your offices."))
    receipts = list(payment.receipts.select_related("declaration__office").order_by("pk"))
    tendered = _decimal_or_none(request.GET.get("tendered"))
    change = None
    if payment.route == PaymentRoute.CASH and tendered is not None and tendered >= payment.amount:
        change = tendered - payment.amount
    context = {"payment": payment, "receipts": receipts, "tendered": tendered, "change": change}
    return render(request, "payments/office/cashier_payment.html", context)


# ----------------------------------------------------------------------------- daybook and cash-up


def _render_daybook(request, *, form, offices, office, cashier, day, cash_up_form=None, status=200):
    user = request.user
    book = None
    if office is not None and cashier is not None:
        book = cashier_services.daybook(cashier=cashier, office=office, day=day)
        prefetch_related_objects(book.payments, "receipts__declaration__office")
    own_today = (
        book is not None
        and cashier.pk == user.pk
        and day == timezone.localdate()
        and is_cashier_of(user, office.pk)
    )
    if own_today and book.cash_up is None and cash_up_form is None:
        cash_up_form = CashUpForm(initial={"office": office.code})
    context = {
        "form": form,
        "offices": offices,
        "office": office,
        "cashier": cashier,
        "day": day,
        "book": book,
        "is_today": day == timezone.localdate(),
        "own": cashier is not None and cashier.pk == user.pk,
        "cash_up_form": cash_up_form if own_today and book.cash_up is None else None,
        "rows": [
            {
                "payment": payment,
                "receipts": list(payment.receipts.all()),
            }
            for payment in (book.payments if book else [])
        ],
    }
    return render(request, "payments/office/daybook.html", context, status=status)


def _daybook_offices(user) -> tuple[list, list, list]:
    """(the offices whose daybooks the user reads, those where it is a cashier, those it supervises)."""
    cashier_at = _offices_with_role(user, Role.CASHIER)
    supervised = _offices_with_role(user, Role.SUPERVISOR)
    offices = {office.pk: office for office in [*cashier_at, *supervised]}
    if not offices:
        raise PermissionDenied(_("Only a cashier or a supervisor may open this page."))
    return sorted(offices.values(), key=lambda office: office.code), cashier_at, supervised


@require_GET
@payments_staff_required
def daybook(request):
    """The payments one cashier took at one office on one day, with the cash and cheque totals; the
    cashier's own daybook of today ends with the cash-up. A supervisor reads any cashier's daybook of
    their offices, any day."""
    user = request.user
    offices, cashier_at, supervised = _daybook_offices(user)
    by_code = {office.code: office for office in offices}
    asked_office = request.GET.get("office", "")
    if asked_office and asked_office not in by_code:
        raise Http404(_("No such office among yours."))
    asked_cashier = request.GET.get("cashier", "")
    if asked_cashier and asked_cashier != str(user.pk) and not supervised:
        raise PermissionDenied(_("Only a supervisor may read another cashier's daybook."))
    default_office = (cashier_at or offices)[0]
    form = DaybookForm(
        request.GET or None,
        offices=offices,
        cashiers=list(_cashiers_of(supervised)) if supervised else None,
        takes_payments=bool(cashier_at),
        initial={"office": default_office.code, "day": timezone.localdate()},
    )
    if form.is_bound and not form.is_valid():
        return _render_daybook(
            request, form=form, offices=offices, office=None, cashier=None, day=None, status=400
        )
    cleaned = form.cleaned_data if form.is_bound else {}
    office = by_code.get(cleaned.get("office") or default_office.code)
    cashier = cleaned.get("cashier") or user
    day = cleaned.get("day") or timezone.localdate()
    if cashier.pk != user.pk and not is_supervisor_of(user, office):
        raise PermissionDenied(_("Only a supervisor of the office may read another cashier's daybook."))
    if cashier.pk == user.pk and not is_cashier_of(user, office.pk):
        cashier = None  # a supervisor who takes no payments there chooses whose daybook to read
    return _render_daybook(request, form=form, offices=offices, office=office, cashier=cashier, day=day)


@require_POST
@payments_staff_required
def cash_up(request):
    """Close the cashier's day at the office: what was counted against what the daybook says."""
    user = request.user
    cashier_at = _cashier_offices_or_403(user)
    form = CashUpForm(request.POST)
    office = next(
        (office for office in cashier_at if office.code == request.POST.get("cash-up-office")), None
    )
    if office is None:
        raise Http404(_("No such office among yours."))
    if form.is_valid():
        try:
            record = cashier_services.cash_up(
                actor=user,
                office=office,
                counted_cash=form.cleaned_data["counted_cash"],
                counted_cheques=form.cleaned_data["counted_cheques"],
                note=form.cleaned_data["note"],
            )
        except PaymentNotAllowed as error:
            raise PermissionDenied(error.message) from error
        except PaymentError as error:
            if not error.field:
                messages.error(request, error.message)
                return redirect(f"{reverse('payments:daybook')}?{urlencode({'office': office.code})}")
            service_error_apply(form, error)
        else:
            messages.success(
                request,
                _("The day is closed at %(office)s. Difference: %(difference)s %(currency)s.")
                % {"office": office.code, "difference": record.difference, "currency": national_currency()},
            )
            return redirect(f"{reverse('payments:daybook')}?{urlencode({'office': office.code})}")
    offices, _cashier_at, supervised = _daybook_offices(user)
    daybook_form = DaybookForm(
        initial={"office": office.code, "day": timezone.localdate()},
        offices=offices,
        cashiers=list(_cashiers_of(supervised)) if supervised else None,
    )
    return _render_daybook(
        request,
        form=daybook_form,
        offices=offices,
        office=office,
        cashier=user,
        day=timezone.localdate(),
        cash_up_form=form,
        status=400,
    )


# ----------------------------------------------------------------------------------------- refunds


def _by_tax(refund) -> list[dict]:
    return [{"tax": tax, "amount": Decimal(amount)} for tax, amount in sorted(refund.by_tax.items())]


def _render_refunds(request, *, bound: RefundRefuseForm | None = None, status=200):
    user = request.user
    offices = _supervised_offices_or_403(user)
    pending = []
    for refund in refunds_for_user(user):
        form = (
            bound if bound is not None and bound.refund.pk == refund.pk else RefundRefuseForm(refund=refund)
        )
        pending.append({"refund": refund, "by_tax": _by_tax(refund), "refuse_form": form})
    decided = [
        {"refund": refund, "by_tax": _by_tax(refund)}
        for refund in refunds_for_user(user, status=None)
        .exclude(status=RefundStatus.PENDING)
        .order_by("-decided_at", "-pk")[:RECENT_REFUNDS]
    ]
    context = {"offices": offices, "pending": pending, "decided": decided, "recent_limit": RECENT_REFUNDS}
    return render(request, "payments/office/refunds.html", context, status=status)


def _refund_or_404(user, pk) -> Refund:
    _supervised_offices_or_403(user)
    refund = refunds_for_user(user, status=None).filter(pk=pk).first()
    if refund is None:
        raise Http404(_("No such refund at your offices."))
    return refund


@require_GET
@payments_staff_required
def refund_list(request):
    """The refunds waiting for a supervisor of the user's offices, and the ones decided lately."""
    return _render_refunds(request)


@require_POST
@payments_staff_required
def refund_approve(request, pk):
    """Approve: the excess goes back to the trader's pre-paid account, taken from each tax's revenue."""
    refund = _refund_or_404(request.user, pk)
    try:
        approved = refunds.refund_approve(actor=request.user, refund=refund)
    except PaymentNotAllowed as error:
        raise PermissionDenied(error.message) from error
    except PaymentError as error:
        messages.error(request, error.message)
        return redirect("payments:refunds")
    messages.success(
        request,
        _(
            "The refund of %(amount)s %(currency)s for %(number)s is approved: it is credited to the "
            "pre-paid account of %(trader)s."
        )
        % {
            "amount": approved.amount,
            "currency": approved.currency,
            "number": approved.declaration.number,
            "trader": approved.declaration.trader.name,
        },
    )
    return redirect("payments:refunds")


@require_POST
@payments_staff_required
def refund_refuse(request, pk):
    """Refuse, with the reason: the money stays as revenue."""
    refund = _refund_or_404(request.user, pk)
    form = RefundRefuseForm(request.POST, refund=refund)
    if form.is_valid():
        try:
            refused = refunds.refund_refuse(
                actor=request.user, refund=refund, reason=form.cleaned_data["reason"]
            )
        except PaymentNotAllowed as error:
            raise PermissionDenied(error.message) from error
        except PaymentError as error:
            if not error.field:
                messages.error(request, error.message)
                return redirect("payments:refunds")
            service_error_apply(form, error)
        else:
            messages.success(
                request,
                _("The refund of %(amount)s %(currency)s for %(number)s is refused.")
                % {
                    "amount": refused.amount,
                    "currency": refused.currency,
                    "number": refused.declaration.number,
                },
            )
            return redirect("payments:refunds")
    return _render_refunds(request, bound=form, status=400)


# ---------------------------------------------------------------------------------- reconciliation


def _statements(user):
    matched = Q(lines__match=MatchStatus.MATCHED)
    return statements_for_user(user).annotate(
        line_count=Count("lines"), matched_count=Count("lines", filter=matched)
    )


@require_http_methods(["GET", "POST"])
@payments_staff_required
def statement_list(request):
    """Upload a bank's statement (CSV) and the statements imported so far, newest first."""
    _finance_staff_or_403(request.user)
    form = StatementUploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                statement = reconciliation.statement_import(
                    actor=request.user,
                    bank=form.cleaned_data["bank"],
                    file_name=upload.name,
                    content=upload.read(),
                )
            except reconciliation.StatementInvalid as error:
                problems = list(error.problems[:PROBLEMS_SHOWN])
                if len(error.problems) > PROBLEMS_SHOWN:
                    problems.append(
                        _("… and %(count)s more problems.") % {"count": len(error.problems) - PROBLEMS_SHOWN}
                    )
                form.add_error("file", problems)
            else:
                messages.success(
                    request,
                    _("The statement %(file)s of %(bank)s is imported.")
                    % {"file": statement.file_name, "bank": statement.bank.name},
                )
                return redirect("payments:statement", pk=statement.pk)
    statements = list(_statements(request.user)[:STATEMENTS_LIMIT])
    context = {"form": form, "statements": statements, "limit": STATEMENTS_LIMIT}
    return render(request, "payments/office/statements.html", context, status=status)


@require_GET
@payments_staff_required
def statement_detail(request, pk):
    """One statement: each line and what it matched, the counts, and the bank's payments of the period
    that the statement does not mention."""
    _finance_staff_or_403(request.user)
    statement = statements_for_user(request.user).filter(pk=pk).first()
    if statement is None:
        raise Http404(_("No such statement."))
    counts = dict(
        statement.lines.values("match").annotate(count=Count("pk")).order_by().values_list("match", "count")
    )
    lines = list(
        statement.lines.select_related("payment").order_by("line_number")[: STATEMENT_LINES_LIMIT + 1]
    )
    context = {
        "statement": statement,
        "summary": [
            {"status": status, "label": label, "count": counts.get(status, 0)}
            for status, label in MatchStatus.choices
        ],
        "line_total": sum(counts.values()),
        "lines": lines[:STATEMENT_LINES_LIMIT],
        "more_lines": len(lines) > STATEMENT_LINES_LIMIT,
        "lines_limit": STATEMENT_LINES_LIMIT,
        "missing": list(reconciliation.statement_missing_payments(statement)),
    }
    return render(request, "payments/office/statement.html", context)


# ------------------------------------------------------------------------------------------ revenue


def _chart_points(report, date_from, date_to) -> tuple[list, str]:
    """The bars of the revenue chart: every day of a short period, else every month; net refunds
    (a negative day) are drawn as zero, the tables show them."""
    by_day = report["by_day"]
    if (date_to - date_from).days < CHART_DAYS_MAX:
        days = [date_from + datetime.timedelta(days=index) for index in range((date_to - date_from).days + 1)]
        points = [(date_format(day, "j M"), max(by_day.get(day, ZERO), ZERO)) for day in days]
        return points, _("Revenue collected per day")
    months: dict[datetime.date, Decimal] = {}
    for day, amount in by_day.items():
        month = day.replace(day=1)
        months[month] = months.get(month, ZERO) + amount
    month = date_from.replace(day=1)
    points = []
    while month <= date_to:
        points.append((date_format(month, "M Y"), max(months.get(month, ZERO), ZERO)))
        month = (month + datetime.timedelta(days=32)).replace(day=1)
    return points, _("Revenue collected per month")


def _revenue_csv(report, date_from, date_to) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="revenue-{date_from.isoformat()}-{date_to.isoformat()}.csv"'
    )
    response["Cache-Control"] = "private, no-store"
    currency = national_currency()
    writer = csv.writer(response)
    writer.writerow(["office", "tax", "tax_name", "day", "amount", "currency"])
    for row in report["rows"]:
        writer.writerow(
            [
                row["office"],
                row["tax"],
                tax_label(row["tax"]),
                row["day"].isoformat(),
                f"{row['amount']:.2f}",
                currency,
            ]
        )
    return response


@require_GET
@payments_staff_required
def revenue(request):
    """Revenue collected (less refunds) over a period, by day, tax and office, for the supervisor's
    offices (all of them for an administrator); ``?format=csv`` gives the detail as CSV."""
    user = request.user
    _finance_staff_or_403(user)
    allowed = revenue_offices_for_user(user)
    codes = (
        allowed
        if allowed is not None
        else list(CustomsOffice.objects.filter(active=True).order_by("code").values_list("code", flat=True))
    )
    today = timezone.localdate()
    data = {"date_from": today - datetime.timedelta(days=29), "date_to": today, "office": ""}
    data.update(
        {name: request.GET[name] for name in ("date_from", "date_to", "office") if name in request.GET}
    )
    form = RevenueForm(data, office_codes=sorted(codes))
    if not form.is_valid():
        return render(request, "payments/office/revenue.html", {"form": form, "report": None}, status=400)
    date_from, date_to = form.cleaned_data["date_from"], form.cleaned_data["date_to"]
    office = form.cleaned_data["office"]
    report = revenue_report(
        date_from=date_from, date_to=date_to, office_codes=[office] if office else allowed
    )
    if request.GET.get("format") == "csv":
        return _revenue_csv(report, date_from, date_to)
    points, chart_title = _chart_points(report, date_from, date_to)
    currency = national_currency()
    query = {"date_from": date_from.isoformat(), "date_to": date_to.isoformat(), "office": office}
    context = {
        "form": form,
        "report": report,
        "currency": currency,
        "chart": bar_chart_svg(
            points,
            title=chart_title,
            unit=currency,
            description=_("Duties and taxes collected, less refunds, from %(start)s to %(end)s.")
            % {"start": date_format(date_from), "end": date_format(date_to)},
            chart_id="revenue-chart",
        ),
        "csv_url": f"{reverse('payments:revenue')}?{urlencode({**query, 'format': 'csv'})}",
    }
    return render(request, "payments/office/revenue.html", context)
