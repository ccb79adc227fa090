"""Attachment content, stored by SHA-256 behind an interface.

:class:`LocalBlobStore` is a content-addressed directory (``$LT_VAR_DIR/blobs/ab/cd/<hash>``):
a write goes to a temporary file in the same directory, is fsynced, then renamed atomically
into place (and the directory fsynced), so a crash leaves either the whole blob or none; a read
recomputes the hash and refuses content that does not match. An S3-compatible store can
implement the same :class:`BlobStore` protocol later.

Blobs are written *before* the record that points at them is committed: a failed transaction
can leave an unreferenced blob (harmless, collectable), never a record pointing at nothing.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from services.chassis import config
from services.chassis.dependencies import DependencyProvider
from services.chassis.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    ResourceExhausted,
)

MAX_BLOB_BYTES = 512 * 1024 * 1024
READ_CHUNK_BYTES = 1024 * 1024


class BlobCorrupted(FailedPrecondition):
    """Stored content whose SHA-256 no longer matches its name."""


@dataclass(frozen=True, slots=True)
class BlobRef:
    sha256: str
    size_bytes: int


class BlobStore(Protocol):
    def put(self, content: bytes) -> BlobRef: ...

    def get(self, sha256: str) -> bytes: ...

    def exists(self, sha256: str) -> bool: ...

    def size(self, sha256: str) -> int: ...

    def put_stream(
        self, chunks: Iterable[bytes], *, max_bytes: int, field: str = "data"
    ) -> BlobRef: ...

    def read_chunks(self, sha256: str, chunk_bytes: int = READ_CHUNK_BYTES) -> Iterator[bytes]: ...


def _check_hash(sha256: str, field: str = "sha256") -> str:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise InvalidArgument("must be 64 lower-case hexadecimal characters", field=field)
    return sha256


class LocalBlobStore:
    """Content-addressed files under ``root`` (two levels of fan-out by hash prefix)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_of(self, sha256: str) -> Path:
        _check_hash(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, content: bytes) -> BlobRef:
        if len(content) > MAX_BLOB_BYTES:
            raise InvalidArgument(
                f"is {len(content)} bytes, at most {MAX_BLOB_BYTES}", field="attachment.content"
            )
        digest = hashlib.sha256(content).hexdigest()
        target = self.path_of(digest)
        if target.exists() and target.stat().st_size == len(content):
            return BlobRef(digest, len(content))  # same content already stored
        return self.put_stream((content,), max_bytes=len(content))

    def put_stream(
        self, chunks: Iterable[bytes], *, max_bytes: int, field: str = "data"
    ) -> BlobRef:
        """Store content arriving in pieces, hashing as it is written: never whole in memory.

        The bytes go to a temporary file under the store root; once complete they are fsynced
        and renamed to their hash's place. More than ``max_bytes`` → RESOURCE_EXHAUSTED; any
        error from ``chunks`` (a refused first chunk, a broken stream) removes the temporary
        file and propagates.
        """
        incoming = self.root / ".incoming"
        incoming.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(dir=incoming, prefix=".tmp-")
        hasher = hashlib.sha256()
        size = 0
        try:
            with os.fdopen(fd, "wb") as handle:
                for chunk in chunks:
                    size += len(chunk)
                    if size > max_bytes:
                        raise ResourceExhausted(
                            f"the file exceeds {max_bytes} bytes, the most this registry stores",
                            field=field,
                        )
                    hasher.update(chunk)
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            digest = hasher.hexdigest()
            target = self.path_of(digest)
            if target.exists() and target.stat().st_size == size:
                Path(temp_name).unlink()
                return BlobRef(digest, size)  # same content already stored
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(temp_name, target)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return BlobRef(digest, size)

    def read_chunks(self, sha256: str, chunk_bytes: int = READ_CHUNK_BYTES) -> Iterator[bytes]:
        """The content in pieces of ``chunk_bytes``, verified before the first piece is given.

        One open file is read twice: a first pass checks the hash (a corrupted blob is refused
        before anything is sent), the second yields the bytes and checks the hash again, so
        content altered on disk in between ends the stream with :class:`BlobCorrupted`.
        """
        path = self.path_of(sha256)
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            raise NotFound(f"no blob {sha256} in the store", field="sha256") from None
        with handle:
            first_pass = hashlib.sha256()
            while block := handle.read(chunk_bytes):
                first_pass.update(block)
            _verify(sha256, first_pass.hexdigest())
            handle.seek(0)
            second_pass = hashlib.sha256()
            while block := handle.read(chunk_bytes):
                second_pass.update(block)
                yield block
            _verify(sha256, second_pass.hexdigest())

    def get(self, sha256: str) -> bytes:
        path = self.path_of(sha256)
        try:
            content = path.read_bytes()
        except FileNotFoundError:
            raise NotFound(f"no blob {sha256} in the store", field="sha256") from None
        actual = hashlib.sha256(content).hexdigest()
        if actual != sha256:
            raise BlobCorrupted(
                f"blob {sha256} is corrupted on disk (its content hashes to {actual})",
                field="sha256",
            )
        return content

    def exists(self, sha256: str) -> bool:
        return self.path_of(sha256).is_file()

    def size(self, sha256: str) -> int:
        try:
            return self.path_of(sha256).stat().st_size
        except FileNotFoundError:
            raise NotFound(f"no blob {sha256} in the store", field="sha256") from None


def _verify(sha256: str, actual: str) -> None:
    if actual != sha256:
        raise BlobCorrupted(
            f"blob {sha256} is corrupted on disk (its content hashes to {actual})", field="sha256"
        )


class Blobs(DependencyProvider[BlobStore]):
    """Injects the local blob store at ``$LT_VAR_DIR/blobs``."""

    def setup(self, service_name: str) -> None:
        self._store = LocalBlobStore(Path(config.get(config.VAR_DIR)) / "blobs")

    def get_dependency(self) -> BlobStore:
        return self._store
