"""FocusedRoom settings.

Twelve-factor: every setting comes from the environment (an optional ``.env`` file in
the checkout is read in development). The README lists every variable.

``DJANGO_ENV`` is ``development`` (default), ``test`` or ``production``. Production
refuses to start without ``DATABASE_URL``, ``SECRET_KEY`` and ``ALLOWED_HOSTS``.
Without ``DATABASE_URL`` elsewhere, an embedded PostgreSQL server is started in
``.pgdata/`` (see ``focusedroom.embedded_db``).
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from focusedroom import task_middleware as _task_middleware

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env", overwrite=False)

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in {"development", "test", "production"}:
    raise ImproperlyConfigured(f"DJANGO_ENV must be development, test or production, not {DJANGO_ENV!r}.")
IS_PRODUCTION = DJANGO_ENV == "production"

if IS_PRODUCTION:
    missing = [name for name in ("DATABASE_URL", "SECRET_KEY", "ALLOWED_HOSTS") if not env.str(name, default="")]
    if missing:
        raise ImproperlyConfigured(
            "Production refuses to start without " + ", ".join(missing) + ". Set them in the environment."
        )

DEBUG = env.bool("DEBUG", default=not IS_PRODUCTION)
SECRET_KEY = env.str("SECRET_KEY", default="focusedroom-development-only-secret-key-not-for-production-use")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The address in emailed links. Unset, it follows the address the development server serves on:
# `make run HOST=… PORT=…` passes it as SERVE_ADDRESS (0.0.0.0 — every interface — is reached as 127.0.0.1).
SERVE_ADDRESS = env.str("SERVE_ADDRESS", default="127.0.0.1:8000").replace("0.0.0.0:", "127.0.0.1:")
SITE_URL = (env.str("SITE_URL", default="") or f"http://{SERVE_ADDRESS}").rstrip("/")

# --------------------------------------------------------------------------- apps

INSTALLED_APPS = [
    "focusedroom.apps.PlumbingConfig",
    "focusedroom.console.apps.FocusedRoomAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "pgtrigger",
    "procrastinate.contrib.django",
    "accounts",
    "engagement",
    "experiments",
    "profiles",
    "rewards",
    "integrations",
    "focusedroom.console.apps.ConsoleConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "focusedroom.middleware.VisitorIdMiddleware",
    "focusedroom.middleware.StorableInputMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "rewards.announcements.AnnouncementsMiddleware",  # unlocks and rank-ups, on the next page
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "focusedroom.middleware.ContentSecurityPolicyMiddleware",
]

if IS_PRODUCTION:  # static files served by the app itself behind the load balancer
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "focusedroom.urls"
WSGI_APPLICATION = "focusedroom.wsgi.application"
ASGI_APPLICATION = "focusedroom.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    }
]

# ----------------------------------------------------------------------- database

if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db_url("DATABASE_URL")}
else:
    from focusedroom.embedded_db import embedded_database_url

    DATABASES = {"default": env.db_url_config(embedded_database_url(BASE_DIR / ".pgdata"))}
# Persistent connections by default: opening a PostgreSQL connection costs more than most
# requests. CONN_HEALTH_CHECKS replaces a connection the server closed before it is reused.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=600)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Many web processes: either psycopg's connection pool inside each process (DB_POOL=true; Django
# then needs CONN_MAX_AGE=0, set here), or pgbouncer in transaction mode in front of PostgreSQL
# (DB_PGBOUNCER=true: no server-side cursors and no prepared statements, which a transaction-mode
# pooler cannot carry from one transaction to the next). See README "Deploying".
DB_POOL = env.bool("DB_POOL", default=False)
DB_PGBOUNCER = env.bool("DB_PGBOUNCER", default=False)
if DB_POOL and DB_PGBOUNCER:
    raise ImproperlyConfigured("DB_POOL and DB_PGBOUNCER are two ways to pool connections: choose one.")
if DB_POOL:
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DB_POOL_MIN_SIZE", default=2),
        "max_size": env.int("DB_POOL_MAX_SIZE", default=10),
        "timeout": env.float("DB_POOL_TIMEOUT", default=10.0),
    }
# Prepared statements only where the code asks for one (``execute(sql, params, prepare=True)`` on a
# server-side binding cursor: the ledger write, the token's person, the exposure's visitor-id
# look-up), planned once per connection. psycopg would prepare any statement run this many times;
# the ORM's, whose values are in the text, never are. Django's default (None) would refuse even the
# asked-for ones.
PREPARE_WHEN_ASKED_ONLY = 2**31 - 1
DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = PREPARE_WHEN_ASKED_ONLY
if DB_PGBOUNCER:
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
    DATABASES["default"]["OPTIONS"]["prepare_threshold"] = None

# Optional read replica for analytics reads (experiment results). Without one, the
# "replica" alias is not defined and analytics reads go to the primary.
if env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = env.db_url("DATABASE_REPLICA_URL")
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["focusedroom.db.ReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# -------------------------------------------------------------------------- redis
# Optional. When set, Redis holds the counters of throttles and rate limits (focusedroom.counters),
# the version of the experiment definitions, the exposure buffer (EXPOSURE_BUFFER) and the cache.
# Without it, the counters live in an UNLOGGED PostgreSQL table and exposures are written in the request.
REDIS_URL = env.str("REDIS_URL", default="")
# Every key FocusedRoom writes in Redis starts with this (several deployments may share a server).
REDIS_KEY_PREFIX = env.str("REDIS_KEY_PREFIX", default="fr:")
# Exposures: "redis" appends them to a Redis Stream written by `manage.py exposure_writer` (no database
# write in the request; the default when REDIS_URL is set), "sync" writes them in the request.
EXPOSURE_BUFFER = env.str("EXPOSURE_BUFFER", default="redis" if REDIS_URL else "sync")
if EXPOSURE_BUFFER not in {"redis", "sync"}:
    raise ImproperlyConfigured(f"EXPOSURE_BUFFER must be redis or sync, not {EXPOSURE_BUFFER!r}.")
if EXPOSURE_BUFFER == "redis" and not REDIS_URL:
    raise ImproperlyConfigured("EXPOSURE_BUFFER=redis needs REDIS_URL.")

# -------------------------------------------------------------------------- cache
# The shared cache (dashboard sections, holdout and definition fallbacks): the database cache by
# default, Redis when CACHE_URL or REDIS_URL is set. Nothing that must not be lost lives here.

_cache_url = env.str("CACHE_URL", default="") or REDIS_URL
if _cache_url:
    CACHES = {"default": env.cache_url_config(_cache_url)}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "focusedroom_cache",
        }
    }

# -------------------------------------------------------------------------- email

if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
elif IS_PRODUCTION:
    vars().update(env.email_url_config("smtp://localhost:25"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="FocusedRoom <hello@focusedroom.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The task engine (procrastinate, on the same database; see focusedroom.tasks). TASKS_EAGER runs a
# deferred task at commit time in the calling thread instead of queueing it (the test suite).
# Emails leave through it (focusedroom.email), and so does the work that follows a Big Five test.
TASKS_EAGER = env.bool("TASKS_EAGER", default=False)
# How long the receipts of background announcements are kept (focusedroom.delivery): longer than
# any retry of their job.
DELIVERY_RECEIPT_DAYS = env.int("DELIVERY_RECEIPT_DAYS", default=14)
# Workers beat every TASKS_HEARTBEAT_SECONDS; a worker silent for TASKS_STALLED_SECONDS is dead, and the
# periodic ``focusedroom.retry_stalled_jobs`` puts the jobs it was running back in the queue.
TASKS_HEARTBEAT_SECONDS = env.float("TASKS_HEARTBEAT_SECONDS", default=10.0)
TASKS_STALLED_SECONDS = env.float("TASKS_STALLED_SECONDS", default=30.0)
# The nightly focusedroom.remove_old_jobs deletes finished jobs after this many days, failed ones after the second.
TASKS_KEEP_FINISHED_DAYS = env.int("TASKS_KEEP_FINISHED_DAYS", default=7)
TASKS_KEEP_FAILED_DAYS = env.int("TASKS_KEEP_FAILED_DAYS", default=30)
PROCRASTINATE_WORKER_DEFAULTS = {
    "update_heartbeat_interval": TASKS_HEARTBEAT_SECONDS,
    "stalled_worker_timeout": TASKS_STALLED_SECONDS,
    "worker_middleware": [_task_middleware.record_failures],  # failed runs and their errors, for the console
}

# ------------------------------------------------------------------- auth / users

AUTH_USER_MODEL = "accounts.User"
# Django's model backend behind the failed-log-in limits (accounts.throttles).
AUTHENTICATION_BACKENDS = ["accounts.backends.ThrottledModelBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "account"
LOGOUT_REDIRECT_URL = "home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=60 * 60 * 24)
# An API token seen by a web process is remembered this many seconds (accounts.token_cache): a token
# revoked elsewhere keeps working in another process for at most this long (0: no memory).
API_TOKEN_CACHE_SECONDS = env.int("API_TOKEN_CACHE_SECONDS", default=30)
# How long a sign-up that claims an existing customer record stays valid.
ACCOUNT_CLAIM_TTL_HOURS = env.int("ACCOUNT_CLAIM_TTL_HOURS", default=48)

# Key for encrypted model fields (Fernet). A comma-separated list rotates keys: the
# first encrypts, all decrypt. Defaults to a key derived from SECRET_KEY.
FIELD_ENCRYPTION_KEYS = env.list(
    "FIELD_ENCRYPTION_KEY",
    default=[base64.urlsafe_b64encode(hashlib.sha256(f"field-encryption:{SECRET_KEY}".encode()).digest()).decode()],
)

# ------------------------------------------------------------------------- i18n

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# ------------------------------------------------------------------------ static

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if IS_PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# ----------------------------------------------------------------------- security

SESSION_COOKIE_HTTPONLY = True
# Sessions carry the person's id in a column, so erasure, soft deletion and a password change
# end every session of the person (accounts.sessions).
SESSION_ENGINE = "accounts.sessions"
CSRF_COOKIE_HTTPONLY = False  # the Big Five page's script reads it for fetch()
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy of every response (focusedroom.middleware.ContentSecurityPolicyMiddleware):
# the pages load nothing from elsewhere and run no inline script or style.
CONTENT_SECURITY_POLICY = env.str(
    "CONTENT_SECURITY_POLICY",
    default="default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'",
)
# HTML log-in (members and console) and API tokens: failed attempts allowed per account and per
# client address in a window, then the log-in is refused with a clear message until it ends.
LOGIN_FAILURES_PER_ACCOUNT = env.int("LOGIN_FAILURES_PER_ACCOUNT", default=10)
LOGIN_FAILURES_PER_ADDRESS = env.int("LOGIN_FAILURES_PER_ADDRESS", default=30)
LOGIN_FAILURE_WINDOW_SECONDS = env.int("LOGIN_FAILURE_WINDOW_SECONDS", default=15 * 60)
# Password-reset emails asked for, per account and per client address, in an hour.
PASSWORD_RESETS_PER_ACCOUNT = env.int("PASSWORD_RESETS_PER_ACCOUNT", default=3)
PASSWORD_RESETS_PER_ADDRESS = env.int("PASSWORD_RESETS_PER_ADDRESS", default=10)
# The interactive API docs (/api/docs/, /api/schema/) are public outside production; in
# production only staff see them unless API_DOCS_PUBLIC is set.
API_DOCS_PUBLIC = env.bool("API_DOCS_PUBLIC", default=not IS_PRODUCTION)
# How many proxies of ours stand in front of the app (load balancer, ingress). The client
# address is read from X-Forwarded-For only through them (focusedroom.context.client_ip);
# 0 (the default) ignores the header.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more.")
if IS_PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# ---------------------------------------------------------------------------- API

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api.authentication.HashedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "focusedroom.api.filters.BoundedFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    # The API reads JSON only (one way to send each value; forms are the pages' business).
    "DEFAULT_PARSER_CLASSES": ["focusedroom.api.negotiation.JSONParser"],
    # DRF's negotiation, the usual Accept headers answered without parsing (focusedroom.api.negotiation).
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "focusedroom.api.negotiation.ContentNegotiation",
    "DEFAULT_PAGINATION_CLASS": "focusedroom.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    # One throttle per request (user rate for a person, anon rate for an address), counted by
    # focusedroom.counters; the client address is focusedroom.context.client_ip (configured proxies only).
    "DEFAULT_THROTTLE_CLASSES": [
        "focusedroom.api.throttling.RateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON", default="120/min"),
        "user": env.str("THROTTLE_USER", default="1200/min"),
        "auth": env.str("THROTTLE_AUTH", default="20/min"),
    },
    "DEFAULT_SCHEMA_CLASS": "focusedroom.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "focusedroom.api.errors.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}
if DJANGO_ENV == "test":
    # Tests exercise throttling explicitly; default rates must not interfere.
    REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"].update({"anon": "100000/min", "user": "100000/min", "auth": "100000/min"})

SPECTACULAR_SETTINGS = {
    "TITLE": "FocusedRoom API",
    "DESCRIPTION": (
        "Growth and engagement platform: the Big Five assessment, A/B experiments, Insight Gems, "
        "campaign profiles and integrations. Every 4xx answer has the shape of the `Error` schema."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI is served from the vendored sidecar package: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SERVE_PERMISSIONS": [
        "rest_framework.permissions.AllowAny" if API_DOCS_PUBLIC else "rest_framework.permissions.IsAdminUser"
    ],
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a "status" field with different choices: name each enum.
    "ENUM_NAME_OVERRIDES": {
        "ExperimentStatusEnum": "experiments.models.ExperimentStatus",
        "BudgetStatusEnum": "profiles.models.Budget.Status",
        "ContainerStatusEnum": "profiles.models.ProfileContainer.Status",
        "ReferralStatusEnum": "rewards.models.Referral.Status",
        "PendingCreditStatusEnum": "rewards.models.PendingCredit.Status",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "focusedroom.api.schema.add_error_schema",
        "focusedroom.api.schema.add_links",
    ],
    # One tag per app (focusedroom.api.schema.AutoSchema tags each operation with its app).
    "TAGS": [
        {
            "name": "accounts",
            "description": "People and their tokens, sign-up, email verification, the member's "
            "own profile, custom fields and data export; staff: customers, channels and brands.",
        },
        {
            "name": "engagement",
            "description": "The Big Five assessment (inventory, submission, results), blog "
            "likes and helpful votes, and the event log.",
        },
        {
            "name": "experiments",
            "description": "A/B experiments: staff definition and lifecycle, results with "
            "statistics; public exposures (assignment), conversions and the running experiments for SDKs.",
        },
        {
            "name": "rewards",
            "description": "Insight Gems: the member's wallet, ledger, daily reward, achievements, "
            "wishlist, goals, referrals, product scans and redemptions; staff: the catalogue, ranks and achievements.",
        },
        {
            "name": "profiles",
            "description": "Campaign planning (seed 003): target customer profiles, brand "
            "guidelines, budgets with spend and alerts, profile containers, campaign usage and account overviews. "
            "Versioned records: send `version` (or `If-Match`) with a change.",
        },
        {"name": "integrations", "description": "Inbound webhooks from Customer.io and Kit (signed)."},
    ],
}

# ------------------------------------------------------------------------ logging

# One line per event: every logger propagates to the root's one handler. Django's own "django" logger
# would print a second copy through its default console handler: it keeps only the admins' email.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"require_debug_false": {"()": "django.utils.log.RequireDebugFalse"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "mail_admins": {
            "level": "ERROR",
            "filters": ["require_debug_false"],
            "class": "django.utils.log.AdminEmailHandler",
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django": {"handlers": ["mail_admins"], "level": "INFO", "propagate": True},
        "django.db.backends": {"level": "INFO"},
        "pgserver": {"level": "WARNING"},
        "procrastinate.blueprints": {"level": "WARNING"},
        "procrastinate.periodic": {"level": "WARNING"},  # not one line per periodic task at every start
    },
}

# How long the console's dashboard sections are kept in the shared cache (0: not cached).
DASHBOARD_CACHE_SECONDS = env.int("DASHBOARD_CACHE_SECONDS", default=120)

# ------------------------------------------------------------------- integrations
# Base URLs and secrets of the outside services; tests and staging point them at local servers.
CUSTOMERIO_TRACK_URL = env.str("CUSTOMERIO_TRACK_URL", default="https://track.customer.io/api/v1").rstrip("/")
CUSTOMERIO_WEBHOOK_SIGNING_SECRET = env.str("CUSTOMERIO_WEBHOOK_SIGNING_SECRET", default="")
KIT_API_URL = env.str("KIT_API_URL", default="https://api.kit.com").rstrip("/")
KIT_API_KEY = env.str("KIT_API_KEY", default="")
KIT_WEBHOOK_SECRET = env.str("KIT_WEBHOOK_SECRET", default="")
# Email verification links: validity and the cooldown between two emails to one person.
EMAIL_VERIFICATION_TTL_HOURS = env.int("EMAIL_VERIFICATION_TTL_HOURS", default=48)
EMAIL_VERIFICATION_COOLDOWN_SECONDS = env.int("EMAIL_VERIFICATION_COOLDOWN_SECONDS", default=300)
# One-click links in emails: a log-in link works once and for this many hours; an unsubscribe
# link (a separate token) keeps working for this many days.
ACTION_LOGIN_TTL_HOURS = env.int("ACTION_LOGIN_TTL_HOURS", default=24)
ACTION_UNSUBSCRIBE_TTL_DAYS = env.int("ACTION_UNSUBSCRIBE_TTL_DAYS", default=365)
# A Big Five test submitted with the address of an account waits this many days for the
# person to add it to their history from the emailed link.
PENDING_RESULT_TTL_DAYS = env.int("PENDING_RESULT_TTL_DAYS", default=14)
# A change of email address waits this many hours for the link sent to the new address.
EMAIL_CHANGE_TTL_HOURS = env.int("EMAIL_CHANGE_TTL_HOURS", default=24)
# Outbox delivery and inbound webhooks.
INTEGRATIONS_HTTP_TIMEOUT = env.float("INTEGRATIONS_HTTP_TIMEOUT", default=10.0)
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=8)
OUTBOX_BACKOFF_BASE_SECONDS = env.float("OUTBOX_BACKOFF_BASE_SECONDS", default=30)
OUTBOX_BACKOFF_MAX_SECONDS = env.float("OUTBOX_BACKOFF_MAX_SECONDS", default=21600)
# A delivery job reserves the rows it claims for OUTBOX_LEASE_SECONDS (at least twice the HTTP timeout
# plus one second): a worker killed mid-delivery leaves them to be claimed again once the lease expires.
OUTBOX_LEASE_SECONDS = env.float("OUTBOX_LEASE_SECONDS", default=120.0)
OUTBOX_BATCH_SIZE = env.int("OUTBOX_BATCH_SIZE", default=100)
WEBHOOK_TOLERANCE_SECONDS = env.int("WEBHOOK_TOLERANCE_SECONDS", default=300)

# ------------------------------------------------------------------- partitioned history, retention
# Events and impressions are partitioned by month (focusedroom.partitions); the daily maintenance
# job keeps this many months ahead created, and drops a month once all its rows are past retention.
PARTITIONS_MONTHS_AHEAD = env.int("PARTITIONS_MONTHS_AHEAD", default=3)
# Seed 004 §9.3: event logs older than a year, webhook logs older than six months. 0 keeps everything.
EVENTS_RETENTION_DAYS = env.int("EVENTS_RETENTION_DAYS", default=365)
IMPRESSIONS_RETENTION_DAYS = env.int("IMPRESSIONS_RETENTION_DAYS", default=0)
WEBHOOK_LOG_RETENTION_DAYS = env.int("WEBHOOK_LOG_RETENTION_DAYS", default=183)
