"""The payments API: payment orders, bank callbacks, paying a declaration from the pre-paid account or
against a guarantee, and reading accounts, receipts and guarantees. Thin: each endpoint validates its
input with a serializer and calls one service; every read comes from a user-scoped selector.

- A payer is a trader's user, or the user of a broker that the trader authorises for payments
  (``payer_traders``). Objects of other traders are not found (404); a declaration the caller sees
  but may not pay for (an officer of its office, a broker authorised for declarations only) is 403.
- ``Idempotency-Key`` on the POSTs that create orders or payments: a retry gets the first response.
- The bank callback is the one endpoint for API keys (scope ``payments:callback``, the key of a
  bank's integration user). No API-key scope covers the other endpoints yet: keys are refused there.
- Errors in the one envelope of ``customs.api.errors``; a ``PaymentError`` adds ``fields`` when it is
  about a field, and its details (``shortfall`` and ``available`` of ``insufficient_funds``).
"""

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView, set_rollback

from customs.api.authentication import ApiKeyAuthentication, HasApiScope, ReadWriteScopes
from customs.choices import ApiScope, AuthorisationScope
from customs.models import ApiClient
from customs.selectors import trader_list_for_user
from customs.signatures import SIGNATURE_HEADER, TIMESTAMP_HEADER
from declarations.api.idempotency import IDEMPOTENCY_KEY, idempotent
from declarations.selectors import declaration_list_for_user
from payments.api import serializers
from payments.models import PaymentOrder
from payments.selectors import (
    account_statement,
    guarantees_for_user,
    orders_for_user,
    payable_declarations_for_user,
    prepaid_accounts_for_user,
    receipts_for_user,
)
from payments.services import collection, orders
from payments.services.errors import PaymentError
from payments.services.permissions import ensure_payer

# --- The error envelope of a PaymentError ------------------------------------------------------


def payment_error_response(error: PaymentError, *, rollback: bool = True) -> Response:
    """``{"error": {"code", "message", "fields"?, **details}}`` with the error's HTTP status; the request's
    transaction, when ATOMIC_REQUESTS makes one, is rolled back (``rollback``), as DRF does."""
    body = {"code": error.code, "message": error.message}
    if error.field:
        body["fields"] = {error.field: [{"code": error.code, "message": error.message}]}
    for key, value in error.details.items():
        body.setdefault(key, str(value) if isinstance(value, Decimal) else value)
    if rollback:
        set_rollback()
    return Response({"error": body}, status=error.status)


def _errors(*codes: int) -> dict:
    descriptions = {  # the schema's words, in English like the rest of it
        400: "The request is not valid",
        401: "Not authenticated",
        403: "Not allowed",
        404: "Not found, or not one the caller may see",
        409: "Not possible in the current state (the code says why)",
        412: "The If-Match version is stale",
        422: "The callback does not match the payment order",
    }
    return {
        code: OpenApiResponse(serializers.PaymentErrorEnvelopeSerializer, description=descriptions[code])
        for code in codes
    }


def _field_error(field: str, code: str, message: str) -> exceptions.ValidationError:
    return exceptions.ValidationError({field: [exceptions.ErrorDetail(message, code=code)]})


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_code = "stale_version"


# --- Idempotency-Key ---------------------------------------------------------------------------


# --- Permissions -------------------------------------------------------------------------------


class IsBankIntegration(permissions.BasePermission):
    """The request is made with the API key of an active bank's integration user."""

    message = gettext_lazy("Only the API key of a bank's integration account may confirm payments.")

    def has_permission(self, request, view):
        if not isinstance(request.auth, ApiClient):
            return False
        bank = getattr(request.user, "bank", None)
        return bank is not None and bank.active


class PaymentsViewSet(ReadWriteScopes, viewsets.GenericViewSet):
    """Common to the payer's endpoints: a signed-in user, or an API key (a broker's or a trader's
    software) with ``payments:read`` to read and ``payments:write`` to order and pay; PaymentError in
    the envelope."""

    permission_classes = [permissions.IsAuthenticated, HasApiScope]

    read_scope, write_scope = ApiScope.PAYMENTS_READ, ApiScope.PAYMENTS_WRITE

    parser_classes = [JSONParser]
    filter_backends = []  # the lists are short and filtered by who asks

    def handle_exception(self, exc):
        if isinstance(exc, PaymentError):
            return payment_error_response(exc)
        return super().handle_exception(exc)

    def _page(self, rows, serializer_class):
        page = self.paginate_queryset(rows)
        data = serializer_class(page, many=True, context=self.get_serializer_context()).data
        return self.get_paginated_response(data)


