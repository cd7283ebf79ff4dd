"""Parties: traders, brokers and the authorisations that let a broker act for a trader."""

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from customs.choices import AeoStatus, AuthorisationScope

from .reference import Country


class Trader(models.Model):
    """An economic operator (importer, exporter, holder of a transit procedure)."""

    taxpayer_id = models.CharField(_("taxpayer ID"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=255)
    address = models.TextField(_("address"), blank=True)
    country = models.ForeignKey(Country, on_delete=models.PROTECT, verbose_name=_("country"))
    aeo_status = models.CharField(
        _("AEO status"), max_length=8, choices=AeoStatus.choices, default=AeoStatus.NONE
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("trader")
        verbose_name_plural = _("traders")

    def __str__(self):
        return f"{self.name} ({self.taxpayer_id})"

    @property
    def is_aeo(self) -> bool:
        return self.aeo_status != AeoStatus.NONE


class Broker(models.Model):
    """A licensed customs broker, who lodges declarations for traders that authorised it."""

    licence_number = models.CharField(_("licence number"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=255)
    taxpayer_id = models.CharField(_("taxpayer ID"), max_length=32, blank=True)
    address = models.TextField(_("address"), blank=True)
    licence_valid_from = models.DateField(_("licence valid from"))
    licence_valid_to = models.DateField(_("licence valid to"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("broker")
        verbose_name_plural = _("brokers")
        constraints = [
            models.CheckConstraint(
                condition=Q(licence_valid_to__isnull=True) | Q(licence_valid_to__gte=F("licence_valid_from")),
                name="broker_licence_dates_ordered",
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.licence_number})"

    def licence_valid_on(self, day) -> bool:
        if not self.active or day < self.licence_valid_from:
            return False
        return not (self.licence_valid_to and day > self.licence_valid_to)


class BrokerAuthorisation(models.Model):
    """A trader's authorisation for a broker to act for it, over a date range and a scope."""

    broker = models.ForeignKey(
        Broker, on_delete=models.CASCADE, related_name="authorisations", verbose_name=_("broker")
    )
    trader = models.ForeignKey(
        Trader, on_delete=models.CASCADE, related_name="broker_authorisations", verbose_name=_("trader")
    )
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    scope = ArrayField(
        models.CharField(max_length=16, choices=AuthorisationScope.choices),
        verbose_name=_("scope"),
        default=list,
    )
    revoked = models.BooleanField(_("revoked"), default=False)

    class Meta:
        ordering = ["trader__name", "-valid_from"]
        verbose_name = _("broker authorisation")
        verbose_name_plural = _("broker authorisations")
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")),
                name="broker_authorisation_dates_ordered",
            )
        ]

    def __str__(self):
        return f"{self.broker} → {self.trader}"

    def covers(self, day, scope: str) -> bool:
        """True when this authorisation lets the broker act in ``scope`` on ``day``."""
        if self.revoked or scope not in self.scope or day < self.valid_from:
            return False
        return not (self.valid_to and day > self.valid_to)
