"""The demo consultation, modelled on the real one behind the product (see README).

The extended meeting of the Interagency Working Group that agreed the draft National Strategy for
Achieving Gender Equality to 2030 met on 12–13 October 2021 at the Sheraton, Bishkek, after
consultations in every oblast. The demo moves those sessions into the coming weeks so that
registration is open whenever the demo is loaded.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from eventreg.models import Consultation, EventSession

BISHKEK = ZoneInfo("Asia/Bishkek")
CONSULTATION_SLUG = "gender-equality-strategy-2030"


def database_is_empty(session: Session) -> bool:
    return session.scalar(select(func.count(Consultation.id))) == 0


def _at(day: datetime, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day.date(), time(hour, minute), tzinfo=BISHKEK).astimezone(UTC)


# (slug, region, city ru/ky/en, venue ru/ky/en, capacity)
REGIONAL = [
    (
        "regional-batken",
        "KG-B",
        ("Баткен", "Баткен", "Batken"),
        (
            "Баткен, зал заседаний областной администрации",
            "Баткен, облустук администрациянын жыйындар залы",
            "Batken, meeting hall of the regional administration",
        ),
        40,
    ),
    (
        "regional-jalal-abad",
        "KG-J",
        ("Джалал-Абад", "Жалал-Абад", "Jalal-Abad"),
        (
            "Джалал-Абад, конференц-зал полномочного представительства",
            "Жалал-Абад, ыйгарым укуктуу өкүлчүлүктүн конференц-залы",
            "Jalal-Abad, conference hall of the plenipotentiary office",
        ),
        40,
    ),
    (
        "regional-issyk-kul",
        "KG-Y",
        ("Каракол", "Каракол", "Karakol"),
        (
            "Каракол, зал областной библиотеки",
            "Каракол, облустук китепкананын залы",
            "Karakol, hall of the regional library",
        ),
        40,
    ),
    (
        "regional-naryn",
        "KG-N",
        ("Нарын", "Нарын", "Naryn"),
        (
            "Нарын, зал заседаний мэрии",
            "Нарын, мэриянын жыйындар залы",
            "Naryn, meeting hall of the mayor's office",
        ),
        30,
    ),
    (
        "regional-osh",
        "KG-O",
        ("Ош", "Ош", "Osh"),
        (
            "Ош, конференц-зал областной администрации",
            "Ош, облустук администрациянын конференц-залы",
            "Osh, conference hall of the regional administration",
        ),
        50,
    ),
    (
        "regional-talas",
        "KG-T",
        ("Талас", "Талас", "Talas"),
        (
            "Талас, зал заседаний полномочного представительства",
            "Талас, ыйгарым укуктуу өкүлчүлүктүн жыйындар залы",
            "Talas, meeting hall of the plenipotentiary office",
        ),
        30,
    ),
    (
        "regional-chuy",
        "KG-C",
        ("Токмок", "Токмок", "Tokmok"),
        (
            "Токмок, зал городского кенеша",
            "Токмок, шаардык кеңештин залы",
            "Tokmok, hall of the city council",
        ),
        40,
    ),
]


def _consultation() -> Consultation:
    return Consultation(
        slug=CONSULTATION_SLUG,
        title={
            "ru": "Общественное обсуждение проекта Национальной стратегии по достижению гендерного равенства "
            "в Кыргызской Республике до 2030 года и Национального плана действий",
            "ky": "Кыргыз Республикасында 2030-жылга чейин гендердик теңчиликке жетишүү боюнча Улуттук "
            "стратегиянын жана Улуттук аракеттер планынын долбоорун коомдук талкуулоо",
            "en": "Public consultation on the draft National Strategy for Achieving Gender Equality in the Kyrgyz "
            "Republic to 2030 and the National Action Plan",
        },
        description={
            "ru": "Межведомственная рабочая группа приглашает государственные органы, органы местного "
            "самоуправления, гражданское общество, бизнес и партнёров по развитию обсудить проекты.",
            "ky": "Ведомстволор аралык жумушчу топ мамлекеттик органдарды, жергиликтүү өз алдынча башкаруу "
            "органдарын, жарандык коомду, бизнести жана өнүктүрүү боюнча өнөктөштөрдү долбоорлорду "
            "талкуулоого чакырат.",
            "en": "The Interagency Working Group invites state bodies, local self-government, civil society, "
            "business and development partners to discuss the drafts.",
        },
    )


def _sessions(consultation: Consultation, today: datetime) -> list[EventSession]:
    sessions: list[EventSession] = []
    first = today + timedelta(days=14)
    for index, (slug, region, city, venue, capacity) in enumerate(REGIONAL):
        day = first + timedelta(days=3 * index)
        sessions.append(
            EventSession(
                consultation=consultation,
                slug=slug,
                kind="regional",
                region=region,
                title={
                    "ru": f"Региональная консультация: {city[0]}",
                    "ky": f"Аймактык консультация: {city[1]}",
                    "en": f"Regional consultation: {city[2]}",
                },
                description={
                    "ru": "Обсуждение проекта Стратегии и Плана действий с представителями государственных "
                    "органов, ОМСУ и гражданского общества области.",
                    "ky": "Стратегиянын жана Аракеттер планынын долбоорун облустун мамлекеттик органдарынын, "
                    "ЖӨБ органдарынын жана жарандык коомдун өкүлдөрү менен талкуулоо.",
                    "en": "Discussion of the draft Strategy and Action Plan with the oblast's state bodies, "
                    "local self-government and civil society.",
                },
                venue={"ru": venue[0], "ky": venue[1], "en": venue[2]},
                starts_at=_at(day, 10),
                ends_at=_at(day, 16),
                languages=["ru", "ky"],
                capacity=capacity,
                waitlist_enabled=True,
                registration_deadline=_at(day - timedelta(days=1), 18),
            )
        )
    cso_day = first + timedelta(days=3 * len(REGIONAL))
    sessions.append(
        EventSession(
            consultation=consultation,
            slug="civil-society-bishkek",
            kind="civil_society",
            region="KG-GB",
            title={
                "ru": "Консультация для организаций гражданского общества",
                "ky": "Жарандык коом уюмдары үчүн консультация",
                "en": "Consultation for civil-society organisations",
            },
            description={
                "ru": "Отдельная встреча для организаций гражданского общества, кризисных центров и "
                "женских инициативных групп.",
                "ky": "Жарандык коом уюмдары, кризистик борборлор жана аялдардын демилгелүү топтору үчүн "
                "өзүнчө жолугушуу.",
                "en": "A separate meeting for civil-society organisations, crisis centres and women's "
                "initiative groups.",
            },
            venue={
                "ru": "Бишкек, Дом правозащитника, ул. Токтогула 89",
                "ky": "Бишкек, Укук коргоочулар үйү, Токтогул көч., 89",
                "en": "Bishkek, Human Rights House, 89 Toktogul St.",
            },
            starts_at=_at(cso_day, 10),
            ends_at=_at(cso_day, 15),
            languages=["ru", "ky"],
            capacity=60,
            waitlist_enabled=True,
            registration_deadline=_at(cso_day - timedelta(days=1), 18),
        )
    )
    online_day = cso_day + timedelta(days=2)
    sessions.append(
        EventSession(
            consultation=consultation,
            slug="online-session",
            kind="online",
            region=None,
            title={
                "ru": "Онлайн-консультация по проекту Стратегии",
                "ky": "Стратегиянын долбоору боюнча онлайн-консультация",
                "en": "Online consultation on the draft Strategy",
            },
            description={
                "ru": "Для тех, кто не может приехать: ссылка на подключение придёт в письме-подтверждении.",
                "ky": "Келе албагандар үчүн: туташуу шилтемеси ырастоочу катта келет.",
                "en": "For those who cannot travel: the link to join comes in the confirmation e-mail.",
            },
            venue={"ru": "Онлайн", "ky": "Онлайн", "en": "Online"},
            starts_at=_at(online_day, 14),
            ends_at=_at(online_day, 16, 30),
            languages=["ru", "ky", "en"],
            capacity=300,
            waitlist_enabled=False,
            registration_deadline=_at(online_day, 12),
        )
    )
    meeting_day = online_day + timedelta(days=7)
    sessions.append(
        EventSession(
            consultation=consultation,
            slug="working-group-extended-meeting",
            kind="working_group",
            region="KG-GB",
            title={
                "ru": "Расширенное заседание Межведомственной рабочей группы",
                "ky": "Ведомстволор аралык жумушчу топтун кеңейтилген жыйыны",
                "en": "Extended meeting of the Interagency Working Group",
            },
            description={
                "ru": "Два дня: согласование проекта Национальной стратегии до 2030 года и Национального плана "
                "действий по итогам национальных и региональных консультаций. Как и встреча 12–13 октября "
                "2021 года, заседание проходит в конференц-зале отеля «Шератон».",
                "ky": "Эки күн: улуттук жана аймактык консультациялардын жыйынтыгы боюнча 2030-жылга чейинки "
                "Улуттук стратегиянын жана Улуттук аракеттер планынын долбоорун макулдашуу. 2021-жылдын "
                "12–13-октябрындагы жолугушуудай эле, жыйын «Шератон» мейманканасынын конференц-залында өтөт.",
                "en": "Two days to agree the draft National Strategy to 2030 and the National Action Plan after "
                "the national and regional consultations. Like the meeting of 12–13 October 2021, it takes "
                "place in the conference hall of the Sheraton hotel.",
            },
            venue={
                "ru": "Бишкек, отель «Шератон», конференц-зал",
                "ky": "Бишкек, «Шератон» мейманканасы, конференц-зал",
                "en": "Bishkek, Sheraton hotel, conference hall",
            },
            starts_at=_at(meeting_day, 9),
            ends_at=_at(meeting_day + timedelta(days=1), 17),
            languages=["ru", "ky", "en"],
            capacity=120,
            waitlist_enabled=True,
            registration_deadline=_at(meeting_day - timedelta(days=3), 18),
        )
    )
    return sessions


FIRST_NAMES = {
    "female": [
        "Айгүл",
        "Нургүл",
        "Жыпар",
        "Бермет",
        "Чолпон",
        "Гүлнара",
        "Асель",
        "Мээрим",
        "Елена",
        "Динара",
        "Айнура",
        "Салтанат",
        "Ольга",
        "Назгүл",
        "Төлгөнай",
        "Жаңыл",
    ],
    "male": ["Азамат", "Бакыт", "Нурлан", "Эркин", "Тимур", "Улан", "Сергей", "Жоомарт", "Өмүр", "Мирлан"],
}
LAST_NAMES = {
    "female": [
        "Токтогулова",
        "Асанова",
        "Жумабаева",
        "Өмүрбекова",
        "Сыдыкова",
        "Иванова",
        "Карыбекова",
        "Үсөнова",
        "Абдыраимова",
        "Мамытова",
    ],
    "male": ["Токтогулов", "Асанов", "Жумабаев", "Өмүрбеков", "Сыдыков", "Петров", "Карыбеков", "Үсөнов"],
}
ORGANISATIONS = {
    "state": ("Министерство труда, социального обеспечения и миграции", "Специалист"),
    "local_government": ("Айыл окмоту", "Специалист по социальным вопросам"),
    "civil_society": ("ОО «Аялдар үчүн укук»", "Координатор"),
    "business": ("Ассоциация деловых женщин", "Член правления"),
    "trade_union": ("Федерация профсоюзов Кыргызстана", "Председатель комитета"),
    "international": ("Партнёр по развитию", "Программный специалист"),
    "media": ("Региональная газета", "Журналист"),
    "academia": ("Государственный университет", "Доцент"),
    "citizen": ("—", "Гражданка"),
}


def _demo_registrations(session: Session, sessions: list[EventSession], now: datetime) -> None:
    """Registrations with a realistic spread of sex, sector and region, so the dashboards have data.

    Written as rows (no e-mails are queued for demo people). One regional session is full, with a
    waiting list, and a few people have cancelled.
    """
    import random

    from eventreg.models import Registration
    from eventreg.registration.services import new_token

    rng = random.Random(2021)  # the same demo every time
    sectors = list(ORGANISATIONS)
    n = 0
    for event in sessions:
        if event.kind == "online":
            count = 25
        elif event.slug == "regional-talas":
            count = event.capacity + 3  # full, three waiting
        else:
            count = min(event.capacity, rng.randint(8, 18))
        for index in range(count):
            n += 1
            sex = "female" if rng.random() < 0.72 else ("male" if rng.random() < 0.95 else "undisclosed")
            name_pool = "male" if sex == "male" else "female"
            sector = rng.choice(sectors)
            organisation, position = ORGANISATIONS[sector]
            status = "confirmed" if index < event.capacity else "waitlisted"
            if status == "confirmed" and count <= event.capacity and rng.random() < 0.06:
                # (a cancellation in a full session would have promoted someone; keep the demo consistent)
                status = "cancelled"
            created = now - timedelta(days=rng.randint(0, 6), minutes=index)
            session.add(
                Registration(
                    session_id=event.id,
                    token=new_token(),
                    status=status,
                    full_name=f"{rng.choice(FIRST_NAMES[name_pool])} {rng.choice(LAST_NAMES[name_pool])}",
                    email=f"participant{n}@example.kg",
                    email_normalized=f"participant{n}@example.kg",
                    organisation=organisation,
                    position=position,
                    sector=sector,
                    region=event.region or rng.choice(["KG-GB", "KG-C", "KG-O", "KG-J"]),
                    sex=sex,
                    interpretation_language=rng.choice(["ru", "ky", "ky"]),
                    locale=rng.choice(["ru", "ky"]),
                    consent_at=created,
                    created_at=created,
                    cancelled_at=created + timedelta(hours=2) if status == "cancelled" else None,
                )
            )


def load_demo_data(session: Session, *, today: datetime | None = None) -> bool:
    """Create the demo consultation and its sessions. Returns False when it is already there.

    Runs in the caller's unit of work (the `demo` commands own it).
    """
    existing = session.scalar(select(Consultation).where(Consultation.slug == CONSULTATION_SLUG))
    if existing is not None:
        return False
    today = today or datetime.now(BISHKEK)
    consultation = _consultation()
    consultation.comments_open_at = _at(today - timedelta(days=1), 0)
    consultation.comments_close_at = _at(today + timedelta(days=75), 23, 59)
    session.add(consultation)
    sessions = _sessions(consultation, today)
    session.add_all(sessions)
    session.flush()
    _demo_registrations(session, sessions, today.astimezone(UTC))
    from eventreg.consultation.demo_documents import load_demo_documents

    load_demo_documents(session, consultation)
    from eventreg.accounts.services import create_demo_accounts  # logins for trying the workspace

    create_demo_accounts(session)
    return True
