"""Officer screens of the declarations module (finder, declaration view, actions)."""

from django.urls import path

from declarations import views

app_name = "declarations"
urlpatterns = [
    path("", views.finder, name="finder"),
    path("time-release/", views.time_release, name="time-release"),
    path("release-check/", views.release_check, name="release-check"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/action/<slug:name>/", views.action, name="action"),
    path("<int:pk>/documents/<int:document_pk>/file/", views.document_file, name="document-file"),
]
