"""The lifecycle of a transit movement: every state change is one service here, and every one follows
the declarations' steps: lock the row, check the move in ``transit.choices.TRANSITIONS`` and the actor's
office, do the move's own work, write the state, one status-change row and one audit event, and send the
side effects on commit.

- ``transit_lodge``: the principal lodges a T1; it is validated field by field and registered.
- ``transit_release``: the office of departure computes the amount at stake, reserves it on the
  guarantee through the payments service (refused, with the shortfall, when it does not cover it),
  takes the MRN and sends the printing of the transit accompanying document.
- ``transit_border_passage``: an office of transit on the route records the passage.
- ``transit_arrival``: the office of destination records the arrival and its control (seals, goods).
  Conform: discharged at once, the reservation released. Discrepancies: under enquiry, reservation kept.
- ``transit_discharge``: the end of an enquiry; ``transit_cancel``: before the goods leave.
- ``transit_overdue_flag``: the beat task flags movements past their time limit without arrival.
"""

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from customs.models import Country, Currency, CustomsOffice, PackageKind, Trader
from customs.money import money_display
from customs.queue import enqueue_on_commit
from customs.services.audit import audit_record
from customs.services.numbering import number_next
from declarations.services.errors import DeclarationInvalid, FieldError, StaleVersion, TransitionNotAllowed
from payments.choices import ReservationPurpose
from payments.models import Guarantee
from payments.services.errors import InsufficientFunds, PaymentError
from payments.services.guarantees import guarantee_release, guarantee_reserve
from tariff.engine import tariff_snapshot
from transit.choices import MRN_SERIES, TRANSITIONS, MovementStatus, Side
from transit.data import TransitData
from transit.models import ArrivalControl, TransitItem, TransitMovement, TransitOffice, TransitStatusChange
from transit.mrn import mrn_make
from transit.services.events import movement_event_publish
from transit.services.permissions import ensure_officer_at, ensure_principal
from transit.services.stake import amount_at_stake

# Celery tasks (by name) sent with the movement's id after it is released (the TAD is printed).
ON_RELEASED_TASKS = ["transit.print_tad"]
# Celery tasks sent after a movement is flagged overdue (the departure office and the principal alerted).
ON_OVERDUE_TASKS = ["transit.alert_overdue"]
MAX_TIME_LIMIT_DAYS = 60
# What a CC015C message can carry (NCTS phase 5): seal identities of 20 characters, ISO 6346 containers.
MAX_SEAL_LENGTH = 20
MAX_CONTAINER_LENGTH = 17


class TransitInvalid(DeclarationInvalid):
    """The transit declaration cannot be lodged; every problem, field by field."""


class GuaranteeShort(TransitionNotAllowed):
    """Release refused: the guarantee does not cover the amount at stake (``shortfall``); ``lines`` is
    the computation of the amount at stake, item by item."""

    code = "guarantee_insufficient"

    def __init__(self, message: str, *, shortfall, amount_at_stake, lines=()):
        super().__init__(message)
        self.shortfall, self.amount_at_stake, self.lines = shortfall, amount_at_stake, list(lines)


class MovementChanged(StaleVersion):
    """Someone changed the movement since the caller read it (HTTP 412 with If-Match)."""

    def __init__(self, current_version: int):
        TransitionNotAllowed.__init__(
            self,
            _(
                "The movement was changed by someone else in the meantime (now version %(version)s). "
                "Reload it and try again."
            )
            % {"version": current_version},
        )
        self.current_version = current_version


# --- Lodgement ---------------------------------------------------------------------------------


def _office(code: str, field: str, role: str, errors: list) -> CustomsOffice | None:
    if not (code or "").strip():
        errors.append(FieldError(field, "required", _("Choose the office.")))
        return None
    office = CustomsOffice.objects.filter(code=(code or "").upper()).first()
    if office is None:
        errors.append(
            FieldError(field, "unknown_code", _("There is no customs office %(code)s.") % {"code": code})
        )
        return None
    if role not in (office.roles or []):
        errors.append(
            FieldError(
                field,
                "office_role",
                _("Office %(code)s does not handle this part of transit.") % {"code": code},
            )
        )
    return office


