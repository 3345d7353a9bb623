"""Settings, all read from the environment (twelve-factor, django-environ).

With no DATABASE_URL / REDIS_URL the app runs on SQLite and kombu's filesystem
broker so that `make run` needs nothing but Python.
"""

import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF

from common.fields import derived_key

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env(
    DEBUG=(bool, False),
    ALLOWED_HOSTS=(list, ["localhost", "127.0.0.1", "[::1]"]),
    CSRF_TRUSTED_ORIGINS=(list, []),
    REDIS_URL=(str, ""),
    REQUIRE_SERVICES=(bool, False),
)
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env("DEBUG")
# A fixed key only for development and the test suite; production must set SECRET_KEY.
TESTING = "pytest" in sys.modules
# Management commands (imports, migrations, checks) must work on a fresh checkout; only the
# long-running servers (gunicorn, Celery in production) insist on a real key.
_key_optional = DEBUG or TESTING or Path(sys.argv[0]).name == "manage.py"
SECRET_KEY = env(
    "SECRET_KEY", default="dev-only-insecure-key" if _key_optional else environ.Env.NOTSET
)
# ID numbers are encrypted at rest (common/fields.py). FIELD_ENCRYPTION_KEY: one Fernet key,
# or several separated by commas (the first encrypts; all decrypt, for rotation). Without
# it a key is derived from SECRET_KEY (development; `check --deploy` warns).
FIELD_ENCRYPTION_KEY_FROM_ENV = bool(env.str("FIELD_ENCRYPTION_KEY", default=""))
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEY", default=[]) or [derived_key(SECRET_KEY)]
ALLOWED_HOSTS = env("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env("CSRF_TRUSTED_ORIGINS")
# A refused form gets a Chinese page that says to go back and send it again.
CSRF_FAILURE_VIEW = "grid_governance.error_pages.csrf_failure"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "simple_history",
    "treebeard",
    "grids",
    "sla",
    "notifications",
    "disputes",
    "instructions",
    "reception_days",
    "mediation",
    "residents",
    "referrals",
    "dashboards",
    "assessment",
    "casefiles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "grid_governance.middleware.ChineseFirstLocaleMiddleware",
    "grid_governance.middleware.RejectNulBytesMiddleware",
    "grid_governance.middleware.RequestSizeLimitMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last: turns a locked-out login into the lockout page (429).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "grid_governance.urls"
WSGI_APPLICATION = "grid_governance.wsgi.application"
ASGI_APPLICATION = "grid_governance.asgi.application"

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
                "grid_governance.navigation.navigation",
                "instructions.context_processors.pending_instructions",
            ],
            # base.html's parts that depend on the language alone (grid_governance/chrome.py).
            "libraries": {"chrome": "grid_governance.chrome"},
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server and the Celery worker share the demo database.
    DATABASES["default"].setdefault("OPTIONS", {})["init_command"] = "PRAGMA journal_mode=WAL;"
    DATABASES["default"]["OPTIONS"]["timeout"] = 20
else:
    # Keep a worker's connection between requests (a new PostgreSQL connection costs 10–13
    # ms, issue 12), checked before reuse so a restarted database costs one retry, not an
    # error page. CONN_MAX_AGE=0 goes back to one connection per request (e.g. behind
    # PgBouncer in transaction mode).
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "grids.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    # Hashing the demo users' passwords with PBKDF2 would cost seconds per test.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
# Development and the test suite serve static files straight from the app folders (no
# collectstatic, so no "No directory at var/staticfiles" per request); production serves
# the collected, compressed, hashed copies.
WHITENOISE_USE_FINDERS = DEBUG or TESTING
WHITENOISE_AUTOREFRESH = DEBUG or TESTING
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Uploads larger than this are refused before they reach a form (10 MB files plus form data).
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Celery: Redis when REDIS_URL is set, kombu's filesystem broker otherwise -----------
REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    # A prefix on every key Celery writes, for several deployments (or a test run) sharing
    # one Redis database without touching each other's keys.
    if _prefix := env("CELERY_KEY_PREFIX", default=""):
        CELERY_BROKER_TRANSPORT_OPTIONS = {"global_keyprefix": _prefix}
        CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"global_keyprefix": _prefix}
