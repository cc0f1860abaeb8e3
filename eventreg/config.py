"""Configuration read from the environment when the app is built, never at import time."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Adding a language is one entry here plus a catalogue in translations/.
LANGUAGES: dict[str, str] = {"ru": "Русский", "ky": "Кыргызча", "en": "English"}
DEFAULT_LANGUAGE = "ru"
TIMEZONE = "Asia/Bishkek"


class ConfigError(RuntimeError):
    """The environment does not allow the app to start safely."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def from_environment(instance_path: str) -> dict:
    env = os.environ
    development = env.get("FLASK_DEBUG") == "1" or env.get("EVENTREG_ENV") == "development"
    config = {
        "SECRET_KEY": env.get("SECRET_KEY"),
        "DATABASE_URL": env.get("DATABASE_URL") or f"sqlite:///{Path(instance_path) / 'eventreg.sqlite3'}",
        "BASE_URL": env.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        "LANGUAGES": dict(LANGUAGES),
        "BABEL_DEFAULT_LOCALE": DEFAULT_LANGUAGE,
        "BABEL_DEFAULT_TIMEZONE": TIMEZONE,
        "BABEL_TRANSLATION_DIRECTORIES": str(PROJECT_ROOT / "translations"),
        # Long comments and registration forms fit easily; anything larger is refused with a 413 page.
        "MAX_CONTENT_LENGTH": int(env.get("MAX_CONTENT_LENGTH", 2 * 1024 * 1024)),
        "MAX_FORM_MEMORY_SIZE": int(env.get("MAX_FORM_MEMORY_SIZE", 512 * 1024)),
        # A participant may take their time typing a comment; the token must not expire under them.
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool(env.get("SESSION_COOKIE_SECURE"), default=False),
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI") or env.get("REDIS_URL") or "memory://",
        # A moving window: no burst of twice the limit across a minute boundary.
        "RATELIMIT_STRATEGY": "moving-window",
        # Generous enough for an office registering its staff from one connection; not a whole session.
        "REGISTRATIONS_PER_ADDRESS_AND_SESSION": env.get("REGISTRATIONS_PER_ADDRESS_AND_SESSION")
        or "40 per day",
        "RATELIMIT_KEY_PREFIX": env.get("RATELIMIT_KEY_PREFIX", "eventreg"),
        # Number of proxies in front of the app whose X-Forwarded-For/-Proto to trust (0: none).
        "PROXY_FIX_X_FOR": int(env.get("PROXY_FIX_X_FOR") or 0),
        # Public pages for visitors who carry nothing personal are kept this long per worker (0: off).
        "PAGE_CACHE_SECONDS": float(env.get("PAGE_CACHE_SECONDS") or 10),
        "MAIL_SERVER": env.get("MAIL_SERVER") or None,
        "MAIL_PORT": int(env.get("MAIL_PORT") or 25),
        "MAIL_USE_TLS": _bool(env.get("MAIL_USE_TLS")),
        "MAIL_USE_SSL": _bool(env.get("MAIL_USE_SSL")),
        "MAIL_USERNAME": env.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD") or None,
        # The relay accepts non-ASCII before the @ (SMTPUTF8); without it such addresses are refused when typed.
        "MAIL_SMTPUTF8": _bool(env.get("MAIL_SMTPUTF8")),
        # Days a sent message keeps its text (personal links); then only recipient, subject and dates stay.
        "MAIL_BODY_RETENTION_DAYS": int(env.get("MAIL_BODY_RETENTION_DAYS") or 30),
        "MAIL_DEFAULT_SENDER": env.get("MAIL_DEFAULT_SENDER", "eventreg@localhost"),
        # Who runs the service (header, page titles, documents); empty means the Alliance's names, translated.
        "ORG_NAME": env.get("ORG_NAME") or None,
        "ORG_SHORT_NAME": env.get("ORG_SHORT_NAME") or None,
        "ORG_LOGO": env.get("ORG_LOGO") or None,  # a file in eventreg/static/ or a full URL
        "MINISTRY_NAME": env.get("MINISTRY_NAME") or None,
        # Compression (Flask-Compress): pages, styles and the icon. CSV, XLSX and DOCX downloads are not listed.
        "COMPRESS_MIMETYPES": ["text/html", "text/css", "image/svg+xml", "application/json"],
        "COMPRESS_STREAMS": True,  # static files are sent as streams; downloads are not in the list above
        "COMPRESS_MIN_SIZE": 500,
        "DEVELOPMENT": development,
        # Named in the privacy notice: who people write to about their data.
        "PRIVACY_CONTACT": env.get(
            "PRIVACY_CONTACT",
            "Alliance of Women's Legislative Initiatives, Bishkek, Kyrgyz Republic — privacy@alliance.kg",
        ),
        # Test-only: skip the capacity lock so the concurrency test can prove it bites.
        "TESTING_SKIP_CAPACITY_LOCK": False,
        "TESTING_SKIP_LOCKS": False,
        # A write request that meets a transient lock error is run again this many times in all.
        "DB_RETRY_ATTEMPTS": int(env.get("DB_RETRY_ATTEMPTS") or 3),
        # Every attempt may wait this long for SQLite's write lock; all DB_RETRY_ATTEMPTS of them fit in
        # gunicorn's 30 s worker timeout, so a stuck write ends on the "send again" page, never a 502.
        "SQLITE_BUSY_TIMEOUT_MS": int(env.get("SQLITE_BUSY_TIMEOUT_MS") or 8000),
    }
    return config


def development_secret_key(instance_path: str) -> str:
    """A random key made on the first start and kept in the instance folder (never in version control).

    A public constant would let anyone forge a session cookie, an admin's included, for a development
    instance left reachable; a key that changed on every start would log everyone out on each reload.
    """
    path = Path(instance_path) / "secret_key"
    if path.exists():
        key = path.read_text().strip()
        if key:
            return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key + "\n")
    return key


def check(config: dict, instance_path: str | None = None) -> None:
    """Refuse to start with settings that would be unsafe in production."""
    if not config.get("SECRET_KEY"):
        if config.get("TESTING") and not config.get("DEVELOPMENT"):
            config["SECRET_KEY"] = "test-only-not-secret"  # noqa: S105 - tests only
        elif config.get("DEVELOPMENT") and instance_path:
            config["SECRET_KEY"] = development_secret_key(instance_path)
        else:
            raise ConfigError(
                "SECRET_KEY is not set. Set it in the environment "
                "(for example: export SECRET_KEY=$(python -c 'import secrets; print(secrets.token_hex(32))'))."
            )
    for switch in ("TESTING_SKIP_CAPACITY_LOCK", "TESTING_SKIP_LOCKS"):
        if config.get(switch) and not config.get("TESTING"):
            raise ConfigError(f"{switch} may only be used in tests.")