def _validate(actor, data: TransitData, today: datetime.date):
    errors: list[FieldError] = []
    departure = _office(data.departure_office, "departure_office", "transit_departure", errors)
    destination = _office(data.destination_office, "destination_office", "transit_destination", errors)
    transit_offices = [
        _office(code, f"transit_offices[{index}]", "transit_border", errors)
        for index, code in enumerate(data.transit_offices)
    ]
    if departure is not None and destination is not None and departure.pk == destination.pk:
        errors.append(
            FieldError(
                "destination_office", "same_office", _("The destination must differ from the departure.")
            )
        )
    principal = Trader.objects.filter(taxpayer_id=data.principal.identification, active=True).first()
    if principal is None:
        errors.append(
            FieldError("principal", "unknown_party", _("No registered trader has this identification."))
        )
    if not (data.lrn or "").strip():
        errors.append(FieldError("lrn", "required", _("Give the local reference number.")))
    elif principal is not None and TransitMovement.objects.filter(principal=principal, lrn=data.lrn).exists():
        errors.append(FieldError("lrn", "duplicate", _("This LRN is already used by this principal.")))
    if not (data.transport_identity or "").strip():
        errors.append(
            FieldError("transport_identity", "required", _("Give the plate of the means of transport."))
        )
    if data.transport_nationality and not Country.objects.filter(code=data.transport_nationality).exists():
        errors.append(FieldError("transport_nationality", "unknown_code", _("Unknown country.")))
    known = set(Country.objects.filter(code__in=data.itinerary).values_list("code", flat=True))
    for index, country in enumerate(data.itinerary):
        if country not in known:
            errors.append(FieldError(f"itinerary[{index}]", "unknown_code", _("Unknown country.")))
    for index, seal in enumerate(data.seals):
        if not (seal or "").strip():
            errors.append(FieldError(f"seals[{index}]", "required", _("A seal needs its identity.")))
        elif len(seal.strip()) > MAX_SEAL_LENGTH:
            errors.append(
                FieldError(
                    f"seals[{index}]",
                    "too_long",
                    _("A seal identity has at most %(count)s characters.") % {"count": MAX_SEAL_LENGTH},
                )
            )
    for index, container in enumerate(data.containers):
        if len((container or "").strip()) > MAX_CONTAINER_LENGTH:
            errors.append(
                FieldError(
                    f"containers[{index}]",
                    "too_long",
                    _("A container number has at most %(count)s characters.")
                    % {"count": MAX_CONTAINER_LENGTH},
                )
            )
    if data.time_limit is None:
        errors.append(FieldError("time_limit", "required", _("Give the time limit.")))
    elif not today <= data.time_limit <= today + datetime.timedelta(days=MAX_TIME_LIMIT_DAYS):
        errors.append(
            FieldError(
                "time_limit",
                "out_of_range",
                _("The time limit must be between today and %(days)s days from now.")
                % {"days": MAX_TIME_LIMIT_DAYS},
            )
        )
    guarantee = Guarantee.objects.filter(reference=data.guarantee_reference).first()
    if guarantee is not None and (principal is None or guarantee.trader_id != principal.pk):
        guarantee = None  # another trader's guarantee is not even said to exist
    if guarantee is None:
        errors.append(
            FieldError("guarantee_reference", "unknown_guarantee", _("There is no such guarantee."))
        )
    elif guarantee.revoked or not guarantee.valid_from <= today <= guarantee.valid_to:
        errors.append(FieldError("guarantee_reference", "not_valid", _("This guarantee is not valid today.")))
    if not data.items:
        errors.append(FieldError("items", "required", _("A transit declaration needs at least one item.")))
    snapshot = tariff_snapshot(today)
    currencies = set(
        Currency.objects.filter(code__in=[item.currency for item in data.items if item.currency]).values_list(
            "code", flat=True
        )
    )
    kinds = set(
        PackageKind.objects.filter(code__in=[item.package_kind for item in data.items]).values_list(
            "code", flat=True
        )
    )
    for index, item in enumerate(data.items):
        where = f"items[{index}]"
        code = (item.commodity_code or "").replace(".", "").replace(" ", "")
        if not code.isdigit() or len(code) not in (6, 8, 10):
            errors.append(
                FieldError(f"{where}.commodity_code", "invalid", _("A commodity code has 6, 8 or 10 digits."))
            )
        elif not any(line.startswith(code) for line in snapshot.lines):
            errors.append(
                FieldError(
                    f"{where}.commodity_code",
                    "unknown_code",
                    _("No tariff line in force starts with %(code)s.") % {"code": code},
                )
            )
        if item.currency and item.currency not in currencies:
            errors.append(FieldError(f"{where}.currency", "unknown_code", _("Unknown currency.")))
        if item.package_kind not in kinds:
            errors.append(FieldError(f"{where}.package_kind", "unknown_code", _("Unknown kind of packages.")))
        if item.packages_number is None or item.packages_number < 0:
            errors.append(
                FieldError(f"{where}.packages_number", "invalid", _("Give the number of packages."))
            )
        if item.gross_mass is None or item.gross_mass <= 0:
            errors.append(
                FieldError(f"{where}.gross_mass", "invalid", _("The gross mass must be above zero."))
            )
        elif item.net_mass is not None and item.net_mass > item.gross_mass:
            errors.append(
                FieldError(
                    f"{where}.net_mass", "net_mass_exceeds_gross", _("The net mass exceeds the gross mass.")
                )
            )
        if not (item.description or "").strip():
            errors.append(FieldError(f"{where}.description", "required", _("Describe the goods.")))
    return errors, departure, destination, transit_offices, principal, guarantee


