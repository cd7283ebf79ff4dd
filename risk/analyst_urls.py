"""Risk analysts' screens: criteria, their versions, backtests and statistics (names under ``risk:``)."""

from django.urls import path

from risk import analyst_views as views

urlpatterns: list = [
    path("criteria/", views.criteria, name="criteria"),
    path("criteria/new/", views.criterion_new, name="criterion-new"),
    path("criteria/<int:pk>/", views.criterion, name="criterion"),
    path("criteria/<int:pk>/edit/", views.criterion_edit, name="criterion-edit"),
    path("criteria/<int:pk>/live/", views.criterion_live, name="criterion-live"),
    path("criteria/<int:pk>/backtest/", views.criterion_backtest, name="criterion-backtest"),
    path("backtests/<int:pk>/", views.backtest, name="backtest"),
    path("backtests/<int:pk>/status/", views.backtest_status, name="backtest-status"),
    path("random-rates/", views.random_rates, name="random-rates"),
]
