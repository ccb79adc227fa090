"""Issuing through real HTTP against the real registry and signing services (SoftHSM, dev PKI):
an officer uploads the draft, the director signs it with the key bound to her account, the
clerk numbers and seals it; every version downloads as stored and the sealed PDF carries the
two signatures.
"""

from __future__ import annotations

import hashlib
import io
import time
import uuid
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from lienthong.identifiers.v1 import identifiers_pb2 as ipb
from pyhanko.pdf_utils.reader import PdfFileReader

from gateway.accounts.domain import Role
from gateway.clients import ServiceClients
from services.certificates.devpki import (
    DEV_AGENCY,
    DEV_PERSON,
    ORGANISATION_ROLE,
    PERSON_ROLE,
    key_id_of,
)
from tests.integration.gateway.conftest import PASSWORD, accounts_service, auth
from tests.integration.gateway.documents import sample_pdf, upload_draft

PERSON_KEY = key_id_of(PERSON_ROLE).hex()
SEAL_KEY = key_id_of(ORGANISATION_ROLE).hex()


def register_dev_agency(identifiers) -> None:  # type: ignore[no-untyped-def]
    """The dev PKI's agency in the directory (again before use: a test session starting on the
    same profile empties the directory)."""
    identifiers.UpsertAgency(
        ipb.UpsertAgencyRequest(
            agency=ipb.Agency(
                code=DEV_AGENCY.code,
                name=DEV_AGENCY.name,
                abbreviation="STTTT",
                kind="department",
                exchanges_electronically=True,
            )
        )
    )


@pytest.fixture(scope="module")
def dev_users(
    identifiers, engine: sa.Engine, gateway_clients: ServiceClients, http: httpx.Client, world
) -> dict[str, dict[str, Any]]:
    """A clerk, a director (signer) and an officer of the dev PKI's agency; the director has no
    key yet. Each: username, id, token."""
    register_dev_agency(identifiers)
    accounts = accounts_service(engine, gateway_clients)
    suffix = uuid.uuid4().hex[:6]
    users: dict[str, dict[str, Any]] = {}
    for role in (Role.CLERK, Role.SIGNER, Role.OFFICER):
        username = f"h{suffix}.{role.value}"
        record = accounts.create_user(
            None,
            username=username,
            password=PASSWORD,
            full_name=f"Người thử {role.value}",
            agency_code=DEV_AGENCY.code,
            roles=frozenset({role}),
        )
        users[role.value] = {"username": username, "id": record.id}
    return users