def transit_lodge(*, actor, data: TransitData) -> TransitMovement:
    """Validate and register a T1 (every problem at once, nothing written if any)."""
    today = timezone.localdate()
    errors, departure, destination, transit_offices, principal, guarantee = _validate(actor, data, today)
    if principal is not None:
        ensure_principal(actor, principal.pk)
    if errors:
        raise TransitInvalid(errors)
    now = timezone.now()
    try:
        return _insert(actor, data, departure, destination, transit_offices, principal, guarantee, now)
    except IntegrityError as error:
        if "transit_lrn_unique_per_principal" not in str(error):
            raise
        raise TransitInvalid(
            [FieldError("lrn", "duplicate", _("This LRN is already used by this principal."))]
        ) from None


def _insert(
    actor, data, departure, destination, transit_offices, principal, guarantee, now
) -> TransitMovement:
    with transaction.atomic():
        movement = TransitMovement.objects.create(
            lrn=data.lrn.strip(),
            declaration_type=data.declaration_type or "T1",
            departure_office=departure,
            destination_office=destination,
            principal=principal,
            created_by=actor,
            carrier_name=(data.carrier.name if data.carrier else "")[:255],
            carrier_identification=(data.carrier.identification if data.carrier else "")[:32],
            transport_identity=data.transport_identity.strip(),
            transport_nationality=Country.objects.filter(code=data.transport_nationality).first()
            if data.transport_nationality
            else None,
            containers=[container.strip() for container in data.containers if container.strip()],
            seals=[seal.strip() for seal in data.seals],
            itinerary=list(data.itinerary),
            time_limit=data.time_limit,
            guarantee=guarantee,
            previous_document=data.previous_document[:70],
            parties={
                role: vars(party)
                for role, party in (("consignor", data.consignor), ("consignee", data.consignee))
                if party
            },
            registered_at=now,
        )
        TransitOffice.objects.bulk_create(
            [
                TransitOffice(movement=movement, sequence=index + 1, office=office)
                for index, office in enumerate(transit_offices)
            ]
        )
        TransitItem.objects.bulk_create(
            [
                TransitItem(
                    movement=movement,
                    number=index + 1,
                    commodity_code=item.commodity_code.replace(".", "").replace(" ", ""),
                    description=item.description.strip(),
                    packages_number=item.packages_number,
                    package_kind=item.package_kind,
                    gross_mass=item.gross_mass,
                    net_mass=item.net_mass,
                    value=item.value,
                    currency=item.currency,
                )
                for index, item in enumerate(data.items)
            ]
        )
        TransitStatusChange.objects.create(
            movement=movement,
            action="lodge",
            to_status=MovementStatus.REGISTERED,
            office_code=departure.code,
            actor=actor,
            occurred_at=now,
        )
        movement_event_publish(
            movement,
            action="lodge",
            from_status="",
            office_code=departure.code,
            reason="",
            occurred_at=now,
            broker_id=getattr(actor, "broker_id", None),
        )
        audit_record(
            action="transit.movement.lodged",
            actor=actor,
            obj=movement,
            office_code=departure.code,
            after={"lrn": movement.lrn, "items": len(data.items), "guarantee": guarantee.reference},
        )
        return movement


# --- Moves -------------------------------------------------------------------------------------


class _Move:
    def __init__(self, movement: TransitMovement, actor, name: str, office, reason: str = ""):
        self.movement, self.actor, self.name, self.office, self.reason = movement, actor, name, office, reason
        self.now = timezone.now()
        self.status_at_start = movement.status

    def finish(self, *, extra: dict | None = None, tasks=(), target: str | None = None) -> TransitMovement:
        """Write the move; ``target``: a state other than the table's (an overdue movement passing a
        border stays overdue)."""
        movement = self.movement
        movement.status = target or TRANSITIONS[self.name].target
        movement.version += 1
        movement.save()
        TransitStatusChange.objects.create(
            movement=movement,
            action=self.name,
            from_status=self.status_at_start,
            to_status=movement.status,
            office_code=self.office.code if self.office else "",
            actor=self.actor if getattr(self.actor, "pk", None) else None,
            reason=self.reason,
            occurred_at=self.now,
        )
        movement_event_publish(
            movement,
            action=self.name,
            from_status=self.status_at_start,
            office_code=self.office.code if self.office else "",
            reason=self.reason,
            occurred_at=self.now,
            broker_id=movement.created_by.broker_id,
        )
        audit_record(
            action=f"transit.movement.{self.name}",
            actor=self.actor,
            obj=movement,
            office_code=self.office.code if self.office else "",
            before={"status": self.status_at_start},
            after={
                "status": movement.status,
                "version": movement.version,
                **({"reason": self.reason} if self.reason else {}),
                **(extra or {}),
            },
        )
        for task in tasks:
            enqueue_on_commit(task, movement.pk)
        return movement


