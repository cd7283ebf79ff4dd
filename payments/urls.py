"""Officer screens of the payments module, mounted under /office/payments/."""

from django.urls import path

from payments import views

app_name = "payments"
urlpatterns = [
    path("cashier/", views.cashier, name="cashier"),
    path("cashier/<int:pk>/pay/", views.cashier_pay, name="cashier-pay"),
    path("cashier/payments/<int:pk>/", views.cashier_payment, name="cashier-payment"),
    path("daybook/", views.daybook, name="daybook"),
    path("daybook/cash-up/", views.cash_up, name="cash-up"),
    path("refunds/", views.refund_list, name="refunds"),
    path("refunds/<int:pk>/approve/", views.refund_approve, name="refund-approve"),
    path("refunds/<int:pk>/refuse/", views.refund_refuse, name="refund-refuse"),
    path("statements/", views.statement_list, name="statements"),
    path("statements/<int:pk>/", views.statement_detail, name="statement"),
    path("revenue/", views.revenue, name="revenue"),
]
