"""Fixtures for the signing integration tests: a real SoftHSM token, never mocked.

The tests FAIL (they do not skip) when the token settings are missing: under ``make test`` the
Makefile exports them from ``infra/local/env.sh``; by hand, source that file first.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.certificates.devpki import DevPki, ensure_dev_pki
from services.signing.adapters.hsm import Hsm, process_hsm

REQUIRED_ENV = (
    "LT_PKCS11_MODULE",
    "SOFTHSM2_CONF",
    "LT_HSM_TOKEN_LABEL",
    "LT_HSM_USER_PIN",
    "LT_VAR_DIR",
)
TEST_KEY_PREFIX = b"lt-test-"


@pytest.fixture(scope="session")
def hsm() -> Hsm:
    missing = [name for name in REQUIRED_ENV if not os.environ.get(name)]
    if missing:
        raise RuntimeError(
            "signing integration tests need the SoftHSM token: environment variables "
            f"{', '.join(missing)} are not set (run `make test`, or `. infra/local/env.sh test`)"
        )
    return process_hsm()


@pytest.fixture(scope="session")
def dev_pki(hsm: Hsm) -> DevPki:
    return ensure_dev_pki(hsm, Path(os.environ["LT_VAR_DIR"]))


@pytest.fixture
def test_key_id(hsm: Hsm) -> Iterator[bytes]:
    """A fresh CKA_ID under the test prefix; every object under it is destroyed afterwards."""
    key_id = TEST_KEY_PREFIX + uuid.uuid4().hex[:12].encode()
    yield key_id
    hsm.delete_key(key_id)


@pytest.fixture(scope="session")
def signing(hsm: Hsm, dev_pki: DevPki):  # type: ignore[no-untyped-def]
    from services.signing.service_layer.workflow import dev_signing

    return dev_signing(hsm, dev_pki)


@pytest.fixture(scope="session")
def sample_pdf() -> bytes:
    from services.certificates.devpki import DEV_PERSON
    from services.signing.adapters.sample_document import default_content, generate_sample

    return generate_sample(default_content(DEV_PERSON))[0]


@pytest.fixture(scope="session")
def workflow_outputs(signing, sample_pdf: bytes) -> dict[str, bytes]:  # type: ignore[no-untyped-def]
    """The sample after each step: person-signed, numbered, organisation-sealed."""
    person = signing.engine.sign_person(sample_pdf, signing.person)
    numbered = signing.engine.fill_number_and_date(
        person, number="123/STTTT-CNTT", place_and_date="Hà Giang, ngày 22 tháng 11 năm 2026"
    )
    sealed = signing.engine.sign_organisation(numbered, signing.organisation)
    return {"person": person, "numbered": numbered, "sealed": sealed}


@pytest.fixture(scope="session")
def nss_store(dev_pki: DevPki):  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives.serialization import Encoding

    from services.signing.adapters.validation import NssTrustStore

    store = NssTrustStore([dev_pki.root.public_bytes(Encoding.DER)], dev_pki.crls_der)
    yield store
    store.close()
