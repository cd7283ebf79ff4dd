"""The national tariff: nomenclature lines and the measures, fees and restrictions on them.

Everything is effective-dated (``valid_from`` .. ``valid_to``, both inclusive, ``valid_to`` empty = open),
so a declaration is always assessed with the tariff in force on its date.
"""

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models import F, Q
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from customs.models import Country, CountryGroup, DocumentType, ProcedureCode, UnitOfMeasure
from tariff.choices import FeeKind, ImportKind, ImportStatus, MeasureType, NonTariffKind


def _dates_ordered(name):
    return models.CheckConstraint(
        condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")), name=name
    )


class TariffSection(models.Model):
    """One of the 21 sections of the Harmonized System (Roman numeral)."""

    code = models.CharField(_("code"), max_length=5, unique=True)
    position = models.PositiveSmallIntegerField(_("position"), unique=True)
    name_en = models.TextField(_("name (English)"))
    name_ru = models.TextField(_("name (Russian)"), blank=True)
    name_tk = models.TextField(_("name (Turkmen)"), blank=True)

    class Meta:
        ordering = ["position"]
        verbose_name = _("tariff section")
        verbose_name_plural = _("tariff sections")

    def __str__(self):
        return f"{self.code} {self.name_en}"


class CommodityCode(models.Model):
    """A line of the nomenclature: chapter (2 digits), heading (4), subheading (6) or national line (8, 10).

    Only leaves (lines without children in force) are declarable. A change of description or unit is a
    new row with a new ``valid_from``; the old row gets ``valid_to``.
    """

    code = models.CharField(_("code"), max_length=10, db_index=True)
    level = models.PositiveSmallIntegerField(_("level (digits)"))
    section = models.ForeignKey(TariffSection, on_delete=models.PROTECT, verbose_name=_("section"))
    parent_code = models.CharField(_("parent code"), max_length=10, blank=True, db_index=True)
    description_en = models.TextField(_("description (English)"))
    description_ru = models.TextField(_("description (Russian)"), blank=True)
    description_tk = models.TextField(_("description (Turkmen)"), blank=True)
    supplementary_unit = models.ForeignKey(
        UnitOfMeasure, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("supplementary unit")
    )
    declarable = models.BooleanField(_("declarable"), default=False)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    # Maintained by PostgreSQL itself, so admin edits and imports are searchable at once.
    search_vector = models.GeneratedField(
        expression=SearchVector("description_en", config="english", weight="A")
        + SearchVector("description_ru", config="russian", weight="A")
        + SearchVector("description_tk", config="simple", weight="A"),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta:
        ordering = ["code", "valid_from"]
        verbose_name = _("commodity code")
        verbose_name_plural = _("commodity codes")
        constraints = [
            models.UniqueConstraint(fields=["code", "valid_from"], name="commodity_code_unique_per_start"),
            models.CheckConstraint(
                condition=Q(level__in=[2, 4, 6, 8, 10]), name="commodity_code_level_valid"
            ),
            models.CheckConstraint(condition=Q(code__regex=r"^[0-9]{2,10}$"), name="commodity_code_digits"),
            _dates_ordered("commodity_code_dates_ordered"),
        ]
        indexes = [GinIndex(fields=["search_vector"], name="commodity_code_search_idx")]

    def __str__(self):
        return f"{self.code} {self.description}"

    @property
    def description(self) -> str:
        language = (translation.get_language() or "en")[:2]
        return getattr(self, f"description_{language}", "") or self.description_en


class Measure(models.Model):
    """A duty, excise or VAT rate on every line whose code starts with ``commodity_prefix``.

    - ``origin_country``/``origin_group`` empty: erga omnes (all origins); else a preferential rate that
      applies only when the declarant asks for the preference and attaches ``required_document``.
    - ``procedure_code`` set: a relief for that CPC, applied only with ``required_document`` attached.
    The most specific measure wins: relief, then preference, then the longest prefix.
    """

    measure_type = models.CharField(_("measure type"), max_length=16, choices=MeasureType.choices)
    commodity_prefix = models.CharField(
        _("commodity code prefix"), max_length=10, blank=True, help_text=_("Empty: every line.")
    )
    expression = models.CharField(
        _("duty expression"), max_length=255, help_text=_("e.g. 12%, 0.50 EUR/kg, 10% MIN 0.20 EUR/kg")
    )
    origin_country = models.ForeignKey(
        Country, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("origin country")
    )
    origin_group = models.ForeignKey(
        CountryGroup, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("origin group")
    )
    procedure_code = models.ForeignKey(
        ProcedureCode, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("relief for procedure")
    )
    required_document = models.ForeignKey(
        DocumentType, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("required document")
    )
    legal_base = models.CharField(_("legal base"), max_length=255, blank=True)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)

    class Meta:
        ordering = ["commodity_prefix", "measure_type", "valid_from"]
        verbose_name = _("measure")
        verbose_name_plural = _("measures")
        constraints = [
            _dates_ordered("measure_dates_ordered"),
            models.CheckConstraint(
                condition=Q(origin_country__isnull=True) | Q(origin_group__isnull=True),
                name="measure_one_origin_kind",
            ),
            models.CheckConstraint(
                condition=Q(commodity_prefix__regex=r"^[0-9]{0,10}$"), name="measure_prefix_digits"
            ),
        ]
        indexes = [models.Index(fields=["commodity_prefix", "measure_type"], name="measure_prefix_idx")]

    def __str__(self):
        return f"{self.get_measure_type_display()} {self.commodity_prefix or '*'}: {self.expression}"

    @property
    def is_preferential(self) -> bool:
        return self.origin_country_id is not None or self.origin_group_id is not None

    @property
    def is_relief(self) -> bool:
        return self.procedure_code_id is not None


