"""Roles and key agency for end users (``lt-caller``) over real gRPC, SoftHSM and PostgreSQL.

PERSON needs the role signer, the other steps clerk; the key's certificate names the caller's
agency; province admins and calls without ``lt-caller`` pass. Every refusal is in the audit log.
"""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from lienthong.signing.v1 import signing_pb2 as pb
from lienthong.signing.v1 import signing_pb2_grpc

from services.certificates.devpki import OTHER_AGENCY_PERSON_ROLE
from services.chassis.caller import CALLER_HEADER, Caller, encode_caller
from services.chassis.container import ServiceContainer
from services.chassis.migrations import upgrade
from tests.integration.signing.test_signing_grpc import (
    NUMBER,
    PLACE_AND_DATE,
    _audit_sequence,
    _chunks,
    _field,
    _header,
)

DEV_AGENCY_CODE = "000.00.12.H23"  # the agency of the dev PKI's person and organisation keys
OTHER_CODE = "000.00.99.H99"


@pytest.fixture(scope="module")
def client(infra_env, hsm, dev_pki) -> Iterator[signing_pb2_grpc.SigningStub]:  # type: ignore[no-untyped-def]
    """The real signing service on a real port, as the gateway reaches it."""
    upgrade("signing")
    from services.signing.entrypoints.grpc import SigningService

    container = ServiceContainer(SigningService, address="127.0.0.1:0", run_relay=False)
    container.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{container.port}")
    yield signing_pb2_grpc.SigningStub(channel)
    channel.close()
    container.stop(grace=1)


def as_user(agency_code: str, *roles: str, username: str = "nguoi.ky") -> tuple:
    token = encode_caller(Caller(username, agency_code, frozenset(roles)))
    return ((CALLER_HEADER, token),)


def sign(client, header: pb.SignHeader, data: bytes, metadata) -> tuple[bytes, pb.AuditRecord]:  # type: ignore[no-untyped-def]
    audit, parts = None, []
    for message in client.SignDocument(_chunks(header, data), metadata=metadata, timeout=60):
        if message.WhichOneof("part") == "audit":
            audit = message.audit
        else:
            parts.append(message.data)
    assert audit is not None
    return b"".join(parts), audit


def refused(client, header: pb.SignHeader, data: bytes, metadata) -> grpc.RpcError:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as caught:
        sign(client, header, data, metadata)
    return caught.value


def _audited_refusal(client, error: grpc.RpcError, username: str) -> pb.AuditRecord:  # type: ignore[no-untyped-def]
    record = client.GetAuditRecord(pb.GetAuditRecordRequest(sequence=_audit_sequence(error)))
    assert record.outcome == "refused"
    assert "PermissionDenied" in record.detail and username in record.detail, record.detail
    return record


def test_each_step_needs_its_role(client, signing, sample_pdf) -> None:  # type: ignore[no-untyped-def]
    clerk = as_user(DEV_AGENCY_CODE, "clerk", "officer", username="van.thu")
    error = refused(client, _header(pb.PERSON, signing.person.key_id), sample_pdf, clerk)
    assert error.code() is grpc.StatusCode.PERMISSION_DENIED and _field(error) == "caller"
    assert "signer" in error.details()
    record = _audited_refusal(client, error, "van.thu")
    assert record.operation == "sign_person" and record.key_id == signing.person.key_id.hex()

    signer = as_user(DEV_AGENCY_CODE, "signer", username="giam.doc")
    person, audit = sign(client, _header(pb.PERSON, signing.person.key_id), sample_pdf, signer)
    assert audit.outcome == "signed"
    number = _header(pb.NUMBER_AND_DATE, number=NUMBER, place_and_date=PLACE_AND_DATE)
    seal = _header(pb.ORGANISATION, signing.organisation.key_id)
    for header in (number, seal):
        error = refused(client, header, person, signer)
        assert error.code() is grpc.StatusCode.PERMISSION_DENIED and _field(error) == "caller"
        assert "clerk" in error.details()
        _audited_refusal(client, error, "giam.doc")
    numbered, audit = sign(client, number, person, clerk)
    assert audit.outcome == "signed"
    _, audit = sign(client, seal, numbered, clerk)
    assert audit.outcome == "signed"


def test_the_key_must_be_certified_for_the_callers_agency(  # type: ignore[no-untyped-def]
    client, signing, dev_pki, sample_pdf
) -> None:
    stranger = as_user(OTHER_CODE, "signer", "clerk", username="nguoi.la")
    for header in (
        _header(pb.PERSON, signing.person.key_id),
        _header(pb.ORGANISATION, signing.organisation.key_id),
    ):
        error = refused(client, header, sample_pdf, stranger)
        assert error.code() is grpc.StatusCode.PERMISSION_DENIED
        assert _field(error) == "header.key_id_hex"
        assert header.key_id_hex in error.details() and DEV_AGENCY_CODE in error.details()
        _audited_refusal(client, error, "nguoi.la")
    # The other way round: the dev agency's signer with a key of another agency.
    foreign_key = dev_pki.signer(OTHER_AGENCY_PERSON_ROLE).key_id
    error = refused(
        client, _header(pb.PERSON, foreign_key), sample_pdf, as_user(DEV_AGENCY_CODE, "signer")
    )
    assert (error.code(), _field(error)) == (
        grpc.StatusCode.PERMISSION_DENIED, "header.key_id_hex",
    )  # fmt: skip


def test_a_batch_is_refused_as_a_whole_before_any_item(client, signing, sample_pdf) -> None:  # type: ignore[no-untyped-def]
    items = [pb.BatchItem(id=f"vb-{i}", document=sample_pdf) for i in range(3)]
    request = pb.BatchRequest(header=_header(pb.PERSON, signing.person.key_id), items=items)
    with pytest.raises(grpc.RpcError) as caught:
        list(client.SignBatch(request, metadata=as_user(OTHER_CODE, "signer"), timeout=60))
    assert caught.value.code() is grpc.StatusCode.PERMISSION_DENIED
    assert _field(caught.value) == "header.key_id_hex"
    results = list(
        client.SignBatch(request, metadata=as_user(DEV_AGENCY_CODE, "signer"), timeout=120)
    )
    assert sorted(r.id for r in results) == ["vb-0", "vb-1", "vb-2"]
    assert all(r.audit.outcome == "signed" for r in results)


def test_a_province_admin_and_the_platform_pass(client, signing, sample_pdf) -> None:  # type: ignore[no-untyped-def]
    admin = as_user(OTHER_CODE, "province_admin", username="so.noi.vu")
    _, audit = sign(client, _header(pb.PERSON, signing.person.key_id), sample_pdf, admin)
    assert audit.outcome == "signed"
    _, audit = sign(client, _header(pb.PERSON, signing.person.key_id), sample_pdf, None)
    assert audit.outcome == "signed"
