"""The issuing routes over fake services: draft upload, person signature, number, seal,
downloads, sending — who may do what, what each service is asked, and what fails how.

The fakes keep the contracts' shapes (registry ``PutFileVersion``/``GetFile`` chunks, signing
``SignDocument`` audit-then-data) so the gateway's streaming code runs for real; the services'
own rules are tested in their suites and end to end in tests/integration/gateway.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from lienthong.distribution.v1 import distribution_pb2 as dpb
from lienthong.registry.v1 import registry_pb2 as rpb
from lienthong.signing.v1 import signing_pb2 as spb

from gateway import issuing, problems
from gateway.accounts.domain import Principal, Role
from gateway.accounts.tokens import issue_access_token
from gateway.app import create_app
from gateway.config import GatewaySettings

SECRET = "u" * 40
AGENCY = "000.00.12.H23"
OTHER = "000.00.13.H23"
PERSON_KEY = "6c742d6465762d706572736f6e"
SEAL_KEY = "6c742d6465762d6f7267"
DRAFT = b"%PDF-1.7\n" + bytes(range(256)) * 9000  # > 2 chunks of 1 MiB


@dataclass
class Call:
    service: str
    method: str
    who: Principal | None


@dataclass
class FakeServices:
    """Registry, signing and distribution in memory, recording every call and its user."""

    records: dict[str, rpb.Document] = field(default_factory=dict)
    blobs: dict[str, bytes] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    fail_put: bool = False
    timeout_s: float = 1.0

    def call(self, service: str, method: str, request: Any, *, timeout_s=None, who=None) -> Any:  # type: ignore[no-untyped-def]
        self.calls.append(Call(service, method, who))
        return getattr(self, f"{service}_{method}")(request)

    def stream(self, service: str, method: str, request: Any, *, timeout_s=None, who=None):  # type: ignore[no-untyped-def]
        self.calls.append(Call(service, method, who))
        yield from getattr(self, f"{service}_{method}")(request)

    def signing_keys(self, who: Principal | None = None) -> list[spb.SigningKey]:
        self.calls.append(Call("signing", "ListKeys", who))
        return [
            spb.SigningKey(
                key_id_hex=PERSON_KEY, has_certificate=True, title="GIÁM ĐỐC", agency_code=AGENCY
            ),
            spb.SigningKey(key_id_hex=SEAL_KEY, has_certificate=True, agency_code=AGENCY),
        ]

    def agency_is_registered(self, code: str) -> bool:
        return True

    def close(self) -> None:
        pass

    # -- registry --
    def registry_Get(self, request: rpb.GetRequest) -> rpb.Document:
        if request.id not in self.records:
            raise problems.not_found("no such record", "id")
        return self.records[request.id]

    def registry_RegisterOutgoing(self, request: rpb.RegisterOutgoingRequest) -> rpb.Document:
        document = rpb.Document()
        document.CopyFrom(request.document)
        document.id = str(uuid.uuid4())
        document.direction = rpb.DIRECTION_OUTGOING
        document.status = rpb.STATUS_DRAFT
        document.version = 1
        self.records[document.id] = document
        return document

    def registry_AssignNumber(self, request: rpb.AssignNumberRequest) -> rpb.Document:
        document = self.records[request.id]
        document.status = rpb.STATUS_ISSUED
        document.number_and_symbol = "7/QĐ-STC"
        document.document_date = request.issue_date or "2027-02-05"
        document.version += 1
        return document

    def registry_PutFileVersion(self, chunks: Iterator[rpb.FileChunk]) -> rpb.Document:
        header = next(chunks).header
        data = b"".join(c.data for c in chunks)
        if self.fail_put:
            raise problems.Problem(503, "Service unavailable", "registry down", "unavailable")
        document = self.records[header.id]
        if header.expected_version and header.expected_version != document.version:
            raise problems.Problem(409, "Conflict", "stale", "aborted", "expected_version")
        digest = hashlib.sha256(data).hexdigest()
        self.blobs[digest] = data
        document.files.append(
            rpb.FileVersion(
                kind=header.kind,
                sha256=digest,
                size_bytes=len(data),
                media_type=header.media_type,
                file_name=header.file_name,
                created_by=header.actor,
            )
        )
        document.version += 1
        return document

    def registry_GetFile(self, request: rpb.GetFileRequest) -> Iterator[rpb.FileChunk]:
        document = self.registry_Get(rpb.GetRequest(id=request.id))
        version = issuing.newest_version(document, request.kind or "latest")
        if version is None:
            raise problems.not_found("no such version", "kind")
        yield rpb.FileChunk(version=version)
        data = self.blobs[version.sha256]
        for start in range(0, len(data), 300_000):
            yield rpb.FileChunk(data=data[start : start + 300_000])

    # -- signing --
    def signing_SignDocument(self, chunks: Iterator[spb.SignChunk]) -> Iterator[spb.SignedChunk]:
        header = next(chunks).header
        data = b"".join(c.data for c in chunks)
        mark = f"\n%{spb.Step.Name(header.step)} {header.key_id_hex} {header.number} "
        mark += f"{header.place_and_date}\n"
        yield spb.SignedChunk(
            audit=spb.AuditRecord(sequence=41, record_hash="ab" * 32, key_id=header.key_id_hex)
        )
        yield spb.SignedChunk(data=data + mark.encode())

    # -- distribution --
    def distribution_SendDocument(self, request: dpb.SendDocumentRequest) -> dpb.SendResponse:
        return dpb.SendResponse(
            dispatch_id="d-1",
            deliveries=[
                dpb.DeliveryView(delivery_id=f"x-{code}", receiver_code=code, state="queued")
                for code in request.receivers
            ],
        )


class FakeAccounts:
    def __init__(self, keys: dict[str, str]) -> None:
        self.store = SimpleNamespace(
            user_by_name=lambda name: (
                SimpleNamespace(signing_key_id=keys[name]) if name in keys else None
            )
        )


@pytest.fixture
def services() -> FakeServices:
    return FakeServices()


@pytest.fixture
def client(services: FakeServices) -> Iterator[TestClient]:
    settings = GatewaySettings.from_env(
        {"LT_GATEWAY_TOKEN_SECRET": SECRET, "LT_GATEWAY_MAX_UPLOAD_BYTES": str(4 * 1024 * 1024)}
    )
    engine = sa.create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    app = create_app(settings, clients=services, engine=engine, start_feed=False)  # type: ignore[arg-type]
    app.state.gateway.accounts = FakeAccounts({"lanhdao": PERSON_KEY})
    with TestClient(app) as test_client:
        yield test_client


def headers(username: str, role: Role, agency: str = AGENCY) -> dict[str, str]:
    principal = Principal("id-" + username, username, agency, frozenset({role}))
    # Made at import time (module constants below), so valid for the whole session, however
    # long the suites collected before this one take.
    token, _ = issue_access_token(principal, SECRET.encode(), 24 * 3600)
    return {"Authorization": f"Bearer {token}"}


CLERK = headers("vanthu", Role.CLERK)
SIGNER = headers("lanhdao", Role.SIGNER)
OFFICER = headers("chuyenvien", Role.OFFICER)
METADATA = {
    "document_type": "quyet_dinh",
    "subject": "Về việc ban hành kế hoạch chuyển đổi số năm 2027",
    "urgency": "urgent",
    "signer": {"title": "GIÁM ĐỐC", "full_name": "Trần Thị Bình", "authority": "KT."},
    "receivers": [{"agency_code": OTHER, "name": "Sở Xây dựng"}],
}


def upload(client: TestClient, who: dict[str, str], content: bytes = DRAFT, **extra: Any):  # type: ignore[no-untyped-def]
    return client.post(
        "/v1/documents",
        headers=who,
        data={"document": json.dumps({**METADATA, **extra}, ensure_ascii=False)},
        files={"file": ("Dự thảo QĐ.pdf", content, "application/pdf")},
    )


def test_upload_registers_the_draft_and_stores_the_original(
    client: TestClient, services: FakeServices
) -> None:
    response = upload(client, OFFICER)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "draft" and body["agency_code"] == AGENCY
    assert [f["kind"] for f in body["files"]] == ["original"]
    assert body["files"][0]["sha256"] == hashlib.sha256(DRAFT).hexdigest()
    record = services.records[body["id"]]
    assert record.urgency == rpb.URGENCY_URGENT and record.signer.authority == "KT."
    assert {(c.method, c.who.username if c.who else None) for c in services.calls} == {
        ("RegisterOutgoing", "chuyenvien"),
        ("PutFileVersion", "chuyenvien"),
    }


@pytest.mark.parametrize(
    ("content", "extra", "status", "field"),
    [
        (b"GIF89a not a pdf", {}, 422, "file"),
        (DRAFT, {"subject": ""}, 422, "document.subject"),
        (DRAFT, {"unknown": 1}, 422, "document.unknown"),
        (DRAFT, {"agency_code": OTHER}, 403, "document.agency_code"),
    ],
)
def test_upload_refusals_name_the_field(
    client: TestClient,
    services: FakeServices,
    content: bytes,
    extra: dict[str, Any],
    status: int,
    field: str,
) -> None:
    response = upload(client, CLERK, content, **extra)
    assert response.status_code == status, response.text
    assert response.json()["field"] == field
    assert not services.records  # refused before anything was registered


def test_upload_over_the_limit_is_413(client: TestClient, services: FakeServices) -> None:
    response = upload(client, CLERK, DRAFT * 3)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert not services.records


def test_a_failed_file_upload_leaves_the_draft_and_says_so(
    client: TestClient, services: FakeServices
) -> None:
    services.fail_put = True
    response = upload(client, CLERK)
    assert response.status_code == 503
    body = response.json()
    (record_id,) = services.records
    assert body["document_id"] == record_id and "stays a draft without a file" in body["detail"]
    assert not services.records[record_id].files


def test_a_signer_is_not_needed_to_upload_but_an_admin_may_not(client: TestClient) -> None:
    assert upload(client, headers("qt", Role.AGENCY_ADMIN)).status_code == 403


def issue(client: TestClient) -> str:
    document_id = upload(client, OFFICER).json()["id"]
    person = client.post(f"/v1/documents/{document_id}/signatures/person", headers=SIGNER)
    assert person.status_code == 200, person.text
    assert person.json()["audit"] == {**person.json()["audit"], "sequence": 41}
    number = client.post(
        f"/v1/documents/{document_id}/number",
        headers=CLERK,
        json={"issue_date": "2027-02-05", "place": "Lạc Hồng"},
    )
    assert number.status_code == 200, number.text
    sealed = client.post(f"/v1/documents/{document_id}/signatures/organisation", headers=CLERK)
    assert sealed.status_code == 200, sealed.text
    return document_id


def test_the_issuing_chain_adds_one_version_per_step(
    client: TestClient, services: FakeServices
) -> None:
    document_id = issue(client)
    listing = client.get(f"/v1/documents/{document_id}/files", headers=OFFICER).json()["files"]
    assert [f["kind"] for f in listing] == ["original", "person_signed", "numbered", "sealed"]
    assert listing[3]["url"] == f"/v1/documents/{document_id}/files/sealed"
    assert listing[1]["file_name"] == "Dự thảo QĐ.person_signed.pdf"
    sealed = client.get(f"/v1/documents/{document_id}/files/latest", headers=OFFICER)
    assert sealed.status_code == 200 and sealed.headers["content-type"] == "application/pdf"
    # Each step worked on the previous step's output, in order.
    tail = sealed.content[len(DRAFT) :].decode()
    assert tail.index(f"PERSON {PERSON_KEY}") < tail.index("NUMBER_AND_DATE  7/QĐ-STC")
    assert "Lạc Hồng, ngày 05 tháng 02 năm 2027" in tail
    assert tail.rstrip().endswith(f"%ORGANISATION {SEAL_KEY}")
    assert sealed.headers["etag"] == f'"{hashlib.sha256(sealed.content).hexdigest()}"'
    signer_calls = {c.who.username for c in services.calls if c.method == "SignDocument"}
    assert signer_calls == {"lanhdao", "vanthu"}  # every call carried its user
    assert all(c.who is not None for c in services.calls)


def test_download_is_streamed_with_a_utf8_file_name_and_answers_if_none_match(
    client: TestClient,
) -> None:
    document_id = upload(client, CLERK).json()["id"]
    original = client.get(f"/v1/documents/{document_id}/files/original", headers=CLERK)
    assert original.content == DRAFT
    assert original.headers["content-length"] == str(len(DRAFT))
    disposition = original.headers["content-disposition"]
    assert "filename*=UTF-8''D%E1%BB%B1%20th%E1%BA%A3o%20Q%C4%90.pdf" in disposition
    assert 'filename="Du_thao_QD.pdf"' in disposition
    again = client.get(
        f"/v1/documents/{document_id}/files/original",
        headers={**CLERK, "If-None-Match": original.headers["etag"]},
    )
    assert again.status_code == 304 and again.content == b""
    missing = client.get(f"/v1/documents/{document_id}/files/sealed", headers=CLERK)
    assert missing.status_code == 404 and missing.json()["field"] == "kind"


def test_another_agency_sees_nothing_of_the_document(client: TestClient) -> None:
    document_id = issue(client)
    outsiders = {
        "clerk": headers("vanthu.b", Role.CLERK, OTHER),
        "signer": headers("lanhdao", Role.SIGNER, OTHER),
    }
    for method, path, who, body in [
        ("GET", "files", "clerk", None),
        ("GET", "files/original", "clerk", None),
        ("GET", "files/latest", "clerk", None),
        ("POST", "signatures/person", "signer", None),
        ("POST", "number", "clerk", {}),
        ("POST", "signatures/organisation", "clerk", None),
        ("POST", "send", "clerk", {"receivers": [OTHER]}),
    ]:
        response = client.request(
            method, f"/v1/documents/{document_id}/{path}", headers=outsiders[who], json=body
        )
        assert response.status_code == 404, (path, response.text)
        assert response.json()["field"] == "document_id"  # the scope check, not a missing route
        assert "sha256" not in response.text and "Dự thảo" not in response.text


def test_person_signature_needs_a_bound_key_and_the_signer_role(client: TestClient) -> None:
    document_id = upload(client, CLERK).json()["id"]
    unbound = client.post(
        f"/v1/documents/{document_id}/signatures/person", headers=headers("pgd", Role.SIGNER)
    )
    assert unbound.status_code == 409 and unbound.json()["field"] == "signing_key_id"
    clerk = client.post(f"/v1/documents/{document_id}/signatures/person", headers=CLERK)
    assert clerk.status_code == 403


def test_numbering_again_is_refused_and_a_half_done_numbering_is_finished(
    client: TestClient, services: FakeServices
) -> None:
    document_id = upload(client, CLERK).json()["id"]
    services.fail_put = True
    first = client.post(f"/v1/documents/{document_id}/number", headers=CLERK, json={})
    assert first.status_code == 503 and "audit" in first.json()
    services.fail_put = False
    second = client.post(f"/v1/documents/{document_id}/number", headers=CLERK, json={})
    assert second.status_code == 200, second.text
    assert [c.method for c in services.calls].count("AssignNumber") == 1  # one number only
    third = client.post(f"/v1/documents/{document_id}/number", headers=CLERK, json={})
    assert third.status_code == 409 and "7/QĐ-STC" in third.json()["detail"]


def test_sealing_without_an_organisation_key_is_409(
    client: TestClient, services: FakeServices, monkeypatch: pytest.MonkeyPatch
) -> None:
    document_id = upload(client, CLERK).json()["id"]
    monkeypatch.setattr(services, "signing_keys", lambda who=None: [])
    response = client.post(f"/v1/documents/{document_id}/signatures/organisation", headers=CLERK)
    assert response.status_code == 409 and response.json()["field"] == "agency_code"


def test_send_passes_receivers_and_group_and_answers_201(client: TestClient) -> None:
    document_id = issue(client)
    nobody = client.post(f"/v1/documents/{document_id}/send", headers=CLERK, json={})
    assert nobody.status_code == 422 and nobody.json()["field"] == "receivers"
    sent = client.post(
        f"/v1/documents/{document_id}/send", headers=CLERK, json={"receivers": [OTHER]}
    )
    assert sent.status_code == 201, sent.text
    assert sent.json()["dispatch_id"] == "d-1"
    assert [d["receiver_code"] for d in sent.json()["deliveries"]] == [OTHER]


def test_place_and_date_follows_the_leading_zero_rule() -> None:
    assert issuing.place_and_date("Lạc Hồng", date(2027, 2, 5)) == (
        "Lạc Hồng, ngày 05 tháng 02 năm 2027"
    )
    assert issuing.place_and_date("Hà Nội", date(2020, 3, 5)) == "Hà Nội, ngày 05 tháng 3 năm 2020"
    assert issuing.place_and_date("Huế", date(2026, 11, 22)) == "Huế, ngày 22 tháng 11 năm 2026"


def test_content_disposition_keeps_a_vietnamese_name_and_has_an_ascii_fallback() -> None:
    header = issuing.content_disposition('Quyết định "số 7".pdf')
    assert header.startswith('attachment; filename="Quyet_dinh_so_7_.pdf"')
    assert "filename*=UTF-8''Quy%E1%BA%BFt%20%C4%91%E1%BB%8Bnh%20%22s%E1%BB%91%207%22.pdf" in header


def test_service_clients_send_the_user_as_a_signed_lt_caller(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from gateway.clients import ServiceClients
    from services.chassis import caller

    monkeypatch.setenv("LT_CALLER_KEY", "k" * 40)
    caller.reset_key_cache()
    seen: list[Any] = []
    clients = ServiceClients(1.0)
    clients._stubs["registry"] = SimpleNamespace(
        Get=lambda request, timeout, metadata: seen.append(metadata) or rpb.Document()
    )
    who = Principal("id", "vanthu", AGENCY, frozenset({Role.CLERK, Role.OFFICER}))
    clients.call("registry", "Get", rpb.GetRequest(id="x"), who=who)
    clients.call("registry", "Get", rpb.GetRequest(id="x"))
    ((name, value),) = seen[0]
    assert name == caller.CALLER_HEADER
    assert caller.decode_caller(value) == caller.Caller(
        "vanthu", AGENCY, frozenset({"clerk", "officer"})
    )
    assert seen[1] == ()  # the gateway's own calls carry nobody
    caller.reset_key_cache()


def test_the_document_part_may_be_typed_application_json(
    client: TestClient, services: FakeServices
) -> None:
    """As curl sends it with -F 'document=…;type=application/json' (docs/gateway.md)."""
    response = client.post(
        "/v1/documents",
        headers=CLERK,
        files={
            "document": (None, json.dumps(METADATA), "application/json"),
            "file": ("du-thao.pdf", DRAFT[:1000], "application/pdf"),
        },
    )
    assert response.status_code == 201, response.text
    assert services.records[response.json()["id"]].subject == METADATA["subject"]


def test_number_takes_the_drafts_place_then_the_configured_one(
    client: TestClient, services: FakeServices
) -> None:
    with_place = upload(client, CLERK, place="Hà Giang").json()["id"]
    assert services.records[with_place].extra["place"] == "Hà Giang"
    without = upload(client, CLERK).json()["id"]
    for document_id, place in ((with_place, "Hà Giang"), (without, "Lạc Hồng")):
        client.post(
            f"/v1/documents/{document_id}/number", headers=CLERK, json={"issue_date": "2027-03-09"}
        ).raise_for_status()
        numbered = client.get(f"/v1/documents/{document_id}/files/numbered", headers=CLERK)
        assert f"{place}, ngày 09 tháng 3 năm 2027".encode() in numbered.content


def test_a_stream_failing_half_way_becomes_the_services_problem() -> None:
    import grpc

    from gateway.clients import ServiceClients

    class Broken(grpc.RpcError):
        def code(self) -> grpc.StatusCode:
            return grpc.StatusCode.UNAVAILABLE

        def details(self) -> str:
            return "gone"

        def trailing_metadata(self) -> tuple[()]:
            return ()

    class Replies:
        cancelled = False

        def __iter__(self) -> Iterator[rpb.FileChunk]:
            yield rpb.FileChunk(data=b"%PDF-")
            raise Broken()

        def cancel(self) -> None:
            Replies.cancelled = True

    clients = ServiceClients(1.0)
    clients._stubs["registry"] = SimpleNamespace(GetFile=lambda *a, **k: Replies())
    received = []
    with pytest.raises(problems.Problem) as caught:
        for chunk in clients.stream("registry", "GetFile", rpb.GetFileRequest(id="x")):
            received.append(chunk.data)
    assert received == [b"%PDF-"]
    assert caught.value.status == 503 and "registry" in caught.value.detail
    assert Replies.cancelled
