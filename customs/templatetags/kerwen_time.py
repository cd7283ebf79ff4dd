"""Template filters for times shown to people."""

from django import template
from django.utils.timesince import timesince

register = template.Library()


@register.filter
def age(value):
    """How long ago, in its largest unit only ("3 hours"): short for a table cell, and free of the
    separator between units, which Django's Turkmen catalogue translates wrongly."""
    if not value:
        return ""
    return timesince(value, depth=1)
