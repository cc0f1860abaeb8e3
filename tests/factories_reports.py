"""Rows for the report tests: a document with items, registrations and comments with known numbers.

The data carries Kyrgyz letters (ң ө ү) and spreadsheet formula payloads in the places people type, so
every export is checked for both.
"""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass
from datetime import timedelta

from eventreg.models import Comment, Consultation, Document, DocumentItem, EventSession, Registration
from tests.factories import make_consultation, make_event_session, now

_n = itertools.count(1)

FORMULA_ORGANISATION = '=HYPERLINK("http://evil.example","Үмүт")'
KYRGYZ_BODY = "+1 Бул пунктту өзгөртүү керек: аялдардын үнү ң ө ү"
KYRGYZ_JUSTIFICATION = "Жарым-жартылай эске алынды: ң ө ү"


def make_document(session, consultation: Consultation, **overrides) -> Document:
    values = dict(
        consultation_id=consultation.id,
        key=f"strategy-{next(_n)}",
        version=2,
        title={
            "ru": "Национальная стратегия по достижению гендерного равенства до 2030 года",
            "ky": "Гендердик теңчиликке жетишүү боюнча улуттук стратегия",
            "en": "National Strategy for Achieving Gender Equality to 2030",
        },
    )
    values.update(overrides)
    document = Document(**values)
    session.add(document)
    session.commit()
    return document


def make_item(session, document: Document, number: str, position: int, **overrides) -> DocumentItem:
    values = dict(
        document_id=document.id,
        number=number,
        position=position,
        heading={"ru": f"Пункт {number}", "ky": f"{number}-пункт", "en": f"Clause {number}"},
        text={
            "ru": f"Текст пункта {number} в редакции проекта",
            "ky": f"{number}-пункттун долбоордогу тексти: өнүгүү",
            "en": f"Draft text of clause {number}",
        },
    )
    values.update(overrides)
    item = DocumentItem(**values)
    session.add(item)
    session.commit()
    return item


def make_comment(session, document: Document, item: DocumentItem | None, **overrides) -> Comment:
    values = dict(
        document_id=document.id,
        item_id=item.id if item else None,
        kind="objection",
        body="Предлагаем уточнить формулировку",
        proposed_wording=None,
        language="ru",
        author_name="Айгүл Токтогулова",
        organisation="ОО «Үмүт»",
        sector="civil_society",
        region="KG-N",
        sex="female",
        email=None,
        show_name=False,
        source="online",
        status="published",
    )
    values.update(overrides)
    comment = Comment(**values)
    session.add(comment)
    session.commit()
    return comment


def make_registration(session, event_session: EventSession, **overrides) -> Registration:
    n = next(_n)
    email = overrides.pop("email", f"person{n}@example.kg")
    values = dict(
        session_id=event_session.id,
        token=secrets.token_urlsafe(32),
        status="confirmed",
        full_name=f"Нурбүбү Асанова {n}",
        email=email,
        email_normalized=email.strip().lower(),
        phone="+996 555 000 111",
        organisation="Жарандык коом уюму «Үмүт»",
        position="Координатор",
        sector="civil_society",
        region="KG-N",
        sex="female",
        interpretation_language="ky",
        locale="ky",
        consent_at=now(),
    )
    values.update(overrides)
    registration = Registration(**values)
    session.add(registration)
    session.commit()
    return registration


@dataclass
class Scenario:
    consultation: Consultation
    document: Document
    items: list[DocumentItem]
    sessions: list[EventSession]
    comments: dict[str, Comment]
    registrations: list[Registration]


def build_scenario(session) -> Scenario:
    """Known numbers:

    comments counted: 5 (one hidden spam comment is not), 3 decided, 2 waiting; region KG-N has 3.
    registrations: Айгүл in both sessions (confirmed twice, attended the first), Болот waitlisted in the
    first, Чолпон cancelled in the second — 4 rows, 3 people.
    """
    consultation = make_consultation(session)
    document = make_document(session, consultation)
    # Created out of order on purpose: reports follow `position`, not creation order.
    clause_31 = make_item(session, document, "3.1", 3)
    section_1 = make_item(session, document, "1", 1)
    clause_32 = make_item(session, document, "3.2", 4)
    first = make_event_session(session, consultation, region="KG-N")
    second = make_event_session(
        session,
        consultation,
        region="KG-O",
        title={"ru": "Консультация в Оше", "ky": "Оштогу консультация", "en": "Consultation in Osh"},
    )
    comments = {
        "named": make_comment(
            session,
            document,
            clause_31,
            kind="objection",
            body=KYRGYZ_BODY,
            proposed_wording="-2 деген сөздү алып салуу",
            author_name="Айгүл Токтогулова",
            organisation=FORMULA_ORGANISATION,
            email="aigul@example.kg",
            show_name=True,
            source="paper",
            session_id=first.id,
            decision="partly_accepted",
            decision_part={"ky": "Биринчи сүйлөм", "ru": "Первое предложение"},
            justification={
                "ru": "Учтено частично",
                "ky": KYRGYZ_JUSTIFICATION,
                "en": "Partly taken into account",
            },
        ),
        "unnamed": make_comment(
            session,
            document,
            clause_31,
            kind="support",
            body="@SUM(1,2) поддерживаем",
            author_name="Бакыт Жашыруун",
            organisation="Министерство",
            sector="state",
            region="KG-O",
            sex="male",
            email="bakyt@example.kg",
            decision="accepted",
            justification={"ru": "Принято", "ky": "Кабыл алынды", "en": "Accepted"},
        ),
        "question": make_comment(
            session, document, section_1, kind="question", body="Вопрос по анализу", status="new"
        ),
        "whole": make_comment(
            session,
            document,
            None,
            kind="amendment",
            body="Документ в целом",
            source="spoken",
            session_id=second.id,
            decision="noted",
            justification={"ru": "Принято к сведению", "en": "Noted"},
        ),
        "waiting": make_comment(
            session, document, clause_32, kind="objection", body="Против", region="KG-C", sex="undisclosed"
        ),
        "spam": make_comment(session, document, section_1, kind="other", body="spam", status="hidden"),
    }
    registrations = [
        make_registration(
            session,
            first,
            email="Aigul@Example.kg",
            full_name="Айгүл Токтогулова",
            organisation=FORMULA_ORGANISATION,
            checked_in_at=now(),
        ),
        make_registration(session, second, email="aigul@example.kg", full_name="Айгүл Токтогулова"),
        make_registration(
            session,
            first,
            full_name="Болот Асанов",
            sex="male",
            sector="state",
            region="KG-O",
            status="waitlisted",
        ),
        make_registration(
            session,
            second,
            full_name="Чолпон Үсөнова",
            status="cancelled",
            cancelled_at=now() - timedelta(hours=1),
        ),
    ]
    return Scenario(
        consultation, document, [section_1, clause_31, clause_32], [first, second], comments, registrations
    )
