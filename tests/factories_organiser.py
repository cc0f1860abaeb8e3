"""Factories for the organiser workspace tests: registrations in any status, and session form data."""

from __future__ import annotations

import itertools
from datetime import timedelta

from eventreg.models import Registration
from tests.factories import now

_n = itertools.count(1)


def make_registration(db_session, event_session, status: str = "confirmed", **overrides) -> Registration:
    n = next(_n)
    values = dict(
        session_id=event_session.id,
        token=f"token-{n}-{'x' * 40}",
        status=status,
        full_name=f"Участник {n}",
        email=f"person{n}@example.kg",
        email_normalized=f"person{n}@example.kg",
        organisation="Жарандык коом уюму «Үмүт»",
        position="Координатор",
        sector="civil_society",
        region="KG-N",
        sex="female",
        interpretation_language="ky",
        locale="ky",
        consent_at=now(),
        created_at=now() + timedelta(seconds=n),  # the waiting list is ordered by this
    )
    values.update(overrides)
    if "email" in overrides and "email_normalized" not in overrides:
        values["email_normalized"] = overrides["email"].lower()
    registration = Registration(**values)
    db_session.add(registration)
    db_session.commit()
    return registration


def session_form(consultation_id: int, **overrides) -> dict:
    data = {
        "consultation_id": str(consultation_id),
        "kind": "regional",
        "region": "KG-T",
        "title_ru": "Региональная консультация в Таласе",
        "title_ky": "Таластагы аймактык консультация",
        "title_en": "Regional consultation in Talas",
        "description_ru": "Обсуждение проекта стратегии",
        "description_ky": "",
        "description_en": "",
        "venue_ru": "Талас, зал областной администрации",
        "venue_ky": "Талас, облустук администрациянын залы",
        "venue_en": "Talas, regional administration hall",
        "starts_at": "2031-10-12T10:00",
        "ends_at": "2031-10-12T16:00",
        "registration_deadline": "2031-10-10T18:00",
        "capacity": "30",
        "waitlist_enabled": "y",
        "languages": ["ru", "ky"],
        "online_url": "",
    }
    data.update(overrides)
    return data