class NonTariffMeasure(models.Model):
    """A licence, permit, prohibition or quota on lines starting with ``commodity_prefix``,
    for all origins or one country or group."""

    kind = models.CharField(_("kind"), max_length=16, choices=NonTariffKind.choices)
    commodity_prefix = models.CharField(_("commodity code prefix"), max_length=10)
    origin_country = models.ForeignKey(
        Country, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("origin country")
    )
    origin_group = models.ForeignKey(
        CountryGroup, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("origin group")
    )
    document_type = models.ForeignKey(
        DocumentType, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("document required")
    )
    description = models.CharField(_("description"), max_length=255, blank=True)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)

    class Meta:
        ordering = ["commodity_prefix", "kind"]
        verbose_name = _("non-tariff measure")
        verbose_name_plural = _("non-tariff measures")
        constraints = [_dates_ordered("non_tariff_measure_dates_ordered")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.commodity_prefix}"


class CustomsFee(models.Model):
    """A fee per declaration: flat, or a percentage of the total customs value with a minimum and maximum,
    in national currency."""

    code = models.CharField(_("code"), max_length=16)
    name_en = models.CharField(_("name (English)"), max_length=255)
    name_ru = models.CharField(_("name (Russian)"), max_length=255, blank=True)
    name_tk = models.CharField(_("name (Turkmen)"), max_length=255, blank=True)
    kind = models.CharField(_("kind"), max_length=8, choices=FeeKind.choices)
    direction = models.CharField(
        _("applies to"), max_length=2, choices=[("IM", _("Import")), ("EX", _("Export"))]
    )
    amount = models.DecimalField(_("flat amount"), max_digits=14, decimal_places=2, null=True, blank=True)
    percent = models.DecimalField(_("percent"), max_digits=7, decimal_places=4, null=True, blank=True)
    minimum = models.DecimalField(_("minimum"), max_digits=14, decimal_places=2, null=True, blank=True)
    maximum = models.DecimalField(_("maximum"), max_digits=14, decimal_places=2, null=True, blank=True)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)

    class Meta:
        ordering = ["code", "valid_from"]
        verbose_name = _("customs fee")
        verbose_name_plural = _("customs fees")
        constraints = [
            _dates_ordered("customs_fee_dates_ordered"),
            models.CheckConstraint(
                condition=(Q(kind="flat") & Q(amount__isnull=False))
                | (Q(kind="percent") & Q(percent__isnull=False)),
                name="customs_fee_kind_has_its_figure",
            ),
            models.CheckConstraint(
                condition=Q(minimum__isnull=True) | Q(maximum__isnull=True) | Q(maximum__gte=F("minimum")),
                name="customs_fee_min_not_above_max",
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.name_en}"


class TariffImport(models.Model):
    """A tariff file uploaded by an administrator and imported in the background (Celery), with its
    progress (kept in Redis while it runs) and its report (rejected rows with reasons)."""

    kind = models.CharField(_("kind"), max_length=16, choices=ImportKind.choices)
    file = models.FileField(_("file"), upload_to="tariff-imports/%Y/")
    valid_from = models.DateField(
        _("in force from"), help_text=_("For national lines without their own dates.")
    )
    dry_run = models.BooleanField(
        _("dry run"), default=False, help_text=_("Check and count only; write nothing.")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    summary = models.TextField(_("summary"), blank=True)
    report = models.JSONField(_("report"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("tariff import")
        verbose_name_plural = _("tariff imports")

    def __str__(self):
        return f"{self.get_kind_display()} {self.created_at:%Y-%m-%d %H:%M}"
