from rest_framework.routers import DefaultRouter

from customs.api import views

router = DefaultRouter()
router.register("countries", views.CountryViewSet)
router.register("country-groups", views.CountryGroupViewSet)
router.register("currencies", views.CurrencyViewSet)
router.register("units", views.UnitOfMeasureViewSet)
router.register("package-kinds", views.PackageKindViewSet)
router.register("document-types", views.DocumentTypeViewSet)
router.register("procedure-codes", views.ProcedureCodeViewSet)
router.register("transport-modes", views.TransportModeViewSet)
router.register("incoterms", views.IncotermViewSet)
router.register("offices", views.CustomsOfficeViewSet)
router.register("exchange-rates", views.ExchangeRateViewSet)

app_name = "customs-api"
urlpatterns = router.urls
