"""Django settings for Tepat, read from the environment.

Every setting that differs between the demo and production comes from an environment
variable read through the small helpers in ``tepat.env``, which fail loudly on bad values.
``TEPAT_ENV=production`` turns on the hardened profile and refuses to start without the
secrets and hosts a real deployment must set explicitly.
"""

from datetime import timedelta
from importlib.util import find_spec
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
import django_stubs_ext

from tepat.env import env_bool, env_list, env_str, secret_key_load, storage_s3_options

django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent
PRODUCTION = env_str("TEPAT_ENV", "demo") == "production"
DATA_DIR = Path(env_str("TEPAT_DATA_DIR", str(BASE_DIR.parent / "var"))).resolve()

SECRET_KEY = secret_key_load(DATA_DIR, required=PRODUCTION)
DEBUG = env_bool("DEBUG", False) and not PRODUCTION
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]"])
if PRODUCTION and not ALLOWED_HOSTS:
    raise RuntimeError("ALLOWED_HOSTS must be set when TEPAT_ENV=production")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# A separate origin for private downloads (docs/security.md, "No executable content"): off
# when empty. When set (e.g. https://berkas.tepat.example.go.id), selfies, evidence and
# attachments leave the application only as links valid TEPAT_MEDIA_LINK_SECONDS on it.
TEPAT_MEDIA_ORIGIN = env_str("TEPAT_MEDIA_ORIGIN", "").strip().rstrip("/")
TEPAT_MEDIA_LINK_SECONDS = int(env_str("TEPAT_MEDIA_LINK_SECONDS", "60"))
if TEPAT_MEDIA_ORIGIN:
    _media = urlsplit(TEPAT_MEDIA_ORIGIN)
    if _media.scheme not in ({"https"} if PRODUCTION else {"https", "http"}) or not _media.hostname:
        raise RuntimeError("TEPAT_MEDIA_ORIGIN must be an origin like https://berkas.example")
    if _media.path or _media.query or _media.hostname in ALLOWED_HOSTS:
        raise RuntimeError("TEPAT_MEDIA_ORIGIN must be a bare origin on a host of its own")
    ALLOWED_HOSTS = [*ALLOWED_HOSTS, _media.hostname]
# Reverse proxies in front of Tepat that append the client's address to X-Forwarded-For
# (production: the one nginx of docs/deploy.md). Only these rightmost entries are trusted: a
# client can write anything into the header, but not past the proxy that appends to it.
TRUSTED_PROXY_COUNT = int(env_str("TRUSTED_PROXY_COUNT", "1" if PRODUCTION else "0"))

INSTALLED_APPS = [
    "tepat.accounts",
    "tepat.audit",
    "tepat.org",
    "tepat.presence",
    "tepat.kinerja",
    "tepat.tpp",
    "tepat.monitor",
    "tepat.ledger",
    "tepat.backups",
    "tepat.security",
    "tepat.nodes",
    "tepat.exports",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks_db",
    "ninja",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
]
if find_spec("django.tasks") is None:  # Django 5.2 on Python 3.11: the backport
    INSTALLED_APPS.append("django_tasks")

# Django 6 has a Content-Security-Policy middleware; on the 5.2 fallback (Python 3.11)
# tepat.security.middleware sends the same policy as a fixed header instead.
BUILTIN_CSP = find_spec("django.middleware.csp") is not None

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    *(["django.middleware.csp.ContentSecurityPolicyMiddleware"] if BUILTIN_CSP else []),
    "tepat.security.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "tepat.security.middleware.NulRefusedMiddleware",
    "django.middleware.common.CommonMiddleware",
    # A plain phone check-in is answered here, without the rest (tepat/presence/checkin_lane.py).
    "tepat.presence.checkin_lane.CheckinLaneMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Refused uploads, skipped second steps, out-of-scope lookups: audit rows, written once
    # the response is ready (tepat.audit.attempts).
    "tepat.audit.attempts.AttemptAuditMiddleware",
    # The second factor (docs/security.md §1.3): staff sessions stay unverified until the
    # code from the authenticator app is entered; until then only the MFA steps answer.
    "django_otp.middleware.OTPMiddleware",
    "tepat.accounts.middleware.MfaRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a lockout into the login page's message (or JSON).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "tepat.urls"
