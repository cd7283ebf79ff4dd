"""Payments: double-entry ledgers, payment orders and bank callbacks, payments and receipts, guarantees
and their reservations, refunds, bank statements for reconciliation, and the cashiers' cash-ups.

The ledger is the truth about money. An ``Account`` has no balance field: its balance is the sum of its
``Entry`` rows. Entries are grouped in ``Journal`` rows whose entries sum to zero (debit positive,
credit negative). Both tables are append-only in the database (migration 0002): a correction is a
reversing journal, never an edit. Every write goes through ``payments.services``.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from customs.models import CustomsOffice, Trader
from declarations.models import Declaration
from payments.choices import (
    DEBIT_NORMAL,
    AccountKind,
    CallbackOutcome,
    GuaranteeKind,
    JournalKind,
    MatchStatus,
    OrderKind,
    OrderStatus,
    PaymentRoute,
    RefundStatus,
    ReservationPurpose,
    ReservationStatus,
)

AMOUNT = {"max_digits": 18, "decimal_places": 2}


class Bank(models.Model):
    """A bank that collects duties for customs. It confirms payments by calling the payment API with
    its API key (``user``'s key, scope ``payments:callback``) and signs each callback's body with
    ``callback_secret`` (HMAC-SHA256). The secret is kept here because verifying an HMAC needs it."""

    code = models.CharField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=255)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="bank",
        verbose_name=_("integration user"),
    )
    callback_secret = models.CharField(_("callback signing secret"), max_length=128)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("bank")
        verbose_name_plural = _("banks")

    def __str__(self):
        return f"{self.code} {self.name}"


class Account(models.Model):
    """One ledger account. Its balance is the sum of its entries (``payments.selectors``)."""

    kind = models.CharField(_("kind"), max_length=16, choices=AccountKind.choices)
    code = models.CharField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=255)
    currency = models.CharField(_("currency"), max_length=3)
    trader = models.ForeignKey(
        Trader, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("trader")
    )
    bank = models.ForeignKey(
        Bank, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("bank")
    )
    office = models.ForeignKey(
        CustomsOffice,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("office"),
    )
    tax_type = models.CharField(_("tax"), max_length=24, blank=True)
    created_at = models.DateTimeField(_("opened at"), auto_now_add=True)

    class Meta:
        ordering = ["kind", "code"]
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        constraints = [
            models.UniqueConstraint(
                fields=["trader"], condition=Q(kind="prepaid"), name="account_one_prepaid_per_trader"
            ),
            models.CheckConstraint(
                condition=~Q(kind="prepaid") | Q(trader__isnull=False), name="account_prepaid_has_trader"
            ),
            models.CheckConstraint(
                condition=~Q(kind="revenue") | ~Q(tax_type=""), name="account_revenue_has_tax_type"
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"

    @property
    def is_debit_normal(self) -> bool:
        return self.kind in DEBIT_NORMAL


class Journal(models.Model):
    """One balanced set of entries: a payment, a top-up, a refund, a reversal. Append-only."""

    kind = models.CharField(_("kind"), max_length=24, choices=JournalKind.choices)
    occurred_at = models.DateTimeField(_("occurred at"), db_index=True)
    memo = models.CharField(_("memo"), max_length=255, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    reverses = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_by",
        verbose_name=_("reverses"),
    )

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        verbose_name = _("journal")
        verbose_name_plural = _("journals")

    def __str__(self):
        return f"J{self.pk} {self.get_kind_display()}"


class Entry(models.Model):
    """One line of a journal: ``amount`` is a debit when positive, a credit when negative.

    Revenue entries carry the declaration, the office and the tax they are for, so the revenue report
    and a declaration's paid amount per tax come from the ledger itself."""

    journal = models.ForeignKey(Journal, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="entries", verbose_name=_("account")
    )
    amount = models.DecimalField(_("amount"), **AMOUNT)
    declaration = models.ForeignKey(
        Declaration,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
        verbose_name=_("declaration"),
    )
    office_code = models.CharField(_("office"), max_length=8, blank=True)
    tax_type = models.CharField(_("tax"), max_length=24, blank=True)
    occurred_at = models.DateTimeField(_("occurred at"))

    class Meta:
        ordering = ["occurred_at", "pk"]
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="entry_not_zero")]
        indexes = [
            models.Index(fields=["account", "occurred_at"], name="entry_account_time_idx"),
            models.Index(fields=["occurred_at", "office_code"], name="entry_time_office_idx"),
        ]

    def __str__(self):
        return f"{self.account.code} {self.amount}"


