"""The signing service through a real gRPC server, the real SoftHSM token and PostgreSQL.

Nothing is mocked: the servicer runs in a chassis ``ServiceContainer`` (and, in the last test,
as a ``lienthong serve signing`` process); documents are checked with pyHanko and poppler.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
import sqlalchemy as sa
from grpc_health.v1 import health_pb2, health_pb2_grpc
from kafka import KafkaConsumer
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError
from lienthong.signing.v1 import signing_pb2 as pb
from lienthong.signing.v1 import signing_pb2_grpc

from services.chassis.container import ServiceContainer
from services.chassis.kafka import bootstrap
from services.chassis.migrations import upgrade
from services.signing.adapters.validation import validate_with_pdfsig, validate_with_pyhanko
from services.signing.domain.errors import PersonSignatureMissing
from services.signing.service_layer.grpc_support import DOCUMENT_TOPIC, MAX_BYTES_ENV
from tests.integration.conftest import free_port

MAX_BYTES = 2 * 1024 * 1024
NUMBER = "45/STTTT-CNTT"
PLACE_AND_DATE = "Hà Giang, ngày 22 tháng 11 năm 2026"
CHUNK = 64 * 1024


@pytest.fixture(scope="module")
def container(infra_env, hsm, dev_pki) -> Iterator[ServiceContainer]:  # type: ignore[no-untyped-def]
    upgrade("signing")
    previous = os.environ.get(MAX_BYTES_ENV)
    os.environ[MAX_BYTES_ENV] = str(MAX_BYTES)
    from services.signing.entrypoints.grpc import SigningService

    container = ServiceContainer(SigningService, address="127.0.0.1:0", run_relay=False)
    try:
        container.start()
    finally:
        if previous is None:
            os.environ.pop(MAX_BYTES_ENV, None)
        else:
            os.environ[MAX_BYTES_ENV] = previous
    yield container
    container.stop(grace=1)


@pytest.fixture(scope="module")
def stub(container: ServiceContainer) -> Iterator[signing_pb2_grpc.SigningStub]:
    channel = grpc.insecure_channel(f"127.0.0.1:{container.port}")
    yield signing_pb2_grpc.SigningStub(channel)
    channel.close()


@pytest.fixture(scope="module")
def db(infra_env) -> Iterator[sa.Engine]:  # type: ignore[no-untyped-def]
    engine = sa.create_engine(infra_env["LT_DATABASE_URL"])
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def document_topic(infra_env) -> str:  # type: ignore[no-untyped-def]
    """The event topic must exist (auto-creation is off); infra/local/topics.txt should list it."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap())
    try:
        admin.create_topics([NewTopic(DOCUMENT_TOPIC, 6, 1)], timeout_ms=20000)
    except TopicAlreadyExistsError:
        pass
    finally:
        admin.close()
    return DOCUMENT_TOPIC


def _header(step: int, signer: bytes | None = None, **fields: object) -> pb.SignHeader:
    return pb.SignHeader(
        step=step,
        key_id_hex=signer.hex() if signer else "",
        requested_by=fields.pop("requested_by", "văn thư Lò Thị Mai"),
        **fields,
    )  # type: ignore[arg-type]


def _chunks(header: pb.SignHeader, data: bytes) -> Iterator[pb.SignChunk]:
    yield pb.SignChunk(header=header)
    for start in range(0, len(data), CHUNK):
        yield pb.SignChunk(data=data[start : start + CHUNK])


def _sign(stub, header: pb.SignHeader, data: bytes) -> tuple[bytes, pb.AuditRecord]:  # type: ignore[no-untyped-def]
    audit = None
    parts = []
    for message in stub.SignDocument(_chunks(header, data), timeout=60):
        if message.WhichOneof("part") == "audit":
            audit = message.audit
        else:
            parts.append(message.data)
    assert audit is not None
    return b"".join(parts), audit


def _refusal(stub, header: pb.SignHeader, data: bytes) -> grpc.RpcError:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as caught:
        _sign(stub, header, data)
    return caught.value


def _field(error: grpc.RpcError) -> str | None:
    return dict(error.trailing_metadata() or ()).get("lt-error-field")


def _audit_sequence(error: grpc.RpcError) -> int:
    details = error.details()
    assert "(audit record " in details, details
    return int(details.rsplit("(audit record ", 1)[1].rstrip(")"))


