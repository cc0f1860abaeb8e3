"""Who runs this service: the organisation's name, short name and logo, the ministry it reports to.

Each value comes from configuration (environment variables at start-up); without one, the Alliance's names
in the reader's language are used. The favicon is served here so no page load ends in a 404.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, request, send_from_directory, url_for
from flask_babel import gettext as _


@dataclass(frozen=True)
class Identity:
    name: str
    short_name: str
    logo_url: str | None
    ministry: str


def identity() -> Identity:
    """The organisation as the current reader sees it (configured names win over the translated defaults)."""
    config = current_app.config
    logo = config.get("ORG_LOGO") or None
    if logo and not logo.startswith(("http://", "https://", "/")):
        logo = url_for("static", filename=logo)
    return Identity(
        name=config.get("ORG_NAME") or _("Alliance of Women's Legislative Initiatives"),
        short_name=config.get("ORG_SHORT_NAME") or _("Women's Alliance"),
        logo_url=logo,
        ministry=config.get("MINISTRY_NAME")
        or _("Ministry of Labour and Social Development of the Kyrgyz Republic"),
    )


WORKSPACE_SECTIONS = {"organiser", "reports", "admin"}


def is_workspace_page() -> bool:
    """Staff pages (/<lang>/organiser/…, /reports/…, /admin/…) use the full width of a laptop screen."""
    parts = request.path.strip("/").split("/")
    return len(parts) > 1 and parts[1] in WORKSPACE_SECTIONS


def init_app(app: Flask) -> None:
    app.jinja_env.globals["org"] = identity
    app.jinja_env.globals["is_workspace_page"] = is_workspace_page

    @app.get("/favicon.ico")
    def favicon():
        # Browsers ask for /favicon.ico whatever the page says; answer with the same SVG icon.
        response = send_from_directory(
            app.static_folder, "favicon.svg", mimetype="image/svg+xml", max_age=86400
        )
        return response
