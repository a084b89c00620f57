"""Settings for the avatar service, read from the environment.

Every variable is listed in `.env.example`. Defaults run locally with nothing configured:
SQLite and media under `var/`, console email, DEBUG off.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import django_stubs_ext

# Lets classes subclass generic Django types (ModelAdmin[Avatar], ModelForm[User]) at run time,
# as the type checker sees them.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent


class ImproperlyConfiguredEnv(ValueError):
    """A variable is set to a value the service cannot use; raised at start-up, never later."""


# What `make run` chose for this checkout (deploy/run-local.sh writes it under VAR_DIR while it
# runs and removes it when it stops): read below the real environment, so that a management
# command, the shell or the worker started in another terminal uses the configuration of the
# server beside it (its Varnish nodes to purge, its SITE_URL, its database).
RUN_ENV_FILE = "run.env"
_run_env: dict[str, str] = {}


def read_run_env(path: Path) -> dict[str, str]:
    """NAME=value lines; blank lines and # comments are skipped. A file left behind by a
    `make run` that was killed (its RUN_LOCAL_PID is gone) is ignored."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return {}
    values = {}
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        if sep and name.strip() and not name.lstrip().startswith("#"):
            values[name.strip()] = value
    writer = values.pop("RUN_LOCAL_PID", "")
    if writer.isdigit():
        try:
            os.kill(int(writer), 0)
        except ProcessLookupError:
            return {}
        except PermissionError:  # alive, under another user
            pass
    return values


def _lookup(name: str) -> str | None:
    """The real environment first, then what `make run` wrote for this checkout."""
    value = os.environ.get(name)
    return value if value is not None else _run_env.get(name)


def env_str(name: str, default: str = "") -> str:
    """A string, also readable from the file named by NAME_FILE (Docker and Kubernetes secrets)."""
    file_name = _lookup(f"{name}_FILE")
    if file_name:
        return Path(file_name).read_text().strip()
    value = _lookup(name)
    return default if value is None else value


def env_bool(name: str, default: bool) -> bool:
    raw = _lookup(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfiguredEnv(f"{name}={raw!r} is not a boolean (use true or false)")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = _lookup(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfiguredEnv(f"{name}={raw!r} is not a whole number") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfiguredEnv(f"{name}={value} is below the minimum of {minimum}")
    return value


def env_list(name: str, default: str = "") -> list[str]:
    raw = _lookup(name)
    return [item.strip() for item in (default if raw is None else raw).split(",") if item.strip()]


def env_networks(name: str, default: str) -> list[str]:
    """Addresses or networks (10.0.0.0/24), each checked."""
    values = env_list(name, default)
    for value in values:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise ImproperlyConfiguredEnv(
                f"{name} entry {value!r} is not an IP address or network"
            ) from None
    return values


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = (_lookup(name) or default).strip().lower() or default
    if value not in choices:
        raise ImproperlyConfiguredEnv(f"{name}={value!r} is not one of {', '.join(choices)}")
    return value


# TCP keepalives on every PostgreSQL connection: a database host that vanishes mid-query (power
# lost, a route dropped) is noticed after 5 + 2 x 3 = 11 s instead of the kernel's two hours,
# and tcp_user_timeout gives up as soon on a query sent to it that is never acknowledged.
POSTGRES_DEAD_PEER_OPTIONS = {
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
    "tcp_user_timeout": 11_000,
}


# The embedded default has several writers at once (gunicorn's workers, the purge worker,
# `manage.py setavatar` in another terminal). A deferred transaction that reads and then writes
# fails at once with "database is locked" when another writer holds the lock (SQLite cannot
# wait its way out of that), so every transaction takes the write lock when it begins and waits
# up to `timeout` seconds for it; WAL lets the avatar endpoint's reads go on meanwhile.
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL;",
}


def parse_database_url(url: str, *, conn_max_age: int, connect_timeout: int) -> dict[str, Any]:
    """Django's DATABASES entry for a sqlite:///path or postgres://user:pass@host:port/name URL.

    A PostgreSQL connection gives up connecting after `connect_timeout` seconds (a host that
    accepts and never answers is then an outage, answered 503, not a hung worker) and detects a
    dead peer (POSTGRES_DEAD_PEER_OPTIONS); options in the URL's query string win.
    """
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = unquote(parts.path)
        # sqlite:///relative and sqlite:////absolute, as the common convention has it.
        name = path[1:] if path.startswith("/") else path
        if not name:
            raise ImproperlyConfiguredEnv(f"DATABASE_URL={url!r} names no SQLite file")
        # Persistent here too: a new SQLite connection re-reads the schema on its first query,
        # which costs the avatar endpoint more than the query itself.
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": name,
            "CONN_MAX_AGE": conn_max_age,
            "OPTIONS": SQLITE_OPTIONS,
        }
    if parts.scheme in {"postgres", "postgresql", "pgsql"}:
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise ImproperlyConfiguredEnv(f"DATABASE_URL={url!r} names no database")
        options: dict[str, Any] = {
            "connect_timeout": connect_timeout,
            **POSTGRES_DEAD_PEER_OPTIONS,
            **{key: values[-1] for key, values in parse_qs(parts.query).items()},
        }
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "OPTIONS": options,
            # Persistent connections: the avatar endpoint must not pay a connect per request,
            # nor a `SELECT 1` health check before its query; avatars.selectors notices a
            # connection the server dropped and repeats its read once on a new one.
            "CONN_MAX_AGE": conn_max_age,
            "CONN_HEALTH_CHECKS": False,
        }
    raise ImproperlyConfiguredEnv(
        f"DATABASE_URL scheme {parts.scheme!r} is not supported (use sqlite or postgres)"
    )


