"""Printed documents of a declaration (assessment notice, SAD)."""

app_name = "declaration-prints"
urlpatterns: list = []
