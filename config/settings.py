"""hiretext settings: everything comes from environment variables (see README, Configuration)."""

import os
import tempfile
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("HIRETEXT_VAR_DIR", BASE_DIR / "var"))

DEBUG = env_bool("HIRETEXT_DEBUG")
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not env_bool("HIRETEXT_PRODUCTION"):
        # Development and the demo: a key that is stable per checkout, never committed.
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        key_file = VAR_DIR / "secret_key"
        if not key_file.exists():
            import secrets

            key_file.write_text(secrets.token_urlsafe(50))
        SECRET_KEY = key_file.read_text().strip()
    else:
        raise ImproperlyConfigured("SECRET_KEY must be set when HIRETEXT_PRODUCTION is on.")

ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tasks_db",
    "hiretext.accounts",
    "hiretext.ats",
    "hiretext.numbers",
    "hiretext.carriers",
    "hiretext.carrier_accounts",
    "hiretext.messaging",
    "hiretext.billing",
    "hiretext.inbox",
    "hiretext.mail",
    "anymail",
    "hiretext.web",
    "hiretext.benchprobe",  # a one-table calibration app; its URLs need HIRETEXT_BENCH_ENDPOINTS
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "hiretext.accounts.middleware.OrganizationTimezoneMiddleware",
]
# Webhooks and bearer-token API calls (hiretext.lib.wsgi): no session, CSRF, user, messages.
# CommonMiddleware checks the Host header against ALLOWED_HOSTS on every request, as here.
MACHINE_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "hiretext.web.admin_links.admin_links",
            ],
        },
    }
]

DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'hiretext.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
SQLITE = DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend, with a health check that costs no round trip (lib/postgresql/base.py).
    DATABASES["default"]["ENGINE"] = "hiretext.lib.postgresql"
if SQLITE:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # Django's backend, with writers queued on a lock file (hiretext/lib/sqlite/base.py).
    DATABASES["default"]["ENGINE"] = "hiretext.lib.sqlite"
    # The embedded default: WAL lets readers run beside the single writer; IMMEDIATE
    # transactions take the write lock up front so concurrent writers queue instead of failing.
    # Checkpoints every 10,000 pages (40 MB) instead of 1,000: the index pages every message
    # rewrites are copied back once per checkpoint, not once per few dozen messages.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;"
            " PRAGMA foreign_keys=ON; PRAGMA wal_autocheckpoint=10000;"
        ),
        # From 1,000 pages on, each process's checkpointer copies the WAL beside the
        # writers (hiretext/lib/sqlite/checkpoint.py); the 10,000 above is the backstop.
        # Smaller batches copy a hot page more often but stall the writers' final step for
        # less: webhook p99 36–43 ms at 1,000–2,000 against 45–50 at 5,000 and 103 at
        # 20,000, the same throughput (BENCHMARKS-HISTORY.md).
        "checkpoint_frames": int(os.environ.get("HIRETEXT_SQLITE_CHECKPOINT_FRAMES", "1000")),
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Tests run on a file as production does (WAL: concurrent writers wait their turn), not
    # on shared-cache memory, whose table locks fail a second writer at once. One per process.
    DATABASES["default"]["TEST"] = {
        "NAME": str(Path(tempfile.gettempdir()) / f"hiretext-test-{os.getpid()}.sqlite3")
    }
if os.environ.get("HIRETEXT_TEST_DB_NAME"):
    # Lets parallel test runs on one PostgreSQL server use separate databases.
    DATABASES["default"]["TEST"] = {"NAME": os.environ["HIRETEXT_TEST_DB_NAME"]}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# Django's model backend; it loads the user with their organisation (one statement).
