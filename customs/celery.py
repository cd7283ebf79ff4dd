"""The one Celery application of Kerwen.

Tasks carry explicit names, e.g. ``customs.import_exchange_rates``.
"""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "customs.settings")

app = Celery("kerwen")
app.config_from_object("customs.celery_settings")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def _close_old_connections(task=None, **_kwargs):
    """Django's rules for its connections around each task, as around each request: one older than
    CONN_MAX_AGE, or left unusable by an error, is closed. Celery's own Django fixup would otherwise
    close every connection before and after every task (``CELERY_DB_REUSE_MAX`` turns that off), and
    a new PostgreSQL backend costs more CPU than the risk scoring it serves."""
    if task is not None and getattr(task.request, "is_eager", False):
        return  # run in the caller's process, perhaps inside its transaction: its connection is its own
    from django.db import close_old_connections

    close_old_connections()