# --- Payment orders ----------------------------------------------------------------------------

REFERENCE = OpenApiParameter(
    "reference", OpenApiTypes.STR, OpenApiParameter.PATH, description="The order's payment reference"
)
IF_MATCH = OpenApiParameter(
    "If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, description="The ETag read; 412 if it is stale"
)


def _order_etag(order: PaymentOrder) -> str:
    # An order has no version: its status is all that changes (open, then paid or cancelled).
    return f'"{order.reference}-{order.status}"'


def declarations_for_payment(user, ids: list[int]) -> list:
    """The declarations ``ids`` as the user may name them for a payment: the payable ones of the traders
    it pays for, or others it may see (the service then says why they cannot be paid). An id it may
    not see is a field error, as if it did not exist."""
    found = {
        declaration.pk: declaration for declaration in payable_declarations_for_user(user).filter(pk__in=ids)
    }
    rest = [pk for pk in ids if pk not in found]
    if rest:
        found.update(
            {
                declaration.pk: declaration
                for declaration in declaration_list_for_user(user).filter(pk__in=rest)
            }
        )
    unknown = [pk for pk in ids if pk not in found]
    if unknown:
        raise _field_error(
            "declarations",
            "does_not_exist",
            _("No declaration %(ids)s that you may pay for.") % {"ids": ", ".join(str(pk) for pk in unknown)},
        )
    return [found[pk] for pk in dict.fromkeys(ids)]


class PaymentOrderViewSet(PaymentsViewSet):
    lookup_field = "reference"
    lookup_value_regex = "[0-9A-Za-z]+"

    def get_queryset(self):
        return orders_for_user(self.request.user)

    def _order(self, reference) -> PaymentOrder:
        try:
            return self.get_queryset().get(reference=reference.upper())
        except PaymentOrder.DoesNotExist:
            raise exceptions.NotFound() from None

    def _respond(self, order, status_code=status.HTTP_200_OK):
        order = self.get_queryset().get(pk=order.pk)  # with its lines, as the list shows them
        data = serializers.PaymentOrderSerializer(order).data
        return Response(data, status=status_code, headers={"ETag": _order_etag(order)})

    @extend_schema(
        summary="The caller's payment orders, newest first",
        responses={200: serializers.PaymentOrderSerializer(many=True), **_errors(401, 403)},
    )
    def list(self, request):
        return self._page(
            self.get_queryset().order_by("-created_at", "-pk"), serializers.PaymentOrderSerializer
        )

    @extend_schema(
        summary="One payment order",
        parameters=[REFERENCE],
        responses={200: serializers.PaymentOrderSerializer, **_errors(401, 403, 404)},
    )
    def retrieve(self, request, reference=None):
        return self._respond(self._order(reference))

    @extend_schema(
        summary="Order the payment of assessed declarations of one trader; quote its reference to the bank",
        request=serializers.PaymentOrderCreateSerializer,
        responses={201: serializers.PaymentOrderSerializer, **_errors(400, 401, 403, 409)},
        parameters=[IDEMPOTENCY_KEY],
        examples=[
            OpenApiExample("Two declarations", value={"declarations": [1042, 1043]}, request_only=True)
        ],
    )
    def create(self, request):
        def run():
            given = serializers.PaymentOrderCreateSerializer(data=request.data)
            given.is_valid(raise_exception=True)
            declarations = declarations_for_payment(request.user, given.validated_data["declarations"])
            order = orders.payment_order_create(actor=request.user, declarations=declarations)
            return self._respond(order, status.HTTP_201_CREATED)

        return idempotent(request, "payments.order.create", run)

    @extend_schema(
        summary="Make an order to top up a trader's pre-paid account through its bank",
        request=serializers.TopUpOrderCreateSerializer,
        responses={201: serializers.PaymentOrderSerializer, **_errors(400, 401, 403)},
        parameters=[IDEMPOTENCY_KEY],
        examples=[
            OpenApiExample(
                "A top-up",
                value={"trader": "101012345678", "amount": "5000.00", "office": "TMA01"},
                request_only=True,
            )
        ],
    )
    @action(detail=False, methods=["post"], url_path="top-up")
    def top_up(self, request):
        def run():
            given = serializers.TopUpOrderCreateSerializer(data=request.data)
            given.is_valid(raise_exception=True)
            values = given.validated_data
            trader = (
                trader_list_for_user(
                    request.user, on_day=timezone.localdate(), scope=AuthorisationScope.PAYMENT
                )
                .filter(taxpayer_id=values["trader"])
                .first()
            )
            if trader is None:
                raise _field_error(
                    "trader",
                    "does_not_exist",
                    _("You do not make payments for a trader with taxpayer ID %(id)s.")
                    % {"id": values["trader"]},
                )
            order = orders.top_up_order_create(
                actor=request.user, trader=trader, amount=values["amount"], office=values["office"]
            )
            return self._respond(order, status.HTTP_201_CREATED)

        return idempotent(request, "payments.order.top_up", run)

    @extend_schema(
        summary="Cancel an open payment order (before the bank pays it)",
        request=None,
        parameters=[REFERENCE, IF_MATCH],
        responses={200: serializers.PaymentOrderSerializer, **_errors(401, 403, 404, 409, 412)},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, reference=None):
        order = self._order(reference)
        expected = request.headers.get("If-Match", "").strip()
        if expected and expected != "*" and expected != _order_etag(order):
            raise PreconditionFailed(_("The payment order changed since you read it."))
        return self._respond(orders.payment_order_cancel(actor=request.user, order=order))


