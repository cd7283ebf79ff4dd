# Kerwen's production image: the web app (gunicorn), the Celery worker and Celery beat all run from it.
# Built by docker-compose.yml; configured entirely from the environment (.env.example).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# WeasyPrint (printed documents) needs Pango; DejaVu covers Latin, Cyrillic and Turkmen.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin kerwen

WORKDIR /app

COPY requirements.lock ./
RUN pip install -r requirements.lock

# The application only, folder by folder (never .venv/, var/, .env or .git/ of the build machine).
# A new top-level app or folder must be added here.
COPY manage.py pyproject.toml ./
COPY customs ./customs
COPY tariff ./tariff
COPY declarations ./declarations
COPY risk ./risk
COPY payments ./payments
COPY transit ./transit
COPY portal ./portal
COPY templates ./templates
COPY static ./static
COPY locale ./locale

# Static files are collected into the image (var/staticfiles, served by WhiteNoise). The settings need
# these three variables to load; the values are placeholders that nothing connects to.
RUN DJANGO_SECRET_KEY=collectstatic-at-build-only \
    DATABASE_URL=postgres://build@localhost/build \
    REDIS_URL=redis://localhost:6379/0 \
    python manage.py collectstatic --noinput --verbosity 0 \
    && mkdir -p var/media var/beat var/transit-keys \
    && chown -R kerwen:kerwen var/media var/beat var/transit-keys

USER kerwen

EXPOSE 8000
CMD ["gunicorn", "customs.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
