from rest_framework.routers import DefaultRouter

from declarations.api import imports, views

router = DefaultRouter()
router.register("declarations", views.DeclarationViewSet, basename="declaration")
router.register("declaration-imports", imports.DeclarationImportViewSet, basename="declaration-import")

app_name = "declarations-api"
urlpatterns = router.urls
