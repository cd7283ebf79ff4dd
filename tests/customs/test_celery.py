"""A real Celery worker, started as its own process, runs kernel tasks through the real Redis."""

from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction

from customs.celery import app
from customs.models import ExchangeRate
from customs.queue import enqueue_on_commit
from tests.customs.factories import CurrencyFactory
from tests.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
ECB_DAILY = (
    Path(settings.BASE_DIR) / "customs" / "reference_data" / "demo" / "ecb_eurofxref-daily_2017-03-08.xml"
)


def test_worker_imports_rates_enqueued_on_commit(celery_worker):
    for code in ("USD", "EUR", "GBP"):
        CurrencyFactory(code=code)

    with transaction.atomic():
        enqueue_on_commit("customs.import_exchange_rates", str(ECB_DAILY))
        assert ExchangeRate.objects.count() == 0  # nothing is sent before the commit

    imported = wait_for(lambda: ExchangeRate.objects.count() == 3)

    assert imported, (
        celery_worker.stdout.read() if celery_worker.poll() is not None else "worker did not import"
    )
    assert set(ExchangeRate.objects.values_list("currency__code", flat=True)) == {"USD", "EUR", "GBP"}


def test_worker_returns_the_task_result_through_redis(celery_worker):
    CurrencyFactory(code="USD")

    result = app.send_task("customs.import_exchange_rates", args=[str(ECB_DAILY)])

    assert result.get(timeout=60) == {"days": ["2017-03-08"], "rates_written": 1}


def test_nothing_is_sent_when_the_transaction_rolls_back(celery_worker):
    CurrencyFactory(code="USD")

    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue_on_commit("customs.import_exchange_rates", str(ECB_DAILY))
        raise RuntimeError("rolled back")
    probe = app.send_task("customs.import_exchange_rates", args=[str(ECB_DAILY) + ".missing"])

    with pytest.raises(FileNotFoundError):
        probe.get(timeout=60)  # the worker has drained the queue up to the probe
    assert ExchangeRate.objects.count() == 0


def test_the_broker_channel_sends_through_one_client_until_its_pool_is_replaced():
    from customs.broker import Channel

    with app.connection_for_write() as connection:
        channel = connection.default_channel
        assert isinstance(channel, Channel)  # customs.celery_settings chose it for a Redis broker
        first = channel._create_client()
        assert channel._create_client() is first
        assert first.ping()
        channel._disconnect_pools()
        replaced = channel._create_client()
        assert replaced is not first
        assert replaced.connection_pool is channel.pool
        assert channel._create_client(asynchronous=True) is not replaced  # the poll loop's own
