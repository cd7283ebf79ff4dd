"""The transit API, mounted under /api/v1/transit/."""

app_name = "transit-api"
urlpatterns = []
