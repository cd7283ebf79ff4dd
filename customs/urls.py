"""Root URL configuration. Apps are included by dotted path (strings), so the project package imports
no app to its right (STYLE.md layers)."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from customs import views
from customs.api.events import EventListView
from customs.auth import views as auth

urlpatterns = [
    path("", views.home, name="home"),
    path("office/", views.officer_home, name="officer-home"),
    path("office/notifications/<int:pk>/read/", views.notification_read, name="notification-read"),
    path("accounts/login/", auth.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/two-factor/", auth.second_factor_verify, name="second-factor"),
    path("accounts/two-factor/setup/", auth.second_factor_setup, name="second-factor-setup"),
    path("webauthn/", include("django_otp_webauthn.urls", namespace="otp_webauthn")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/login/", RedirectView.as_view(pattern_name="login", query_string=True)),
    path("admin/", admin.site.urls),
    path("office/declarations/", include("declarations.urls")),
    path("documents/declarations/", include("declarations.print_urls")),
    path("office/risk/", include("risk.urls")),
    path("office/payments/", include("payments.urls")),
    path("documents/receipts/", include("payments.print_urls")),
    path("office/transit/", include("transit.urls")),
    path("documents/transit/", include("transit.print_urls")),
    path("verify/", include("transit.public_urls")),
    path("portal/", include("portal.urls")),
    path("api/v1/customs/", include("customs.api.urls")),
    path("api/v1/tariff/", include("tariff.api.urls")),
    path("api/v1/payments/", include("payments.api.urls")),
    path("api/v1/transit/", include("transit.api.urls")),
    path("api/v1/events/", EventListView.as_view(), name="api-events"),
    path("api/v1/", include("declarations.api.urls")),
    path(".well-known/", include("transit.wellknown_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

admin.site.site_header = "Kerwen"
admin.site.site_title = "Kerwen"
# Uploaded files (attached documents, printed PDFs) are never served from MEDIA_URL, even with DEBUG:
# each is read through a view that checks who may see its declaration.
