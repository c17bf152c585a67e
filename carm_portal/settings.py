"""carm-portal settings: one file, read from the environment.

Every value has an embedded development default (SQLite and a file-system Celery broker under
``var/``, console email) so ``make run`` works on a bare machine; production (``DJANGO_ENV=production``)
has no insecure default and refuses to start without a real ``SECRET_KEY``.
"""

from __future__ import annotations

import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("CARM_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in {"development", "production", "test"}:
    raise ImproperlyConfigured(
        f"DJANGO_ENV must be development, production or test, not {DJANGO_ENV!r}."
    )
PRODUCTION = DJANGO_ENV == "production"

# --- Core -----------------------------------------------------------------------------------------
DEV_SECRET_KEY = "django-insecure-carm-portal-development-key-never-use-in-production"  # noqa: S105
SECRET_KEY = env.str("SECRET_KEY", default=DEV_SECRET_KEY if not PRODUCTION else "")
if PRODUCTION and (not SECRET_KEY or SECRET_KEY == DEV_SECRET_KEY or len(SECRET_KEY) < 50):
    sys.stderr.write(
        "carm-portal: DJANGO_ENV=production needs a real SECRET_KEY (50+ random characters) in the "
        "environment. Generate one with:\n  python -c 'import secrets; print(secrets.token_urlsafe(64))'\n"
    )
    raise ImproperlyConfigured("SECRET_KEY is missing or is the development default.")

DEBUG = env.bool("DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_ID = 1

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_htmx",
    "formtools",
    "simple_history",
    "csp",
    "carm_portal",
    "clients",
    "delegation",
    "statements",
    "payments",
    "services",
]

# Content-Security-Policy: no inline script or style anywhere (templates load our own files only;
# the API docs use drf-spectacular's split view, whose script is a file), nothing from elsewhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "carm_portal.headers.SecurityHeadersMiddleware",  # after WhiteNoise: dynamic responses only
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "carm_portal.nul_guard.NulGuardMiddleware",  # before CSRF: a NUL is a 400 whatever it is
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "carm_portal.user_language.SavedLanguageMiddleware",  # after auth: reads request.user
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "carm_portal.mfa.MFARequiredMiddleware",  # after auth and messages: broker staff need MFA
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "carm_portal.urls"
WSGI_APPLICATION = "carm_portal.wsgi.application"

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
                "carm_portal.context_processors.navigation",
            ],
            # The money filter and the SVG coordinates: one definition, in every template; and
            # {% url %} with its answers remembered (carm_portal/reversing.py).
            "builtins": [
                "carm_portal.templatetags.formatting",
                "carm_portal.templatetags.url_tag",
            ],
        },
    },
]

# Form widgets through Jinja2 where they have a Jinja2 template (Django's own widgets), else the
# template engine (the admin's): see carm_portal/form_renderer.py.
FORM_RENDERER = "carm_portal.form_renderer.JinjaFirstRenderer"

# --- Data -----------------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'carm.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server and the Celery worker share the file without "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", "timeout": 20}
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # No JIT compilation: the planner's cost of a page's correlated subqueries over 50,000
    # statements passes JIT's threshold, and compiling took 0.5 s of a query that runs in 0.1 s.
    # (The big set-based reconciliation queries gain nothing measurable from it either.)
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Users and login (django-allauth; email is the login) -----------------------------------------
AUTH_USER_MODEL = "carm_portal.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_ADAPTER = "carm_portal.adapters.AccountAdapter"
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[carm-portal] "
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/5m/key"}

# --- Two-factor authentication (allauth.mfa; who must have it: clients/access.py) --------------
# An authenticator app (TOTP), recovery codes and passkeys/security keys (WebAuthn). Broker staff
# (and anyone who may use the Django admin) must set one up before any other page opens
# (carm_portal/mfa.py); an importer's BAM before revealing a bank account number.
# The password always comes first: passkeys are a second factor here, not a passwordless login.
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_TOTP_TOLERANCE = 1  # a code of the 30 s step before or after is accepted (phone clock drift)
MFA_ADAPTER = "carm_portal.mfa.MFAAdapter"  # names the broker to authenticator apps and keys

