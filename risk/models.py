"""Risk and control: selectivity criteria (versioned), random selection, the selectivity result of each
declaration, examinations with their findings, and post-clearance audits."""

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from customs.models import CustomsOffice
from declarations.choices import Lane
from declarations.models import Declaration
from risk.choices import (
    AuditOutcome,
    ExaminationKind,
    ExaminationStatus,
    FindingResult,
    SelectionSource,
)

PERCENT = {"max_digits": 5, "decimal_places": 2}


class Criterion(models.Model):
    """A selectivity criterion: its identity and whether it is live. What it says is in its versions;
    every edit makes a new one, and a hit keeps the version that made it."""

    code = models.CharField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=200)
    active = models.BooleanField(
        _("live"),
        default=False,
        help_text=_("A criterion that is not live is a draft: it can be backtested."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("selectivity criterion")
        verbose_name_plural = _("selectivity criteria")

    def __str__(self):
        return f"{self.code} {self.name}"


class CriterionVersion(models.Model):
    """One version of a criterion: conditions (all must hold), target lane, validity, scope and notes.

    ``conditions`` is a list of ``{"kind", "operator", "values"}`` (``risk.choices``); ``values`` are
    strings (codes, or one threshold as a decimal string). A version is never edited: a change makes the
    next version and marks this one ``superseded_at``.
    """

    criterion = models.ForeignKey(
        Criterion, on_delete=models.CASCADE, related_name="versions", verbose_name=_("criterion")
    )
    number = models.PositiveIntegerField(_("version"))
    lane = models.CharField(
        _("target lane"),
        max_length=8,
        choices=[(lane, Lane(lane).label) for lane in ("red", "yellow", "blue")],
    )
    conditions = models.JSONField(_("conditions"), default=list)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    offices = ArrayField(
        models.CharField(max_length=8),
        default=list,
        blank=True,
        verbose_name=_("offices"),
        help_text=_("Codes of the offices where it applies; none: every office."),
    )
    officer_note = models.TextField(_("note for the officer"), blank=True)
    internal_note = models.TextField(_("internal note (never shown to the trader)"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("written by")
    )
    created_at = models.DateTimeField(_("written at"), auto_now_add=True)
    superseded_at = models.DateTimeField(_("superseded at"), null=True, blank=True)

    class Meta:
        ordering = ["criterion", "-number"]
        verbose_name = _("criterion version")
        verbose_name_plural = _("criterion versions")
        constraints = [
            models.UniqueConstraint(fields=["criterion", "number"], name="criterion_version_unique"),
            models.UniqueConstraint(
                fields=["criterion"], condition=Q(superseded_at__isnull=True), name="criterion_one_current"
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="criterion_version_dates",
            ),
        ]

    def __str__(self):
        return f"{self.criterion.code} v{self.number}"


class RandomSelectionRate(models.Model):
    """The share of an office's declarations picked at random for a lane, in percent."""

    office = models.ForeignKey(
        CustomsOffice, on_delete=models.CASCADE, related_name="random_rates", verbose_name=_("office")
    )
    lane = models.CharField(
        _("lane"), max_length=8, choices=[(lane, Lane(lane).label) for lane in ("red", "yellow", "blue")]
    )
    percent = models.DecimalField(
        _("percent"),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
        **PERCENT,
    )

    class Meta:
        ordering = ["office", "lane"]
        verbose_name = _("random selection rate")
        verbose_name_plural = _("random selection rates")
        constraints = [
            models.UniqueConstraint(fields=["office", "lane"], name="random_rate_unique"),
            models.CheckConstraint(
                condition=Q(percent__gte=0) & Q(percent__lte=100), name="random_rate_percent"
            ),
        ]

    def __str__(self):
        return f"{self.office_id} {self.lane} {self.percent}%"


class RiskProfileSettings(models.Model):
    """How the trader's profile weighs (one row, edited in admin).

    Authorised economic operators: random rates times ``aeo_random_factor``, and with
    ``aeo_documentary_to_audit`` a yellow lane (documentary check) becomes blue (checked after release,
    in post-clearance audit). Recent findings: a trader with at least ``findings_threshold``
    discrepancies found in the last ``findings_window_days`` has random rates times
    ``findings_random_factor`` and gets at least ``findings_minimum_lane``.
    """

    aeo_random_factor = models.DecimalField(
        _("AEO: factor on random rates"), default=Decimal("0.50"), **PERCENT
    )
    aeo_documentary_to_audit = models.BooleanField(
        _("AEO: documentary checks after release (yellow becomes blue)"), default=True
    )
    findings_window_days = models.PositiveIntegerField(_("findings: days looked back"), default=180)
    findings_threshold = models.PositiveIntegerField(_("findings: how many raise the risk"), default=1)
    findings_random_factor = models.DecimalField(
        _("findings: factor on random rates"), default=Decimal("3.00"), **PERCENT
    )
    findings_minimum_lane = models.CharField(
        _("findings: lane at least"),
        max_length=8,
        blank=True,
        default="yellow",
        choices=[
            ("", _("no minimum")),
            ("blue", Lane.BLUE.label),
            ("yellow", Lane.YELLOW.label),
            ("red", Lane.RED.label),
        ],
    )

    class Meta:
        verbose_name = _("risk profile settings")
        verbose_name_plural = _("risk profile settings")

    def __str__(self):
        return str(_("Risk profile settings"))


class Selectivity(models.Model):
    """The selectivity result of one declaration: the lane, why, and what was drawn (for an audit to
    replay). One per declaration, which makes scoring idempotent."""

    declaration = models.OneToOneField(
        Declaration, on_delete=models.CASCADE, related_name="selectivity", verbose_name=_("declaration")
    )
    lane = models.CharField(_("lane"), max_length=8, choices=Lane.choices)
    source = models.CharField(_("lane given by"), max_length=12, choices=SelectionSource.choices)
    random_draws = models.JSONField(_("random draws"), default=dict)
    profile = models.JSONField(_("trader's profile"), default=dict)
    criteria_evaluated = models.PositiveIntegerField(_("criteria evaluated"), default=0)
    scored_at = models.DateTimeField(_("scored at"))
    scoring_ms = models.DecimalField(_("scoring time (ms)"), max_digits=9, decimal_places=3, default=0)

    class Meta:
        verbose_name = _("selectivity result")
        verbose_name_plural = _("selectivity results")

    def __str__(self):
        return f"{self.declaration_id}: {self.lane}"


class CriterionHit(models.Model):
    """A criterion version that hit a declaration (an item of it, for item conditions), with why."""

    declaration = models.ForeignKey(
        Declaration, on_delete=models.CASCADE, related_name="criterion_hits", verbose_name=_("declaration")
    )
    version = models.ForeignKey(
        CriterionVersion, on_delete=models.PROTECT, related_name="hits", verbose_name=_("criterion version")
    )
    criterion = models.ForeignKey(
        Criterion, on_delete=models.PROTECT, related_name="hits", verbose_name=_("criterion"), db_index=False
    )
    lane = models.CharField(_("lane"), max_length=8, choices=Lane.choices)
    item_number = models.PositiveSmallIntegerField(_("item"), null=True, blank=True)
    # Why it hit: the conditions with the declaration's own values, as data, shown in the reader's
    # language (``risk.engine.explanation_text``).
    explanation = models.JSONField(_("explanation"), default=list)
    hit_at = models.DateTimeField(_("hit at"))

    class Meta:
        ordering = ["declaration", "pk"]
        verbose_name = _("criterion hit")
        verbose_name_plural = _("criterion hits")
        indexes = [models.Index(fields=["criterion", "hit_at"], name="criterion_hit_at_idx")]

    def __str__(self):
        return f"{self.version} → {self.declaration_id}"


class Examination(models.Model):
    """The control of a yellow (documentary) or red (physical) lane, assigned by the system to the
    least-loaded officer of the office."""

    declaration = models.ForeignKey(
        Declaration, on_delete=models.CASCADE, related_name="examinations", verbose_name=_("declaration")
    )
    office = models.ForeignKey(
        CustomsOffice, on_delete=models.PROTECT, related_name="+", verbose_name=_("office"), db_index=False
    )
    kind = models.CharField(_("kind"), max_length=12, choices=ExaminationKind.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=ExaminationStatus.choices, default=ExaminationStatus.UNASSIGNED
    )
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="examinations",
        verbose_name=_("officer"),
    )
    created_at = models.DateTimeField(_("created at"))
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    report = models.TextField(_("report"), blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("examination")
        verbose_name_plural = _("examinations")
        constraints = [
            models.UniqueConstraint(
                fields=["declaration"],
                condition=Q(status__in=["unassigned", "assigned"]),
                name="examination_one_open_per_declaration",
            ),
            models.CheckConstraint(
                condition=~Q(status="assigned") | Q(officer__isnull=False),
                name="examination_assigned_officer",
            ),
        ]
        indexes = [
            models.Index(fields=["officer", "status", "created_at"], name="examination_worklist_idx"),
            models.Index(fields=["office", "status", "created_at"], name="examination_office_idx"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.declaration_id}"

    @property
    def is_open(self) -> bool:
        return self.status in (ExaminationStatus.UNASSIGNED, ExaminationStatus.ASSIGNED)


def _photo_upload_to(instance, filename):
    return f"examinations/{instance.examination_id}/{filename}"


class Finding(models.Model):
    """What the officer found on one item: conform, or a discrepancy with the corrected values."""

    examination = models.ForeignKey(
        Examination, on_delete=models.CASCADE, related_name="findings", verbose_name=_("examination")
    )
    item_number = models.PositiveSmallIntegerField(_("item"))
    result = models.CharField(_("result"), max_length=16, choices=FindingResult.choices)
    corrections = models.JSONField(_("corrected values"), default=dict, blank=True)
    note = models.TextField(_("note"), blank=True)
    photo = models.FileField(_("photo"), upload_to=_photo_upload_to, blank=True)
    photo_content_type = models.CharField(_("photo type"), max_length=64, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        ordering = ["examination", "item_number"]
        verbose_name = _("finding")
        verbose_name_plural = _("findings")
        constraints = [
            models.UniqueConstraint(fields=["examination", "item_number"], name="finding_one_per_item"),
        ]

    def __str__(self):
        return f"{self.examination_id}/{self.item_number}: {self.result}"

    @property
    def is_discrepancy(self) -> bool:
        return self.result != FindingResult.CONFORM


class PostClearanceAudit(models.Model):
    """A blue-lane declaration, released at once, queued for audit after clearance."""

    declaration = models.OneToOneField(
        Declaration,
        on_delete=models.CASCADE,
        related_name="post_clearance_audit",
        verbose_name=_("declaration"),
    )
    office = models.ForeignKey(
        CustomsOffice, on_delete=models.PROTECT, related_name="+", verbose_name=_("office"), db_index=False
    )
    queued_at = models.DateTimeField(_("queued at"))
    outcome = models.CharField(_("outcome"), max_length=12, choices=AuditOutcome.choices, blank=True)
    note = models.TextField(_("note"), blank=True)
    auditor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("auditor"),
    )
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        ordering = ["queued_at", "pk"]
        verbose_name = _("post-clearance audit")
        verbose_name_plural = _("post-clearance audits")
        indexes = [models.Index(fields=["office", "completed_at", "queued_at"], name="pca_queue_idx")]

    def __str__(self):
        return f"{self.declaration_id}: {self.outcome or 'open'}"


class Backtest(models.Model):
    """A run of one criterion version over the declarations registered in a past period: how many it
    would have hit, by lane, office and trader. Runs as task work, with its progress."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    version = models.ForeignKey(
        CriterionVersion,
        on_delete=models.CASCADE,
        related_name="backtests",
        verbose_name=_("criterion version"),
    )
    date_from = models.DateField(_("from"))
    date_to = models.DateField(_("to"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.PENDING)
    total = models.PositiveIntegerField(_("declarations to look at"), default=0)
    done = models.PositiveIntegerField(_("declarations looked at"), default=0)
    hits = models.PositiveIntegerField(_("hits"), default=0)
    results = models.JSONField(_("results"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("asked by")
    )
    requested_at = models.DateTimeField(_("asked at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = _("backtest")
        verbose_name_plural = _("backtests")
        constraints = [
            models.CheckConstraint(condition=Q(date_to__gte=models.F("date_from")), name="backtest_dates"),
        ]

    def __str__(self):
        return f"{self.version} {self.date_from}–{self.date_to}"

    @property
    def percent_done(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.total:  # waiting, or nothing counted yet
            return 0
        return min(100, round(100 * self.done / self.total))
