"""Officer screens of transit, mounted under /office/transit/."""

app_name = "transit"
urlpatterns = []