# --- Email ----------------------------------------------------------------------------------------
globals().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="carm-portal <noreply@carm-portal.local>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Internationalisation (Canada's official languages; English shipped) ------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="America/Toronto")
CBSA_TIME_ZONE = "America/Toronto"  # CBSA deadlines are Eastern whatever the server runs in.
USE_I18N = True
# One date format per language (ISO 8601 in both), and the grouping the money filter uses.
FORMAT_MODULE_PATH = ["carm_portal.formats"]
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.str("STATIC_ROOT", default=str(VAR_DIR / "static"))
MEDIA_URL = "media/"
MEDIA_ROOT = env.str("MEDIA_ROOT", default=str(VAR_DIR / "media"))
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Uploaded and generated files (statement files, PDFs, compliance documents) go to the default
# storage: the file system under MEDIA_ROOT, or an S3-compatible bucket (AWS S3, MinIO, Ceph...)
# when STORAGE_S3_BUCKET is set (django-storages). Files are served only by access-checked views,
# so the bucket stays private; nothing links to it directly.
STORAGE_S3_BUCKET = env.str("STORAGE_S3_BUCKET", default="")
if STORAGE_S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": STORAGE_S3_BUCKET,
            "endpoint_url": env.str("STORAGE_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("STORAGE_S3_REGION", default="") or None,
            "access_key": env.str("STORAGE_S3_ACCESS_KEY", default="") or None,
            "secret_key": env.str("STORAGE_S3_SECRET_KEY", default="") or None,
            "default_acl": "private",
            "file_overwrite": False,
            "querystring_auth": True,
        },
    }
# The largest compliance document accepted (bytes); larger uploads are refused.
COMPLIANCE_DOCUMENT_MAX_BYTES = env.int("COMPLIANCE_DOCUMENT_MAX_BYTES", default=20 * 1024 * 1024)

# --- Celery ---------------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "celery" / "queue"
    _processed_dir = VAR_DIR / "celery" / "processed"
    _control_dir = VAR_DIR / "celery" / "control"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_processed_dir),
        "control_folder": str(_control_dir),
        "store_processed": False,
    }
    for _folder in (_queue_dir, _processed_dir, _control_dir):
        _folder.mkdir(parents=True, exist_ok=True)
else:
    # Redis hands an unacknowledged message (its worker died: acks_late) to another worker after
    # this many seconds. Keep it above the longest job, or a slow job is delivered twice (the
    # job's claim then refuses the second delivery, but a worker is tied up saying so).
    # The socket timeouts bound a publish to a broker that vanished without closing the
    # connection (failover, a firewall): the request gives up and the job waits in the database.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
        "socket_connect_timeout": 2,
        "socket_timeout": 10,
    }
# Sending a job to the broker from a web request: a few quick retries, then the job stays queued
# in the database for the re-dispatch job (statements/redispatch.py) instead of failing the page.
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=2.0)
CELERY_RESULT_BACKEND = None  # progress lives on the database rows the jobs write
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {"*.heavy_*": {"queue": "heavy"}}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
# Periodic jobs are declared once, in carm_portal/celery.py (its beat_schedule).