class PaymentOrder(models.Model):
    """What a trader asks its bank to pay: the duties of one or more assessed declarations, or a top-up
    of its pre-paid account. ``reference`` is an ISO 11649 creditor reference (``RF..``) that the
    bank quotes in its callback."""

    reference = models.CharField(_("payment reference"), max_length=25, unique=True)
    kind = models.CharField(_("kind"), max_length=8, choices=OrderKind.choices)
    trader = models.ForeignKey(
        Trader, on_delete=models.PROTECT, related_name="payment_orders", verbose_name=_("trader")
    )
    office = models.ForeignKey(
        CustomsOffice,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("office (top-up receipts)"),
    )
    amount = models.DecimalField(_("amount"), **AMOUNT)
    currency = models.CharField(_("currency"), max_length=3)
    status = models.CharField(
        _("status"), max_length=10, choices=OrderStatus.choices, default=OrderStatus.OPEN
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("payment order")
        verbose_name_plural = _("payment orders")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_order_positive"),
            models.CheckConstraint(
                condition=~Q(kind="top_up") | Q(office__isnull=False), name="payment_order_top_up_office"
            ),
        ]
        indexes = [models.Index(fields=["trader", "status"], name="payment_order_trader_idx")]

    def __str__(self):
        return self.reference


class PaymentOrderLine(models.Model):
    """One declaration of a duties order, with the amount that was due when the order was made."""

    order = models.ForeignKey(PaymentOrder, on_delete=models.CASCADE, related_name="lines")
    declaration = models.ForeignKey(
        Declaration,
        on_delete=models.PROTECT,
        related_name="payment_order_lines",
        verbose_name=_("declaration"),
    )
    amount = models.DecimalField(_("amount"), **AMOUNT)

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("payment order line")
        verbose_name_plural = _("payment order lines")
        constraints = [
            models.UniqueConstraint(fields=["order", "declaration"], name="payment_order_line_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_order_line_positive"),
        ]

    def __str__(self):
        return f"{self.order} {self.declaration_id}: {self.amount}"


