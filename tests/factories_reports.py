"""Rows for the report tests: a document with items, registrations and comments with known numbers.

The data carries Kyrgyz letters (ң ө ү) and spreadsheet formula payloads in the places people type, so
every export is checked for both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from eventreg.models import Comment, Consultation, Document, DocumentItem, EventSession, Registration
from tests.factories import (
    make_comment,
    make_consultation,
    make_document,
    make_event_session,
    make_item,
    make_registration,
    now,
)

FORMULA_ORGANISATION = '=HYPERLINK("http://evil.example","Үмүт")'
KYRGYZ_BODY = "+1 Бул пунктту өзгөртүү керек: аялдардын үнү ң ө ү"
KYRGYZ_JUSTIFICATION = "Жарым-жартылай эске алынды: ң ө ү"


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
    document = make_document(session, consultation, numbers=(), version=2)
    published = partial(make_comment, status="published", consent_at=None)
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
        "named": published(
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
        "unnamed": published(
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
        "question": published(
            session, document, section_1, kind="question", body="Вопрос по анализу", status="new"
        ),
        "whole": published(
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
        "waiting": published(
            session, document, clause_32, kind="objection", body="Против", region="KG-C", sex="undisclosed"
        ),
        "spam": published(session, document, section_1, kind="other", body="spam", status="hidden"),
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
