"""Settings of the benchmark server: the production settings, plus one trivial view (the framework floor).

``gunicorn customs.wsgi`` with ``DJANGO_SETTINGS_MODULE=benchmarks.settings``; the production URLs stay
untouched (``benchmarks.urls`` adds to them).
"""

import os

from customs.settings import *  # noqa: F403 (the production settings, unchanged but for the URLs)

ROOT_URLCONF = "benchmarks.urls"

if os.environ.get("KERWEN_BENCH_LOCK_FIX"):
    # The benchmark's --lock-fix experiment: select_for_update() on declarations locks their rows only.
    from benchmarks.declarations import lock_declaration_rows_only

    lock_declaration_rows_only()
