"""Fixtures for the verification integration tests: the real SoftHSM token and dev PKI, the
real service on a real gRPC port over real PostgreSQL and Kafka. Never mocked.

Same approach as the signing tests (their conftest is not imported: it may change under us).
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.serialization import Encoding
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError
from lienthong.verification.v1 import verification_pb2_grpc

from services.certificates.devpki import DevPki, ensure_dev_pki
from services.chassis.container import ServiceContainer
from services.chassis.kafka import bootstrap
from services.chassis.migrations import upgrade
from services.signing.adapters.hsm import Hsm, process_hsm
from services.verification.adapters.truststore import TrustStore
from services.verification.service_layer.trust_anchors import TRUSTSTORE_TOPIC

REQUIRED_ENV = (
    "LT_PKCS11_MODULE",
    "SOFTHSM2_CONF",
    "LT_HSM_TOKEN_LABEL",
    "LT_HSM_USER_PIN",
    "LT_VAR_DIR",
)


@pytest.fixture(autouse=True)
def _quiet_pyhanko() -> None:
    for name in ("pyhanko", "pyhanko_certvalidator"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


@pytest.fixture(scope="session")
def hsm() -> Hsm:
    missing = [name for name in REQUIRED_ENV if not os.environ.get(name)]
    if missing:
        raise RuntimeError(
            "verification integration tests need the SoftHSM token: environment variables "
            f"{', '.join(missing)} are not set (run `make test`, or `. infra/local/env.sh test`)"
        )
    return process_hsm()


@pytest.fixture(scope="session")
def dev_pki(hsm: Hsm) -> DevPki:
    return ensure_dev_pki(hsm, Path(os.environ["LT_VAR_DIR"]))


@pytest.fixture(scope="session")
def dev_trust(dev_pki: DevPki) -> TrustStore:
    """The dev PKI directory as the CLI and the service read it (anchor, intermediate, CRLs)."""
    return TrustStore.from_directory(dev_pki.directory)


@pytest.fixture(scope="session")
def signing(hsm: Hsm, dev_pki: DevPki):  # type: ignore[no-untyped-def]
    from services.signing.service_layer.workflow import dev_signing

    return dev_signing(hsm, dev_pki)


@pytest.fixture(scope="session")
def sample_pdf() -> bytes:
    from services.certificates.devpki import DEV_PERSON
    from services.signing.adapters.sample_document import default_content, generate_sample

    return generate_sample(default_content(DEV_PERSON))[0]


def workflow(signing, data: bytes, person=None, organisation=None) -> bytes:  # type: ignore[no-untyped-def]
    """The platform's own workflow: person signs, clerk numbers, organisation seals (B-LTA)."""
    person_signed = signing.engine.sign_person(data, person or signing.person)
    numbered = signing.engine.fill_number_and_date(
        person_signed, number="123/STTTT-CNTT", place_and_date="Hà Giang, ngày 22 tháng 11 năm 2026"
    )
    return signing.engine.sign_organisation(numbered, organisation or signing.organisation)


def hsm_sign(  # type: ignore[no-untyped-def]
    hsm: Hsm,
    dev_pki: DevPki,
    signing,
    data: bytes,
    role: str,
    field_name: str,
    *,
    certify: bool = False,
) -> bytes:
    """Sign with a dev PKI key in the token, bypassing the workflow's own signer checks.

    The workflow rightly refuses revoked or expired signers; a verifier must still recognise
    such signatures when another system produced them, so the corpus makes them here (B-T).
    """
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.sign.pkcs11 import PKCS11Signer

    signer = dev_pki.signer(role)
    chain = [asn1_x509.Certificate.load(der) for der in dev_pki.chain_der]
    pkcs11_signer = PKCS11Signer(
        hsm.session(),
        key_id=signer.key_id,
        signing_cert=asn1_x509.Certificate.load(signer.certificate.public_bytes(Encoding.DER)),
        ca_chain=chain,
        other_certs_to_pull=(),
    )
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        certify=certify,
        docmdp_permissions=fields.MDPPerm.FILL_FORMS,
        subfilter=fields.SigSeedSubFilter.PADES,
    )
    out = io.BytesIO()
    signers.PdfSigner(meta, signer=pkcs11_signer, timestamper=signing.engine.timestamper).sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(data)), output=out
    )
    return out.getvalue()


