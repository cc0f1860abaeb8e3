"""Response headers that keep pages and personal links safe in every browser."""

from __future__ import annotations

from flask import Flask, request

# The app ships no JavaScript. Inline style attributes are allowed only for the report bars' widths.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


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
        return response
