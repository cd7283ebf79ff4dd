"""Shared fixtures. Browser tests need Chromium: skipped when absent, never when CI=true."""

import os
import subprocess
import sys

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def verified_login():
    """Sign a test client in as ``user`` with a verified second factor (a confirmed TOTP device)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    def login(client, user):
        device, _created = TOTPDevice.objects.get_or_create(
            user=user, name="test", defaults={"confirmed": True}
        )
        client.force_login(user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        return client

    return login


CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright. Skipped when absent, but never under CI=true."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but no Chromium at {CHROMIUM}: browser tests must run in CI")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="en-GB")
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def _database_url() -> str:
    """The test database as a DATABASE_URL for the worker process (TCP host or Unix socket)."""
    from django.db import connection

    from customs.devstack import postgres_socket_url

    database = connection.settings_dict
    host, port = database["HOST"] or "", database["PORT"]
    if host.startswith("/"):
        return postgres_socket_url(host, database["NAME"], database["USER"], int(port or 5432))
    return f"postgres://{database['USER']}@{host}{':' + str(port) if port else ''}/{database['NAME']}"


@pytest.fixture
def worker_media_root(monkeypatch, settings, tmp_path):
    """The worker process (started after this fixture) writes its files where the test reads them."""
    monkeypatch.setenv("MEDIA_ROOT", str(tmp_path / "worker-media"))
    settings.MEDIA_ROOT = tmp_path / "worker-media"


@pytest.fixture
def celery_worker(django_db_setup):
    """``celery worker`` on this xdist worker's own queue, against the test database."""
    from django.conf import settings

    from customs.celery import app

    environment = {**os.environ, "DATABASE_URL": _database_url(), "DJANGO_SETTINGS_MODULE": "tests.settings"}
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
            f"test-{os.getpid()}@%h",
        ],
        cwd=settings.BASE_DIR,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    app.control.purge()
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
