"""Kerwen settings, read from the environment (django-environ).

Every value is documented in ``.env.example``. Required values (``DJANGO_SECRET_KEY``, ``DATABASE_URL``,
``REDIS_URL``) fail at start-up when missing. ``make run`` provides them for the embedded services.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env.str("DJANGO_SECRET_KEY")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
SECURE_COOKIES = env.bool("DJANGO_SECURE_COOKIES", default=False)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_SECONDS", default=8 * 3600)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework_api_key",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp_webauthn",
    "axes",
    "customs",
    "tariff",
    "declarations",
    "risk",
    "payments",
    "transit",
    "portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "customs.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "customs.middleware.SecondFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "customs.urls"
WSGI_APPLICATION = "customs.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "customs.context_processors.kerwen",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Server-side parameters and prepared statements: psycopg prepares a statement run five times on a
# connection, and PostgreSQL then plans it once instead of at every execution (a declaration's lock joins
# five tables: planning it cost more than running it). Django turns preparing off unless told
# (``prepare_threshold``); set DATABASE_PREPARE_THRESHOLD to "off" behind a pooler in transaction mode.
DATABASES["default"].setdefault("OPTIONS", {})["server_side_binding"] = env.bool(
    "DATABASE_SERVER_SIDE_BINDING", default=True
)
_PREPARE_THRESHOLD = env.str("DATABASE_PREPARE_THRESHOLD", default="5").strip().lower()
DATABASES["default"]["OPTIONS"]["prepare_threshold"] = (
    None if _PREPARE_THRESHOLD in {"", "off", "none"} else int(_PREPARE_THRESHOLD)
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "customs.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "django_otp_webauthn.backends.WebAuthnBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login lockout (django-axes): five failures per user name lock the account for the cool-off period.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked.html"
AXES_VERBOSE = False
# Locking by user name alone is deliberate: many officers of a border post share one NAT address, and
# locking that address would lock the whole post out.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

# Second factor: TOTP (django-otp) and WebAuthn passkeys (django-otp-webauthn).
OTP_TOTP_ISSUER = env.str("OTP_ISSUER", default="Kerwen")
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_WEBAUTHN_RP_ID = env.str("WEBAUTHN_RP_ID", default="localhost")
OTP_WEBAUTHN_RP_NAME = env.str("WEBAUTHN_RP_NAME", default="Kerwen")
OTP_WEBAUTHN_ALLOWED_ORIGINS = env.list("WEBAUTHN_ALLOWED_ORIGINS", default=["http://localhost:8000"])
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ru", _("Russian")), ("tk", _("Turkmen"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["customs.formats"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Ashgabat")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "var" / "media")))
MEDIA_URL = "media/"
WHITENOISE_USE_FINDERS = True

# Celery on Redis. The beat schedule lives here, under version control.
REDIS_URL = env.str("REDIS_URL")
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="kerwen")
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis down must not hold the request that sends a task (``customs.queue`` logs the failure and the
# sweepers send the work again): a few quick retries, then give up. Celery's defaults would retry the
# result backend's subscription for about 20 seconds per task sent.
_QUICK_RETRIES = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_TASK_PUBLISH_RETRY_POLICY = _QUICK_RETRIES
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 2
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"retry_policy": _QUICK_RETRIES}
# The worker keeps its database connections between tasks; ``customs.celery`` applies CONN_MAX_AGE and the
# health checks around each task instead (Celery's default opens a PostgreSQL backend per task).
CELERY_DB_REUSE_MAX = 2**62
CELERY_BEAT_SCHEDULE = {
    "import-exchange-rates-daily": {
        "task": "customs.import_exchange_rates",
        "schedule": timedelta(hours=env.int("EXCHANGE_RATES_EVERY_HOURS", default=24)),
    },
    # Printed documents whose task a broker outage lost are sent again.
    "sweep-declaration-prints": {"task": "declarations.sweep_prints", "schedule": timedelta(minutes=2)},
    # Uploaded declaration files whose import task a broker outage lost are read.
    "sweep-declaration-imports": {"task": "declarations.sweep_imports", "schedule": timedelta(minutes=1)},
    # Registered declarations left without a lane (their scoring task was lost) are scored again, and
    # examinations that waited for an officer are assigned.
    "sweep-selectivity": {"task": "risk.sweep", "schedule": timedelta(seconds=30)},
    # Re-assessed and cancelled declarations whose settlement task a broker outage lost are settled, and
    # receipts whose rendering was lost are rendered.
    "sweep-payments": {"task": "payments.sweep", "schedule": timedelta(minutes=1)},
    # Transit movements past their time limit without arrival are flagged overdue (and alerted), and
    # transit documents whose printing a broker outage lost are printed.
    "sweep-transit": {"task": "transit.sweep", "schedule": timedelta(minutes=2)},
    # Webhook deliveries whose retry is due, or whose task a broker outage lost, are sent.
    "sweep-webhooks": {"task": "customs.sweep_webhooks", "schedule": timedelta(minutes=1)},
    # Events older than EVENTS_RETENTION_DAYS are deleted, with their deliveries.
    "purge-events": {"task": "customs.purge_events", "schedule": timedelta(hours=24)},
}

# The secret seed of random selection (risk): with it an audit replays every draw; without it nobody
# can predict one. Empty: derived from DJANGO_SECRET_KEY.
RISK_RANDOM_SEED = env.str("RISK_RANDOM_SEED", default="")
# How often a scoring process asks whether criteria, random rates or profile settings changed: a change
# takes effect within this many seconds.
RISK_RULES_RECHECK_SECONDS = env.int("RISK_RULES_RECHECK_SECONDS", default=5)

# A bank callback whose timestamp is further than this from our clock is refused (replay protection).
PAYMENTS_CALLBACK_TOLERANCE_SECONDS = env.int("PAYMENTS_CALLBACK_TOLERANCE_SECONDS", default=300)

# Webhooks to traders' systems: a delivery is retried with growing delays for this many hours after its
# event; each POST waits this many seconds for an answer. Endpoints in private networks (127.0.0.1,
# 10.x, ...) are refused unless allowed here (development and tests only: never in production).
WEBHOOK_RETRY_HOURS = env.int("WEBHOOK_RETRY_HOURS", default=24)
WEBHOOK_TIMEOUT_SECONDS = env.int("WEBHOOK_TIMEOUT_SECONDS", default=10)
WEBHOOK_ALLOW_PRIVATE_NETWORKS = env.bool("WEBHOOK_ALLOW_PRIVATE_NETWORKS", default=False)
# Events (and their webhook deliveries) are kept this many days, then purged daily; 0 keeps them for ever.
EVENTS_RETENTION_DAYS = env.int("EVENTS_RETENTION_DAYS", default=400)

# Transit: signing keys
# The Ed25519 private keys (PEM files named <kid>.pem) that sign the QR token of transit accompanying
# documents. The key whose name sorts last signs; all are published at /.well-known/jwks.json. Web and
# worker processes must share the directory. Empty: a key is generated on first use (development only).
TRANSIT_SIGNING_KEYS_DIR = Path(
    env.str("TRANSIT_SIGNING_KEYS_DIR", default=str(BASE_DIR / "var" / "transit-keys"))
)

# Transit: the countries whose offices are ours (their NCTS reference numbers map to our office codes).
TRANSIT_NATIONAL_COUNTRIES = env.list("TRANSIT_NATIONAL_COUNTRIES", default=["TM"])

# E-mail of notifications (an overdue transit movement, say): EMAIL_URL such as
# smtp+tls://user:password@mail.example.org:587; by default mails are written to the log (console).
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="kerwen@localhost")
# The address people reach Kerwen at, for the links in e-mails.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# National currency and exchange rates.
NATIONAL_CURRENCY = env.str("NATIONAL_CURRENCY", default="TMT")
# The national currency's peg against a currency quoted by the ECB: "USD=3.5" means 1 USD = 3.5 TMT.
# ECB files quote rates against the euro; this anchors them to the national currency.
EXCHANGE_RATE_PEG = env.str("EXCHANGE_RATE_PEG", default="USD=3.5")
EXCHANGE_RATES_URL = env.str("EXCHANGE_RATES_URL", default="")
EXCHANGE_RATE_MAX_AGE_DAYS = env.int("EXCHANGE_RATE_MAX_AGE_DAYS", default=7)

# Where the reference data files live (shipped in the repository).
REFERENCE_DATA_DIR = BASE_DIR / "customs" / "reference_data"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "customs.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "customs.api.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "COERCE_DECIMAL_TO_STRING": True,
    "EXCEPTION_HANDLER": "customs.api.errors.error_envelope_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Kerwen API",
    "DESCRIPTION": "Customs declarations, tariff, payments and transit. Money travels as decimal strings.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI is served from the drf-spectacular-sidecar package, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # WeasyPrint logs every step of every document (and of its own import) at INFO.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
