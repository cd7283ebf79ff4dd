"""The append-only audit trail, hash-chained so that an edited or deleted row is detectable."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    """One audited action. Written only by ``customs.services.audit.audit_record`` inside the
    transaction of the change it records. ``hash`` covers the row's content and ``previous_hash``,
    so the rows form a chain; a database trigger refuses UPDATE and DELETE.
    """

    sequence = models.BigIntegerField(_("sequence"), unique=True, editable=False)
    occurred_at = models.DateTimeField(_("occurred at"), db_index=True, editable=False)
    action = models.CharField(_("action"), max_length=128, editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("actor"),
        editable=False,
    )
    actor_username = models.CharField(_("actor user name"), max_length=150, blank=True, editable=False)
    office_code = models.CharField(_("office"), max_length=8, blank=True, editable=False)
    request_id = models.CharField(_("request id"), max_length=64, blank=True, editable=False)
    object_type = models.CharField(_("object type"), max_length=100, blank=True, editable=False)
    object_id = models.CharField(_("object id"), max_length=64, blank=True, editable=False)
    object_repr = models.CharField(_("object"), max_length=255, blank=True, editable=False)
    before = models.JSONField(_("before"), null=True, blank=True, editable=False)
    after = models.JSONField(_("after"), null=True, blank=True, editable=False)
    previous_hash = models.CharField(_("previous hash"), max_length=64, editable=False)
    hash = models.CharField(_("hash"), max_length=64, editable=False)

    class Meta:
        ordering = ["-sequence"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        # Every service call appends an event, so only the indexes that lookups use: an object's history,
        # the admin's filters by action and office. (No LIKE indexes: the admin's search is a substring
        # search, which no b-tree serves; none on the hash, which nothing looks up: the chain is
        # checked in sequence order.)
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object_idx"),
            models.Index(fields=["action"], name="audit_action_idx"),
            models.Index(fields=["office_code"], name="audit_office_idx"),
        ]

    def __str__(self):
        return f"#{self.sequence} {self.action} {self.object_repr}"


class AuditChainHead(models.Model):
    """The chain's last link, one row: the sequence and hash of the newest audit event.

    Appending locks this row, reads it, and moves it on with the new event in one statement, so an
    append is two statements (an advisory lock and a read of the newest event made three), and the
    lock is the row's. ``audit_verify`` checks that it names the newest event: deleting the newest
    events, which leaves no broken link behind, shows there.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    sequence = models.BigIntegerField(_("sequence"), editable=False)
    hash = models.CharField(_("hash"), max_length=64, editable=False)

    class Meta:
        verbose_name = _("audit chain head")
        verbose_name_plural = _("audit chain head")
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="audit_chain_head_one_row")]

    def __str__(self):
        return f"#{self.sequence} {self.hash[:12]}"
