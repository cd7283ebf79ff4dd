"""Notifications to users: shown in their pages (portal and office) and, when the user has an e-mail
address, sent by e-mail. Written by ``customs.services.notifications``."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    """One message to one user, with a link to what it is about."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("user"),
    )
    kind = models.CharField(_("kind"), max_length=48)
    subject = models.CharField(_("subject"), max_length=255)
    body = models.TextField(_("message"), blank=True)
    link = models.CharField(_("link"), max_length=255, blank=True)
    object_type = models.CharField(_("about"), max_length=64, blank=True)
    object_id = models.CharField(_("about (id)"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            # One notification of a kind per user and object: an alert sent twice is one alert.
            models.UniqueConstraint(
                fields=["user", "kind", "object_type", "object_id"], name="notification_once_per_object"
            ),
        ]
        indexes = [models.Index(fields=["user", "read_at", "created_at"], name="notification_unread_idx")]

    def __str__(self):
        return f"{self.user} {self.subject}"
