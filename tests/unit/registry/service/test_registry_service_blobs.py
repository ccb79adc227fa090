"""The local content-addressed blob store: write, read, verify, refuse."""

from __future__ import annotations

import hashlib

import pytest

from services.chassis.errors import InvalidArgument, NotFound
from services.registry.adapters.blobs import BlobCorrupted, LocalBlobStore


def test_put_stores_by_sha256_and_get_returns_the_same_bytes(tmp_path):
    store = LocalBlobStore(tmp_path)
    content = "Quyết định số 15/QĐ-UBND".encode()
    ref = store.put(content)
    assert ref.sha256 == hashlib.sha256(content).hexdigest()
    assert ref.size_bytes == len(content)
    assert store.exists(ref.sha256)
    assert store.size(ref.sha256) == len(content)
    assert store.get(ref.sha256) == content
    path = store.path_of(ref.sha256)
    assert path.parent.parent.name == ref.sha256[:2] and path.parent.name == ref.sha256[2:4]


def test_put_is_idempotent_and_leaves_no_temporary_files(tmp_path):
    store = LocalBlobStore(tmp_path)
    first = store.put(b"same")
    second = store.put(b"same")
    assert first == second
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file() and p.name.startswith(".tmp-")]
    assert leftovers == []
    assert len([p for p in tmp_path.rglob("*") if p.is_file()]) == 1


def test_get_refuses_content_whose_hash_changed_on_disk(tmp_path):
    store = LocalBlobStore(tmp_path)
    ref = store.put(b"original content")
    store.path_of(ref.sha256).write_bytes(b"tampered content")
    with pytest.raises(BlobCorrupted) as caught:
        store.get(ref.sha256)
    assert caught.value.field == "sha256"
    assert "corrupted" in caught.value.reason


def test_missing_blob_is_not_found_and_bad_hash_is_invalid(tmp_path):
    store = LocalBlobStore(tmp_path)
    absent = hashlib.sha256(b"never stored").hexdigest()
    assert not store.exists(absent)
    with pytest.raises(NotFound):
        store.get(absent)
    with pytest.raises(InvalidArgument) as caught:
        store.get("ABC")
    assert caught.value.field == "sha256"