def load_or_create_secret_key(var_dir: Path) -> str:
    """The local default key: generated once into var/, never committed."""
    key_file = var_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def redis_cache(url: str, *, timeout_ms: int) -> dict[str, Any]:
    """The CACHES entry for a Redis: a cache that misses, never fails, when Redis is frozen or
    gone (avatars/cache.py), and whose every call waits at most `timeout_ms` to connect and as
    long for each reply."""
    return {
        "BACKEND": "avatars.cache.FaultTolerantRedisCache",
        "LOCATION": url,
        "OPTIONS": {
            "socket_connect_timeout": timeout_ms / 1000,
            "socket_timeout": timeout_ms / 1000,
        },
    }


def s3_storage(
    *,
    bucket: str,
    endpoint_url: str,
    access_key: str,
    secret_key: str,
    region: str,
    timeout: int,
    max_attempts: int,
) -> dict[str, Any]:
    """The STORAGES entry for S3-compatible object storage (django-storages).

    botocore's defaults (60 s to connect, 60 s per read, retried) would hold a request for
    minutes on a frozen endpoint; here each attempt waits at most `timeout` seconds to connect
    and as long for each reply, and a call makes at most `max_attempts` attempts. s3transfer's
    own download retries are off, so an open() is bounded by the same numbers.
    """
    if not bucket:
        raise ImproperlyConfiguredEnv("STORAGE=s3 needs S3_BUCKET")
    # Imported here: only an S3 deployment pays for loading botocore.
    from boto3.s3.transfer import TransferConfig
    from botocore.config import Config

    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint_url or None,
            "access_key": access_key,
            "secret_key": secret_key,
            "region_name": region or None,
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": False,
            "client_config": Config(
                connect_timeout=timeout,
                read_timeout=timeout,
                retries={"total_max_attempts": max_attempts, "mode": "standard"},
            ),
            "transfer_config": TransferConfig(num_download_attempts=1),
        },
    }


VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))
# A test run in a checkout where `make run` is serving must not take its configuration (it
# would purge the developer's Varnish and use their database): `make test` sets
# AVATARS_IGNORE_RUN_ENV, and pytest itself sets PYTEST_VERSION before pytest-django imports
# these settings, earlier than any conftest could set anything.
if not env_bool("AVATARS_IGNORE_RUN_ENV", "PYTEST_VERSION" in os.environ):
    _run_env.update(read_run_env(VAR_DIR / RUN_ENV_FILE))

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY") or load_or_create_secret_key(VAR_DIR)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# The public origin used in emails and canonical links, e.g. https://avatars.example.com
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "corsheaders",
    "oauth2_provider",
    "accounts",
    "avatars",
    "profiles",
    "api",
    "operations",
]