def test_person_number_organisation_over_grpc_validates(
    stub, signing, sample_pdf, nss_store, db
) -> None:  # type: ignore[no-untyped-def]
    person, after_person = _sign(stub, _header(pb.PERSON, signing.person.key_id), sample_pdf)
    numbered, after_number = _sign(
        stub, _header(pb.NUMBER_AND_DATE, number=NUMBER, place_and_date=PLACE_AND_DATE), person
    )
    sealed, after_seal = _sign(
        stub, _header(pb.ORGANISATION, signing.organisation.key_id), numbered
    )

    assert after_person.outcome == after_number.outcome == after_seal.outcome == "signed"
    assert after_person.key_id == signing.person.key_id.hex()
    assert after_number.document_sha256_before == after_person.document_sha256_after
    assert after_seal.sequence > after_number.sequence > after_person.sequence
    assert after_seal.at.endswith("+07:00")

    reports = validate_with_pyhanko(sealed, signing.trust)
    assert len(reports) == 3 and all(report.ok for report in reports)
    signatures = validate_with_pdfsig(sealed, nss_store)
    signed_by_key = [s for s in signatures if s.signer]
    assert len(signed_by_key) >= 2
    for signature in signed_by_key[:2]:
        assert signature.signature_valid and signature.certificate_trusted, signature.raw

    # The event of the seal is in the outbox, written with its audit record.
    with db.connect() as connection:
        row = connection.execute(
            sa.text("SELECT topic, type, payload FROM signing.outbox WHERE key = :key"),
            {"key": after_seal.document_sha256_after},
        ).one()
    assert row.topic == DOCUMENT_TOPIC
    event = pb.DocumentSigned.FromString(row.payload)
    assert event.audit_sequence == after_seal.sequence
    assert event.operation == "sign_organisation"
    assert event.document_sha256_before == after_seal.document_sha256_before

    fetched = stub.GetAuditRecord(
        pb.GetAuditRecordRequest(sequence=after_seal.sequence), timeout=10
    )
    assert fetched == after_seal
    assert stub.VerifyAuditChain(pb.VerifyAuditChainRequest(), timeout=60).records >= (
        after_seal.sequence
    )


def test_not_a_pdf_is_invalid_argument_and_audited(stub, signing) -> None:  # type: ignore[no-untyped-def]
    marker = f"kiểm thử {uuid.uuid4().hex[:8]}"
    error = _refusal(
        stub,
        _header(pb.PERSON, signing.person.key_id, requested_by=marker),
        b"Hello, this is a Word file\n" * 100,
    )
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "NotAPdf" in error.details()
    assert _field(error) == "document"
    record = stub.GetAuditRecord(
        pb.GetAuditRecordRequest(sequence=_audit_sequence(error)), timeout=10
    )
    assert record.outcome == "refused" and record.requested_by == marker
    assert record.detail.startswith("NotAPdf")


def test_over_the_limit_is_refused_while_the_client_is_still_sending(
    stub, signing, sample_pdf
) -> None:  # type: ignore[no-untyped-def]
    release = threading.Event()
    sent_everything = threading.Event()

    def requests() -> Iterator[pb.SignChunk]:
        yield pb.SignChunk(header=_header(pb.PERSON, signing.person.key_id))
        sent = 0
        while sent <= MAX_BYTES:
            yield pb.SignChunk(data=(sample_pdf * 40)[:CHUNK])
            sent += CHUNK
        # A server that buffered until the end would wait here for the rest of the upload.
        release.wait(timeout=30)
        sent_everything.set()

    try:
        with pytest.raises(grpc.RpcError) as caught:
            list(stub.SignDocument(requests(), timeout=60))
        assert not sent_everything.is_set()
    finally:
        release.set()
    error = caught.value
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert _field(error) == "document"
    assert f"more than {MAX_BYTES} bytes" in error.details()
    record = stub.GetAuditRecord(
        pb.GetAuditRecordRequest(sequence=_audit_sequence(error)), timeout=10
    )
    assert record.outcome == "refused" and record.operation == "sign_person"


def test_organisation_before_person_is_failed_precondition(stub, signing, sample_pdf) -> None:  # type: ignore[no-untyped-def]
    error = _refusal(stub, _header(pb.ORGANISATION, signing.organisation.key_id), sample_pdf)
    assert error.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert PersonSignatureMissing.__name__ in error.details()
    assert _field(error) == "document"
    record = stub.GetAuditRecord(
        pb.GetAuditRecordRequest(sequence=_audit_sequence(error)), timeout=10
    )
    assert record.outcome == "refused" and record.operation == "sign_organisation"


def test_unknown_key_is_not_found_naming_the_key(stub, sample_pdf) -> None:  # type: ignore[no-untyped-def]
    missing = b"lt-test-no-such-" + uuid.uuid4().hex[:8].encode()
    error = _refusal(stub, _header(pb.PERSON, missing), sample_pdf)
    assert error.code() is grpc.StatusCode.NOT_FOUND
    assert _field(error) == "header.key_id_hex"
    record = stub.GetAuditRecord(
        pb.GetAuditRecordRequest(sequence=_audit_sequence(error)), timeout=10
    )
    assert record.outcome == "refused" and record.key_id == missing.hex()


