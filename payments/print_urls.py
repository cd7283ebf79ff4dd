"""Receipts as PDFs."""

from django.urls import path

from payments import print_views

app_name = "receipt-prints"
urlpatterns = [
    path("<int:pk>/", print_views.receipt_pdf, name="pdf"),
]
