"""Writing selectivity criteria: create, revise (a new version), put live or take down; random rates.

Every write is audited. A revision never edits a version: it supersedes the current one and adds the
next, so a declaration hit by version 3 keeps version 3 whatever the criterion says today.
"""

import datetime
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from customs.models import CustomsOffice
from customs.services.audit import audit_record
from declarations.services.errors import DeclarationInvalid, FieldError
from risk.choices import TARGET_LANES
from risk.engine import ConditionError, conditions_parse
from risk.models import Criterion, CriterionVersion, RandomSelectionRate
from risk.services.permissions import ensure_criteria_writer


@dataclass
class VersionData:
    """What an analyst writes for a version of a criterion."""

    lane: str
    conditions: list[dict]
    valid_from: datetime.date
    valid_to: datetime.date | None = None
    offices: list[str] = field(default_factory=list)
    officer_note: str = ""
    internal_note: str = ""


def version_data_check(data: VersionData) -> list[dict]:
    """The conditions as stored (checked and normalised); raises ``DeclarationInvalid`` with every
    problem, each under its field (``conditions[2].values``)."""
    errors = []
    if data.lane not in TARGET_LANES:
        errors.append(FieldError("lane", "invalid", _("Choose the lane: red, yellow or blue.")))
    if data.valid_to is not None and data.valid_from is not None and data.valid_to < data.valid_from:
        errors.append(FieldError("valid_to", "before_start", _("The end of validity is before its start.")))
    if data.valid_from is None:
        errors.append(FieldError("valid_from", "required", _("Give the date from which it applies.")))
    offices = sorted({code.strip().upper() for code in data.offices if code.strip()})
    known = set(CustomsOffice.objects.filter(code__in=offices).values_list("code", flat=True))
    for code in offices:
        if code not in known:
            errors.append(
                FieldError("offices", "unknown", _("There is no customs office %(code)s.") % {"code": code})
            )
    stored = []
    try:
        stored = [
            {"kind": condition.kind, "operator": condition.operator, "values": list(condition.values)}
            for condition in conditions_parse(data.conditions)
        ]
    except ConditionError as error:
        errors.append(FieldError(f"conditions[{error.index}].{error.field_name}", "invalid", error.message))
    if errors:
        raise DeclarationInvalid(errors)
    data.offices = offices
    return stored


def _version_write(criterion: Criterion, data: VersionData, conditions: list[dict], actor, number: int):
    return CriterionVersion.objects.create(
        criterion=criterion,
        number=number,
        lane=data.lane,
        conditions=conditions,
        valid_from=data.valid_from,
        valid_to=data.valid_to,
        offices=data.offices,
        officer_note=data.officer_note.strip(),
        internal_note=data.internal_note.strip(),
        created_by=actor,
    )


def _audit_version(action: str, actor, version: CriterionVersion, before: dict | None = None) -> None:
    audit_record(
        action=f"risk.criterion.{action}",
        actor=actor,
        obj=version.criterion,
        before=before,
        after={
            "version": version.number,
            "lane": version.lane,
            "conditions": version.conditions,
            "valid_from": version.valid_from,
            "valid_to": version.valid_to,
            "offices": version.offices,
            "live": version.criterion.active,
        },
    )


def criterion_create(
    *, actor, code: str, name: str, data: VersionData, live: bool = False
) -> CriterionVersion:
    """A new criterion and its version 1 (a draft unless ``live``)."""
    ensure_criteria_writer(actor)
    code, name = (code or "").strip().upper(), (name or "").strip()
    errors = []
    if not code:
        errors.append(FieldError("code", "required", _("Give the criterion a code.")))
    if not name:
        errors.append(FieldError("name", "required", _("Give the criterion a name.")))
    try:
        conditions = version_data_check(data)
    except DeclarationInvalid as invalid:
        errors.extend(invalid.errors)
        conditions = []
    if code and Criterion.objects.filter(code=code).exists():
        errors.append(FieldError("code", "taken", _("Another criterion has this code.")))
    if errors:
        raise DeclarationInvalid(errors)
    try:
        with transaction.atomic():
            criterion = Criterion.objects.create(code=code, name=name, active=live, created_by=actor)
            version = _version_write(criterion, data, conditions, actor, 1)
            _audit_version("created", actor, version)
    except IntegrityError as error:  # the same code written by someone else at the same moment
        raise DeclarationInvalid(
            [FieldError("code", "taken", _("Another criterion has this code."))]
        ) from error
    return version


def criterion_revise(
    *, actor, criterion: Criterion, data: VersionData, name: str | None = None
) -> CriterionVersion:
    """The next version of ``criterion``; the current one is superseded (and kept, with its hits)."""
    ensure_criteria_writer(actor)
    conditions = version_data_check(data)
    with transaction.atomic():
        locked = Criterion.objects.select_for_update().get(pk=criterion.pk)
        current = locked.versions.filter(superseded_at__isnull=True).first()
        now = timezone.now()
        before = None
        number = 1
        if current is not None:
            before = {"version": current.number, "lane": current.lane, "conditions": current.conditions}
            CriterionVersion.objects.filter(pk=current.pk).update(superseded_at=now)
            number = current.number + 1
        if name is not None and name.strip():
            locked.name = name.strip()
        locked.save()  # updated_at: the compiled criteria of every process are rebuilt
        version = _version_write(locked, data, conditions, actor, number)
        _audit_version("revised", actor, version, before)
    return version


def criterion_set_live(*, actor, criterion: Criterion, live: bool) -> Criterion:
    """Put a criterion live (it scores declarations from now) or take it down (a draft again)."""
    ensure_criteria_writer(actor)
    with transaction.atomic():
        locked = Criterion.objects.select_for_update().get(pk=criterion.pk)
        if locked.active == live:
            return locked
        locked.active = live
        locked.save()
        audit_record(
            action="risk.criterion.live" if live else "risk.criterion.taken_down",
            actor=actor,
            obj=locked,
            before={"live": not live},
            after={"live": live},
        )
    return locked


def current_version(criterion: Criterion) -> CriterionVersion | None:
    return criterion.versions.filter(superseded_at__isnull=True).first()


def random_rate_set(*, actor, office: CustomsOffice, lane: str, percent) -> RandomSelectionRate:
    """Set the random selection rate of an office for a lane (0 to 100 percent)."""
    ensure_criteria_writer(actor)
    from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

    try:
        value = Decimal(str(percent))
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or not Decimal(0) <= value <= Decimal(100):
        raise DeclarationInvalid([FieldError("percent", "invalid", _("Give a percentage from 0 to 100."))])
    if lane not in TARGET_LANES:
        raise DeclarationInvalid([FieldError("lane", "invalid", _("Choose the lane: red, yellow or blue."))])
    with transaction.atomic():
        previous = RandomSelectionRate.objects.filter(office=office, lane=lane).first()
        rate, _created = RandomSelectionRate.objects.update_or_create(
            office=office,
            lane=lane,
            defaults={"percent": value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)},
        )
        audit_record(
            action="risk.random_rate.set",
            actor=actor,
            obj=rate,
            office_code=office.code,
            before={"percent": previous.percent if previous else None},
            after={"lane": lane, "percent": rate.percent},
        )
    return rate
