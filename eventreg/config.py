"""Configuration read from the environment when the app is built, never at import time."""

from __future__ import annotations

import os
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
        "MAIL_DEFAULT_SENDER": env.get("MAIL_DEFAULT_SENDER", "eventreg@localhost"),
        "DEVELOPMENT": development,
        # Test-only: skip the capacity lock so the concurrency test can prove it bites.
        "TESTING_SKIP_CAPACITY_LOCK": False,
    }
    return config


def check(config: dict) -> None:
    """Refuse to start with settings that would be unsafe in production."""
    if not config.get("SECRET_KEY"):
        if config.get("TESTING") or config.get("DEVELOPMENT"):
            config["SECRET_KEY"] = "dev-only-not-secret"  # noqa: S105 - never outside dev and tests
        else:
            raise ConfigError(
                "SECRET_KEY is not set. Set it in the environment "
                "(for example: export SECRET_KEY=$(python -c 'import secrets; print(secrets.token_hex(32))'))."
            )
    if config.get("TESTING_SKIP_CAPACITY_LOCK") and not config.get("TESTING"):
        raise ConfigError("TESTING_SKIP_CAPACITY_LOCK may only be used in tests.")
