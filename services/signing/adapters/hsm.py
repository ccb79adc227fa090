"""PKCS#11 token access (SoftHSM2 by default) through python-pkcs11.

Rules this module enforces, learnt the hard way on SoftHSM 2.6 (see issue #4, "Pitfalls"):

* The module is loaded through ``p11-kit-proxy.so`` (``LT_PKCS11_MODULE``), which initialises
  SoftHSM with OS locking; SoftHSM loaded directly crashes with several threads.
* Login is per *process*: a second ``C_Login`` raises ``UserAlreadyLoggedIn`` and closing any
  logged-in session logs out all of them.  So one "login session" is opened per process and
  kept for the process life; every thread gets its own extra session, opened without a PIN,
  which shares the login state.
* After ``fork`` the parent's handles are meaningless in the child: the library is
  re-initialised and new sessions are opened in the child only (detected by a pid check).
* Objects are selected by ``CKA_ID``, never by label (labels are for humans).
* Private keys are generated in the token with ``CKA_SENSITIVE=True`` and
  ``CKA_EXTRACTABLE=False``; the PIN comes from an environment variable or a file and is never
  logged or put into an exception message.
"""

from __future__ import annotations

import enum
import hashlib
import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pkcs11
from asn1crypto import keys as asn1_keys
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass
from pkcs11.util.ec import encode_ec_public_key, encode_named_curve_parameters
from pkcs11.util.rsa import encode_rsa_public_key

logger = logging.getLogger(__name__)

DEFAULT_MODULE_PATH = "/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so"


class HsmError(Exception):
    """Base class of every token error raised by this adapter."""

    grpc_status = "UNAVAILABLE"


class HsmNotConfigured(HsmError):
    """A required setting (module path, token label, PIN source) is missing."""

    grpc_status = "FAILED_PRECONDITION"


class ModuleLoadFailed(HsmError):
    """The PKCS#11 module file cannot be loaded."""

    grpc_status = "UNAVAILABLE"


class TokenNotFound(HsmError):
    """No initialised token carries the configured label."""

    grpc_status = "UNAVAILABLE"


class WrongPin(HsmError):
    """The token refused the user PIN (the PIN itself is never part of the message)."""

    grpc_status = "UNAUTHENTICATED"


class PinLocked(HsmError):
    """The token locked the user PIN after too many wrong attempts; the SO must unlock it."""

    grpc_status = "PERMISSION_DENIED"


class KeyNotFound(HsmError):
    """No private key (or certificate) with the requested CKA_ID is on the token."""

    grpc_status = "NOT_FOUND"


class KeyAlreadyExists(HsmError):
    """A key with the requested CKA_ID already exists; CKA_IDs must stay unique."""

    grpc_status = "ALREADY_EXISTS"


class HsmOperationFailed(HsmError):
    """Any other PKCS#11 failure, with the PKCS#11 error class name in the message."""

    grpc_status = "INTERNAL"


class KeyAlgorithm(enum.StrEnum):
    """Key types a signer can be provisioned with."""

    RSA_2048 = "rsa2048"
    EC_P256 = "ec-p256"


@dataclass(frozen=True)
class PinSource:
    """Where the user PIN is read from: an environment variable or a file (first line)."""

    env_var: str | None = None
    file_path: Path | None = None

    def read(self, environ: Mapping[str, str] | None = None) -> str:
        """Return the PIN; raise :class:`HsmNotConfigured` naming the source if it is empty."""
        environ = os.environ if environ is None else environ
        if self.file_path is not None:
            try:
                pin = self.file_path.read_text(encoding="utf-8").splitlines()[0].strip()
            except (OSError, IndexError) as exc:
                raise HsmNotConfigured(
                    f"PIN file {self.file_path}: cannot read a PIN ({type(exc).__name__})"
                ) from None
            if pin:
                return pin
            raise HsmNotConfigured(f"PIN file {self.file_path}: first line is empty")
        if self.env_var is not None:
            pin = environ.get(self.env_var, "")
            if pin:
                return pin
            raise HsmNotConfigured(f"environment variable {self.env_var}: PIN is not set")
        raise HsmNotConfigured("PIN source: neither an environment variable nor a file is set")

    def __repr__(self) -> str:  # never show more than where the PIN comes from
        return f"PinSource(env_var={self.env_var!r}, file_path={self.file_path!r})"