def login(http: httpx.Client, username: str) -> dict[str, str]:
    response = http.post("/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return auth(response.json()["access_token"])


def test_only_a_person_key_of_the_users_agency_can_be_bound(
    http: httpx.Client, tokens: dict[str, str], dev_users: dict[str, dict[str, Any]]
) -> None:
    admin = auth(tokens["p.admin"])
    signer = dev_users["signer"]
    for wrong in (SEAL_KEY, key_id_of("person-other-agency").hex(), "00ff00ff"):
        refused = http.patch(
            f"/v1/users/{signer['id']}", json={"signing_key_id": wrong}, headers=admin
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["field"] == "signing_key_id"
    bound = http.patch(
        f"/v1/users/{signer['id']}", json={"signing_key_id": PERSON_KEY.upper()}, headers=admin
    )
    assert bound.status_code == 200, bound.text
    assert bound.json()["signing_key_id"] == PERSON_KEY
    kept = http.patch(f"/v1/users/{signer['id']}", json={"active": True}, headers=admin)
    assert kept.json()["signing_key_id"] == PERSON_KEY  # omitted: unchanged
    for unbind in (None, ""):
        cleared = http.patch(
            f"/v1/users/{signer['id']}", json={"signing_key_id": unbind}, headers=admin
        )
        assert cleared.status_code == 200 and cleared.json()["signing_key_id"] is None
        http.patch(
            f"/v1/users/{signer['id']}", json={"signing_key_id": PERSON_KEY}, headers=admin
        ).raise_for_status()
    audit = http.get(
        "/v1/audit", params={"agency_code": DEV_AGENCY.code, "limit": 20}, headers=admin
    ).json()
    changes = [a["detail"] for a in audit if a["subject"] == signer["username"]]
    assert {"signing_key_before": None, "signing_key_after": PERSON_KEY}.items() <= next(
        c for c in changes if c.get("signing_key_after") == PERSON_KEY
    ).items()


def signers(pdf: bytes) -> list[str]:
    """Who signed the PDF, in order (document timestamps of B-LTA left out)."""
    return [
        signature.signer_cert.subject.human_friendly
        for signature in PdfFileReader(io.BytesIO(pdf)).embedded_signatures
        if signature.sig_object_type == "/Sig"
    ]


def test_draft_person_number_seal_and_every_version_downloads(
    http: httpx.Client, dev_users: dict[str, dict[str, Any]], tokens: dict[str, str], identifiers
) -> None:
    register_dev_agency(identifiers)
    admin = auth(tokens["p.admin"])
    http.patch(
        f"/v1/users/{dev_users['signer']['id']}",
        json={"signing_key_id": PERSON_KEY},
        headers=admin,
    ).raise_for_status()
    officer = login(http, dev_users["officer"]["username"])
    signer = login(http, dev_users["signer"]["username"])
    clerk = login(http, dev_users["clerk"]["username"])

    draft = upload_draft(
        http, officer["Authorization"].split()[1], "Về việc thử quy trình ban hành qua cổng"
    )
    person = http.post(f"/v1/documents/{draft}/signatures/person", headers=signer)
    assert person.status_code == 200, person.text
    assert person.json()["audit"]["sequence"] > 0 and person.json()["audit"]["record_hash"]
    number = http.post(f"/v1/documents/{draft}/number", json={"place": "Hà Giang"}, headers=clerk)
    assert number.status_code == 200, number.text
    numbered = number.json()
    assert numbered["status"] == "issued" and numbered["number_and_symbol"]
    again = http.post(f"/v1/documents/{draft}/number", json={}, headers=clerk)
    assert again.status_code == 409  # one number per document
    sealed = http.post(f"/v1/documents/{draft}/signatures/organisation", headers=clerk)
    assert sealed.status_code == 200, sealed.text
    assert sealed.json()["audit"]["key_id"] == SEAL_KEY

    listing = http.get(f"/v1/documents/{draft}/files", headers=officer).json()["files"]
    assert [f["kind"] for f in listing] == ["original", "person_signed", "numbered", "sealed"]
    person_only = [DEV_PERSON.full_name]
    expected_signers = {
        "original": [],
        "person_signed": person_only,
        "numbered": person_only,
        "sealed": [DEV_PERSON.full_name, DEV_AGENCY.name],
    }
    for version in listing:
        response = http.get(version["url"], headers=officer)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/pdf"
        assert response.headers["etag"] == f'"{version["sha256"]}"'
        assert "filename*=UTF-8''" in response.headers["content-disposition"]
        assert hashlib.sha256(response.content).hexdigest() == version["sha256"]
        names = signers(response.content)
        assert len(names) == len(expected_signers[version["kind"]]), names
        for name, expected in zip(names, expected_signers[version["kind"]], strict=True):
            assert expected in name
    original = http.get(f"/v1/documents/{draft}/files/original", headers=officer)
    assert original.content == sample_pdf()
    latest = http.get(f"/v1/documents/{draft}/files/latest", headers=clerk)
    assert latest.headers["etag"] == f'"{listing[-1]["sha256"]}"'
    unchanged = http.get(
        f"/v1/documents/{draft}/files/latest",
        headers={**clerk, "If-None-Match": latest.headers["etag"]},
    )
    assert unchanged.status_code == 304


def test_the_services_check_the_user_too(
    http: httpx.Client, dev_users: dict[str, dict[str, Any]], gateway_clients: ServiceClients
) -> None:
    """The gateway passes the user along: the signing service itself refuses the officer's
    attempt to seal (role), whatever the gateway let through."""
    from lienthong.signing.v1 import signing_pb2 as spb

    from gateway import issuing, problems
    from gateway.accounts.domain import Principal

    officer = Principal(
        "x", dev_users["officer"]["username"], DEV_AGENCY.code, frozenset({Role.OFFICER})
    )
    with (
        pytest.raises(problems.Problem) as refused,
        issuing.spool() as source,
        issuing.spool() as out,
    ):
        source.write(sample_pdf())
        issuing.sign(
            gateway_clients,
            officer,
            spb.SignHeader(step=spb.ORGANISATION, key_id_hex=SEAL_KEY, requested_by="x"),
            source,
            out,
        )
    assert refused.value.status == 403


def test_upload_refusals(http: httpx.Client, dev_users: dict[str, dict[str, Any]]) -> None:
    officer = login(http, dev_users["officer"]["username"])
    not_pdf = http.post(
        "/v1/documents",
        data={"document": '{"document_type": "cong_van", "subject": "Thử"}'},
        files={"file": ("x.pdf", b"PK\x03\x04 a zip", "application/pdf")},
        headers=officer,
    )
    assert not_pdf.status_code == 422 and not_pdf.json()["field"] == "file"
    unsigned = upload_draft(http, officer["Authorization"].split()[1], "Về việc chưa có khóa")
    clerk = login(http, dev_users["clerk"]["username"])
    assert (
        http.post(f"/v1/documents/{unsigned}/signatures/person", headers=clerk).status_code == 403
    )


def test_keys_bound_at_creation_and_by_the_seeder(
    http: httpx.Client,
    tokens: dict[str, str],
    engine: sa.Engine,
    gateway_clients: ServiceClients,
    dev_users: dict[str, dict[str, Any]],
    identifiers,
) -> None:
    from gateway.accounts.domain import AccountError

    register_dev_agency(identifiers)
    admin = auth(tokens["p.admin"])
    username = f"k{uuid.uuid4().hex[:6]}.signer"
    body = {
        "username": username,
        "password": PASSWORD,
        "agency_code": DEV_AGENCY.code,
        "roles": ["signer"],
        "signing_key_id": SEAL_KEY,
    }
    refused = http.post("/v1/users", json=body, headers=admin)
    assert refused.status_code == 422 and refused.json()["field"] == "signing_key_id"
    created = http.post("/v1/users", json={**body, "signing_key_id": PERSON_KEY}, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["signing_key_id"] == PERSON_KEY

    accounts = accounts_service(engine, gateway_clients)
    with pytest.raises(AccountError) as wrong:
        accounts.bind_signing_key(None, username, key_id_of("person-other-agency").hex())
    assert wrong.value.field == "signing_key_id"
    assert accounts.bind_signing_key(None, username, None).signing_key_id is None
    assert accounts.bind_signing_key(None, username, PERSON_KEY).signing_key_id == PERSON_KEY
    shown = http.get(f"/v1/users/{created.json()['id']}", headers=admin).json()
    assert shown["signing_key_id"] == PERSON_KEY


def test_issued_document_is_sent_and_the_receiver_reads_the_sealed_pdf(
    http: httpx.Client,
    dev_users: dict[str, dict[str, Any]],
    tokens: dict[str, str],
    identifiers,
    world,
) -> None:
    """Issue in the dev PKI's agency, send to agency A of the test world: the hub signs the
    package with the agency's HSM key, A's clerk finds it in the inbox and downloads the very
    PDF that was sealed."""
    register_dev_agency(identifiers)
    http.patch(
        f"/v1/users/{dev_users['signer']['id']}",
        json={"signing_key_id": PERSON_KEY},
        headers=auth(tokens["p.admin"]),
    ).raise_for_status()
    officer = login(http, dev_users["officer"]["username"])
    clerk = login(http, dev_users["clerk"]["username"])
    signer = login(http, dev_users["signer"]["username"])
    draft = upload_draft(
        http, officer["Authorization"].split()[1], "Về việc thử gửi văn bản đã ban hành"
    )
    not_sealed = http.post(
        f"/v1/documents/{draft}/send", json={"receivers": [world.agency_a]}, headers=clerk
    )
    assert not_sealed.status_code == 409, not_sealed.text  # a draft is not sent
    for path, who in (
        ("signatures/person", signer),
        ("number", clerk),
        ("signatures/organisation", clerk),
    ):
        step = http.post(f"/v1/documents/{draft}/{path}", json={}, headers=who)
        assert step.status_code == 200, (path, step.text)
    sealed = http.get(f"/v1/documents/{draft}/files/sealed", headers=clerk).content

    for code, name, parent, kind in (
        (world.province, "Ủy ban nhân dân tỉnh Thử Cổng", "", "province"),
        (world.agency_a, "Sở Tài chính thử", world.province, "department"),
    ):
        # Again, as the world fixture made them: another test session on the same profile may
        # have emptied the directory.
        identifiers.UpsertAgency(
            ipb.UpsertAgencyRequest(
                agency=ipb.Agency(
                    code=code,
                    name=name,
                    abbreviation="UBND" if not parent else "STH",
                    parent_code=parent,
                    kind=kind,
                    exchanges_electronically=True,
                )
            )
        )
    sent = http.post(
        f"/v1/documents/{draft}/send", json={"receivers": [world.agency_a]}, headers=clerk
    )
    assert sent.status_code == 201, sent.text
    dispatch_id = sent.json()["dispatch_id"]
    assert [d["receiver_code"] for d in sent.json()["deliveries"]] == [world.agency_a]

    receiver = auth(tokens["a.clerk"])
    deadline = time.monotonic() + 60
    entry = None
    while entry is None and time.monotonic() < deadline:
        entries = http.get("/v1/inbox", headers=receiver).json()["entries"]
        entry = next(
            (e for e in entries if e["dispatch_id"] == dispatch_id and e["state"] == "arrived"),
            None,
        )
        time.sleep(0.3)
    assert entry is not None, f"dispatch {dispatch_id} never arrived"
    received = http.get(f"/v1/inbox/{entry['delivery_id']}/file", headers=receiver)
    assert received.status_code == 200, received.text
    assert received.headers["content-type"] == "application/pdf"
    assert received.content == sealed
    assert received.headers["etag"] == f'"{hashlib.sha256(sealed).hexdigest()}"'
    outsider = http.get(f"/v1/inbox/{entry['delivery_id']}/file", headers=auth(tokens["b.clerk"]))
    assert outsider.status_code == 404
