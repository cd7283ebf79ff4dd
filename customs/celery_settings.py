"""Celery's configuration: the ``CELERY_*`` Django settings, read once, under Celery's own names.

Celery reads its configuration at every task sent. Given the Django settings object with a namespace, each
read tries the prefixed and plain names against Django's lazy settings and Celery's defaults, raising
and catching a KeyError for every miss: about a quarter of the cost of sending a task, which every
lodgement does. Imported lazily by Celery on its first read, when Django's settings are loaded.
"""

from django.conf import settings

_PREFIX = "CELERY_"

for _name in dir(settings):
    if _name.startswith(_PREFIX):
        globals()[_name[len(_PREFIX) :].lower()] = getattr(settings, _name)

# Read under its own name by Celery's Django fixup (not a Celery setting proper).
CELERY_DB_REUSE_MAX = getattr(settings, "CELERY_DB_REUSE_MAX", None)

# Redis as the broker: kombu's transport, keeping one command client per channel (customs.broker).
if str(globals().get("broker_url", "")).startswith("redis://"):
    broker_transport = "customs.broker:Transport"
