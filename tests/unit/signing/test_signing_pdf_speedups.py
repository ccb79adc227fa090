"""The chunked hex-string reader must behave exactly like pyHanko's own."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyhanko.pdf_utils.misc import PdfStreamError

from services.signing.adapters.pdf_speedups import original_reader, read_hex_string_from_stream


def _both(data: bytes):  # type: ignore[no-untyped-def]
    outcomes = []
    for reader in (original_reader(), read_hex_string_from_stream):
        stream = io.BytesIO(data)
        try:
            value = reader(stream)
            outcomes.append(
                (
                    "ok",
                    type(value).__name__,
                    bytes(value.original_bytes) if hasattr(value, "original_bytes") else value,
                    stream.tell(),
                )
            )
        except PdfStreamError as exc:
            outcomes.append(("error", str(exc)))
    return outcomes


@pytest.mark.parametrize(
    "data",
    [
        b"<>",
        b"<4142>rest",
        b"<41 4\n2\r\t43>",
        b"<414>",
        b"<FEFF0041>",
        b"<41G2>",
        b"<4142",
        b"<" + b"ab" * 70000 + b">tail",
    ],
)
def test_same_result_as_pyhanko(data: bytes) -> None:
    original, fast = _both(data)
    assert original == fast


@given(st.binary(max_size=200), st.sampled_from([b">", b"", b"> 1 0 obj"]))
def test_same_result_on_random_input(body: bytes, tail: bytes) -> None:
    original, fast = _both(b"<" + body.hex().encode() + tail)
    assert original == fast


@given(st.binary(max_size=64))
def test_same_errors_on_arbitrary_bytes(body: bytes) -> None:
    original, fast = _both(b"<" + body + b">")
    assert original[0] == fast[0]
