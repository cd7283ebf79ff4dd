"""Every read of the declarations module, scoped to the user (a trader sees its own declarations, a
broker those it declares for traders that still authorise it, an officer those of the offices they
are posted at, drafts excepted)."""

import datetime
from dataclasses import dataclass

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Prefetch, Q, QuerySet
from django.db.models.functions import Extract
from django.utils import timezone

from customs.choices import Role
from customs.models import Broker, Trader
from customs.paging import KeysetPage, keyset_page
from declarations.choices import OFFICER_VISIBLE_STATES, Status
from declarations.models import Declaration, DeclarationImport, StatusChange, TaxLine
from declarations.services.permissions import OFFICER_ROLES, declarant_traders


def declaration_list_for_user(user) -> QuerySet[Declaration]:
    """The declarations ``user`` may see."""
    declarations = Declaration.objects.select_related("office", "trader", "broker")
    if user is None or not user.is_authenticated:
        return declarations.none()
    if user.is_superuser or user.has_role(Role.ADMINISTRATOR):
        return declarations.filter(status__in=OFFICER_VISIBLE_STATES)
    if user.trader_id:
        return declarations.filter(trader_id=user.trader_id)
    if user.broker_id:
        return declarations.filter(broker_id=user.broker_id, trader_id__in=declarant_traders(user))
    if any(user.has_role(role) for role in OFFICER_ROLES):
        return declarations.filter(office__in=user.offices.all(), status__in=OFFICER_VISIBLE_STATES)
    return declarations.none()


def declaration_rows_prefetch(declarations: QuerySet[Declaration]) -> QuerySet[Declaration]:
    """``declarations`` with their items, tax lines, documents and history (with actors) prefetched."""
    history = Prefetch("status_changes", StatusChange.objects.select_related("actor"))
    return declarations.prefetch_related("items", "tax_lines", "documents", history)


def declaration_get_for_user(user, pk) -> Declaration:
    """One declaration the user may see, or ``Declaration.DoesNotExist``."""
    return declaration_list_for_user(user).get(pk=pk)


@dataclass(frozen=True)
class FinderQuery:
    """The officer finder's filters; all optional."""

    number: str = ""  # registration number (10452) or the full form (TMA01 2026 C 10452)
    lrn: str = ""
    trader: str = ""  # taxpayer ID or the start of the name
    declarant: str = ""  # broker licence or the start of the name
    office: str = ""
    status: str = ""
    lane: str = ""
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None


def declaration_find(user, query: FinderQuery) -> QuerySet[Declaration]:
    """The finder: the user's declarations filtered by ``query``, newest first."""
    declarations = declaration_list_for_user(user)
    number = query.number.strip()
    if number:
        parts = number.split()
        if len(parts) == 4 and parts[3].isdigit():
            declarations = declarations.filter(
                office__code=parts[0].upper(),
                registration_year=int(parts[1]) if parts[1].isdigit() else 0,
                registration_series=parts[2].upper(),
                registration_number=int(parts[3]),
            )
        elif number.isdigit():
            declarations = declarations.filter(registration_number=int(number))
        else:
            declarations = declarations.none()
    if query.lrn.strip():
        declarations = declarations.filter(lrn=query.lrn.strip())
    # Parties are resolved to ids first: an OR over a joined table would make PostgreSQL walk the
    # whole date index; ``trader_id IN (...)`` uses the (trader, created) index.
    if query.trader.strip():
        declarations = declarations.filter(trader_id__in=_trader_ids(query.trader.strip()))
    if query.declarant.strip():
        text = query.declarant.strip()
        brokers = list(
            Broker.objects.filter(Q(licence_number=text) | Q(name__istartswith=text)).values_list(
                "pk", flat=True
            )[:PARTY_MATCHES]
        )
        declarations = declarations.filter(
            Q(broker_id__in=brokers) | Q(broker__isnull=True, trader_id__in=_trader_ids(text))
        )
    if query.office:
        declarations = declarations.filter(office__code=query.office)
    if query.status:
        declarations = declarations.filter(status=query.status)
    if query.lane:
        declarations = declarations.filter(lane=query.lane)
    # Local days as a range of instants, so that the created-at indexes bound the scan.
    if query.date_from:
        declarations = declarations.filter(created_at__gte=_day_start(query.date_from))
    if query.date_to:
        declarations = declarations.filter(
            created_at__lt=_day_start(query.date_to + datetime.timedelta(days=1))
        )
    return declarations.order_by("-created_at", "-pk")


# At most this many parties match a name prefix in the finder (a prefix of one letter matches many).
PARTY_MATCHES = 500


def _trader_ids(text: str) -> list[int]:
    return list(
        Trader.objects.filter(Q(taxpayer_id=text) | Q(name__istartswith=text)).values_list("pk", flat=True)[
            :PARTY_MATCHES
        ]
    )


