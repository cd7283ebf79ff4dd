"""Code lists of the payments module."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class AccountKind(models.TextChoices):
    """What a ledger account holds. ``DEBIT_NORMAL`` says which side its balance is read on."""

    PREPAID = "prepaid", _("Trader pre-paid account")
    REVENUE = "revenue", _("Customs revenue")
    GUARANTEE = "guarantee", _("Guarantee (deferred payments)")
    BANK_CLEARING = "bank_clearing", _("Bank clearing")
    CASH = "cash", _("Office cash desk")


# Assets of customs (money held at a bank or a desk, amounts owed under a guarantee) are read on the
# debit side; what customs owes (a trader's pre-paid money) or has earned (revenue) on the credit side.
DEBIT_NORMAL = frozenset({AccountKind.GUARANTEE, AccountKind.BANK_CLEARING, AccountKind.CASH})


class JournalKind(models.TextChoices):
    PAYMENT = "payment", _("Payment of duties and taxes")
    TOP_UP = "top_up", _("Top-up of a pre-paid account")
    OVERPAYMENT = "overpayment", _("Payment kept on the pre-paid account")
    DEFERRED = "deferred", _("Deferred payment against a guarantee")
    DEFERRED_SETTLEMENT = "deferred_settlement", _("Settlement of a deferred payment")
    REFUND = "refund", _("Refund")
    REVERSAL = "reversal", _("Reversal")


class PaymentRoute(models.TextChoices):
    EPAYMENT = "epayment", _("E-payment through a bank")
    PREPAID = "prepaid", _("Pre-paid account")
    CASH = "cash", _("Cash at the office")
    CHEQUE = "cheque", _("Cheque at the office")
    DEFERRED = "deferred", _("Deferred against a guarantee")


CASHIER_ROUTES = (PaymentRoute.CASH, PaymentRoute.CHEQUE)


class OrderKind(models.TextChoices):
    DUTIES = "duties", _("Duties and taxes of declarations")
    TOP_UP = "top_up", _("Top-up of the pre-paid account")


class OrderStatus(models.TextChoices):
    OPEN = "open", _("Awaiting payment")
    PAID = "paid", pgettext_lazy("payment order", "Paid")
    CANCELLED = "cancelled", pgettext_lazy("payment order", "Cancelled")


class CallbackOutcome(models.TextChoices):
    ACCEPTED = "accepted", _("Accepted")
    DUPLICATE = "duplicate", _("Duplicate (already paid)")
    REJECTED = "rejected", pgettext_lazy("bank callback", "Rejected")


class GuaranteeKind(models.TextChoices):
    COMPREHENSIVE = "comprehensive", _("Comprehensive")
    INDIVIDUAL = "individual", _("Individual")
    TIR = "tir", _("TIR carnet")


class ReservationPurpose(models.TextChoices):
    DEFERRED_PAYMENT = "deferred_payment", _("Deferred payment")
    TRANSIT = "transit", _("Transit movement")


class ReservationStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("guarantee reservation", "Open")
    RELEASED = "released", pgettext_lazy("guarantee reservation", "Released")
    SETTLED = "settled", pgettext_lazy("guarantee reservation", "Settled")


class RefundStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")
    SUPERSEDED = "superseded", _("Superseded by a later assessment")


class MatchStatus(models.TextChoices):
    MATCHED = "matched", _("Matched")
    AMOUNT_DIFFERS = "amount_differs", _("Amount differs")
    UNMATCHED = "unmatched", _("No payment in Kerwen")
    REJECTED_CALLBACK = "rejected_callback", _("Callback was rejected")


# The receipt series of every office (R-numbers: ``TMA01 2026 R 17``).
RECEIPT_SERIES = "R"