class Payment(models.Model):
    """Money received (or deferred): by one route, from one trader, booked as one journal."""

    route = models.CharField(_("route"), max_length=10, choices=PaymentRoute.choices)
    trader = models.ForeignKey(Trader, on_delete=models.PROTECT, related_name="+", verbose_name=_("trader"))
    amount = models.DecimalField(_("amount"), **AMOUNT)
    currency = models.CharField(_("currency"), max_length=3)
    journal = models.OneToOneField(Journal, on_delete=models.PROTECT, related_name="payment")
    order = models.ForeignKey(
        PaymentOrder,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
        verbose_name=_("payment order"),
    )
    bank = models.ForeignKey(
        Bank, null=True, blank=True, on_delete=models.PROTECT, related_name="payments", verbose_name=_("bank")
    )
    bank_transaction_id = models.CharField(_("bank transaction id"), max_length=64, blank=True)
    office = models.ForeignKey(
        CustomsOffice,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("office"),
    )
    cheque_number = models.CharField(_("cheque number"), max_length=32, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    paid_at = models.DateTimeField(_("paid at"), db_index=True)

    class Meta:
        ordering = ["-paid_at", "-pk"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.UniqueConstraint(
                fields=["bank", "bank_transaction_id"],
                condition=~Q(bank_transaction_id=""),
                name="payment_bank_transaction_unique",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_positive"),
            models.CheckConstraint(
                condition=~Q(route="cheque") | ~Q(cheque_number=""), name="payment_cheque_has_number"
            ),
        ]
        indexes = [models.Index(fields=["recorded_by", "paid_at"], name="payment_cashier_idx")]

    def __str__(self):
        return f"{self.get_route_display()} {self.amount} {self.currency}"


class Receipt(models.Model):
    """The receipt of a payment at one office, numbered gap-free per office and year (``TMA01 2026 R
    17``): one per declaration paid, or one for a top-up."""

    number = models.CharField(_("receipt number"), max_length=32, unique=True)
    office = models.ForeignKey(
        CustomsOffice, on_delete=models.PROTECT, related_name="+", verbose_name=_("office")
    )
    year = models.PositiveSmallIntegerField(_("year"))
    serial = models.PositiveIntegerField(_("serial"))
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="receipts")
    declaration = models.ForeignKey(
        Declaration,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="receipts",
        verbose_name=_("declaration"),
    )
    trader = models.ForeignKey(Trader, on_delete=models.PROTECT, related_name="+", verbose_name=_("trader"))
    amount = models.DecimalField(_("amount"), **AMOUNT)
    currency = models.CharField(_("currency"), max_length=3)
    issued_at = models.DateTimeField(_("issued at"))

    class Meta:
        ordering = ["-issued_at", "-pk"]
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        constraints = [
            models.UniqueConstraint(fields=["office", "year", "serial"], name="receipt_serial_unique"),
        ]
        indexes = [models.Index(fields=["trader", "issued_at"], name="receipt_trader_idx")]

    def __str__(self):
        return self.number


def _receipt_upload_to(instance, filename):
    return f"payments/receipts/{instance.receipt_id}/{filename}"


class ReceiptPrint(models.Model):
    """A receipt's PDF in one language, rendered by the Celery task ``payments.render_receipt``."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Being prepared")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    receipt = models.ForeignKey(Receipt, on_delete=models.CASCADE, related_name="prints")
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    file = models.FileField(_("file"), upload_to=_receipt_upload_to, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(_("error"), blank=True)
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    rendered_at = models.DateTimeField(_("rendered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("printed receipt")
        verbose_name_plural = _("printed receipts")
        constraints = [
            models.UniqueConstraint(fields=["receipt", "language"], name="receipt_print_unique"),
            models.CheckConstraint(
                condition=~Q(status="ready") | (~Q(file="") & Q(rendered_at__isnull=False)),
                name="receipt_print_ready_has_file",
            ),
        ]

    def __str__(self):
        return f"{self.receipt} {self.language}"


class BankCallback(models.Model):
    """Every authenticated callback a bank made, with what became of it: the evidence for
    reconciliation, including the rejected ones (wrong amount, unknown reference)."""

    bank = models.ForeignKey(Bank, on_delete=models.PROTECT, related_name="callbacks", verbose_name=_("bank"))
    received_at = models.DateTimeField(_("received at"), auto_now_add=True, db_index=True)
    transaction_id = models.CharField(_("bank transaction id"), max_length=64, blank=True)
    reference = models.CharField(_("payment reference"), max_length=35, blank=True)
    amount = models.CharField(_("amount"), max_length=32, blank=True)
    body = models.JSONField(_("body"))
    outcome = models.CharField(_("outcome"), max_length=10, choices=CallbackOutcome.choices)
    error_code = models.CharField(_("error"), max_length=32, blank=True)
    message = models.CharField(_("message"), max_length=255, blank=True)
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="callbacks"
    )

    class Meta:
        ordering = ["-received_at", "-pk"]
        verbose_name = _("bank callback")
        verbose_name_plural = _("bank callbacks")
        indexes = [models.Index(fields=["bank", "transaction_id"], name="bank_callback_transaction_idx")]

    def __str__(self):
        return f"{self.bank.code} {self.transaction_id} {self.outcome}"


class Guarantee(models.Model):
    """A guarantee lodged by a trader: comprehensive, individual or TIR. Its available amount is the
    amount less its open reservations (deferred payments, transit movements)."""

    reference = models.CharField(_("guarantee reference"), max_length=24, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=GuaranteeKind.choices)
    trader = models.ForeignKey(
        Trader, on_delete=models.PROTECT, related_name="guarantees", verbose_name=_("trader")
    )
    issuer = models.ForeignKey(
        Bank, on_delete=models.PROTECT, related_name="guarantees", verbose_name=_("issuing bank")
    )
    amount = models.DecimalField(_("amount"), **AMOUNT)
    currency = models.CharField(_("currency"), max_length=3)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"))
    allows_deferred_payment = models.BooleanField(_("covers deferred payment"), default=False)
    revoked = models.BooleanField(_("revoked"), default=False)
    account = models.OneToOneField(
        Account, null=True, blank=True, on_delete=models.PROTECT, related_name="guarantee", editable=False
    )

    class Meta:
        ordering = ["reference"]
        verbose_name = _("guarantee")
        verbose_name_plural = _("guarantees")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="guarantee_positive"),
            models.CheckConstraint(condition=Q(valid_to__gte=models.F("valid_from")), name="guarantee_dates"),
        ]

    def __str__(self):
        return f"{self.reference} ({self.get_kind_display()})"


class GuaranteeReservation(models.Model):
    """An amount held on a guarantee until it is released (transit discharged) or settled (a deferred
    payment paid)."""

    guarantee = models.ForeignKey(
        Guarantee, on_delete=models.PROTECT, related_name="reservations", verbose_name=_("guarantee")
    )
    amount = models.DecimalField(_("amount"), **AMOUNT)
    purpose = models.CharField(_("purpose"), max_length=20, choices=ReservationPurpose.choices)
    reference = models.CharField(_("for"), max_length=64)
    declaration = models.ForeignKey(
        Declaration,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="guarantee_reservations",
        verbose_name=_("declaration"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=ReservationStatus.choices, default=ReservationStatus.OPEN
    )
    created_at = models.DateTimeField(_("reserved at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("guarantee reservation")
        verbose_name_plural = _("guarantee reservations")
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="reservation_positive")]
        indexes = [models.Index(fields=["guarantee", "status"], name="reservation_guarantee_idx")]

    def __str__(self):
        return f"{self.guarantee.reference} {self.reference}: {self.amount}"


class Refund(models.Model):
    """Money to give back after a re-assessment lowered what a declaration owes; a supervisor of the
    declaration's office approves it (credited to the trader's pre-paid account) or refuses it."""

    declaration = models.ForeignKey(
        Declaration, on_delete=models.PROTECT, related_name="refunds", verbose_name=_("declaration")
    )
    amount = models.DecimalField(_("amount"), **AMOUNT)
    currency = models.CharField(_("currency"), max_length=3)
    by_tax = models.JSONField(_("per tax"), default=dict)
    status = models.CharField(
        _("status"), max_length=12, choices=RefundStatus.choices, default=RefundStatus.PENDING
    )
    requested_at = models.DateTimeField(_("requested at"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    journal = models.OneToOneField(
        Journal, null=True, blank=True, on_delete=models.PROTECT, related_name="refund"
    )

    class Meta:
        ordering = ["-requested_at", "-pk"]
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        constraints = [
            models.UniqueConstraint(
                fields=["declaration"],
                condition=Q(status="pending"),
                name="refund_one_pending_per_declaration",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_positive"),
        ]

    def __str__(self):
        return f"{self.declaration} {self.amount} {self.status}"


def _statement_upload_to(instance, filename):
    return f"payments/statements/{instance.bank_id}/{filename}"


class BankStatement(models.Model):
    """A bank's statement of the duties it collected, imported as CSV for reconciliation."""

    bank = models.ForeignKey(
        Bank, on_delete=models.PROTECT, related_name="statements", verbose_name=_("bank")
    )
    file_name = models.CharField(_("file"), max_length=255)
    content_sha256 = models.CharField(_("SHA-256 of the file"), max_length=64)
    date_from = models.DateField(pgettext_lazy("period", "from"))
    date_to = models.DateField(pgettext_lazy("period", "to"))
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("imported by")
    )
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)

    class Meta:
        ordering = ["-imported_at", "-pk"]
        verbose_name = _("bank statement")
        verbose_name_plural = _("bank statements")
        constraints = [
            models.UniqueConstraint(fields=["bank", "content_sha256"], name="bank_statement_once"),
        ]

    def __str__(self):
        return f"{self.bank.code} {self.date_from}–{self.date_to}"


