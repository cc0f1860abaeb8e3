"""The one factory layer: a function per row tests need, each with one set of defaults and overrides for
what the test is about. Area modules (factories_reports, factories_consultation ...) build scenarios and form
data on top of these; they do not define rows of their own.
"""

from __future__ import annotations

import itertools
import re
import secrets
from datetime import UTC, datetime, timedelta

from eventreg.models import Comment, Consultation, Document, DocumentItem, EventSession, Registration
from eventreg.registration.services import ParticipantDetails

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


def make_document(session, consultation=None, numbers=("1", "3.1", "3.1.2"), **overrides) -> Document:
    """A document built row by row, with one item per number (`numbers=()` for none; see `make_item`)."""
    consultation = consultation or make_consultation(session)
    values = dict(
        consultation_id=consultation.id,
        key=f"strategy-{next(_counter)}",
        version=1,
        title={
            "ru": "Национальная стратегия по достижению гендерного равенства до 2030 года",
            "ky": "Гендердик теңчиликке жетишүү боюнча улуттук стратегия",
            "en": "National Strategy for Achieving Gender Equality to 2030",
        },
        results_published=False,
    )
    values.update(overrides)
    document = Document(**values)
    session.add(document)
    session.flush()
    for position, number in enumerate(numbers):
        make_item(session, document, number, position, commit=False)
    session.commit()
    return document


def make_item(session, document: Document, number: str, position: int, *, commit: bool = True, **overrides):
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
    if commit:
        session.commit()
    return item


def item(document: Document, number: str) -> DocumentItem:
    return next(i for i in document.items if i.number == number)


def make_comment(session, document: Document, item: DocumentItem | None = None, **overrides) -> Comment:
    """A comment as it arrives online; each body differs, so no two are taken for duplicates by accident."""
    n = next(_counter)
    values = dict(
        document_id=document.id,
        item_id=item.id if item is not None else None,
        kind="amendment",
        body=f"Предлагаю дополнить пункт словами о сельских женщинах ({n}).",
        language="ru",
        author_name="Айгүл Токтогулова",
        organisation="ОО «Үмүт»",
        sector="civil_society",
        region="KG-N",
        sex="female",
        email=None,
        show_name=False,
        consent_at=now(),
        source="online",
        status="new",
    )
    values.update(overrides)
    comment = Comment(**values)
    session.add(comment)
    session.commit()
    return comment


# Who a registering person is, for every factory that registers someone (rows, service input, form data).
PERSON = dict(
    position="Координатор",
    sector="civil_society",
    region="KG-N",
    sex="female",
    interpretation_language="ky",
)


def make_registration(
    session, event_session: EventSession, status: str = "confirmed", **overrides
) -> Registration:
    n = next(_counter)
    email = overrides.pop("email", f"person{n}@example.kg")
    values = dict(
        session_id=event_session.id,
        token=secrets.token_urlsafe(32),
        status=status,
        full_name=f"Нурбүбү Асанова {n}",
        email=email,
        email_normalized=(email or "").strip().lower(),
        phone="+996 555 000 111",
        organisation="Жарандык коом уюму «Үмүт»",
        **PERSON,
        locale="ky",
        consent_at=now(),
        created_at=now() + timedelta(seconds=n),  # the waiting list is ordered by this
    )
    values.update(overrides)
    registration = Registration(**values)
    session.add(registration)
    session.commit()
    return registration


def participant_details(**overrides) -> ParticipantDetails:
    """A person's details as the registration service takes them (for tests that register without a form)."""
    values = dict(
        full_name="Айгүл Токтогулова",
        email=f"person{next(_counter)}@example.kg",
        organisation="ОО «Үмүт»",
        **PERSON,
        locale="ky",
    )
    values.update(overrides)
    return ParticipantDetails(**values)


def registration_form(**overrides) -> dict:
    n = next(_counter)
    data = {
        "full_name": f"Айгүл Токтогулова {n}",
        "email": f"aigul{n}@example.kg",
        "phone": "+996 555 123 456",
        "organisation": "Жарандык коом уюму «Үмүт»",
        **PERSON,
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