else:
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        # Broadcast/pidbox exchanges; kombu's default is a "control" folder in the cwd.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
    CELERY_RESULT_BACKEND = f"file://{VAR_DIR / 'results'}"
    # kombu's filesystem transport and the file result backend do not create their folders.
    for _folder in (
        _broker_dir / "out",
        _broker_dir / "processed",
        _broker_dir / "control",
        VAR_DIR / "results",
    ):
        _folder.mkdir(parents=True, exist_ok=True)
# Shared between web and worker processes (import progress, rate limits).
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # Like CELERY_KEY_PREFIX: several deployments (or test runs) in one database.
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", default=""),
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
# A static schedule in code (DESIGN.md): one beat process, any number of workers.
CELERY_BEAT_SCHEDULE: dict = {
    "sla-sweep": {"task": "disputes.tasks.sla_sweep", "schedule": 60.0},
    # Photos parked by a filing that failed and was never sent again: gone after a day.
    "purge-upload-stash": {"task": "disputes.tasks.purge_upload_stash", "schedule": 3600.0},
    # Catches messages held back by quiet hours; fresh ones are sent on commit.
    "outbox-deliver": {"task": "notifications.tasks.outbox_deliver", "schedule": 60.0},
    # Idempotent, so daily is enough: monthly sessions two months ahead, duty rotas two weeks.
    "schedule-reception-days": {
        "task": "reception_days.tasks.schedule_reception_days",
        "schedule": 24 * 60 * 60.0,
    },
    # 回访: last month's callback sample for every street, early on the 1st (local time).
    # Idempotent per street and month, so a missed or repeated tick is harmless.
    "residents-draw-callbacks": {
        "task": "residents.tasks.draw_callbacks",
        "schedule": crontab(minute=30, hour=1, day_of_month=1),
    },
    # 考核: last month's scorecards, after the callback draw. Idempotent per month (a month
    # that has a version is left alone); recomputing is a new version, from the admin.
    "assessment-last-month": {
        "task": "assessment.tasks.assess_last_month",
        "schedule": crontab(minute=0, hour=3, day_of_month=1),
    },
    # 卷宗: a file whose build was lost (broker restart, a worker killed) is asked again.
    "casefiles-stale-builds": {"task": "casefiles.tasks.requeue_stale", "schedule": 600.0},
}

# --- Live pages (notifications/live.py): the push channel ---------------------------------
# With Redis, every ASGI process (uvicorn) hears what any process publishes (Redis pub/sub,
# one message per process however many pages follow the group). Without it the layer is in
# memory: only changes made in the process serving the socket reach a page (`make run`
# serves everything from one uvicorn process, so the demo is live); pages poll otherwise.
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            # Pub/sub channels are shared by all Redis databases: a prefix per deployment.
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": env("LIVE_CHANNEL_PREFIX", default="grid-live:"),
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
# Where pages open their socket: this site's /ws/live/ (uvicorn serves it, or a proxy sends
# /ws/ there), or a full ws(s):// address of the ASGI server. Empty: no socket, pages poll.
LIVE_URL = env("LIVE_URL", default="/ws/live/")
# How often a page without its socket fetches its live parts again.
LIVE_POLL_SECONDS = env.int("LIVE_POLL_SECONDS", default=20)

# Request bodies (common/limits.py): staff pages and the API take up to nine 10 MB files at
# once, the residents' public form three; a larger body is refused before it is read (413).
REQUEST_MAX_BYTES = env.int("REQUEST_MAX_BYTES", default=95 * 1024 * 1024)
PUBLIC_REQUEST_MAX_BYTES = env.int("PUBLIC_REQUEST_MAX_BYTES", default=32 * 1024 * 1024)

# Tests that need PostgreSQL/Redis/Chromium fail instead of skipping when this is on (CI).
REQUIRE_SERVICES = env("REQUIRE_SERVICES")