WSGI_APPLICATION = "tepat.wsgi.application"

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
                *(["django.template.context_processors.csp"] if BUILTIN_CSP else []),
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'tepat.sqlite3'}"),
        conn_max_age=60,
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the dashboard read while a check-in writes; IMMEDIATE avoids the
    # "database is locked" upgrade deadlock between two writers.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;"
        ),
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
# The phone check-in's statements as prepared statements with server-side binding
# (tepat/presence/checkin_sql.py); 0 behind a PgBouncer < 1.21 in transaction pooling mode.
CHECKIN_SQL_PREPARE = env_bool("TEPAT_CHECKIN_PREPARE", True)
# Concurrent single check-ins of a worker share their statements, this many at most
# (tepat/presence/checkin_sql.py); 1 runs each alone. Needs CHECKIN_SQL_PREPARE.
CHECKIN_SQL_GROUP_MAX = int(env_str("TEPAT_CHECKIN_GROUP_MAX", "32"))
# How many processes compute a monthly TPP run on PostgreSQL (empty: the machine's cores).
TPP_RUN_PROCESSES = int(env_str("TEPAT_TPP_RUN_PROCESSES", "0")) or None
# How many processes rebuild a period's daily verdicts on PostgreSQL (empty: the cores).
ATTENDANCE_REBUILD_PROCESSES = int(env_str("TEPAT_ATTENDANCE_REBUILD_PROCESSES", "0")) or None
# The live dashboard's kept table: refreshed at most every REFRESH_S seconds by a request,
# rebuilt whole when older than REBUILD_S (docs/deploy.md, the monitor timer). The page
# polls every 30 s.
TEPAT_MONITOR_REFRESH_S = float(env_str("TEPAT_MONITOR_REFRESH_S", "10"))
TEPAT_MONITOR_REBUILD_S = float(env_str("TEPAT_MONITOR_REBUILD_S", "1800"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# django-axes first: it refuses a locked-out account+address before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "tepat.accounts.backends.AddressSprayBackend",
    "tepat.accounts.backends.RoleBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Indonesian by default; English available through the language switcher.
LANGUAGE_CODE = "id"
LANGUAGES = [("id", "Bahasa Indonesia"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
# Stored in UTC; a working day is cut in the work site's own zone (WIB/WITA/WIT).
USE_TZ = True
TIME_ZONE = env_str("TIME_ZONE", "Asia/Jakarta")

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(DATA_DIR / "static")))
# Private files (selfies, evidence, attachments, exports), never served by URL, only through
# authorised views that force a download (tepat.uploads.private_download): a directory in the
# data dir, never under STATIC_ROOT; or, for several application nodes, the S3 bucket that
# TEPAT_STORAGE_URL names (tepat.object_storage; keys from TEPAT_STORAGE_ACCESS_KEY/_SECRET_KEY
# or their _FILE, else the machine's own credentials).
storage_url = env_str("TEPAT_STORAGE_URL", "").strip()  # lower case: not a setting
if storage_url and (find_spec("storages") is None or find_spec("boto3") is None):
    raise RuntimeError("TEPAT_STORAGE_URL needs django-storages and boto3: pip install tepat[s3]")
STORAGES = {
    "default": (
        {
            "BACKEND": "tepat.object_storage.PrivateS3Storage",
            "OPTIONS": storage_s3_options(
                storage_url,
                access_key=env_str("TEPAT_STORAGE_ACCESS_KEY", ""),
                secret_key=env_str("TEPAT_STORAGE_SECRET_KEY", ""),
                production=PRODUCTION,
            ),
        }
        if storage_url
        else {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(DATA_DIR / "private"), "base_url": None},
        }
    ),
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# How long a requested export's file (tepat.exports) is kept for its requester before
# `tepat exports_expire` deletes it (the row stays for the audit trail).
TEPAT_EXPORT_KEEP_HOURS = int(env_str("TEPAT_EXPORT_KEEP_HOURS", "72"))

# How discipline alerts reach people (tepat.monitor.channels): the in-app inbox and email by
# default; a gateway registered by its own app (WhatsApp, SMS) is added by name here.
TEPAT_NOTIFY_CHANNELS = env_list("TEPAT_NOTIFY_CHANNELS", ["in_app", "email"])
# Email for the alerts' email channel: the regency's SMTP relay (Diskominfo's mail server or a
# provider's), read from the EMAIL_* variables into Django 6.1's MAILERS (the EMAIL_* settings
# are deprecated). The password may come from EMAIL_HOST_PASSWORD_FILE. A short timeout, because
# the alerts run delivers in line and a dead relay must not hold it for minutes: an unsent
# message stays on its row and is tried again on the next run.
email_starttls = env_bool("EMAIL_USE_TLS", False)  # lower case: not a (deprecated) setting
email_ssl = env_bool("EMAIL_USE_SSL", False)
if email_starttls and email_ssl:
    raise RuntimeError(
        "EMAIL_USE_TLS (STARTTLS, port 587) and EMAIL_USE_SSL (port 465) exclude each other"
    )
MAILERS = {
    "default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": env_str("EMAIL_HOST", "localhost"),
            "port": int(
                env_str("EMAIL_PORT", "465" if email_ssl else "587" if email_starttls else "25")
            ),
            "username": env_str("EMAIL_HOST_USER", ""),
            "password": env_str("EMAIL_HOST_PASSWORD", ""),
            "use_tls": email_starttls,
            "use_ssl": email_ssl,
            "timeout": int(env_str("EMAIL_TIMEOUT", "10")),
        },
    }
}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Tepat <tepat@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The government that issues the printed reports ("Kabupaten Mukomuko"): their letterhead and
# the place of the signature. Empty: the reports name no government.
TEPAT_REGENCY_NAME = env_str("TEPAT_REGENCY_NAME", "")

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# A working day at most, counted from the login (Django renews the expiry only when the
# session changes). Office PCs are shared (a TU room, a school's one computer): closing the
# browser ends the session, so the next person does not inherit the login.
SESSION_COOKIE_AGE = 60 * 60 * 12
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_COOKIE_HTTPONLY = True
# Django's own 403 page for a failed CSRF check, noted in the audit trail (tepat.audit.attempts).
CSRF_FAILURE_VIEW = "tepat.audit.attempts.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Content Security Policy (docs/security.md): Tepat's pages, the admin, the phone app and the
# API docs load scripts, styles, images and workers only from Tepat itself, with no inline
# script or style anywhere. Plain strings equal django.utils.csp.CSP's values, so one policy
# serves Django 6 (SECURE_CSP) and the 5.2 fallback header.
SECURE_CSP: dict[str, list[str]] = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "object-src": ["'none'"],
    "worker-src": ["'self'"],
    "manifest-src": ["'self'"],
}
# Powerful browser features: the location for check-ins and site fixes, from Tepat's own
# pages only; nothing else (an injected script or frame cannot switch on the camera).
PERMISSIONS_POLICY: dict[str, list[str]] = {
    "geolocation": ["self"],
    "camera": [],
    "microphone": [],
    "display-capture": [],
    "payment": [],
    "usb": [],
    "serial": [],
    "hid": [],
    "midi": [],
    "accelerometer": [],
    "gyroscope": [],
    "magnetometer": [],
}

