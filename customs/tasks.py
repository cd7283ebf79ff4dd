"""Celery tasks of the kernel: thin, named, taking primitives, calling one service."""

import logging
import urllib.error

from celery import shared_task
from django.conf import settings

from customs.queue import enqueue_on_commit
from customs.services.events import events_purge
from customs.services.exchange_rates import exchange_rates_import_from
from customs.services.webhooks import webhook_deliver, webhook_deliveries_due

logger = logging.getLogger(__name__)


# Only transient network errors are retried; a missing file or a bad rate fails at once.
TRANSIENT_ERRORS = (urllib.error.URLError, TimeoutError, ConnectionError)


@shared_task(
    name="customs.import_exchange_rates", autoretry_for=TRANSIENT_ERRORS, retry_backoff=60, max_retries=5
)
def import_exchange_rates(location: str = "") -> dict:
    """Import the national bank's rates from ``location`` or the configured ``EXCHANGE_RATES_URL``.

    Idempotent: a day imported twice is upserted. Network errors retry with backoff.
    """
    location = location or settings.EXCHANGE_RATES_URL
    if not location:
        logger.info("EXCHANGE_RATES_URL is not set; no exchange rates imported")
        return {"skipped": True}
    result = exchange_rates_import_from(location)
    return {"days": [day.isoformat() for day in result.days], "rates_written": result.rates_written}


@shared_task(name="customs.deliver_webhook")
def deliver_webhook(delivery_id: int) -> str:
    """Try one webhook delivery if it is due (idempotent: a delivered or claimed one is left alone)."""
    return webhook_deliver(delivery_id)


@shared_task(name="customs.sweep_webhooks")
def sweep_webhooks() -> int:
    """Send the deliveries whose retry is due, or whose task a broker outage lost."""
    due = webhook_deliveries_due()
    for delivery_id in due:
        enqueue_on_commit("customs.deliver_webhook", delivery_id)  # outside a transaction: sent now
    return len(due)


@shared_task(name="customs.purge_events")
def purge_events() -> dict:
    """Delete the events older than the retention period, with their deliveries (daily)."""
    return events_purge()
