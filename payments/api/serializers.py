"""Serializers of the payments API. Money travels as decimal strings with two decimals; traders by
taxpayer ID, offices by code, orders by payment reference. Input serializers check formats only; the
services check the rest (who may pay, what is due, what the account or guarantee covers)."""

from decimal import Decimal

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from customs.models import CustomsOffice
from payments.choices import GuaranteeKind, JournalKind, OrderKind, OrderStatus, PaymentRoute
from payments.services.ledger import national_currency

MONEY = {"max_digits": 18, "decimal_places": 2}


def _money(**extra):
    return serializers.DecimalField(**MONEY, **extra)


# --- The error envelope (customs.api.errors), as the payments API fills it -------------------------


class PaymentFieldErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class PaymentErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text=_("Machine-readable, e.g. insufficient_funds, amount_mismatch"))
    message = serializers.CharField(help_text=_("In the language of the request"))
    fields = serializers.DictField(
        child=serializers.ListField(child=PaymentFieldErrorSerializer()),
        required=False,
        help_text=_("The problems of each field of the request, when the error is about fields"),
    )
    shortfall = _money(required=False, help_text=_("insufficient_funds: what the account or guarantee lacks"))
    available = _money(required=False, help_text=_("insufficient_funds: what the account or guarantee holds"))


class PaymentErrorEnvelopeSerializer(serializers.Serializer):
    error = PaymentErrorSerializer()


# --- Bank callbacks --------------------------------------------------------------------------------


class BankCallbackSerializer(serializers.Serializer):
    """The body a bank signs and sends. Described for the schema only: the view hands the raw bytes to
    the service, which checks the signature over exactly those bytes before reading them."""

    transaction_id = serializers.CharField(max_length=64, help_text=_("The bank's unique transaction id"))
    reference = serializers.CharField(max_length=35, help_text=_("The payment order's RF reference"))
    amount = serializers.CharField(help_text=_('A decimal string, exactly the order\'s amount: "1250.00"'))
    currency = serializers.CharField(max_length=3, help_text=_("ISO 4217 code, the national currency"))


class BankCallbackResultSerializer(serializers.Serializer):
    payment = serializers.IntegerField(help_text=_("The payment booked (the first one, for a repeat)"))
    order = serializers.CharField(help_text=_("The payment order's reference"))
    amount = _money()
    receipts = serializers.ListField(child=serializers.CharField(), help_text=_("Receipt numbers issued"))
    duplicate = serializers.BooleanField(
        help_text=_("True when this transaction was booked already: nothing new was written")
    )


# --- Payment orders --------------------------------------------------------------------------------


class PaymentOrderLineSerializer(serializers.Serializer):
    declaration = serializers.IntegerField(source="declaration_id")
    number = serializers.CharField(source="declaration.number")
    lrn = serializers.CharField(source="declaration.lrn")
    amount = _money(help_text=_("What the declaration owed when the order was made"))


class PaymentOrderSerializer(serializers.Serializer):
    reference = serializers.CharField(help_text=_("ISO 11649 creditor reference to quote to the bank"))
    kind = serializers.ChoiceField(choices=OrderKind.choices)
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    trader = serializers.CharField(source="trader.taxpayer_id")
    trader_name = serializers.CharField(source="trader.name")
    office = serializers.CharField(
        source="office.code", allow_null=True, help_text=_("Top-ups: the office that receipts them")
    )
    amount = _money()
    currency = serializers.CharField()
    created_at = serializers.DateTimeField()
    paid_at = serializers.DateTimeField(allow_null=True)
    lines = PaymentOrderLineSerializer(many=True, source="lines.all")


class PaymentOrderCreateSerializer(serializers.Serializer):
    declarations = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        min_length=1,
        max_length=100,
        help_text=_("Ids of assessed declarations of one trader"),
    )


class TopUpOrderCreateSerializer(serializers.Serializer):
    trader = serializers.CharField(
        max_length=32, help_text=_("Taxpayer ID of the trader whose account it is")
    )
    amount = _money(min_value=Decimal("0.01"))
    office = serializers.SlugRelatedField(
        slug_field="code",
        queryset=CustomsOffice.objects.filter(active=True),
        help_text=_("Code of the office that issues the receipt, e.g. TMA01"),
    )


