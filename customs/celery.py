"""The one Celery application of Kerwen.

Tasks carry explicit names, e.g. ``customs.import_exchange_rates``.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "customs.settings")

app = Celery("kerwen")
app.config_from_object("customs.celery_settings")
app.autodiscover_tasks()
