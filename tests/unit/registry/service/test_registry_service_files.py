"""Main-file versions without infrastructure: the rules, the upload stream, the blob streams."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
from lienthong.registry.v1 import registry_pb2 as pb

from services.chassis import caller as callers
from services.chassis.errors import InvalidArgument, NotFound, ResourceExhausted
from services.registry.adapters.blobs import BlobCorrupted, LocalBlobStore
from services.registry.domain.errors import InvalidField
from services.registry.domain.files import (
    FileKind,
    FileVersionRefused,
    check_file_name,
    check_may_add,
    check_media_type,
    file_kind_of,
)
from services.registry.service_layer import files
from services.registry.service_layer.use_cases import require_visible

K = FileKind
RECORD = "5f0e7a52-4c1b-4d7e-9a61-2b8c3d4e5f60"


# -- which version when ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "direction", "status", "existing"),
    [
        (K.ORIGINAL, "outgoing", "draft", []),
        (K.ORIGINAL, "outgoing", "draft", [K.ORIGINAL]),  # a revised draft
        (K.PERSON_SIGNED, "outgoing", "draft", [K.ORIGINAL]),
        (K.NUMBERED, "outgoing", "issued", [K.ORIGINAL, K.PERSON_SIGNED]),
        (K.NUMBERED, "outgoing", "issued", []),  # registered already signed and numbered
        (K.SEALED, "outgoing", "issued", [K.NUMBERED]),
        (K.SEALED, "outgoing", "draft", [K.ORIGINAL]),  # a digitised copy
        (K.RECEIVED, "incoming", "arrived", []),
        (K.RECEIVED, "incoming", "in_progress", [K.RECEIVED]),
    ],
)
def test_allowed_versions(kind, direction, status, existing):
    check_may_add(kind, direction=direction, status=status, existing=existing)


@pytest.mark.parametrize(
    ("kind", "direction", "status", "existing", "field", "words"),
    [
        (K.ORIGINAL, "outgoing", "issued", [K.ORIGINAL], "kind", "draft"),
        (K.PERSON_SIGNED, "outgoing", "draft", [], "kind", "original"),
        (K.NUMBERED, "outgoing", "draft", [K.ORIGINAL], "kind", "number"),
        (K.SEALED, "outgoing", "issued", [], "kind", "earlier version"),
        (K.RECEIVED, "outgoing", "draft", [], "kind", "incoming"),
        (K.ORIGINAL, "incoming", "arrived", [], "kind", "outgoing"),
        (K.SEALED, "outgoing", "recalled", [K.NUMBERED], "id", "frozen"),
        (K.RECEIVED, "incoming", "recalled", [], "id", "frozen"),
        (K.RECEIVED, "incoming", "deleted", [], "id", "frozen"),
    ],
)
def test_refused_versions_name_the_field_and_the_reason(
    kind, direction, status, existing, field, words
):
    with pytest.raises(FileVersionRefused) as caught:
        check_may_add(kind, direction=direction, status=status, existing=existing)
    assert caught.value.field == field and words in caught.value.reason
    assert caught.value.status == "FAILED_PRECONDITION"


def test_header_values():
    assert file_kind_of("sealed") is K.SEALED
    assert check_media_type("") == check_media_type("Application/PDF") == "application/pdf"
    assert check_file_name("", K.NUMBERED) == "numbered.pdf"
    for bad in (lambda: file_kind_of("attachment"), lambda: check_media_type("image/png"),
                lambda: check_file_name("a/b.pdf", K.ORIGINAL),
                lambda: check_file_name("x" * 256, K.ORIGINAL)):  # fmt: skip
        with pytest.raises(InvalidField):
            bad()


def test_parse_header_names_header_fields():
    header = files.parse_header(
        pb.FileVersionHeader(id=RECORD.upper(), kind="original"), default_actor="system"
    )
    assert (header.document_uuid, header.kind, header.file_name, header.actor) == (
        RECORD, K.ORIGINAL, "original.pdf", "system",
    )  # fmt: skip
    cases = {
        "header.id": pb.FileVersionHeader(id="x", kind="original"),
        "header.kind": pb.FileVersionHeader(id=RECORD, kind=""),
        "header.media_type": pb.FileVersionHeader(id=RECORD, kind="original", media_type="a/b"),
        "header.actor": pb.FileVersionHeader(id=RECORD, kind="original", actor="a" * 256),
        "header.expected_version": pb.FileVersionHeader(
            id=RECORD, kind="original", expected_version=-1
        ),
    }
    for field, bad in cases.items():
        with pytest.raises(InvalidArgument) as caught:
            files.parse_header(bad, default_actor="system")
        assert caught.value.field == field


# -- the upload stream -----------------------------------------------------------------------
def _data(*parts: bytes) -> Iterator[pb.FileChunk]:
    return iter([pb.FileChunk(data=p) for p in parts])


def test_the_pdf_header_may_be_split_across_chunks():
    assert b"".join(files.pdf_bytes(_data(b"%P", b"D", b"F-1.7 rest"))) == b"%PDF-1.7 rest"


@pytest.mark.parametrize("parts", [(b"%PDX-1.7",), (b"%P", b"DX"), (b"%PD",), (), (b"",)], ids=str)
def test_not_a_pdf_or_empty_is_refused_on_data(parts):
    with pytest.raises(InvalidArgument) as caught:
        list(files.pdf_bytes(_data(*parts)))
    assert caught.value.field == "data"


def test_a_second_header_is_refused():
    chunks = iter([pb.FileChunk(data=b"%PDF-"), pb.FileChunk(header=pb.FileVersionHeader())])
    with pytest.raises(InvalidArgument) as caught:
        list(files.pdf_bytes(chunks))
    assert caught.value.field == "header"
    with pytest.raises(InvalidArgument):
        files.first_header(iter([pb.FileChunk(data=b"%PDF-")]))


# -- the blob store's streams ----------------------------------------------------------------
def test_put_stream_hashes_while_writing_and_read_chunks_gives_it_back(tmp_path):
    store = LocalBlobStore(tmp_path)
    pieces = [b"%PDF-1.7\n", bytes(range(256)) * 5000, b"%%EOF"]
    content = b"".join(pieces)
    ref = store.put_stream(iter(pieces), max_bytes=len(content))
    assert ref.sha256 == hashlib.sha256(content).hexdigest() and ref.size_bytes == len(content)
    chunks = list(store.read_chunks(ref.sha256, 100_000))
    assert b"".join(chunks) == content and max(map(len, chunks)) == 100_000
    assert store.put_stream(iter([content]), max_bytes=len(content)) == ref  # already there
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == [store.path_of(ref.sha256)]


def test_put_stream_over_the_limit_or_failing_leaves_nothing(tmp_path):
    store = LocalBlobStore(tmp_path)
    with pytest.raises(ResourceExhausted) as caught:
        store.put_stream(iter([b"a" * 600, b"b" * 600]), max_bytes=1000)
    assert caught.value.field == "data" and "1000" in caught.value.reason

    def broken() -> Iterator[bytes]:
        yield b"%PDF-"
        raise InvalidArgument("refused", field="data")

    with pytest.raises(InvalidArgument):
        store.put_stream(broken(), max_bytes=1000)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_read_chunks_refuses_a_corrupted_blob_before_the_first_chunk(tmp_path):
    store = LocalBlobStore(tmp_path)
    ref = store.put(b"%PDF-1.7 original")
    store.path_of(ref.sha256).write_bytes(b"%PDF-1.7 tampered")
    with pytest.raises(BlobCorrupted):
        next(store.read_chunks(ref.sha256))
    with pytest.raises(NotFound):
        next(store.read_chunks("0" * 64))


# -- scope -----------------------------------------------------------------------------------
def test_another_agencys_record_looks_missing():
    require_visible("000.00.01.H56", RECORD)  # no caller: the platform
    for caller, visible in (
        (callers.Caller("a", "000.00.01.H56", frozenset({"clerk"})), True),
        (callers.Caller("b", "000.00.02.H56", frozenset({"clerk"})), False),
        (callers.Caller("c", "000.00.02.H56", frozenset({"province_admin"})), True),
    ):
        handle = callers.enter(caller, "token")
        try:
            if visible:
                require_visible("000.00.01.H56", RECORD)
            else:
                with pytest.raises(NotFound) as caught:
                    require_visible("000.00.01.H56", RECORD)
                assert (caught.value.field, caught.value.reason) == ("id", f"no document {RECORD}")
        finally:
            callers.leave(handle)
