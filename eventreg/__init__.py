"""eventreg: registration and clause-by-clause comments for a national public consultation."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from flask import Flask, g, request
from sqlalchemy.exc import DBAPIError

from eventreg import config as config_module
from eventreg.config import PROJECT_ROOT


class EventregFlask(Flask):
    """Flask, with one rule added: a write request that hit a transient lock error is run again.

    Safe because a request is one unit of work: the failed attempt was rolled back whole, and a request
    that already committed something is never replayed.
    """

    def dispatch_request(self):
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return super().dispatch_request()
        from eventreg.db import DatabaseBusy, db, is_transient, retry_pause

        attempts = max(int(self.config.get("DB_RETRY_ATTEMPTS", 3)), 1)
        for attempt in range(attempts):
            try:
                return super().dispatch_request()
            except DBAPIError as error:
                if not is_transient(error) or g.get("db_committed"):
                    raise
                db.session.rollback()
                if attempt + 1 >= attempts:
                    raise DatabaseBusy() from error
                time.sleep(retry_pause(attempt))
        raise AssertionError("unreachable")


def create_app(test_config: dict | None = None) -> Flask:
    app = EventregFlask(
        __name__,
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder="static",
    )
    app.config.update(config_module.from_environment(app.instance_path))
    if test_config:
        app.config.update(test_config)
    config_module.check(app.config)
    if app.config.get("PROXY_FIX_X_FOR"):
        # Behind a load balancer: trust that many proxies for the client address (rate limits, logs).
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["PROXY_FIX_X_FOR"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

    from eventreg import i18n, security, vocabulary
    from eventreg.accounts import auth
    from eventreg.extensions import babel, csrf, db, limiter

    db.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    csrf.init_app(app)
    limiter.init_app(app)
    auth.init_app(app)
    i18n.init_app(app)
    vocabulary.init_app(app)
    security.init_app(app)

    from eventreg import cli, errors
    from eventreg.main.routes import bp as main_bp
    from eventreg.registration.routes import bp as registration_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(registration_bp)
    _register_optional_blueprints(app)
    errors.init_app(app)
    cli.init_app(app)
    return app


def _register_optional_blueprints(app: Flask) -> None:
    """Areas built in later issues register here once they exist."""
    import importlib

    for module_name in (
        "eventreg.consultation.routes",
        "eventreg.organiser.routes",
        "eventreg.accounts.routes",
        "eventreg.reports.routes",
        "eventreg.mail.routes",
        "eventreg.moderation.routes",
        "eventreg.evaluation.routes",
    ):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        app.register_blueprint(module.bp)
