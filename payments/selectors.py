"""Every read of the payments module, scoped to the user who reads."""

import datetime
from collections import defaultdict
from decimal import Decimal

from django.db.models import DecimalField, F, OuterRef, Prefetch, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, TruncDate

from customs.choices import Role
from declarations.models import Declaration
from payments.choices import AccountKind, OrderStatus, RefundStatus, ReservationStatus
from payments.models import (
    Account,
    BankStatement,
    Entry,
    Guarantee,
    GuaranteeReservation,
    PaymentOrder,
    Receipt,
    Refund,
)
from payments.services.dues import PAYABLE_STATES
from payments.services.ledger import account_balance
from payments.services.permissions import is_finance_staff, payer_traders

ZERO = Decimal("0.00")
AMOUNT = DecimalField(max_digits=18, decimal_places=2)


def _staff_office_ids(user, roles) -> list[int] | None:
    """Offices where the user holds one of ``roles``; None for a superuser (all offices)."""
    if user is None or not user.is_authenticated or user.trader_id or user.broker_id:
        return []
    if user.is_superuser:
        return None
    if not any(user.has_role(role) for role in roles):
        return []
    return list(user.offices.values_list("pk", flat=True))


def prepaid_accounts_for_user(user) -> list[dict]:
    """The pre-paid accounts of the traders the user handles, with their balances. A trader whose
    account was never used has ``account`` None and a zero balance (reading opens nothing)."""
    from customs.models import Trader

    traders = list(Trader.objects.filter(pk__in=payer_traders(user)).order_by("name"))
    accounts = {
        account.trader_id: account
        for account in Account.objects.filter(kind=AccountKind.PREPAID, trader__in=traders).annotate(
            total=Coalesce(Sum("entries__amount"), Value(ZERO), output_field=AMOUNT)
        )
    }
    return [
        {
            "trader": trader,
            "account": accounts.get(trader.pk),
            "balance": -accounts[trader.pk].total if trader.pk in accounts else ZERO,
        }
        for trader in traders
    ]


def account_statement(account: Account | None, *, limit: int = 500, offset: int = 0) -> list[dict]:
    """The account's entries, newest first, each with the balance after it (on the normal side);
    ``offset`` entries skipped, for the pages after the first."""
    if account is None:
        return []
    sign = 1 if account.is_debit_normal else -1
    ordered = Entry.objects.filter(account=account).order_by("-occurred_at", "-pk")
    entries = list(ordered.select_related("journal", "declaration__office")[offset : offset + limit])
    balance = account_balance(account)
    if offset:
        newer = ordered.values_list("amount", flat=True)[:offset]
        balance -= sign * sum(newer, ZERO)
    rows = []
    for entry in entries:
        rows.append({"entry": entry, "amount": sign * entry.amount, "balance": balance})
        balance -= sign * entry.amount
    return rows


def credited_subquery():
    return Coalesce(
        Subquery(
            Entry.objects.filter(declaration=OuterRef("pk"), account__kind=AccountKind.REVENUE)
            .values("declaration")
            .annotate(total=Sum("amount"))
            .values("total")
        ),
        Value(ZERO),
        output_field=AMOUNT,
    )


def payable_declarations_for_user(user) -> QuerySet[Declaration]:
    """Assessed declarations of the traders the user pays for that owe something now, with ``due`` and
    the reference of the open bank payment order that includes it, if any (``open_order_reference``)."""
    open_order = PaymentOrder.objects.filter(status=OrderStatus.OPEN, lines__declaration=OuterRef("pk"))
    return (
        Declaration.objects.filter(trader_id__in=payer_traders(user), status__in=PAYABLE_STATES)
        .annotate(
            due=F("total_taxes") + credited_subquery(),
            open_order_reference=Subquery(open_order.order_by("-created_at").values("reference")[:1]),
        )
        .filter(due__gt=0)
        .select_related("office", "trader")
        .order_by("assessed_at", "pk")
    )


def orders_for_user(user) -> QuerySet[PaymentOrder]:
    return (
        PaymentOrder.objects.filter(trader_id__in=payer_traders(user))
        .select_related("trader", "office")
        .prefetch_related("lines__declaration__office")
    )


def order_get_for_user(user, reference: str) -> PaymentOrder:
    return orders_for_user(user).get(reference=reference)