def test_header_checks_name_the_field(stub, signing, sample_pdf) -> None:  # type: ignore[no-untyped-def]
    error = _refusal(stub, _header(pb.NUMBER_AND_DATE, number=NUMBER), sample_pdf)
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert _field(error) == "header.place_and_date"
    error = _refusal(
        stub, _header(pb.COPY, signing.organisation.key_id, copying_agency="UBND tỉnh"), sample_pdf
    )
    assert _field(error) == "header.copy_form"
    with pytest.raises(grpc.RpcError) as caught:
        list(stub.SignDocument(iter([pb.SignChunk(data=sample_pdf)]), timeout=10))
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert _field(caught.value) == "header"


def test_batch_streams_every_result_including_refusals(stub, signing, sample_pdf) -> None:  # type: ignore[no-untyped-def]
    items = [pb.BatchItem(id=f"vb-{i}", document=sample_pdf) for i in range(5)]
    items.insert(2, pb.BatchItem(id="not-a-pdf", document=b"GIF89a not a pdf"))
    results = list(
        stub.SignBatch(
            pb.BatchRequest(
                header=_header(pb.PERSON, signing.person.key_id), items=items, concurrency=3
            ),
            timeout=120,
        )
    )
    assert sorted(r.id for r in results) == sorted(item.id for item in items)
    by_id = {r.id: r for r in results}
    refused = by_id.pop("not-a-pdf")
    assert refused.error_code == "INVALID_ARGUMENT" and refused.index == 2
    assert refused.error_field == "items[].document" and not refused.document
    for result in by_id.values():
        assert not result.error_code, result.error
        assert result.audit.outcome == "signed"
        assert result.audit.document_sha256_after
        (report,) = validate_with_pyhanko(result.document, signing.trust)
        assert report.ok
    assert len({r.audit.sequence for r in by_id.values()}) == 5


def test_list_keys_shows_the_dev_signers(stub, signing) -> None:  # type: ignore[no-untyped-def]
    reply = stub.ListKeys(pb.ListKeysRequest(key_id_prefix_hex=b"lt-dev-".hex()), timeout=30)
    by_id = {key.key_id_hex: key for key in reply.keys}
    person = by_id[signing.person.key_id.hex()]
    assert person.has_certificate and person.title and person.not_after.endswith("+07:00")
    assert by_id[signing.organisation.key_id.hex()].agency_code == "000.00.12.H23"
    with pytest.raises(grpc.RpcError) as caught:
        stub.ListKeys(pb.ListKeysRequest(key_id_prefix_hex="zz"), timeout=10)
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT


def test_served_processes_sign_publish_the_event_and_stop_on_sigterm(
    infra_env, document_topic, signing, sample_pdf, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """`lienthong serve signing` with 2 forked workers: each logs in to the token after the
    fork, the relay ships the document event to Kafka, SIGTERM ends both with exit 0."""
    upgrade("signing")
    port = free_port()
    log = tmp_path / "signing.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "services.chassis.cli", "serve", "signing"],
        env={**os.environ, "LT_SIGNING_PORT": str(port), "LT_PROCESSES": "2"},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        health = health_pb2_grpc.HealthStub(channel)
        deadline = time.monotonic() + 90
        serving = False
        while time.monotonic() < deadline and not serving:
            assert process.poll() is None, log.read_text()
            try:
                serving = (
                    health.Check(
                        health_pb2.HealthCheckRequest(service="lienthong.signing.v1.Signing"),
                        timeout=1,
                    ).status
                    == 1
                )
            except grpc.RpcError:
                time.sleep(0.2)
        assert serving, log.read_text()
        children = subprocess.run(
            ["pgrep", "-P", str(process.pid)], capture_output=True, text=True, check=False
        ).stdout.split()
        assert len(children) == 2
        consumer = KafkaConsumer(
            DOCUMENT_TOPIC, bootstrap_servers=bootstrap(), auto_offset_reset="latest"
        )
        consumer.poll(timeout_ms=2000)  # join and take the current end as the start
        stub = signing_pb2_grpc.SigningStub(channel)
        _, audit = _sign(stub, _header(pb.PERSON, signing.person.key_id), sample_pdf)
        found = None
        deadline = time.monotonic() + 60
        while found is None and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                key = audit.document_sha256_after.encode()
                found = next((r for r in records if r.key == key), found)
        consumer.close()
        assert found is not None, "the document event never reached Kafka"
        headers = {k: v.decode() for k, v in found.headers}
        assert headers["ce_type"] == "vn.lienthong.signing.document.signed"
        event = pb.DocumentSigned.FromString(found.value)
        assert event.audit_sequence == audit.sequence and event.signed_at.endswith("+07:00")
        channel.close()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    assert process.returncode == 0, log.read_text()
    for pid in children:
        assert not Path(f"/proc/{pid}").exists()
