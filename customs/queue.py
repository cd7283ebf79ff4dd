"""The one way to enqueue Celery work: by task name, after the current transaction commits.

Sending by name keeps apps free of imports to their right (STYLE.md); deferring to commit means a
worker never sees a row that was rolled back, or misses one that is not yet visible.
"""

import logging

from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue_on_commit(task_name: str, *args, countdown: int | None = None, **kwargs) -> None:
    """Send task ``task_name`` with primitive ``args`` once the surrounding transaction commits
    (``countdown``: to run that many seconds later).

    If the broker is down the error is logged, not raised: the periodic sweepers of each app re-enqueue
    work that was lost, so a Redis outage delays work but never loses it.
    """
    from customs.celery import app

    options = {"countdown": countdown} if countdown is not None else {}

    def send():
        try:
            # Nobody waits for these results: the worker stores none, and sending subscribes to none.
            app.send_task(task_name, args=args, kwargs=kwargs, ignore_result=True, **options)
        except Exception:  # broker outage: the sweeper will pick the work up
            logger.exception("Could not enqueue %s; a sweeper will retry", task_name)

    transaction.on_commit(send)