@dataclass(frozen=True)
class HsmConfig:
    """Token settings: module, token label and the PIN source."""

    module_path: str
    token_label: str
    pin_source: PinSource

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> HsmConfig:
        """Build from ``LT_PKCS11_MODULE``, ``LT_HSM_TOKEN_LABEL`` and ``LT_HSM_USER_PIN``.

        ``LT_HSM_USER_PIN_FILE`` (a path) takes precedence over ``LT_HSM_USER_PIN`` so that
        production can keep the PIN out of the environment.
        """
        environ = os.environ if environ is None else environ
        module_path = environ.get("LT_PKCS11_MODULE", "")
        if not module_path:
            raise HsmNotConfigured("environment variable LT_PKCS11_MODULE: module path is not set")
        token_label = environ.get("LT_HSM_TOKEN_LABEL", "")
        if not token_label:
            raise HsmNotConfigured("environment variable LT_HSM_TOKEN_LABEL: label is not set")
        pin_file = environ.get("LT_HSM_USER_PIN_FILE")
        pin_source = (
            PinSource(file_path=Path(pin_file))
            if pin_file
            else PinSource(env_var="LT_HSM_USER_PIN")
        )
        return cls(module_path=module_path, token_label=token_label, pin_source=pin_source)


@dataclass(frozen=True)
class KeyInfo:
    """What the token holds under one CKA_ID."""

    key_id: bytes
    label: str
    algorithm: KeyAlgorithm
    has_certificate: bool

    @property
    def key_id_hex(self) -> str:
        return self.key_id.hex()


def _translate(exc: pkcs11.PKCS11Error, what: str) -> HsmError:
    """Map a python-pkcs11 exception onto this adapter's classes (no PIN in any message)."""
    if isinstance(exc, pkcs11.PinIncorrect):
        return WrongPin(f"{what}: the token refused the user PIN")
    if isinstance(exc, pkcs11.PinLocked):
        return PinLocked(f"{what}: the user PIN is locked; the security officer must unlock it")
    if isinstance(exc, pkcs11.NoSuchToken):
        return TokenNotFound(f"{what}: no token with this label")
    if isinstance(exc, pkcs11.NoSuchKey):
        return KeyNotFound(f"{what}: no such object")
    return HsmOperationFailed(f"{what}: PKCS#11 {type(exc).__name__} {exc}".rstrip())


_library_pids: dict[str, int] = {}
_library_lock = threading.Lock()


def _library_for_this_process(module_path: str) -> pkcs11.lib:  # type: ignore[name-defined]
    """Load (or re-initialise after fork) the PKCS#11 module for the current process."""
    pid = os.getpid()
    with _library_lock:
        try:
            lib = pkcs11.lib(module_path)
        except pkcs11.PKCS11Error as exc:
            raise ModuleLoadFailed(
                f"PKCS#11 module {module_path}: {type(exc).__name__} {exc}"
            ) from None
        except OSError as exc:
            raise ModuleLoadFailed(f"PKCS#11 module {module_path}: {exc}") from None
        loaded_by = _library_pids.setdefault(module_path, pid)
        if loaded_by != pid:
            # The parent's library state was copied by fork; the child must run its own
            # C_Initialize (PKCS#11 v2.40 §5.4). The parent's session handles are dropped,
            # never closed here, because closing them would log the parent out.
            try:
                lib.reinitialize()
            except pkcs11.PKCS11Error:
                lib.initialize()
            _library_pids[module_path] = pid
        return lib


