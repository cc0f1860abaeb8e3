"""Public pages stay small for people on regional mobile data: HTML plus the stylesheet at most 20 KB,
counted uncompressed, on the demo consultation (9 sessions, two drafts) in every language.

The draft document pages are the one exception: their size is the draft itself, which a reader came
for; their markup is kept lean but is not held to this budget.
"""

from __future__ import annotations

import gzip

import brotli
import pytest
from sqlalchemy import select

from eventreg.config import PROJECT_ROOT
from eventreg.models import EventSession, Registration
from tests.factories import csrf_token

BUDGET = 20 * 1024
STYLESHEET = PROJECT_ROOT / "eventreg" / "static" / "style.css"


@pytest.fixture
def demo(app, runner, db_session):
    if not app.config["DATABASE_URL"].startswith("sqlite"):
        pytest.skip("page weight does not depend on the database: measured once, on SQLite")
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    return db_session


def public_pages(client, session, lang: str) -> dict[str, bytes]:
    event = session.scalars(select(EventSession).order_by(EventSession.id)).first()
    registration = session.scalars(select(Registration).order_by(Registration.id)).first()
    comment_form = f"/{lang}/consultation/gender-equality-strategy-2030/national-strategy/items/1.1/comment"
    urls = {
        "home": f"/{lang}/",
        "session": f"/{lang}/sessions/{event.slug}",
        "documents": f"/{lang}/consultation",
        "comment form": comment_form,
        "personal page": f"/{lang}/r/{registration.token}",
        "privacy": f"/{lang}/privacy",
        "log in": f"/{lang}/login",
    }
    pages = {}
    for name, url in urls.items():
        response = client.get(url)
        assert response.status_code == 200, url
        pages[name] = response.get_data()
    # Error states: the form comes back with its error summary.
    page = client.get(urls["session"]).get_data(as_text=True)
    sent = client.post(urls["session"], data={"csrf_token": csrf_token(page)})
    assert sent.status_code == 400
    pages["session, with errors"] = sent.get_data()
    return pages


@pytest.mark.parametrize("lang", ["ky", "ru", "en"])
def test_public_pages_fit_in_20_kb_with_their_stylesheet(client, demo, lang):
    css = len(STYLESHEET.read_bytes())
    sizes = {name: len(body) + css for name, body in public_pages(client, demo, lang).items()}
    too_big = {name: size for name, size in sizes.items() if size > BUDGET}
    assert too_big == {}, f"over {BUDGET} bytes with the {css}-byte stylesheet: {too_big}"


def test_pages_and_styles_are_compressed_when_the_client_accepts_it(client, demo):
    # A page is compressed whole (gzip here); a static file is streamed, and streams use Brotli.
    for url, accepted, decompress in (
        ("/ky/", "gzip", gzip.decompress),
        ("/static/style.css", "br", brotli.decompress),
    ):
        plain = client.get(url).get_data()
        response = client.get(url, headers={"Accept-Encoding": accepted})
        assert response.headers.get("Content-Encoding") == accepted, url
        assert "Accept-Encoding" in response.headers.get("Vary", "")
        assert decompress(response.get_data()) == plain
        assert len(response.get_data()) < len(plain) / 2
