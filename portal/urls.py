from django.urls import path

from portal import declaration_views, views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("tariff/", views.tariff_browse, name="tariff"),
    path("tariff/simulator/", views.tariff_simulator, name="tariff-simulator"),
    path("tariff/<str:code>/", views.tariff_line, name="tariff-line"),
    path("declarations/", declaration_views.declaration_list, name="declaration-list"),
    path("declarations/new/", declaration_views.declaration_new, name="declaration-new"),
    path("declarations/<int:pk>/", declaration_views.declaration_page, name="declaration-detail"),
    path("declarations/<int:pk>/edit/", declaration_views.declaration_edit, name="declaration-edit"),
    path("declarations/<int:pk>/lodge/", declaration_views.declaration_lodge_view, name="declaration-lodge"),
    path(
        "declarations/<int:pk>/documents/",
        declaration_views.declaration_document_add,
        name="declaration-document-add",
    ),
    path(
        "declarations/<int:pk>/documents/<int:document_pk>/remove/",
        declaration_views.declaration_document_delete,
        name="declaration-document-remove",
    ),
    path(
        "declarations/<int:pk>/documents/<int:document_pk>/file/",
        declaration_views.declaration_document_file,
        name="declaration-document-file",
    ),
    path("declarations/<int:pk>/amend/", declaration_views.declaration_amend, name="declaration-amend"),
    path(
        "declarations/<int:pk>/<slug:action>/",
        declaration_views.declaration_command,
        name="declaration-command",
    ),
]
