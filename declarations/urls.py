"""Officer screens of the declarations module (finder, declaration view, actions)."""

app_name = "declarations"
urlpatterns: list = []
