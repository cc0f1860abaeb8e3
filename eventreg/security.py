"""Response headers that keep pages and personal links safe in every browser."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, request, session

# The app ships no JavaScript. Inline style attributes are allowed only for the report bars' widths.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def is_safe_next(target: str | None) -> bool:
    """Only a path on this site: the one check for every `next` and `return_to` a form or link carries.

    No scheme, no host, no '//' or '/\\' that browsers read as a host, and no tab or line break, which
    browsers drop (so '/<TAB>/evil.example/' is '//evil.example/') and which cannot go into a header.
    """
    if not isinstance(target, str) or not target.startswith("/") or target.startswith(("//", "/\\")):
        return False
    if any(c in target for c in "\r\n\t\\") or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def init_app(app: Flask) -> None:
    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        # Personal links carry a secret token: never hand the address to another site.
        headers.setdefault("Referrer-Policy", "same-origin")
        if app.config.get("SESSION_COOKIE_SECURE"):
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if request.path.startswith(tuple(f"/{lang}/r/" for lang in app.config["LANGUAGES"])):
            # A personal page is nobody else's business: not in shared caches, not in search engines.
            headers["Cache-Control"] = "private, no-store"
            headers.setdefault("X-Robots-Tag", "noindex")
        elif session.get("_user_id"):  # logged in (read from the cookie: no database query here)
            # Staff pages show people's e-mails and phones (registrations, door list, comment queue):
            # never kept by a shared cache or the browser's back-forward history on a shared computer.
            headers["Cache-Control"] = "private, no-store"
        return response
