from django.urls import path

from portal import declaration_views, import_views, payment_views, transit_views, views, webhook_views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("tariff/", views.tariff_browse, name="tariff"),
    path("tariff/simulator/", views.tariff_simulator, name="tariff-simulator"),
    path("tariff/<str:code>/", views.tariff_line, name="tariff-line"),
    path("declarations/", declaration_views.declaration_list, name="declaration-list"),
    path("declarations/new/", declaration_views.declaration_new, name="declaration-new"),
    # Imports of declaration files (ASYCUDA World, WCO DM 3.6) as drafts, with their reports.
    path("declarations/import/", import_views.declaration_import_upload, name="declaration-import"),
    path("declarations/imports/", import_views.declaration_import_list, name="declaration-import-list"),
    path(
        "declarations/imports/<int:pk>/",
        import_views.declaration_import_page,
        name="declaration-import-detail",
    ),
    path("declarations/<int:pk>/", declaration_views.declaration_page, name="declaration-detail"),
    path("declarations/<int:pk>/edit/", declaration_views.declaration_edit, name="declaration-edit"),
    path("declarations/<int:pk>/lodge/", declaration_views.declaration_lodge_view, name="declaration-lodge"),
    path(
        "declarations/<int:pk>/documents/",
        declaration_views.declaration_document_add,
        name="declaration-document-add",
    ),
    path(
        "declarations/<int:pk>/documents/<int:document_pk>/remove/",
        declaration_views.declaration_document_delete,
        name="declaration-document-remove",
    ),
    path(
        "declarations/<int:pk>/documents/<int:document_pk>/file/",
        declaration_views.declaration_document_file,
        name="declaration-document-file",
    ),
    path("declarations/<int:pk>/amend/", declaration_views.declaration_amend, name="declaration-amend"),
    path(
        "declarations/<int:pk>/<slug:action>/",
        declaration_views.declaration_command,
        name="declaration-command",
    ),
    # Payments: the payer's side (trader users, and brokers authorised for payments).
    path("payments/", payment_views.payment_home, name="payment-home"),
    path(
        "payments/accounts/<int:trader_pk>/statement/",
        payment_views.account_statement_view,
        name="payment-statement",
    ),
    path("payments/orders/", payment_views.order_list, name="payment-order-list"),
    path("payments/orders/new/", payment_views.order_create, name="payment-order-create"),
    path("payments/orders/top-up/", payment_views.top_up, name="payment-top-up"),
    path("payments/orders/<str:reference>/", payment_views.order_detail, name="payment-order-detail"),
    path("payments/orders/<str:reference>/cancel/", payment_views.order_cancel, name="payment-order-cancel"),
    path(
        "payments/declarations/<int:pk>/pay-from-account/",
        payment_views.prepaid_pay_view,
        name="payment-prepaid",
    ),
    path("payments/declarations/<int:pk>/defer/", payment_views.defer_view, name="payment-defer"),
    path("payments/deferred/<int:pk>/settle/", payment_views.deferred_settle_view, name="payment-settle"),
    path("payments/receipts/", payment_views.receipt_list, name="payment-receipt-list"),
    path("payments/receipts/<int:pk>/", payment_views.receipt_detail, name="payment-receipt"),
    # Transit: the principal's side (trader users, and brokers authorised for transit).
    path("transit/", transit_views.movement_list, name="transit-list"),
    path("transit/new/", transit_views.movement_new, name="transit-new"),
    path("transit/upload/", transit_views.movement_upload, name="transit-upload"),
    path("transit/<int:pk>/", transit_views.movement_page, name="transit-detail"),
    # Notifications of any module (an overdue movement, say), for every portal user.
    path("notifications/", transit_views.notification_list, name="notification-list"),
    path("notifications/<int:pk>/read/", transit_views.notification_read, name="notification-read"),
    # Webhooks: the trader's or broker's endpoints, their secrets and delivery logs.
    path("webhooks/", webhook_views.webhook_list, name="webhook-list"),
    path("webhooks/<int:pk>/", webhook_views.webhook_detail, name="webhook-detail"),
    path("webhooks/<int:pk>/events/", webhook_views.webhook_kinds, name="webhook-kinds"),
    path("webhooks/<int:pk>/pause/", webhook_views.webhook_pause, name="webhook-pause"),
    path("webhooks/<int:pk>/resume/", webhook_views.webhook_resume, name="webhook-resume"),
    path("webhooks/<int:pk>/secret/", webhook_views.webhook_rotate_secret, name="webhook-rotate"),
    path("webhooks/<int:pk>/remove/", webhook_views.webhook_delete, name="webhook-delete"),
    path(
        "webhooks/<int:pk>/deliveries/<int:delivery_pk>/replay/",
        webhook_views.webhook_replay,
        name="webhook-replay",
    ),
]