# /.well-known/security.txt (RFC 9116): where to report a vulnerability.
SECURITY_CONTACT = env_str(
    "SECURITY_CONTACT", f"mailto:security@{ALLOWED_HOSTS[0].lstrip('.')}" if ALLOWED_HOSTS else ""
)

# Login throttling with django-axes (docs/security.md, ASVS 6.1.1 / 6.3.1): five failed
# passwords for one account from one address lock that pair for 15 minutes. Keyed on the pair,
# so neither a guesser can lock a colleague out from elsewhere nor one busy office NAT lock
# the whole OPD. A failure more than 15 minutes after the last one starts the count afresh;
# tries during a lockout do not extend it. Logs carry keyed pseudonyms, never the NIP or IP.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_DISABLE_ACCESS_LOG = True  # successful logins: a log line, not another table of IPs
AXES_VERBOSE = False
AXES_CLIENT_IP_CALLABLE = "tepat.accounts.throttle.client_ip"
AXES_CLIENT_STR_CALLABLE = "tepat.accounts.throttle.client_pseudonym"
AXES_LOCKOUT_CALLABLE = "tepat.accounts.views.login_lockout"
# Failed logins per client address per AXES_COOLOFF_TIME window, across accounts (password
# spraying; an office NAT's typos stay far below it).
LOGIN_FAILURES_PER_ADDRESS = 30
# Forgot-password requests per hour, counted in the database (tepat.accounts.password_reset).
PASSWORD_RESET_LIMIT_PER_IP = 20
PASSWORD_RESET_LIMIT_PER_ACCOUNT = 3

