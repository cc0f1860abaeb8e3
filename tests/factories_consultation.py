"""Documents imported from the plain-text format, so tests read like real drafts, and comment form data."""

from __future__ import annotations

from eventreg.consultation.importer import parse_files, store_document
from eventreg.models import Document
from tests.factories import make_consultation

LANGS = ("ru", "ky", "en")

SIDE_BY_SIDE = """\
key: {key}
languages: ru, ky, en
title.ru: Проект стратегии
title.ky: Стратегиянын долбоору
title.en: Draft strategy

# 1
[ru] Анализ ситуации
Текст раздела 1.
[ky] Абалды талдоо
1-бөлүмдүн тексти.
[en] Analysis of the situation
Text of section 1.

## 1.1
[ru] Экономика
Женщины в экономике.
[ky] Экономика
Экономикадагы аялдар.
[en] Economy
Women in the economy.

## 1.2
[ru] Образование
Учебники.
[ky] Билим берүү
Окуу китептери.
[en] Education
Textbooks.

| № | lang | activity | indicator | responsible | deadline | funding |
|---|---|---|---|---|---|---|
| 1.3 | ru | Открыть детсады | 150 групп | Минобрнауки | 2023 | бюджет |
| 1.3 | ky | Бала бакча ачуу | 150 топ | БИМ | 2023 | бюджет |
| 1.3 | en | Open kindergartens | 150 groups | Ministry of Education | 2023 | budget |
"""


def one_language(
    lang: str, key: str = "strategy", numbers=("1", "1.1", "1.2"), title: str | None = None
) -> str:
    lines = [f"key: {key}", f"language: {lang}", f"title: {title or 'Draft ' + lang}", ""]
    for number in numbers:
        hashes = "#" * (number.count(".") + 1)
        lines += [f"{hashes} {number} Heading {number} {lang}", f"Text of {number} in {lang}.", ""]
    return "\n".join(lines)


def import_document(session, consultation=None, key: str = "strategy", text: str | None = None) -> Document:
    consultation = consultation or make_consultation(session)
    result = parse_files([("doc.md", text or SIDE_BY_SIDE.format(key=key))], LANGS)
    assert result.ok, [(p.line, p.message) for p in result.problems]
    document = store_document(session, consultation, result.document)
    session.commit()
    return document


def comment_form(**overrides) -> dict:
    data = {
        "kind": "support",
        "body": "Этот пункт нужен, поддерживаю.",
        "proposed_wording": "",
        "name": "Айгүл Токтогулова",
        "organisation": "ОО «Үмүт»",
        "sector": "civil_society",
        "region": "KG-N",
        "sex": "female",
        "email": "",
        "consent": "y",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}