AUTHENTICATION_BACKENDS = ["hiretext.accounts.backends.OrganizationBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = (
    []
    if not env_bool("HIRETEXT_PRODUCTION")
    else [
        {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
        {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    ]
)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

TASKS = {
    "default": {
        "BACKEND": os.environ.get("HIRETEXT_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

REDIS_URL = os.environ.get("REDIS_URL", "")
# The cache holds the sign-in throttle's counts (hiretext/accounts/throttle.py): in Redis,
# shared by every process, when REDIS_URL is set; else in each process's memory.
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }

# The simulator carrier signs its webhooks with this (derived from SECRET_KEY when unset);
# HIRETEXT_SIMULATOR_ENABLED=0 hides its phone pages and API (a real carrier in production).
HIRETEXT_SIMULATOR_SECRET = os.environ.get("HIRETEXT_SIMULATOR_SECRET", "")
HIRETEXT_SIMULATOR_ENABLED = env_bool("HIRETEXT_SIMULATOR_ENABLED", True)

# Outbound e-mail: SMTP (EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend, EMAIL_HOST…)
# in production; unset, the simulator's mailboxes while the simulator is on outside
# production (the demo works offline: /simulator/mailbox, a page anyone can read), else the
# console.
MAILERS = {
    "default": {
        "BACKEND": os.environ.get("EMAIL_BACKEND")
        or (
            "hiretext.mail.backends.SimulatorMailboxBackend"
            if env_bool("HIRETEXT_SIMULATOR_ENABLED", True) and not env_bool("HIRETEXT_PRODUCTION")
            else "django.core.mail.backends.console.EmailBackend"
        ),
        "OPTIONS": {
            k.lower(): v
            for k, v in {
                "HOST": os.environ.get("EMAIL_HOST"),
                "PORT": int(os.environ["EMAIL_PORT"]) if os.environ.get("EMAIL_PORT") else None,
                "USERNAME": os.environ.get("EMAIL_HOST_USER"),
                "PASSWORD": os.environ.get("EMAIL_HOST_PASSWORD"),
                "USE_TLS": env_bool("EMAIL_USE_TLS") or None,
                "USE_SSL": env_bool("EMAIL_USE_SSL") or None,
                "TIMEOUT": int(os.environ["EMAIL_TIMEOUT"])
                if os.environ.get("EMAIL_TIMEOUT")
                else 30,
            }.items()
            if v is not None
        }
        if "smtp" in os.environ.get("EMAIL_BACKEND", "")
        else {},
    }
}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "hiretext <no-reply@hiretext.local>")

# --- E-mail in conversations (README: E-mail) -----------------------------------------------
# Recruiters' e-mails come from HIRETEXT_EMAIL_FROM, named after the organisation; replies go
# to reply+<signed token>@HIRETEXT_REPLY_DOMAIN (route that domain to an inbound webhook:
# /webhooks/email/mailgun/inbound or /webhooks/email/postmark/inbound).
HIRETEXT_EMAIL_FROM = os.environ.get("HIRETEXT_EMAIL_FROM", "no-reply@hiretext.local").strip()
HIRETEXT_REPLY_DOMAIN = os.environ.get("HIRETEXT_REPLY_DOMAIN", "reply.hiretext.local").strip()
HIRETEXT_MAILER = os.environ.get("HIRETEXT_MAILER", "default")
# Largest inbound e-mail webhook accepted (attachments are listed, their content not kept).
HIRETEXT_INBOUND_EMAIL_MAX_BYTES = int(
    os.environ.get("HIRETEXT_INBOUND_EMAIL_MAX_BYTES", str(25 * 1024 * 1024))
)
# Inbound webhooks, checked as django-anymail checks them: Mailgun signs with its webhook
# signing key; Postmark sends HTTP basic auth "user:password" (ANYMAIL_WEBHOOK_SECRET). A
# provider without its secret is not served (404).
ANYMAIL = {
    key: value
    for key, value in {
        "MAILGUN_WEBHOOK_SIGNING_KEY": os.environ.get("MAILGUN_WEBHOOK_SIGNING_KEY", ""),
        "WEBHOOK_SECRET": os.environ.get("ANYMAIL_WEBHOOK_SECRET", ""),
    }.items()
    if value
}

SESSION_COOKIE_HTTPONLY = True
# Django's database sessions, read by one prepared SELECT (hiretext/accounts/sessions.py).
SESSION_ENGINE = "hiretext.accounts.sessions"
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie.
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
if env_bool("HIRETEXT_PRODUCTION"):
    SECURE_SSL_REDIRECT = env_bool("HIRETEXT_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("HIRETEXT_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Carriers: the public https base URL that carriers call back (behind a proxy: the outside
# address), Twilio's API base (mocks, regions) and the Fernet key(s), comma-separated, that
# encrypt carrier secrets at rest (unset: derived from SECRET_KEY).
HIRETEXT_PUBLIC_URL = os.environ.get("HIRETEXT_PUBLIC_URL", "").strip().rstrip("/")
HIRETEXT_TWILIO_API_BASE = os.environ.get("HIRETEXT_TWILIO_API_BASE", "").strip().rstrip("/")
HIRETEXT_ENCRYPTION_KEY = os.environ.get("HIRETEXT_ENCRYPTION_KEY", "").strip()

# Largest request body accepted anywhere (webhooks and API included).
DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000_000

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("HIRETEXT_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# --- Production serving and benchmarks (README: Running at scale) ---------------------------
# Calibration views under /bench/ (`make bench` only; never in production URLs).
HIRETEXT_BENCH_ENDPOINTS = env_bool("HIRETEXT_BENCH_ENDPOINTS")
HIRETEXT_PRODUCTION = env_bool("HIRETEXT_PRODUCTION")
if not SQLITE:
    # Sync workers keep one connection each for HIRETEXT_CONN_MAX_AGE seconds (a new
    # PostgreSQL connection costs more than most requests); a dead one is replaced unseen.
    DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ.get("HIRETEXT_CONN_MAX_AGE", "60"))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Only the statements the hot paths ask to prepare (hiretext/lib/prepared.py) are
    # prepared; Django's own queries are bound on the client, never prepared.
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 2**31 - 1
else:
    # SQLite: reopening the file and re-running the PRAGMAs on every request halved the
    # single-INSERT rate under `hiretext serve` (BENCHMARKS.md), so its workers keep theirs.
    DATABASES["default"]["CONN_MAX_AGE"] = int(
        os.environ.get("HIRETEXT_CONN_MAX_AGE", "600" if HIRETEXT_PRODUCTION else "0")
    )
if HIRETEXT_PRODUCTION:
    # `hiretext serve` runs collectstatic first; hashed names let whitenoise cache forever.
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    WHITENOISE_USE_FINDERS = False

# --- API ------------------------------------------------------------------------------------
# A bearer token's user is read again after this many seconds at most (per process; a
# change made in the process itself applies at once). 0: read on every request.
HIRETEXT_TOKEN_CACHE_SECONDS = float(os.environ.get("HIRETEXT_TOKEN_CACHE_SECONDS", "5"))

# --- Numbers (seats, phone numbers) ---------------------------------------------------------
# Monthly price of a number in cents, shown with the terms and recorded on acceptance.
HIRETEXT_NUMBER_MONTHLY_PRICE_CENTS = int(
    os.environ.get("HIRETEXT_NUMBER_MONTHLY_PRICE_CENTS", "500")
)
# Days a number released to the simulator carrier rests before it is sold again.
HIRETEXT_SIMULATOR_QUARANTINE_DAYS = int(os.environ.get("HIRETEXT_SIMULATOR_QUARANTINE_DAYS", "30"))

# --- Inbox: live updates (SSE) and reply e-mails (README: Live updates) ---------------------
# Fan-out between processes: "redis" when REDIS_URL is set, else "postgres" (LISTEN/NOTIFY)
# on PostgreSQL, else "poll" (the event table, every HIRETEXT_EVENTS_POLL_SECONDS).
HIRETEXT_EVENTS_BACKEND = os.environ.get("HIRETEXT_EVENTS_BACKEND", "").strip().lower()
HIRETEXT_EVENTS_POLL_SECONDS = float(os.environ.get("HIRETEXT_EVENTS_POLL_SECONDS", "0.05"))
HIRETEXT_EVENTS_HEARTBEAT_SECONDS = float(os.environ.get("HIRETEXT_EVENTS_HEARTBEAT_SECONDS", "15"))
# A stream ends after this long; the browser reconnects (with Last-Event-ID) after `retry:`.
HIRETEXT_EVENTS_MAX_SECONDS = float(os.environ.get("HIRETEXT_EVENTS_MAX_SECONDS", "300"))
HIRETEXT_EVENTS_RETRY_MS = int(os.environ.get("HIRETEXT_EVENTS_RETRY_MS", "2000"))
HIRETEXT_EVENTS_KEEP_HOURS = int(os.environ.get("HIRETEXT_EVENTS_KEEP_HOURS", "48"))
# Served by WSGI workers instead (no ASGI process): answer and close, the browser asks
# again after HIRETEXT_EVENTS_WSGI_RETRY_MS; a hold > 0 keeps a (threaded) worker streaming.
HIRETEXT_EVENTS_WSGI_HOLD_SECONDS = float(os.environ.get("HIRETEXT_EVENTS_WSGI_HOLD_SECONDS", "0"))
HIRETEXT_EVENTS_WSGI_RETRY_MS = int(os.environ.get("HIRETEXT_EVENTS_WSGI_RETRY_MS", "1000"))
# Where browsers open the stream; behind a proxy that sends /inbox/events to the ASGI
# process (config/asgi.py, `hiretext serve_events`) the default path is right.
HIRETEXT_EVENTS_URL = os.environ.get("HIRETEXT_EVENTS_URL", "").strip()
# At most one reply e-mail per user and conversation in this many seconds; a user who
# looked at the conversation in the last HIRETEXT_NOTIFY_LOOKING_SECONDS gets none.
HIRETEXT_NOTIFY_THROTTLE_SECONDS = int(os.environ.get("HIRETEXT_NOTIFY_THROTTLE_SECONDS", "300"))
HIRETEXT_NOTIFY_LOOKING_SECONDS = int(os.environ.get("HIRETEXT_NOTIFY_LOOKING_SECONDS", "30"))
if env_bool("HIRETEXT_ASGI"):
    # The ASGI process (config/asgi.py) holds many long streams: a connection kept per
    # thread would exhaust PostgreSQL, so each database use opens and closes its own.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
