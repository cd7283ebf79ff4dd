"""Public pages of transit (no sign-in): the verify page for scanned documents, under /verify/."""

from django.urls import path

from transit import public_views

app_name = "transit-public"
urlpatterns = [
    path("", public_views.verify, name="verify"),
]
