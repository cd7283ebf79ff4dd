"""Template filters of the payments screens and documents."""

from django import template
from django.utils.translation import gettext_lazy as _

from tariff.choices import MeasureType

register = template.Library()

FEE = "customs_fee"


@register.filter
def tax_label(code: str) -> str:
    """The name of a tax (a revenue account's or an entry's ``tax_type``) in the current language."""
    if code in MeasureType.values:
        return str(MeasureType(code).label)
    if code == FEE:
        return str(_("Customs fee"))
    return code or "—"