# Metrics at /metrics (operations/), counted by gravatar/metrics.py; false removes the
# request middleware and every count (bench/bench_metrics.py measures the difference).
METRICS_ENABLED = env_bool("METRICS_ENABLED", True)
MIDDLEWARE = [
    # First, so that a request's time covers every other middleware.
    *(["operations.middleware.RequestMetricsMiddleware"] if METRICS_ENABLED else []),
    "avatars.middleware.CookielessAvatarMiddleware",
    # Before the session, CSRF and auth middleware: cookies are never credentials on /v3/.
    "api.middleware.CookielessApiMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After the session (as Django's own), before CommonMiddleware; never on the cached,
    # language-free paths (gravatar/locale.py).
    "gravatar.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "avatars.outage.DatabaseOutageMiddleware",
]

ROOT_URLCONF = "gravatar.urls"
WSGI_APPLICATION = "gravatar.wsgi.application"
AUTH_USER_MODEL = "accounts.User"

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
                "avatars.context_processors.url_contract",
            ],
        },
    },
]

DATABASES = {
    "default": parse_database_url(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("CONN_MAX_AGE", 600, minimum=0),
        connect_timeout=env_int("DATABASE_CONNECT_TIMEOUT", 3, minimum=2),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "home"

# Login throttling (django-axes): lock a user+address pair after repeated failures.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15, minimum=1) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_LOCKOUT_TEMPLATE = "registration/locked.html"
# The login form's field is "username" (Django's AuthenticationForm), whatever USERNAME_FIELD is;
# without this, axes looks for "email", finds nothing and never locks an account.
AXES_USERNAME_CALLABLE = "accounts.throttle.login_username"
# Behind Varnish every request comes from the proxy; the client's address is the one the proxy
# puts in X-Forwarded-For, believed only from these addresses or networks (make run's Varnish
# is on loopback). Without this, five wrong passwords from anywhere would lock anyone out.
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES", "127.0.0.1,::1")
AXES_CLIENT_IP_CALLABLE = "avatars.client_address.client_ip"

# The languages of the pages and emails (README, "Languages"). The VCL's page_language repeats
# the codes (tests/varnish/test_edge_languages.py holds the two together). English is the
# source text and the answer when nothing else is asked for; locale/ holds the others'
# catalogues, compiled by `make run` and `make test`.
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", "English"),
    ("de", "Deutsch"),
    ("fr", "Français"),
    ("es", "Español"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The switcher's choice, for a year; Lax like the session cookie (it is read on navigation).
LANGUAGE_COOKIE_AGE = 365 * 86400
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = VAR_DIR / "media"

STORAGE = env_choice("STORAGE", "local", ("local", "s3"))
_default_storage: dict[str, Any]
if STORAGE == "s3":
    _default_storage = s3_storage(
        bucket=env_str("S3_BUCKET"),
        endpoint_url=env_str("S3_ENDPOINT_URL"),
        access_key=env_str("S3_ACCESS_KEY_ID"),
        secret_key=env_str("S3_SECRET_ACCESS_KEY"),
        region=env_str("S3_REGION"),
        timeout=env_int("S3_TIMEOUT", 5, minimum=1),
        max_attempts=env_int("S3_MAX_ATTEMPTS", 2, minimum=1),
    )
else:
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT)},
    }
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

REDIS_URL = env_str("REDIS_URL")
REDIS_TIMEOUT_MS = env_int("REDIS_TIMEOUT_MS", 250, minimum=1)
if REDIS_URL:
    CACHES: dict[str, Any] = {"default": redis_cache(REDIS_URL, timeout_ms=REDIS_TIMEOUT_MS)}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "OPTIONS": {"MAX_ENTRIES": 10_000},
        }
    }

# Sessions live in the database, never in the cache: a Redis outage must not sign anyone out.
SESSION_ENGINE = "django.contrib.sessions.backends.db"

