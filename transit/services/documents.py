"""The transit accompanying document (TAD): the movement as TransitData, signed into the QR token, and
rendered into a PDF by the Celery task ``transit.print_tad`` (the original on release; a reprint, asked
by an officer of the office of departure, says "duplicate" and is audited)."""

import datetime
import logging

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from customs.queue import enqueue_on_commit
from customs.services.audit import audit_record
from customs.services.users import user_language
from declarations.services.errors import TransitionNotAllowed
from transit.choices import MovementStatus
from transit.data import PartyData, TransitData, TransitItemData
from transit.models import TadPrint, TransitMovement
from transit.services.permissions import ensure_officer_at

logger = logging.getLogger(__name__)
RENDER_TASK = "transit.render_tad"


def movement_data(movement: TransitMovement) -> TransitData:
    """The movement as the plain data the TAD, the token and the CC015C message are made from."""
    principal = movement.principal
    return TransitData(
        lrn=movement.lrn,
        declaration_type=movement.declaration_type,
        departure_office=movement.departure_office.code,
        destination_office=movement.destination_office.code,
        transit_offices=[stop.office.code for stop in movement.transit_offices.select_related("office")],
        principal=PartyData(
            identification=principal.taxpayer_id,
            name=principal.name,
            street=principal.address,
            country=principal.country.code,
        ),
        carrier=PartyData(identification=movement.carrier_identification, name=movement.carrier_name)
        if movement.carrier_name
        else None,
        transport_identity=movement.transport_identity,
        transport_nationality=movement.transport_nationality.code if movement.transport_nationality else "",
        containers=list(movement.containers),
        seals=list(movement.seals),
        itinerary=list(movement.itinerary),
        time_limit=movement.time_limit,
        guarantee_reference=movement.guarantee.reference,
        previous_document=movement.previous_document,
        items=[
            TransitItemData(
                number=item.number,
                commodity_code=item.commodity_code,
                description=item.description,
                packages_number=item.packages_number,
                package_kind=item.package_kind,
                gross_mass=item.gross_mass,
                net_mass=item.net_mass,
                value=item.value,
                currency=item.currency,
            )
            for item in movement.items.all()
        ],
        mrn=movement.mrn or "",
        issued_at=movement.released_at,
    )


def tad_original_request(movement_id: int) -> TadPrint | None:
    """The original TAD of a released movement, in the language of whoever lodged it (the task
    ``transit.print_tad`` sent on release). Idempotent: one original per movement."""
    movement = TransitMovement.objects.select_related("created_by").get(pk=movement_id)
    if not movement.mrn:
        return None
    with transaction.atomic():
        document, created = TadPrint.objects.get_or_create(
            movement=movement, duplicate=False, defaults={"language": user_language(movement.created_by)}
        )
        if created:
            enqueue_on_commit(RENDER_TASK, document.pk)
    return document


def tad_reprint_request(*, actor, movement: TransitMovement, language: str) -> TadPrint:
    """A reprint, by an officer of the office of departure: marked duplicate, audited. Only a released
    movement, not cancelled, has a document to reprint."""
    ensure_officer_at(actor, movement.departure_office)
    if not movement.mrn or movement.status == MovementStatus.CANCELLED:
        raise TransitionNotAllowed(
            _("Only a released movement has a transit accompanying document to reprint."), code="not_released"
        )
    with transaction.atomic():
        document = TadPrint.objects.create(
            movement=movement, language=language, duplicate=True, requested_by=actor
        )
        audit_record(
            action="transit.tad.reprinted",
            actor=actor,
            obj=movement,
            office_code=movement.departure_office.code,
            after={"print": document.pk, "language": language},
        )
        enqueue_on_commit(RENDER_TASK, document.pk)
    return document


def tad_render_print(print_id: int) -> str:
    """Render one TAD (the task's work). Idempotent: a ready document is left alone."""
    from transit.signing import claims_from_transit, token_sign
    from transit.tad import tad_render

    document = TadPrint.objects.select_related(
        "movement__departure_office",
        "movement__destination_office",
        "movement__principal",
        "movement__guarantee",
    ).get(pk=print_id)
    if document.status == TadPrint.Status.READY:
        return "ready"
    data = movement_data(document.movement)
    try:
        token = token_sign(claims_from_transit(data))
        pdf = tad_render(data, token=token, duplicate=document.duplicate, language=document.language)
    except Exception as error:  # shown to the officer, who may ask again
        logger.exception("TAD %s could not be rendered", document.pk)
        TadPrint.objects.filter(pk=document.pk).update(status=TadPrint.Status.FAILED, error=str(error))
        return "failed"
    with transaction.atomic():
        locked = TadPrint.objects.select_for_update().get(pk=document.pk)
        if locked.status == TadPrint.Status.READY:
            return "ready"
        suffix = "-duplicate" if locked.duplicate else ""
        locked.file.save(f"tad-{data.mrn}{suffix}-{locked.language}.pdf", ContentFile(pdf), save=False)
        locked.status = TadPrint.Status.READY
        locked.rendered_at = timezone.now()
        locked.error = ""
        locked.save()
    return "rendered"


def tad_sweep(*, older_than=None) -> dict:
    """Work a broker outage lost: released movements without their original TAD get it asked for, and
    TADs left pending are sent to render again."""
    older_than = older_than if older_than is not None else datetime.timedelta(minutes=2)
    before = timezone.now() - older_than
    originals = TadPrint.objects.filter(movement=OuterRef("pk"), duplicate=False)
    missing = list(
        TransitMovement.objects.filter(mrn__isnull=False, released_at__lt=before)
        .exclude(Exists(originals))
        .values_list("pk", flat=True)[:500]
    )
    for movement_id in missing:
        tad_original_request(movement_id)
    pending = list(
        TadPrint.objects.filter(status=TadPrint.Status.PENDING, requested_at__lt=before).values_list(
            "pk", flat=True
        )[:500]
    )
    for print_id in pending:
        with transaction.atomic():
            enqueue_on_commit(RENDER_TASK, print_id)
    return {"asked": len(missing), "resent": len(pending)}
