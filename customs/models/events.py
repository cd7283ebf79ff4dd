"""Events for traders' systems: every state change of a declaration or a transit movement, kept in order,
delivered to the webhook endpoints of the parties concerned and readable through the API by cursor.

Written by ``customs.services.events`` (called by the declarations' and transit services, in the same
transaction as the change) and ``customs.services.webhooks``.
"""

import secrets

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import BrinIndex
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .parties import Broker, Trader


class Event(models.Model):
    """One state change, as the parties' systems receive it.

    ``transaction_id`` is the PostgreSQL transaction that wrote it (``pg_current_xact_id()``): the pull
    API pages by ``(transaction_id, id)`` and shows only events of transactions older than every
    transaction still running, so an event committed late is never skipped by a reader that went past
    its id (``customs.services.events.event_page``).
    ``trader`` and ``broker`` are the parties that see it: the trader of the declaration (or the
    principal of the movement) and the broker who declared, if any.
    """

    kind = models.CharField(_("kind"), max_length=48)
    subject_type = models.CharField(_("about"), max_length=24)
    subject_id = models.BigIntegerField(_("about (id)"))
    subject_reference = models.CharField(_("reference"), max_length=64, blank=True)
    trader = models.ForeignKey(
        Trader, null=True, blank=True, on_delete=models.PROTECT, db_index=False, related_name="+"
    )
    broker = models.ForeignKey(
        Broker, null=True, blank=True, on_delete=models.PROTECT, db_index=False, related_name="+"
    )
    payload = models.JSONField(_("data"), default=dict)
    occurred_at = models.DateTimeField(_("occurred at"))
    transaction_id = models.BigIntegerField(_("transaction"))

    class Meta:
        ordering = ["transaction_id", "id"]
        verbose_name = _("event")
        verbose_name_plural = _("events")
        indexes = [
            models.Index(fields=["trader", "transaction_id", "id"], name="event_trader_cursor_idx"),
            models.Index(fields=["broker", "transaction_id", "id"], name="event_broker_cursor_idx"),
            models.Index(fields=["subject_type", "subject_id"], name="event_subject_idx"),
            # The daily purge of old events: rows come in time order, so a BRIN index is tiny and cheap.
            BrinIndex(fields=["occurred_at"], name="event_occurred_brin"),
        ]

    def __str__(self):
        return f"{self.kind} {self.subject_reference}"


def webhook_secret_new() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


class WebhookEndpoint(models.Model):
    """A URL of a trader's or broker's system that receives their events as signed JSON POSTs.

    ``kinds`` empty: every kind. ``secret`` signs each delivery (HMAC-SHA256 over ``<timestamp>.<body>``).
    """

    trader = models.ForeignKey(
        Trader,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="webhook_endpoints",
        verbose_name=_("trader"),
    )
    broker = models.ForeignKey(
        Broker,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="webhook_endpoints",
        verbose_name=_("broker"),
    )
    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    kinds = ArrayField(models.CharField(max_length=48), verbose_name=_("events"), default=list, blank=True)
    secret = models.CharField(_("signing secret"), max_length=80, default=webhook_secret_new)
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        "customs.User", on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        constraints = [
            models.CheckConstraint(
                condition=Q(trader__isnull=False, broker__isnull=True)
                | Q(trader__isnull=True, broker__isnull=False),
                name="webhook_endpoint_one_owner",
            ),
        ]

    def __str__(self):
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed (gave up)")


class WebhookDelivery(models.Model):
    """One event to one endpoint, tried until it is accepted (a 2xx answer) or retries run out.

    ``next_attempt_at``: when the next try is due (the sweeper sends what is due); a worker that takes a
    delivery moves it forward first, so two workers never post the same delivery at once.
    ``replay_of``: a delivery sent again on the owner's request.
    """

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("endpoint")
    )
    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="+", verbose_name=_("event"))
    status = models.CharField(
        _("status"), max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("last answer"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"))
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    replay_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("replay of"),
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [
            models.Index(fields=["endpoint", "-created_at"], name="webhook_delivery_endpoint_idx"),
            models.Index(
                fields=["next_attempt_at"], condition=Q(status="pending"), name="webhook_delivery_due_idx"
            ),
        ]

    def __str__(self):
        return f"{self.event} → {self.endpoint}"


class WebhookAttempt(models.Model):
    """One POST of a delivery: when, what came back, how long it took (the delivery log)."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log", verbose_name=_("delivery")
    )
    number = models.PositiveSmallIntegerField(_("attempt"))
    attempted_at = models.DateTimeField(_("at"))
    status_code = models.PositiveSmallIntegerField(_("answer"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=255, blank=True)
    response_excerpt = models.CharField(_("answer (start)"), max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"))

    class Meta:
        ordering = ["delivery", "number"]
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_number_unique"),
        ]

    def __str__(self):
        return f"{self.delivery} #{self.number}"
