"""Registry documents the gateway tests read and change (registered straight at the service)."""

from __future__ import annotations

import itertools
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
