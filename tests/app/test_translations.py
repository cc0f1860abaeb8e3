"""Every user-facing string exists in Russian and Kyrgyz, and the compiled catalogues match."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from eventreg.config import LANGUAGES, PROJECT_ROOT

TRANSLATIONS = PROJECT_ROOT / "translations"
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "_l": None,
    "lazy_gettext": None,
    "lazy_ngettext": (1, 2),
}
PLURAL_FORMS = {"ru": 3, "ky": 2, "en": 2}


def _catalogue(lang: str):
    path = TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"
    assert path.exists(), f"no catalogue for {lang}: run `make translations`"
    with path.open("rb") as f:
        return read_po(f, locale=lang)


def _ids_in_code() -> set[str]:
    method_map = [
        ("eventreg/**.py", "python"),
        ("templates/**.html", "jinja2"),
        ("templates/**.txt", "jinja2"),
    ]
    ids = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(PROJECT_ROOT), method_map=method_map, keywords=KEYWORDS
    ):
        ids.add(message[0] if isinstance(message, tuple) else message)
    return ids


@pytest.fixture(scope="module")
def code_ids() -> set[str]:
    return _ids_in_code()


@pytest.mark.parametrize("lang", [code for code in LANGUAGES if code != "en"])
def test_catalogue_is_complete_and_not_fuzzy(lang, code_ids):
    catalogue = _catalogue(lang)
    ids = {m.id[0] if isinstance(m.id, tuple) else m.id for m in catalogue if m.id}
    missing = sorted(code_ids - ids)
    assert not missing, (
        f"{lang}: {len(missing)} strings not in the catalogue, e.g. {missing[:5]} (make translations)"
    )
    untranslated = []
    for message in catalogue:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            untranslated.append(message.id)
        if isinstance(message.id, tuple):
            assert len(strings) == PLURAL_FORMS[lang], (
                f"{lang}: {message.id[0]!r} needs {PLURAL_FORMS[lang]} forms"
            )
    assert not untranslated, f"{lang}: {len(untranslated)} untranslated or fuzzy, e.g. {untranslated[:5]}"


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_compiled_catalogue_matches_the_po_file(lang):
    mo_path = Path(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.mo")
    assert mo_path.exists(), f"{mo_path} missing: run `make translations-compile`"
    fresh = BytesIO()
    write_mo(fresh, _catalogue(lang))
    fresh.seek(0)

    def messages(catalogue):
        return {_key(m.id): _key(m.string) for m in catalogue if m.id}

    with mo_path.open("rb") as f:
        assert messages(read_mo(f)) == messages(read_mo(fresh)), (
            f"{lang}: the .mo is out of date; run `make translations-compile`"
        )


def _key(value):
    return tuple(value) if isinstance(value, (list, tuple)) else value


def test_kyrgyz_is_not_russian():
    """A sign the Kyrgyz catalogue was really translated, not filled with Russian."""
    ky = _catalogue("ky")
    texts = " ".join(m.string for m in ky if isinstance(m.string, str))
    assert any(letter in texts for letter in "ңөүҢӨҮ")
