"""Notifying users: a notification row each (shown in their pages) and an e-mail, sent after commit,
to those with an address. The same alert about the same object is written once per user."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from customs.models import Notification
from customs.services.users import user_language

logger = logging.getLogger(__name__)


def notify(*, users, kind: str, subject, body, link: str = "", obj=None) -> list[Notification]:
    """Notify each of ``users`` (once per kind and object). ``subject`` and ``body`` are callables taking
    nothing, called in each user's language, or plain strings."""
    created = []
    object_type = obj._meta.label_lower if obj is not None else ""
    object_id = str(obj.pk) if obj is not None else ""
    for user in users:
        with translation.override(user_language(user)):
            subject_text = str(subject() if callable(subject) else subject)[:255]
            body_text = str(body() if callable(body) else body)
        try:
            with transaction.atomic():
                notification = Notification.objects.create(
                    user=user,
                    kind=kind,
                    subject=subject_text,
                    body=body_text,
                    link=link[:255],
                    object_type=object_type,
                    object_id=object_id,
                )
        except IntegrityError:
            continue  # already notified of this
        created.append(notification)
        if user.email:
            transaction.on_commit(lambda notification=notification: _email(notification))
    return created


def _email(notification: Notification) -> None:
    try:
        send_mail(
            notification.subject,
            f"{notification.body}\n\n{settings.SITE_URL.rstrip('/')}{notification.link}".strip(),
            settings.DEFAULT_FROM_EMAIL,
            [notification.user.email],
        )
    except Exception:  # a mail server outage must not undo the alert: it stays in the user's pages
        logger.exception("Could not e-mail notification %s", notification.pk)
        return
    Notification.objects.filter(pk=notification.pk).update(emailed_at=timezone.now())


def notification_mark_read(*, user, notification_id: int) -> None:
    Notification.objects.filter(pk=notification_id, user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