def _begin(*, actor, movement, name: str, office_of, reason: str = "", expected_version=None) -> _Move:
    transition = TRANSITIONS[name]
    locked = (
        TransitMovement.objects.select_for_update(of=("self",))
        .select_related(
            "departure_office__country", "destination_office", "principal", "guarantee", "created_by"
        )
        .get(pk=movement.pk)
    )
    office = office_of(locked)
    if transition.side != Side.SYSTEM:
        ensure_officer_at(actor, office)
    if expected_version is not None and expected_version != locked.version:
        raise MovementChanged(locked.version)
    if locked.status not in transition.sources:
        raise TransitionNotAllowed(
            _("%(action)s is not possible: the movement is %(status)s.")
            % {"action": transition.label, "status": locked.get_status_display().lower()}
        )
    reason = (reason or "").strip()
    if transition.reason_required and not reason:
        raise TransitInvalid([FieldError("reason", "required", _("Give the reason."))])
    return _Move(locked, actor, name, office, reason)


def _mrn(movement: TransitMovement, now) -> str:
    year = timezone.localdate(now).year
    office = movement.departure_office
    serial = number_next(office_code=office.code, year=year, series=MRN_SERIES)
    return mrn_make(year=year, country=office.country.code, office_code=office.code, serial=serial)


def transit_release(*, actor, movement, expected_version=None) -> TransitMovement:
    """Release for transit at the office of departure: the amount at stake reserved on the guarantee
    (refused with the shortfall), the MRN given, the TAD sent to print."""
    with transaction.atomic():
        move = _begin(
            actor=actor,
            movement=movement,
            name="release",
            office_of=lambda m: m.departure_office,
            expected_version=expected_version,
        )
        locked = move.movement
        items = list(locked.items.all())
        total, lines, errors = amount_at_stake(items, day=timezone.localdate(move.now))
        if errors:
            raise TransitInvalid(errors)
        try:
            reservation = guarantee_reserve(
                actor=actor,
                guarantee=locked.guarantee,
                amount=total,
                purpose=ReservationPurpose.TRANSIT,
                reference=f"{locked.departure_office.code} {locked.lrn}",
            )
        except InsufficientFunds as short:
            raise GuaranteeShort(
                _(
                    "The guarantee %(reference)s does not cover the %(amount)s at stake: "
                    "short by %(shortfall)s."
                )
                % {
                    "reference": locked.guarantee.reference,
                    "amount": money_display(total),
                    "shortfall": money_display(short.shortfall),
                },
                shortfall=short.shortfall,
                amount_at_stake=total,
                lines=lines,
            ) from short
        except PaymentError as refused:
            raise TransitionNotAllowed(refused.message, code=refused.code) from refused
        locked.reservation = reservation
        locked.amount_at_stake = total
        locked.stake_lines = lines
        locked.released_at = move.now
        locked.mrn = _mrn(locked, move.now)
        reservation.reference = locked.mrn
        reservation.save(update_fields=["reference"])
        return move.finish(extra={"mrn": locked.mrn, "amount_at_stake": str(total)}, tasks=ON_RELEASED_TASKS)


def transit_border_passage(*, actor, movement, office, expected_version=None) -> TransitMovement:
    """An office of transit on the route records the passage (scan or typed MRN). An overdue movement
    stays overdue (and red in the finder) until it arrives."""
    with transaction.atomic():
        move = _begin(
            actor=actor,
            movement=movement,
            name="pass_border",
            office_of=lambda m: office,
            expected_version=expected_version,
        )
        stop = move.movement.transit_offices.filter(office=office).order_by("sequence").first()
        if stop is None:
            raise TransitionNotAllowed(
                _("Office %(office)s is not an office of transit of this movement.")
                % {"office": office.code},
                code="not_on_route",
            )
        if stop.passed_at is not None:
            raise TransitionNotAllowed(
                _("The passage at %(office)s is recorded already.") % {"office": office.code}
            )
        stop.passed_at, stop.passed_by = move.now, actor
        stop.save(update_fields=["passed_at", "passed_by"])
        overdue = move.status_at_start == MovementStatus.OVERDUE
        return move.finish(extra={"office": office.code}, target=MovementStatus.OVERDUE if overdue else None)


