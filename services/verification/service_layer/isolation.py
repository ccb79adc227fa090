"""Bounded time and memory for hostile input: verification in worker processes.

pyHanko and lxml are pure-Python or C parsers that a crafted file can keep busy for a long
time or make allocate a lot; a thread cannot be stopped once inside them. So the service runs
each verification in a long-lived worker process (started with ``spawn``: the gRPC server is
multi-threaded, forking it is unsafe) whose address space is capped with ``RLIMIT_AS``. The
parent waits at most ``timeout_seconds``; past that the worker is killed and replaced, and the
caller gets :class:`VerificationTimeout` (RESOURCE_EXHAUSTED, field ``document``) — a precise
error, never a hang. A worker that dies (memory cap, crash) gives :class:`VerificationAborted`.

Workers keep their engine (and its per-trust-version caches) between documents; the trust
store travels as DER once per version.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from services.chassis import errors as chassis_errors
from services.chassis.errors import ResourceExhausted, ServiceError
from services.verification.adapters.pdf import VerificationPolicy
from services.verification.adapters.truststore import TrustStore
from services.verification.domain.model import DocumentReport

DEFAULT_TIMEOUT_SECONDS = 60.0
DEFAULT_MEMORY_BYTES = 2 * 1024 * 1024 * 1024


class VerificationTimeout(ResourceExhausted):
    """The verification of one document did not finish within the time limit."""


class VerificationAborted(ResourceExhausted):
    """The worker verifying a document died (memory limit or crash)."""


@dataclass(frozen=True)
class _TrustPayload:
    version: str
    anchors: tuple[bytes, ...]
    intermediates: tuple[bytes, ...]
    crls: tuple[bytes, ...]

    @classmethod
    def of(cls, trust: TrustStore) -> _TrustPayload:
        return cls(
            trust.version,
            tuple(c.dump() for c in trust.anchors),
            tuple(c.dump() for c in trust.intermediates),
            trust.crls,
        )

    def store(self) -> TrustStore:
        from asn1crypto import x509 as asn1_x509

        return TrustStore(
            tuple(asn1_x509.Certificate.load(d) for d in self.anchors),
            tuple(asn1_x509.Certificate.load(d) for d in self.intermediates),
            self.crls,
            "isolated copy",
        )


def _worker_main(connection: Connection, policy: VerificationPolicy, memory_bytes: int) -> None:
    import logging
    import resource

    if memory_bytes:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    for name in ("pyhanko", "pyhanko_certvalidator"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    from services.verification.service_layer.verifier import Verifier

    verifier: Verifier | None = None
    version = ""
    while True:
        try:
            message = connection.recv()
        except EOFError:
            return
        trust_payload, kind, data, sender = message
        if trust_payload is not None and trust_payload.version != version:
            store = trust_payload.store()
            if verifier is None:
                verifier = Verifier(store, policy)
            else:
                verifier.use_trust(store)
            version = trust_payload.version
        assert verifier is not None
        try:
            verify = {"pdf": verifier.verify_pdf, "edxml": verifier.verify_edxml}.get(
                kind, verifier.verify
            )
            connection.send(("report", verify(data, sender=sender)))
        except ServiceError as exc:
            connection.send(("error", type(exc).__name__, exc.status, exc.reason, exc.field))
        except MemoryError:
            connection.send(
                (
                    "error",
                    "ResourceExhausted",
                    "RESOURCE_EXHAUSTED",
                    "verification needed more memory than allowed",
                    "document",
                )
            )


class _Worker:
    def __init__(self, policy: VerificationPolicy, memory_bytes: int) -> None:
        context = mp.get_context("spawn")
        self.connection, child = context.Pipe()
        self.process = context.Process(
            target=_worker_main, args=(child, policy, memory_bytes), daemon=True
        )
        self.process.start()
        child.close()
        self.trust_version = ""

    def kill(self) -> None:
        self.process.kill()
        self.process.join(timeout=5)
        self.connection.close()


def _rebuild_error(name: str, status: str, reason: str, field: str | None) -> ServiceError:
    cls = getattr(chassis_errors, name, None)
    if isinstance(cls, type) and issubclass(cls, ServiceError):
        return cls(reason, field=field)
    error = ServiceError(reason, field=field)
    error.status = status
    return error


class IsolatedVerifier:
    """A pool of worker processes verifying documents under time and memory limits."""

    def __init__(
        self,
        policy: VerificationPolicy | None = None,
        *,
        workers: int = 2,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        memory_bytes: int = DEFAULT_MEMORY_BYTES,
    ) -> None:
        self.policy = policy or VerificationPolicy()
        self.timeout_seconds = timeout_seconds
        self.memory_bytes = memory_bytes
        self._idle: queue.Queue[_Worker | None] = queue.Queue()
        for _ in range(workers):
            self._idle.put(None)  # started on first use
        self._all: list[_Worker] = []
        self._lock = threading.Lock()

    def verify(
        self, trust: TrustStore, data: bytes, *, sender: str | None = None, kind: str = "any"
    ) -> DocumentReport:
        worker = self._idle.get()
        try:
            if worker is None or not worker.process.is_alive():
                worker = self._start()
            payload = None if worker.trust_version == trust.version else _TrustPayload.of(trust)
            worker.connection.send((payload, kind, data, sender))
            worker.trust_version = trust.version
            if not worker.connection.poll(self.timeout_seconds):
                self._discard(worker)
                worker = None
                raise VerificationTimeout(
                    f"verification did not finish within {self.timeout_seconds:g} s",
                    field="document",
                )
            try:
                reply: Any = worker.connection.recv()
            except (EOFError, OSError):
                self._discard(worker)
                worker = None
                raise VerificationAborted(
                    "the verification worker died (memory limit or crash)", field="document"
                ) from None
        finally:
            self._idle.put(worker)
        if reply[0] == "report":
            return reply[1]
        raise _rebuild_error(*reply[1:])

    def _start(self) -> _Worker:
        worker = _Worker(self.policy, self.memory_bytes)
        with self._lock:
            self._all.append(worker)
        return worker

    def _discard(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            if worker in self._all:
                self._all.remove(worker)

    def close(self) -> None:
        with self._lock:
            workers, self._all = self._all, []
        for worker in workers:
            worker.kill()
