"""Gap-free document numbering per office, year and series."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class DocumentSequence(models.Model):
    """The last number given in one series of one office and year (e.g. TMA01 2026 C).

    Incremented only by ``customs.services.numbering.number_next`` under a row lock, inside the caller's
    transaction: a rolled-back caller gives its number back, so the series has no gaps.
    """

    office_code = models.CharField(_("office"), max_length=8)
    year = models.PositiveSmallIntegerField(_("year"))
    series = models.CharField(_("series"), max_length=4)
    last_number = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("document sequence")
        verbose_name_plural = _("document sequences")
        constraints = [
            models.UniqueConstraint(
                fields=["office_code", "year", "series"], name="document_sequence_unique"
            ),
            models.CheckConstraint(condition=Q(last_number__gte=0), name="document_sequence_non_negative"),
        ]

    def __str__(self):
        return f"{self.office_code} {self.year} {self.series}: {self.last_number}"