# --- REST API -------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: an anonymous API call gets 401 with WWW-Authenticate, not a bare 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "carm_portal.mfa.TokenAuthentication",  # personal tokens; staff without MFA: 403
        "rest_framework.authentication.SessionAuthentication",
    ],
    "EXCEPTION_HANDLER": "carm_portal.api.exception_handler",
    # DRF's JSON parser, refusing (400) bodies nested deeper than API_MAX_JSON_DEPTH.
    "DEFAULT_PARSER_CLASSES": [
        "carm_portal.json_guard.DepthLimitedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Rates in API_THROTTLE_RATES, read on each request (carm_portal/throttles.py): 429 + Retry-After.
    "DEFAULT_THROTTLE_CLASSES": [
        "carm_portal.throttles.AnonThrottle",
        "carm_portal.throttles.UserThrottle",
        "carm_portal.throttles.TokenThrottle",
        "carm_portal.throttles.ScopedThrottle",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}
# Personal API tokens (carm_portal/api_tokens.py): lifetime when made, and the longest allowed.
API_TOKEN_DEFAULT_DAYS = env.int("API_TOKEN_DEFAULT_DAYS", default=90)
API_TOKEN_MAX_DAYS = env.int("API_TOKEN_MAX_DAYS", default=365)
# Requests allowed per period ("n/second|minute|hour|day"); None for no limit.
API_THROTTLE_RATES = {
    "anon": env.str("API_THROTTLE_ANON", default="60/minute"),
    "user": env.str("API_THROTTLE_USER", default="1200/minute"),
    "token": env.str("API_THROTTLE_TOKEN", default="600/minute"),
    # Actions that send email to someone else (inviting, resending an invitation).
    "invitation-send": env.str("API_THROTTLE_INVITATION_SEND", default="30/hour"),
}
# The OpenAPI schema and Swagger UI for anyone (True), or for signed-in people only (False).
API_DOCS_PUBLIC = env.bool("API_DOCS_PUBLIC", default=not PRODUCTION)
API_MAX_JSON_DEPTH = env.int("API_MAX_JSON_DEPTH", default=64)
SPECTACULAR_SETTINGS = {
    "TITLE": "carm-portal API",
    "DESCRIPTION": "Importers, delegations, statements and payments of a customs broker's clients.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The answers every operation can give (401, 403, 429; 400 with a body; 404 on a row).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "carm_portal.api.document_common_answers",
    ],
}

# --- Domain settings ------------------------------------------------------------------------------
# Dates a person enters run from 2000 to this many years ahead (carm_portal/dates.py).
BUSINESS_DATE_MAX_YEARS_AHEAD = env.int("BUSINESS_DATE_MAX_YEARS_AHEAD", default=10)
# Account security numbers (ASEC) of this broker: the first five digits of its transaction numbers.
BROKER_ASECS = env.list("BROKER_ASECS", default=["12345"])
BROKER_NAME = env.str("BROKER_NAME", default="Demo Customs Brokers Inc.")
MFA_TOTP_ISSUER = BROKER_NAME  # the name an authenticator app shows next to the code
# WebAuthn refuses plain http origins; allowed only for the development server (DEBUG).
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG
# Delegation checks (delegation/rules.py): notice days before expiry, days a request may wait for
# the importer's approval, and whether this broker needs pBAM (payments, statements) rather than pPAM.
DELEGATION_EXPIRY_NOTICE_DAYS = env.list(
    "DELEGATION_EXPIRY_NOTICE_DAYS", cast=int, default=[30, 14, 7]
)
DELEGATION_PENDING_DAYS = env.int("DELEGATION_PENDING_DAYS", default=7)
DELEGATION_BROKER_NEEDS_PBAM = env.bool("DELEGATION_BROKER_NEEDS_PBAM", default=True)
# Base URL used in emails sent by background jobs (no request to build links from).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
# --- Statements (statements/importing/, statements/views.py) -------------------------------------
# Bad rows listed per refused file (the rest are counted); uploads up to this size are imported
# during the request, larger ones by a worker on the "heavy" queue; a batch left "running" this long
# by a worker that died may be claimed again; statements due within this many days are "due soon".
STATEMENTS_IMPORT_MAX_ERRORS = env.int("STATEMENTS_IMPORT_MAX_ERRORS", default=1000)
STATEMENTS_INLINE_IMPORT_MAX_BYTES = env.int(
    "STATEMENTS_INLINE_IMPORT_MAX_BYTES", default=1024 * 1024
)
STATEMENTS_UPLOAD_MAX_BYTES = env.int("STATEMENTS_UPLOAD_MAX_BYTES", default=500 * 1024 * 1024)
STATEMENTS_IMPORT_STALE_SECONDS = env.int("STATEMENTS_IMPORT_STALE_SECONDS", default=3600)
STATEMENTS_DUE_SOON_DAYS = env.int("STATEMENTS_DUE_SOON_DAYS", default=7)

