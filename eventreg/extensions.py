"""Extensions, created unbound and attached in create_app()."""

from flask import request
from flask_babel import Babel
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf import CSRFProtect

from eventreg.db import db

babel = Babel()
# Gzip, Brotli or Zstandard for HTML, CSS and SVG when the client accepts it (regional mobile data).
compress = Compress()
csrf = CSRFProtect()
login_manager = LoginManager()


def _client_address() -> str:
    return get_remote_address() or request.remote_addr or "unknown"


limiter = Limiter(key_func=_client_address, default_limits=[], headers_enabled=False)

__all__ = ["babel", "compress", "csrf", "db", "limiter", "login_manager"]