def _day_start(day: datetime.date) -> datetime.datetime:
    """Midnight of ``day`` in the local time zone, as an aware datetime."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def declaration_detail(declaration: Declaration) -> dict:
    """Everything the declaration page shows, read in a fixed number of queries."""
    items = list(
        declaration.items.select_related("origin", "procedure_code", "package_kind").order_by("number")
    )
    lines = list(TaxLine.objects.filter(declaration=declaration).order_by("position"))
    by_item: dict[int | None, list[TaxLine]] = {}
    for line in lines:
        by_item.setdefault(line.item_number, []).append(line)
    totals: dict[str, dict] = {}
    for line in lines:
        total = totals.setdefault(line.measure_type, {"label": line.label, "amount": 0})
        total["amount"] += line.amount
    return {
        "items": [(item, by_item.get(item.number, [])) for item in items],
        "fees": by_item.get(None, []),
        "tax_lines": lines,
        "totals": totals,
        "documents": list(
            declaration.documents.select_related("document_type").order_by("item_number", "pk")
        ),
        "history": list(declaration.status_changes.select_related("actor").order_by("occurred_at", "pk")),
    }


def time_release_study(*, date_from: datetime.date, date_to: datetime.date, offices=None) -> list[dict]:
    """The WCO Time Release Study measure: registration to release, by office and lane, in hours.

    Over declarations released between ``date_from`` and ``date_to`` (inclusive).
    """
    released = Declaration.objects.filter(
        status=Status.RELEASED,
        released_at__date__gte=date_from,
        released_at__date__lte=date_to,
        registered_at__isnull=False,
    )
    if offices is not None:
        released = released.filter(office__in=offices)
    rows = (
        released.annotate(
            seconds=Extract(
                ExpressionWrapper(F("released_at") - F("registered_at"), output_field=DurationField()),
                "epoch",
            )
        )
        .values("office__code", "lane")
        .annotate(declarations=Count("pk"), average_seconds=Avg("seconds"))
        .order_by("office__code", "lane")
    )
    return [
        {
            "office": row["office__code"],
            "lane": row["lane"] or "",
            "declarations": row["declarations"],
            "average_hours": round(float(row["average_seconds"] or 0) / 3600, 2),
        }
        for row in rows
    ]


def status_change_list(declaration: Declaration) -> QuerySet[StatusChange]:
    return declaration.status_changes.select_related("actor").order_by("occurred_at", "pk")


def declaration_actions_for(user, declaration: Declaration) -> list:
    """The moves of TRANSITIONS that ``user`` may make on ``declaration`` now (for buttons and the API)."""
    from declarations.choices import TRANSITIONS, Side
    from declarations.services.permissions import is_declarant_side, is_officer_of

    sides = set()
    if is_declarant_side(user, declaration):
        sides.add(Side.DECLARANT)
    if is_officer_of(user, declaration):
        sides.add(Side.OFFICER)
    return [
        transition
        for transition in TRANSITIONS.values()
        if transition.side in sides and declaration.status in transition.sources
    ]


def is_officer_user(user) -> bool:
    """True for the users the officer screens are for: officers, supervisors and superusers."""
    if user is None or not user.is_authenticated:
        return False
    return user.is_superuser or any(user.has_role(role) for role in OFFICER_ROLES)


# One page of the finder (``customs.paging``); kept under this name for the declarations' views.
FinderPage = KeysetPage


def declaration_find_page(
    user, query: FinderQuery, *, after: str = "", before: str = "", page_size: int = 50
) -> FinderPage:
    """One page of ``declaration_find`` (newest first), by keyset on (created_at, pk): fast on any page of
    a million rows, and no COUNT(*)."""
    return keyset_page(
        declaration_find(user, query),
        time_field="created_at",
        after=after,
        before=before,
        page_size=page_size,
    )


def declaration_get_for_officer_view(user, pk) -> Declaration:
    """One declaration the user may see, with its trader, broker and office (``Declaration.DoesNotExist``)."""
    return declaration_list_for_user(user).select_related("created_by").get(pk=pk)


def declaration_document_get(user, declaration_pk, document_pk):
    """An attached document of a declaration the user may see (``DeclarationDocument.DoesNotExist``)."""
    from declarations.models import DeclarationDocument

    return DeclarationDocument.objects.get(
        pk=document_pk, declaration__in=declaration_list_for_user(user).filter(pk=declaration_pk)
    )


def declaration_import_list_for_user(user) -> QuerySet[DeclarationImport]:
    """The imports of the user's broker or trader (any of its users uploaded them), newest first; the
    file itself is left unread (``content`` deferred)."""
    imports = DeclarationImport.objects.defer("content").order_by("-created_at", "-pk")
    if getattr(user, "broker_id", None):
        return imports.filter(uploaded_by__broker_id=user.broker_id)
    if getattr(user, "trader_id", None):
        return imports.filter(uploaded_by__trader_id=user.trader_id)
    return imports.none()
