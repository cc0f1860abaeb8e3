"""eventreg: registration and clause-by-clause comments for a national public consultation."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from flask import Flask, g, request
from sqlalchemy.exc import DBAPIError

from eventreg import config as config_module
from eventreg import ratelimit
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
    config_module.check(app.config, app.instance_path)
    ratelimit.configure(app.config)
    if app.config.get("PROXY_FIX_X_FOR"):
        # Behind a load balancer: trust that many proxies for the client address (rate limits, logs).
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["PROXY_FIX_X_FOR"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    from eventreg import logs

    logs.init_app(app)

    from eventreg import audit, i18n, identity, page_cache, security, vocabulary
    from eventreg.accounts import auth
    from eventreg.extensions import babel, compress, csrf, db

    db.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    csrf.init_app(app)
    compress.init_app(app)
    ratelimit.init_app(app)
    auth.init_app(app)
    i18n.init_app(app)
    vocabulary.init_app(app)
    identity.init_app(app)
    audit.init_app(app)
    security.init_app(app)
    page_cache.init_app(app)

    from eventreg import cli, errors

    # Listed explicitly: a renamed module fails loudly at start-up instead of silently dropping its URLs.
    from eventreg.accounts.routes import bp as accounts_bp
    from eventreg.api.routes import bp as api_bp
    from eventreg.capture.routes import bp as capture_bp
    from eventreg.consultation.routes import bp as consultation_bp
    from eventreg.evaluation.routes import bp as evaluation_bp
    from eventreg.mail.routes import bp as mail_bp
    from eventreg.main.routes import bp as main_bp
    from eventreg.moderation.routes import bp as moderation_bp
    from eventreg.organiser.routes import bp as organiser_bp
    from eventreg.privacy.routes import bp as privacy_bp
    from eventreg.registration.routes import bp as registration_bp
    from eventreg.reports.routes import bp as reports_bp

    for blueprint in (
        main_bp,
        registration_bp,
        consultation_bp,
        organiser_bp,
        accounts_bp,
        reports_bp,
        mail_bp,
        privacy_bp,
        moderation_bp,
        evaluation_bp,
        api_bp,
        capture_bp,
    ):
        app.register_blueprint(blueprint)
    errors.init_app(app)
    cli.init_app(app)
    from eventreg.evaluation.services import open_due_evaluations
    from eventreg.registration.services import release_all_expired_holds

    # What the background worker does besides mail, each step its own unit of work; the mail package
    # itself knows no area. Held places that ran out go to the waiting list; sessions that have just
    # ended open their evaluation and invite the people who came.
    app.extensions["eventreg.worker_steps"] = [release_all_expired_holds, open_due_evaluations]
    from eventreg.mail.readiness import warn_at_start_up

    warn_at_start_up(app)
    return app
