"""The count of a portal user's unread notifications, for the portal header."""

from django import template

from customs.models import Notification

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_notification_count(context) -> int:
    """How many notifications the signed-in portal user has not read (0 for anyone else). One query, on
    the (user, read_at, created_at) index."""
    user = getattr(context.get("request"), "user", None)
    if user is None or not user.is_authenticated or not (user.trader_id or user.broker_id):
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()
