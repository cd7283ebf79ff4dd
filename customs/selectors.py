"""Reads of the shared kernel, scoped to the user where it matters."""

import datetime

from django.db.models import Q, QuerySet
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from customs.choices import AuthorisationScope
from customs.models import AuditEvent, BrokerAuthorisation, CustomsOffice, Trader, User
from customs.models.events import Event, WebhookDelivery, WebhookEndpoint


def user_has_second_factor(user: User) -> bool:
    """True when the user has a confirmed TOTP device or a passkey."""
    return (
        TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        or WebAuthnCredential.objects.filter(user=user, confirmed=True).exists()
    )


def office_list_for_user(user: User) -> QuerySet[CustomsOffice]:
    """The active offices a staff member is assigned to (all of them for a superuser)."""
    offices = CustomsOffice.objects.filter(active=True)
    if user.is_superuser:
        return offices
    return offices.filter(staff=user)


def trader_list_for_user(user: User, *, on_day: datetime.date, scope: str = AuthorisationScope.IMPORT):
    """Traders the user may act for on ``on_day``: its own trader, or those that authorised its broker."""
    if user.trader_id:
        return Trader.objects.filter(pk=user.trader_id, active=True)
    if user.broker_id:
        authorisations = BrokerAuthorisation.objects.filter(
            broker_id=user.broker_id,
            revoked=False,
            scope__contains=[scope],
            valid_from__lte=on_day,
        ).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on_day))
        return Trader.objects.filter(active=True, broker_authorisations__in=authorisations).distinct()
    return Trader.objects.none()


def audit_event_list_for_object(obj) -> QuerySet[AuditEvent]:
    """The history of one object, newest first."""
    return AuditEvent.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk)).select_related(
        "actor"
    )


def notification_list_for_user(user, *, unread_only: bool = False, limit: int = 50):
    """The user's own notifications, newest first."""
    from customs.models import Notification

    notifications = Notification.objects.filter(user=user)
    if unread_only:
        notifications = notifications.filter(read_at__isnull=True)
    return notifications.order_by("-created_at", "-pk")[:limit]


# --- Events and webhooks of traders' systems -------------------------------------------------------


def event_list_for_user(user):
    """The events a user's systems may read: their trader's, or their broker's."""
    if getattr(user, "trader_id", None):
        return Event.objects.filter(trader_id=user.trader_id)
    if getattr(user, "broker_id", None):
        return Event.objects.filter(broker_id=user.broker_id)
    return Event.objects.none()


def webhook_endpoint_list_for_user(user):
    """The endpoints a user manages: their broker's or their trader's."""
    if getattr(user, "broker_id", None):
        return WebhookEndpoint.objects.filter(broker_id=user.broker_id)
    if getattr(user, "trader_id", None):
        return WebhookEndpoint.objects.filter(trader_id=user.trader_id)
    return WebhookEndpoint.objects.none()


def webhook_delivery_list_for_user(user):
    """The deliveries to the user's endpoints, newest first, for the delivery log."""
    return (
        WebhookDelivery.objects.filter(endpoint__in=webhook_endpoint_list_for_user(user))
        .select_related("endpoint", "event")
        .order_by("-created_at", "-pk")
    )
