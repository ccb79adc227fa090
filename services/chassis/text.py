"""Vietnamese text rules shared by every service.

Everything stored or compared is NFC (Unicode Normalization Form C): Vietnamese input arrives
both precomposed and decomposed (e.g. from macOS or old TCVN3 converters), and two spellings of
the same name must be one key. Search is diacritic-insensitive: "ha noi" finds "Hà Nội".
"""

from __future__ import annotations

import unicodedata

_D_MAP = str.maketrans({"đ": "d", "Đ": "D"})


def nfc(text: str) -> str:
    """Return ``text`` in NFC with surrounding whitespace stripped and inner runs collapsed."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def fold(text: str) -> str:
    """Return a search key: lower case, no diacritics, đ → d, single spaces.

    ``fold("Ủy ban nhân dân tỉnh Hà Nội") == "uy ban nhan dan tinh ha noi"``.
    """
    decomposed = unicodedata.normalize("NFD", text.translate(_D_MAP))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())
