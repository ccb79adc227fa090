"""Stamp fonts: Liberation Serif (Times New Roman metrics) prepared once per process.

pyHanko lays stamp text out in 1000-units-per-em glyph space; fonts with 2048 units per em
(DejaVu, Liberation) come out letter-spaced unless rescaled first (issue #4, "Pitfalls").
Subsetting to Latin + Vietnamese glyphs also halves the embedding cost of every stamp.
The prepared font is cached on disk (``$LT_VAR_DIR/fonts`` or the temp dir) keyed by the
source file's hash, and its path is reused by every stamp of the process.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont
from fontTools.ttLib.scaleUpem import scale_upem

LIBERATION_SERIF = Path("/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf")
LIBERATION_SERIF_BOLD = Path("/usr/share/fonts/truetype/liberation2/LiberationSerif-Bold.ttf")
LIBERATION_SERIF_ITALIC = Path("/usr/share/fonts/truetype/liberation2/LiberationSerif-Italic.ttf")

# Exactly what Vietnamese text needs (a smaller font is parsed and subset faster for every
# stamp): Basic Latin, the Latin-1 letters with Vietnamese accents, Ă ă Đ đ Ĩ ĩ Ũ ũ Ơ ơ Ư ư,
# the five tone marks as combining characters (decomposed input), Latin Extended Additional
# U+1EA0–U+1EF9 (ạ ả ấ … ỹ), and the punctuation of official documents (– — ‘ ’ “ ” … ₫).
VIETNAMESE_UNICODES = [
    *range(0x20, 0x7F),
    0xA0,
    0xA7,
    0xB0,
    *(ord(c) for c in "ÀÁÂÃÈÉÊÌÍÒÓÔÕÙÚÝàáâãèéêìíòóôõùúý"),
    *(ord(c) for c in "ĂăĐđĨĩŨũƠơƯư"),
    0x300,
    0x301,
    0x303,
    0x309,
    0x323,
    *range(0x1EA0, 0x1EFA),
    0x2013,
    0x2014,
    0x2018,
    0x2019,
    0x201C,
    0x201D,
    0x2026,
    0x20AB,
]

_SUBSET_REVISION = 2  # bump when the subsetting options change (part of the cache key)
_lock = threading.Lock()
_prepared: dict[Path, Path] = {}


class FontUnavailable(Exception):
    """The font file needed for stamps is missing or unreadable."""


def _cache_directory() -> Path:
    var_dir = os.environ.get("LT_VAR_DIR")
    base = Path(var_dir) / "fonts" if var_dir else Path(tempfile.gettempdir()) / "lienthong-fonts"
    base.mkdir(parents=True, exist_ok=True)
    return base


def prepared_font(source: Path = LIBERATION_SERIF) -> Path:
    """Return the path of ``source`` rescaled to 1000 upem and subset to Vietnamese."""
    with _lock:
        cached = _prepared.get(source)
        if cached is not None and cached.exists():
            return cached
        try:
            data = source.read_bytes()
        except OSError as exc:
            raise FontUnavailable(f"font {source}: {exc.strerror}") from None
        # The key covers the font and the glyph set, so a changed subset is never stale.
        digest = hashlib.sha256(
            data + repr((VIETNAMESE_UNICODES, _SUBSET_REVISION)).encode()
        ).hexdigest()[:16]
        target = _cache_directory() / f"{source.stem}-1000upem-vi-{digest}.ttf"
        if not target.exists():
            font = TTFont(source)
            if font["head"].unitsPerEm != 1000:
                scale_upem(font, 1000)
            options = subset.Options()
            # No OpenType layout tables: stamp text is NFC (precomposed Vietnamese letters need
            # no mark positioning), and decompiling GSUB/GPOS was most of the per-stamp
            # subsetting cost in pyHanko.
            options.layout_features = []
            options.drop_tables += ["GSUB", "GPOS", "GDEF", "kern"]
            options.name_IDs = ["*"]
            options.notdef_outline = True
            subsetter = subset.Subsetter(options)
            subsetter.populate(unicodes=VIETNAMESE_UNICODES)
            subsetter.subset(font)
            tmp = target.with_suffix(f".{os.getpid()}.tmp")
            font.save(tmp)
            tmp.replace(target)
        _prepared[source] = target
        return target
