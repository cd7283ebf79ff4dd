"""Money: ``Decimal`` only, with the one rounding rule of the system.

Each tax amount is computed per item and rounded once, to the currency's minor unit, ROUND_HALF_UP
(see DOMAIN.md). Anything that rounds money calls :func:`round_money`; nothing else quantizes.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

MONEY_ROUNDING = ROUND_HALF_UP


def to_decimal(value) -> Decimal:
    """Convert an int, str or Decimal to Decimal. A float is refused: it cannot hold money exactly."""
    if isinstance(value, float):
        raise TypeError("Money must not be a float; pass a str or Decimal.")
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(value)
    except (InvalidOperation, TypeError) as error:
        raise ValueError(f"Not a decimal number: {value!r}") from error


def round_money(amount, minor_unit: int = 2) -> Decimal:
    """Round ``amount`` to ``minor_unit`` decimals, half up. The single rounding point for money."""
    exponent = Decimal(1).scaleb(-minor_unit)
    return to_decimal(amount).quantize(exponent, rounding=MONEY_ROUNDING)


@dataclass(frozen=True)
class Money:
    """An amount and its currency, travelling together."""

    amount: Decimal
    currency: str

    def __post_init__(self):
        object.__setattr__(self, "amount", to_decimal(self.amount))

    def __add__(self, other: "Money") -> "Money":
        if other.currency != self.currency:
            raise ValueError(f"Cannot add {other.currency} to {self.currency}")
        return Money(self.amount + other.amount, self.currency)

    def rounded(self, minor_unit: int = 2) -> "Money":
        return Money(round_money(self.amount, minor_unit), self.currency)

    def __str__(self):
        return f"{self.amount} {self.currency}"


def money_display(amount, minor_unit: int = 2) -> str:
    """``amount`` as people read it in the current language (``11,558.75``, ``11 558,75``), for
    messages; templates use ``floatformat:"2g"``."""
    from django.utils import formats

    return formats.number_format(to_decimal(amount), minor_unit, use_l10n=True, force_grouping=True)
