"""Forms of the officer-side payment screens. They parse what was typed; the services decide (a cheque
without its number, an amount that is no longer the amount due, a refusal without a reason, a
malformed statement), and ``service_error_apply`` puts what they say next to the field it names."""

import datetime
from decimal import Decimal

from django import forms
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from payments.choices import CASHIER_ROUTES, PaymentRoute
from payments.models import Bank

# A statement larger than this is refused before it is read (a day of a bank's credits is far less).
STATEMENT_MAX_BYTES = 10 * 1024 * 1024
# The longest period of the revenue report (a year, leap day included).
REVENUE_MAX_DAYS = 366


def _date_input():
    """A browser date picker; its value is always ISO (``2026-11-27``), whatever the language."""
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _money(label, *, required=False, help_text=""):
    return forms.DecimalField(
        label=label,
        required=required,
        min_value=Decimal(0),
        max_digits=18,
        decimal_places=2,
        help_text=help_text,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 14, "autocomplete": "off"}),
    )


def service_error_apply(form, error) -> None:
    """A ``PaymentError`` next to the field it names in ``form``, or on top of the form."""
    if not hasattr(form, "cleaned_data"):
        form.cleaned_data = {}
    form.add_error(error.field if error.field in form.fields else None, error.message)


class DeclarationLookupForm(forms.Form):
    """The declaration the payer comes to pay, by the number on its papers."""

    declaration = forms.CharField(
        label=_("Declaration number"),
        max_length=40,
        help_text=_(
            "The registration number (TMA01 2026 C 12), the assessment number (TMA01 2026 A 7) or the "
            "declaration's id in Kerwen."
        ),
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["declaration"].error_messages["required"] = _("Enter the number of the declaration.")

    def clean_declaration(self):
        return " ".join(self.cleaned_data["declaration"].split())


class CashierPaymentForm(forms.Form):
    """The payment at the desk: cash or cheque, for the amount due that the cashier sees (hidden: the
    service refuses it if the declaration changed meanwhile). For cash, what the payer hands over gives
    the change."""

    method = forms.ChoiceField(
        label=_("Method of payment"),
        choices=[(route.value, route.label) for route in CASHIER_ROUTES],
        initial=PaymentRoute.CASH,
        widget=forms.RadioSelect,
    )
    cheque_number = forms.CharField(
        label=_("Cheque number"),
        required=False,
        max_length=32,
        help_text=_("Required for a cheque."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "size": 20}),
    )
    tendered = _money(
        _("Amount tendered"),
        help_text=_("For cash: what the payer hands over. The change to give back is shown."),
    )
    amount = forms.DecimalField(max_digits=18, decimal_places=2, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "payment")
        super().__init__(*args, **kwargs)
        self.fields["method"].error_messages["required"] = _("Choose cash or cheque.")
        self.fields["method"].error_messages["invalid_choice"] = _("Choose cash or cheque.")

    def clean(self):
        cleaned = super().clean()
        tendered, amount = cleaned.get("tendered"), cleaned.get("amount")
        if cleaned.get("method") == PaymentRoute.CASH and tendered is not None and amount is not None:
            if tendered < amount:
                self.add_error(
                    "tendered",
                    _("%(tendered)s is less than the amount due, %(amount)s.")
                    % {"tendered": number_format(tendered, 2), "amount": number_format(amount, 2)},
                )
        return cleaned

    @property
    def change(self) -> Decimal | None:
        """What to give back for cash, once the form is valid (None when no tendered amount)."""
        cleaned = getattr(self, "cleaned_data", {})
        if cleaned.get("method") != PaymentRoute.CASH or cleaned.get("tendered") is None:
            return None
        return cleaned["tendered"] - cleaned["amount"]


