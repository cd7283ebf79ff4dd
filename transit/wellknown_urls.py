"""Public, unauthenticated documents under /.well-known/ (the transit signing keys, for offline checks)."""

app_name = "well-known"
urlpatterns = []
