"""Code lists of the tariff fixed by the software."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class MeasureType(models.TextChoices):
    """What a measure charges. The order is the order of computation: VAT comes last, on the others."""

    IMPORT_DUTY = "import_duty", _("Import duty")
    EXPORT_DUTY = "export_duty", _("Export duty")
    EXCISE = "excise", _("Excise")
    VAT = "vat", _("VAT")


class NonTariffKind(models.TextChoices):
    LICENCE = "licence", _("Licence required")
    PERMIT = "permit", _("Permit required")
    PROHIBITED = "prohibited", _("Prohibited")
    QUOTA = "quota", _("Quota")


class FeeKind(models.TextChoices):
    FLAT = "flat", _("Flat amount per declaration")
    PERCENT = "percent", _("Percentage of the customs value, with minimum and maximum")


class FreightApportionment(models.TextChoices):
    """How declaration-level freight is split over the items (other costs always go by price)."""

    BY_PRICE = "price", _("In proportion to item invoice price")
    BY_GROSS_MASS = "gross_mass", _("In proportion to item gross mass")


class ImportKind(models.TextChoices):
    NATIONAL_LINES = "national_lines", _("National tariff lines (CSV)")
    MEASURES = "measures", _("Measures: duties, excise, VAT, preferences, reliefs (CSV)")


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    REJECTED = "rejected", _("Rejected: nothing written")
    FAILED = "failed", _("Failed: nothing written")
