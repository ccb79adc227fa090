"""Registry documents the gateway tests read and change: registered straight at the service, or
uploaded as drafts through the gateway."""

from __future__ import annotations

import functools
import itertools
import json
import uuid

from lienthong.registry.v1 import registry_pb2 as pb

_serial = itertools.count(100)


def incoming(registry, agency: str, sender: str) -> pb.Document:  # type: ignore[no-untyped-def]
    return registry.RegisterIncoming(
        pb.RegisterIncomingRequest(
            document=pb.Document(
                agency_code=agency,
                document_type="cong_van",
                subject=f"Về việc báo cáo tiến độ giải ngân vốn đầu tư công {uuid.uuid4().hex[:6]}",
                number_and_symbol=f"{next(_serial)}/STH-KH",
                document_date="2026-11-12",
                sender=pb.Party(name="Sở thử gửi", agency_code=sender),
                received_at="2026-11-13T09:30:00+07:00",
            ),
            actor="văn thư",
        )
    )


def outgoing(registry, agency: str) -> pb.Document:  # type: ignore[no-untyped-def]
    return registry.RegisterOutgoing(
        pb.RegisterOutgoingRequest(
            document=pb.Document(
                agency_code=agency,
                document_type="quyet_dinh",
                subject="Về việc phê duyệt kế hoạch chuyển đổi số năm 2027",
                signer=pb.Signer(title="GIÁM ĐỐC", full_name="Trần Thị Bình"),
            ),
            actor="văn thư",
        )
    )


@functools.cache
def sample_pdf() -> bytes:
    """The signing service's sample draft: it has the number and date fields to fill in."""
    from services.certificates.devpki import DEV_PERSON
    from services.signing.adapters.sample_document import default_content, generate_sample

    return generate_sample(default_content(DEV_PERSON))[0]


def draft_form(subject: str, agency_code: str | None = None) -> dict[str, str]:
    """The ``document`` part of POST /v1/documents."""
    metadata: dict[str, object] = {
        "document_type": "quyet_dinh",
        "subject": subject,
        "signer": {"title": "GIÁM ĐỐC", "full_name": "Nguyễn Thị Hương Giang"},
        "receivers": [{"name": "Các sở, ban, ngành tỉnh"}],
    }
    if agency_code:
        metadata["agency_code"] = agency_code
    return {"document": json.dumps(metadata, ensure_ascii=False)}


def upload_draft(http, token: str, subject: str, agency_code: str | None = None) -> str:  # type: ignore[no-untyped-def]
    """A draft with the sample PDF, uploaded through the gateway; its record id."""
    response = http.post(
        "/v1/documents",
        data=draft_form(subject, agency_code),
        files={"file": ("Dự thảo.pdf", sample_pdf(), "application/pdf")},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]