# --- The broker's Today view (carm_portal/today/) ----------------------------------------------
# An importer's onboarding is "stalled" when no checklist step was done in this many days.
ONBOARDING_STALLED_DAYS = env.int("ONBOARDING_STALLED_DAYS", default=14)

# --- Reconciliation (statements/reconciliation/, statements/reports.py) -----------------------
# A line differing from its entry by no more than the tolerance is "matched within tolerance"; an
# exception may be written off only up to the limit; reports with more items than PDF_INLINE_ITEMS
# are rendered by a worker and downloaded when ready; imports start a reconciliation by themselves.
RECONCILIATION_TOLERANCE = Decimal(env.str("RECONCILIATION_TOLERANCE", default="0.00"))
RECONCILIATION_WRITE_OFF_LIMIT = Decimal(
    env.str("RECONCILIATION_WRITE_OFF_LIMIT", default="100.00")
)
RECONCILIATION_PDF_INLINE_ITEMS = env.int("RECONCILIATION_PDF_INLINE_ITEMS", default=200)
RECONCILIATION_AFTER_IMPORT = env.bool("RECONCILIATION_AFTER_IMPORT", default=True)
# A run left "running" this long by a worker that died may be claimed again.
RECONCILIATION_STALE_SECONDS = env.int(
    "RECONCILIATION_STALE_SECONDS", default=STATEMENTS_IMPORT_STALE_SECONDS
)

# Queued jobs (imports, reconciliation runs, PDFs) whose message never reached the broker are sent
# again after JOBS_DISPATCH_GRACE_SECONDS; ones sent but still not started (the message was lost)
# after JOBS_REDISPATCH_SECONDS (statements/redispatch.py, every minute from beat).
JOBS_DISPATCH_GRACE_SECONDS = env.int("JOBS_DISPATCH_GRACE_SECONDS", default=60)
JOBS_REDISPATCH_SECONDS = env.int("JOBS_REDISPATCH_SECONDS", default=900)
# Staff are warned when no worker has answered the heartbeat job on a queue for this long.
WORKER_HEARTBEAT_WARN_MINUTES = env.int("WORKER_HEARTBEAT_WARN_MINUTES", default=5)
WORKER_QUEUES = ("default", "heavy")

# --- Invitations and the onboarding wizard (clients/invitations.py, carm_portal/onboarding_wizard/)
INVITATION_EXPIRY_DAYS = env.int("INVITATION_EXPIRY_DAYS", default=14)
# An invitation is not sent again within this many seconds; one address gets at most this many
# invitation emails a day (clients/invitations.py: check_send_rate).
INVITATION_RESEND_MIN_SECONDS = env.int("INVITATION_RESEND_MIN_SECONDS", default=60)
INVITATION_SENDS_PER_ADDRESS_PER_DAY = env.int("INVITATION_SENDS_PER_ADDRESS_PER_DAY", default=10)

