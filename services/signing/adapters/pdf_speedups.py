"""A faster, behaviour-identical hex-string reader for pyHanko's PDF parser.

pyHanko 0.38 reads ``<...>`` hex strings one byte at a time through a Python generator. Every
signature's ``/Contents`` is such a string of 16–32 K hex digits, and each step of the workflow
re-reads all earlier signatures: on the person → number → organisation workflow this was about
a fifth of the CPU time. :func:`install` swaps in a reader that scans the same bytes in chunks
and produces the same objects and the same errors (``tests/unit/signing`` compares both).
"""

from __future__ import annotations

import binascii
import re

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PdfStreamError

_ORIGINAL = generic.read_hex_string_from_stream
_WHITESPACE = b" \n\r\t\x00\x0c"
_HEX = re.compile(rb"[0-9a-fA-F]*")
_CHUNK = 1 << 16


def read_hex_string_from_stream(stream):  # type: ignore[no-untyped-def]
    """Read ``<hex digits and whitespace>`` at the stream position (same contract as pyHanko)."""
    stream.read(1)  # the opening "<"
    start = stream.tell()
    collected = bytearray()
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:
            raise PdfStreamError("Stream ended prematurely")
        end = chunk.find(b">")
        if end >= 0:
            collected += chunk[:end]
            stream.seek(start + len(collected) + 1)
            break
        collected += chunk
    digits = bytes(collected).translate(None, _WHITESPACE)
    if not _HEX.fullmatch(digits):
        bad = next(bytes([b]) for b in digits if bytes([b]) not in generic.HEX_DIGITS)
        raise PdfStreamError("Unexpected token in hex string: " + repr(bad))
    if len(digits) % 2:
        digits += b"0"
    return generic.pdf_string(binascii.unhexlify(digits))


def install() -> None:
    """Make pyHanko's parser use :func:`read_hex_string_from_stream` (idempotent)."""
    generic.read_hex_string_from_stream = read_hex_string_from_stream


def uninstall() -> None:
    """Restore pyHanko's own reader (the benchmark's naive baseline runs pyHanko as shipped)."""
    generic.read_hex_string_from_stream = _ORIGINAL


def original_reader():  # type: ignore[no-untyped-def]
    """pyHanko's own implementation, for comparison in tests."""
    return _ORIGINAL
