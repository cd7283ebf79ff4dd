"""The pull API of events: ``GET /api/v1/events/?after=<cursor>``, for traders' and brokers' systems.

Everything a webhook delivers is here too, in the same envelope, so that nothing is lost while a
receiver is down: read pages until ``has_more`` is false, keep the last ``cursor``, and start from it next
time. No event is missed or repeated across pages (``customs.services.events``).
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from customs.api.authentication import HasApiScope
from customs.choices import ApiScope
from customs.services.events import PAGE_DEFAULT, PAGE_MAX, BadCursor, cursor_of, event_envelope, event_page


class IsTraderOrBroker(permissions.BasePermission):
    message = _("Events are for the systems of traders and brokers.")

    def has_permission(self, request, view):
        user = request.user
        return bool(getattr(user, "trader_id", None) or getattr(user, "broker_id", None))


_EVENTS = inline_serializer(
    "Event",
    many=True,
    fields={
        "id": serializers.IntegerField(),
        "type": serializers.CharField(),
        "occurred_at": serializers.DateTimeField(),
        "subject": inline_serializer(
            "EventSubject",
            {
                "type": serializers.CharField(),
                "id": serializers.IntegerField(),
                "reference": serializers.CharField(),
            },
        ),
        "data": serializers.DictField(),
        "cursor": serializers.CharField(),
    },
)


class EventListView(APIView):
    permission_classes = [permissions.IsAuthenticated, HasApiScope, IsTraderOrBroker]
    required_scope = ApiScope.EVENTS_READ

    @extend_schema(
        operation_id="events_list",
        summary="Events of your declarations and movements since a cursor",
        parameters=[
            OpenApiParameter(
                "after",
                OpenApiTypes.STR,
                description="The cursor of the last event read; empty: from the start",
            ),
            OpenApiParameter(
                "limit",
                OpenApiTypes.INT,
                description=f"Events per page ({PAGE_DEFAULT} by default, {PAGE_MAX} at most)",
            ),
        ],
        responses={
            200: inline_serializer(
                "EventPage",
                {
                    "events": _EVENTS,
                    "cursor": serializers.CharField(),
                    "has_more": serializers.BooleanField(),
                },
            )
        },
        tags=["events"],
    )
    def get(self, request):
        try:
            limit = int(request.query_params.get("limit") or PAGE_DEFAULT)
        except ValueError:
            raise exceptions.ValidationError({"limit": [_("Give a whole number.")]}) from None
        try:
            page = event_page(user=request.user, after=request.query_params.get("after", ""), limit=limit)
        except BadCursor:
            raise exceptions.ValidationError(
                {"after": [_("This is not a cursor that Kerwen gave.")]}
            ) from None
        return Response(
            {
                "events": [{**event_envelope(event), "cursor": cursor_of(event)} for event in page.events],
                "cursor": page.cursor,
                "has_more": page.has_more,
            }
        )