# Second factor for the staff roles (tepat.accounts.mfa): TOTP in an authenticator app, the
# name shown in the app, and recovery codes. django-otp throttles wrong codes per device.
OTP_TOTP_ISSUER = "Tepat"
# A security key or passkey (WebAuthn) beside the app (tepat.accounts.webauthn): never as the
# first factor; the relying party is the host asked for, the origin this request's own.
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
OTP_WEBAUTHN_RP_NAME = "Tepat"
OTP_WEBAUTHN_RP_ID_CALLABLE = "tepat.accounts.webauthn.rp_id"
OTP_WEBAUTHN_HELPER_CLASS = "tepat.accounts.webauthn.TepatWebAuthnHelper"
OTP_WEBAUTHN_ALLOWED_ORIGINS = [
    f"https://{host}" for host in ALLOWED_HOSTS if host and not host.startswith((".", "*"))
] or ["http://localhost"]

if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # __Host-: the browser accepts these cookies only over HTTPS, for this exact host and
    # path /, so a sibling subdomain of the regency cannot plant or overwrite them.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    LANGUAGE_COOKIE_NAME = "__Host-language"
    LANGUAGE_COOKIE_SECURE = True
    LANGUAGE_COOKIE_HTTPONLY = True
    LANGUAGE_COOKIE_SAMESITE = "Lax"
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Attendance machines speak plain HTTP unless their firmware supports HTTPS (devices.md
    # §2) and do not follow redirects: /iclock/* is answered where it is asked.
    SECURE_REDIRECT_EXEMPT = [r"^iclock/"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# --- Shared state of the application nodes (docs/deploy.md, "Several application nodes") ---
# Any node may serve any request: nothing a later request needs stays in one process's memory
# or on one node's disk. Sessions, login throttling (django-axes) and background tasks
# (TASKS above) live in the database; the cache too, unless REDIS_URL names a Redis server
# every node shares. (Per-process memoisation of immutable inputs and the check-in path's map
# of work sites, refreshed every 60 s, are listed in docs/deploy.md with why they are safe.)
SESSION_ENGINE = "django.contrib.sessions.backends.db"
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
REDIS_URL = env_str("REDIS_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        # The table is created by tepat.nodes' migration (`tepat migrate`).
        else {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "tepat_cache"}
    )
}

# --- Read replica (tepat.nodes.router) ---------------------------------------------------------
# DATABASE_REPLICA_URL (or _FILE): a PostgreSQL streaming replica of DATABASE_URL. The GET
# requests of the views listed here (a module, or one view by its dotted name) read the domain
# tables from it; every write, every read inside a transaction and everything else stays on
# the primary. Without a replica nothing is routed.
TEPAT_REPLICA_VIEWS = [
    # Dashboards (the polled live figures too), trends, the monthly discipline report. Not the
    # pages that POST a decision and redirect back to themselves (alerts, sanctions,
    # notifications): their GET must show the decision just made.
    "tepat.monitor.views.dashboard",
    "tepat.monitor.views.dashboard_data",
    "tepat.monitor.views.opd_detail",
    "tepat.monitor.views.trends",
    "tepat.monitor.views.review_overview",
    "tepat.monitor.views.discipline_list",
    "tepat.monitor.views.report",
    "tepat.presence.views.recap",  # rekap kehadiran and its XLSX
    "tepat.tpp.views.run_opd",  # a month's results per OPD
    "tepat.tpp.views.submission_download",  # daftar nominatif XLSX/PDF, bank-transfer CSV
]
replica_url = env_str("DATABASE_REPLICA_URL", "")  # lower case: not a setting
if replica_url:
    DATABASES["replica"] = {
        **dj_database_url.parse(replica_url, conn_max_age=60, conn_health_checks=True),
        "OPTIONS": dict(DATABASES["default"].get("OPTIONS", {})),
        # Tests use the primary's test database for both names.
        "TEST": {"MIRROR": "default"},
    }
    DATABASE_ROUTERS = ["tepat.nodes.router.ReplicaRouter"]
    MIDDLEWARE.append("tepat.nodes.router.ReplicaReadsMiddleware")

# --- Connection pooling (docs/deploy.md, PgBouncer) ----------------------------------------------
# DATABASE_TRANSACTION_POOLING=1 when DATABASE_URL (and the replica's) point at PgBouncer in
# transaction mode: a server-side cursor (QuerySet.iterator) cannot outlive the transaction
# that PgBouncer lends a server connection for.
if env_bool("DATABASE_TRANSACTION_POOLING", False):
    for database in DATABASES.values():
        database["DISABLE_SERVER_SIDE_CURSORS"] = True
