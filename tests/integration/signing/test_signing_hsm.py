"""The PKCS#11 adapter against the real SoftHSM token (through p11-kit-proxy)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pkcs11
import pytest
from asn1crypto import keys as asn1_keys
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, utils
from cryptography.hazmat.primitives.serialization import load_der_public_key
from pkcs11 import Attribute

from services.signing.adapters.hsm import (
    Hsm,
    HsmConfig,
    KeyAlgorithm,
    KeyAlreadyExists,
    KeyNotFound,
    TokenNotFound,
)

pytestmark = pytest.mark.integration


def test_rsa_key_signs_and_verifies_with_its_public_key(hsm: Hsm, test_key_id: bytes) -> None:
    hsm.generate_key(test_key_id, "test rsa", KeyAlgorithm.RSA_2048)
    info = hsm.public_key_info(test_key_id)
    assert info.bit_size == 2048
    signature = hsm.sign(test_key_id, b"van ban")
    public = load_der_public_key(info.dump())
    public.verify(signature, b"van ban", padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr,call-arg]


def test_ec_key_signs_raw_ecdsa(hsm: Hsm, test_key_id: bytes) -> None:
    hsm.generate_key(test_key_id, "test ec", KeyAlgorithm.EC_P256)
    assert hsm.algorithm_of(test_key_id) is KeyAlgorithm.EC_P256
    raw = hsm.sign(test_key_id, b"van ban")
    assert len(raw) == 64  # r || s, as SoftHSM's CKM_ECDSA returns it
    der = utils.encode_dss_signature(int.from_bytes(raw[:32]), int.from_bytes(raw[32:]))
    public = load_der_public_key(hsm.public_key_info(test_key_id).dump())
    assert isinstance(public, ec.EllipticCurvePublicKey)
    public.verify(der, b"van ban", ec.ECDSA(hashes.SHA256()))


def test_private_key_cannot_be_exported(hsm: Hsm, test_key_id: bytes) -> None:
    hsm.generate_key(test_key_id, "test export", KeyAlgorithm.RSA_2048)
    key = hsm.private_key(test_key_id)
    assert key[Attribute.SENSITIVE] is True
    assert key[Attribute.EXTRACTABLE] is False
    with pytest.raises(pkcs11.AttributeSensitive):
        key[Attribute.PRIVATE_EXPONENT]
    # Wrapping it out under a session AES key is refused as well.
    wrapping = hsm.session().generate_key(
        pkcs11.KeyType.AES, 256, template={Attribute.WRAP: True, Attribute.TOKEN: False}
    )
    with pytest.raises(pkcs11.PKCS11Error):
        wrapping.wrap_key(key, mechanism=pkcs11.Mechanism.AES_KEY_WRAP_PAD)


def test_duplicate_key_id_is_refused(hsm: Hsm, test_key_id: bytes) -> None:
    hsm.generate_key(test_key_id, "first")
    with pytest.raises(KeyAlreadyExists, match=test_key_id.hex()):
        hsm.generate_key(test_key_id, "second")


def test_missing_key_raises_key_not_found(hsm: Hsm, test_key_id: bytes) -> None:
    with pytest.raises(KeyNotFound, match=test_key_id.hex()):
        hsm.sign(test_key_id, b"x")


def test_list_keys_selects_by_id_prefix(hsm: Hsm, test_key_id: bytes) -> None:
    hsm.generate_key(test_key_id, "listed")
    listed = hsm.list_keys(test_key_id)
    assert [info.key_id for info in listed] == [test_key_id]
    assert listed[0].has_certificate is False


def test_wrong_pin_is_reported_without_the_pin(hsm: Hsm) -> None:
    # Login is per process and this one is logged in already: try the wrong PIN in a new one.
    probe = (
        "from services.signing.adapters.hsm import Hsm, HsmConfig, WrongPin\n"
        "try:\n"
        "    Hsm(HsmConfig.from_env()).session()\n"
        "except WrongPin as exc:\n"
        "    print('WrongPin:', exc)\n"
    )
    env = dict(os.environ, LT_HSM_USER_PIN="000000-wrong")
    env.pop("LT_HSM_USER_PIN_FILE", None)
    result = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.startswith("WrongPin:"), result.stdout + result.stderr
    assert "000000-wrong" not in result.stdout + result.stderr


def test_unknown_token_label(hsm: Hsm) -> None:
    config = HsmConfig(hsm.config.module_path, "no-such-token-label", hsm.config.pin_source)
    with pytest.raises(TokenNotFound, match="no-such-token-label"):
        Hsm(config).session()


def test_threads_sign_concurrently_with_their_own_sessions(hsm: Hsm, test_key_id: bytes) -> None:
    hsm.generate_key(test_key_id, "threads")
    public = load_der_public_key(hsm.public_key_info(test_key_id).dump())
    sessions: set[int] = set()
    lock = threading.Lock()

    def sign(index: int) -> None:
        data = f"tai lieu {index}".encode()
        signature = hsm.sign(test_key_id, data)
        with lock:
            sessions.add(id(hsm.session()))
        public.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr,call-arg]

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(sign, range(200)))
    assert len(sessions) >= 2


def test_forked_child_opens_its_own_session_and_signs(hsm: Hsm, test_key_id: bytes) -> None:
    hsm.generate_key(test_key_id, "fork")
    hsm.sign(test_key_id, b"parent before fork")
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            hsm.sign(test_key_id, b"child")
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    # The parent's login survived the child's re-initialisation and exit.
    assert len(hsm.sign(test_key_id, b"parent after fork")) == 256


def test_certificate_import_requires_matching_key(hsm: Hsm, dev_pki, test_key_id: bytes) -> None:  # type: ignore[no-untyped-def]
    hsm.generate_key(test_key_id, "cert")
    other = dev_pki.signer("person").certificate_der
    with pytest.raises(ValueError, match="does not match"):
        hsm.import_certificate(test_key_id, other, "mismatch")
    assert asn1_keys.PublicKeyInfo.load(hsm.public_key_info(test_key_id).dump())
