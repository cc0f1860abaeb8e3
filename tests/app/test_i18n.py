"""Language in the URL, the switcher, fallbacks, plural forms and dates in each language."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from eventreg.i18n import localized
from tests.factories import make_event_session


@pytest.mark.parametrize(
    ("accept", "expected"),
    [("ky,ru;q=0.8", "/ky/"), ("en-GB,en;q=0.9", "/en/"), ("de-DE,fr;q=0.8", "/ru/"), (None, "/ru/")],
)
def test_root_picks_language_from_browser(client, accept, expected):
    headers = {"Accept-Language": accept} if accept else {}
    response = client.get("/", headers=headers)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(expected)
    assert "Accept-Language" in response.headers.get("Vary", "")


def test_switcher_keeps_the_page_and_filters(client, db_session):
    event = make_event_session(db_session)
    html = client.get(f"/ky/sessions/{event.slug}").get_data(as_text=True)
    assert '<html lang="ky">' in html
    assert f'href="/ru/sessions/{event.slug}"' in html
    assert f'href="/en/sessions/{event.slug}"' in html
    listing = client.get("/en/sessions?region=KG-N&kind=regional").get_data(as_text=True)
    assert 'href="/ky/?region=KG-N&amp;kind=regional"' in listing


def test_unknown_language_is_404(client):
    assert client.get("/de/sessions").status_code == 404


def test_text_missing_in_reader_language_falls_back_with_a_note(client, db_session):
    event = make_event_session(db_session, title={"ru": "Только по-русски"}, description={"ru": "Описание"})
    html = client.get(f"/en/sessions/{event.slug}").get_data(as_text=True)
    assert "Только по-русски" in html
    assert 'lang="ru"' in html  # screen readers switch voice for the Russian text
    assert "Not available in your language; shown in Русский." in html
    html_ru = client.get(f"/ru/sessions/{event.slug}").get_data(as_text=True)
    assert "fallback-note" not in html_ru


def test_localized_prefers_reader_language_then_configured_order(app):
    with app.test_request_context("/ky/"):
        assert localized({"en": "E", "ru": "R"}, "ky").text == "R"
        assert localized({"ky": "K", "ru": "R"}, "ky").text == "K"
        assert localized({}, "ky").text == ""


@pytest.mark.parametrize(
    ("lang", "places", "expected"),
    [
        ("ru", 1, "1 место"),
        ("ru", 2, "2 места"),
        ("ru", 5, "5 мест"),
        ("ru", 21, "21 место"),
        ("ky", 1, "1 орун"),
        ("ky", 5, "5 орун"),
        ("en", 1, "1 place left"),
        ("en", 5, "5 places left"),
    ],
)
def test_places_left_uses_plural_forms(client, db_session, lang, places, expected):
    event = make_event_session(db_session, capacity=places)
    html = client.get(f"/{lang}/sessions/{event.slug}").get_data(as_text=True)
    assert expected in html


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("ru", "18 декабря 2026 г., 10:00–16:00"),
        ("ky", "18-декабрь, 2026-ж., 10:00–16:00"),
        ("en", "18 December 2026, 10:00–16:00"),
    ],
)
def test_session_time_is_shown_in_bishkek_time_unambiguously(client, db_session, lang, expected):
    start = datetime(2026, 12, 18, 4, 0, tzinfo=UTC)  # 10:00 in Bishkek
    event = make_event_session(
        db_session, starts_at=start, ends_at=start.replace(hour=10), registration_deadline=None
    )
    html = client.get(f"/{lang}/sessions/{event.slug}").get_data(as_text=True)
    assert expected in html
    assert "UTC+6" in html


@pytest.mark.parametrize("lang", ["ru", "ky", "en"])
def test_error_pages_are_in_the_page_language(client, lang):
    response = client.get(f"/{lang}/sessions/nope")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert f'<html lang="{lang}">' in html
    assert "Traceback" not in html


def test_404_outside_a_language_follows_the_browser(client):
    response = client.get("/no/such/page", headers={"Accept-Language": "ky"})
    assert response.status_code == 404
    assert '<html lang="ky">' in response.get_data(as_text=True)


def test_translations_follow_force_locale_inside_a_request(app):
    """The catalogue is kept per request, per locale: an e-mail in another language never mixes them."""
    from flask import render_template_string
    from flask_babel import force_locale
    from flask_babel import gettext as babel_gettext

    from eventreg.i18n import gettext, local_date

    day = datetime(2021, 10, 12, 6, 0, tzinfo=UTC)
    with app.test_request_context("/ru/"):
        app.preprocess_request()
        assert gettext("Sessions") == babel_gettext("Sessions") != "Sessions"
        russian = gettext("Sessions")
        russian_date = local_date(day)
        with force_locale("en"):
            assert gettext("Sessions") == "Sessions"
            assert render_template_string("{{ _('Sessions') }}") == "Sessions"
            assert local_date(day) == "Tuesday, 12 October 2021"
        with force_locale("ky"):
            assert local_date(day) == "шейшемби, 12-октябрь, 2021-ж."
        assert gettext("Sessions") == russian
        assert local_date(day) == russian_date
        assert render_template_string("{{ _('Sessions') }}") == russian


def test_template_gettext_escapes_only_in_html(app):
    from flask import render_template_string

    with app.test_request_context("/en/"):
        app.preprocess_request()
        env = app.jinja_env
        html = env.from_string(
            "{% autoescape true %}{{ _('%(a)s', a='<b>') }} {{ _('100%%') }}{% endautoescape %}"
        )
        text = env.from_string(
            "{% autoescape false %}{{ _('%(a)s', a='<b>') }} {{ _('100%%') }}{% endautoescape %}"
        )
        assert html.render() == "&lt;b&gt; 100%"
        assert text.render() == "<b> 100%"
        assert render_template_string("{{ ngettext('%(num)d place left', '%(num)d places left', 3) }}") == (
            "3 places left"
        )