class BankStatementLine(models.Model):
    """One credit on a bank statement and the payment it was matched to, if any."""

    statement = models.ForeignKey(BankStatement, on_delete=models.CASCADE, related_name="lines")
    line_number = models.PositiveIntegerField(_("line"))
    value_date = models.DateField(_("value date"))
    transaction_id = models.CharField(_("bank transaction id"), max_length=64)
    reference = models.CharField(_("payment reference"), max_length=35, blank=True)
    amount = models.DecimalField(_("amount"), **AMOUNT)
    currency = models.CharField(_("currency"), max_length=3)
    description = models.CharField(_("description"), max_length=255, blank=True)
    match = models.CharField(_("match"), max_length=20, choices=MatchStatus.choices)
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        ordering = ["statement", "line_number"]
        verbose_name = _("bank statement line")
        verbose_name_plural = _("bank statement lines")

    def __str__(self):
        return f"{self.statement} #{self.line_number}"


class CashUp(models.Model):
    """A cashier's end of day at one office: what the daybook says, what was counted, the difference.
    After it, that cashier takes no more payments at the office that day."""

    cashier = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("cashier")
    )
    office = models.ForeignKey(
        CustomsOffice, on_delete=models.PROTECT, related_name="+", verbose_name=_("office")
    )
    day = models.DateField(_("day"))
    expected_cash = models.DecimalField(_("cash in the daybook"), **AMOUNT)
    expected_cheques = models.DecimalField(_("cheques in the daybook"), **AMOUNT)
    counted_cash = models.DecimalField(_("cash counted"), **AMOUNT)
    counted_cheques = models.DecimalField(_("cheques counted"), **AMOUNT)
    payment_count = models.PositiveIntegerField(_("payments"))
    closed_at = models.DateTimeField(_("closed at"))
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["-day", "office", "cashier"]
        verbose_name = _("cash-up")
        verbose_name_plural = _("cash-ups")
        constraints = [
            models.UniqueConstraint(fields=["cashier", "office", "day"], name="cash_up_once_a_day"),
        ]

    def __str__(self):
        return f"{self.office} {self.day} {self.cashier}"

    @property
    def difference(self):
        return (self.counted_cash + self.counted_cheques) - (self.expected_cash + self.expected_cheques)
