"""Settings of the benchmark server: the production settings, plus one trivial view (the framework floor).

``gunicorn customs.wsgi`` with ``DJANGO_SETTINGS_MODULE=benchmarks.settings``; the production URLs stay
untouched (``benchmarks.urls`` adds to them).
"""

from customs.settings import *  # noqa: F403 (the production settings, unchanged but for the URLs)

ROOT_URLCONF = "benchmarks.urls"
