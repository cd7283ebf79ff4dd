"""Test settings: the real PostgreSQL and Redis named by DATABASE_URL / REDIS_URL (``make test`` starts
embedded ones when those are unset), a fast password hasher, no network."""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only-secret-key-not-for-production")

from customs.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EXCHANGE_RATES_URL = ""
WHITENOISE_AUTOREFRESH = True
# Each xdist worker gets its own Celery queue, so one worker's Celery test never eats another's tasks.
CELERY_TASK_DEFAULT_QUEUE = "kerwen-test-" + os.environ.get("PYTEST_XDIST_WORKER", "main")
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
AXES_ENABLED = True
# Transactional tests empty every table with TRUNCATE; the audit table allows it only in this mode.
DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c kerwen.audit_maintenance=on"  # noqa: F405

# Every scoring sees the criteria, rates and profile settings a test has just written.
RISK_RULES_RECHECK_SECONDS = 0

# Transit signing keys of this test run (one directory per xdist worker, shared with the Celery worker
# process that a test starts, which sees the same environment): never the repository's var/.
TRANSIT_SIGNING_KEYS_DIR = (
    Path(tempfile.gettempdir())
    / "kerwen-tests"
    / ("transit-keys-" + os.environ.get("PYTEST_XDIST_WORKER", "main"))
)

# Tests receive webhooks on 127.0.0.1.
WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
WEBHOOK_TIMEOUT_SECONDS = 5
