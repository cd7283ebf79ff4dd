from django.urls import path

from tariff.api import views

app_name = "tariff-api"
urlpatterns = [path("simulate/", views.SimulateView.as_view(), name="simulate")]