def receipts_for_user(user) -> QuerySet[Receipt]:
    """A payer's receipts; staff see the receipts of their offices."""
    receipts = Receipt.objects.select_related("office", "declaration__office", "trader", "payment")
    traders = payer_traders(user)
    if traders:
        return receipts.filter(trader_id__in=traders)
    offices = _staff_office_ids(user, (Role.CASHIER, Role.SUPERVISOR, Role.OFFICER))
    if offices is None:
        return receipts
    return receipts.filter(office_id__in=offices)


def guarantees_for_user(user) -> list[dict]:
    """The guarantees of the traders the user pays for, with what is reserved and available."""
    open_reservations = Prefetch(
        "reservations",
        queryset=GuaranteeReservation.objects.filter(status=ReservationStatus.OPEN).select_related(
            "declaration__office"
        ),
        to_attr="open_reservations",
    )
    guarantees = (
        Guarantee.objects.filter(trader_id__in=payer_traders(user))
        .select_related("issuer", "trader")
        .prefetch_related(open_reservations)
    )
    rows = []
    for guarantee in guarantees.order_by("reference"):
        reserved = sum((reservation.amount for reservation in guarantee.open_reservations), ZERO)
        rows.append(
            {
                "guarantee": guarantee,
                "reserved": reserved,
                "available": guarantee.amount - reserved,
                "open_reservations": guarantee.open_reservations,
            }
        )
    return rows


def refunds_for_user(user, *, status: str | None = RefundStatus.PENDING) -> QuerySet[Refund]:
    """Refunds at the offices where the user is a supervisor."""
    refunds = Refund.objects.select_related("declaration__office", "declaration__trader", "decided_by")
    offices = _staff_office_ids(user, (Role.SUPERVISOR,))
    if offices is not None:
        refunds = refunds.filter(declaration__office_id__in=offices)
    if status:
        refunds = refunds.filter(status=status)
    return refunds.order_by("requested_at", "pk")


def statements_for_user(user) -> QuerySet[BankStatement]:
    """Bank statements: supervisors and administrators (a bank's statement covers every office)."""
    if not is_finance_staff(user):
        return BankStatement.objects.none()
    return BankStatement.objects.select_related("bank", "imported_by")


def revenue_report(
    *, date_from: datetime.date, date_to: datetime.date, office_codes: list[str] | None = None
) -> dict:
    """Revenue collected (credits less refunds) per office, tax and day, from the revenue accounts.

    Returns ``rows`` (office, tax, day, amount), ``by_day`` and ``by_tax`` totals and the ``total``."""
    entries = Entry.objects.filter(
        account__kind=AccountKind.REVENUE,
        occurred_at__date__gte=date_from,
        occurred_at__date__lte=date_to,
    )
    if office_codes is not None:
        entries = entries.filter(office_code__in=office_codes)
    rows = [
        {"office": row["office_code"], "tax": row["tax_type"], "day": row["day"], "amount": -row["total"]}
        for row in entries.annotate(day=TruncDate("occurred_at"))
        .values("office_code", "tax_type", "day")
        .annotate(total=Sum("amount"))
        .order_by("day", "office_code", "tax_type")
    ]
    by_day: dict[datetime.date, Decimal] = defaultdict(lambda: ZERO)
    by_tax: dict[str, Decimal] = defaultdict(lambda: ZERO)
    by_office: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for row in rows:
        by_day[row["day"]] += row["amount"]
        by_tax[row["tax"]] += row["amount"]
        by_office[row["office"]] += row["amount"]
    return {
        "rows": rows,
        "by_day": dict(sorted(by_day.items())),
        "by_tax": dict(sorted(by_tax.items())),
        "by_office": dict(sorted(by_office.items())),
        "total": sum(by_day.values(), ZERO),
    }


def revenue_offices_for_user(user) -> list[str] | None:
    """Office codes whose revenue the user may read; None for all (administrators, superusers)."""
    if user.is_superuser or user.has_role(Role.ADMINISTRATOR):
        return None
    from customs.models import CustomsOffice

    offices = _staff_office_ids(user, (Role.SUPERVISOR,))
    return list(CustomsOffice.objects.filter(pk__in=offices or []).values_list("code", flat=True))


def open_orders_count(user) -> int:
    return orders_for_user(user).filter(status=OrderStatus.OPEN).count()
