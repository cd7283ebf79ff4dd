"""Django admin of the payments module.

Administrators register banks (with the callback signing secret) and guarantees here; a new guarantee
goes through ``guarantee_create``, which opens its ledger account and audits it. The ledger and the
records of payments are read-only: money moves only through the services, and a correction is a
reversing journal.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from payments.models import (
    Account,
    Bank,
    BankCallback,
    BankStatement,
    CashUp,
    Entry,
    Guarantee,
    GuaranteeReservation,
    Journal,
    Payment,
    PaymentOrder,
    Receipt,
    Refund,
)
from payments.services.guarantees import guarantee_available, guarantee_create
from payments.services.ledger import account_balance


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written by the services only: viewable, never added, changed or deleted here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Bank)
class BankAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "user", "active"]
    search_fields = ["code", "name"]
    fieldsets = [
        (None, {"fields": ["code", "name", "active"]}),
        (
            _("Integration"),
            {
                "fields": ["user", "callback_secret"],
                "description": _(
                    "The bank calls the payment API with an API key of this user (scope payments:callback) "
                    "and signs every callback with the secret (HMAC-SHA256)."
                ),
            },
        ),
    ]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Guarantee)
class GuaranteeAdmin(admin.ModelAdmin):
    list_display = ["reference", "kind", "trader", "issuer", "amount", "available", "valid_to", "revoked"]
    list_filter = ["kind", "revoked", "allows_deferred_payment"]
    search_fields = ["reference", "trader__name", "trader__taxpayer_id"]
    autocomplete_fields = ["trader"]
    fields = [
        "reference",
        "kind",
        "trader",
        "issuer",
        "amount",
        "currency",
        "valid_from",
        "valid_to",
        "allows_deferred_payment",
        "revoked",
    ]

    def get_readonly_fields(self, request, obj=None):
        # The amount and the holder of a lodged guarantee are not edited: a new guarantee replaces it.
        return ["reference", "trader", "currency"] if obj is not None else ["currency"]

    @admin.display(description=_("available"))
    def available(self, guarantee):
        return guarantee_available(guarantee)

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        fields = {name: form.cleaned_data[name] for name in self.fields if name in form.cleaned_data}
        fields.pop("currency", None)
        created = guarantee_create(actor=request.user, **fields)
        obj.pk = created.pk
        obj.account_id = created.account_id

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(GuaranteeReservation)
class GuaranteeReservationAdmin(ReadOnlyAdmin):
    list_display = ["guarantee", "purpose", "reference", "amount", "status", "created_at", "closed_at"]
    list_filter = ["purpose", "status"]
    search_fields = ["guarantee__reference", "reference"]


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["code", "kind", "name", "currency", "balance"]
    list_filter = ["kind"]
    search_fields = ["code", "name"]

    @admin.display(description=_("balance"))
    def balance(self, account):
        return account_balance(account)


class EntryInline(admin.TabularInline):
    model = Entry
    fields = ["account", "amount", "declaration", "office_code", "tax_type"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Journal)
class JournalAdmin(ReadOnlyAdmin):
    list_display = ["pk", "kind", "occurred_at", "memo", "actor"]
    list_filter = ["kind"]
    search_fields = ["memo"]
    inlines = [EntryInline]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["pk", "route", "trader", "amount", "currency", "paid_at", "bank", "bank_transaction_id"]
    list_filter = ["route", "bank"]
    search_fields = ["bank_transaction_id", "trader__name", "order__reference"]


@admin.register(PaymentOrder)
class PaymentOrderAdmin(ReadOnlyAdmin):
    list_display = ["reference", "kind", "trader", "amount", "status", "created_at", "paid_at"]
    list_filter = ["kind", "status"]
    search_fields = ["reference", "trader__name"]


@admin.register(Receipt)
class ReceiptAdmin(ReadOnlyAdmin):
    list_display = ["number", "office", "trader", "declaration", "amount", "issued_at"]
    list_filter = ["office"]
    search_fields = ["number", "trader__name"]


@admin.register(BankCallback)
class BankCallbackAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "bank", "transaction_id", "reference", "amount", "outcome", "error_code"]
    list_filter = ["bank", "outcome", "error_code"]
    search_fields = ["transaction_id", "reference"]


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ["declaration", "amount", "status", "requested_at", "decided_by", "decided_at"]
    list_filter = ["status"]


@admin.register(BankStatement)
class BankStatementAdmin(ReadOnlyAdmin):
    list_display = ["bank", "file_name", "date_from", "date_to", "imported_by", "imported_at"]


@admin.register(CashUp)
class CashUpAdmin(ReadOnlyAdmin):
    list_display = ["day", "office", "cashier", "expected_cash", "counted_cash", "payment_count", "closed_at"]
    list_filter = ["office"]
