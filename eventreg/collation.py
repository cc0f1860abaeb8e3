"""Alphabetical order for names as people in Kyrgyzstan expect it.

Sorting by code point puts the Kyrgyz letters ң ө ү after я (they live in another Unicode block);
here they follow н, о and у as in the Kyrgyz alphabet, and ё follows е. Latin names come before
Cyrillic ones; anything else keeps its code-point order after both. No ICU needed.
"""

from __future__ import annotations

import unicodedata

CYRILLIC = "абвгдеёжзийклмнңоөпрстуүфхцчшщъыьэюя"
_RANK = {letter: index for index, letter in enumerate(CYRILLIC)}


def sort_key(text: str | None) -> tuple:
    """A key for sorted(): case-insensitive, Kyrgyz and Russian letters in alphabet order."""
    key = []
    for char in unicodedata.normalize("NFC", (text or "").strip().casefold()):
        if char in _RANK:
            key.append((1, _RANK[char]))
        elif char.isascii():
            key.append((0, ord(char)))
        else:
            key.append((2, ord(char)))
    return tuple(key)
