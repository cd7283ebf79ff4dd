"""Portal forms of the payment screens. They only parse what the payer chose; the payments services
decide, and a ``PaymentError`` naming a field is put back next to it (``payment_error_to_form``)."""

from decimal import Decimal

from django import forms
from django.utils.formats import number_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from customs.models import CustomsOffice, Trader
from payments.selectors import payable_declarations_for_user
from payments.services.errors import PaymentError
from payments.services.permissions import payer_traders

MONEY_ATTRS = {"inputmode": "decimal", "size": 14, "autocomplete": "off"}


class ExpectedAmountForm(forms.Form):
    """The amount due the payer saw on the confirmation page. If the declaration was re-assessed
    meanwhile, the view refuses and shows the new amount instead of paying a figure nobody confirmed."""

    expected_amount = forms.DecimalField(max_digits=18, decimal_places=2, widget=forms.HiddenInput)


class OrderCreateForm(forms.Form):
    """The declarations (of one trader, ticked on the payments page) to put in one bank payment order."""

    declarations = forms.ModelMultipleChoiceField(
        label=_("Declarations to pay through the bank"),
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Tick at least one declaration to put in the payment order."),
            "invalid_choice": _("A declaration you ticked has nothing to pay now or is not yours to pay."),
            "invalid_pk_value": _("A declaration you ticked has nothing to pay now or is not yours to pay."),
        },
    )
    # Which trader's section of the payments page the form came from, to show its errors there.
    trader = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["declarations"].queryset = payable_declarations_for_user(user)


class _TraderChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} ({obj.taxpayer_id})"


class _OfficeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return str(obj)


class TopUpForm(forms.Form):
    """A payment order that adds money to a pre-paid account through the trader's bank."""

    trader = _TraderChoiceField(label=_("Pre-paid account of"), queryset=None, empty_label=None)
    amount = forms.DecimalField(
        label=_("Amount"),
        min_value=Decimal("0.01"),
        max_digits=16,
        decimal_places=2,
        widget=forms.TextInput(attrs=MONEY_ATTRS),
    )
    office = _OfficeChoiceField(
        label=_("Customs office that issues the receipt"),
        queryset=None,
        to_field_name="code",
        empty_label="—",
    )

    def __init__(self, *args, user, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["trader"].queryset = Trader.objects.filter(pk__in=payer_traders(user)).order_by("name")
        self.fields["office"].queryset = CustomsOffice.objects.filter(active=True).order_by("code")
        self.fields["amount"].help_text = gettext("In %(currency)s, with at most two decimals.") % {
            "currency": currency
        }


class _GuaranteeChoiceField(forms.ModelChoiceField):
    """A guarantee with what is still available on it, in the payer's words."""

    def __init__(self, *args, available=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.available = available or {}

    def label_from_instance(self, obj):
        available = self.available.get(obj.pk)
        if available is None:
            return str(obj)
        return gettext("%(reference)s (%(kind)s): %(available)s %(currency)s available") % {
            "reference": obj.reference,
            "kind": obj.get_kind_display(),
            "available": number_format(available, 2, force_grouping=True),
            "currency": obj.currency,
        }


class DeferForm(ExpectedAmountForm):
    """Defer a declaration's payment against one of the trader's guarantees that cover it."""

    guarantee = _GuaranteeChoiceField(
        label=_("Guarantee to defer against"), queryset=None, widget=forms.RadioSelect, empty_label=None
    )

    def __init__(self, *args, guarantees, available, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["guarantee"]
        field.queryset = guarantees
        field.available = available
        if len(available) == 1:
            field.initial = next(iter(available))


def payment_error_to_form(form: forms.Form, error: PaymentError) -> None:
    """Show a service's refusal next to the field it names, or above the form."""
    form.add_error(error.field if error.field in form.fields else None, error.message)