class Hsm:
    """One process's connection to one token.

    Thread-safe: each thread uses its own session (``session()``); the login session is
    opened once per process and never closed until :meth:`close` at process end.
    """

    def __init__(self, config: HsmConfig) -> None:
        self.config = config
        self._lock = threading.RLock()
        self._pid: int | None = None
        self._lib: pkcs11.lib | None = None  # type: ignore[name-defined]
        self._token: pkcs11.Token | None = None
        self._login_session: pkcs11.Session | None = None
        self._thread_sessions = threading.local()

    # -- connection -----------------------------------------------------------------------
    def _connect(self) -> None:
        """Load the module, find the token and log in; re-done in a forked child."""
        pid = os.getpid()
        if self._pid == pid and self._login_session is not None:
            return
        with self._lock:
            if self._pid == pid and self._login_session is not None:
                return
            lib = _library_for_this_process(self.config.module_path)
            self._thread_sessions = threading.local()
            try:
                token = lib.get_token(token_label=self.config.token_label)
            except pkcs11.PKCS11Error as exc:
                raise _translate(exc, f"token {self.config.token_label!r}") from None
            pin = self.config.pin_source.read()
            try:
                session = token.open(rw=True, user_pin=pin)
            except pkcs11.UserAlreadyLoggedIn:
                # Another Hsm object in this process logged in already; the login is shared.
                session = token.open(rw=True)
            except pkcs11.PKCS11Error as exc:
                raise _translate(exc, f"login to token {self.config.token_label!r}") from None
            finally:
                del pin
            self._lib, self._token, self._login_session, self._pid = lib, token, session, pid
            logger.info("HSM token %r opened by pid %d", self.config.token_label, pid)

    def session(self) -> pkcs11.Session:
        """Return this thread's session (opened on first use, kept for the process life)."""
        self._connect()
        session = getattr(self._thread_sessions, "session", None)
        if session is not None and getattr(self._thread_sessions, "pid", None) == self._pid:
            return session
        if threading.current_thread() is threading.main_thread():
            session = self._login_session
        else:
            assert self._token is not None
            try:
                session = self._token.open(rw=True)
            except pkcs11.PKCS11Error as exc:
                raise _translate(exc, "open session") from None
        self._thread_sessions.session = session
        self._thread_sessions.pid = self._pid
        return session  # type: ignore[return-value]

    def close(self) -> None:
        """Log out and close the login session (call at process end only)."""
        with self._lock:
            if self._login_session is not None and self._pid == os.getpid():
                try:
                    self._login_session.close()
                except pkcs11.PKCS11Error:
                    logger.warning("HSM logout failed", exc_info=True)
            self._login_session = None
            self._pid = None
            self._thread_sessions = threading.local()

    # -- keys -----------------------------------------------------------------------------
    def generate_key(
        self, key_id: bytes, label: str, algorithm: KeyAlgorithm = KeyAlgorithm.RSA_2048
    ) -> KeyInfo:
        """Generate a non-extractable key pair in the token under ``key_id``."""
        if not key_id:
            raise ValueError("key_id: must be a non-empty byte string")
        session = self.session()
        if self._find(session, ObjectClass.PRIVATE_KEY, key_id) is not None:
            raise KeyAlreadyExists(f"key_id {key_id.hex()}: a private key already exists")
        private_template = {
            Attribute.TOKEN: True,
            Attribute.PRIVATE: True,
            Attribute.SENSITIVE: True,
            Attribute.EXTRACTABLE: False,
            Attribute.SIGN: True,
            Attribute.DECRYPT: False,
            Attribute.UNWRAP: False,
            Attribute.ID: key_id,
            Attribute.LABEL: label,
        }
        public_template = {
            Attribute.TOKEN: True,
            Attribute.VERIFY: True,
            Attribute.ENCRYPT: False,
            Attribute.WRAP: False,
            Attribute.ID: key_id,
            Attribute.LABEL: label,
        }
        try:
            if algorithm is KeyAlgorithm.RSA_2048:
                public_template[Attribute.MODULUS_BITS] = 2048
                public_template[Attribute.PUBLIC_EXPONENT] = b"\x01\x00\x01"
                session.generate_keypair(
                    KeyType.RSA,
                    2048,
                    store=True,
                    public_template=public_template,
                    private_template=private_template,
                )
            else:
                parameters = session.create_domain_parameters(
                    KeyType.EC,
                    {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")},
                    local=True,
                )
                parameters.generate_keypair(
                    store=True,
                    public_template=public_template,
                    private_template=private_template,
                )
        except pkcs11.PKCS11Error as exc:
            raise _translate(exc, f"generate {algorithm} key {key_id.hex()}") from None
        logger.info("generated %s key %s (%s) in the token", algorithm, key_id.hex(), label)
        return KeyInfo(key_id=key_id, label=label, algorithm=algorithm, has_certificate=False)

    @staticmethod
    def _find(session: pkcs11.Session, object_class: ObjectClass, key_id: bytes):
        found = list(session.get_objects({Attribute.CLASS: object_class, Attribute.ID: key_id}))
        return found[0] if found else None

    def private_key(self, key_id: bytes, session: pkcs11.Session | None = None):
        """Return the private-key handle with ``key_id`` (raises :class:`KeyNotFound`).

        Handles found through this thread's own session are kept for the thread (a lookup
        costs a C_FindObjects round trip per signature otherwise).
        """
        if session is None:
            session = self.session()
            handles = getattr(self._thread_sessions, "key_handles", None)
            if handles is None:
                handles = self._thread_sessions.key_handles = {}
            key = handles.get(key_id)
            if key is None:
                key = handles[key_id] = self.private_key(key_id, session)
            return key
        try:
            key = self._find(session, ObjectClass.PRIVATE_KEY, key_id)
        except pkcs11.PKCS11Error as exc:
            raise _translate(exc, f"find key {key_id.hex()}") from None
        if key is None:
            raise KeyNotFound(f"key_id {key_id.hex()}: no private key on the token")
        return key

    def algorithm_of(self, key_id: bytes) -> KeyAlgorithm:
        key = self.private_key(key_id)
        return KeyAlgorithm.EC_P256 if key.key_type == KeyType.EC else KeyAlgorithm.RSA_2048

    def public_key_info(self, key_id: bytes) -> asn1_keys.PublicKeyInfo:
        """Return the SubjectPublicKeyInfo of ``key_id`` (for CSRs and certificates)."""
        session = self.session()
        public = self._find(session, ObjectClass.PUBLIC_KEY, key_id)
        if public is None:
            raise KeyNotFound(f"key_id {key_id.hex()}: no public key on the token")
        if public.key_type == KeyType.RSA:
            rsa_der = encode_rsa_public_key(public)
            return asn1_keys.PublicKeyInfo(
                {
                    "algorithm": {"algorithm": "rsa"},
                    "public_key": asn1_keys.RSAPublicKey.load(rsa_der),
                }
            )
        return asn1_keys.PublicKeyInfo.load(encode_ec_public_key(public))

    def sign(self, key_id: bytes, data: bytes) -> bytes:
        """Sign ``data``: RSA PKCS#1 v1.5 with SHA-256, or ECDSA (raw, over SHA-256 digest)."""
        key = self.private_key(key_id)
        try:
            return self._sign_with(key, data)
        except pkcs11.PKCS11Error:
            # The cached handle may be stale (key destroyed and re-created by another thread
            # or process): look it up once more before reporting the failure.
            getattr(self._thread_sessions, "key_handles", {}).pop(key_id, None)
            try:
                return self._sign_with(self.private_key(key_id), data)
            except pkcs11.PKCS11Error as exc:
                raise _translate(exc, f"sign with key {key_id.hex()}") from None

    @staticmethod
    def _sign_with(key, data: bytes) -> bytes:
        if key.key_type == KeyType.EC:
            return key.sign(hashlib.sha256(data).digest(), mechanism=Mechanism.ECDSA)
        return key.sign(data, mechanism=Mechanism.SHA256_RSA_PKCS)

    def import_certificate(self, key_id: bytes, certificate_der: bytes, label: str) -> None:
        """Store the X.509 certificate issued for ``key_id`` next to the key (same CKA_ID)."""
        from asn1crypto import x509 as asn1_x509

        certificate = asn1_x509.Certificate.load(certificate_der)
        session = self.session()
        self.private_key(key_id, session)
        expected = self.public_key_info(key_id).dump()
        if certificate.public_key.dump() != expected:
            raise ValueError(
                f"certificate for key_id {key_id.hex()}: public key does not match the token key"
            )
        existing = self._find(session, ObjectClass.CERTIFICATE, key_id)
        try:
            if existing is not None:
                existing.destroy()
            session.create_object(
                {
                    Attribute.CLASS: ObjectClass.CERTIFICATE,
                    Attribute.CERTIFICATE_TYPE: pkcs11.CertificateType.X_509,
                    Attribute.TOKEN: True,
                    Attribute.PRIVATE: False,
                    Attribute.ID: key_id,
                    Attribute.LABEL: label,
                    Attribute.SUBJECT: certificate.subject.dump(),
                    Attribute.ISSUER: certificate.issuer.dump(),
                    Attribute.SERIAL_NUMBER: certificate["tbs_certificate"]["serial_number"].dump(),
                    Attribute.VALUE: certificate_der,
                }
            )
        except pkcs11.PKCS11Error as exc:
            raise _translate(exc, f"import certificate for key {key_id.hex()}") from None

    def certificate_der(self, key_id: bytes) -> bytes:
        """Return the certificate stored under ``key_id`` (raises :class:`KeyNotFound`)."""
        found = self._find(self.session(), ObjectClass.CERTIFICATE, key_id)
        if found is None:
            raise KeyNotFound(f"key_id {key_id.hex()}: no certificate on the token")
        return bytes(found[Attribute.VALUE])

    def list_keys(self, id_prefix: bytes = b"") -> list[KeyInfo]:
        """List private keys (optionally those whose CKA_ID starts with ``id_prefix``)."""
        session = self.session()
        certificate_ids = {
            bytes(obj[Attribute.ID])
            for obj in session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE})
        }
        result = []
        for key in session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY}):
            key_id = bytes(key[Attribute.ID])
            if not key_id.startswith(id_prefix):
                continue
            is_ec = key.key_type == KeyType.EC
            algorithm = KeyAlgorithm.EC_P256 if is_ec else KeyAlgorithm.RSA_2048
            result.append(
                KeyInfo(
                    key_id=key_id,
                    label=key.label or "",
                    algorithm=algorithm,
                    has_certificate=key_id in certificate_ids,
                )
            )
        return sorted(result, key=lambda info: info.key_id)

    def delete_key(self, key_id: bytes) -> int:
        """Destroy every object with ``key_id``; return how many were destroyed."""
        session = self.session()
        getattr(self._thread_sessions, "key_handles", {}).pop(key_id, None)
        objects = list(session.get_objects({Attribute.ID: key_id}))
        for obj in objects:
            obj.destroy()
        return len(objects)


_process_hsm: Hsm | None = None
_process_hsm_lock = threading.Lock()


def process_hsm(config: HsmConfig | None = None) -> Hsm:
    """Return the process-wide :class:`Hsm` (one login per process), built from env if needed."""
    global _process_hsm
    with _process_hsm_lock:
        if _process_hsm is None:
            _process_hsm = Hsm(config or HsmConfig.from_env())
        elif config is not None and config != _process_hsm.config:
            raise HsmNotConfigured(
                "process HSM: already opened with another configuration "
                f"(token {_process_hsm.config.token_label!r})"
            )
        return _process_hsm
