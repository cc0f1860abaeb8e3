"""Generates a large, realistic consultation for the benchmark: Kyrgyz text, formula payloads, 30 days."""

from __future__ import annotations

import random
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert
from sqlalchemy.orm import Session

from eventreg.models import Comment, Consultation, Document, DocumentItem, EventSession, Registration

KINDS = ["support", "objection", "amendment", "question", "other"]
SOURCES = ["online", "online", "online", "paper", "spoken", "letter", "email"]
SECTORS = [
    "state",
    "local_government",
    "civil_society",
    "business",
    "trade_union",
    "international",
    "media",
    "academia",
    "citizen",
]
REGIONS = ["KG-B", "KG-J", "KG-Y", "KG-N", "KG-O", "KG-T", "KG-C", "KG-GB", "KG-GO"]
SEXES = ["female", "female", "male", "undisclosed"]
DECISIONS = [None, None, "accepted", "partly_accepted", "rejected", "noted"]
BODIES = [
    "Бул пунктка аялдардын экономикалык мүмкүнчүлүктөрүн кошуу керек (ң ө ү).",
    "Предлагаем уточнить сроки и ответственный орган по данному мероприятию.",
    '=HYPERLINK("http://evil.example","click")',
    "+1 поддерживаем",
    "-2 предлагаем исключить",
    "@SUM(1;2) индикаторду өзгөртүү",
    "We suggest adding gender-disaggregated indicators for every region.",
]
BATCH = 5000


def generate(session: Session, comments: int, registrations: int, seed: int = 2021) -> Document:
    """Insert one consultation with 12 sessions, 150 items, `registrations` and `comments`; return the document."""
    rnd = random.Random(seed)
    start = datetime(2021, 9, 12, 4, 0, tzinfo=UTC)
    consultation = Consultation(
        slug=f"bench-{secrets.token_hex(4)}",
        title={
            "ru": "Национальная стратегия 2030",
            "ky": "Улуттук стратегия 2030",
            "en": "National Strategy 2030",
        },
        comments_open_at=start,
        comments_close_at=start + timedelta(days=30),
    )
    session.add(consultation)
    session.flush()
    document = Document(
        consultation_id=consultation.id,
        key="strategy",
        version=1,
        title={"ru": "Проект стратегии", "ky": "Стратегиянын долбоору", "en": "Draft strategy"},
    )
    session.add(document)
    session.flush()
    items = []
    for position in range(150):
        number = f"3.{position // 10 + 1}.{position % 10 + 1}"
        items.append(
            DocumentItem(
                document_id=document.id,
                number=number,
                position=position,
                heading={"ru": f"Задача {number}", "ky": f"{number}-милдет", "en": f"Task {number}"},
                text={
                    "ru": f"Текст задачи {number}: расширение экономических возможностей женщин.",
                    "ky": f"{number}-милдеттин тексти: аялдардын экономикалык мүмкүнчүлүктөрүн кеңейтүү.",
                },
            )
        )
    sessions = [
        EventSession(
            consultation_id=consultation.id,
            slug=f"{consultation.slug}-s{n}",
            kind="regional",
            region=REGIONS[n % len(REGIONS)],
            title={"ru": f"Консультация {n}", "ky": f"Консультация {n}", "en": f"Consultation {n}"},
            starts_at=start + timedelta(days=2 * n),
            ends_at=start + timedelta(days=2 * n, hours=6),
            capacity=10_000,
        )
        for n in range(12)
    ]
    session.add_all(items + sessions)
    session.flush()
    item_ids = [item.id for item in items]
    session_ids = [s.id for s in sessions]

    # Unique (session, person) pairs: the first pass gives everyone one session, the second a different one.
    people = max(1, int(registrations * 0.7))
    rows = []
    for k in range(registrations):
        person = k % people
        session_id = session_ids[(k // people + person) % len(session_ids)]
        status = rnd.choices(["confirmed", "waitlisted", "cancelled"], [85, 8, 7])[0]
        rows.append(
            dict(
                session_id=session_id,
                token=secrets.token_urlsafe(24),
                status=status,
                full_name=f"Айгүл Өмүрбекова {person}",
                email=f"person{person}@example.kg",
                email_normalized=f"person{person}@example.kg",
                phone="+996 555 000 000",
                organisation=rnd.choice(["ОО «Үмүт»", "=cmd|' /C calc'!A0", "Министерство труда"]),
                position="Координатор",
                sector=SECTORS[person % len(SECTORS)],
                region=REGIONS[person % len(REGIONS)],
                sex=SEXES[person % len(SEXES)],
                interpretation_language="ky",
                locale="ky",
                consent_at=start,
                created_at=start,
                updated_at=start,
                checked_in_at=start if status == "confirmed" and rnd.random() < 0.7 else None,
                source="online",
            )
        )
        if len(rows) >= BATCH:
            session.execute(insert(Registration.__table__), rows)
            rows = []
    if rows:
        session.execute(insert(Registration.__table__), rows)

    rows = []
    for k in range(comments):
        decision = rnd.choice(DECISIONS)
        created = start + timedelta(minutes=rnd.randrange(30 * 24 * 60))
        rows.append(
            dict(
                document_id=document.id,
                item_id=rnd.choice(item_ids) if k % 50 else None,
                kind=rnd.choice(KINDS),
                body=rnd.choice(BODIES),
                proposed_wording=rnd.choice([None, "Жаңы редакция: ң ө ү", "-1 сөздү алып салуу"]),
                language=rnd.choice(["ru", "ky"]),
                author_name=f"Автор {k}",
                organisation=rnd.choice(["ОО «Үмүт»", "@SUM(A1)", None]),
                sector=rnd.choice(SECTORS),
                region=rnd.choice(REGIONS),
                sex=rnd.choice(SEXES),
                email=f"author{k}@example.kg" if k % 3 else None,
                show_name=bool(k % 2),
                source=rnd.choice(SOURCES),
                session_id=rnd.choice(session_ids) if k % 4 == 0 else None,
                status=rnd.choices(["published", "new", "hidden"], [80, 15, 5])[0],
                decision=decision,
                decision_part={"ky": "Биринчи бөлүгү", "ru": "Первая часть"}
                if decision == "partly_accepted"
                else {},
                justification={"ru": "Обоснование решения", "ky": "Чечимдин негиздемеси"} if decision else {},
                created_at=created,
            )
        )
        if len(rows) >= BATCH:
            session.execute(insert(Comment.__table__), rows)
            rows = []
    if rows:
        session.execute(insert(Comment.__table__), rows)
    session.commit()
    return document
