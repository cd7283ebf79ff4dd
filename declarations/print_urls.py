"""Printed documents of a declaration (assessment notice, SAD, release order), and its WCO DM XML."""

from django.urls import path

from declarations import print_views

app_name = "declaration-prints"
urlpatterns = [
    path("<int:pk>/assessment-notice/", print_views.assessment_notice, name="assessment-notice"),
    path("<int:pk>/sad/", print_views.sad, name="sad"),
    path("<int:pk>/release-order/", print_views.release_order, name="release-order"),
    path("<int:pk>/prints/<int:print_id>/status/", print_views.print_status, name="status"),
    path("<int:pk>/wcodm.xml", print_views.wcodm, name="wcodm"),
]