EMAIL_HOST = env_str("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
# Seconds per SMTP attempt; accounts/emails.py tries three times after the commit.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "avatars@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# HTTPS=true when a TLS terminator (load balancer, Varnish behind hitch) fronts the service:
# secure cookies, HSTS and redirects. Off for a local plain-HTTP run.
HTTPS = env_bool("HTTPS", False)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
LANGUAGE_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
if env_bool("TRUST_X_FORWARDED_PROTO", HTTPS):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Uploads: Gravatar's limit, and a pixel cap so a small file cannot expand into gigabytes.
AVATAR_MAX_UPLOAD_BYTES = env_int("AVATAR_MAX_UPLOAD_BYTES", 10 * 1024 * 1024, minimum=1024)
AVATAR_MAX_UPLOAD_PIXELS = env_int("AVATAR_MAX_UPLOAD_PIXELS", 50_000_000, minimum=1)
DATA_UPLOAD_MAX_MEMORY_SIZE = AVATAR_MAX_UPLOAD_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = AVATAR_MAX_UPLOAD_BYTES + 1024 * 1024
# "post": new uploads show at once and are reviewed after (Gravatar's way); "pre": after approval.
AVATAR_MODERATION = env_choice("AVATAR_MODERATION", "post", ("post", "pre"))
# Upload from a URL: the whole fetch (connect, redirects, body) must finish within this time.
AVATAR_URL_FETCH_TIMEOUT = env_int("AVATAR_URL_FETCH_TIMEOUT", 10, minimum=1)
# Tests only: lets the URL fetcher reach a local test server. Never read from the environment,
# so no deployment can open the loopback interface to server-side requests by accident.
AVATAR_URL_FETCH_ALLOW_LOOPBACK = False
# Checking an account elsewhere for its rel="me" link back: the whole fetch of its page.
PROFILE_VERIFY_TIMEOUT = env_int("PROFILE_VERIFY_TIMEOUT", 5, minimum=1)
# The image served when a request names no or an unknown `d=`: one of the contract's generated
# defaults (avatars/contract.py), which the system check avatars.E102 enforces.
AVATAR_DEFAULT = env_str("AVATAR_DEFAULT").strip().lower() or "mp"
# Hosts a `d=<url>` default may redirect to; empty allows any public http(s) host.
AVATAR_DEFAULT_URL_HOSTS = env_list("AVATAR_DEFAULT_URL_HOSTS")
AVATAR_BROWSER_MAX_AGE = env_int("AVATAR_BROWSER_MAX_AGE", 300, minimum=0)
AVATAR_SHARED_MAX_AGE = env_int("AVATAR_SHARED_MAX_AGE", 7 * 86400, minimum=0)
AVATAR_STALE_WHILE_REVALIDATE = env_int("AVATAR_STALE_WHILE_REVALIDATE", 86400, minimum=0)
AVATAR_STALE_IF_ERROR = env_int("AVATAR_STALE_IF_ERROR", 7 * 86400, minimum=0)
# Each worker keeps recent renditions in memory, in front of the shared cache (bytes per process).
AVATAR_RENDITION_MEMORY_BYTES = env_int(
    "AVATAR_RENDITION_MEMORY_BYTES", 32 * 1024 * 1024, minimum=0
)
# What hashes resolve to, remembered by each worker for at most a second (entries per process;
# 0: none). See avatars/resolution.py.
AVATAR_RESOLUTION_MEMORY_ENTRIES = env_int("AVATAR_RESOLUTION_MEMORY_ENTRIES", 10_000, minimum=0)
# What hash or slug names answer as public profiles, kept the same way (entries per process; an
# entry is about 2 kB for a typical public profile, 45 kB at most with every field full, a few
# bytes for the unknown, most of the traffic). See profiles/selectors.py.
PROFILE_RESOLUTION_MEMORY_ENTRIES = env_int("PROFILE_RESOLUTION_MEMORY_ENTRIES", 2_000, minimum=0)

# REST API v3 (profiles/ratelimit.py): requests per window, counted in Redis with REDIS_URL,
# else in the database; shared by every worker and node either way. Per client address for
# requests without a valid credential (every /v3/ path alike); per site key on /v3/profiles
# with one; per token on /v3/me/ with one (an app's server acts for many people from one
# address, so a token's requests are never counted per address).
API_RATE_LIMIT = env_int("API_RATE_LIMIT", 100, minimum=1)
API_KEY_RATE_LIMIT = env_int("API_KEY_RATE_LIMIT", 1000, minimum=1)
API_TOKEN_RATE_LIMIT = env_int("API_TOKEN_RATE_LIMIT", 1000, minimum=1)
API_RATE_WINDOW_SECONDS = env_int("API_RATE_WINDOW_SECONDS", 3600, minimum=1)

# The home page's domain check (avatars/federation.py): the DNS server to ask, "ip" or
# "ip:port" (empty: the system's resolvers), and the seconds the whole check may take.
DNS_RESOLVER = env_str("DNS_RESOLVER")
DNS_TIMEOUT = env_int("DNS_TIMEOUT", 3, minimum=1)

# Varnish nodes to purge, e.g. http://10.0.0.5:6081,http://10.0.0.6:6081
VARNISH_NODES = env_list("VARNISH_NODES")
# The app servers of this deployment, e.g. http://10.0.0.5:8000,http://10.0.0.6:8000. Listing
# more than one tells the system checks that the service runs on several nodes, which local
# media, a per-process cache, SQLite or a generated SECRET_KEY cannot (avatars/checks.py).
APP_NODES = env_list("APP_NODES")

# The REST API for apps (api/): OAuth 2.0 through django-oauth-toolkit, with every RFC 9700
# recommendation enforced: PKCE S256 for every client, tokens stored only as SHA-256 checksums,
# refresh tokens rotated and a reused one revoking its whole family, exact redirect URIs.
OAUTH2_PROVIDER = {
    "SCOPES_BACKEND_CLASS": "api.scopes.ApiScopes",
    "PKCE_REQUIRED": True,
    "ACCESS_TOKEN_EXPIRE_SECONDS": env_int("API_ACCESS_TOKEN_SECONDS", 3600, minimum=60),
    "REFRESH_TOKEN_EXPIRE_SECONDS": env_int("API_REFRESH_TOKEN_SECONDS", 90 * 86400, minimum=60),
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ACCESS_TOKEN_GENERATOR": "api.tokens.access_token_generator",
    "REFRESH_TOKEN_GENERATOR": "api.tokens.refresh_token_generator",
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https", "http"] if not HTTPS else ["https"],
    "ALLOW_URI_WILDCARDS": False,
    "REQUEST_APPROVAL_PROMPT": "auto",
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": False,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
}
# Browser apps call /v3/ from their own origin with a bearer token; no cookie is ever a
# credential there (api.middleware), so any origin may call and none gets credentials.
CORS_URLS_REGEX = r"^/(?:api/)?v3/.*$"
CORS_ALLOW_ALL_ORIGINS = True
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_HEADERS = ["authorization", "content-type"]
# What a browser app may read of an answer besides the safelisted headers: its rate limit, and
# after a 429 how long to wait.
CORS_EXPOSE_HEADERS = [
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "Retry-After",
]

# Who may read /metrics: clients from these addresses or networks (the client as
# avatars/client_address.py finds it, so a request through Varnish counts as its client), or
# anyone sending `Authorization: Bearer <METRICS_TOKEN>`.
METRICS_ALLOWED_ADDRESSES = env_networks("METRICS_ALLOWED_ADDRESSES", "127.0.0.1,::1")
METRICS_TOKEN = env_str("METRICS_TOKEN")
# The purge worker's own metrics (its deliveries), on this loopback port; 0: none.
PURGE_WORKER_METRICS_PORT = env_int("PURGE_WORKER_METRICS_PORT", 0, minimum=0)
PURGE_WORKER_METRICS_HOST = env_str("PURGE_WORKER_METRICS_HOST", "127.0.0.1")
# The Prometheus the admin's Service health page reads (http://127.0.0.1:9090); empty: none.
PROMETHEUS_URL = env_str("PROMETHEUS_URL").rstrip("/")
# Milliseconds for each query of that page; a slower or absent Prometheus is reported as such.
PROMETHEUS_TIMEOUT_MS = env_int("PROMETHEUS_TIMEOUT_MS", 2000, minimum=1)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO").upper()},
    "loggers": {
        "axes": {"level": "WARNING"},
        # oauthlib and django-oauth-toolkit log codes, tokens and secrets at DEBUG and INFO;
        # never below WARNING, whatever LOG_LEVEL says (tests/api/test_secrets.py).
        "oauthlib": {"level": "WARNING"},
        "oauth2_provider": {"level": "WARNING"},
    },
}
