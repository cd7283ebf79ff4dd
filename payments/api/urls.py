"""The payments API, mounted under /api/v1/payments/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from payments.api import views

router = SimpleRouter()
router.register("payment-orders", views.PaymentOrderViewSet, basename="payment-order")
router.register("declarations", views.DeclarationPaymentViewSet, basename="declaration")
router.register("payable-declarations", views.PayableDeclarationViewSet, basename="payable-declaration")
router.register("accounts", views.PrepaidAccountViewSet, basename="account")
router.register("receipts", views.ReceiptViewSet, basename="receipt")
router.register("guarantees", views.GuaranteeViewSet, basename="guarantee")

app_name = "payments-api"
urlpatterns = [
    path("bank-callbacks/", views.BankCallbackView.as_view(), name="bank-callback"),
    *router.urls,
]
