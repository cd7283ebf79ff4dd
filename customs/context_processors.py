"""Template context shared by every page."""

from django.conf import settings


def kerwen(request):
    return {
        "KERWEN_NATIONAL_CURRENCY": settings.NATIONAL_CURRENCY,
        "request_id": getattr(request, "request_id", ""),
    }
