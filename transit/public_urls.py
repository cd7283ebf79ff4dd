"""Public pages of transit (no sign-in): the verify page for scanned documents, under /verify/."""

app_name = "transit-public"
urlpatterns = []