def transit_arrival(
    *,
    actor,
    movement,
    seals_intact: bool,
    goods_conform: bool,
    seals_found=(),
    discrepancies: str = "",
    expected_version=None,
) -> TransitMovement:
    """The office of destination records the arrival and its control. Conform: discharged at once and
    the guarantee's reservation released; otherwise under enquiry with the reservation kept. All of it
    or nothing: one transaction."""
    conform = seals_intact and goods_conform
    if not conform and not (discrepancies or "").strip():
        raise TransitInvalid([FieldError("discrepancies", "required", _("Describe the discrepancies."))])
    with transaction.atomic():
        _arrival_record(
            actor=actor,
            movement=movement,
            seals_intact=seals_intact,
            goods_conform=goods_conform,
            seals_found=seals_found,
            discrepancies=discrepancies,
            expected_version=expected_version,
        )
        if conform:
            return transit_discharge(actor=actor, movement=movement)
        return transit_enquire(actor=actor, movement=movement, reason=discrepancies)


def _arrival_record(
    *, actor, movement, seals_intact, goods_conform, seals_found, discrepancies, expected_version
) -> TransitMovement:
    with transaction.atomic():
        move = _begin(
            actor=actor,
            movement=movement,
            name="arrive",
            office_of=lambda m: m.destination_office,
            expected_version=expected_version,
        )
        locked = move.movement
        ArrivalControl.objects.create(
            movement=locked,
            seals_intact=seals_intact,
            seals_found=[seal.strip() for seal in seals_found if seal.strip()],
            goods_conform=goods_conform,
            discrepancies=(discrepancies or "").strip(),
            recorded_by=actor,
            recorded_at=move.now,
        )
        locked.arrived_at = move.now
        return move.finish(extra={"seals_intact": seals_intact, "goods_conform": goods_conform})


def transit_enquire(*, actor, movement, reason: str) -> TransitMovement:
    with transaction.atomic():
        move = _begin(
            actor=actor,
            movement=movement,
            name="enquire",
            office_of=lambda m: m.destination_office,
            reason=reason,
        )
        return move.finish()


def _close(move: _Move, actor) -> None:
    """The movement's end (discharged or cancelled): its guarantee reservation released."""
    if move.movement.reservation_id:
        guarantee_release(actor=actor, reservation=move.movement.reservation)
    move.movement.closed_at = move.now


def transit_discharge(*, actor, movement, reason: str = "", expected_version=None) -> TransitMovement:
    """Discharge: the movement ends well and its guarantee reservation is released. At the end of an
    enquiry the officer says how it ended (``reason``)."""
    with transaction.atomic():
        move = _begin(
            actor=actor,
            movement=movement,
            name="discharge",
            office_of=lambda m: m.destination_office,
            reason=reason,
            expected_version=expected_version,
        )
        locked = move.movement
        if move.status_at_start == MovementStatus.UNDER_ENQUIRY and not move.reason:
            raise TransitInvalid(
                [FieldError("reason", "required", _("Say how the enquiry ended before discharging."))]
            )
        _close(move, actor)
        return move.finish(extra={"released": str(locked.amount_at_stake)})


def transit_cancel(*, actor, movement, reason: str, expected_version=None) -> TransitMovement:
    with transaction.atomic():
        move = _begin(
            actor=actor,
            movement=movement,
            name="cancel",
            office_of=lambda m: m.departure_office,
            reason=reason,
            expected_version=expected_version,
        )
        _close(move, actor)
        return move.finish()


def transit_overdue_flag(*, today: datetime.date | None = None) -> int:
    """Flag every movement past its time limit that has not arrived (the beat task's work)."""
    today = today or timezone.localdate()
    flagged = 0
    for pk in TransitMovement.objects.filter(
        status__in=TRANSITIONS["flag_overdue"].sources, time_limit__lt=today
    ).values_list("pk", flat=True):
        with transaction.atomic():
            movement = TransitMovement(pk=pk)
            try:
                move = _begin(
                    actor=None, movement=movement, name="flag_overdue", office_of=lambda m: m.departure_office
                )
            except TransitionNotAllowed:
                continue  # arrived meanwhile
            move.movement.overdue_at = move.now
            move.finish(tasks=ON_OVERDUE_TASKS)
            flagged += 1
    return flagged