# --- API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "grids.tokens.ExpiringTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Every error is {"detail": …, "errors": {field: […]}}, services' errors included.
    "EXCEPTION_HANDLER": "grid_governance.api_errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Grid governance API",
    "DESCRIPTION": "网格化矛盾纠纷调处 API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema maps every endpoint and field: for signed-in users (session or token) only.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # The documentation pages are served from our own static files: no CDN, works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # One named enum per choice set, however many fields use it.
    "ENUM_NAME_OVERRIDES": {
        "CaseStatusEnum": "common.choices.CaseStatus",
        "RiskLevelEnum": "common.choices.RiskLevel",
        "HandlingLevelEnum": "disputes.models.HandlingLevel",
        "ChannelEnum": "disputes.models.Channel",
        "OutcomeEnum": "disputes.models.Outcome",
        "CloseKindEnum": "disputes.models.CloseKind",
        "ReferralKindEnum": "disputes.models.ReferralKind",
        "PartySideEnum": "disputes.models.PartySide",
        "PartyKindEnum": "disputes.models.PartyKind",
        "CaseEventKindEnum": "disputes.models.CaseEvent.Kind",
        "AttachmentKindEnum": "disputes.models.Attachment.Kind",
        "ExtensionStatusEnum": "disputes.models.ExtensionRequest.Status",
        "AreaLevelEnum": "grids.models.AreaLevel",
        "RoleEnum": "grids.models.Role",
        "SessionKindEnum": "reception_days.models.SessionKind",
        "LinkageKindEnum": "referrals.models.LinkageKind",
        "MediationDocumentKindEnum": "mediation.models.DocumentKind",
        "SessionStatusEnum": "reception_days.models.SessionStatus",
    },
}

AUTHENTICATION_BACKENDS = [
    # First: refuses every login (page, admin, API token) while its account or address is
    # locked out, and counts the failures.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Brute force: after AXES_FAILURE_LIMIT wrong passwords for one username, or from one
# address, logins from there wait AXES_COOLOFF_MINUTES (a lock that ends by itself, so
# nobody can lock a colleague out for good by typing their name).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=20)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_USERNAME_FORM_FIELD = "username"
# Behind a reverse proxy the client's address is the proxy's unless it is read from
# X-Forwarded-For, counting this many proxies from the right (0: no proxy, REMOTE_ADDR).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT:
    AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
else:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)
# Two-factor login (grids/two_factor.py): the issuer shown in authenticator apps.
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="网格化矛盾纠纷调处")
# API tokens (POST /api/v1/auth/token/) last this long; a password change ends them.
API_TOKEN_DAYS = env.int("API_TOKEN_DAYS", default=30)

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="noreply@grid.example")
SMS_BACKEND = env("SMS_BACKEND", default="notifications.backends.ConsoleSmsBackend")
# Email and SMS wait outside these local hours ("22-7" = 22:00 to 07:00); the inbox does not.
# Office hours of the working-day calendar: a working-day time limit that starts outside them
# (a night, a weekend, a holiday) starts at the next opening, as a clerk would count it.
# Batches of a busy SLA tick worked at once, each on its own connection (PostgreSQL only;
# disputes/sweep.py): a 10,000-case tick is mostly the database's work.
SLA_SWEEP_THREADS = env.int("SLA_SWEEP_THREADS", default=2)
SLA_OFFICE_HOURS = tuple(env("SLA_OFFICE_HOURS", default="08:30-17:30").split("-"))
NOTIFY_QUIET_HOURS = tuple(int(h) for h in env("NOTIFY_QUIET_HOURS", default="22-7").split("-"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    # WeasyPrint (mediation papers, case files) logs every step of every PDF at INFO.
    "loggers": {
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# Content-Security-Policy on every response: scripts only from our own static files (no
# inline script, no on… handler, no eval: static/js/app.js gives pages their small
# behaviours through data attributes), nothing framed, forms post only here. Inline
# *styles* stay allowed: Bootstrap, ECharts and htmx set them, and a style cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF, "data:"],
        # 'self' covers this site's ws:// and wss:// (CSP level 3); an ASGI server
        # elsewhere (LIVE_URL with a host) is added below.
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

if urlsplit(LIVE_URL).netloc:
    _live = urlsplit(LIVE_URL)
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["connect-src"].append(f"{_live.scheme}://{_live.netloc}")

# Production (DEBUG off) is HTTPS-only by default: every setting below can be turned off or
# tuned from the environment (docs/production.env.example has them all; `manage.py check
# --deploy` is clean with it). Behind a TLS-terminating proxy set TRUSTED_PROXY_COUNT, and
# X-Forwarded-Proto tells Django the request came over HTTPS.
SESSION_COOKIE_HTTPONLY = True
# Django's database sessions, their row read by a statement compiled once (grids/sessions.py).
SESSION_ENGINE = "grids.sessions"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=12 * 3600)  # one working day
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if TRUSTED_PROXY_COUNT:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The test suite talks plain HTTP to its own server, like `make run`.
if not DEBUG and not TESTING:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
