"""Transit accompanying documents as PDFs."""

from django.urls import path

from transit import print_views

app_name = "transit-prints"
urlpatterns = [
    path("<int:pk>/tad/", print_views.tad_original, name="tad"),
    path("<int:pk>/tad/reprint/", print_views.tad_reprint, name="reprint"),
    path("<int:pk>/tad/<int:print_id>/", print_views.tad_print, name="print"),
]