# --- Payments (payments/*) ----------------------------------------------------------------------
# Bank account numbers for pre-authorized debit are encrypted at rest with Fernet (``cryptography``).
# PAYMENTS_ENCRYPTION_KEYS: comma-separated Fernet keys, newest first: the first encrypts, every one
# decrypts, so a key is rotated by putting the new one first (then ``manage.py rotate_bank_keys``).
# Generate one with: python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'
# Development and tests use a fixed key; production refuses to start without its own.
DEV_PAYMENTS_ENCRYPTION_KEY = "TaW5IXzw0DDtB-yVeDwzvRknwSQ2jR8Oiq87vrqM-O4="  # DEV ONLY
PAYMENTS_ENCRYPTION_KEYS = env.list(
    "PAYMENTS_ENCRYPTION_KEYS", default=[] if PRODUCTION else [DEV_PAYMENTS_ENCRYPTION_KEY]
)
if PRODUCTION and (
    not PAYMENTS_ENCRYPTION_KEYS or DEV_PAYMENTS_ENCRYPTION_KEY in PAYMENTS_ENCRYPTION_KEYS
):
    sys.stderr.write(
        "carm-portal: DJANGO_ENV=production needs PAYMENTS_ENCRYPTION_KEYS (a Fernet key) in the "
        "environment to encrypt bank account numbers. Generate one with:\n  python -c 'from "
        "cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'\n"
    )
    raise ImproperlyConfigured("PAYMENTS_ENCRYPTION_KEYS is missing or is the development key.")
# Authenticator-app secrets and recovery-code seeds (allauth MFA) are encrypted the same way
# (``carm_portal.mfa.MFAAdapter``); rotate with ``manage.py rotate_mfa_keys``. They default to the
# payments keys; set MFA_ENCRYPTION_KEYS to keep the two apart.
MFA_ENCRYPTION_KEYS = env.list("MFA_ENCRYPTION_KEYS", default=PAYMENTS_ENCRYPTION_KEYS)
# CBSA's limit on credit card payments in the CCP, per billing cycle per program account.
PAYMENTS_CREDIT_CARD_LIMIT = Decimal(env.str("PAYMENTS_CREDIT_CARD_LIMIT", default="4999.99"))
# Payment reminders: weekdays before the due date, and days overdue before a notice of arrears.
PAYMENTS_DUE_NOTICE_WEEKDAYS = env.int("PAYMENTS_DUE_NOTICE_WEEKDAYS", default=5)
PAYMENTS_ARREARS_DAYS = env.int("PAYMENTS_ARREARS_DAYS", default=30)
# Late-payment estimate: the penalty per late statement (AMPS C336 was $200 per instance before
# CARM; check the current schedule), and the first day interest and penalties apply again
# (the relief ended for balances overdue from 31 January 2026).
PAYMENTS_LATE_PENALTY = Decimal(env.str("PAYMENTS_LATE_PENALTY", default="200.00"))
PAYMENTS_LATE_CHARGES_FROM = date.fromisoformat(
    env.str("PAYMENTS_LATE_CHARGES_FROM", default="2026-01-31")
)
# Business days a payment takes to post at CBSA before "in transit" becomes "not posted, check".
PAYMENTS_POSTING_DAYS_ELECTRONIC = env.int("PAYMENTS_POSTING_DAYS_ELECTRONIC", default=3)
PAYMENTS_POSTING_DAYS_CHEQUE = env.int("PAYMENTS_POSTING_DAYS_CHEQUE", default=10)
# Financial security: days before a surety bond's expiry date that the daily check warns.
SECURITY_EXPIRY_NOTICE_DAYS = env.int("SECURITY_EXPIRY_NOTICE_DAYS", default=60)

# --- Logging --------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {
        "forbidden_in_one_line": {"()": "carm_portal.log_filters.ForbiddenInOneLine"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        # As in Django's defaults: server errors mailed to ADMINS (when set) outside DEBUG.
        "mail_admins": {
            "level": "ERROR",
            "filters": ["require_debug_false"],
            "class": "django.utils.log.AdminEmailHandler",
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # Django's default config gives "django" its own console handler (in DEBUG) besides the
        # root's: every request error was written twice. One handler, the root's, via propagation.
        "django": {"handlers": ["mail_admins"], "level": "INFO", "propagate": True},
        # A 403 is an answer, not an error: one line, no traceback (carm_portal/log_filters.py).
        "django.request": {"filters": ["forbidden_in_one_line"], "propagate": True},
    },
}

# --- Production hardening (manage.py check --deploy is clean with DJANGO_ENV=production) ---------
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"
    ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https"
