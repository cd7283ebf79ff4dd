"""Risk analysts' screens: criteria, their versions, backtests and statistics (names under ``risk:``)."""

urlpatterns: list = []
