"""Documents, items and comments for the moderation tests."""

from __future__ import annotations

import itertools

from eventreg.models import Comment, Document, DocumentItem
from tests.factories import make_consultation, now

_counter = itertools.count(1)


def make_document(session, consultation=None, numbers=("1", "3.1", "3.1.2"), **overrides) -> Document:
    consultation = consultation or make_consultation(session)
    values = dict(
        consultation_id=consultation.id,
        key=f"strategy-{next(_counter)}",
        version=1,
        title={
            "ru": "Национальная стратегия по достижению гендерного равенства",
            "ky": "Гендердик теңчиликке жетишүү боюнча улуттук стратегия",
            "en": "National Gender Equality Strategy",
        },
        results_published=False,
    )
    values.update(overrides)
    document = Document(**values)
    session.add(document)
    session.flush()
    for position, number in enumerate(numbers):
        session.add(
            DocumentItem(
                document_id=document.id,
                number=number,
                position=position,
                text={
                    "ru": f"Текст пункта {number}",
                    "ky": f"{number}-пункттун тексти",
                    "en": f"Text of {number}",
                },
            )
        )
    session.commit()
    return document


def item(session, document: Document, number: str) -> DocumentItem:
    return next(i for i in document.items if i.number == number)


def make_comment(session, document: Document, item: DocumentItem | None = None, **overrides) -> Comment:
    n = next(_counter)
    values = dict(
        document_id=document.id,
        item_id=item.id if item is not None else None,
        kind="amendment",
        body=f"Предлагаю дополнить пункт словами о сельских женщинах ({n}).",
        language="ru",
        author_name=f"Айгүл Токтогулова {n}",
        organisation="ОО «Үмүт»",
        sector="civil_society",
        region="KG-N",
        sex="female",
        email=f"author{n}@example.kg",
        consent_at=now(),
        source="online",
        status="new",
    )
    values.update(overrides)
    comment = Comment(**values)
    session.add(comment)
    session.commit()
    return comment
