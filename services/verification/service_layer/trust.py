"""The verifier of a service process, with the trust store it currently believes in.

The trust store is the configured directory (``$LT_TRUST_DIR``, or the dev PKI) plus the
anchors managed through the API (database). The database part is reloaded when a
``TrustStoreChanged`` event arrives (every process listens, broadcast), after this process
changed it, and at the latest every ``refresh_seconds`` (in case events are late). Reloading
only swaps the store: the engine's caches are keyed by the store's content version.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable

from services.chassis import config
from services.chassis.dependencies import DependencyProvider
from services.verification.adapters.pdf import DocumentTooLarge, VerificationPolicy
from services.verification.adapters.truststore import TrustStore, TrustStoreError
from services.verification.domain.model import DocumentReport
from services.verification.service_layer.isolation import (
    IsolatedVerifier,
)
from services.verification.service_layer.trust_anchors import StoredAnchor
from services.verification.service_layer.verifier import Verifier

log = logging.getLogger(__name__)
REVOCATION_MODE_ENV = "LT_VERIFICATION_REVOCATION_MODE"
ALLOW_FETCHING_ENV = "LT_VERIFICATION_ALLOW_FETCHING"
WORKERS_ENV = "LT_VERIFICATION_WORKERS"  # 0: verify in the server process (no isolation)
TIMEOUT_ENV = "LT_VERIFICATION_TIMEOUT_S"
MEMORY_ENV = "LT_VERIFICATION_MEMORY_MB"
DEFAULT_WORKERS = 2
DEFAULT_REFRESH_SECONDS = 30.0


class TrustedVerifier:
    def __init__(
        self,
        base: TrustStore,
        policy: VerificationPolicy | None = None,
        refresh_seconds: float = DEFAULT_REFRESH_SECONDS,
        isolated: IsolatedVerifier | None = None,
    ) -> None:
        self.base = base
        self.verifier = Verifier(base, policy)
        self.refresh_seconds = refresh_seconds
        self.isolated = isolated
        self._loaded_at: float | None = None
        self._lock = threading.Lock()

    @property
    def stale(self) -> bool:
        loaded = self._loaded_at
        return loaded is None or time.monotonic() - loaded > self.refresh_seconds

    def invalidate(self) -> None:
        self._loaded_at = None

    def verify(self, data: bytes, *, kind: str, sender: str | None) -> DocumentReport:
        """Verify with the current trust store, in a bounded worker when isolation is on."""
        limit = self.verifier.policy.max_document_bytes
        if len(data) > limit:
            raise DocumentTooLarge(f"{len(data)} bytes, the limit is {limit}", field="document")
        if self.isolated is not None:
            return self.isolated.verify(self.verifier.trust, data, sender=sender, kind=kind)
        if kind == "pdf":
            return self.verifier.verify_pdf(data, sender=sender)
        if kind == "edxml":
            return self.verifier.verify_edxml(data, sender=sender)
        return self.verifier.verify(data, sender=sender)

    def close(self) -> None:
        if self.isolated is not None:
            self.isolated.close()

    def refresh(self, anchors: Iterable[StoredAnchor]) -> TrustStore:
        store = self.base.merged((a.certificate for a in anchors), "database")
        with self._lock:
            self.verifier.use_trust(store)
            self._loaded_at = time.monotonic()
        return store


def policy_from_environment() -> VerificationPolicy:
    return VerificationPolicy(
        revocation_mode=config.get(config.VERIFICATION_REVOCATION_MODE),
        allow_fetching=config.get_bool(config.VERIFICATION_ALLOW_FETCHING),
    )


class TrustedVerifierProvider(DependencyProvider[TrustedVerifier]):
    """One :class:`TrustedVerifier` per process, built from the environment at start."""

    def setup(self, service_name: str) -> None:
        try:
            base = TrustStore.configured()
        except TrustStoreError as exc:
            # The API-managed anchors may be all there is; verifications fail until then.
            log.warning("no trust directory: %s", exc.reason)
            base = TrustStore(anchors=(), source="none")
        policy = policy_from_environment()
        workers = config.get_int(config.VERIFICATION_WORKERS)
        isolated = None
        if workers > 0:
            isolated = IsolatedVerifier(
                policy,
                workers=workers,
                timeout_seconds=config.get_float(config.VERIFICATION_TIMEOUT_S),
                memory_bytes=config.get_int(config.VERIFICATION_MEMORY_MB) * 2**20,
            )
        self._value = TrustedVerifier(base, policy, isolated=isolated)

    def get_dependency(self) -> TrustedVerifier:
        return self._value

    def stop(self) -> None:
        self._value.close()