# --- Paying a declaration ------------------------------------------------------------------------

DECLARATION_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Declaration id")


class DeclarationPaymentViewSet(PaymentsViewSet):
    """Commands that pay one declaration at once."""

    lookup_value_regex = "[0-9]+"

    def _declaration(self, pk):
        return declarations_for_payment(self.request.user, [int(pk)])[0]

    def get_object(self):
        try:
            return self._declaration(self.kwargs["pk"])
        except exceptions.ValidationError:
            raise exceptions.NotFound() from None

    def _paid(self, payment):
        return Response(serializers.PaymentSerializer(payment).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Pay what the declaration owes from the trader's pre-paid account",
        request=serializers.PayFromAccountSerializer,
        parameters=[DECLARATION_ID, IDEMPOTENCY_KEY],
        examples=[OpenApiExample("The amount seen", value={"amount": "11558.75"}, request_only=True)],
        responses={201: serializers.PaymentSerializer, **_errors(401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"], url_path="pay-from-account")
    def pay_from_account(self, request, pk=None):
        # Everything within the idempotent run: a retry gets the payment back even when the declaration,
        # paid now, is no longer one the caller finds (a broker authorised for payments only).
        def run():
            declaration = self.get_object()
            given = serializers.PayFromAccountSerializer(data=request.data)
            given.is_valid(raise_exception=True)
            return self._paid(
                collection.prepaid_pay(
                    actor=request.user,
                    declaration=declaration,
                    expected_amount=given.validated_data.get("amount"),
                )
            )

        return idempotent(request, f"payments.pay_from_account:{pk}", run)

    @extend_schema(
        summary="Defer the payment against a guarantee of the trader that covers deferred payment",
        request=serializers.DeferSerializer,
        parameters=[DECLARATION_ID, IDEMPOTENCY_KEY],
        responses={201: serializers.PaymentSerializer, **_errors(400, 401, 403, 404, 409)},
        examples=[
            OpenApiExample(
                "Against a guarantee",
                value={"guarantee": "GRN-0001", "amount": "11558.75"},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def defer(self, request, pk=None):
        def run():
            declaration = self.get_object()
            # The service checks it too; here first, so a caller who may not pay is told so, not that
            # the guarantee is unknown.
            ensure_payer(request.user, declaration.trader_id)
            given = serializers.DeferSerializer(data=request.data)
            given.is_valid(raise_exception=True)
            reference = given.validated_data["guarantee"]
            guarantee = next(
                (
                    row["guarantee"]
                    for row in guarantees_for_user(request.user)
                    if row["guarantee"].reference == reference
                ),
                None,
            )
            if guarantee is None:
                raise _field_error(
                    "guarantee",
                    "does_not_exist",
                    _("No guarantee %(reference)s of yours.") % {"reference": reference},
                )
            return self._paid(
                collection.deferred_pay(
                    actor=request.user,
                    declaration=declaration,
                    guarantee=guarantee,
                    expected_amount=given.validated_data.get("amount"),
                )
            )

        return idempotent(request, f"payments.defer:{pk}", run)


class PayableDeclarationViewSet(PaymentsViewSet):
    @extend_schema(
        summary="Assessed declarations of the traders the caller pays for that owe something now",
        responses={200: serializers.PayableDeclarationSerializer(many=True), **_errors(401, 403)},
    )
    def list(self, request):
        return self._page(
            payable_declarations_for_user(request.user), serializers.PayableDeclarationSerializer
        )


# --- Accounts, receipts, guarantees --------------------------------------------------------------

TAXPAYER_ID = OpenApiParameter(
    "taxpayer_id", OpenApiTypes.STR, OpenApiParameter.PATH, description="The trader's taxpayer ID"
)


class PrepaidAccountViewSet(PaymentsViewSet):
    lookup_field = "taxpayer_id"
    lookup_value_regex = "[^/]+"

    @extend_schema(
        summary="The pre-paid accounts of the traders the caller pays for, with their balances",
        responses={200: serializers.PrepaidAccountSerializer(many=True), **_errors(401, 403)},
    )
    def list(self, request):
        return self._page(prepaid_accounts_for_user(request.user), serializers.PrepaidAccountSerializer)

    @extend_schema(
        summary="A pre-paid account's entries, newest first, each with the balance after it",
        parameters=[TAXPAYER_ID],
        responses={200: serializers.StatementRowSerializer(many=True), **_errors(401, 403, 404)},
    )
    @action(detail=True, methods=["get"])
    def statement(self, request, taxpayer_id=None):
        found = next(
            (
                row
                for row in prepaid_accounts_for_user(request.user)
                if row["trader"].taxpayer_id == taxpayer_id
            ),
            None,
        )
        if found is None:
            raise exceptions.NotFound()
        # An account never used is not opened yet: it has no entries.
        rows = [] if found["account"] is None else account_statement(found["account"])
        return self._page(rows, serializers.StatementRowSerializer)


class ReceiptViewSet(PaymentsViewSet):
    serializer_class = serializers.ReceiptSerializer
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        return receipts_for_user(self.request.user).order_by("-issued_at", "-pk")

    @extend_schema(
        summary="Receipts: a payer's own; for staff, those of their offices",
        responses={200: serializers.ReceiptSerializer(many=True), **_errors(401, 403)},
    )
    def list(self, request):
        return self._page(self.get_queryset(), serializers.ReceiptSerializer)

    @extend_schema(
        summary="One receipt, with the link to its PDF",
        parameters=[
            OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Receipt id")
        ],
        responses={200: serializers.ReceiptSerializer, **_errors(401, 403, 404)},
    )
    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self.get_object()).data)


class GuaranteeViewSet(PaymentsViewSet):
    @extend_schema(
        summary="The guarantees of the traders the caller pays for, with what is reserved and available",
        responses={200: serializers.GuaranteeSerializer(many=True), **_errors(401, 403)},
    )
    def list(self, request):
        return self._page(guarantees_for_user(request.user), serializers.GuaranteeSerializer)


# --- Bank callbacks ----------------------------------------------------------------------------

CALLBACK_BODY = {
    "transaction_id": "HALK-20261127-000123",
    "reference": "RF07KRW0000000042",
    "amount": "11558.75",
    "currency": "TMT",
}


# Not in one request transaction, whatever ATOMIC_REQUESTS says: the service books in its own
# transaction and logs a refused callback in another, which must survive the refusal.
@method_decorator(transaction.non_atomic_requests, name="dispatch")
class BankCallbackView(APIView):
    """A bank confirms that it received the money of a payment order."""

    authentication_classes = [ApiKeyAuthentication]
    parser_classes = [JSONParser]  # never used (the service reads the raw bytes): says what to send
    permission_classes = [permissions.IsAuthenticated, HasApiScope, IsBankIntegration]
    required_scope = ApiScope.PAYMENTS_CALLBACK

    def initialize_request(self, request, *args, **kwargs):
        # The signature covers the exact bytes sent: keep them before anything may parse the body.
        self.raw_body = request.body
        return super().initialize_request(request, *args, **kwargs)

    def handle_exception(self, exc):
        if isinstance(exc, PaymentError):
            # No request transaction to roll back: the service has rolled back the booking already.
            return payment_error_response(exc, rollback=False)
        return super().handle_exception(exc)

    @extend_schema(
        summary="A bank confirms a payment (API key of the bank; body signed with HMAC-SHA256)",
        description=(
            "Sign `<X-Kerwen-Timestamp>.<raw body>` with the bank's callback secret (HMAC-SHA256) and send "
            "`sha256=<hex>` as X-Kerwen-Signature. The timestamp must be within a few minutes of the "
            "server's clock. A transaction id makes one payment however often it is delivered: a repeat "
            "answers 200 with `duplicate: true`. Refusals of a well-signed callback are kept for "
            "reconciliation; nothing else is written."
        ),
        request=serializers.BankCallbackSerializer,
        parameters=[
            OpenApiParameter(
                TIMESTAMP_HEADER,
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=True,
                description="Seconds since the epoch, when the bank signed the callback",
            ),
            OpenApiParameter(
                SIGNATURE_HEADER,
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=True,
                description="`sha256=` + hex HMAC-SHA256 of `<timestamp>.<body>` under the bank's secret",
            ),
        ],
        responses={
            200: serializers.BankCallbackResultSerializer,
            400: OpenApiResponse(
                serializers.PaymentErrorEnvelopeSerializer,
                description="invalid_body, missing_fields or invalid_amount",
            ),
            401: OpenApiResponse(
                serializers.PaymentErrorEnvelopeSerializer,
                description="No or unknown API key; bad_timestamp, stale_timestamp (replay), bad_signature",
            ),
            403: OpenApiResponse(
                serializers.PaymentErrorEnvelopeSerializer,
                description="Not a bank's key, or the key lacks the payments:callback scope",
            ),
            404: OpenApiResponse(serializers.PaymentErrorEnvelopeSerializer, description="unknown_reference"),
            409: OpenApiResponse(
                serializers.PaymentErrorEnvelopeSerializer,
                description="order_closed (paid or cancelled), or duplicate_transaction (the transaction id "
                "was booked with another reference or amount)",
            ),
            422: OpenApiResponse(serializers.PaymentErrorEnvelopeSerializer, description="amount_mismatch"),
        },
        examples=[
            OpenApiExample("A payment confirmed", value=CALLBACK_BODY, request_only=True),
            OpenApiExample(
                "Booked",
                value={
                    "payment": 311,
                    "order": "RF07KRW0000000042",
                    "amount": "11558.75",
                    "receipts": ["TMA01 2026 R 17"],
                    "duplicate": False,
                },
                response_only=True,
                status_codes=["200"],
            ),
            OpenApiExample(
                "Wrong amount",
                value={
                    "error": {
                        "code": "amount_mismatch",
                        "message": "The amount 11000.00 TMT is not the order's 11558.75 TMT.",
                    }
                },
                response_only=True,
                status_codes=["422"],
            ),
        ],
    )
    def post(self, request):
        result = orders.bank_callback_process(
            bank=request.user.bank,
            body=self.raw_body,
            timestamp=request.headers.get(TIMESTAMP_HEADER, ""),
            signature=request.headers.get(SIGNATURE_HEADER, ""),
        )
        payment = result.payment
        body = {
            "payment": payment.pk,
            "order": payment.order.reference,
            "amount": payment.amount,
            "receipts": list(payment.receipts.order_by("pk").values_list("number", flat=True)),
            "duplicate": result.duplicate,
        }
        return Response(serializers.BankCallbackResultSerializer(body).data)
