"""Officer screens of the payments module, mounted under /office/payments/."""

app_name = "payments"
urlpatterns = []
