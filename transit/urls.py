"""Officer screens of transit, mounted under /office/transit/."""

from django.urls import path

from transit import views

app_name = "transit"
urlpatterns = [
    path("", views.finder, name="finder"),
    path("border/", views.border, name="border"),
    path("destination/", views.destination, name="destination"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/release/", views.release, name="release"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
    path("<int:pk>/passage/", views.passage, name="passage"),
    path("<int:pk>/arrival/", views.arrival, name="arrival"),
    path("<int:pk>/discharge/", views.discharge, name="discharge"),
]
