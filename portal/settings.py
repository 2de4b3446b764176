"""Django settings for the merchant portal: one module, driven by the environment (django-environ)."""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local .env (written by `make run`, never committed) fills in what the shell does not set.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = get_random_secret_key()

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "django_q",
    "encrypted_model_fields",
    "portal",
    "integrations",
    "xero_sync",
    "xero_sandbox",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "xero_sync.webhooks.WebhookFastPathMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "portal.middleware.CurrentMerchantMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

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
                "portal.context_processors.portal",
                "integrations.context_processors.sync_errors",
            ],
        },
    },
]

# Database: SQLite in the project folder by default; PostgreSQL (or anything) via DATABASE_URL.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout + IMMEDIATE transactions keep the web server and the worker from
    # tripping over "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "portal.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

# django-allauth: email is the identity; signing up creates a merchant (see portal.adapters).
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="optional")
ACCOUNT_ADAPTER = "portal.adapters.PortalAccountAdapter"
ACCOUNT_FORMS = {"signup": "portal.forms.MerchantSignupForm"}
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
LOGIN_REDIRECT_URL = "portal:dashboard"
LOGIN_URL = "account_login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Serve from the finders when the manifest has not been built (tests, `make run`).
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=DEBUG)

EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
# Where the portal is reached, for links in emails (reminders): e.g. https://portal.example.com
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000" if DEBUG else "")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Merchant Portal <no-reply@localhost>")

# Encryption at rest for tokens (django-encrypted-model-fields, a Fernet key).
FIELD_ENCRYPTION_KEY = env.str("FIELD_ENCRYPTION_KEY", default="")
if not FIELD_ENCRYPTION_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY must be set when DEBUG is off.")
    from cryptography.fernet import Fernet

    FIELD_ENCRYPTION_KEY = Fernet.generate_key().decode()

# Security: strict unless DEBUG. Behind a TLS-terminating proxy set SECURE_PROXY_SSL_HEADER.
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env.bool("USE_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Background work: django-q2. ORM broker by default, Redis when REDIS_URL is set.
REDIS_URL = env.str("REDIS_URL", default="")
Q_CLUSTER = {
    "name": "portal",
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": 300,  # a task is killed after 5 minutes ...
    "retry": 420,  # ... and only re-delivered after 7, so a slow task never runs twice at once
    "max_attempts": 3,
    "save_limit": 1000,
    "ack_failures": True,
    "catch_up": False,
    "label": "Background tasks",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
    Q_CLUSTER["poll"] = 1

# Xero: the real hosts unless pointed elsewhere (make run points them at the local sandbox).
XERO_CLIENT_ID = env.str("XERO_CLIENT_ID", default="")
XERO_CLIENT_SECRET = env.str("XERO_CLIENT_SECRET", default="")
XERO_REDIRECT_URI = env.str("XERO_REDIRECT_URI", default="")
XERO_WEBHOOK_KEY = env.str("XERO_WEBHOOK_KEY", default="")
XERO_SCOPES = env.str(
    "XERO_SCOPES",
    default="openid profile email offline_access accounting.settings accounting.contacts "
    "accounting.transactions accounting.reports.read",
)
XERO_LOGIN_URL = env.str("XERO_LOGIN_URL", default="https://login.xero.com/identity")
XERO_IDENTITY_URL = env.str("XERO_IDENTITY_URL", default="https://identity.xero.com")
XERO_API_URL = env.str("XERO_API_URL", default="https://api.xero.com/api.xro/2.0")
XERO_CONNECTIONS_URL = env.str("XERO_CONNECTIONS_URL", default="https://api.xero.com/connections")
XERO_HTTP_TIMEOUT = env.float("XERO_HTTP_TIMEOUT", default=30.0)

# The client's pacing: Xero's per-organisation limits (the benchmarks shorten the minute with the sandbox's).
XERO_RATE_MINUTE_SECONDS = env.float("XERO_RATE_MINUTE_SECONDS", default=60.0)
XERO_RATE_DAY_SECONDS = env.float("XERO_RATE_DAY_SECONDS", default=86400.0)
XERO_RATE_MINUTE_LIMIT = env.int("XERO_RATE_MINUTE_LIMIT", default=60)
XERO_RATE_CONCURRENT_LIMIT = env.int("XERO_RATE_CONCURRENT_LIMIT", default=5)

# The local Xero sandbox: on in `make run` and tests; refused with DEBUG off unless set explicitly.
XERO_SANDBOX = env.bool("XERO_SANDBOX", default=False)
if XERO_SANDBOX and not DEBUG and not env.bool("XERO_SANDBOX_ALLOW_PRODUCTION", default=False):
    raise ImproperlyConfigured(
        "XERO_SANDBOX is a local fake of Xero; with DEBUG off also set "
        "XERO_SANDBOX_ALLOW_PRODUCTION=true if you really mean it."
    )

# The sandbox's limits (Xero's by default) and the length of its "minute" and "day" (shortened in tests and
# benchmarks; Retry-After follows them).
XERO_SANDBOX_MINUTE_SECONDS = env.int("XERO_SANDBOX_MINUTE_SECONDS", default=60)
XERO_SANDBOX_DAY_SECONDS = env.int("XERO_SANDBOX_DAY_SECONDS", default=86400)
XERO_SANDBOX_MINUTE_LIMIT = env.int("XERO_SANDBOX_MINUTE_LIMIT", default=60)
XERO_SANDBOX_DAY_LIMIT = env.int("XERO_SANDBOX_DAY_LIMIT", default=5000)
XERO_SANDBOX_CONCURRENT_LIMIT = env.int("XERO_SANDBOX_CONCURRENT_LIMIT", default=5)
XERO_SANDBOX_APP_MINUTE_LIMIT = env.int("XERO_SANDBOX_APP_MINUTE_LIMIT", default=10000)
if env.str("XERO_SANDBOX_API_BASE", default=""):
    XERO_SANDBOX_API_BASE = env.str("XERO_SANDBOX_API_BASE")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
