"""Public, unauthenticated documents under /.well-known/ (the transit signing keys, for offline checks)."""

from django.urls import path

from transit import wellknown_views

app_name = "well-known"
urlpatterns = [
    path("jwks.json", wellknown_views.jwks_document, name="jwks"),
]
