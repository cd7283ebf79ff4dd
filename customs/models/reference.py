"""Reference data: the code lists every declaration is validated against."""

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from customs.choices import OfficeKind, OfficeRole, ProcedureDirection


class CodeListEntry(models.Model):
    """Abstract base of a code list entry: a code, a name in the three languages, validity and a flag.

    Names fall back to English when the Russian or Turkmen one is empty.
    """

    code = models.CharField(_("code"), max_length=16, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=255)
    name_ru = models.CharField(_("name (Russian)"), max_length=255, blank=True)
    name_tk = models.CharField(_("name (Turkmen)"), max_length=255, blank=True)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        abstract = True
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"

    @property
    def name(self) -> str:
        """The name in the active language, falling back to English."""
        language = (translation.get_language() or "en")[:2]
        return getattr(self, f"name_{language}", "") or self.name_en

    def is_valid_on(self, day) -> bool:
        """True when the entry is active and its validity covers ``day``."""
        if not self.active:
            return False
        if self.valid_from and day < self.valid_from:
            return False
        return not (self.valid_to and day > self.valid_to)


class Country(CodeListEntry):
    """A country or territory, ISO 3166-1 (alpha-2 as code)."""

    alpha3 = models.CharField(_("alpha-3 code"), max_length=3, blank=True)
    numeric = models.CharField(_("numeric code"), max_length=3, blank=True)

    class Meta(CodeListEntry.Meta):
        verbose_name = _("country")
        verbose_name_plural = _("countries")


class CountryGroup(CodeListEntry):
    """A named group of countries, e.g. the CIS free-trade area, used for preferences and risk."""

    countries = models.ManyToManyField(Country, related_name="groups", verbose_name=_("countries"))

    class Meta(CodeListEntry.Meta):
        verbose_name = _("country group")
        verbose_name_plural = _("country groups")


class Currency(CodeListEntry):
    """A currency, ISO 4217, with its minor unit (number of decimals used for rounding money)."""

    numeric = models.CharField(_("numeric code"), max_length=3, blank=True)
    minor_unit = models.PositiveSmallIntegerField(_("minor unit"), default=2)

    class Meta(CodeListEntry.Meta):
        verbose_name = _("currency")
        verbose_name_plural = _("currencies")


class UnitOfMeasure(CodeListEntry):
    """A unit for supplementary quantities and specific duties (kg, l, p/st, ...)."""

    symbol = models.CharField(_("symbol"), max_length=16, blank=True)

    class Meta(CodeListEntry.Meta):
        verbose_name = _("unit of measure")
        verbose_name_plural = _("units of measure")


class PackageKind(CodeListEntry):
    """UN/ECE Recommendation 21 package kind."""

    class Meta(CodeListEntry.Meta):
        verbose_name = _("package kind")
        verbose_name_plural = _("package kinds")


class DocumentType(CodeListEntry):
    """A type of document that may be attached to a declaration (invoice, certificate of origin, ...)."""

    class Meta(CodeListEntry.Meta):
        verbose_name = _("document type")
        verbose_name_plural = _("document types")


class AdditionalProcedureCode(CodeListEntry):
    """An additional (national) procedure code refining a CPC."""

    class Meta(CodeListEntry.Meta):
        verbose_name = _("additional procedure code")
        verbose_name_plural = _("additional procedure codes")


class ProcedureCode(CodeListEntry):
    """An extended procedure code (CPC): requested procedure (2 digits) + previous procedure (2 digits)."""

    direction = models.CharField(_("direction"), max_length=2, choices=ProcedureDirection.choices)
    allowed_additional_codes = models.ManyToManyField(
        AdditionalProcedureCode,
        blank=True,
        related_name="procedure_codes",
        verbose_name=_("allowed additional procedure codes"),
    )

    class Meta(CodeListEntry.Meta):
        verbose_name = _("procedure code (CPC)")
        verbose_name_plural = _("procedure codes (CPC)")

    @property
    def requested_procedure(self) -> str:
        return self.code[:2]

    @property
    def previous_procedure(self) -> str:
        return self.code[2:4]


class TransportMode(CodeListEntry):
    """Mode of transport at the border (UN/ECE Recommendation 19)."""

    class Meta(CodeListEntry.Meta):
        verbose_name = _("transport mode")
        verbose_name_plural = _("transport modes")


class Incoterm(CodeListEntry):
    """Incoterms 2020 rule, with what the invoice price already covers, for valuation."""

    includes_main_carriage = models.BooleanField(_("includes main carriage"), default=False)
    includes_insurance = models.BooleanField(_("includes insurance"), default=False)
    includes_costs_beyond_border = models.BooleanField(_("includes costs beyond the border"), default=False)

    class Meta(CodeListEntry.Meta):
        verbose_name = _("Incoterm")
        verbose_name_plural = _("Incoterms")


class CustomsOffice(models.Model):
    """A customs office: where declarations are lodged and movements depart, pass and arrive."""

    code = models.CharField(_("code"), max_length=8, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=255)
    name_ru = models.CharField(_("name (Russian)"), max_length=255, blank=True)
    name_tk = models.CharField(_("name (Turkmen)"), max_length=255, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=OfficeKind.choices)
    roles = ArrayField(
        models.CharField(max_length=24, choices=OfficeRole.choices),
        verbose_name=_("roles"),
        default=list,
        blank=True,
    )
    country = models.ForeignKey(Country, on_delete=models.PROTECT, verbose_name=_("country"))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("customs office")
        verbose_name_plural = _("customs offices")

    def __str__(self):
        return f"{self.code} {self.name}"

    name = CodeListEntry.name

    def can(self, role: str) -> bool:
        """True when the office is active and may play ``role`` (an ``OfficeRole``)."""
        return self.active and role in self.roles


class ExchangeRate(models.Model):
    """Rate of a currency in national currency, in force from ``valid_from`` until the next one.

    ``rate`` is the national-currency amount for one unit of ``currency``; the declaration stores the
    rate it used, so history is never recomputed.
    """

    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, verbose_name=_("currency"))
    valid_from = models.DateField(_("valid from"))
    rate = models.DecimalField(_("rate"), max_digits=24, decimal_places=10)
    source = models.CharField(_("source"), max_length=255, blank=True)
    imported_at = models.DateTimeField(_("imported at"), auto_now=True)

    class Meta:
        ordering = ["currency__code", "-valid_from"]
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        constraints = [
            models.UniqueConstraint(fields=["currency", "valid_from"], name="exchange_rate_unique_per_day"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="exchange_rate_positive"),
        ]

    def __str__(self):
        return f"{self.currency_id} {self.valid_from} {self.rate}"
