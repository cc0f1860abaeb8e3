"""Form data for the organiser workspace tests (rows come from tests.factories)."""

from __future__ import annotations

import itertools

_n = itertools.count(1)


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
