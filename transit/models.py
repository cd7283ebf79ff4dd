"""Transit movements (T1): the declaration with its route, transport, seals and items; its states; the
border passages and the control at destination; its printed accompanying documents.

Models hold fields and constraints; every write goes through ``transit.services``.
"""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from customs.models import Country, CustomsOffice, Trader
from payments.models import Guarantee, GuaranteeReservation
from transit.choices import MovementStatus

MASS = {"max_digits": 18, "decimal_places": 6}
MONEY = {"max_digits": 18, "decimal_places": 2}


class TransitMovement(models.Model):
    """One transit declaration and its movement, from lodgement to discharge.

    ``amount_at_stake`` is what the goods would owe in the destination country (the tariff engine at
    today's rates), reserved on the guarantee at release and released on discharge; ``stake_lines``
    keeps how it was computed, item by item. ``version`` counts every write.
    """

    lrn = models.CharField(_("local reference number (LRN)"), max_length=22)
    mrn = models.CharField(_("MRN"), max_length=18, unique=True, null=True, blank=True)
    declaration_type = models.CharField(_("type"), max_length=4, default="T1")
    status = models.CharField(
        _("status"), max_length=16, choices=MovementStatus.choices, default=MovementStatus.REGISTERED
    )
    departure_office = models.ForeignKey(
        CustomsOffice, on_delete=models.PROTECT, related_name="+", verbose_name=_("office of departure")
    )
    destination_office = models.ForeignKey(
        CustomsOffice, on_delete=models.PROTECT, related_name="+", verbose_name=_("office of destination")
    )
    principal = models.ForeignKey(
        Trader, on_delete=models.PROTECT, related_name="transit_movements", verbose_name=_("principal")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("lodged by")
    )
    carrier_name = models.CharField(_("carrier"), max_length=255, blank=True)
    carrier_identification = models.CharField(_("carrier identification"), max_length=32, blank=True)
    transport_identity = models.CharField(_("means of transport (plate)"), max_length=35)
    transport_nationality = models.ForeignKey(
        Country,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("nationality of the means of transport"),
    )
    containers = ArrayField(
        models.CharField(max_length=17), default=list, blank=True, verbose_name=_("containers")
    )
    seals = ArrayField(models.CharField(max_length=35), default=list, blank=True, verbose_name=_("seals"))
    itinerary = ArrayField(
        models.CharField(max_length=2), default=list, blank=True, verbose_name=_("itinerary")
    )
    time_limit = models.DateField(_("time limit"))
    guarantee = models.ForeignKey(
        Guarantee, on_delete=models.PROTECT, related_name="transit_movements", verbose_name=_("guarantee")
    )
    reservation = models.OneToOneField(
        GuaranteeReservation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="transit_movement",
        verbose_name=_("guarantee reservation"),
    )
    amount_at_stake = models.DecimalField(_("duties and taxes at stake"), null=True, blank=True, **MONEY)
    stake_lines = models.JSONField(_("how the amount at stake was computed"), default=list, blank=True)
    previous_document = models.CharField(_("previous document"), max_length=70, blank=True)
    parties = models.JSONField(_("consignor, consignee"), default=dict, blank=True)
    registered_at = models.DateTimeField(_("registered at"))
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    overdue_at = models.DateTimeField(_("flagged overdue at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-registered_at", "-pk"]
        verbose_name = _("transit movement")
        verbose_name_plural = _("transit movements")
        constraints = [
            models.UniqueConstraint(fields=["principal", "lrn"], name="transit_lrn_unique_per_principal"),
            models.CheckConstraint(
                condition=Q(status="registered")
                | Q(status="cancelled", mrn__isnull=True)
                | Q(mrn__isnull=False),
                name="transit_released_has_mrn",
            ),
        ]
        indexes = [
            models.Index(
                fields=["departure_office", "status", "registered_at"], name="transit_departure_idx"
            ),
            models.Index(fields=["destination_office", "status"], name="transit_destination_idx"),
            models.Index(fields=["status", "time_limit"], name="transit_overdue_idx"),
        ]

    def __str__(self):
        return self.mrn or self.lrn


class TransitOffice(models.Model):
    """An office of transit on the route, in order, and its recorded passage."""

    movement = models.ForeignKey(TransitMovement, on_delete=models.CASCADE, related_name="transit_offices")
    sequence = models.PositiveSmallIntegerField(_("order"))
    office = models.ForeignKey(
        CustomsOffice, on_delete=models.PROTECT, related_name="+", verbose_name=_("office")
    )
    passed_at = models.DateTimeField(_("passed at"), null=True, blank=True)
    passed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["movement", "sequence"]
        verbose_name = _("office of transit")
        verbose_name_plural = _("offices of transit")
        constraints = [
            models.UniqueConstraint(fields=["movement", "sequence"], name="transit_office_sequence_unique"),
        ]

    def __str__(self):
        return f"{self.movement} {self.sequence}: {self.office_id}"


class TransitItem(models.Model):
    movement = models.ForeignKey(TransitMovement, on_delete=models.CASCADE, related_name="items")
    number = models.PositiveSmallIntegerField(_("item number"))
    commodity_code = models.CharField(_("commodity code"), max_length=10)
    description = models.TextField(_("description of goods"))
    packages_number = models.PositiveIntegerField(_("number of packages"))
    package_kind = models.CharField(_("kind of packages"), max_length=2)
    gross_mass = models.DecimalField(_("gross mass (kg)"), **MASS)
    net_mass = models.DecimalField(_("net mass (kg)"), null=True, blank=True, **MASS)
    value = models.DecimalField(_("value"), null=True, blank=True, **MONEY)
    currency = models.CharField(_("currency"), max_length=3, blank=True)

    class Meta:
        ordering = ["movement", "number"]
        verbose_name = _("transit item")
        verbose_name_plural = _("transit items")
        constraints = [
            models.UniqueConstraint(fields=["movement", "number"], name="transit_item_number_unique"),
            models.CheckConstraint(condition=Q(gross_mass__gt=0), name="transit_item_gross_positive"),
        ]

    def __str__(self):
        return f"{self.movement} #{self.number}"


class TransitStatusChange(models.Model):
    """One move of a movement: who, when, where, from what to what, and why."""

    movement = models.ForeignKey(TransitMovement, on_delete=models.CASCADE, related_name="status_changes")
    action = models.CharField(_("action"), max_length=24)
    from_status = models.CharField(_("from"), max_length=16, choices=MovementStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=16, choices=MovementStatus.choices)
    office_code = models.CharField(_("office"), max_length=8, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(_("reason"), blank=True)
    occurred_at = models.DateTimeField(_("at"))

    class Meta:
        ordering = ["movement", "occurred_at", "pk"]
        verbose_name = _("transit status change")
        verbose_name_plural = _("transit status changes")

    def __str__(self):
        return f"{self.movement} {self.action}"


class ArrivalControl(models.Model):
    """What the office of destination found: the seals, the goods, and any discrepancy."""

    movement = models.OneToOneField(TransitMovement, on_delete=models.CASCADE, related_name="arrival_control")
    seals_intact = models.BooleanField(_("seals intact"))
    seals_found = ArrayField(
        models.CharField(max_length=35), default=list, blank=True, verbose_name=_("seals found")
    )
    goods_conform = models.BooleanField(_("goods conform"))
    discrepancies = models.TextField(_("discrepancies"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        verbose_name = _("arrival control")
        verbose_name_plural = _("arrival controls")

    def __str__(self):
        return f"{self.movement} {'conform' if self.conform else 'discrepancies'}"

    @property
    def conform(self) -> bool:
        return self.seals_intact and self.goods_conform


def _tad_upload_to(instance, filename):
    return f"transit/{instance.movement_id}/tad/{filename}"


class TadPrint(models.Model):
    """A printed transit accompanying document: the original, printed by the worker on release, or a
    reprint, which says "duplicate" and is audited."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Being prepared")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    movement = models.ForeignKey(TransitMovement, on_delete=models.CASCADE, related_name="prints")
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    duplicate = models.BooleanField(_("duplicate"), default=False)
    file = models.FileField(_("file"), upload_to=_tad_upload_to, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(_("error"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    rendered_at = models.DateTimeField(_("rendered at"), null=True, blank=True)

    class Meta:
        ordering = ["movement", "requested_at"]
        verbose_name = _("transit accompanying document")
        verbose_name_plural = _("transit accompanying documents")
        constraints = [
            models.UniqueConstraint(
                fields=["movement"], condition=Q(duplicate=False), name="tad_one_original_per_movement"
            ),
            models.CheckConstraint(
                condition=~Q(status="ready") | (~Q(file="") & Q(rendered_at__isnull=False)),
                name="tad_ready_has_file",
            ),
        ]
        indexes = [models.Index(fields=["status", "requested_at"], name="tad_status_idx")]

    def __str__(self):
        return f"{self.movement} TAD {self.language}{' duplicate' if self.duplicate else ''}"
