"""The payments API, mounted under /api/v1/payments/."""

app_name = "payments-api"
urlpatterns = []
