"""Officers' and supervisors' screens: worklist, examinations, post-clearance audits, overrides."""

from django.urls import path

from risk import officer_views as views

urlpatterns: list = [
    path("worklist/", views.worklist, name="worklist"),
    path("examinations/", views.office_examinations, name="office-examinations"),
    path("examinations/<int:pk>/", views.examination_detail, name="examination"),
    path("examinations/<int:pk>/accept/", views.examination_accept, name="examination-accept"),
    path("examinations/<int:pk>/query/", views.examination_query, name="examination-query"),
    path(
        "examinations/<int:pk>/items/<int:item_number>/finding/",
        views.finding_save,
        name="examination-finding",
    ),
    path("examinations/<int:pk>/complete/", views.examination_complete, name="examination-complete"),
    path("examinations/<int:pk>/reassign/", views.examination_reassign, name="examination-reassign"),
    path("findings/<int:pk>/photo/", views.finding_photo, name="finding-photo"),
    path("declarations/<int:pk>/lane/", views.declaration_lane, name="declaration-lane"),
    path("audits/", views.audit_list, name="audits"),
    path("audits/<int:pk>/", views.audit_detail, name="audit"),
]
