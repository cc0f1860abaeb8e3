"""Demo drafts: the National Strategy (one file per language) and the Action Plan (side by side).

The texts in demo/*.md were written for the demo; they are loaded through the importer so the demo also
shows the import format at work. A few comments make the pages look like a consultation under way.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from eventreg.consultation.importer import parse_files, store_document
from eventreg.models import Comment, CommentStatus, Consultation, Document, DocumentItem, utcnow

DEMO_DIR = Path(__file__).resolve().parent / "demo"
DEMO_LANGUAGES = ("ru", "ky", "en")
DEMO_FILES = (
    ("strategy.ru.md", "strategy.ky.md", "strategy.en.md"),
    ("action-plan.md",),
)

CAMPAIGN_TEXT = (
    "Предлагаем распространить 30-процентную квоту не только на списки кандидатов, но и на распределение "
    "мандатов в местных кенешах, и ежегодно публиковать данные о её соблюдении по каждому айылному кенешу"
)
CAMPAIGN_WORDING = (
    "Применять 30-процентную квоту для лиц одного пола при выдвижении кандидатов и распределении мандатов в "
    "местных кенешах; ежегодно публиковать данные о её соблюдении по каждому кенешу."
)

# (document key, item number or None, kind, language, body, proposed wording, name, organisation, sector,
#  region, sex, show_name, published)
DEMO_COMMENTS = (
    (
        "national-strategy",
        "3.1.2",
        "amendment",
        "ru",
        "Детские сады нужны не только в сёлах, но и в новостройках вокруг Бишкека и Оша, где мест не хватает.",
        "Увеличить число мест в детских садах и общинных центрах дневного пребывания в сёлах и в новых жилых "
        "массивах городов, чтобы родители могли выйти на оплачиваемую работу.",
        "Гульмира Асанова",
        "ОО «Аялдар демилгеси»",
        "civil_society",
        "KG-GB",
        "female",
        True,
        True,
    ),
    (
        "national-strategy",
        "3.4.1",
        "support",
        "ky",
        "Квота иштеши үчүн шайлоодон кийин аялдын ордун ошол эле жыныстагы талапкер ээлеши керек.",
        None,
        "Нурлан Токтосунов",
        "Нарын шаардык кеңеши",
        "local_government",
        "KG-N",
        "male",
        False,
        True,
    ),
    (
        "national-strategy",
        "3.3.4",
        "question",
        "en",
        "Which body will collect data on bride kidnapping cases, and will it be published by oblast?",
        None,
        "Sarah Miller",
        None,
        "international",
        "KG-GB",
        "female",
        False,
        True,
    ),
    (
        "national-strategy",
        None,
        "other",
        "ru",
        "Просим опубликовать проект стратегии в формате, удобном для чтения с телефона, и провести встречу в Баткене.",
        None,
        "Айжан Мамытова",
        "Молодёжный центр Баткена",
        "civil_society",
        "KG-B",
        "female",
        False,
        True,
    ),
    (
        "action-plan",
        "1.1",
        "objection",
        "ru",
        "2 000 кредитов — слишком мало для всей страны; индикатор должен учитывать и сумму, и возврат кредитов.",
        None,
        "Бакыт Осмонов",
        "Ассоциация микрофинансовых организаций",
        "business",
        "KG-O",
        "male",
        True,
        False,
    ),
    (
        "action-plan",
        "3.1",
        "support",
        "ky",
        "Кризистик борборлор үчүн социалдык заказ ар жыл сайын өз убагында бөлүнүшү керек.",
        None,
        "Чолпон Жумабаева",
        "Ош кризистик борбору",
        "civil_society",
        "KG-GO",
        "female",
        False,
        False,
    ),
    # A campaign: the same letter sent by five organisations from five oblasts, waiting in moderation, so the
    # organiser meets the "similar comments" suggestion and can group them and decide once.
    *(
        (
            "national-strategy",
            "3.4.1",
            "amendment",
            "ru",
            CAMPAIGN_TEXT + ending,
            CAMPAIGN_WORDING,
            name,
            org,
            "civil_society",
            region,
            "female",
            False,
            False,
        )
        for ending, name, org, region in (
            (".", "Айнура Токтосунова", "ОО «Лидер аялдар»", "KG-N"),
            (".", "Бермет Исакова", "Ассоциация «Кыз-Келин»", "KG-T"),
            ("!", "Жылдыз Орозбаева", "ОФ «Аялзат»", "KG-B"),
            (". Просим учесть.", "Нургүл Абдыкадырова", "ОО «Аймак үнү»", "KG-J"),
            (".", "Мээрим Султанова", "Сеть женщин-депутатов Иссык-Куля", "KG-Y"),
        )
    ),
)


def load_demo_documents(session: Session, consultation: Consultation) -> int:
    """Add the demo drafts and comments to the consultation (no commit: the caller commits). Returns items."""
    session.flush()  # the consultation needs its id
    documents: dict[str, Document] = {}
    total = 0
    for names in DEMO_FILES:
        result = parse_files([(name, (DEMO_DIR / name).read_bytes()) for name in names], DEMO_LANGUAGES)
        if not result.ok:
            where = ", ".join(f"{p.filename}:{p.line}" for p in result.problems)
            raise RuntimeError(f"demo document files have problems at {where}")
        document = store_document(session, consultation, result.document)
        documents[document.key] = document
        total += len(result.document.items)
    session.flush()
    items = {
        (item.document_id, item.number): item
        for item in session.scalars(
            select(DocumentItem).where(DocumentItem.document_id.in_([d.id for d in documents.values()]))
        )
    }
    now = utcnow()
    for index, row in enumerate(DEMO_COMMENTS):
        key, number, kind, lang, body, wording, name, org, sector, region, sex, show_name, published = row
        document = documents[key]
        item = items[(document.id, number)] if number else None
        # Demo rows are written directly, like the demo sessions: create_comment would commit half a demo.
        session.add(
            Comment(
                document_id=document.id,
                item_id=item.id if item else None,
                kind=kind,
                body=body,
                proposed_wording=wording,
                language=lang,
                author_name=name,
                organisation=org,
                sector=sector,
                region=region,
                sex=sex,
                show_name=show_name,
                consent_at=now,
                status=CommentStatus.PUBLISHED.value if published else CommentStatus.NEW.value,
                moderated_at=now if published else None,
                created_at=now - timedelta(hours=len(DEMO_COMMENTS) - index),
            )
        )
    return total
