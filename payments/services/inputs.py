"""Amounts typed by people or sent by systems, checked once: a number, finite, with at most two
decimals, within what an amount column holds. Anything else is a ``PaymentInvalid`` naming the field."""

from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from payments.services.errors import PaymentInvalid

# An amount column holds 18 digits, two of them decimals.
MAXIMUM = Decimal("9999999999999999.99")


def amount_input(value, *, field: str, allow_zero: bool = False) -> Decimal:
    if isinstance(value, float):
        raise PaymentInvalid(_("Send the amount as a decimal string, not a float."), field=field)
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, TypeError, ValueError):
        raise PaymentInvalid(_("Enter the amount as a number."), field=field) from None
    if not amount.is_finite():
        raise PaymentInvalid(_("Enter the amount as a number."), field=field)
    if amount.as_tuple().exponent < -2 and amount != amount.quantize(Decimal("0.01")):
        raise PaymentInvalid(_("Enter the amount with at most two decimals."), field=field)
    if amount < 0 or (amount == 0 and not allow_zero):
        raise PaymentInvalid(
            _("The amount cannot be negative.") if amount < 0 else _("The amount must be more than zero."),
            field=field,
        )
    if amount > MAXIMUM:
        raise PaymentInvalid(_("The amount is too large."), field=field)
    return amount.quantize(Decimal("0.01"))
