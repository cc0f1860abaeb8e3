"""A participant on a phone, JavaScript off, finds a session and registers - in a real browser."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from eventreg.models import Registration
from tests.browser import browser_page
from tests.factories import make_event_session

pytestmark = pytest.mark.browser


def test_register_on_a_phone_without_javascript(live_server, db_session, tmp_path):
    event = make_event_session(
        db_session,
        capacity=2,
        region="KG-N",
        title={"ru": "Консультация в Нарыне", "ky": "Нарындагы консультация", "en": "Naryn"},
    )
    make_event_session(db_session, region="KG-B", title={"ru": "Баткен", "ky": "Баткен", "en": "Batken"})
    with browser_page(javascript=False, locale="ky-KG") as page:
        page.goto(live_server.url + "/")
        assert page.url.endswith("/ky/")
        assert page.locator("html").get_attribute("lang") == "ky"
        # filter by region with the plain form (no script)
        page.select_option("#filter-region", "KG-N")
        page.locator("form.filters button").click()
        assert "region=KG-N" in page.url
        assert page.get_by_role("link", name="Баткен", exact=True).count() == 0
        page.get_by_role("link", name="Нарындагы консультация").click()

        # a first attempt with a mistake keeps everything typed
        page.fill("#full_name", "Айнура Өмүрбекова")
        page.fill("#email", "ainura@example")
        page.fill("#organisation", "Нарын облустук аялдар кеңеши")
        page.fill("#position", "Төрайым")
        page.select_option("#sector", "civil_society")
        page.select_option("#region", "KG-N")
        page.check("input[name=sex][value=female]")
        page.select_option("#interpretation_language", "ky")
        page.fill("#accessibility_needs", "Кол арабасы үчүн пандус")
        page.check("#consent")
        page.locator("form button.primary").click()
        assert page.locator(".field-errors").count() == 1
        assert page.input_value("#full_name") == "Айнура Өмүрбекова"
        assert page.input_value("#accessibility_needs") == "Кол арабасы үчүн пандус"
        assert page.is_checked("#consent")

        page.fill("#email", "ainura@example.kg")
        page.locator("form button.primary").click()
        assert "/ky/r/" in page.url
        link = page.input_value(".copy-link")
        page.screenshot(path=str(tmp_path / "registered-phone.png"), full_page=True)

    registration = db_session.scalars(select(Registration).where(Registration.session_id == event.id)).one()
    assert registration.full_name == "Айнура Өмүрбекова"
    assert registration.status == "confirmed"
    assert link.endswith(f"/ky/r/{registration.token}")


def test_layout_fits_a_phone_screen(live_server, db_session):
    event = make_event_session(db_session)
    with browser_page(javascript=True) as page:
        for path in ("/ru/", f"/ru/sessions/{event.slug}", "/ky/privacy"):
            page.goto(live_server.url + path)
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{path} scrolls sideways on a phone by {overflow}px"
        # keyboard users reach the content first through the skip link
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.className")
        assert focused == "skip-link"
