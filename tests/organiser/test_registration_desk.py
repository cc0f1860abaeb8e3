"""The registration desk: a QR code and a calendar file on the personal page, and one-tap check-in for
an organiser who scans it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import segno
from sqlalchemy import select

from eventreg.models import AuditEntry, OutboxMessage, Registration
from tests.auth_helpers import login_as, make_user
from tests.factories import csrf_token, make_event_session, registration_form

BASE_URL = "https://consult.example.kg"  # what tests/conftest.py configures
BISHKEK = ZoneInfo("Asia/Bishkek")
_SVG = re.compile(r'<svg[^>]*class="qr-code".*?</svg>', re.S)
_PATH_DATA = re.compile(r' d="([^"]+)"')


def register(client, event, lang="ky", **fields) -> Registration:
    page = client.get(f"/{lang}/sessions/{event.slug}")
    data = registration_form(**fields)
    data["csrf_token"] = csrf_token(page.get_data(as_text=True))
    response = client.post(f"/{lang}/sessions/{event.slug}", data=data)
    assert response.status_code == 303
    token = response.headers["Location"].split("/r/", 1)[1].split("?", 1)[0]
    return token


def reload(db_session, token: str) -> Registration:
    db_session.expire_all()
    return db_session.scalars(select(Registration).where(Registration.token == token)).one()


def cancel(client, token: str, lang="ky"):
    page = client.get(f"/{lang}/r/{token}/cancel").get_data(as_text=True)
    client.post(f"/{lang}/r/{token}/cancel", data={"csrf_token": csrf_token(page)})


def qr_paths(html: str) -> list[str]:
    match = _SVG.search(html)
    assert match, "page has no QR code"
    return _PATH_DATA.findall(match.group(0))


def expected_paths(url: str) -> list[str]:
    return _PATH_DATA.findall(segno.make_qr(url, error="m").svg_inline(scale=1, border=4, omitsize=True))


@pytest.fixture
def event(app, db_session):
    start = datetime(2031, 10, 12, 4, 0, tzinfo=UTC)  # 10:00 in Bishkek (UTC+6)
    return make_event_session(
        db_session,
        starts_at=start,
        ends_at=start + timedelta(hours=8),
        registration_deadline=start - timedelta(days=1),
        capacity=1,
    )


@pytest.fixture
def organiser(app, db_session):
    return make_user(db_session, role="organiser", email="desk@example.kg")


@pytest.fixture
def desk(app, organiser):
    """The desk phone: a separate browser, logged in as an organiser."""
    phone = app.test_client()
    login_as(phone, app, organiser)
    return phone


# --- the participant's side -------------------------------------------------------------------------


def test_personal_page_shows_a_qr_code_of_the_base_url_link_even_with_a_forged_host(
    client, db_session, event
):
    token = register(client, event, lang="ky")
    response = client.get(f"/ky/r/{token}", headers={"Host": "evil.example"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    expected = f"{BASE_URL}/ky/r/{token}"
    assert qr_paths(page) == expected_paths(expected)
    assert qr_paths(page) != expected_paths(f"http://evil.example/ky/r/{token}")
    assert "evil.example" not in page  # neither the QR code nor the copy box takes the Host header
    assert expected in page
    assert "<script" not in page and "data:image" not in page  # drawn inline on the server
    assert len(response.data) < 30_000  # mobile data in the regions: well under 60 KB


def test_qr_caption_and_calendar_button_in_english(client, db_session, event):
    token = register(client, event, lang="en")
    page = client.get(f"/en/r/{token}").get_data(as_text=True)
    assert "Show this code at the registration desk" in page
    assert f'href="/en/r/{token}/calendar.ics"' in page
    assert "Add to my calendar" in page
    assert "Registration desk" not in page  # no check-in panel without an organiser logged in
    assert "/organiser/registrations/" not in page


def test_calendar_download_is_the_confirmation_mail_file_in_the_registration_language(
    client, db_session, event
):
    token = register(client, event, lang="ky")
    # opened from the Russian page: the file is still in the language the person registered in
    response = client.get(f"/ru/r/{token}/calendar.ics", headers={"Host": "evil.example"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert ".ics" in response.headers["Content-Disposition"]
    assert "no-store" in response.headers["Cache-Control"]

    (downloaded,) = icalendar.Calendar.from_ical(response.data).walk("VEVENT")
    start = downloaded.decoded("dtstart")
    assert start.utcoffset() == timedelta(hours=6)
    assert str(start.tzinfo) == "Asia/Bishkek"
    assert start == datetime(2031, 10, 12, 10, 0, tzinfo=BISHKEK)
    assert str(downloaded["summary"]) == "Нарындагы консультация"
    assert str(downloaded["url"]) == f"{BASE_URL}/ky/r/{token}"
    assert "evil.example" not in response.get_data(as_text=True)

    mail = db_session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "registration_confirmed")
    ).one()
    (attachment,) = mail.attachments
    (mailed,) = icalendar.Calendar.from_ical(attachment["content"]).walk("VEVENT")
    for prop in ("uid", "summary", "location", "url", "description", "status", "sequence"):
        assert str(downloaded[prop]) == str(mailed[prop]), prop
    assert downloaded.decoded("dtstart") == mailed.decoded("dtstart")
    assert downloaded.decoded("dtend") == mailed.decoded("dtend")


def test_cancelled_registration_has_no_qr_code_and_no_calendar(client, db_session, event):
    token = register(client, event, lang="en")
    cancel(client, token, lang="en")
    assert reload(db_session, token).status == "cancelled"
    page = client.get(f"/en/r/{token}").get_data(as_text=True)
    assert 'class="qr-code"' not in page
    assert "Show this code at the registration desk" not in page
    assert "calendar.ics" not in page
    assert client.get(f"/en/r/{token}/calendar.ics").status_code == 404
    assert client.get(f"/en/r/{'x' * 43}/calendar.ics").status_code == 404


# --- the organiser at the desk ------------------------------------------------------------------------


def test_organiser_scans_the_code_and_checks_in_with_one_tap(client, desk, db_session, event, organiser):
    token = register(client, event, lang="ky", full_name="Айгүл Токтогулова", organisation="«Үмүт»")
    registration_id = reload(db_session, token).id
    page = desk.get(f"/en/r/{token}").get_data(as_text=True)
    assert "Registration desk" in page
    assert "Айгүл Токтогулова" in page and "«Үмүт»" in page
    assert f'action="/en/organiser/registrations/{registration_id}/check-in"' in page
    assert ">Check in</button>" in page

    response = desk.post(
        f"/en/organiser/registrations/{registration_id}/check-in",
        data={"csrf_token": csrf_token(page), "back": f"/en/r/{token}"},
    )
    assert response.status_code == 303 and response.headers["Location"] == f"/en/r/{token}"
    first_time = reload(db_session, token).checked_in_at
    assert first_time is not None
    after = desk.get(f"/en/r/{token}").get_data(as_text=True)
    assert "is checked in" in after  # the flash
    assert "Checked in: " in after
    assert ">Check in</button>" not in after

    # a second tap (the page was still open) keeps the first time
    desk.post(
        f"/en/organiser/registrations/{registration_id}/check-in",
        data={"csrf_token": csrf_token(page), "back": f"/en/r/{token}"},
    )
    assert reload(db_session, token).checked_in_at == first_time

    db_session.expire_all()
    entries = list(db_session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    assert [(e.action, e.object_id, e.user_id) for e in entries] == [
        ("registration.check_in", registration_id, organiser.id),
        ("registration.check_in", registration_id, organiser.id),
    ]
    # the participant's own browser still sees no panel
    assert "Registration desk" not in client.get(f"/en/r/{token}").get_data(as_text=True)


def test_waitlisted_and_cancelled_are_said_plainly_without_a_button(client, desk, db_session, event):
    register(client, event, lang="en")  # takes the only place
    waiting = register(client, event, lang="en")
    assert reload(db_session, waiting).status == "waitlisted"
    page = desk.get(f"/en/r/{waiting}").get_data(as_text=True)
    assert "on the waiting list and has no confirmed place" in page
    assert ">Check in</button>" not in page

    cancel(client, waiting, lang="en")
    page = desk.get(f"/en/r/{waiting}").get_data(as_text=True)
    assert "This registration is cancelled" in page
    assert ">Check in</button>" not in page
    assert 'class="qr-code"' not in page


@pytest.mark.parametrize("role", ["analyst", None])
def test_analysts_and_anonymous_visitors_see_no_panel_and_cannot_check_in(
    app, client, db_session, event, role
):
    token = register(client, event, lang="en")
    registration_id = reload(db_session, token).id
    browser = app.test_client()
    if role:
        login_as(browser, app, make_user(db_session, role=role))
    page = browser.get(f"/en/r/{token}").get_data(as_text=True)
    assert "Registration desk" not in page
    assert "/check-in" not in page
    # a valid token of this browser's own (from the cancel page), so only the role can refuse the POST
    token_page = browser.get(f"/en/r/{token}/cancel").get_data(as_text=True)
    response = browser.post(
        f"/en/organiser/registrations/{registration_id}/check-in",
        data={"csrf_token": csrf_token(token_page), "back": f"/en/r/{token}"},
    )
    if role:
        assert response.status_code == 403
    else:
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/en/login")
    assert reload(db_session, token).checked_in_at is None
    assert not list(db_session.scalars(select(AuditEntry)))


def test_cancelled_session_shows_no_code_and_its_file_removes_the_event(client, db_session, event):
    token = register(client, event, lang="en")
    event.status = "cancelled"  # organisers cancel sessions; registrations keep their status
    db_session.commit()
    page = client.get(f"/en/r/{token}").get_data(as_text=True)
    assert 'class="qr-code"' not in page and "calendar.ics" not in page
    response = client.get(f"/en/r/{token}/calendar.ics")
    assert response.status_code == 200
    calendar = icalendar.Calendar.from_ical(response.data)
    assert str(calendar["method"]) == "CANCEL"
    (cancelled,) = calendar.walk("VEVENT")
    assert str(cancelled["status"]) == "CANCELLED"
