"""SendDocument's package: an issued registry record mapped to edXML, signed by its agency key.

The registry is a fake RecordSource holding real registry.v1 messages; the directory is a dict;
the agency's key ring is the real AgencyKeyRing over an in-memory token of software keys.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass, field

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID, ObjectIdentifier
from lienthong.distribution.v1 import distribution_pb2 as pb
from lienthong.registry.v1 import registry_pb2 as rpb

from services.chassis.errors import FailedPrecondition, InvalidArgument, NotFound
from services.distribution.adapters.agency_keys import AgencyKeyRing, NoAgencyKey
from services.distribution.domain.routing import ReceiverInfo
from services.distribution.edxml import dsig
from services.distribution.edxml.codes import BussinessDocType, Priority
from services.distribution.edxml.model import DocumentPackage
from services.distribution.edxml.parse import parse
from services.distribution.service_layer.ports import RecordFile
from services.distribution.service_layer.use_cases import document_package

SENDER = "000.00.12.H56"
RECEIVERS = {"000.00.01.H56": "Sở Tài chính", "000.00.02.H56": "Sở Nội vụ"}
RECORD_ID = "5b0f7a52-9a55-4c1e-9f0b-3b5c2b0d7e11"
PDF = b"%PDF-1.7\n% sealed\n" + bytes(range(256)) * 8
ANNEX = b"Phu luc\n" * 100
ORGANIZATION_IDENTIFIER = ObjectIdentifier("2.5.4.97")


# -- an in-memory token --------------------------------------------------------------------------
@dataclass(frozen=True)
class _KeyInfo:
    key_id: bytes
    has_certificate: bool


@dataclass
class SoftToken:
    keys: dict[bytes, tuple[rsa.RSAPrivateKey, bytes | None]] = field(default_factory=dict)
    reads: int = 0

    def add(self, key_id: bytes, agency: str, *, title: str | None = None, days: int = 30) -> None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        attributes = [
            x509.NameAttribute(NameOID.COMMON_NAME, f"Cơ quan {agency}"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, agency),
            x509.NameAttribute(ORGANIZATION_IDENTIFIER, agency),
        ]
        if title:
            attributes.append(x509.NameAttribute(NameOID.TITLE, title))
        name = x509.Name(attributes)
        now = datetime.datetime.now(datetime.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=2))
            .not_valid_after(now + datetime.timedelta(days=days))
            .sign(key, hashes.SHA256())
        )
        self.keys[key_id] = (key, certificate.public_bytes(serialization.Encoding.DER))

    def list_keys(self, id_prefix: bytes = b"") -> list[_KeyInfo]:
        self.reads += 1
        return [_KeyInfo(k, der is not None) for k, (_, der) in sorted(self.keys.items())]

    def certificate_der(self, key_id: bytes) -> bytes:
        der = self.keys[key_id][1]
        assert der is not None
        return der

    def sign(self, key_id: bytes, data: bytes) -> bytes:
        return self.keys[key_id][0].sign(data, padding.PKCS1v15(), hashes.SHA256())


# -- fakes of the registry and the directory ------------------------------------------------------
class FakeRegistry:
    def __init__(self, record: rpb.Document, files: dict[str, bytes]) -> None:
        self.stored = record
        self.files = files  # sha256 → bytes

    def record(self, registry_id: str) -> rpb.Document:
        if registry_id != self.stored.id:
            raise NotFound("no such record in the registry", field="registry_id")
        return self.stored

    def file(self, registry_id: str, *, kind: str = "", sha256: str = "") -> RecordFile:
        if sha256:
            return RecordFile("", "application/octet-stream", sha256, self.files[sha256])
        version = next(v for v in reversed(self.stored.files) if not kind or v.kind == kind)
        return RecordFile(
            version.file_name,
            version.media_type,
            version.sha256,
            self.files[version.sha256],
            kind=version.kind,
        )


class FakeDirectory:
    def __init__(self) -> None:
        self.names = {SENDER: "Sở Thông tin và Truyền thông", **RECEIVERS}

    def receiver(self, code: str) -> ReceiverInfo:
        if code not in self.names:
            raise NotFound("no such agency", field="code")
        return ReceiverInfo(code, True, False, self.names[code])

    def resolve_group(self, root_code, kinds, recursive):  # type: ignore[no-untyped-def]
        return []


def issued_record(**changes: object) -> rpb.Document:
    pdf_sha = hashlib.sha256(PDF).hexdigest()
    record = rpb.Document(
        id=RECORD_ID,
        direction=rpb.DIRECTION_OUTGOING,
        agency_code=SENDER,
        document_id=f"{SENDER},2026/11/20,15/QĐ-STTTT",
        number_and_symbol="15/QĐ-STTTT",
        document_date="2026-11-20",
        document_type="quyet_dinh",
        subject="Về việc ban hành quy chế liên thông văn bản điện tử",
        status=rpb.STATUS_ISSUED,
        signer=rpb.Signer(
            title="Phó Giám đốc",
            full_name="Trần Văn Đức",
            authority="KT.",
            on_behalf_of="GIÁM ĐỐC",
        ),
        urgency=rpb.URGENCY_VERY_URGENT,
        due_date="2026-12-01",
        page_count=3,
        number_of_copies=5,
        extra={"place": "Long An"},
        attachments=[
            rpb.Attachment(
                file_name="phu-luc.txt",
                media_type="text/plain",
                size_bytes=len(ANNEX),
                sha256=hashlib.sha256(ANNEX).hexdigest(),
            )
        ],
        files=[
            rpb.FileVersion(kind="original", sha256="0" * 64, file_name="du-thao.pdf"),
            rpb.FileVersion(
                kind="sealed",
                sha256=pdf_sha,
                size_bytes=len(PDF),
                media_type="application/pdf",
                file_name="15-QD-STTTT.pdf",
            ),
        ],
    )
    for name, value in changes.items():
        if name == "files":
            del record.files[:]
            record.files.extend(value)  # type: ignore[arg-type]
        elif name == "corrects":
            record.corrects.CopyFrom(value)  # type: ignore[arg-type]
        else:
            setattr(record, name, value)
    return record


@pytest.fixture(scope="module")
def token() -> SoftToken:
    token = SoftToken()
    token.add(b"\x01\x01", SENDER)
    token.add(b"\x01\x02", SENDER, title="Giám đốc")  # a person's key: never the agency's
    token.add(b"\x02\x01", "000.00.01.H56")
    return token


def build_for(
    record: rpb.Document, token: SoftToken, supersedes_document_id: str = "", **request: object
) -> bytes:
    files = {hashlib.sha256(PDF).hexdigest(): PDF, hashlib.sha256(ANNEX).hexdigest(): ANNEX}
    return document_package(
        FakeRegistry(record, files),
        FakeDirectory(),
        AgencyKeyRing(token),
        pb.SendDocumentRequest(registry_id=RECORD_ID, receivers=list(RECEIVERS), **request),  # type: ignore[arg-type]
        type_names={"quyet_dinh": "Quyết định"},
        supersedes_document_id=supersedes_document_id,
    )


def test_the_record_maps_to_the_message_header(token: SoftToken) -> None:
    package = parse(build_for(issued_record(), token)).package
    assert isinstance(package, DocumentPackage)
    header = package.header
    assert header.from_.organ_id == SENDER
    assert header.from_.organ_name == "Sở Thông tin và Truyền thông"
    assert [o.organ_id for o in header.to] == list(RECEIVERS)
    assert header.to_places == tuple(RECEIVERS.values())
    assert header.document_id == f"{SENDER},2026/11/20,15/QĐ-STTTT"
    assert header.code is not None
    assert (header.code.code_number, header.code.code_notation) == ("15", "QĐ-STTTT")
    assert header.promulgation_info is not None
    assert header.promulgation_info.place == "Long An"
    assert header.promulgation_info.promulgation_date == datetime.date(2026, 11, 20)
    assert header.document_type is not None and header.document_type.type_name == "Quyết định"
    assert header.subject == "Về việc ban hành quy chế liên thông văn bản điện tử"
    assert header.signer_info is not None
    assert header.signer_info.competence == "KT. GIÁM ĐỐC"
    assert header.signer_info.full_name == "Trần Văn Đức"
    assert header.due_date == datetime.date(2026, 12, 1)
    assert header.other_info is not None
    assert header.other_info.priority is Priority.VERY_URGENT  # thượng khẩn = 2
    assert header.other_info.page_amount == 3
    assert package.trace_header_list is not None
    assert package.trace_header_list.bussiness is not None
    assert package.trace_header_list.bussiness.bussiness_doc_type is BussinessDocType.NEW


def test_the_sealed_pdf_and_the_attachments_travel_and_the_agency_key_signs(
    token: SoftToken,
) -> None:
    content = build_for(issued_record(), token)
    package = parse(content).package
    assert isinstance(package, DocumentPackage)
    assert [(a.name, a.data) for a in package.attachments] == [
        ("15-QD-STTTT.pdf", PDF),
        ("phu-luc.txt", ANNEX),
    ]
    assert [m.content_id for m in package.manifest] == ["cid:1", "cid:2"]
    result = dsig.verify(content)
    assert result.valid
    agency_certificate = token.certificate_der(b"\x01\x01")
    assert result.certificate_der == agency_certificate


def test_the_same_request_builds_the_same_bytes(token: SoftToken) -> None:
    """A retried SendDocument resends the very same package: deliveries_once then holds."""
    record = issued_record()
    record.files[-1].created_at = "2026-11-20T15:04:05+07:00"
    first, again = build_for(record, token), build_for(record, token)
    assert first == again
    package = parse(first).package
    assert isinstance(package, DocumentPackage) and package.trace_header_list is not None
    stamp = package.trace_header_list.trace_headers[0].timestamp
    assert stamp is not None and stamp.isoformat() == "2026-11-20T15:04:05+07:00"


@pytest.mark.parametrize(
    ("urgency", "requested", "expected"),
    [
        (rpb.URGENCY_UNSPECIFIED, 0, Priority.NORMAL),
        (rpb.URGENCY_NORMAL, 0, Priority.NORMAL),
        (rpb.URGENCY_URGENT, 0, Priority.URGENT),
        (rpb.URGENCY_EXPRESS, 0, Priority.EXPRESS),
        (rpb.URGENCY_EXPRESS_TIMED, 0, Priority.EXPRESS_SCHEDULED),
        (rpb.URGENCY_NORMAL, 3, Priority.EXPRESS),
    ],
)
def test_priority_comes_from_the_urgency_unless_requested(
    token: SoftToken, urgency: int, requested: int, expected: Priority
) -> None:
    content = build_for(issued_record(urgency=urgency), token, priority=requested)
    package = parse(content).package
    assert isinstance(package, DocumentPackage) and package.header.other_info is not None
    assert package.header.other_info.priority is expected


def test_a_superseding_send_is_an_update_or_a_replacement(token: SoftToken) -> None:
    replaces = issued_record(corrects=rpb.Correction(kind=rpb.CORRECTION_KIND_REPLACEMENT))
    amends = issued_record(corrects=rpb.Correction(kind=rpb.CORRECTION_KIND_AMENDMENT))
    for record, kind in ((replaces, BussinessDocType.REPLACE), (amends, BussinessDocType.UPDATE)):
        content = build_for(
            record, token, supersedes_document_id="earlier-id", supersedes_dispatch_id=RECORD_ID
        )
        package = parse(content).package
        assert isinstance(package, DocumentPackage) and package.trace_header_list is not None
        bussiness = package.trace_header_list.bussiness
        assert bussiness is not None and bussiness.bussiness_doc_type is kind
        (named,) = bussiness.replacement_info_list
        assert named.document_id == "earlier-id" and named.organ_ids == tuple(RECEIVERS)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"direction": rpb.DIRECTION_INCOMING}, "outgoing"),
        ({"status": rpb.STATUS_DRAFT}, "issued"),
        ({"files": [rpb.FileVersion(kind="numbered", sha256="1" * 64)]}, "sealed"),
    ],
)
def test_refuses_what_is_not_an_issued_sealed_outgoing_document(
    token: SoftToken, changes: dict[str, object], reason: str
) -> None:
    with pytest.raises(FailedPrecondition) as caught:
        build_for(issued_record(**changes), token)
    assert caught.value.field == "registry_id"
    assert reason in str(caught.value)


def test_refuses_an_unknown_record_a_bad_id_and_an_unknown_receiver(token: SoftToken) -> None:
    with pytest.raises(InvalidArgument) as bad:
        document_package(
            FakeRegistry(issued_record(), {}),
            FakeDirectory(),
            AgencyKeyRing(token),
            pb.SendDocumentRequest(registry_id="nope"),
            type_names={},
        )
    assert bad.value.field == "registry_id"
    with pytest.raises(NotFound) as missing:
        document_package(
            FakeRegistry(issued_record(), {}),
            FakeDirectory(),
            AgencyKeyRing(token),
            pb.SendDocumentRequest(registry_id="11111111-1111-1111-1111-111111111111"),
            type_names={},
        )
    assert missing.value.field == "registry_id"
    with pytest.raises(NotFound) as receiver:
        build_for(issued_record(), token, groups=[pb.ReceiverGroup(root_code="000.00.99.H56")])
    assert receiver.value.field == "groups[0].root_code"


def test_an_agency_without_its_own_key_cannot_send(token: SoftToken) -> None:
    other = "000.00.02.H56"  # in the directory, no organisation key on the token
    with pytest.raises(NoAgencyKey) as caught:
        build_for(issued_record(agency_code=other), token)
    assert caught.value.field == "agency_code"
    assert other in str(caught.value)


def test_key_ring_prefers_the_agency_key_then_the_hub_key() -> None:
    token = SoftToken()
    token.add(b"\x0a", "000.00.07.H56", days=10)
    token.add(b"\x0b", "000.00.07.H56", days=300)  # renewed: expires later, chosen
    token.add(b"\xff", "000.00.00.H56")  # the hub
    ring = AgencyKeyRing(token, fallback_key_id=b"\xff")
    assert ring.key_id_for("000.00.07.H56") == b"\x0b"
    own = ring.signer_or_fallback("000.00.07.H56")
    hub = ring.signer_or_fallback("000.00.08.H56")
    assert own is not None and own.key_id == b"\x0b"  # type: ignore[attr-defined]
    assert hub is not None and hub.key_id == b"\xff"  # type: ignore[attr-defined]
    assert AgencyKeyRing(token).signer_or_fallback("000.00.08.H56") is None


def test_key_ring_reads_the_token_once_until_a_miss() -> None:
    token = SoftToken()
    token.add(b"\x0a", "000.00.07.H56")
    ring = AgencyKeyRing(token)
    for _ in range(5):
        ring.key_id_for("000.00.07.H56")
    assert token.reads == 1
