"""Every message that carries a date reads well in Russian and Kyrgyz: no preposition in front of the date.

«до суббота, 13 февраля» and "…-ж., 23:59 чейин" are ungrammatical: a full date cannot take the case a
preposition or postposition needs. The date stands alone after a colon («Приём до: …», "Акыркы мөөнөт: …").
The messages are found in the code by what is passed to them (a date filter or helper), so a new one is
checked without being listed here.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from flask_babel import force_locale, gettext

from eventreg.config import PROJECT_ROOT
from eventreg.i18n import local_date, local_datetime

# `_("…%(when)s…", when=value|local_datetime)` in a template, or `_("…", when=_when(value))` in Python.
CALL = re.compile(r'_\(\s*"((?:[^"\\]|\\.)*)"\s*,((?:[^()]|\([^()]*\))*)\)', re.S)
DATE_ARG = re.compile(r"(\w+)\s*=\s*[^,]*(local_datetime|local_date|_when\(|session_when\()")

RU_PREPOSITIONS = {"до", "с", "со", "в", "во", "по", "от", "после", "перед", "на", "к", "ко", "около"}
KY_POSTPOSITIONS = {
    "чейин",
    "дейре",
    "тартып",
    "баштап",
    "бери",
    "кийин",
    "мурун",
    "ичинде",
    "чейинки",
}


def dated_messages() -> list[tuple[str, str]]:
    found = set()
    for pattern in ("templates/**/*.html", "templates/**/*.txt", "eventreg/**/*.py"):
        for path in PROJECT_ROOT.glob(pattern):
            for match in CALL.finditer(path.read_text(encoding="utf-8")):
                for arg in DATE_ARG.finditer(match.group(2)):
                    found.add((match.group(1), arg.group(1)))
    return sorted(found)


def test_the_scan_finds_the_dated_messages():
    ids = {msgid for msgid, _name in dated_messages()}
    assert "Deadline for comments: %(when)s" in ids
    assert any("Comments closed" in msgid for msgid in ids)  # a Python call spread over lines
    assert len(ids) >= 8


@pytest.mark.parametrize("lang", ["ru", "ky"])
def test_no_preposition_before_a_date(app, lang):
    moment = datetime(2027, 2, 13, 17, 59, tzinfo=UTC)
    problems = []
    with app.test_request_context(f"/{lang}/"), force_locale(lang):
        dates = [local_datetime(moment), local_date(moment)]
        for msgid, name in dated_messages():
            for when in dates:
                text = gettext(msgid, **{name: when})
                assert when in text, (msgid, text)
                before = text[: text.index(when)].split()
                after = text[text.index(when) + len(when) :]
                if lang == "ru" and before and before[-1].lower() in RU_PREPOSITIONS:
                    problems.append(text)
                if lang == "ky":
                    following = after.split()
                    if following and following[0].strip(".,;:)") in KY_POSTPOSITIONS:
                        problems.append(text)
                    if re.match(r"-?[а-яөүң]", after):  # a case ending glued to the date
                        problems.append(text)
    assert problems == []
