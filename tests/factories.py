"""Factories for the rows tests need; each takes overrides for what the test is about."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta

from eventreg.models import Consultation, EventSession

_counter = itertools.count(1)


def now() -> datetime:
    return datetime.now(UTC)


def make_consultation(session, **overrides) -> Consultation:
    n = next(_counter)
    values = dict(
        slug=f"consultation-{n}",
        title={
            "ru": "Обсуждение проекта стратегии",
            "ky": "Стратегиянын долбоорун талкуулоо",
            "en": "Draft strategy",
        },
        description={},
        comments_open_at=now() - timedelta(days=1),
        comments_close_at=now() + timedelta(days=30),
    )
    values.update(overrides)
    consultation = Consultation(**values)
    session.add(consultation)
    session.commit()
    return consultation


def make_event_session(session, consultation=None, **overrides) -> EventSession:
    consultation = consultation or make_consultation(session)
    n = next(_counter)
    start = now() + timedelta(days=10)
    values = dict(
        consultation_id=consultation.id,
        slug=f"session-{n}",
        kind="regional",
        region="KG-N",
        title={"ru": "Консультация в Нарыне", "ky": "Нарындагы консультация", "en": "Consultation in Naryn"},
        description={"ru": "Описание", "ky": "Сүрөттөмө", "en": "Description"},
        venue={"ru": "Нарын, мэрия", "ky": "Нарын, мэрия", "en": "Naryn, mayor's office"},
        starts_at=start,
        ends_at=start + timedelta(hours=6),
        languages=["ru", "ky"],
        capacity=5,
        waitlist_enabled=True,
        registration_deadline=start - timedelta(days=1),
        status="published",
    )
    values.update(overrides)
    event_session = EventSession(**values)
    session.add(event_session)
    session.commit()
    return event_session


def registration_form(**overrides) -> dict:
    n = next(_counter)
    data = {
        "full_name": f"Айгүл Токтогулова {n}",
        "email": f"aigul{n}@example.kg",
        "phone": "+996 555 123 456",
        "organisation": "Жарандык коом уюму «Үмүт»",
        "position": "Координатор",
        "sector": "civil_society",
        "region": "KG-N",
        "sex": "female",
        "interpretation_language": "ky",
        "accessibility_needs": "",
        "consent": "y",
    }
    data.update(overrides)
    return data


_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)
