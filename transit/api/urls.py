"""The transit API, mounted under /api/v1/transit/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from transit.api import views

router = SimpleRouter()
router.register("movements", views.MovementViewSet, basename="movement")

app_name = "transit-api"
urlpatterns = [
    path("border-passages/", views.BorderPassageView.as_view(), name="border-passage"),
    path("verify/", views.VerifyView.as_view(), name="verify"),
    *router.urls,
]
