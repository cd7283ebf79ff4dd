"""The production URLs plus ``/bench/trivial/``: a JSON view that does no work, through the same
middleware and gunicorn, to measure the framework's own cost per request."""

from django.http import JsonResponse
from django.urls import path

from customs.urls import urlpatterns as production_urlpatterns


def trivial(request):
    """No database, no template: what a request costs before the application does anything."""
    return JsonResponse({"ok": True})


urlpatterns = [path("bench/trivial/", trivial, name="bench-trivial"), *production_urlpatterns]
