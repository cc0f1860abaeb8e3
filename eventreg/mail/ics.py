"""Calendar files (.ics) attached to confirmations, so a participant's phone knows when and where."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import icalendar
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from eventreg.i18n import localized
from eventreg.models import EventSession, Registration, utcnow

PRODID = "-//Alliance of Women's Legislative Initiatives//eventreg//EN"


def registration_uid(registration: Registration) -> str:
    """The same UID in every file for a registration, so calendars update the event instead of adding one."""
    host = urlparse(current_app.config["BASE_URL"]).hostname or "eventreg"
    return f"registration-{registration.id}@{host}"


def _sequence(event_session: EventSession) -> int:
    # Calendars apply an update only when SEQUENCE grows; minutes since the epoch of the last change do.
    changed = event_session.updated_at or event_session.created_at or utcnow()
    return int(changed.timestamp() // 60)


def registration_calendar(registration: Registration, *, link: str, cancelled: bool = False) -> bytes:
    """An iCalendar file for the session of `registration`, in Bishkek time and the person's language.

    The one place calendar text is written: the e-mail's attachment and the download are the same file.
    """
    with force_locale(registration.locale):
        description = "\n".join([_("Your personal link (see, change or cancel your registration):"), link])
    event_session = registration.session
    lang = registration.locale
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])

    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "PUBLISH")

    event = icalendar.Event()
    event.add("uid", registration_uid(registration))
    event.add("dtstamp", utcnow())
    event.add("sequence", _sequence(event_session))
    event.add("dtstart", event_session.starts_at.astimezone(zone))
    event.add("dtend", event_session.ends_at.astimezone(zone))
    event.add("summary", localized(event_session.title, lang).text)
    location = localized(event_session.venue, lang).text or (event_session.online_url or "")
    if location:
        event.add("location", location)
    event.add("url", link)
    event.add("description", description)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    calendar.add_component(event)
    # A short VTIMEZONE (from the year before the session) instead of Bishkek's whole history since 1970.
    first = date(event_session.starts_at.year - 1, 1, 1)
    last = date(event_session.ends_at.year + 2, 1, 1)
    # What calendar.add_missing_timezones does, with each zone's component computed once (see _vtimezone).
    for position, tzid in enumerate(sorted(calendar.get_missing_tzids())):
        timezone = _vtimezone(tzid, first, last)
        if timezone is not None:
            calendar.subcomponents.insert(position, timezone)
    return calendar.to_ical()


@lru_cache(maxsize=32)
def _vtimezone(tzid: str, first: date, last: date) -> icalendar.Timezone | None:
    """A zone's VTIMEZONE for a span of years, computed once and then only read (shared by every file).

    icalendar finds a zone's transitions by asking its offset hour by hour: about 20 ms for Bishkek over
    four years, in every confirmation, under the write lock (bench/PROFILE.md).
    """
    try:
        return icalendar.Timezone.from_tzid(tzid, first_date=first, last_date=last)
    except ValueError:  # a zone icalendar cannot describe is left out, as add_missing_timezones does
        return None
