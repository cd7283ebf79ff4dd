from rest_framework.routers import DefaultRouter

from declarations.api import views

router = DefaultRouter()
router.register("declarations", views.DeclarationViewSet, basename="declaration")

app_name = "declarations-api"
urlpatterns = router.urls