# --- Paying a declaration ------------------------------------------------------------------------


def _expected_amount():
    return _money(
        required=False,
        min_value=Decimal("0.01"),
        help_text=_(
            "The amount due that the payer saw: when a re-assessment changed it, nothing is paid "
            "(409 amount_changed, with the new amount)"
        ),
    )


class PayFromAccountSerializer(serializers.Serializer):
    amount = _expected_amount()


class DeferSerializer(serializers.Serializer):
    guarantee = serializers.CharField(
        max_length=24, help_text=_("Reference of one of the trader's guarantees that covers deferred payment")
    )
    amount = _expected_amount()


class PaymentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    route = serializers.ChoiceField(choices=PaymentRoute.choices)
    trader = serializers.CharField(source="trader.taxpayer_id")
    amount = _money()
    currency = serializers.CharField()
    paid_at = serializers.DateTimeField()
    receipts = serializers.SerializerMethodField()

    def get_receipts(self, payment) -> list[str]:
        return list(payment.receipts.order_by("pk").values_list("number", flat=True))


class PayableDeclarationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    lrn = serializers.CharField()
    office = serializers.CharField(source="office.code")
    trader = serializers.CharField(source="trader.taxpayer_id")
    total_taxes = _money()
    due = _money(help_text=_("What is to pay now: the assessment less what was credited"))
    assessed_at = serializers.DateTimeField()


# --- Accounts, receipts, guarantees --------------------------------------------------------------


class PrepaidAccountSerializer(serializers.Serializer):
    trader = serializers.CharField(source="trader.taxpayer_id")
    trader_name = serializers.CharField(source="trader.name")
    account = serializers.CharField(
        source="account.code", allow_null=True, help_text=_("None until the account is first used")
    )
    currency = serializers.SerializerMethodField()
    balance = _money()

    def get_currency(self, row) -> str:
        return row["account"].currency if row["account"] is not None else national_currency()


class StatementRowSerializer(serializers.Serializer):
    occurred_at = serializers.DateTimeField(source="entry.occurred_at")
    journal = serializers.IntegerField(source="entry.journal_id")
    kind = serializers.ChoiceField(choices=JournalKind.choices, source="entry.journal.kind")
    memo = serializers.CharField(source="entry.journal.memo")
    declaration = serializers.IntegerField(source="entry.declaration_id", allow_null=True)
    declaration_number = serializers.CharField(source="entry.declaration.number", allow_null=True)
    amount = _money(help_text=_("Money in (positive) or out (negative)"))
    balance = _money(help_text=_("The balance after this entry"))


class ReceiptSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    office = serializers.CharField(source="office.code")
    trader = serializers.CharField(source="trader.taxpayer_id")
    declaration = serializers.IntegerField(source="declaration_id", allow_null=True)
    declaration_number = serializers.CharField(source="declaration.number", allow_null=True)
    route = serializers.ChoiceField(choices=PaymentRoute.choices, source="payment.route")
    amount = _money()
    currency = serializers.CharField()
    issued_at = serializers.DateTimeField()
    pdf = serializers.SerializerMethodField(help_text=_("The printable receipt (for a signed-in user)"))

    @extend_schema_field(OpenApiTypes.URI)
    def get_pdf(self, receipt) -> str:
        path = reverse("receipt-prints:pdf", args=[receipt.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class GuaranteeSerializer(serializers.Serializer):
    reference = serializers.CharField(source="guarantee.reference")
    kind = serializers.ChoiceField(choices=GuaranteeKind.choices, source="guarantee.kind")
    trader = serializers.CharField(source="guarantee.trader.taxpayer_id")
    issuer = serializers.CharField(source="guarantee.issuer.code")
    amount = _money(source="guarantee.amount")
    currency = serializers.CharField(source="guarantee.currency")
    reserved = _money(help_text=_("Held by open reservations (deferred payments, transit movements)"))
    available = _money(help_text=_("The amount less what is reserved"))
    valid_from = serializers.DateField(source="guarantee.valid_from")
    valid_to = serializers.DateField(source="guarantee.valid_to")
    allows_deferred_payment = serializers.BooleanField(source="guarantee.allows_deferred_payment")
    revoked = serializers.BooleanField(source="guarantee.revoked")