@pytest.fixture(scope="session")
def truststore_topic(infra_env: dict[str, str]) -> str:
    """The service's topic must exist for its broadcast consumer (infra adds it for real)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap())
    try:
        admin.create_topics([NewTopic(TRUSTSTORE_TOPIC, 3, 1)], timeout_ms=20000)
    except TopicAlreadyExistsError:
        pass
    finally:
        admin.close()
    return TRUSTSTORE_TOPIC


@pytest.fixture(scope="session")
def verification_schema(engine: sa.Engine, infra_env: dict[str, str]) -> str:
    upgrade("verification")
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM verification.trust_anchors"))
        if infra_env.get("LT_PROFILE") == "test":
            conn.execute(sa.text("TRUNCATE verification.outbox, verification.inbox"))
    return "verification"


#: Agencies the corpus signs for: the dev PKI's and the generated PKI's.
REGISTERED_AGENCIES = {
    "000.00.12.H23": "Sở Thông tin và Truyền thông tỉnh Hà Giang",
    "000.00.12.H99": "Sở Thông tin và Truyền thông tỉnh Lạc Hồng",
}


@pytest.fixture(scope="session")
def registered_agencies(identifiers) -> dict[str, str]:  # type: ignore[no-untyped-def]
    from lienthong.identifiers.v1 import identifiers_pb2

    for code, name in REGISTERED_AGENCIES.items():
        identifiers.UpsertAgency(
            identifiers_pb2.UpsertAgencyRequest(
                agency=identifiers_pb2.Agency(code=code, name=name, kind="department")
            )
        )
    return REGISTERED_AGENCIES


@pytest.fixture(scope="session")
def verification_container(
    verification_schema: str,
    truststore_topic: str,
    dev_pki: DevPki,
    identifiers_container: ServiceContainer,
    registered_agencies: dict[str, str],
) -> Iterator[ServiceContainer]:
    from services.verification.entrypoints.grpc import VerificationService

    # The directory check asks the real identifiers service started for this session.
    previous = os.environ.get("LT_IDENTIFIERS_ADDR")
    os.environ["LT_IDENTIFIERS_ADDR"] = f"127.0.0.1:{identifiers_container.port}"
    container = ServiceContainer(VerificationService, address="127.0.0.1:0", run_relay=False)
    container.start()
    yield container
    container.stop(grace=1)
    if previous is None:
        os.environ.pop("LT_IDENTIFIERS_ADDR", None)
    else:
        os.environ["LT_IDENTIFIERS_ADDR"] = previous


@pytest.fixture(scope="session")
def verification(
    verification_container: ServiceContainer,
) -> Iterator[verification_pb2_grpc.VerificationStub]:
    channel = grpc.insecure_channel(
        f"127.0.0.1:{verification_container.port}",
        options=[("grpc.max_send_message_length", 64 * 1024 * 1024)],
    )
    yield verification_pb2_grpc.VerificationStub(channel)
    channel.close()


@pytest.fixture(scope="session")
def issue(signing):  # type: ignore[no-untyped-def]
    """``issue(data)`` runs the platform's workflow on ``data`` with the dev signers."""
    return lambda data: workflow(signing, data)


@pytest.fixture(scope="session")
def token_sign(hsm: Hsm, dev_pki: DevPki, signing):  # type: ignore[no-untyped-def]
    """``token_sign(data, role, field, certify=False)``: see :func:`hsm_sign`."""
    return lambda data, role, field_name, certify=False: hsm_sign(
        hsm, dev_pki, signing, data, role, field_name, certify=certify
    )