class DaybookForm(forms.Form):
    """Which daybook to read: the office, and for a supervisor the cashier and the day."""

    office = forms.ChoiceField(label=_("Office"))
    cashier = forms.ChoiceField(label=_("Cashier"), required=False)
    day = forms.DateField(label=_("Day"), required=False, widget=_date_input())

    def __init__(self, *args, offices, cashiers=None, takes_payments=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["office"].choices = [(office.code, f"{office.code} {office.name}") for office in offices]
        if cashiers is None:
            del self.fields["cashier"]
            del self.fields["day"]
        else:
            self.cashiers = {str(user.pk): user for user in cashiers}
            self.fields["cashier"].choices = [
                ("", _("Myself") if takes_payments else _("Choose a cashier"))
            ] + [(pk, user.get_full_name() or user.username) for pk, user in self.cashiers.items()]
            self.fields["cashier"].error_messages["invalid_choice"] = _(
                "Choose a cashier posted at your offices."
            )

    def clean_cashier(self):
        value = self.cleaned_data.get("cashier")
        return self.cashiers[value] if value else None


class CashUpForm(forms.Form):
    """The end of the cashier's day: what was counted in the drawer."""

    office = forms.CharField(widget=forms.HiddenInput)
    counted_cash = _money(_("Cash counted"), required=True)
    counted_cheques = _money(_("Cheques counted"), required=True, help_text=_("The total of the cheques."))
    note = forms.CharField(
        label=_("Note (optional)"),
        required=False,
        max_length=2000,
        help_text=_("Explain a difference, if there is one."),
        widget=forms.Textarea(attrs={"rows": 2, "cols": 50}),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "cash-up")
        super().__init__(*args, **kwargs)
        self.fields["counted_cash"].error_messages["required"] = _("Enter the cash counted (0 if none).")
        self.fields["counted_cheques"].error_messages["required"] = _(
            "Enter the total of the cheques counted (0 if none)."
        )


class RefundRefuseForm(forms.Form):
    """A supervisor refuses a refund: the reason is required (the service says so) and kept."""

    reason = forms.CharField(
        label=_("Reason for refusing"),
        required=False,
        max_length=4000,
        help_text=_("Required; it is kept with the refund."),
        widget=forms.Textarea(attrs={"rows": 2, "cols": 40}),
    )

    def __init__(self, *args, refund, **kwargs):
        self.refund = refund
        kwargs.setdefault("prefix", f"refuse-{refund.pk}")
        super().__init__(*args, **kwargs)


class StatementUploadForm(forms.Form):
    """A bank's statement, as the CSV file the bank sends."""

    bank = forms.ModelChoiceField(
        label=_("Bank"), queryset=Bank.objects.none(), empty_label=_("Choose a bank")
    )
    file = forms.FileField(
        label=_("Statement (CSV)"),
        help_text=_(
            "Columns value_date, transaction_id, reference, amount, currency, description; dates as "
            "YYYY-MM-DD, amounts with a point."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bank"].queryset = Bank.objects.filter(active=True).order_by("code")
        self.fields["bank"].error_messages["required"] = _("Choose the bank of the statement.")
        self.fields["file"].error_messages["required"] = _("Choose the statement file.")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > STATEMENT_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(size)s MB.") % {"size": STATEMENT_MAX_BYTES // (1024 * 1024)}
            )
        return upload


class RevenueForm(forms.Form):
    """The period and office of the revenue report."""

    date_from = forms.DateField(label=pgettext_lazy("period", "From"), widget=_date_input())
    date_to = forms.DateField(label=_("Until"), widget=_date_input())
    office = forms.ChoiceField(label=_("Office"), required=False)

    def __init__(self, *args, office_codes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["office"].choices = [("", _("All your offices"))] + [
            (code, code) for code in office_codes
        ]
        self.fields["office"].error_messages["invalid_choice"] = _("Choose one of your offices.")

    def clean(self):
        cleaned = super().clean()
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to:
            if date_to < date_from:
                self.add_error("date_to", _("The end of the period is before its start."))
            elif date_to - date_from >= datetime.timedelta(days=REVENUE_MAX_DAYS):
                self.add_error(
                    "date_to", _("The period is at most %(days)s days.") % {"days": REVENUE_MAX_DAYS}
                )
        return cleaned
