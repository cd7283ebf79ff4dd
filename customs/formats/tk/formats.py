"""Turkmen date formats without the Russian "г." that Django's own tk locale appends."""

from django.conf.locale.tk.formats import *  # noqa: F401,F403

DATE_FORMAT = "j E Y"
DATETIME_FORMAT = "j E Y G:i"
YEAR_MONTH_FORMAT = "F Y"
