from django.urls import path

from portal import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("tariff/", views.tariff_browse, name="tariff"),
    path("tariff/simulator/", views.tariff_simulator, name="tariff-simulator"),
    path("tariff/<str:code>/", views.tariff_line, name="tariff-line"),
]
